/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* memslope.h - the BPF <-> user-space ABI: map keys and values, event records, limits */
#ifndef MEMSLOPE_H
#define MEMSLOPE_H

/*
 * Only fixed-width types, explicit padding and no pointers: this header is
 * compiled both by clang for BPF (with vmlinux.h) and by cc for user space.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MS_MAX_FRAMES	64	/* native frames kept per stack (innermost first) */
#define MS_COMM_LEN	16
#define MS_OOM_KSTACK	24	/* kernel frames kept at an OOM kill (to tell memcg from global) */
#define MS_CG_DEPTH	8	/* memory cgroup path components kept, leaf first */
#define MS_CG_NAME	48	/* bytes per component */

/* Which allocator entry point a pending call belongs to. */
enum ms_kind {
	MS_K_MALLOC = 1,
	MS_K_CALLOC,
	MS_K_REALLOC,
	MS_K_MEMALIGN,		/* memalign, aligned_alloc: (align, size) */
	MS_K_POSIX_MEMALIGN,	/* (void **memptr, align, size), returns 0 on success */
	MS_K_VALLOC,		/* valloc, pvalloc: (size) */
	MS_K__HEAP_LAST = MS_K_VALLOC,	/* the heap calls above: sampled with --sample-bytes */
	MS_K_MMAP,
	MS_K_MUNMAP,
	MS_K_MREMAP,
	MS_K_FREE,
	MS_K__NR,
};

/* A live heap block or mmap region: (process, start address). */
struct ms_alloc_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct ms_alloc_val {
	__u64 size;		/* bytes it stands for: its size, or an estimate when sampled */
	__u64 stack_id;
	__u64 py_stack_id;	/* 0: no Python stack */
	__u64 allocs;		/* allocations it stands for: 1, or an estimate when sampled */
};

/* Gaps between the samples of --sample-bytes: exponential quantiles, mean MS_SAMPLE_ONE. */
#define MS_SAMPLE_GAPS	256
#define MS_SAMPLE_ONE	65536
#define MS_SAMPLE_MAX	(1ULL << 40)	/* largest --sample-bytes: keeps N * gap within 64 bits */

/* Per-(process, stack) accounting. */
struct ms_stat_key {
	__u32 tgid;
	__u32 pad;
	__u64 stack_id;		/* native frames */
	__u64 py_stack_id;	/* Python frames of the same call; 0: none */
};

struct ms_stat_val {
	__s64 live_bytes;
	__s64 live_allocs;
	__u64 alloc_bytes;	/* total bytes ever allocated from this stack */
	__u64 allocs;		/* total allocations from this stack */
};

/* Frames of one stack, stored once per stack id (a hash of the frames). */
#define MS_STACK_F_IP0	(1u << 0)	/* ips[0] is an instruction pointer, not a return address */
#define MS_STACK_F_HOLES (1u << 1)	/* zero entries in ips[] are holes to skip, not the end */

struct ms_stack {
	__u32 nr;
	__u32 flags;		/* MS_STACK_F_* */
	__u64 ips[MS_MAX_FRAMES];
};

/* Python frames of one call, innermost first, stored once per id (a hash of code, lasti). */
#define MS_PY_MAX_FRAMES	64
#define MS_PY_FRAME_SHIM	(1u << 0)	/* a C-stack shim frame: not a Python function */

/*
 * Identity of a code object, read when its stack was first stored: a mix of the addresses of
 * its co_filename, co_qualname (co_name before 3.11) and co_linetable (co_lnotab <= 3.9)
 * objects and of co_firstlineno. A code object that died leaves its address to the next one;
 * that one differs here, so user space, naming frames later, can tell the code object it reads
 * now from the one that ran (same address, other identity: the frame's code is gone). Always
 * odd: in a frame, 0 means none was recorded (the code object could not be read) and
 * MS_PY_IDENT_NOT_CODE that no code object was there even when the stack was stored.
 */
