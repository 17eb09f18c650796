/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon_escalate.h - exact tracing of flagged processes for a while, through one shared trace_state */
#ifndef MS_DAEMON_ESCALATE_H
#define MS_DAEMON_ESCALATE_H

#include <stdbool.h>
#include <stddef.h>

#include "growth.h"
#include "memslope.h"
#include "trace_state.h"

struct tracer;
struct escalator;

/* One trace_state for every escalated process; OOM dumps are the daemon's to write. */
struct escalator *escalator__new(struct tracer *t, double interval_s, const struct growth_cfg *g);
void escalator__free(struct escalator *e);	/* accepts NULL; detaches everything */

/*
 * Trace pid exactly (pid-filtered probes on the libc it maps; its children are not
 * followed). Returns 0; -ESRCH (gone); -ENOENT (no libc: nothing to learn); -errno.
 */
int escalator__start(struct escalator *e, int pid, int ppid);
void escalator__stop(struct escalator *e, int pid);	/* forget it entirely */
bool escalator__active(const struct escalator *e, int pid);
size_t escalator__count(const struct escalator *e);

/* A lifecycle event from BPF (forks of escalated processes are not followed). */
void escalator__event(struct escalator *e, const struct ms_event *ev);

/* Read the counters of every escalated process (t: seconds, increasing). */
void escalator__sample(struct escalator *e, double t);

/* pid's fastest-growing stacks, as trace_state__top_growing(). */
size_t escalator__top(struct escalator *e, int pid, struct alert_stack *as,
		      char (*text)[TRACE_STATE_FRAMES_LEN], size_t max);

/* The state behind it, for OOM dumps (reports, last stack). */
struct trace_state *escalator__state(struct escalator *e);

/* Drop counters of exact tracing, summed over CPUs. */
int escalator__counters(struct escalator *e, struct ms_counters *out);

#endif
