// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_report_formats.c - folded stacks, pprof (decoded back with protobuf-c and protoc), HTML, and reading saved reports */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json.h>
#include <zlib.h>

#include "proto/profile.pb-c.h"
#include "report.h"
#include "report_folded.h"
#include "report_html.h"
#include "report_pprof.h"
#include "report_read.h"

/*
 * A known model: a leaking parent killed by the OOM killer (native frames, one
 * unknown frame, a name with a ';'), and a Python child. Totals per sample type
 * are easy to add up by hand:
 *   inuse_space   12 MiB + 4096 + 0 + 512 = 12587520   inuse_objects 1200 + 2 + 0 + 1 = 1203
 *   alloc_space   48 MiB + 8192 + 100 + 512 = 50340452 alloc_objects 4800 + 4 + 10 + 1 = 4815
 */
#define MiB (1024 * 1024)

static char *leaky_argv[] = { "./leaky", "12", NULL };
static char *child_argv[] = { "python3", "/app/h.py", NULL };

static struct rpt_frame frames_a[] = {
	{ .addr = 0x7f1234560000, .func = "malloc", .module = "/usr/lib/x86_64-linux-gnu/libc.so.6",
	  .lang = "c", .build_id = "0011223344" },
	{ .addr = 0x401136, .func = "leak_some", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 42, .lang = "c", .func_off = 0x16, .build_id = "abcdef01" },
	{ .addr = 0x4011a0, .func = "main", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 80, .lang = "c", .build_id = "abcdef01" },
};

static struct rpt_frame frames_b[] = {
	{ .addr = 0x7f00dead, .lang = "c" },	/* nothing known */
	{ .addr = 0x7f00beef, .module = "/usr/lib/libfoo.so.1" },
	{ .addr = 0x4011a0, .func = "ns;odd", .module = "/src/leaky", .build_id = "abcdef01" },
};

static struct rpt_frame frames_c[] = {
	{ .addr = 0x4011b0, .func = "churn", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 92, .lang = "c", .build_id = "abcdef01" },
};

static struct rpt_frame frames_py[] = {
	{ .addr = 0x7f0000001000, .func = "PyObject_Malloc", .module = "/usr/bin/python3.11",
	  .lang = "c" },
	{ .addr = 0x10, .func = "handler", .module = "/app/h.py", .file = "/app/h.py", .line = 7,
	  .lang = "python" },
};

static struct rpt_stack stacks_1[] = {
	{ .stack_id = 77, .live_bytes = 12 * MiB, .live_allocs = 1200, .alloc_bytes = 48 * MiB,
	  .allocs = 4800, .growth_bytes = 12 * MiB, .slope_bps = 4.0 * MiB, .nframes = 3,
	  .frames = frames_a },
	{ .stack_id = 78, .live_bytes = 4096, .live_allocs = 2, .alloc_bytes = 8192, .allocs = 4,
	  .growth_bytes = -2048, .nframes = 3, .frames = frames_b },
	{ .stack_id = 79, .live_bytes = 0, .live_allocs = 0, .alloc_bytes = 100, .allocs = 10,
	  .nframes = 1, .frames = frames_c },	/* churn: nothing live, no folded line */
};

static struct rpt_stack stacks_2[] = {
	{ .stack_id = 90, .live_bytes = 512, .live_allocs = 1, .alloc_bytes = 512, .allocs = 1,
	  .nframes = 2, .frames = frames_py },
};

