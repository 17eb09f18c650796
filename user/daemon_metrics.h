/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon_metrics.h - what the daemon shows: a snapshot, as Prometheus text and as /status JSON (pure) */
#ifndef MS_DAEMON_METRICS_H
#define MS_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "growth.h"

#define DVIEW_MAX_PROCS	200	/* hard cap on per-process metric series (label cardinality) */
#define DVIEW_RECENT	16	/* recent alert lines kept for /status */
#define DVIEW_STACK_LEN	512

/* One process with its own series: flagged, escalated, or among the fastest growing. */
struct dview_proc {
	int pid;
	char comm[16];
	uint64_t rss_bytes;
	uint64_t limit_bytes;		/* 0: unknown */
	struct growth growth;		/* eta_limit_s < 0: none */
	bool flagged;
	bool escalated;			/* traced exactly right now */
	char top_stack[DVIEW_STACK_LEN];	/* fastest-growing stack found by escalation; "" none */
};

enum dview_drop {
	DDROP_RINGBUF,			/* lifecycle/OOM events lost: ring buffer full */
	DDROP_ALLOCS,			/* exact tracing: live-block, per-stack or pending map full */
	DDROP_STACKS,			/* exact tracing: stack map full or no stack taken */
	DDROP_UNTRACKED,		/* processes over max_procs in the last pass */
	DDROP_ESCALATIONS,		/* flagged processes not escalated: every slot busy */
	DDROP_ALERTS,			/* alert lines that could not be written */
	DDROP_DUMPS,			/* OOM dumps that could not be written */
	DDROP__NR,
};

const char *dview_drop__str(enum dview_drop d);	/* the reason label */

struct dview {
	const char *version;
	const char *host;
	double started_at;		/* wall seconds since the epoch */
	double now;			/* wall seconds of the last pass */
	double interval_s;
	uint64_t passes;
	double pass_seconds;		/* duration of the last pass */
	uint64_t watched, flagged;	/* processes */
	uint64_t oom_kills;
	uint64_t dumps_written;
	uint64_t alerts_growth, alerts_recovered, alerts_oom;
	uint64_t escalations;		/* started since the daemon started */
	uint32_t escalated_now, escalate_max;
	uint64_t drops[DDROP__NR];	/* counters, except DDROP_UNTRACKED (a gauge) */
	uint64_t self_rss_bytes;
	double self_cpu_seconds;
	size_t nprocs;
	struct dview_proc procs[DVIEW_MAX_PROCS];
	size_t nrecent;			/* alert lines, oldest first */
	char *recent[DVIEW_RECENT];	/* owned by the view */
};

/* Keep an alert line (without its newline) as the newest recent one. Returns 0 or -ENOMEM. */
int dview__add_recent(struct dview *v, const char *line, size_t len);
void dview__clear(struct dview *v);	/* frees the recent lines */

/*
 * Prometheus text exposition format 0.0.4: every family with HELP and TYPE, labels
 * escaped, per-process families only for v->procs. Returns 0 or -EIO (write failed).
 */
int dview__metrics(const struct dview *v, FILE *f);

/* schema memslope.status/1: the same as one JSON object, recent alerts parsed back. */
int dview__status_json(const struct dview *v, FILE *f);

#endif
