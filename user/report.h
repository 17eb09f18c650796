/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report.h - the trace report model, and its text and JSON (memslope.trace/1) writers (pure) */
#ifndef MS_REPORT_H
#define MS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "growth.h"

struct rpt_frame {
	uint64_t addr;
	const char *func;	/* NULL: unknown */
	const char *module;	/* NULL: unknown (e.g. "[anon]") */
	const char *file;	/* NULL: no line info */
	int line;		/* 0: no line info */
	const char *lang;	/* "c" or "python" */
};

struct rpt_stack {
	uint64_t stack_id;
	int64_t live_bytes;
	int64_t live_allocs;
	uint64_t alloc_bytes;
	uint64_t allocs;
	int64_t growth_bytes;	/* live_bytes now minus live_bytes when the trace began */
	double slope_bps;	/* growth rate of live bytes, bytes/s (0 when unknown) */
	size_t nframes;
	struct rpt_frame *frames;	/* frames[0] = innermost */
};

struct rpt_point {
	double t;		/* seconds since the trace started */
	uint64_t rss_bytes;
	uint64_t heap_bytes;	/* live tracked bytes */
};

struct rpt_test {
	const char *test;
	int64_t live_bytes;
};

struct rpt_process {
	int pid;
	int ppid;
	char comm[16];
	char **argv;		/* NULL-terminated; may be NULL */
	bool exited;
	int exit_code;		/* valid when exited and !signaled */
	int exit_signal;	/* 0: not killed by a signal */
	bool oom_killed;
	uint64_t rss_bytes;	/* last sample */
	int64_t heap_bytes;	/* last sample: live tracked bytes */
	struct rpt_point *series;
	size_t npoints;
	struct growth growth;
	struct rpt_stack *stacks;	/* sorted by live_bytes, descending */
	size_t nstacks;
	struct rpt_test *by_test;
	size_t ntests;
};

struct rpt_oom_kill {
	int pid;
	char comm[16];
	const char *dump;	/* NULL: no dump written */
};

struct rpt_stats {
	uint64_t events;
	uint64_t lost_events;
	uint64_t dropped_allocs;
	uint64_t dropped_stacks;
};

struct rpt {
	char started_at[40];	/* ISO-8601, UTC */
	double duration_s;
	double interval_s;
	const char *mode;	/* "exact" or "watch" */
	int target_pid;
	char **target_argv;	/* NULL-terminated; may be NULL */
	bool target_exited;
	int target_exit_code;	/* valid when target_exited and target_exit_signal == 0 */
	int target_exit_signal;
	bool target_oom_killed;
	struct rpt_process *procs;
	size_t nprocs;
	struct rpt_oom_kill *oom_kills;
	size_t noom_kills;
	struct rpt_stats stats;
};

/* Write the memslope.trace/1 JSON document. Returns 0 or -errno. */
int report__write_json(const struct rpt *r, FILE *f);

/*
 * The human table: per process one line (pid, comm, RSS, heap, verdict when known),
 * then its top_n stacks by live bytes with growth since start and the frames
 * ("func (file:line)" or "func+0xoff (module)"). final adds the exit status and
 * verdict lines. Returns 0 or -errno.
 */
int report__print_text(const struct rpt *r, FILE *f, int top_n, bool final);

/* "1.5 MiB" style; buf of at least 16 bytes; returns buf */
char *fmt_bytes(char *buf, size_t len, double bytes);

#endif
