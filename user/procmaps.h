/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* procmaps.h - parse /proc/PID/maps (pure) */
#ifndef MS_PROCMAPS_H
#define MS_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>

struct map_entry {
	uint64_t start, end;	/* [start, end) */
	uint64_t offset;	/* file offset of start */
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	char perms[5];		/* "r-xp" */
	char *path;		/* malloc'd; "" for anonymous; "[heap]", "[stack]"... kept as is */
	int deleted;		/* the kernel marked the file " (deleted)"; the suffix is stripped from path */
};

/* Parse one maps line (without or with trailing newline). Returns 0 or -EINVAL. */
int procmaps__parse_line(const char *line, struct map_entry *out);

/* Read /proc/PID/maps. Returns the entries (count in *n), or NULL with errno (ESRCH: no such process). */
struct map_entry *procmaps__read(int pid, size_t *n);

/* Same, from any file in maps format (tests). */
struct map_entry *procmaps__read_file(const char *path, size_t *n);

void procmaps__free(struct map_entry *e, size_t n);	/* accepts NULL */

/*
 * First executable file mapping whose basename starts with prefix (e.g. "libc.so.6",
 * "libc-"); NULL when none.
 */
const struct map_entry *procmaps__find(const struct map_entry *e, size_t n, const char *prefix);

#endif