static struct rpt_point series_1[] = {
	{ .t = 1.0, .rss_bytes = 2 * MiB, .heap_bytes = 0 },
	{ .t = 2.0, .rss_bytes = 6 * MiB, .heap_bytes = 4 * MiB },
	{ .t = 3.5, .rss_bytes = 14 * MiB, .heap_bytes = 12 * MiB },
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
		.exited = true, .exit_signal = 9, .oom_killed = true,
		.rss_bytes = 14 * MiB, .heap_bytes = 12 * MiB + 4096, .limit_bytes = 16 * MiB,
		.cgroup = "/test.slice/leaky",
		.series = series_1, .npoints = 3,
		.growth = { .verdict = GV_LEAK, .severity = GS_CRITICAL, .slope_bps = 4.0 * MiB,
			    .r2 = 0.99, .eta_limit_s = 12.5 },
		.stacks = stacks_1, .nstacks = 3, .by_test = tests_1, .ntests = 2,
	};
	procs[1] = (struct rpt_process){
		.pid = 4243, .ppid = 4242, .comm = "python3", .argv = child_argv,
		.rss_bytes = 9 * MiB, .heap_bytes = 512,
		.growth = { .verdict = GV_STABLE, .severity = GS_OK, .slope_bps = 0.25, .r2 = 0.1,
			    .eta_limit_s = -1 },
		.stacks = stacks_2, .nstacks = 1,
	};
	memset(&model, 0, sizeof(model));
	strcpy(model.started_at, "2024-05-01T12:00:00Z");
	model.duration_s = 3.5;
	model.interval_s = 1.0;
	model.mode = "exact";
	model.target_pid = 4242;
	model.target_argv = leaky_argv;
	model.target_exited = true;
	model.target_exit_signal = 9;
	model.target_oom_killed = true;
	model.procs = procs;
	model.nprocs = 2;
	model.oom_kills = kills;
	model.noom_kills = 1;
	model.stats = (struct rpt_stats){ .events = 1000, .lost_events = 5, .dropped_allocs = 12 };
}

TestSuite(formats, .init = build_model);

typedef int (*writer_fn)(const struct rpt *r, FILE *f, void *arg);

static char *capture(writer_fn fn, const struct rpt *r, void *arg, size_t *len_out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(fn(r, f, arg), 0);
	cr_assert_eq(fclose(f), 0);
	if (len_out)
		*len_out = len;
	return buf;
}

static int folded_w(const struct rpt *r, FILE *f, void *arg)
{
	return report__write_folded(r, f, arg != NULL);
}

static int json_w(const struct rpt *r, FILE *f, void *arg)
{
	return report__write_json(r, f);
}

static int html_w(const struct rpt *r, FILE *f, void *arg)
{
	return report__write_html(r, f);
}

static int pprof_w(const struct rpt *r, FILE *f, void *arg)
{
	return report__write_pprof(r, f);
}

/* ------------------------------------------------------------------------ */
/* folded                                                                    */

Test(formats, folded_known_report)
{
	char *s = capture(folded_w, &model, (void *)1, NULL);

	/* outermost first, comm-pid root, "[module]" / "[unknown]" for unresolved frames */
	cr_assert_str_eq(s,
		"leaky-4242;main;leak_some;malloc 12582912\n"
		"leaky-4242;ns:odd;[libfoo.so.1];[unknown] 4096\n"
		"python3-4243;handler;PyObject_Malloc 512\n");
	free(s);
}

Test(formats, folded_without_pid_and_bad_names)
{
	static struct rpt_frame fr[] = {
		{ .func = "bad\xff\x01name", .module = "/m" },
		{ .func = "outer" },
	};
	struct rpt_stack st = { .live_bytes = 7, .nframes = 2, .frames = fr };
	struct rpt_stack empty = { .live_bytes = 3 };
	char *s;

	s = capture(folded_w, &model, NULL, NULL);
	cr_assert_str_eq(s,
		"main;leak_some;malloc 12582912\n"
		"ns:odd;[libfoo.so.1];[unknown] 4096\n"
		"handler;PyObject_Malloc 512\n");
	free(s);

	/* a name that is not UTF-8 or holds a control character must not break the line */
	procs[1].stacks = &st;
	s = capture(folded_w, &model, NULL, NULL);
	cr_assert(strstr(s, "outer;bad\xef\xbf\xbd?name 7\n"), "got:\n%s", s);
	free(s);
	procs[1].stacks = &empty;
	procs[1].nstacks = 1;
	s = capture(folded_w, &model, (void *)1, NULL);
	cr_assert(strstr(s, "python3-4243;[no stack] 3\n"), "got:\n%s", s);
	free(s);
}

