/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python.h - CPython in a traced process: detection, layout for BPF, frame walk, symbolization (pure) */
#ifndef MS_PYTHON_H
#define MS_PYTHON_H

#include <stddef.h>
#include <stdint.h>

#include "memslope.h"

struct pyrt_cache;

/* One CPython runtime found in a process. Filled by pyrt__detect, released by pyrt__release. */
struct pyrt {
	int pid;
	int major, minor;		/* 3, 9..13 */
	char *path;			/* ELF defining _PyRuntime, as the process names it */
	uint64_t bias;			/* load bias of that ELF (0 for ET_EXEC) */
	uint32_t pthread_tid_off;	/* <= 3.10: glibc struct pthread.tid (from libc's _thread_db_pthread_tid) */
	struct ms_py_offsets off;	/* what the BPF walker reads (include/memslope.h) */
	char why[160];			/* why detection failed (-ENOTSUP, -EAGAIN), for a warning */
	int mem_fd;			/* /proc/PID/mem, -1 when closed */
	int verify;			/* re-check a cached code object is still the same one */
	struct pyrt_cache *cache;	/* code objects and lines already symbolized */
};

/*
 * Find CPython in pid: the first ELF mapped in /proc/PID/maps whose basename starts with
 * "libpython3" or "python3" and that defines _PyRuntime (.symtab, then .dynsym; opened
 * through /proc/PID/root). Reads the version (Py_Version, 3.11+, else the file name),
 * refuses free-threaded builds, fills out->off (3.13+: from _Py_DebugOffsets, checked
 * against the built-in table) and validates the layout by walking interpreters -> thread
 * states in /proc/PID/mem until one belongs to a thread of pid (3.11+: native_thread_id;
 * <= 3.10: thread_id is pthread_self(), whose glibc struct pthread holds the kernel tid)
 * with tstate->interp pointing back at its interpreter.
 * Returns 0; -ENOENT: no CPython; -ENOTSUP: unknown or unsupported version, free-threaded
 * build, or a layout that fails validation (out->why says which); -EAGAIN: CPython is
 * mapped but has no thread state yet (retry later); -ESRCH: no such process; other -errno.
 * On error, out holds nothing to release (why is still set); on success call pyrt__release.
 */
int pyrt__detect(int pid, struct pyrt *out);

/* Free what pyrt__detect allocated (caches, descriptor); rt itself is the caller's. Accepts NULL. */
void pyrt__release(struct pyrt *rt);

/* Drop cached code objects and lines (e.g. after the process exec'd or code was unloaded). */
void pyrt__flush(struct pyrt *rt);

/*
 * Thread state of thread tid (a kernel tid of rt->pid as this pid namespace numbers it, i.e.
 * what BPF sees) found by walking interpreters -> threads. Returns 0, -ENOENT, or -errno.
 */
int pyrt__find_tstate(struct pyrt *rt, int tid, uint64_t *tstate);

/*
 * The GIL holder as the BPF walker reads it: <= 3.11 _PyRuntime.gilstate.tstate_current
 * (NULL while the GIL is released); 3.12+ the main interpreter's _gil.last_holder (kept
 * after release: BPF must check native_thread_id). Returns 0 (*tstate may be 0) or -errno.
 */
int pyrt__gil_holder(struct pyrt *rt, uint64_t *tstate);

/*
 * Has the interpreter begun to shut down (Py_FinalizeEx sets _PyRuntime._finalizing
 * before it frees anything)? Returns 1, 0, or -errno (-ESRCH: the process is gone).
 */
int pyrt__finalizing(struct pyrt *rt);

/* One frame as the BPF walker records it. */
struct py_raw_frame {
	uint64_t code;		/* PyCodeObject address */
	int32_t lasti;		/* 3.10+: code units; <= 3.9: bytes (f_lasti); -1: not started */
	uint32_t flags;		/* reserved, 0 */
	uint64_t ident;		/* ms_py_code_ident() of code during the walk; 0: not a code object */
};

