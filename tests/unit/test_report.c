// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_report.c - the memslope.trace/1 JSON shape and the text report, on a known model */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json.h>

#include "report.h"

#define MiB (1024.0 * 1024)

/* A known model: a leaking parent killed by the OOM killer, and a Python child still running. */
static char *leaky_argv[] = { "./leaky", "12", NULL };
static char *child_argv[] = { "python3", "/app/h.py", NULL };

static struct rpt_frame frames_a[] = {
	{ .addr = 0x7f1234560000, .func = "malloc", .module = "/usr/lib/x86_64-linux-gnu/libc.so.6",
	  .lang = "c" },
	{ .addr = 0x401136, .func = "leak_some", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 42, .lang = "c", .func_off = 0x16, .build_id = "abcdef01" },
	{ .addr = 0x4011a0, .func = "main", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 80, .lang = "c" },
	{ .addr = 0x7f123456a07a, .func = "__libc_start_call_main",
	  .module = "/usr/lib/x86_64-linux-gnu/libc.so.6", .lang = "c", .func_off = 0x7a },
};

static struct rpt_frame frames_b[] = {
	{ .addr = 0x7f00dead, .lang = "c" },	/* nothing known */
	{ .addr = 0x7f00beef, .module = "/usr/lib/libfoo.so.1" },
};

static struct rpt_frame frames_py[] = {
	{ .addr = 0x10, .func = "handler", .module = "/app/h.py", .file = "/app/h.py", .line = 7,
	  .lang = "python" },
};

static struct rpt_stack stacks_1[] = {
	{ .stack_id = 77, .live_bytes = 12 * 1024 * 1024, .live_allocs = 1200,
	  .alloc_bytes = 48 * 1024 * 1024, .allocs = 4800, .growth_bytes = 12 * 1024 * 1024,
	  .slope_bps = 4 * MiB, .nframes = 4, .frames = frames_a },
	{ .stack_id = 78, .live_bytes = 4096, .live_allocs = 2, .alloc_bytes = 8192, .allocs = 4,
	  .growth_bytes = -2048, .nframes = 2, .frames = frames_b },
};

static struct rpt_stack stacks_2[] = {
	{ .stack_id = 90, .live_bytes = 512, .live_allocs = 1, .alloc_bytes = 512, .allocs = 1,
	  .nframes = 1, .frames = frames_py },
};

static struct rpt_point series_1[] = {
	{ .t = 0.0, .rss_bytes = 2 * 1024 * 1024, .heap_bytes = 0 },
	{ .t = 1.0, .rss_bytes = 6 * 1024 * 1024, .heap_bytes = 4 * 1024 * 1024 },
	{ .t = 2.5, .rss_bytes = 14 * 1024 * 1024, .heap_bytes = 12 * 1024 * 1024 },
};

static struct rpt_test tests_1[] = {
	{ .test = "test_alpha", .live_bytes = 1024 },
	{ .test = "test_beta", .live_bytes = 0 },
};

static struct rpt_oom_kill kills[] = {
	{ .pid = 4242, .comm = "leaky", .dump = "/var/lib/memslope/oom/4242.json" },
};

static struct rpt_process procs[2];
static struct rpt model;

