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
	const char *lang;	/* "c" or "python"; NULL: "c" */
	uint64_t func_off;	/* addr minus the start of func; 0: at entry or unknown */
	const char *build_id;	/* hex GNU build-id of module; NULL: none */
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
	uint64_t limit_bytes;	/* memory limit it counts against (cgroup, else available); 0: unknown */
	const char *cgroup;	/* memory cgroup with that limit; NULL: unknown or none */
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
	uint64_t sample_bytes;	/* exact mode sampled 1 in this many heap bytes; 0: not sampled */
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

#ifndef MEMSLOPE_VERSION
#define MEMSLOPE_VERSION "0.1.0"	/* the Makefile may override with -DMEMSLOPE_VERSION=... */
#endif

#define REPORT_SCHEMA		"memslope.trace/1"
#define REPORT_TEXT_WIDTH	100	/* columns the text report fits in */
#define REPORT_UNKNOWN		"[unknown]"	/* JSON func/module when not known */

/*
 * Write the memslope.trace/1 JSON document, pretty-printed, ending in a newline,
 * and flush f. Fixed fields as DESIGN.md says; NULL func or module is written as
 * "[unknown]" (both are strings in the schema), NULL file or line 0 as null, a
 * negative or non-finite eta_limit_s as null. Extra fields: top-level
 * "memslope_version"; target "exited"; per process "exited", "exit" (same shape
 * as target.exit), "rss_bytes", "heap_bytes" (last sample); per stack "stack_id",
 * "growth_bytes", "slope_bytes_per_s"; per frame "build_id" (s|null). Strings that
 * are not valid UTF-8 (argv, paths) get U+FFFD for the bad bytes so the document
 * always parses. Returns 0, -ENOMEM, or -errno of the failed write.
 */
int report__write_json(const struct rpt *r, FILE *f);

/*
 * The human table, REPORT_TEXT_WIDTH columns: a summary line, then per process one
 * line (pid, comm, RSS, heap, verdict), then its top_n stacks by live bytes (all
 * when top_n < 0) with growth since start and the frames, innermost first
 * ("func (file:line)", "func+0xoff (module)" or "0xaddr (module)"); leading
 * allocator frames (malloc, calloc, operator new...) are left out since every
 * stack has them. Live (!final): one line per stack, frames cut to the width,
 * compact enough to redraw every interval. final: per process the exit status
 * and a verdict sentence, one frame per line. OOM kills and drop counters (with
 * the option to raise) are shown when non-zero. Control characters in names are
 * shown as '?'. Returns 0 or -errno of the failed write (f is flushed).
 */
int report__print_text(const struct rpt *r, FILE *f, int top_n, bool final);

/*
 * "1.5 MiB" style: B, KiB, MiB, GiB, TiB with 1 decimal above B, "-" in front when
 * negative; buf of at least 16 bytes; returns buf
 */
char *fmt_bytes(char *buf, size_t len, double bytes);

/*
 * How a process ended: "running", "exited 0", "killed by SIGKILL",
 * "killed by SIGKILL (OOM)"; buf of at least 32 bytes; returns buf.
 */
char *fmt_exit(char *buf, size_t len, bool exited, int code, int signal, bool oom_killed);

#endif
