/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* symbolize.h - native symbolization of addresses in traced processes, surviving their exit (pure) */
#ifndef MS_SYMBOLIZE_H
#define MS_SYMBOLIZE_H

#include <stdint.h>

struct symbolizer;

struct sym_frame {
	uint64_t addr;
	const char *func;	/* NULL: unknown; strings are owned by the symbolizer */
	uint64_t func_off;
	const char *module;	/* path of the mapped file as the process sees it; NULL when unmapped */
	const char *file;	/* NULL: no DWARF line */
	int line;
	const char *build_id;	/* NULL: none */
};

struct symbolizer *symbolizer__new(void);
void symbolizer__free(struct symbolizer *s);	/* accepts NULL */

/*
 * (Re)read the mappings of pid and open the ELF files behind its executable mappings
 * (through /proc/PID/root, so other mount namespaces work). ELF files are cached by
 * (device, inode) across processes. Keeps the previous snapshot when the process is
 * gone. Returns 0 or -errno (-ESRCH: no such process).
 */
int symbolizer__snapshot(struct symbolizer *s, int pid);

/*
 * Give pid a copy of parent's snapshot, unless pid has one: a forked child that
 * exited before its mappings could be read had its parent's (it did not exec).
 * Returns 0, -ENOENT when parent has none, -ENOMEM.
 */
int symbolizer__inherit(struct symbolizer *s, int pid, int parent);

/* Drop pid's snapshot. */
void symbolizer__forget(struct symbolizer *s, int pid);

/*
 * Symbolize addr in pid's last snapshot; always fills *out (func NULL when unknown;
 * module "[anon]" for anonymous mappings, "[vdso]", "[heap]"... for the special ones,
 * NULL when addr is unmapped). Never reads /proc for a pid already snapshotted; a pid
 * never seen is snapshotted on first use (an empty snapshot is kept if it is gone).
 * Results are cached per (pid, addr) until the next snapshot of pid. Returned strings
 * stay valid until symbolizer__free, across forget and re-snapshot.
 */
void symbolizer__symbolize(struct symbolizer *s, int pid, uint64_t addr, struct sym_frame *out);

#endif
