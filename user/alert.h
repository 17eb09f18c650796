/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* alert.h - memslope.alert/1 JSON-lines alerts with hysteresis, one line per event (pure) */
#ifndef MS_ALERT_H
#define MS_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "growth.h"

/* What the caller knows about the process; strings are copied into the line, not kept. */
struct alert_proc {
	int pid;
	const char *comm;
	char **argv;		/* NULL-terminated; NULL: unknown (JSON null) */
	const char *cgroup;	/* NULL: unknown */
	uint64_t rss_bytes;
	uint64_t limit_bytes;	/* 0: no limit known (JSON null) */
};

/* one entry of top_stacks */
struct alert_stack {
	int64_t live_bytes;
	double slope_bps;
	const char *frames;	/* already formatted, innermost first ("f (a.c:3) <- main") */
};

struct alerter_cfg {
	unsigned int flag_after;	/* flagged evaluations in a row before "growth" (default 2) */
	unsigned int clear_after;	/* unflagged evaluations in a row before "recovered" (default 3) */
	double realert_s;	/* repeat "growth" while still flagged after this long (default 600;
				 * < 0: never) */
	size_t max_pids;	/* per-pid state kept (default 4096): the longest unseen goes first */
	const char *host;	/* NULL: gethostname() */
	/* additions; 0 takes the default, < 0 means no minimum */
	double leak_min_s;	/* a run of "leak" verdicts must also span this long (default 1.5:
				 * three evaluations at 1 s, four at 0.5 s) */
	double growing_min_s;	/* flagged evaluations that are not all "leak" (non-linear
				 * growth, which a warm-up also is) must span this long (default 60) */
};

void alerter_cfg__default(struct alerter_cfg *cfg);

struct alerter;

/*
 * Alerts go to fd, one write() per line so a reader (tail -f, journald, a pipe) sees whole
 * lines as they happen. fd stays the caller's. cfg may be NULL (defaults); fields left 0
 * take their defaults. NULL with errno on failure.
 */
struct alerter *alerter__new(int fd, const struct alerter_cfg *cfg);
void alerter__free(struct alerter *a);	/* accepts NULL */

/*
 * Feed one evaluation of a process. Flagged means verdict "leak", or "growing" at
 * severity warning or worse. A "growth" line is written when the process has been
 * flagged flag_after times in a row and either the last flag_after or more verdicts were
 * all "leak" over at least leak_min_s, or the flagged run has lasted growing_min_s (so
 * linear growth alerts fast, a decelerating fill only if it keeps growing); then again
 * only if the severity rises above the
 * highest already alerted, or realert_s has passed since the last line. After an alert,
 * clear_after unflagged evaluations in a row write "recovered". insufficient-data is no
 * evidence either way and leaves the counts alone. now is wall-clock time (seconds since
 * the epoch), written as ts. Returns 1 when a line was written, 0 when not, or -errno
 * (write failure, no memory).
 */
int alerter__feed(struct alerter *a, double now, const struct alert_proc *p,
		  const struct growth *g, const struct alert_stack *stacks, size_t nstacks);

/*
 * Write an "oom_kill" line (always, no hysteresis) and forget the pid. g may be NULL
 * (no growth verdict known), dump may be NULL (no dump written). Returns 0 or -errno.
 */
int alerter__oom_kill(struct alerter *a, double now, const struct alert_proc *p,
		      const struct growth *g, const struct alert_stack *stacks, size_t nstacks,
		      const char *dump);

/* drop the per-pid state (the process exited); no line is written */
void alerter__forget(struct alerter *a, int pid);

/* number of pids with state, for tests and stats */
size_t alerter__tracked(const struct alerter *a);

#endif