static inline __attribute__((always_inline)) __u64
ms_py_code_ident(__u64 filename, __u64 name, __u64 linetable, __u32 firstlineno)
{
	__u64 h = filename * 0x9e3779b97f4a7c15ULL;

	h = (h ^ (h >> 29) ^ name) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 29) ^ linetable) * 0x94d049bb133111ebULL;
	h = (h ^ (h >> 29) ^ firstlineno) * 0x9e3779b97f4a7c15ULL;
	return (h ^ (h >> 31)) | 1;
}

#define MS_PY_IDENT_NOT_CODE	2ULL	/* ms_py_frame.ident: no code object there even then */

struct ms_py_frame {
	__u64 code;		/* PyCodeObject address */
	__s32 lasti;		/* as struct py_raw_frame in user/python.h */
	__u32 flags;		/* MS_PY_FRAME_* */
	__u64 ident;		/* ms_py_code_ident() of code when the stack was stored, 0, or
				 * MS_PY_IDENT_NOT_CODE */
};

struct ms_py_stack {
	__u32 nr;
	__u32 flags;
	struct ms_py_frame frames[MS_PY_MAX_FRAMES];
};

/* A call between its entry and its return probe, in task storage; kind 0 = none. */
#define MS_SITE_CACHE	4

struct ms_pending {
	__u64 sp;		/* stack pointer at entry: identifies the call */
	__u64 size;		/* requested bytes (0 for free-like calls) */
	__u64 arg;		/* old pointer (realloc, mremap, munmap) or memptr */
	__u64 stack_id;
	__u64 py_stack_id;
	__u32 kind;		/* enum ms_kind */
	__u32 sample_armed;	/* sample_left holds a gap (--sample-bytes) */
	__u64 weight;		/* bytes the call's block will stand for ... */
	__u64 wallocs;		/* ... and allocations: 0, not sampled */
	__s64 sample_left;	/* bytes of small blocks until this thread's next sample */
	/*
	 * The thread's last probed mapping (of libc), to tell the site of a probe
	 * from its address when the probe carries no cookie (tracefs events):
	 * [vm_start, vm_end) at file offset vm_off of device vm_dev, inode vm_ino.
	 * vm_end == 0: none. Cleared at exec.
	 */
	__u64 vm_start, vm_end, vm_off, vm_dev, vm_ino;
	/* the last sites this thread hit and their kinds (0: empty slot); cleared at exec */
	__u64 site_ip[MS_SITE_CACHE];
	__u32 site_kind[MS_SITE_CACHE];
	__u32 site_next;	/* the slot to replace next */
	__u32 pad2;
	/* the thread's stack mapping [stk_lo, stk_hi), as last found around sp; cleared at exec */
	__u64 stk_lo, stk_hi;
};

/* A probed site of a libc file: the kind of call at it (map "sites"). */
struct ms_site_key {
	__u64 dev;		/* kernel encoding: major << 20 | minor */
	__u64 ino;
	__u64 off;		/* file offset of the probe */
};

/* Counters in the per-CPU "counters" map; summed by user space. */
enum ms_counter {
	MS_C_NESTED,		/* calls made inside another allocator call (skipped) */
	MS_C_FAILED,		/* calls that failed (nothing to account) */
	MS_C_UNKNOWN_FREES,	/* frees of blocks allocated before tracing began */
	MS_C_DROP_ALLOCS,	/* live map full: block not tracked */
	MS_C_DROP_STATS,	/* per-stack map full */
	MS_C_DROP_STACKS,	/* stack map full */
	MS_C_STACK_ERRORS,	/* no user stack could be taken */
	MS_C_DROP_PENDING,	/* no per-thread storage for a pending call */
	MS_C_NO_ENTRY,		/* return probe with no matching entry */
	MS_C_STALE_ENTRY,	/* entry record replaced before its return */
	MS_C_LOST_EVENTS,	/* ring buffer full */
	MS_C_MMAP_SPLITS_LOST,	/* munmap touched more regions than one pass handles */
	MS_C_PY_NO_TSTATE,	/* Python process, but no thread state for the allocating thread */
	MS_C_DROP_PY_STACKS,	/* Python stack map full */
	MS_C_UNKNOWN_SITE,	/* probe hit at an address no site is known for */
	MS_C__NR,
};