/* ------------------------------------------------------------------------ */
/* pprof                                                                     */

static const char *pstr(const Perftools__Profiles__Profile *p, int64_t i)
{
	cr_assert(i >= 0 && (size_t)i < p->n_string_table, "string index %ld out of range",
		  (long)i);
	return p->string_table[i];
}

static const Perftools__Profiles__Location *ploc(const Perftools__Profiles__Profile *p,
						  uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	cr_assert_fail("no location %lu", (unsigned long)id);
	return NULL;
}

static const Perftools__Profiles__Function *pfunc(const Perftools__Profiles__Profile *p,
						  uint64_t id)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	cr_assert_fail("no function %lu", (unsigned long)id);
	return NULL;
}

static const Perftools__Profiles__Mapping *pmap(const Perftools__Profiles__Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	cr_assert_fail("no mapping %lu", (unsigned long)id);
	return NULL;
}

/* the function name of a location (NULL: no line) */
static const char *loc_func(const Perftools__Profiles__Profile *p, uint64_t id)
{
	const Perftools__Profiles__Location *l = ploc(p, id);

	if (!l->n_line)
		return NULL;
	return pstr(p, pfunc(p, l->line[0]->function_id)->name);
}

static Perftools__Profiles__Profile *decode(const uint8_t *buf, size_t len)
{
	Perftools__Profiles__Profile *p = perftools__profiles__profile__unpack(NULL, len, buf);

	cr_assert_not_null(p, "protobuf-c could not decode the profile");
	return p;
}

/* gunzip with zlib: what pprof does with the file */
static uint8_t *gunzip(const char *gz, size_t len, size_t *out_len)
{
	z_stream zs = {};
	size_t cap = 1 << 20;
	uint8_t *out = malloc(cap);
	int ret;

	cr_assert_not_null(out);
	cr_assert_eq(inflateInit2(&zs, 15 + 16), Z_OK);	/* gzip only, not raw zlib */
	zs.next_in = (Bytef *)gz;
	zs.avail_in = len;
	zs.next_out = out;
	zs.avail_out = cap;
	ret = inflate(&zs, Z_FINISH);
	cr_assert_eq(ret, Z_STREAM_END, "not a complete gzip stream (%d)", ret);
	*out_len = zs.total_out;
	inflateEnd(&zs);
	return out;
}

Test(formats, pprof_totals_per_sample_type)
{
	static const char *const want[][2] = {
		{ "inuse_space", "bytes" }, { "inuse_objects", "count" },
		{ "alloc_space", "bytes" }, { "alloc_objects", "count" },
	};
	const int64_t totals_want[] = { 12587520, 1203, 50340452, 4815 };
	int64_t totals[4] = {};
	Perftools__Profiles__Profile *p;
	uint8_t *raw;
	size_t len, i, k;

	cr_assert_eq(report__pprof_encode(&model, &raw, &len), 0);
	p = decode(raw, len);
	cr_assert_eq(p->n_sample_type, 4);
	for (i = 0; i < 4; i++) {
		cr_expect_str_eq(pstr(p, p->sample_type[i]->type), want[i][0]);
		cr_expect_str_eq(pstr(p, p->sample_type[i]->unit), want[i][1]);
	}
	cr_expect_str_eq(pstr(p, 0), "");
	cr_expect_str_eq(pstr(p, p->default_sample_type), "inuse_space");
	cr_expect_eq(p->time_nanos, 1714564800LL * 1000000000LL);
	cr_expect_eq(p->duration_nanos, 3500000000LL);
	cr_assert_eq(p->n_sample, 4);
	for (i = 0; i < p->n_sample; i++) {
		cr_assert_eq(p->sample[i]->n_value, 4);
		for (k = 0; k < 4; k++)
			totals[k] += p->sample[i]->value[k];
	}
	for (k = 0; k < 4; k++)
		cr_expect_eq(totals[k], totals_want[k], "%s: %ld, want %ld", want[k][0],
			     (long)totals[k], (long)totals_want[k]);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
}

