// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_oomdump.c - memslope.oom/1 dumps: round trip, atomic writes, strict reader errors, list/show text */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json.h>

#include "oomdump.h"

#define MiB (1024ULL * 1024)

/* a known dump: a leaky C program killed in a 64 MiB memcg */
static char *argv_1[] = { "./leaky", "--rate", "4M", NULL };

static struct rpt_frame frames_top[] = {
	{ .addr = 0x7f0000001000, .func = "malloc", .module = "/usr/lib/x86_64-linux-gnu/libc.so.6",
	  .lang = "c" },
	{ .addr = 0x7f0000002000, .func = "_PyObject_Malloc", .module = "/usr/bin/python3.11",
	  .lang = "c", .func_off = 0x20 },
	{ .addr = 0x7f0000003000, .func = "operator new(unsigned long)",
	  .module = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", .lang = "c" },
	{ .addr = 0x401136, .func = "leak_some", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 42, .lang = "c", .func_off = 0x16, .build_id = "abcdef0123" },
	{ .addr = 0x4011a0, .func = "main", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 80, .lang = "c" },
};

static struct rpt_frame frames_2[] = {
	{ .addr = 0x7f00dead },					/* nothing known */
	{ .addr = 0x7f00beef, .module = "/usr/lib/libfoo.so.1", .func = "foo_init",
	  .func_off = 0x1c },
};

static struct rpt_frame frames_last[] = {
	{ .addr = 0x401140, .func = "leak_some", .module = "/src/leaky", .file = "/src/leaky.c",
	  .line = 44, .lang = "c" },
	{ .addr = 0x10, .func = "handler", .module = "/app/h.py", .file = "/app/h.py", .line = 7,
	  .lang = "python" },
};

static struct rpt_stack stacks_1[] = {
	{ .stack_id = 77, .live_bytes = 60 * MiB, .live_allocs = 60, .alloc_bytes = 61 * MiB,
	  .allocs = 61, .growth_bytes = 58 * MiB, .slope_bps = 4.0 * MiB, .nframes = 5,
	  .frames = frames_top },
	{ .stack_id = 78, .live_bytes = 4096, .live_allocs = 2, .alloc_bytes = 8192, .allocs = 4,
	  .growth_bytes = -2048, .nframes = 2, .frames = frames_2 },
};

static struct rpt_point series_1[] = {
	{ .t = 0.0, .rss_bytes = 2 * MiB, .heap_bytes = 0 },
	{ .t = 1.0, .rss_bytes = 6 * MiB, .heap_bytes = 4 * MiB },
	{ .t = 2.5, .rss_bytes = 14 * MiB, .heap_bytes = 12 * MiB },
	{ .t = 7.0, .rss_bytes = 40 * MiB, .heap_bytes = 37 * MiB },
	{ .t = 15.0, .rss_bytes = 63 * MiB, .heap_bytes = 60 * MiB },
};

static struct rpt_test tests_1[] = {
	{ .test = "test_upload", .live_bytes = 60 * MiB },
	{ .test = "test_setup", .live_bytes = 1024 },
};

/* 2024-05-01T12:00:00.250Z */
#define T0_NS (1714564800LL * 1000000000 + 250000000)

static struct oom_dump known;
static char tmpdir[64];

static void build_known(void)
{
	oomdump__init(&known);
	known.time_ns = T0_NS;
	known.mono_ns = 123456789012ULL;
	known.host = "ci-host-3";
	known.victim = (struct oom_victim){
		.pid = 4242, .tid = 4243, .comm = "leaky", .argv = argv_1, .uid = 1000,
		.oom_score_adj = 200, .total_vm_bytes = 80 * MiB, .anon_rss_bytes = 62 * MiB,
		.file_rss_bytes = 1 * MiB, .shmem_rss_bytes = 4096, .pgtables_bytes = 180 * 1024,
		.peak_rss_bytes = 64 * MiB,
	};
	known.trigger = (struct oom_trigger){ .pid = 4250, .comm = "helper" };
	known.constraint = OOM_CONSTRAINT_MEMCG;
	known.memcg = (struct oom_memcg){
		.path = "/memslope-test/oom", .version = 1, .limit_bytes = 64 * MiB,
		.usage_bytes = 64 * MiB - 4096, .failcnt = 1234, .oom_events = OOMDUMP_NONE,
		.oom_kills = 1,
	};
	known.series = series_1;
	known.npoints = 5;
	known.growth = (struct growth){ .verdict = GV_LEAK, .severity = GS_CRITICAL,
					.slope_bps = 4.0 * MiB, .r2 = 0.99, .eta_limit_s = 0.25 };
	known.stacks = stacks_1;
	known.nstacks = 2;
	known.last_stack = frames_last;
	known.nlast = 2;
	known.test = "tests/test_api.py::test_upload";
	known.by_test = tests_1;
	known.ntests = 2;
	known.exit = (struct oom_exit){ .known = true, .signal = 9, .oom_killed = true };

	strcpy(tmpdir, "/tmp/ms-oomdump-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	chmod(p, 0700);
	return remove(p);
}

static void cleanup(void)
{
	chmod(tmpdir, 0700);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(oomdump, .init = build_known, .fini = cleanup);

static char *sub(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ % 4];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

/* entries of dir, joined with ' ', sorted */
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dir_list(const char *dir)
{
	static char out[4096];
	char *names[64];
	struct dirent *de;
	size_t n = 0, i;
	DIR *dp = opendir(dir);

	cr_assert_not_null(dp, "%s: %s", dir, strerror(errno));
	while ((de = readdir(dp)) && n < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(dp);
	qsort(names, n, sizeof(*names), cmpstr);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(out, i ? " " : "");
		strcat(out, names[i]);
		free(names[i]);
	}
	return out;
}

static void write_file(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static char *show_text(const struct oom_dump *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(oomdump__print_show(d, "/x/oom-a.json", f), 0);
	fclose(f);
	return buf;
}

/* ---------------------------------------------------------------------- */
/* writer and round trip                                                   */

static void frame_eq(const struct rpt_frame *a, const struct rpt_frame *b, const char *what)
{
	cr_expect_eq(a->addr, b->addr, "%s addr", what);
	cr_expect_str_eq(a->func ? a->func : "(null)", b->func ? b->func : "(null)", "%s", what);
	cr_expect_str_eq(a->module ? a->module : "(null)", b->module ? b->module : "(null)");
	cr_expect_str_eq(a->file ? a->file : "(null)", b->file ? b->file : "(null)");
	cr_expect_eq(a->line, b->line, "%s line", what);
	cr_expect_str_eq(a->lang ? a->lang : "c", b->lang ? b->lang : "c");
	cr_expect_eq(a->func_off, b->func_off, "%s func_off", what);
	cr_expect_str_eq(a->build_id ? a->build_id : "(null)", b->build_id ? b->build_id : "(null)");
}

Test(oomdump, round_trip_field_by_field)
{
	char path[512], err[256];
	struct oom_dump *d = NULL;
	size_t i, j;

	cr_assert_eq(oomdump__write(&known, tmpdir, path, sizeof(path)), 0);
	cr_assert_str_eq(path, sub("oom-20240501T120000Z-4242.json"));
	cr_assert_eq(oomdump__read(path, &d, err, sizeof(err)), 0, "%s", err);

	cr_expect_eq(d->time_ns, T0_NS);
	cr_expect_eq(d->mono_ns, known.mono_ns);
	cr_expect_str_eq(d->host, "ci-host-3");
	cr_expect_eq(d->victim.pid, 4242);
	cr_expect_eq(d->victim.tid, 4243);
	cr_expect_str_eq(d->victim.comm, "leaky");
	cr_assert_not_null(d->victim.argv);
	for (i = 0; argv_1[i]; i++)
		cr_expect_str_eq(d->victim.argv[i], argv_1[i]);
	cr_expect_null(d->victim.argv[i]);
	cr_expect_eq(d->victim.uid, 1000);
	cr_expect_eq(d->victim.oom_score_adj, 200);
	cr_expect_eq(d->victim.total_vm_bytes, 80 * MiB);
	cr_expect_eq(d->victim.anon_rss_bytes, 62 * MiB);
	cr_expect_eq(d->victim.file_rss_bytes, 1 * MiB);
	cr_expect_eq(d->victim.shmem_rss_bytes, 4096);
	cr_expect_eq(d->victim.pgtables_bytes, 180 * 1024);
	cr_expect_eq(d->victim.peak_rss_bytes, 64 * MiB);
	cr_expect_eq(d->trigger.pid, 4250);
	cr_expect_str_eq(d->trigger.comm, "helper");
	cr_expect_eq(d->constraint, OOM_CONSTRAINT_MEMCG);
	cr_expect_str_eq(d->memcg.path, "/memslope-test/oom");
	cr_expect_eq(d->memcg.version, 1);
	cr_expect_eq(d->memcg.limit_bytes, 64 * MiB);
	cr_expect_eq(d->memcg.usage_bytes, 64 * MiB - 4096);
	cr_expect_eq(d->memcg.failcnt, 1234);
	cr_expect_eq(d->memcg.oom_events, OOMDUMP_NONE);
	cr_expect_eq(d->memcg.oom_kills, 1);

	cr_assert_eq(d->npoints, 5);
	for (i = 0; i < 5; i++) {
		cr_expect_eq(d->series[i].t, series_1[i].t);
		cr_expect_eq(d->series[i].rss_bytes, series_1[i].rss_bytes);
		cr_expect_eq(d->series[i].heap_bytes, series_1[i].heap_bytes);
	}
	cr_expect_eq(d->growth.verdict, GV_LEAK);
	cr_expect_eq(d->growth.severity, GS_CRITICAL);
	cr_expect_eq(d->growth.slope_bps, 4.0 * MiB);
	cr_expect_eq(d->growth.r2, 0.99);
	cr_expect_eq(d->growth.eta_limit_s, 0.25);

	cr_assert_eq(d->nstacks, 2);
	for (i = 0; i < 2; i++) {
		const struct rpt_stack *a = &d->stacks[i], *b = &stacks_1[i];

		cr_expect_eq(a->stack_id, b->stack_id);
		cr_expect_eq(a->live_bytes, b->live_bytes);
		cr_expect_eq(a->live_allocs, b->live_allocs);
		cr_expect_eq(a->alloc_bytes, b->alloc_bytes);
		cr_expect_eq(a->allocs, b->allocs);
		cr_expect_eq(a->growth_bytes, b->growth_bytes);
		cr_expect_eq(a->slope_bps, b->slope_bps);
		cr_assert_eq(a->nframes, b->nframes);
		for (j = 0; j < a->nframes; j++)
			frame_eq(&a->frames[j], &b->frames[j], "stack frame");
	}
	cr_assert_eq(d->nlast, 2);
	for (j = 0; j < 2; j++)
		frame_eq(&d->last_stack[j], &frames_last[j], "last frame");
	cr_expect_str_eq(d->test, "tests/test_api.py::test_upload");
	cr_assert_eq(d->ntests, 2);
	cr_expect_str_eq(d->by_test[0].test, "test_upload");
	cr_expect_eq(d->by_test[0].live_bytes, (int64_t)(60 * MiB));
	cr_expect(d->exit.known);
	cr_expect_eq(d->exit.signal, 9);
	cr_expect(d->exit.oom_killed);
	oomdump__free(d);
}

Test(oomdump, unknowns_round_trip_as_null)
{
	struct oom_dump m, *d = NULL;
	struct json_object *doc, *v, *o;
	char path[512], err[256], *s;

	oomdump__init(&m);
	m.victim.pid = 7;
	strcpy(m.victim.comm, "x");
	m.time_ns = T0_NS;
	s = oomdump__to_json(&m);
	cr_assert_not_null(s);
	doc = json_tokener_parse(s);
	cr_assert_not_null(doc, "%s", s);
	cr_assert(json_object_object_get_ex(doc, "victim", &o));
	cr_assert(json_object_object_get_ex(o, "argv", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(o, "uid", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(o, "peak_rss_bytes", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(doc, "trigger", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(doc, "constraint", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(doc, "last_stack", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(doc, "exit", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(doc, "growth", &o));
	cr_assert(json_object_object_get_ex(o, "verdict", &v));
	cr_expect_str_eq(json_object_get_string(v), "insufficient-data");
	json_object_put(doc);
	free(s);

	cr_assert_eq(oomdump__write(&m, tmpdir, path, sizeof(path)), 0);
	cr_assert_eq(oomdump__read(path, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_null(d->victim.argv);
	cr_expect_eq(d->victim.uid, -1);
	cr_expect_eq(d->victim.peak_rss_bytes, OOMDUMP_NONE);
	cr_expect_eq(d->trigger.pid, 0);
	cr_expect_eq(d->constraint, OOM_CONSTRAINT_UNKNOWN);
	cr_expect_null(d->memcg.path);
	cr_expect_eq(d->memcg.limit_bytes, OOMDUMP_NONE);
	cr_expect_eq(d->nlast, 0);
	cr_expect_not(d->exit.known);
	cr_expect_eq(d->growth.eta_limit_s, -1);
	/* the writer named the host itself */
	cr_expect_not_null(d->host);
	oomdump__free(d);
}

Test(oomdump, shapes_match_trace_schema)
{
	char *s = oomdump__to_json(&known);
	struct json_object *doc = json_tokener_parse(s), *st, *fr, *v;
	static const char *const stack_keys[] = { "live_bytes", "live_allocs", "alloc_bytes",
						  "allocs", "frames" };
	static const char *const frame_keys[] = { "func", "module", "file", "line", "lang", "addr" };
	size_t i;

	cr_assert_not_null(doc);
	cr_assert(json_object_object_get_ex(doc, "schema", &v));
	cr_expect_str_eq(json_object_get_string(v), "memslope.oom/1");
	cr_assert(json_object_object_get_ex(doc, "time", &v));
	cr_expect_str_eq(json_object_get_string(v), "2024-05-01T12:00:00.250Z");
	cr_assert(json_object_object_get_ex(doc, "stacks", &st));
	st = json_object_array_get_idx(st, 0);
	for (i = 0; i < sizeof(stack_keys) / sizeof(*stack_keys); i++)
		cr_expect(json_object_object_get_ex(st, stack_keys[i], NULL), "%s", stack_keys[i]);
	cr_assert(json_object_object_get_ex(st, "frames", &fr));
	fr = json_object_array_get_idx(fr, 3);
	for (i = 0; i < sizeof(frame_keys) / sizeof(*frame_keys); i++)
		cr_expect(json_object_object_get_ex(fr, frame_keys[i], NULL), "%s", frame_keys[i]);
	cr_assert(json_object_object_get_ex(fr, "addr", &v));
	cr_expect_str_eq(json_object_get_string(v), "0x401136");
	/* unknown func/module are the string "[unknown]", as in memslope.trace/1 */
	cr_assert(json_object_object_get_ex(doc, "stacks", &st));
	st = json_object_array_get_idx(st, 1);
	json_object_object_get_ex(st, "frames", &fr);
	json_object_object_get_ex(json_object_array_get_idx(fr, 0), "func", &v);
	cr_expect_str_eq(json_object_get_string(v), "[unknown]");
	cr_assert(json_object_object_get_ex(doc, "last_stack", &st));
	cr_expect(json_object_object_get_ex(st, "frames", NULL));
	json_object_put(doc);
	free(s);
}

Test(oomdump, modes_0600_in_0700_and_no_temp_left)
{
	char path[512];
	struct stat st;
	const char *dir = sub("a/b/oom");

	umask(022);
	cr_assert_eq(oomdump__write(&known, dir, path, sizeof(path)), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "file mode %o", st.st_mode & 07777);
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700, "dir mode %o", st.st_mode & 07777);
	cr_assert_eq(stat(sub("a"), &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700, "parent mode %o", st.st_mode & 07777);
	cr_expect_str_eq(dir_list(dir), "oom-20240501T120000Z-4242.json");
}

Test(oomdump, umask_cannot_loosen_or_break_the_modes)
{
	char path[512];
	struct stat st;

	umask(0277);	/* would make the dir 0500 and the file 0400 */
	cr_assert_eq(oomdump__write(&known, sub("u"), path, sizeof(path)), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(stat(sub("u"), &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700);
	umask(022);
}

Test(oomdump, existing_dir_is_tightened_to_0700)
{
	char path[512];
	struct stat st;

	cr_assert_eq(mkdir(sub("loose"), 0755), 0);
	cr_assert_eq(chmod(sub("loose"), 0755), 0);
	cr_assert_eq(oomdump__write(&known, sub("loose"), path, sizeof(path)), 0);
	cr_assert_eq(stat(sub("loose"), &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700);
}

Test(oomdump, writable_by_others_dir_is_refused)
{
	char path[512] = "";

	cr_assert_eq(mkdir(sub("shared"), 0700), 0);
	cr_assert_eq(chmod(sub("shared"), 0770), 0);
	cr_expect_eq(oomdump__write(&known, sub("shared"), path, sizeof(path)), -EPERM);
	cr_assert_eq(chmod(sub("shared"), 01777), 0);
	cr_expect_eq(oomdump__write(&known, sub("shared"), path, sizeof(path)), -EPERM);
	cr_expect_str_eq(dir_list(sub("shared")), "");
	cr_expect_str_eq(path, "");
}

Test(oomdump, dir_that_is_a_file)
{
	char path[512];

	write_file(sub("plain"), "x", 1);
	cr_expect_eq(oomdump__write(&known, sub("plain"), path, sizeof(path)), -ENOTDIR);
	cr_expect_eq(oomdump__write(&known, sub("plain/oom"), path, sizeof(path)), -ENOTDIR);
}

Test(oomdump, same_pid_same_second_distinct_names)
{
	char p1[512], p2[512], p3[512], err[256];
	struct oom_dump *d;

	known.time_ns = T0_NS;
	cr_assert_eq(oomdump__write(&known, tmpdir, p1, sizeof(p1)), 0);
	known.time_ns = T0_NS + 500000000;	/* same second */
	known.victim.oom_score_adj = 1;
	cr_assert_eq(oomdump__write(&known, tmpdir, p2, sizeof(p2)), 0);
	cr_assert_eq(oomdump__write(&known, tmpdir, p3, sizeof(p3)), 0);
	cr_expect_str_neq(p1, p2);
	cr_expect_str_eq(dir_list(tmpdir), "oom-20240501T120000Z-4242-2.json "
			 "oom-20240501T120000Z-4242-3.json oom-20240501T120000Z-4242.json");
	/* the first one was not overwritten */
	cr_assert_eq(oomdump__read(p1, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(d->victim.oom_score_adj, 200);
	oomdump__free(d);
	cr_assert_eq(oomdump__read(p2, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(d->victim.oom_score_adj, 1);
	oomdump__free(d);
}

Test(oomdump, failure_mid_write_leaves_nothing)
{
	struct rlimit old, lim;
	char path[512] = "";

	/* a write that fails half way (EFBIG here, ENOSPC or EIO in life), even for root */
	cr_assert_eq(mkdir(sub("full"), 0700), 0);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_expect_eq(oomdump__write(&known, sub("full"), path, sizeof(path)), -EFBIG);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	cr_expect_str_eq(dir_list(sub("full")), "", "left behind: %s", dir_list(sub("full")));
	cr_expect_str_eq(path, "");
	/* and the next write works */
	cr_expect_eq(oomdump__write(&known, sub("full"), path, sizeof(path)), 0);
	cr_expect_str_eq(dir_list(sub("full")), "oom-20240501T120000Z-4242.json");
}

Test(oomdump, path_out_too_small_leaves_nothing)
{
	char path[16];

	cr_expect_eq(oomdump__write(&known, tmpdir, path, sizeof(path)), -ENAMETOOLONG);
	cr_expect_str_eq(dir_list(tmpdir), "");
}

Test(oomdump, bad_arguments)
{
	struct oom_dump m;

	oomdump__init(&m);
	cr_expect_eq(oomdump__write(NULL, tmpdir, NULL, 0), -EINVAL);
	cr_expect_eq(oomdump__write(&known, NULL, NULL, 0), -EINVAL);
	cr_expect_eq(oomdump__write(&m, tmpdir, NULL, 0), -EINVAL);	/* pid 0 */
	cr_expect_null(oomdump__to_json(NULL));
	oomdump__free(NULL);
	cr_expect_str_eq(dir_list(tmpdir), "");
}

Test(oomdump, bytes_that_are_not_utf8_still_parse)
{
	static char *bad_argv[] = { "./x\xff\xfe", "\x1b[31mred", NULL };
	char path[512], err[256], *text;
	struct oom_dump *d;

	memcpy(known.victim.comm, "ab\xc3\x28\x1b[2J", 9);
	known.victim.argv = bad_argv;
	cr_assert_eq(oomdump__write(&known, tmpdir, path, sizeof(path)), 0);
	cr_assert_eq(oomdump__read(path, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(d->victim.argv[0], "./x\xef\xbf\xbd\xef\xbf\xbd");
	/* shown, control characters cannot reach the terminal */
	text = show_text(d);
	cr_expect_null(strchr(text, '\x1b'), "%s", text);
	free(text);
	oomdump__free(d);
}

Test(oomdump, default_dir_env)
{
	unsetenv(OOMDUMP_DIR_ENV);
	cr_expect_str_eq(oomdump__default_dir(), "/var/lib/memslope/oom");
	setenv(OOMDUMP_DIR_ENV, "", 1);
	cr_expect_str_eq(oomdump__default_dir(), "/var/lib/memslope/oom");
	setenv(OOMDUMP_DIR_ENV, "/tmp/x", 1);
	cr_expect_str_eq(oomdump__default_dir(), "/tmp/x");
}

/* ---------------------------------------------------------------------- */
/* reader errors                                                           */

static int parse_err(const char *doc, size_t len, char *err, size_t errlen)
{
	struct oom_dump *d = (void *)1;
	int rc = oomdump__parse(doc, len, &d, err, errlen);

	if (rc)
		cr_expect_null(d);
	else
		oomdump__free(d);
	return rc;
}

static char *known_json(void)
{
	char *s = oomdump__to_json(&known);

	cr_assert_not_null(s);
	return s;
}

Test(oomdump, truncated_at_every_length)
{
	char *s = known_json(), err[256];
	size_t len = strlen(s), cut;

	/* the last byte is the newline: the document itself is complete without it */
	for (cut = 0; cut + 1 < len; cut++) {
		err[0] = '\0';
		cr_assert_eq(parse_err(s, cut, err, sizeof(err)), -EBADMSG, "cut at %zu", cut);
		cr_assert_neq(err[0], '\0', "no message at cut %zu", cut);
		cr_assert_null(strchr(err, '\n'), "%s", err);
	}
	parse_err(s, len / 2, err, sizeof(err));
	cr_expect(strstr(err, "truncated"), "%s", err);
	parse_err(s, len - 2, err, sizeof(err));
	cr_expect(strstr(err, "truncated"), "%s", err);
	cr_expect_eq(parse_err(s, len, err, sizeof(err)), 0, "%s", err);
	free(s);
}

Test(oomdump, truncated_file_on_disk)
{
	char path[512], err[256], *s = known_json();
	struct oom_dump *d;

	write_file(sub("cut.json"), s, strlen(s) / 3);
	cr_expect_eq(oomdump__read(sub("cut.json"), &d, err, sizeof(err)), -EBADMSG);
	cr_expect_null(d);
	cr_expect(strstr(err, "truncated"), "%s", err);
	(void)path;
	free(s);
}

struct bad_case {
	const char *name;
	const char *doc;
	const char *want;	/* substring of the message */
};

#define DOC(v) "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":" v "}"

static const struct bad_case bad_cases[] = {
	{ "empty", "", "empty file" },
	{ "spaces", " \n\t ", "empty file (only whitespace)" },
	{ "text", "hello, world\n", "not JSON: a dump starts with '{', this file with 'h'" },
	{ "binary", "\x7f" "ELF\x02\x01\x01\x00\x00", "not JSON: binary data" },
	{ "bad json", "{\"schema\": memslope}", "not valid JSON" },
	{ "trailing", DOC("{\"pid\":1,\"comm\":\"a\"}") " {}", "data after the document" },
	{ "array", "[1, 2, 3]", "the JSON document is an array, not an object" },
	{ "no schema", "{\"a\": 1}", "no \"schema\" field" },
	{ "schema type", "{\"schema\": 1}", "schema: expected a string, got an integer" },
	{ "trace doc", "{\"schema\": \"memslope.trace/1\", \"processes\": []}",
	  "not an OOM dump: schema \"memslope.trace/1\" (expected memslope.oom/1)" },
	{ "alert doc", "{\"ts\": \"x\", \"event\": \"oom_kill\"}", "no \"schema\" field" },
	{ "future", "{\"schema\": \"memslope.oom/2\"}", "unsupported dump version" },
	{ "no time", "{\"schema\":\"memslope.oom/1\",\"victim\":{\"pid\":1,\"comm\":\"a\"}}",
	  "time: missing" },
	{ "bad time", "{\"schema\":\"memslope.oom/1\",\"time\":\"yesterday\"}",
	  "time: not an ISO-8601 UTC time" },
	{ "no victim", "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\"}",
	  "victim: missing" },
	{ "pid type", DOC("{\"pid\":\"4242\",\"comm\":\"a\"}"),
	  "victim.pid: expected an integer, got a string" },
	{ "pid float", DOC("{\"pid\":4242.5,\"comm\":\"a\"}"),
	  "victim.pid: expected an integer, got a fractional number" },
	{ "pid range", DOC("{\"pid\":-3,\"comm\":\"a\"}"), "victim.pid: out of range (-3)" },
	{ "comm null", DOC("{\"pid\":3,\"comm\":null}"), "victim.comm: expected a string, got null" },
	{ "argv item", DOC("{\"pid\":3,\"comm\":\"a\",\"argv\":[\"a\",7]}"),
	  "victim.argv[1]: expected a string, got an integer" },
	{ "rss neg", DOC("{\"pid\":3,\"comm\":\"a\",\"anon_rss_bytes\":-1}"),
	  "victim.anon_rss_bytes: expected a non-negative integer, got -1" },
	{ "series item",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"series\":[{\"t\":0,\"rss_bytes\":1},{\"t\":\"1\"}]}",
	  "series[1].t: expected a number, got a string" },
	{ "frame line",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"stacks\":[{\"live_bytes\":1,\"frames\":[{\"func\":\"f\"},"
	  "{\"func\":\"g\",\"line\":\"x\"}]}]}",
	  "stacks[0].frames[1].line: expected an integer, got a string" },
	{ "frame addr",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"last_stack\":{\"frames\":[{\"addr\":\"12\"}]}}",
	  "last_stack.frames[0].addr: expected a hex address" },
	{ "stacks type",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"stacks\":{}}", "stacks: expected an array, got an object" },
	{ "verdict",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"growth\":{\"verdict\":\"boom\"}}", "growth.verdict: unknown verdict" },
	{ "constraint",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"constraint\":\"cpuset\"}", "constraint: expected \"memcg\" or" },
	{ "memcg limit",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"memcg\":{\"limit_bytes\":\"64M\"}}",
	  "memcg.limit_bytes: expected an integer, got a string" },
	{ "exit type",
	  "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00Z\",\"victim\":{\"pid\":1,"
	  "\"comm\":\"a\"},\"exit\":{\"code\":null,\"signal\":9,\"oom_killed\":\"yes\"}}",
	  "exit.oom_killed: expected a boolean, got a string" },
	{ "bad utf8", "{\"schema\":\"memslope.oom/1\",\"x\":\"\xff\xfe\"}", "not valid JSON" },
	{ "deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
	  "]]]]]]]]]]]]]]]]]]]]]]]]]", "not valid JSON" },
};

Test(oomdump, reader_errors_are_clear_and_distinct)
{
	char err[sizeof(bad_cases) / sizeof(*bad_cases)][256];
	size_t i, j, n = sizeof(bad_cases) / sizeof(*bad_cases);

	for (i = 0; i < n; i++) {
		const struct bad_case *c = &bad_cases[i];

		cr_expect_eq(parse_err(c->doc, strlen(c->doc) + (c->doc[0] == '\x7f' ? 8 : 0),
				       err[i], sizeof(err[i])), -EBADMSG, "%s", c->name);
		cr_expect(strstr(err[i], c->want), "%s: got \"%s\", want \"%s\"", c->name, err[i],
			  c->want);
		cr_expect_null(strchr(err[i], '\n'), "%s", c->name);
	}
	/* every message tells its case apart, except cases that are the same mistake */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(bad_cases[i].want, bad_cases[j].want))
				cr_expect_str_neq(err[i], err[j], "%s vs %s", bad_cases[i].name,
						  bad_cases[j].name);
}

Test(oomdump, minimal_and_extra_fields_are_fine)
{
	char err[256];
	struct oom_dump *d;
	const char *doc = "{\"schema\":\"memslope.oom/1\",\"time\":\"2024-05-01T12:00:00.5Z\","
			  "\"victim\":{\"pid\":9,\"comm\":\"averyveryverylongname\"},"
			  "\"future_field\":{\"x\":[1,2]}}";

	cr_assert_eq(oomdump__parse(doc, strlen(doc), &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(d->victim.pid, 9);
	cr_expect_eq(strnlen(d->victim.comm, 16), 15);
	cr_expect_eq(d->time_ns, 1714564800LL * 1000000000 + 500000000);
	cr_expect_eq(d->nstacks, 0);
	cr_expect_null(oomdump__culprit_frame(d));
	oomdump__free(d);
}

Test(oomdump, read_files_that_are_not_dumps)
{
	char err[256];
	struct oom_dump *d;

	cr_expect_eq(oomdump__read(sub("nope.json"), &d, err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, "No such file or directory");
	cr_expect_eq(oomdump__read(tmpdir, &d, err, sizeof(err)), -EISDIR);
	cr_expect_str_eq(err, "is a directory, not a dump");
	write_file(sub("empty.json"), "", 0);
	cr_expect_eq(oomdump__read(sub("empty.json"), &d, err, sizeof(err)), -EBADMSG);
	cr_expect_str_eq(err, "empty file");
	cr_assert_eq(mkfifo(sub("fifo.json"), 0600), 0);
	cr_expect_eq(oomdump__read(sub("fifo.json"), &d, err, sizeof(err)), -EBADMSG);
	cr_expect_str_eq(err, "not a regular file");
	cr_expect_eq(oomdump__read("/dev/null", &d, err, sizeof(err)), -EBADMSG);
	cr_expect_eq(oomdump__read(sub("x"), NULL, err, sizeof(err)), -EINVAL);
}

/* ---------------------------------------------------------------------- */
/* finding dumps                                                           */

Test(oomdump, scan_sorts_by_time_and_keeps_bad_files)
{
	struct oomdump_entry *e;
	size_t n;

	known.time_ns = T0_NS + 3600LL * 1000000000;
	cr_assert_eq(oomdump__write(&known, tmpdir, NULL, 0), 0);
	known.time_ns = T0_NS;
	known.victim.pid = 17;
	cr_assert_eq(oomdump__write(&known, tmpdir, NULL, 0), 0);
	write_file(sub("oom-20240501T123000Z-99.json"), "{\"schema\": \"mem", 15);
	write_file(sub(".oom-1-2-3.tmp"), "x", 1);
	write_file(sub("notes.txt"), "x", 1);

	cr_assert_eq(oomdump__scan(tmpdir, &e, &n), 0);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(e[0].name, "oom-20240501T120000Z-17.json");
	cr_expect_str_eq(e[1].name, "oom-20240501T123000Z-99.json");
	cr_expect_null(e[1].dump);
	cr_expect_eq(e[1].error, -EBADMSG);
	cr_expect(strstr(e[1].err, "truncated"), "%s", e[1].err);
	cr_expect_str_eq(e[2].name, "oom-20240501T130000Z-4242.json");
	cr_expect_eq(e[2].dump->victim.pid, 4242);
	oomdump__scan_free(e, n);

	cr_expect_eq(oomdump__scan(sub("missing"), &e, &n), -ENOENT);
	cr_expect_eq(n, 0);
}

Test(oomdump, resolve_name_prefix_pid)
{
	char path[512], err[512];

	cr_assert_eq(oomdump__write(&known, tmpdir, NULL, 0), 0);
	known.time_ns += 1000000000LL * 86400;
	cr_assert_eq(oomdump__write(&known, tmpdir, NULL, 0), 0);
	known.victim.pid = 77;
	cr_assert_eq(oomdump__write(&known, tmpdir, NULL, 0), 0);

	cr_expect_eq(oomdump__resolve(tmpdir, "oom-20240501T120000Z-4242.json", path, sizeof(path),
				      err, sizeof(err)), 0);
	cr_expect_str_eq(path, sub("oom-20240501T120000Z-4242.json"));
	cr_expect_eq(oomdump__resolve(tmpdir, "oom-20240501T120000Z-4242", path, sizeof(path), err,
				      sizeof(err)), 0);
	cr_expect_str_eq(path, sub("oom-20240501T120000Z-4242.json"));
	cr_expect_eq(oomdump__resolve(tmpdir, "20240502T120000Z-77", path, sizeof(path), err,
				      sizeof(err)), 0);
	cr_expect_str_eq(path, sub("oom-20240502T120000Z-77.json"));
	cr_expect_eq(oomdump__resolve(tmpdir, "77", path, sizeof(path), err, sizeof(err)), 0);
	cr_expect_str_eq(path, sub("oom-20240502T120000Z-77.json"));

	cr_expect_eq(oomdump__resolve(tmpdir, "4242", path, sizeof(path), err, sizeof(err)),
		     -ENOTUNIQ);
	cr_expect(strstr(err, "ambiguous") && strstr(err, "oom-20240501T120000Z-4242.json"), "%s",
		  err);
	cr_expect_eq(oomdump__resolve(tmpdir, "oom-2024", path, sizeof(path), err, sizeof(err)),
		     -ENOTUNIQ);
	cr_expect_eq(oomdump__resolve(tmpdir, "555", path, sizeof(path), err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "no dump matches '555'"), "%s", err);
	cr_expect_eq(oomdump__resolve(tmpdir, "./some/file.json", path, sizeof(path), err,
				      sizeof(err)), 0);
	cr_expect_str_eq(path, "./some/file.json");
	cr_expect_eq(oomdump__resolve(sub("missing"), "4242", path, sizeof(path), err, sizeof(err)),
		     -ENOENT);
}

/* ---------------------------------------------------------------------- */
/* text                                                                    */

Test(oomdump, alloc_frames)
{
	static const char *const alloc[] = { "malloc", "calloc", "realloc", "operator new(unsigned long)",
					     "operator new[](unsigned long)", "_Znwm", "_PyObject_Malloc",
					     "PyMem_Malloc", "__libc_malloc", "_int_malloc.constprop.0",
					     "malloc@plt", "pymalloc_alloc" };
	static const char *const user[] = { "leak_some", "malloc_wrapper", "main", "my_calloc",
					    "operator delete(void*)" };
	struct rpt_frame fr = { .lang = "c" };
	size_t i;

	for (i = 0; i < sizeof(alloc) / sizeof(*alloc); i++) {
		fr.func = alloc[i];
		cr_expect(oomdump__is_alloc_frame(&fr), "%s", alloc[i]);
	}
	for (i = 0; i < sizeof(user) / sizeof(*user); i++) {
		fr.func = user[i];
		cr_expect_not(oomdump__is_alloc_frame(&fr), "%s", user[i]);
	}
	fr.func = "malloc";
	fr.lang = "python";	/* a Python function named malloc is user code */
	cr_expect_not(oomdump__is_alloc_frame(&fr));
}

Test(oomdump, culprit_skips_allocators)
{
	const struct rpt_frame *fr = oomdump__culprit_frame(&known);
	char buf[128];

	cr_assert_not_null(fr);
	cr_expect_str_eq(fr->func, "leak_some");
	cr_expect_str_eq(oomdump__fmt_frame(buf, sizeof(buf), fr), "leak_some (leaky.c:42)");
	cr_expect_str_eq(oomdump__fmt_frame(buf, sizeof(buf), &frames_2[1]),
			 "foo_init+0x1c (libfoo.so.1)");
	cr_expect_str_eq(oomdump__fmt_frame(buf, sizeof(buf), &frames_2[0]), "0x7f00dead");

	/* a stack of allocators only: its last frame */
	known.stacks[0].nframes = 2;
	fr = oomdump__culprit_frame(&known);
	cr_expect_str_eq(fr->func, "_PyObject_Malloc");
	known.stacks[0].nframes = 5;
}

Test(oomdump, list_row)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(oomdump__print_list_header(f), 0);
	cr_assert_eq(oomdump__print_list_row(&known, f), 0);
	fclose(f);
	cr_expect(strstr(buf, "TIME (UTC)") && strstr(buf, "CULPRIT"), "%s", buf);
	cr_expect(strstr(buf, "2024-05-01 12:00:00    4242 leaky"), "%s", buf);
	cr_expect(strstr(buf, "/memslope-test/oom"), "%s", buf);
	cr_expect(strstr(buf, "63.0 MiB  leak_some (leaky.c:42)"), "%s", buf);
	cr_expect_null(strstr(buf, "malloc"), "%s", buf);
	free(buf);
}

/* number of UTF-8 characters */
static size_t u8len(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

Test(oomdump, chart_has_rows_and_columns)
{
	char *buf = NULL, *p, *nl;
	size_t len = 0, rows = 0;
	FILE *f = open_memstream(&buf, &len);
	bool limit_row = false, top_full = false;

	cr_assert_eq(oomdump__print_chart(&known, 40, 8, f), 0);
	fclose(f);
	for (p = buf; (nl = strchr(p, '\n')) && rows < 8; p = nl + 1, rows++) {
		char row[1024];
		const char *axis;
		size_t cells;

		snprintf(row, sizeof(row), "%.*s", (int)(nl - p), p);
		axis = strstr(row, "┤") ? strstr(row, "┤") : strstr(row, "│");
		cr_assert_not_null(axis, "row %zu: %s", rows, row);
		cr_expect_eq(u8len(row, (size_t)(axis - row)), 10, "label width, row %zu", rows);
		axis += strlen("│");
		cells = u8len(axis, strlen(axis));
		if (strstr(axis, " limit")) {
			limit_row = true;
			cells -= strlen(" limit");
		}
		cr_expect_eq(cells, 40, "row %zu has %zu cells: %.*s", rows, cells, (int)(nl - p), p);
		if (rows == 0 && strstr(p, "64.0 MiB"))
			top_full = true;
	}
	cr_expect_eq(rows, 8);
	cr_expect(limit_row, "%s", buf);
	cr_expect(top_full, "the limit sets the top: %s", buf);
	cr_expect(strstr(p, "└"), "%s", buf);
	cr_expect(strstr(buf, "15.0 s"), "%s", buf);
	cr_expect(strstr(buf, "█ heap") && strstr(buf, "▒ RSS"), "%s", buf);
	/* the heap reached 60 MiB of 64 at the end: the last column is heap to the top row */
	p = strstr(buf, "┤");
	nl = strchr(p, '\n');
	cr_expect(strstr(p, "█─") == NULL || strstr(p, "█") < nl, "%s", buf);
	free(buf);
}

Test(oomdump, chart_without_series)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	known.npoints = 0;
	cr_assert_eq(oomdump__print_chart(&known, 40, 8, f), 0);
	fclose(f);
	cr_expect(strstr(buf, "no memory history"), "%s", buf);
	free(buf);
	cr_expect_eq(oomdump__print_chart(&known, 1, 8, stdout), -EINVAL);
}

Test(oomdump, show_is_a_post_mortem)
{
	char *text = show_text(&known);

	cr_expect(strstr(text, "OOM kill of pid 4242 (leaky) at 2024-05-01 12:00:00 UTC on ci-host-3"),
		  "%s", text);
	cr_expect(strstr(text, "command    ./leaky --rate 4M"), "%s", text);
	cr_expect(strstr(text, "pid 4242 (thread 4243), uid 1000, oom_score_adj 200"), "%s", text);
	cr_expect(strstr(text, "RSS 63.0 MiB (anon 62.0 MiB, file 1.0 MiB, shmem 4.0 KiB), peak 64.0 MiB"),
		  "%s", text);
	cr_expect(strstr(text, "pid 4250 (helper), another process"), "%s", text);
	cr_expect(strstr(text, "memcg (a memory cgroup hit its limit)"), "%s", text);
	cr_expect(strstr(text, "/memslope-test/oom (v1)"), "%s", text);
	cr_expect(strstr(text, "limit 64.0 MiB, usage 64.0 MiB, failcnt 1234, 1 OOM kill"), "%s", text);
	cr_expect(strstr(text, "killed by SIGKILL (OOM)"), "%s", text);
	cr_expect(strstr(text, "tests/test_api.py::test_upload"), "%s", text);
	cr_expect(strstr(text, "Memory history (5 samples over 15.0 s)"), "%s", text);
	cr_expect(strstr(text, "Verdict: leak: +4.0 MiB/s, steady (r²=0.99), critical"), "%s", text);
	cr_expect(strstr(text, "#1  60.0 MiB live in 60 allocs"), "%s", text);
	cr_expect(strstr(text, "        leak_some (leaky.c:42)\n        main (leaky.c:80)\n"), "%s",
		  text);
	cr_expect_null(strstr(text, "        malloc"), "%s", text);
	cr_expect(strstr(text, "Last stack at death (innermost first):\n"
			       "        leak_some (leaky.c:44)\n        handler (h.py:7)  [py]\n"),
		  "%s", text);
	free(text);
}

Test(oomdump, show_of_a_minimal_dump)
{
	struct oom_dump m;
	char *text;

	oomdump__init(&m);
	m.victim.pid = 5;
	strcpy(m.victim.comm, "x");
	text = show_text(&m);
	cr_expect(strstr(text, "trigger    unknown"), "%s", text);
	cr_expect(strstr(text, "constraint unknown"), "%s", text);
	cr_expect(strstr(text, "no memory history"), "%s", text);
	cr_expect(strstr(text, "too little data"), "%s", text);
	cr_expect(strstr(text, "none recorded"), "%s", text);
	cr_expect(strstr(text, "Last stack at death: not captured"), "%s", text);
	free(text);
}