struct ms_counters {
	__u64 c[MS_C__NR];
};

/* Ring-buffer records: every record starts with __u32 type. */
enum ms_event_type {
	MS_EV_FORK = 1,		/* pid = child tgid, ppid = parent tgid */
	MS_EV_EXEC = 2,		/* pid = tgid that exec'd */
	MS_EV_EXIT = 3,		/* pid = tgid whose last thread exited */
	MS_EV_OOM = 4,		/* struct ms_oom_event: the OOM killer chose a victim */
	MS_EV_PYSTACK = 5,	/* pid's new Python stack py_stack_id: name it while its code lives */
};

struct ms_event {
	__u32 type;
	__u32 pid;
	__u32 ppid;
	__s32 exit_code;	/* MS_EV_EXIT: wait status as the parent sees it */
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 maxrss_pages;	/* MS_EV_EXIT: peak RSS (mm hiwater, pages) */
	__u64 stack_id;		/* MS_EV_EXIT of an OOM victim: its user stack at death (0: none) */
	__u64 py_stack_id;	/* ... and its Python stack (0: none) */
	__u32 flags;		/* MS_EVF_* */
	__u32 evset;		/* MS_EV_FORK: the inherited uprobe event set (0: none) */
	char comm[MS_COMM_LEN];
};

/* The OOM killer's choice, from tp_btf/mark_victim: the victim, the trigger, the memcg. */
struct ms_oom_event {
	__u32 type;		/* MS_EV_OOM */
	__u32 pid;		/* victim tgid */
	__u32 tid;		/* victim thread */
	__u32 uid;
	__u32 trigger_pid;	/* current: whose allocation ran out (may be another process) */
	__s32 oom_score_adj;
	__u64 ts_ns;
	__u64 total_vm_pages;
	__s64 rss_anon_pages;	/* approximate (per-CPU counters not folded in) */
	__s64 rss_file_pages;
	__s64 rss_shmem_pages;
	__u64 pgtables_bytes;
	__u64 memcg_id;		/* kernfs id (= inode) of the victim's memory cgroup directory */
	__u64 memcg_limit_pages;
	__u64 memcg_usage_pages;
	__u64 memcg_failcnt;
	__u64 memcg_oom_events;
	__u64 memcg_oom_kills;
	__u32 nkstack;		/* kernel frames in kstack */
	__u32 cg_depth;		/* components in cg_path */
	__u64 kstack[MS_OOM_KSTACK];
	char comm[MS_COMM_LEN];
	char trigger_comm[MS_COMM_LEN];
	char cg_path[MS_CG_DEPTH][MS_CG_NAME];	/* leaf first, up to the hierarchy's root */
};

#define MS_EVF_OOM_KILLED	(1u << 0)	/* SIGKILL with signal->oom_mm set */

/*
 * CPython layout for the BPF frame walker, one per traced Python process (a per-process map
 * keyed by tgid), filled by user space (user/python.c) for 3.9-3.13. Every *_off is a byte
 * offset from the start of the named structure. Walk, per PYTHON.md:
 *   tstate: the GIL holder (at runtime_addr + gil_holder_off, or interp + gil_holder_off with
 *           MS_PYF_GIL_IN_INTERP) if it belongs to the current thread (see MS_PYF_PTHREAD_ID),
 *           else interpreters (runtime_addr + runtime_interp_head_off, interp_next_off) ->
 *           threads (interp_threads_head_off, tstate_next_off), bounded.
 *           The thread id, frame pointer and data stack fields are read in one go:
 *           tstate_read_size bytes from tstate + (tstate_frame_off & ~7).
 *   frame:  tstate + tstate_frame_off; with MS_PYF_CFRAME that is a _PyCFrame pointer and the
 *           frame is at cframe + cframe_current_frame_off.
 *   data stack (MS_PYF_DATASTACK): frames in [datastack_chunk + 24, datastack_top) are taken
 *           from one read of that range (up to 16 KiB below datastack_top); others one by one.
 *   per frame: read frame_read_size bytes; code = *(u64 *)(frame + frame_code_off);
 *           next = *(u64 *)(frame + frame_previous_off);
 *           3.11+: instr = *(u64 *)(frame + frame_instr_off),
 *                  lasti = (instr - (code + code_adaptive_off)) / 2 (code units, may be -1),
 *                  skip the frame when *(u8 *)(frame + frame_owner_off) == MS_PY_OWNER_CSTACK
 *                  and MS_PYF_CSTACK_SHIM is set;
 *           <= 3.10 (MS_PYF_FRAME_OBJECT): lasti = *(s32 *)(frame + frame_instr_off) (3.10:
 *                  code units, 3.9: bytes; user space knows from version).
 *   identity (MS_PYF_CODE_IDENT), once per new stack and frame: MS_PY_IDENT_NOT_CODE when
 *           *(u64 *)(code + 8) (ob_type) != pycode_type_addr, else ms_py_code_ident() of the
 *           u64s at code + code_filename_off, code_qualname_off (or code_name_off when that
 *           is 0), code_linetable_off and the s32 at code + code_firstlineno_off.
 * Offsets not used by a version are 0; check the flags, not the value.
 */