Test(formats, pprof_locations_functions_mappings)
{
	const Perftools__Profiles__Sample *s;
	const Perftools__Profiles__Location *l;
	const Perftools__Profiles__Function *fn;
	const Perftools__Profiles__Mapping *m;
	Perftools__Profiles__Profile *p;
	uint8_t *raw;
	size_t len, i;
	bool pid_label = false, comm_label = false;

	cr_assert_eq(report__pprof_encode(&model, &raw, &len), 0);
	p = decode(raw, len);

	/* leaf first: malloc, leak_some, main */
	s = p->sample[0];
	cr_assert_eq(s->n_location_id, 3);
	cr_expect_str_eq(loc_func(p, s->location_id[0]), "malloc");
	cr_expect_str_eq(loc_func(p, s->location_id[1]), "leak_some");
	cr_expect_str_eq(loc_func(p, s->location_id[2]), "main");
	l = ploc(p, s->location_id[1]);
	cr_expect_eq(l->address, 0x401136);
	cr_expect_eq(l->line[0]->line, 42);
	fn = pfunc(p, l->line[0]->function_id);
	cr_expect_str_eq(pstr(p, fn->filename), "/src/leaky.c");
	m = pmap(p, l->mapping_id);
	cr_expect_str_eq(pstr(p, m->filename), "/src/leaky");
	cr_expect_str_eq(pstr(p, m->build_id), "abcdef01");
	cr_expect(m->has_functions && m->has_filenames && m->has_line_numbers);
	cr_expect(m->memory_start <= 0x401136 && 0x4011a0 < m->memory_limit);
	/* the main binary first, as pprof expects */
	cr_expect_str_eq(pstr(p, p->mapping[0]->filename), "/src/leaky");
	m = pmap(p, ploc(p, s->location_id[0])->mapping_id);
	cr_expect_str_eq(pstr(p, m->build_id), "0011223344");

	for (i = 0; i < s->n_label; i++) {
		const char *key = pstr(p, s->label[i]->key);

		if (!strcmp(key, "pid")) {
			pid_label = true;
			cr_expect_eq(s->label[i]->num, 4242);
		} else if (!strcmp(key, "comm")) {
			comm_label = true;
			cr_expect_str_eq(pstr(p, s->label[i]->str), "leaky");
		}
	}
	cr_expect(pid_label && comm_label);

	/* an unknown frame: an address in no function */
	s = p->sample[1];
	cr_expect_null(loc_func(p, s->location_id[0]));
	cr_expect_eq(ploc(p, s->location_id[0])->address, 0x7f00dead);
	cr_expect_eq(ploc(p, s->location_id[0])->mapping_id, 0);
	cr_expect_null(loc_func(p, s->location_id[1]));
	m = pmap(p, ploc(p, s->location_id[1])->mapping_id);
	cr_expect_str_eq(pstr(p, m->filename), "/usr/lib/libfoo.so.1");
	cr_expect_not(m->has_functions);
	/* one location per distinct (mapping, address, function, line) */
	cr_expect_neq(p->sample[0]->location_id[2], p->sample[1]->location_id[2]);
	cr_expect_eq(p->n_location, 9);
	cr_expect_eq(p->n_function, 7);

	/* Python: a function with its file and line, and no machine mapping */
	s = p->sample[3];
	cr_assert_eq(s->n_location_id, 2);
	cr_expect_str_eq(loc_func(p, s->location_id[0]), "PyObject_Malloc");
	l = ploc(p, s->location_id[1]);
	cr_expect_eq(l->mapping_id, 0);
	cr_expect_eq(l->line[0]->line, 7);
	fn = pfunc(p, l->line[0]->function_id);
	cr_expect_str_eq(pstr(p, fn->name), "handler");
	cr_expect_str_eq(pstr(p, fn->filename), "/app/h.py");

	/* every referenced id exists */
	for (i = 0; i < p->n_location; i++)
		if (p->location[i]->mapping_id)
			pmap(p, p->location[i]->mapping_id);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
}

