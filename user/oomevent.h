/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* oomevent.h - what BPF saw at an OOM kill (struct ms_oom_event), turned into dump fields (pure) */
#ifndef MS_OOMEVENT_H
#define MS_OOMEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "memslope.h"
#include "oomdump.h"

/* Room for the memory cgroup path built from the event's components. */
#define OOMEVENT_CG_LEN (MS_CG_DEPTH * (MS_CG_NAME + 1) + 2)

/*
 * Fill d's time, victim (pid excepted: the caller's), trigger, constraint and memcg
 * from o. The memcg path is written into cg (cglen >= OOMEVENT_CG_LEN), which
 * d->memcg.path then points to: cg must outlive d.
 */
void oomevent__fill(struct oom_dump *d, const struct ms_oom_event *o, char *cg, size_t cglen);

/*
 * memcg or global, from the killer's kernel stack: mem_cgroup_out_of_memory() on it
 * means a memory cgroup ran out. ksym_start/ksym_end bound that function (0: unknown,
 * e.g. kallsyms hides addresses; then a limited memcg at its limit decides).
 */
enum oom_constraint oomevent__constraint(const struct ms_oom_event *o, uint64_t ksym_start,
					 uint64_t ksym_end);

/* mem_cgroup_out_of_memory's [start, end) from /proc/kallsyms (read once); 0s when hidden. */
void oomevent__memcg_oom_range(uint64_t *start, uint64_t *end);

/* Path of the memory cgroup, root first, from the leaf-first components of o. */
void oomevent__cg_path(const struct ms_oom_event *o, char *buf, size_t len);

#endif
