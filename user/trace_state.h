/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* trace_state.h - what a trace knows: traced processes, their series, per-stack counters, reports */
#ifndef MS_TRACE_STATE_H
#define MS_TRACE_STATE_H

#include <stdbool.h>
#include <stdio.h>

#include "growth.h"
#include "memslope.h"
#include "report.h"

struct tracer;
struct trace_state;

struct trace_state *trace_state__new(double interval_s, const struct growth_cfg *cfg);
void trace_state__free(struct trace_state *ts);	/* accepts NULL */
/*
 * The tracer whose maps feed this state. Its options say what the stacks count:
 * live blocks (exact), estimates of them (sample_bytes), or new pages (faults,
 * watch mode: bytes that only rise, growth judged on RSS).
 */
void trace_state__set_tracer(struct trace_state *ts, struct tracer *t);
/* Growth alerts of every traced process go to a (NULL: none). */
struct alerter;
void trace_state__set_alerter(struct trace_state *ts, struct alerter *a);
/* OOM dumps of traced processes go to dir (NULL: the default). */
void trace_state__set_dump_dir(struct trace_state *ts, const char *dir);

/* The trace begins now: its target and the command line (NULL with -p). */
void trace_state__start(struct trace_state *ts, int target_pid, char **cmd);

/* Trace pid (and follow its children). Returns 0 or -ESRCH when it does not exist. */
int trace_state__add(struct trace_state *ts, int pid, int ppid);

/* pid just exec'd (or is about to): find the libc its new program maps. */
void trace_state__exec_started(struct trace_state *ts, int pid);

/* A lifecycle event from BPF. */
void trace_state__event(struct trace_state *ts, const struct ms_event *e);

/* Housekeeping between samples (late libc discovery after exec). */
void trace_state__tick(struct trace_state *ts);

/* True while a process is between exec and its libc being found. */
bool trace_state__busy(const struct trace_state *ts);

/* Our own child was reaped with this wait status (authoritative over BPF's view). */
void trace_state__reaped(struct trace_state *ts, int pid, int status);

bool trace_state__exited(const struct trace_state *ts, int pid);

/* Read memory and counters of every traced process; t = seconds since start. */
void trace_state__sample(struct trace_state *ts, double t);

/* The live table (redrawn in place on a terminal). */
void trace_state__print_live(struct trace_state *ts, FILE *f, int top, bool tty);

/* Build a report (top stacks per process; final adds more for the JSON). NULL on ENOMEM. */
struct rpt *trace_state__report(struct trace_state *ts, int top, bool final);
void trace_state__report_free(struct rpt *r);

/* Did any process end up flagged (leak, or growing at critical severity)? */
bool trace_state__any_leak(const struct trace_state *ts);

/* --- for the daemon, which traces flagged processes for a while ---------- */

#define TRACE_STATE_TOP		3	/* stacks an alert carries */
#define TRACE_STATE_FRAMES_LEN	512	/* one stack as alert text */

/*
 * pid's fastest-growing stacks (Theil-Sen slope of live bytes > 0), fastest first, at
 * most max (<= TRACE_STATE_TOP): as[i].frames points to text[i] ("f (a.c:3) <- main").
 * Returns how many.
 */
struct alert_stack;
size_t trace_state__top_growing(struct trace_state *ts, int pid, struct alert_stack *as,
				char (*text)[TRACE_STATE_FRAMES_LEN], size_t max);

/* OOM dumps of traced processes are written here (default) or left to the caller. */
void trace_state__set_dumps(struct trace_state *ts, bool write_dumps);

/* The stack an OOM-killed pid died in; out->frames malloc'ed. Returns 0 or -ENOENT. */
int trace_state__last_stack(struct trace_state *ts, int pid, struct rpt_stack *out);

/* Stop tracing pid and forget it: probes, map entries, counters, series. */
void trace_state__remove(struct trace_state *ts, int pid);

#endif