#define MS_PYF_FRAME_OBJECT	(1u << 0)	/* <= 3.10: PyFrameObject chain, frame_instr_off is s32 f_lasti */
#define MS_PYF_CFRAME		(1u << 1)	/* 3.11, 3.12: tstate_frame_off leads to a _PyCFrame */
#define MS_PYF_GIL_IN_INTERP	(1u << 2)	/* 3.12+: gil_holder_off is relative to the interpreter */
#define MS_PYF_PTHREAD_ID	(1u << 3)	/* <= 3.10: no native_thread_id; match tstate thread_id
						 * (pthread_self()) with task->thread.fsbase on x86-64 */
#define MS_PYF_CSTACK_SHIM	(1u << 4)	/* 3.12+: frames owned by the C stack are shims: skip */
#define MS_PYF_DEBUG_OFFSETS	(1u << 5)	/* 3.13+: values were read from _Py_DebugOffsets */
#define MS_PYF_CODE_IDENT	(1u << 6)	/* record ms_py_code_ident() per frame, reading code_read_size
						 * bytes of the code object (ob_type and the fields it mixes,
						 * each aligned to its size) */
#define MS_PYF_DATASTACK	(1u << 7)	/* 3.11+: frames of Python calls live in the thread's data
						 * stack chunk, [datastack_chunk + 24, datastack_top) */

#define MS_PY_OWNER_CSTACK	3		/* _PyInterpreterFrame.owner of a shim frame (3.12+) */