Test(formats, pprof_file_is_gzip_of_the_profile)
{
	uint8_t *raw, *un;
	size_t len, gzlen, unlen;
	char *gz = capture(pprof_w, &model, NULL, &gzlen);

	cr_assert(gzlen > 18 && (uint8_t)gz[0] == 0x1f && (uint8_t)gz[1] == 0x8b, "no gzip magic");
	un = gunzip(gz, gzlen, &unlen);
	cr_assert_eq(report__pprof_encode(&model, &raw, &len), 0);
	cr_assert_eq(unlen, len);
	cr_assert_eq(memcmp(un, raw, len), 0);
	free(raw);
	free(un);
	free(gz);
}

Test(formats, pprof_empty_report)
{
	struct rpt empty = { .mode = "exact" };
	Perftools__Profiles__Profile *p;
	uint8_t *raw;
	size_t len;

	cr_assert_eq(report__pprof_encode(&empty, &raw, &len), 0);
	p = decode(raw, len);
	cr_expect_eq(p->n_sample, 0);
	cr_expect_eq(p->n_sample_type, 4);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
}

/*
 * pprof's own schema, read by protoc (not by our generated code): proves the
 * bytes are a perftools.profiles.Profile to any protobuf implementation.
 */
Test(formats, pprof_decodes_with_protoc)
{
	char raw_path[] = "/tmp/memslope-pprof-XXXXXX", cmd[512], line[256];
	int64_t inuse = 0;
	size_t len, n_samples = 0;
	bool saw_leak_some = false, saw_build_id = false;
	uint8_t *raw;
	FILE *f;
	int fd;

	cr_assert_eq(access("../../proto/profile.proto", R_OK), 0, "run from tests/unit");
	cr_assert_eq(system("command -v protoc >/dev/null"), 0,
		     "protoc is missing: make deps installs protobuf-compiler");
	cr_assert_eq(report__pprof_encode(&model, &raw, &len), 0);
	fd = mkstemp(raw_path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, raw, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "protoc --decode perftools.profiles.Profile -I../../proto ../../proto/profile.proto"
		 " < %s 2>&1", raw_path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	/* text format: "sample {" blocks with "value: N" lines, the inuse value first */
	{
		int in_sample = 0, nval = 0;

		while (fgets(line, sizeof(line), f)) {
			long long v;

			if (!strncmp(line, "sample {", 8)) {
				in_sample = 1;
				nval = 0;
				n_samples++;
			} else if (in_sample && sscanf(line, "  value: %lld", &v) == 1) {
				if (nval++ == 0)
					inuse += v;
			} else if (line[0] == '}') {
				in_sample = 0;
			}
			if (strstr(line, "string_table: \"leak_some\""))
				saw_leak_some = true;
			if (strstr(line, "string_table: \"abcdef01\""))
				saw_build_id = true;
		}
	}
	cr_assert_eq(pclose(f), 0, "protoc could not decode the profile");
	unlink(raw_path);
	free(raw);
	cr_expect_eq(n_samples, 4);
	cr_expect_eq(inuse, 12587520);
	cr_expect(saw_leak_some);
	cr_expect(saw_build_id);
}

/* ------------------------------------------------------------------------ */
/* reading saved reports                                                     */

static struct rpt_doc *parse_ok(const char *s)
{
	struct rpt_doc *d = NULL;
	char err[256];
	int ret = report__parse(s, strlen(s), &d, err, sizeof(err));

	cr_assert_eq(ret, 0, "parse failed (%d): %s", ret, err);
	cr_assert_not_null(d);
	return d;
}

static void parse_fails(const char *s, int want, const char *msg)
{
	struct rpt_doc *d = (void *)1;
	char err[256] = "";
	int ret = report__parse(s, strlen(s), &d, err, sizeof(err));

	cr_expect_eq(ret, want, "on %.60s: got %d (%s), want %d", s, ret, err, want);
	cr_expect_null(d);
	cr_expect(strstr(err, msg), "on %.60s: message '%s' lacks '%s'", s, err, msg);
}

Test(formats, read_round_trips_the_json)
{
	char *a = capture(json_w, &model, NULL, NULL), *b;
	struct rpt_doc *d = parse_ok(a);
	const struct rpt *r = &d->rpt;

	cr_expect_str_eq(d->schema, "memslope.trace/1");
	cr_assert_eq(r->nprocs, 2);
	cr_expect_eq(r->procs[0].pid, 4242);
	cr_expect_str_eq(r->procs[0].comm, "leaky");
	cr_expect_str_eq(r->procs[0].argv[1], "12");
	cr_expect_null(r->procs[0].argv[2]);
	cr_expect_eq(r->procs[0].limit_bytes, 16 * MiB);
	cr_expect(r->procs[0].oom_killed);
	cr_expect_eq(r->procs[0].exit_signal, 9);
	cr_expect_eq(r->procs[0].growth.verdict, GV_LEAK);
	cr_expect_eq(r->procs[0].npoints, 3);
	cr_expect_eq(r->procs[0].series[2].heap_bytes, 12 * MiB);
	cr_assert_eq(r->procs[0].nstacks, 3);
	cr_expect_eq(r->procs[0].stacks[0].frames[1].addr, 0x401136);
	cr_expect_str_eq(r->procs[0].stacks[0].frames[1].build_id, "abcdef01");
	cr_expect_null(r->procs[0].stacks[1].frames[0].func, "\"[unknown]\" reads back as NULL");
	cr_expect_null(r->procs[0].stacks[1].frames[0].module);
	cr_expect_str_eq(r->procs[1].stacks[0].frames[1].lang, "python");
	cr_expect_eq(r->stats.lost_events, 5);
	cr_expect_str_eq(r->oom_kills[0].dump, "/var/lib/memslope/oom/4242.json");

	/* everything the writer wrote, it writes again the same */
	b = capture(json_w, r, NULL, NULL);
	cr_expect_str_eq(b, a);
	free(a);
	free(b);
	rpt_doc__free(d);
}

Test(formats, read_refuses_corrupt_and_foreign_files)
{
	char *good = capture(json_w, &model, NULL, NULL);
	size_t k, cut;

	parse_fails("", -EBADMSG, "empty");
	parse_fails("\x1f\x8b\x08\x00garbage", -EBADMSG, "not JSON");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": [", -EBADMSG, "truncated");
	parse_fails("[1, 2]", -EBADMSG, "not an object");
	parse_fails("{\"processes\": []}", -EBADMSG, "no \"schema\"");
	parse_fails("{\"schema\": \"memslope.alert/1\"}", -EPROTONOSUPPORT, "unsupported schema");
	parse_fails("{\"schema\": \"memslope.trace/2\"}", -EPROTONOSUPPORT, "memslope.trace/1");
	parse_fails("{\"schema\": \"something/else\"}", -EBADMSG, "not a memslope report");
	parse_fails("{\"schema\": \"memslope.trace/1\"}", -EBADMSG, "processes: missing");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": [{}]}", -EBADMSG,
		    "processes[0].pid: missing");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": [{\"pid\": 1, \"stacks\":"
		    " [{\"live_bytes\": \"12\"}]}]}", -EBADMSG,
		    "processes[0].stacks[0].live_bytes: expected an integer, got a string");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": [{\"pid\": 1, \"stacks\":"
		    " [{\"live_bytes\": 1, \"frames\": [{\"addr\": \"12\"}]}]}]}", -EBADMSG,
		    "frames[0].addr: \"12\" is not a hex address");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": [{\"pid\": 1, \"growth\":"
		    " {\"verdict\": \"doomed\"}}]}", -EBADMSG, "unknown verdict");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": []} {}", -EBADMSG,
		    "line 1, column 49");
	parse_fails("{\"schema\": \"memslope.trace/1\", \"processes\": [], \"x\": \"\xff\"}",
		    -EBADMSG, "not JSON");

	/* the good document cut anywhere is refused, never half-read */
	for (k = 1; k < 8; k++) {
		struct rpt_doc *d = NULL;
		char err[256];

		/* the last cut drops only the closing brace and newline */
		cut = k < 7 ? strlen(good) * k / 7 : strlen(good) - 2;
		cr_expect_eq(report__parse(good, cut, &d, err, sizeof(err)), -EBADMSG,
			     "cut at %zu: %s", cut, err);
		cr_expect_null(d);
	}
	free(good);
}