static void build_model(void)
{
	memset(procs, 0, sizeof(procs));
	procs[0] = (struct rpt_process){
		.pid = 4242, .ppid = 1, .comm = "leaky", .argv = leaky_argv,
		.exited = true, .exit_code = 0, .exit_signal = 9, .oom_killed = true,
		.rss_bytes = 14 * 1024 * 1024, .heap_bytes = 12 * 1024 * 1024 + 4096,
		.series = series_1, .npoints = 3,
		.growth = { .verdict = GV_LEAK, .severity = GS_CRITICAL, .slope_bps = 4 * MiB,
			    .r2 = 0.99, .eta_limit_s = 12.5 },
		.stacks = stacks_1, .nstacks = 2, .by_test = tests_1, .ntests = 2,
	};
	procs[1] = (struct rpt_process){
		.pid = 4243, .ppid = 4242, .comm = "child", .argv = child_argv,
		.rss_bytes = 9 * 1024 * 1024, .heap_bytes = 512,
		.growth = { .verdict = GV_STABLE, .severity = GS_OK, .slope_bps = 0.25, .r2 = 0.1,
			    .eta_limit_s = -1 },
		.stacks = stacks_2, .nstacks = 1,
	};
	memset(&model, 0, sizeof(model));
	strcpy(model.started_at, "2024-05-01T12:00:00Z");
	model.duration_s = 3.0;
	model.interval_s = 1.0;
	model.mode = "exact";
	model.target_pid = 4242;
	model.target_argv = leaky_argv;
	model.target_exited = true;
	model.target_exit_code = 0;
	model.target_exit_signal = 9;
	model.target_oom_killed = true;
	model.procs = procs;
	model.nprocs = 2;
	model.oom_kills = kills;
	model.noom_kills = 1;
	model.stats = (struct rpt_stats){ .events = 1000, .lost_events = 5, .dropped_allocs = 12 };
}

TestSuite(report, .init = build_model);

static char *json_text(const struct rpt *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__write_json(r, f), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static struct json_object *json_doc(const struct rpt *r)
{
	char *s = json_text(r);
	struct json_object *doc = json_tokener_parse(s);

	cr_assert_not_null(doc, "not JSON:\n%s", s);
	free(s);
	return doc;
}

static char *text_of(const struct rpt *r, int top_n, bool final)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__print_text(r, f, top_n, final), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

/* obj[key], which must exist and have type t */
static struct json_object *get(struct json_object *obj, const char *key, enum json_type t)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(obj, key, &v), "missing \"%s\"", key);
	cr_assert_eq(json_object_get_type(v), t, "\"%s\" is %s, want %s", key,
		     json_type_to_name(json_object_get_type(v)), json_type_to_name(t));
	return v;
}

static const char *get_str(struct json_object *obj, const char *key)
{
	return json_object_get_string(get(obj, key, json_type_string));
}

static int64_t get_int(struct json_object *obj, const char *key)
{
	return json_object_get_int64(get(obj, key, json_type_int));
}

static double get_double(struct json_object *obj, const char *key)
{
	return json_object_get_double(get(obj, key, json_type_double));
}

static struct json_object *idx(struct json_object *arr, size_t i)
{
	cr_assert_lt(i, json_object_array_length(arr));
	return json_object_array_get_idx(arr, i);
}

Test(report, json_top_level_and_target)
{
	struct json_object *doc = json_doc(&model), *target, *ex, *argv;

	cr_expect_str_eq(get_str(doc, "schema"), "memslope.trace/1");
	cr_expect_str_eq(get_str(doc, "started_at"), "2024-05-01T12:00:00Z");
	cr_expect_float_eq(get_double(doc, "duration_s"), 3.0, 1e-9);
	cr_expect_float_eq(get_double(doc, "interval_s"), 1.0, 1e-9);
	cr_expect_str_eq(get_str(doc, "mode"), "exact");
	cr_expect_eq(get_int(doc, "sample_bytes"), 0);	/* exact: not sampled */
	cr_expect_str_eq(get_str(doc, "memslope_version"), MEMSLOPE_VERSION);

	target = get(doc, "target", json_type_object);
	cr_expect_eq(get_int(target, "pid"), 4242);
	argv = get(target, "argv", json_type_array);
	cr_assert_eq(json_object_array_length(argv), 2);
	cr_expect_str_eq(json_object_get_string(idx(argv, 0)), "./leaky");
	cr_expect_str_eq(json_object_get_string(idx(argv, 1)), "12");
	ex = get(target, "exit", json_type_object);
	get(ex, "code", json_type_null);	/* killed by a signal: no exit code */
	cr_expect_eq(get_int(ex, "signal"), 9);
	cr_expect(json_object_get_boolean(get(ex, "oom_killed", json_type_boolean)));

	get(doc, "processes", json_type_array);
	get(doc, "oom_kills", json_type_array);
	get(doc, "stats", json_type_object);
	json_object_put(doc);
}