struct ms_py_offsets {
	__u64 runtime_addr;		/* &_PyRuntime in the process */
	__u64 pycode_type_addr;		/* &PyCode_Type in the process (to validate code objects) */
	__u32 version;			/* PY_VERSION_HEX (micro 0 when only the file name told) */
	__u32 flags;			/* MS_PYF_* */
	__u32 runtime_interp_head_off;	/* _PyRuntime.interpreters.head */
	__u32 gil_holder_off;		/* <=3.11 _PyRuntime.gilstate.tstate_current; 3.12+ interp->_gil.last_holder */
	__u32 interp_next_off;		/* PyInterpreterState.next */
	__u32 interp_threads_head_off;	/* PyInterpreterState.tstate_head / threads.head */
	__u32 tstate_next_off;		/* PyThreadState.next */
	__u32 tstate_interp_off;	/* PyThreadState.interp */
	__u32 tstate_native_tid_off;	/* PyThreadState.native_thread_id (3.11+; 0 before) */
	__u32 tstate_thread_id_off;	/* PyThreadState.thread_id (pthread_self()) */
	__u32 tstate_frame_off;		/* <=3.10 .frame; 3.11/3.12 .cframe; 3.13 .current_frame */
	__u32 cframe_current_frame_off;	/* _PyCFrame.current_frame (with MS_PYF_CFRAME) */
	__u32 frame_code_off;		/* f_code / f_executable */
	__u32 frame_previous_off;	/* f_back / previous */
	__u32 frame_instr_off;		/* 3.11+ prev_instr / instr_ptr (pointer); <=3.10 f_lasti (s32) */
	__u32 frame_owner_off;		/* _PyInterpreterFrame.owner (u8; 3.11+) */
	__u32 frame_read_size;		/* bytes of a frame covering every field above */
	__u32 code_adaptive_off;	/* PyCodeObject.co_code_adaptive (3.11+) */
	__u32 code_firsttraceable_off;	/* PyCodeObject._co_firsttraceable (int, 3.11+) */
	__u32 code_firstlineno_off;	/* PyCodeObject.co_firstlineno (int) */
	__u32 code_filename_off;	/* PyCodeObject.co_filename */
	__u32 code_name_off;		/* PyCodeObject.co_name */
	__u32 code_qualname_off;	/* PyCodeObject.co_qualname (3.11+; 0 before) */
	__u32 code_linetable_off;	/* PyCodeObject.co_linetable (3.10+) / co_lnotab (<=3.9) */
	__u32 unicode_state_off;	/* PyASCIIObject.state (kind bits 2-4, compact 5, ascii 6) */
	__u32 unicode_length_off;	/* PyASCIIObject.length (code points) */
	__u32 unicode_ascii_data_off;	/* data of a compact ASCII string: sizeof(PyASCIIObject) */
	__u32 unicode_compact_data_off;	/* data of a compact non-ASCII string: sizeof(PyCompactUnicodeObject) */
	__u32 bytes_size_off;		/* PyBytesObject.ob_size */
	__u32 bytes_data_off;		/* PyBytesObject.ob_sval */
	__u32 tstate_datastack_chunk_off; /* PyThreadState.datastack_chunk (MS_PYF_DATASTACK) */
	__u32 tstate_datastack_top_off;	/* PyThreadState.datastack_top (MS_PYF_DATASTACK) */
	__u32 tstate_read_size;		/* bytes from tstate_frame_off & ~7 covering every tstate
					 * field the walker reads (<= 512) */
	__u32 code_read_size;		/* bytes from a code object's start covering ob_type and
					 * the identity's fields (<= 256, MS_PYF_CODE_IDENT) */
};

/* One process, as the watch tier's iter/task pass writes it. */
struct ms_task_rec {
	__u32 pid;		/* tgid */
	__u32 ppid;
	__u32 uid;
	__u32 pad;
	__u64 start_ns;		/* boot-time ns when it started: tells a reused pid apart */
	__u64 anon_pages;	/* exact: per-CPU deltas folded in */
	__u64 file_pages;
	__u64 shmem_pages;
	__u64 memcg_id;		/* kernfs id (= inode) of its memory cgroup directory */
	char comm[MS_COMM_LEN];
};

_Static_assert(sizeof(struct ms_task_rec) == 72, "ms_task_rec layout");
_Static_assert(sizeof(struct ms_alloc_key) == 16, "ms_alloc_key layout");
_Static_assert(sizeof(struct ms_alloc_val) == 32, "ms_alloc_val layout");
_Static_assert(sizeof(struct ms_stat_key) == 24, "ms_stat_key layout");
_Static_assert(sizeof(struct ms_py_frame) == 24, "ms_py_frame layout");
_Static_assert(sizeof(struct ms_py_stack) == 8 + 24 * MS_PY_MAX_FRAMES, "ms_py_stack layout");
_Static_assert(sizeof(struct ms_stat_val) == 32, "ms_stat_val layout");
_Static_assert(sizeof(struct ms_stack) == 8 + 8 * MS_MAX_FRAMES, "ms_stack layout");
_Static_assert(sizeof(struct ms_pending) == 112 + 8 * MS_SITE_CACHE + 4 * MS_SITE_CACHE + 8 + 16,
	       "ms_pending layout");
_Static_assert(sizeof(struct ms_event) == 72, "ms_event layout");
_Static_assert(sizeof(struct ms_oom_event) == 128 + 8 * MS_OOM_KSTACK + 2 * MS_COMM_LEN +
	       MS_CG_DEPTH * MS_CG_NAME, "ms_oom_event layout");

_Static_assert(sizeof(struct ms_py_offsets) == 152, "ms_py_offsets layout");

#endif /* MEMSLOPE_H */