Test(formats, read_files)
{
	char dir[] = "/tmp/memslope-rd-XXXXXX", path[300], err[256];
	struct rpt_doc *d = NULL;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	cr_expect_eq(report__read(path, &d, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "cannot open"), "%s", err);
	cr_expect_eq(report__read(dir, &d, err, sizeof(err)), -EISDIR);

	/* report__save writes whole files that read back */
	snprintf(path, sizeof(path), "%s/r.json", dir);
	cr_assert_eq(report__save(&model, REPORT_FMT_JSON, path), 0);
	cr_assert_eq(report__read(path, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(d->rpt.nprocs, 2);
	rpt_doc__free(d);
	f = fopen(path, "w");
	fputs("{\"schema\": \"memslope.trace/1\"", f);
	fclose(f);
	cr_expect_eq(report__read(path, &d, err, sizeof(err)), -EBADMSG);
	cr_expect(strstr(err, "truncated"), "%s", err);
	unlink(path);
	/* a write that cannot happen leaves no file, not even a temporary one */
	snprintf(path, sizeof(path), "%s/no/such/dir.json", dir);
	cr_expect_eq(report__save(&model, REPORT_FMT_HTML, path), -ENOENT);
	cr_expect_eq(rmdir(dir), 0, "files left behind in %s", dir);
}

static const char oom_doc[] =
	"{ \"schema\": \"memslope.oom/1\", \"memslope_version\": \"0.1.0\","
	"  \"time\": \"2024-05-01T12:00:00Z\", \"host\": \"ci-1\","
	"  \"victim\": { \"pid\": 777, \"comm\": \"hog\", \"argv\": [\"./hog\", \"64M\"], \"uid\": 0 },"
	"  \"trigger\": { \"pid\": 777, \"comm\": \"hog\" }, \"constraint\": \"memcg\","
	"  \"memcg\": { \"path\": \"/ms-test\", \"version\": 2, \"limit_bytes\": 33554432,"
	"              \"usage_bytes\": 33554432, \"failcnt\": null },"
	"  \"series\": [ { \"t\": 0.0, \"rss_bytes\": 1048576, \"heap_bytes\": 0 },"
	"              { \"t\": 1.0, \"rss_bytes\": 20971520, \"heap_bytes\": 19922944 } ],"
	"  \"growth\": { \"verdict\": \"leak\", \"severity\": \"critical\","
	"              \"slope_bytes_per_s\": 19922944.0, \"r2\": 1.0, \"eta_limit_s\": 0.6 },"
	"  \"stacks\": [ { \"live_bytes\": 19922944, \"live_allocs\": 19, \"alloc_bytes\": 19922944,"
	"                \"allocs\": 19, \"frames\": [ { \"func\": \"grab\", \"module\": \"/hog\","
	"                \"file\": \"hog.c\", \"line\": 12, \"lang\": \"c\", \"addr\": \"0x401000\","
	"                \"build_id\": null } ] } ],"
	"  \"last_stack\": null, \"test\": null, \"by_test\": [],"
	"  \"exit\": { \"code\": null, \"signal\": 9, \"oom_killed\": true } }";

Test(formats, read_oom_dump)
{
	struct rpt_doc *d = parse_ok(oom_doc);
	const struct rpt_process *p;
	char *folded;

	cr_expect_str_eq(d->schema, "memslope.oom/1");
	cr_assert_eq(d->rpt.nprocs, 1);
	p = &d->rpt.procs[0];
	cr_expect_eq(p->pid, 777);
	cr_expect_str_eq(p->comm, "hog");
	cr_expect(p->oom_killed);
	cr_expect_eq(p->exit_signal, 9);
	cr_expect_eq(p->limit_bytes, 32 * MiB);
	cr_expect_str_eq(p->cgroup, "/ms-test");
	cr_expect_eq(p->npoints, 2);
	cr_expect_eq(p->rss_bytes, 20 * MiB);
	cr_expect_eq(p->growth.verdict, GV_LEAK);
	cr_expect_eq(d->rpt.noom_kills, 1);
	folded = capture(folded_w, &d->rpt, (void *)1, NULL);
	cr_expect_str_eq(folded, "hog-777;grab 19922944\n");
	free(folded);
	rpt_doc__free(d);

	parse_fails("{\"schema\": \"memslope.oom/1\", \"time\": \"x\"}", -EBADMSG, "victim: missing");
}

/* ------------------------------------------------------------------------ */
/* HTML                                                                      */

/* the JSON the page embeds, parsed back */
static struct json_object *html_data(const char *html)
{
	const char *start = strstr(html, "<script type=\"application/json\" id=\"memslope-data\">");
	const char *end;
	struct json_object *o;
	char *s;

	cr_assert_not_null(start);
	start = strchr(start, '>') + 1;
	end = strstr(start, "</script>");
	cr_assert_not_null(end);
	s = strndup(start, end - start);
	o = json_tokener_parse(s);
	cr_assert_not_null(o, "embedded data is not JSON");
	free(s);
	return o;
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

Test(formats, html_self_contained_with_data)
{
	static struct rpt_frame evil[] = {
		{ .func = "</script><script>alert(1)</script>", .module = "/x" },
	};
	struct rpt_stack st = { .live_bytes = 1, .nframes = 1, .frames = evil };
	struct json_object *d, *p0, *names;
	char *html, *s;
	size_t i, n;
	bool found = false;

	procs[1].stacks = &st;
	html = capture(html_w, &model, NULL, NULL);
	cr_assert(!strncmp(html, "<!DOCTYPE html>", 15));
	/* nothing is fetched: no external scripts, styles, images, fonts or requests */
	cr_expect_null(strstr(html, "<link"));
	cr_expect_null(strstr(html, " src="));
	cr_expect_null(strstr(html, "@import"));
	cr_expect_null(strstr(html, "url("));
	cr_expect_null(strstr(html, "fetch("));
	cr_expect_null(strstr(html, "XMLHttpRequest"));
	for (s = html, n = 0; (s = strstr(s, "://")); s += 3, n++)
		cr_expect(!strncmp(s - 4, "http://www.w3.org/2000/svg", 26),
			  "a URL that is not the SVG namespace: %.40s", s - 8);
	/* a name cannot close the data element */
	for (s = html, n = 0; (s = strstr(s, "</script>")); s++)
		n++;
	cr_expect_eq(n, 2, "</script> from a frame name leaked into the page");

	d = html_data(html);
	names = jget(d, "names");
	for (i = 0; i < json_object_array_length(names); i++) {
		const char *nm = json_object_get_string(json_object_array_get_idx(names, i));

		if (!strcmp(nm, "leak_some"))
			found = true;
	}
	cr_expect(found, "leak_some is not among the names");
	p0 = json_object_array_get_idx(jget(d, "procs"), 0);
	cr_expect_eq(json_object_array_length(jget(jget(p0, "series"), "t")), 3);
	cr_expect_eq(json_object_get_int64(jget(p0, "limit_bytes")), 16 * MiB);
	cr_expect(json_object_get_boolean(jget(p0, "oom_killed")));
	cr_expect_str_eq(json_object_get_string(jget(p0, "verdict")), "leak");
	cr_expect_eq(json_object_array_length(jget(p0, "stacks")), 3);
	cr_expect_eq(json_object_array_length(jget(p0, "by_test")), 2);
	/* a stack's frames, outermost first: main, leak_some, malloc */
	{
		struct json_object *fr = json_object_array_get_idx(
			json_object_array_get_idx(jget(p0, "stacks"), 0), 5);
		struct json_object *frames = jget(d, "frames");
		int64_t f0 = json_object_get_int64(json_object_array_get_idx(fr, 0));
		int64_t name0 = json_object_get_int64(json_object_array_get_idx(
			json_object_array_get_idx(frames, f0), 0));

		cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(names, name0)),
				 "main");
	}
	json_object_put(d);
	free(html);
}