Test(report, json_exit_code_when_exited_normally)
{
	struct json_object *doc, *ex;

	model.target_exit_signal = 0;
	model.target_oom_killed = false;
	model.target_exit_code = 3;
	doc = json_doc(&model);
	ex = get(get(doc, "target", json_type_object), "exit", json_type_object);
	cr_expect_eq(get_int(ex, "code"), 3);
	get(ex, "signal", json_type_null);
	cr_expect_not(json_object_get_boolean(get(ex, "oom_killed", json_type_boolean)));
	json_object_put(doc);
}

Test(report, json_exit_unknown_while_running)
{
	struct json_object *doc, *ex;

	model.target_exited = false;
	model.target_exit_signal = 0;
	model.target_oom_killed = false;
	model.target_argv = NULL;
	doc = json_doc(&model);
	ex = get(get(doc, "target", json_type_object), "exit", json_type_object);
	get(ex, "code", json_type_null);
	get(ex, "signal", json_type_null);
	/* a NULL argv is still an array */
	cr_expect_eq(json_object_array_length(get(get(doc, "target", json_type_object), "argv",
						  json_type_array)), 0);
	json_object_put(doc);
}

Test(report, json_process_series_growth)
{
	struct json_object *doc = json_doc(&model), *procs_j, *p, *series, *pt, *g;

	procs_j = get(doc, "processes", json_type_array);
	cr_assert_eq(json_object_array_length(procs_j), 2);

	p = idx(procs_j, 0);
	cr_expect_eq(get_int(p, "pid"), 4242);
	cr_expect_eq(get_int(p, "ppid"), 1);
	cr_expect_str_eq(get_str(p, "comm"), "leaky");
	cr_expect_eq(json_object_array_length(get(p, "argv", json_type_array)), 2);

	series = get(p, "series", json_type_array);
	cr_assert_eq(json_object_array_length(series), 3);
	pt = idx(series, 1);
	/* t is a float even when whole, so typed consumers never see an int */
	cr_expect_float_eq(get_double(pt, "t"), 1.0, 1e-12);
	cr_expect_float_eq(get_double(idx(series, 0), "t"), 0.0, 1e-12);
	cr_expect_float_eq(get_double(idx(series, 2), "t"), 2.5, 1e-12);
	cr_expect_eq(get_int(pt, "rss_bytes"), 6 * 1024 * 1024);
	cr_expect_eq(get_int(pt, "heap_bytes"), 4 * 1024 * 1024);

	g = get(p, "growth", json_type_object);
	cr_expect_str_eq(get_str(g, "verdict"), "leak");
	cr_expect_str_eq(get_str(g, "severity"), "critical");
	cr_expect_float_eq(get_double(g, "slope_bytes_per_s"), 4 * MiB, 1e-6);
	cr_expect_float_eq(get_double(g, "r2"), 0.99, 1e-12);
	cr_expect_float_eq(get_double(g, "eta_limit_s"), 12.5, 1e-12);

	g = get(idx(procs_j, 1), "growth", json_type_object);
	cr_expect_str_eq(get_str(g, "verdict"), "stable");
	cr_expect_str_eq(get_str(g, "severity"), "ok");
	get(g, "eta_limit_s", json_type_null);	/* < 0: no limit in sight */
	cr_expect_eq(json_object_array_length(get(idx(procs_j, 1), "series", json_type_array)), 0);

	/* extras */
	cr_expect_not(json_object_get_boolean(get(idx(procs_j, 1), "exited", json_type_boolean)));
	cr_expect_eq(get_int(get(p, "exit", json_type_object), "signal"), 9);
	get(get(p, "exit", json_type_object), "code", json_type_null);
	cr_expect_eq(get_int(p, "rss_bytes"), 14 * 1024 * 1024);
	json_object_put(doc);
}