/*
 * Walk the frames of thread tid (a kernel tid of rt->pid) in user space with rt->off,
 * innermost first, shim frames skipped, the way the BPF walker does. Returns the number of
 * frames stored (at most max; 0 when the thread runs no Python code), -ENOENT when no
 * thread state belongs to tid, or -errno (-ESRCH: the process is gone).
 */
int pyrt__walk_thread(struct pyrt *rt, int tid, struct py_raw_frame *frames, int max);

struct py_frame {
	const char *func;	/* co_qualname (3.11+) or co_name; NULL when stale */
	const char *file;	/* co_filename; NULL when stale */
	int line;		/* source line; 0 when unknown */
	int stale;		/* the code object is gone (ob_type != PyCode_Type): nothing is guessed */
};

/*
 * Symbolize one frame: read the code object at code_addr from /proc/PID/mem, check its
 * type, decode names to UTF-8 and the line of lasti (units as in struct py_raw_frame) from
 * its line table. Code objects are cached by address, lines by (address, lasti); strings
 * are owned by rt and live until pyrt__release or pyrt__flush. With rt->verify set, a
 * cached code object is first checked to still be the one at that address (a dead one's
 * address is reused) — one read each, so callers set it when naming new stacks, not when
 * re-reading names they hold. Returns 0 (out->stale set
 * when the object died), or -errno when the memory cannot be read (-ESRCH: process gone).
 */
int pyrt__symbolize(struct pyrt *rt, uint64_t code_addr, int32_t lasti, struct py_frame *out);

/*
 * As pyrt__symbolize, for a frame whose code object had identity ident when it ran
 * (struct ms_py_frame.ident; 0: unknown, then this is pyrt__symbolize). The frame is named
 * only after that very code object: a cached one with that identity answers without a read
 * (rt->verify is not needed), and when the object at code_addr now has another identity (the
 * one that ran died and its address was reused), or ident is MS_PY_IDENT_NOT_CODE, out->stale
 * is set. Returns as pyrt__symbolize.
 */
int pyrt__symbolize_as(struct pyrt *rt, uint64_t code_addr, int32_t lasti, uint64_t ident,
		       struct py_frame *out);

/*
 * Identity (ms_py_code_ident) of the code object at code_addr as it is now: one read.
 * Returns 0, 1 when there is no code object there (*ident = 0), or -errno.
 */
int pyrt__code_ident(struct pyrt *rt, uint64_t code_addr, uint64_t *ident);

/*
 * Line-table decoders (pure). Each returns the source line of an instruction, or -1 when
 * the table gives it no line (or is truncated); lasti < 0 gives firstlineno, as CPython's
 * PyCode_Addr2Line does.
 *   py_line_311: co_linetable of 3.11-3.13 (location entries); lasti in code units.
 *   py_line_310: co_linetable of 3.10 ((byte delta, line delta) pairs); lasti in code units.
 *   py_line_lnotab: co_lnotab of 3.6-3.9; lasti in bytes.
 *   py_line: picks one by minor version.
 */
int py_line_311(const uint8_t *tab, size_t len, int firstlineno, int32_t lasti);
int py_line_310(const uint8_t *tab, size_t len, int firstlineno, int32_t lasti);
int py_line_lnotab(const uint8_t *tab, size_t len, int firstlineno, int32_t lasti);
int py_line(int minor, const uint8_t *tab, size_t len, int firstlineno, int32_t lasti);

/*
 * Built-in layout of 3.minor (9..13) for an x86-64 GIL build, rt-independent fields only
 * (runtime_addr, pycode_type_addr and version are left 0). Returns 0 or -ENOTSUP.
 */
int py_offsets_for(int minor, struct ms_py_offsets *off);

/* Append code point cp as UTF-8 to buf (needs 4 bytes); surrogates become U+FFFD. Returns bytes written. */
size_t py_utf8_put(char *buf, uint32_t cp);

#endif
