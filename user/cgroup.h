/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgroup.h - a process's memory cgroup (v1, v2, hybrid): its path, limit and usage (pure) */
#ifndef MS_CGROUP_H
#define MS_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/*
 * root prefixes every path read ("" in production, a fake tree in tests):
 *   <root>/proc/PID/cgroup, <root>/proc/PID/status, <root>/proc/meminfo,
 *   v1: <root>/sys/fs/cgroup/memory/<path>/memory.{limit,usage}_in_bytes
 *   v2: <root>/sys/fs/cgroup/<path>/memory.{max,current}, or under
 *       <root>/sys/fs/cgroup/unified/ on hybrid hosts.
 * A v1 line naming the memory controller wins over the v2 "0::" line (on hybrid hosts
 * memory is a v1 controller).
 */

enum cgroup_mem_src {
	CGROUP_SRC_NONE = 0,
	CGROUP_SRC_V1,		/* memory.limit_in_bytes of a v1 memory cgroup */
	CGROUP_SRC_V2,		/* memory.max of a v2 cgroup */
	CGROUP_SRC_MEMINFO,	/* no cgroup limit: MemAvailable + the process's RSS */
};

/* v1 limits at or above this are "unlimited" (the kernel writes 2^63 - page size) */
#define CGROUP_V1_UNLIMITED	(1ULL << 62)

/*
 * The process's memory cgroup path as the kernel shows it ("/system.slice/x.service",
 * without a " (deleted)" suffix) into buf; *version (may be NULL) gets 1 or 2.
 * Returns 0, -ENOENT when the process is gone or has no memory cgroup, -ENAMETOOLONG,
 * or -errno.
 */
int cgroup__path(int pid, const char *root, char *buf, size_t len, int *version);

/*
 * The memory limit the process counts against: the smallest limit on its cgroup and its
 * ancestors (normally the nearest limited ancestor; a parent tighter than its child
 * wins, as in the kernel). cg_path gets that cgroup's path. When no cgroup on the way
 * up is limited, the limit is MemAvailable (<root>/proc/meminfo) plus the process's
 * VmRSS: how big it could grow right now before the host runs out; cg_path is then "".
 * cg_path may be NULL. Returns 0, -ENOENT (process gone), or -errno.
 */
int cgroup__mem_limit(int pid, const char *root, uint64_t *limit, char *cg_path, size_t cg_len);

/* the same, and where the limit came from (src may be NULL) */
int cgroup__mem_limit_src(int pid, const char *root, uint64_t *limit, char *cg_path,
			  size_t cg_len, enum cgroup_mem_src *src);

/*
 * Current charge of the cgroup cgroup__mem_limit() would name (v1 memory.usage_in_bytes,
 * v2 memory.current). Returns 0, -ENODATA when no cgroup is limited, or -errno.
 */
int cgroup__mem_usage(int pid, const char *root, uint64_t *usage);

#endif
