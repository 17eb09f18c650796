/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon_watch.h - the watch tier's state: every process's memory series and growth verdict (pure) */
#ifndef MS_DAEMON_WATCH_H
#define MS_DAEMON_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "growth.h"
#include "memslope.h"

struct watch_cfg {
	size_t max_procs;	/* processes tracked at once; more are counted, not tracked */
	size_t series_points;	/* ring size per process (new processes take a change) */
	struct growth_cfg gcfg;
	int self_pid;		/* never flagged (the daemon itself); 0: none */
	const char *root;	/* prefix of /proc and /sys paths for limits ("" in production) */
};

/* One watched process, as of the last pass. */
struct wproc {
	int pid, ppid;
	uint32_t uid;
	uint64_t start_ns;	/* tells a reused pid apart */
	uint64_t memcg_id;
	char comm[16];
	uint64_t rss_bytes;	/* anon + file + shmem, exact */
	uint64_t anon_bytes, file_bytes, shmem_bytes;
	struct series *rss;	/* (seconds, rss_bytes), bounded */
	struct growth growth;	/* eta_limit_s from limit_bytes when flagged, else -1 */
	bool flagged;		/* leak, or growing at warning or above (never self_pid) */
	uint64_t limit_bytes;	/* memory limit it counts against; 0: unknown (read while flagged) */
	char cgroup[256];	/* the limit's cgroup; "" when the limit is the host's */
	unsigned int nflat;	/* passes in a row with exactly the same RSS */
	void *user;		/* the caller's per-process state; the gone callback frees it */
};

struct watch;

struct watch *watch__new(const struct watch_cfg *cfg);	/* NULL with errno */
void watch__free(struct watch *w);			/* accepts NULL; no gone callbacks */
void watch__set_cfg(struct watch *w, const struct watch_cfg *cfg);

/* p is leaving the state (exited, pid reused, or watch__forget); free p->user here. */
typedef void (*watch_gone_fn)(void *ctx, struct wproc *p);

/*
 * One pass at t seconds (increasing): recs are every process now (any order; sorted by
 * pid in place). Processes missing from recs, or whose start time changed, are gone:
 * fn(ctx, p) is called for each (fn may be NULL) before it is freed. Processes already
 * tracked keep their slot; new ones take free slots, lowest pid first. Every tracked
 * process gets a point and a verdict; a series whose every point is the same value is
 * judged stable without the full analysis (the common idle process). Returns 0 or
 * -ENOMEM (the pass is then partial but consistent).
 */
int watch__update(struct watch *w, struct ms_task_rec *recs, size_t n, double t,
		  watch_gone_fn fn, void *ctx);

size_t watch__count(const struct watch *w);
struct wproc *watch__at(const struct watch *w, size_t i);	/* by pid, ascending */
struct wproc *watch__get(const struct watch *w, int pid);	/* NULL when not tracked */
size_t watch__untracked(const struct watch *w);	/* processes of the last pass over the cap */
size_t watch__flagged(const struct watch *w);	/* flagged after the last pass */

/* The series as report points (rss only), malloc'ed; *n gets the count. NULL when empty. */
struct rpt_point;
struct rpt_point *watch__points(const struct wproc *p, size_t *n);

#endif