Test(report, json_stacks_and_frames)
{
	struct json_object *doc = json_doc(&model), *p, *stacks, *st, *frames, *fr;

	p = idx(get(doc, "processes", json_type_array), 0);
	stacks = get(p, "stacks", json_type_array);
	cr_assert_eq(json_object_array_length(stacks), 2);

	st = idx(stacks, 0);
	cr_expect_eq(get_int(st, "live_bytes"), 12 * 1024 * 1024);
	cr_expect_eq(get_int(st, "live_allocs"), 1200);
	cr_expect_eq(get_int(st, "alloc_bytes"), 48 * 1024 * 1024);
	cr_expect_eq(get_int(st, "allocs"), 4800);
	cr_expect_eq(get_int(st, "stack_id"), 77);
	cr_expect_eq(get_int(st, "growth_bytes"), 12 * 1024 * 1024);
	cr_expect_float_eq(get_double(st, "slope_bytes_per_s"), 4 * MiB, 1e-6);

	frames = get(st, "frames", json_type_array);
	cr_assert_eq(json_object_array_length(frames), 4);
	/* frames[0] is the innermost frame, as given: the allocator itself */
	fr = idx(frames, 0);
	cr_expect_str_eq(get_str(fr, "func"), "malloc");
	cr_expect_str_eq(get_str(fr, "module"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
	get(fr, "file", json_type_null);
	get(fr, "line", json_type_null);
	cr_expect_str_eq(get_str(fr, "lang"), "c");
	cr_expect_str_eq(get_str(fr, "addr"), "0x7f1234560000");
	get(fr, "build_id", json_type_null);

	fr = idx(frames, 1);
	cr_expect_str_eq(get_str(fr, "func"), "leak_some");
	cr_expect_str_eq(get_str(fr, "file"), "/src/leaky.c");	/* full path in JSON */
	cr_expect_eq(get_int(fr, "line"), 42);
	cr_expect_str_eq(get_str(fr, "addr"), "0x401136");
	cr_expect_str_eq(get_str(fr, "build_id"), "abcdef01");
	cr_expect_str_eq(get_str(idx(frames, 3), "func"), "__libc_start_call_main");

	/* unknown func and module are the string "[unknown]", never null */
	frames = get(idx(stacks, 1), "frames", json_type_array);
	fr = idx(frames, 0);
	cr_expect_str_eq(get_str(fr, "func"), "[unknown]");
	cr_expect_str_eq(get_str(fr, "module"), "[unknown]");
	get(fr, "file", json_type_null);
	get(fr, "line", json_type_null);
	cr_expect_str_eq(get_str(fr, "addr"), "0x7f00dead");
	fr = idx(frames, 1);
	cr_expect_str_eq(get_str(fr, "module"), "/usr/lib/libfoo.so.1");
	cr_expect_str_eq(get_str(fr, "lang"), "c");	/* NULL lang means native */
	cr_expect_eq(get_int(idx(stacks, 1), "growth_bytes"), -2048);

	/* Python frame */
	p = idx(get(doc, "processes", json_type_array), 1);
	fr = idx(get(idx(get(p, "stacks", json_type_array), 0), "frames", json_type_array), 0);
	cr_expect_str_eq(get_str(fr, "lang"), "python");
	cr_expect_str_eq(get_str(fr, "func"), "handler");
	cr_expect_eq(get_int(fr, "line"), 7);
	json_object_put(doc);
}

Test(report, json_by_test_oom_kills_stats)
{
	struct json_object *doc = json_doc(&model), *p, *bt, *k, *st;

	p = idx(get(doc, "processes", json_type_array), 0);
	bt = get(p, "by_test", json_type_array);
	cr_assert_eq(json_object_array_length(bt), 2);
	cr_expect_str_eq(get_str(idx(bt, 0), "test"), "test_alpha");
	cr_expect_eq(get_int(idx(bt, 0), "live_bytes"), 1024);
	cr_expect_eq(json_object_array_length(get(idx(get(doc, "processes", json_type_array), 1),
						  "by_test", json_type_array)), 0);

	k = get(doc, "oom_kills", json_type_array);
	cr_assert_eq(json_object_array_length(k), 1);
	cr_expect_eq(get_int(idx(k, 0), "pid"), 4242);
	cr_expect_str_eq(get_str(idx(k, 0), "comm"), "leaky");
	cr_expect_str_eq(get_str(idx(k, 0), "dump"), "/var/lib/memslope/oom/4242.json");

	st = get(doc, "stats", json_type_object);
	cr_expect_eq(get_int(st, "events"), 1000);
	cr_expect_eq(get_int(st, "lost_events"), 5);
	cr_expect_eq(get_int(st, "dropped_allocs"), 12);
	cr_expect_eq(get_int(st, "dropped_stacks"), 0);
	json_object_put(doc);
}

Test(report, json_dump_null_and_full_comm)
{
	struct rpt_oom_kill k = { .pid = 1 };
	struct json_object *doc, *p;

	/* a 16-byte comm need not be NUL-terminated */
	memcpy(procs[0].comm, "0123456789abcdef", 16);
	memcpy(k.comm, "0123456789abcdef", 16);
	model.oom_kills = &k;
	doc = json_doc(&model);
	p = idx(get(doc, "processes", json_type_array), 0);
	cr_expect_str_eq(get_str(p, "comm"), "0123456789abcdef");
	get(idx(get(doc, "oom_kills", json_type_array), 0), "dump", json_type_null);
	json_object_put(doc);
}

Test(report, json_pretty_newline_and_unescaped_paths)
{
	char *s = json_text(&model);
	size_t n = strlen(s);

	cr_assert_gt(n, 2);
	cr_expect_eq(s[n - 1], '\n');
	cr_expect_neq(s[n - 2], '\n');
	cr_expect_not_null(strstr(s, "\n  \"schema\": \"memslope.trace/1\""), "not pretty:\n%s", s);
	cr_expect_not_null(strstr(s, "\"/src/leaky.c\""));
	free(s);
}

Test(report, json_invalid_utf8_is_replaced)
{
	char *argv[] = { "a\xff" "b", "caf\xc3\xa9", NULL };
	struct json_object *doc, *a;
	char *s;

	model.target_argv = argv;
	s = json_text(&model);
	/* strict UTF-8 check: json-c's parser accepts raw bytes, so look at them */
	cr_expect_null(strstr(s, "\xff"));
	doc = json_tokener_parse(s);
	cr_assert_not_null(doc);
	a = get(get(doc, "target", json_type_object), "argv", json_type_array);
	cr_expect_str_eq(json_object_get_string(idx(a, 0)), "a\xef\xbf\xbd" "b");
	cr_expect_str_eq(json_object_get_string(idx(a, 1)), "caf\xc3\xa9");
	json_object_put(doc);
	free(s);
}

Test(report, json_nonfinite_is_null)
{
	struct json_object *doc, *g;

	procs[0].growth.r2 = NAN;
	procs[0].growth.eta_limit_s = INFINITY;
	doc = json_doc(&model);
	g = get(idx(get(doc, "processes", json_type_array), 0), "growth", json_type_object);
	get(g, "r2", json_type_null);
	get(g, "eta_limit_s", json_type_null);
	json_object_put(doc);
}

Test(report, json_write_error_is_reported)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		cr_skip_test("no /dev/full");
	cr_expect_eq(report__write_json(&model, f), -ENOSPC);
	fclose(f);
}

#define expect_has(s, sub) cr_expect_not_null(strstr(s, sub), "no \"%s\" in:\n%s", sub, s)
#define expect_lacks(s, sub) cr_expect_null(strstr(s, sub), "\"%s\" in:\n%s", sub, s)

/* every line fits REPORT_TEXT_WIDTH terminal columns */
static void expect_width(const char *s)
{
	int cols = 0, line = 1;

	for (; *s; s++) {
		if (*s == '\n') {
			cols = 0;
			line++;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80)
			cols++;
		cr_expect_leq(cols, REPORT_TEXT_WIDTH, "line %d is wider than %d columns", line,
			      REPORT_TEXT_WIDTH);
		if (cols > REPORT_TEXT_WIDTH)
			return;
	}
}

Test(report, text_live)
{
	char *s = text_of(&model, 10, false);

	expect_has(s, "memslope: 3.0 s, 2 processes, 12.0 MiB live in 3 stacks (exact)");
	expect_has(s, "leaky");
	expect_has(s, "leak (+4.0 MiB/s, r²=0.99, critical, limit in 12.5 s)");
	expect_has(s, "stable (");
	/* innermost first, allocator frame left out, then callers */
	expect_has(s, "leak_some (leaky.c:42) ← main (leaky.c:80) ← ");
	expect_lacks(s, "malloc");
	expect_has(s, "0x7f00dead ← 0x7f00beef (libfoo.so.1)");
	expect_has(s, "handler (h.py:7)");
	expect_has(s, "+12.0 MiB");
	expect_has(s, "-2.0 KiB");
	expect_has(s, "1200 allocs");
	/* drops name what was dropped and the option to raise */
	expect_has(s, "12 allocations not tracked: live map full — raise --max-allocs");
	expect_has(s, "5 events lost: ring buffer full — raise --ringbuf-size");
	expect_lacks(s, "--max-stacks");
	expect_has(s, "OOM kill: 4242 (leaky), dump /var/lib/memslope/oom/4242.json");
	/* exit status is for the final report */
	expect_lacks(s, "killed by");
	expect_width(s);
	free(s);
}

Test(report, text_no_drop_hint_without_drops)
{
	char *s;

	memset(&model.stats, 0, sizeof(model.stats));
	model.stats.events = 1000;
	s = text_of(&model, 10, true);
	expect_lacks(s, "raise");
	expect_lacks(s, "dropped");
	free(s);

	model.stats.dropped_stacks = 1;
	s = text_of(&model, 10, true);
	expect_has(s, "1 stack not recorded: stack map full — raise --max-stacks");
	free(s);
}

Test(report, text_final)
{
	char *s = text_of(&model, 10, true);

	expect_has(s, "memslope: done after 3.0 s");
	expect_has(s, "killed by SIGKILL (OOM) — leak: +4.0 MiB/s, steady (r²=0.99), "
		   "critical; limit in ~12.5 s\n");
	expect_has(s, "running — stable");
	expect_has(s, "by test: test_alpha 1.0 KiB, test_beta 0 B");
	/* one frame per line */
	expect_has(s, "\n         leak_some (leaky.c:42)\n         main (leaky.c:80)\n"
		   "         __libc_start_call_main+0x7a (libc.so.6)\n");
	expect_has(s, "#1 12.0 MiB live (+12.0 MiB, +4.0 MiB/s) in 1200 allocs; "
		   "4800 allocs, 48.0 MiB total\n");
	expect_has(s, "raise --max-allocs");
	expect_width(s);
	free(s);
}

Test(report, text_exit_status)
{
	char *s;

	procs[0].exit_signal = 0;
	procs[0].oom_killed = false;
	procs[0].exit_code = 0;
	s = text_of(&model, 10, true);
	expect_has(s, "exited 0 — leak");
	free(s);
}

Test(report, text_top_n)
{
	char *s = text_of(&model, 1, false);

	expect_has(s, "leak_some");
	expect_lacks(s, "0x7f00dead");
	expect_has(s, "… 1 more stack, 4.0 KiB live");
	free(s);

	s = text_of(&model, 0, false);
	expect_lacks(s, "leak_some");
	free(s);

	s = text_of(&model, -1, false);
	expect_has(s, "0x7f00dead");
	expect_lacks(s, "more stack");
	free(s);
}

Test(report, text_long_stacks_fit_width)
{
	static struct rpt_frame many[40];
	struct rpt_stack st = { .live_bytes = 1, .nframes = 40, .frames = many };
	char *s, name[40][64];
	size_t i;

	for (i = 0; i < 40; i++) {
		snprintf(name[i], sizeof(name[i]), "some_rather_long_function_name_%zu", i);
		many[i] = (struct rpt_frame){ .addr = i, .func = name[i], .file = "/x/y.c",
					      .line = (int)i + 1 };
	}
	procs[1].stacks = &st;
	s = text_of(&model, 10, false);
	expect_width(s);
	expect_has(s, "some_rather_long_function_name_0 (y.c:1) ← ");
	cr_expect_not_null(strstr(s, "…\n"), "cut without an ellipsis:\n%s", s);
	free(s);

	s = text_of(&model, 10, true);
	expect_width(s);
	expect_has(s, "… 24 more frames");
	free(s);
}

Test(report, text_control_chars_are_neutralized)
{
	char *s;

	strcpy(procs[0].comm, "a\x1b[2Jb");
	frames_a[1].func = "evil\rname";
	frames_a[2].func = "broken\xe2\x1b[31mutf8";	/* an escape inside a bad sequence */
	s = text_of(&model, 10, true);
	cr_expect_null(strchr(s, '\x1b'), "%s", s);
	expect_has(s, "broken??[31mutf8");
	cr_expect_null(strchr(s, '\r'), "%s", s);
	expect_has(s, "a?[2Jb");
	frames_a[1].func = "leak_some";
	frames_a[2].func = "main";
	free(s);
}

Test(report, text_watch_mode)
{
	char *s;

	/* stacks count the new pages each one wrote: no live bytes, no heap */
	model.mode = "watch";
	s = text_of(&model, 10, false);
	expect_has(s, "memslope: 3.0 s, 2 processes, 12.0 MiB in new pages in 3 stacks (watch)");
	expect_has(s, "1200 pages   leak_some");
	expect_lacks(s, "live in");
	expect_lacks(s, "allocs  ");
	free(s);
	s = text_of(&model, 10, true);
	expect_has(s, "#1 12.0 MiB in new pages (+12.0 MiB, +4.0 MiB/s): 1200 pages\n");
	expect_lacks(s, "MiB live");
	free(s);

	/* without stacks (a watch-tier report) the header has the processes only */
	procs[0].nstacks = procs[1].nstacks = 0;
	s = text_of(&model, 10, false);
	expect_has(s, "memslope: 3.0 s, 2 processes (watch)");
	free(s);
}

Test(report, text_and_json_sampled)
{
	struct json_object *doc;
	char *s;

	model.sample_bytes = 512 << 10;
	s = text_of(&model, 10, false);
	expect_has(s, "12.0 MiB live in 3 stacks (exact, heap sampled every 512.0 KiB: estimates)");
	free(s);
	doc = json_doc(&model);
	cr_expect_eq(get_int(doc, "sample_bytes"), 512 << 10);
	json_object_put(doc);
}

Test(report, fmt_bytes_units)
{
	char b[16];

	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 0), "0 B");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 1023), "1023 B");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 1024), "1.0 KiB");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 1536), "1.5 KiB");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 1048575), "1.0 MiB");	/* not "1024.0 KiB" */
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 12.4 * MiB), "12.4 MiB");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), -1.5 * MiB), "-1.5 MiB");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), -0.3), "0 B");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), -512), "-512 B");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 5.0 * 1024 * MiB), "5.0 GiB");
	cr_expect_str_eq(fmt_bytes(b, sizeof(b), 3.0 * 1024 * 1024 * MiB), "3.0 TiB");
}

Test(report, fmt_exit_strings)
{
	char b[48];

	cr_expect_str_eq(fmt_exit(b, sizeof(b), true, 0, 0, false), "exited 0");
	cr_expect_str_eq(fmt_exit(b, sizeof(b), true, 3, 0, false), "exited 3");
	cr_expect_str_eq(fmt_exit(b, sizeof(b), true, 0, 9, true), "killed by SIGKILL (OOM)");
	cr_expect_str_eq(fmt_exit(b, sizeof(b), true, 0, 11, false), "killed by SIGSEGV");
	cr_expect_str_eq(fmt_exit(b, sizeof(b), false, 0, 0, false), "running");
}
