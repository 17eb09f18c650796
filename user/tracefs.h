/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tracefs.h - uprobe trace events defined through tracefs (uprobe_events) */
#ifndef MEMSLOPE_TRACEFS_H
#define MEMSLOPE_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Why tracefs: a perf event opened with attr.inherit on a tracefs-defined
 * uprobe is copied by the kernel into every thread and process its task
 * creates, before the new task runs, and all the copies share the event's BPF
 * program. That is the only race-free way to follow forks: a per-pid link made
 * after the fork notification misses whatever the child allocated first.
 */

/*
 * The tracefs directory that has uprobe_events: /sys/kernel/tracing, then
 * /sys/kernel/debug/tracing; mounts tracefs at /sys/kernel/tracing when neither
 * is there. NULL when there is none (errno set). The result is cached.
 */
const char *tracefs__dir(void);

/*
 * Define GROUP/NAME as a uprobe (ret: a uretprobe) at file offset off of path.
 * Returns the event's id (for PERF_TYPE_TRACEPOINT) or -errno.
 */
int tracefs__uprobe_add(const char *dir, const char *group, const char *name, bool ret,
			const char *path, uint64_t off);

/* Remove GROUP/NAME. 0 or -errno (-EBUSY while a perf event still uses it). */
int tracefs__uprobe_del(const char *dir, const char *group, const char *name);

/*
 * Split one line of uprobe_events ("p:GROUP/NAME PATH:0xOFF ...") into its group
 * and event names. 0, or -EINVAL for a line of another shape or names too long.
 */
int tracefs__parse_event(const char *line, char *group, size_t group_sz, char *name, size_t name_sz);

/*
 * The pid in a group name "PREFIX<pid>" (e.g. memslope_1234), or -1 when the
 * group is not of that form.
 */
int tracefs__group_pid(const char *group, const char *prefix);

/*
 * Remove the events of groups "PREFIX<pid>" whose pid is not alive: what a
 * killed earlier run left behind. Returns how many were removed.
 */
int tracefs__purge_stale(const char *dir, const char *prefix);

#endif
