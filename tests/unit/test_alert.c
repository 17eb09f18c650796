// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_alert.c - memslope.alert/1 lines: fields, hysteresis, re-alerts, recovery, oom_kill */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"

static int fd = -1;
static char path[] = "/tmp/ms-alert-XXXXXX";
static off_t readpos;

static void setup(void)
{
	strcpy(path, "/tmp/ms-alert-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	readpos = 0;
}

static void teardown(void)
{
	close(fd);
	unlink(path);
}

TestSuite(alert, .init = setup, .fini = teardown);

/* lines written since the last call, parsed; *n gets how many */
static json_object **new_lines(size_t *n)
{
	static json_object *objs[64];
	char buf[65536], *p, *nl;
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, readpos);

	cr_assert_geq(got, 0);
	buf[got] = '\0';
	readpos += got;
	*n = 0;
	for (p = buf; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		objs[*n] = json_tokener_parse(p);
		cr_assert_not_null(objs[*n], "not JSON: %s", p);
		(*n)++;
	}
	cr_assert_str_eq(p, "", "unterminated line: %s", p);
	return objs;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no field %s", key);
	return v ? json_object_get_string(v) : NULL;
}

static struct growth gr(enum growth_verdict v, enum growth_severity s)
{
	struct growth g = { .verdict = v, .severity = s, .slope_bps = 2000, .r2 = 0.9,
			    .eta_limit_s = 3600 };
	return g;
}

static struct alert_proc proc(int pid)
{
	static char *argv[] = { "./leaky", "--rate", "1M", NULL };
	struct alert_proc p = { .pid = pid, .comm = "leaky", .argv = argv,
				.cgroup = "/user.slice", .rss_bytes = 123456789,
				.limit_bytes = 1ULL << 30 };
	return p;
}

Test(alert, growth_line_has_every_field)
{
	struct alerter_cfg cfg;
	struct alerter *a;
	struct alert_proc p = proc(42);
	struct growth g = gr(GV_LEAK, GS_CRITICAL);
	struct alert_stack st[2] = { { 5000000, 1500.5, "leak_fn (leaky.c:12) <- main" },
				     { 100, 0, "other" } };
	static const char *fields[] = { "ts", "host", "event", "pid", "comm", "argv", "cgroup",
					"rss_bytes", "slope_bytes_per_s", "r2", "verdict",
					"severity", "limit_bytes", "eta_limit_s", "top_stacks",
					"dump", NULL };
	json_object **l, *v;
	size_t n, i;

	alerter_cfg__default(&cfg);
	cfg.host = "testhost";
	cfg.leak_min_s = -1;	/* flag_after evaluations are enough */
	a = alerter__new(fd, &cfg);
	cr_assert_not_null(a);
	cr_assert_eq(alerter__feed(a, 1700000000.25, &p, &g, st, 2), 0);
	cr_assert_eq(alerter__feed(a, 1700000001.25, &p, &g, st, 2), 1);
	l = new_lines(&n);
	cr_assert_eq(n, 1);
	for (i = 0; fields[i]; i++)
		cr_assert(json_object_object_get_ex(l[0], fields[i], NULL), "missing %s", fields[i]);
	cr_assert_str_eq(str(l[0], "schema"), "memslope.alert/1");
	cr_assert_str_eq(str(l[0], "ts"), "2023-11-14T22:13:21.250Z");
	cr_assert_str_eq(str(l[0], "host"), "testhost");
	cr_assert_str_eq(str(l[0], "event"), "growth");
	cr_assert_str_eq(str(l[0], "verdict"), "leak");
	cr_assert_str_eq(str(l[0], "severity"), "critical");
	cr_assert_str_eq(str(l[0], "cgroup"), "/user.slice");
	cr_assert_null(str(l[0], "dump"));
	json_object_object_get_ex(l[0], "pid", &v);
	cr_assert_eq(json_object_get_int(v), 42);
	json_object_object_get_ex(l[0], "limit_bytes", &v);
	cr_assert_eq(json_object_get_uint64(v), 1ULL << 30);
	json_object_object_get_ex(l[0], "rss_bytes", &v);
	cr_assert_eq(json_object_get_uint64(v), 123456789);
	json_object_object_get_ex(l[0], "eta_limit_s", &v);
	cr_assert_float_eq(json_object_get_double(v), 3600, 1e-9);
	json_object_object_get_ex(l[0], "argv", &v);
	cr_assert_eq(json_object_array_length(v), 3);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 1)), "--rate");
	json_object_object_get_ex(l[0], "top_stacks", &v);
	cr_assert_eq(json_object_array_length(v), 2);
	cr_assert_str_eq(str(json_object_array_get_idx(v, 0), "stack"),
			 "leak_fn (leaky.c:12) <- main");
	json_object_put(l[0]);
	alerter__free(a);
}

Test(alert, hysteresis_severity_rise_and_recovery)
{
	struct alerter *a = alerter__new(fd, NULL);
	struct alert_proc p = proc(7);
	struct growth warn = gr(GV_LEAK, GS_WARNING), crit = gr(GV_GROWING, GS_CRITICAL);
	struct growth calm = gr(GV_STABLE, GS_OK), none = gr(GV_INSUFFICIENT, GS_OK);
	json_object **l;
	size_t n;

	cr_assert_not_null(a);
	/* one flagged evaluation is not enough; an unflagged one resets the count */
	cr_assert_eq(alerter__feed(a, 1, &p, &warn, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 2, &p, &calm, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 3, &p, &warn, NULL, 0), 0);
	/* two leak verdicts 1 s apart are not leak_min_s (1.5 s) yet, a third is */
	cr_assert_eq(alerter__feed(a, 4, &p, &warn, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 5, &p, &warn, NULL, 0), 1);
	/* still flagged, same severity: quiet */
	cr_assert_eq(alerter__feed(a, 6, &p, &warn, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 7, &p, &warn, NULL, 0), 0);
	/* severity rises: alert again at once, even for growing, but not again at that level */
	cr_assert_eq(alerter__feed(a, 8, &p, &crit, NULL, 0), 1);
	cr_assert_eq(alerter__feed(a, 9, &p, &warn, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 10, &p, &crit, NULL, 0), 0);
	/* recovery needs 3 unflagged in a row; insufficient-data does not count */
	cr_assert_eq(alerter__feed(a, 11, &p, &calm, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 12, &p, &calm, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 13, &p, &none, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 14, &p, &calm, NULL, 0), 1);
	cr_assert_eq(alerter__feed(a, 15, &p, &calm, NULL, 0), 0);

	l = new_lines(&n);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(str(l[0], "event"), "growth");
	cr_assert_str_eq(str(l[0], "severity"), "warning");
	cr_assert_str_eq(str(l[1], "event"), "growth");
	cr_assert_str_eq(str(l[1], "severity"), "critical");
	cr_assert_str_eq(str(l[1], "verdict"), "growing");
	cr_assert_str_eq(str(l[2], "event"), "recovered");
	cr_assert_str_eq(str(l[2], "verdict"), "stable");
	while (n--)
		json_object_put(l[n]);
	alerter__free(a);
}

Test(alert, growing_at_ok_is_not_flagged_and_realert_interval)
{
	struct alerter_cfg cfg;
	struct alerter *a;
	struct alert_proc p = proc(9);
	struct growth slow = gr(GV_GROWING, GS_OK), leak = gr(GV_LEAK, GS_WARNING);
	json_object **l;
	size_t n;
	int i;

	alerter_cfg__default(&cfg);
	cfg.realert_s = 100;
	a = alerter__new(fd, &cfg);
	for (i = 0; i < 5; i++)
		cr_assert_eq(alerter__feed(a, i, &p, &slow, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 10, &p, &leak, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 11, &p, &leak, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 12, &p, &leak, NULL, 0), 1);
	cr_assert_eq(alerter__feed(a, 111, &p, &leak, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 112, &p, &leak, NULL, 0), 1);
	cr_assert_eq(alerter__feed(a, 113, &p, &leak, NULL, 0), 0);
	l = new_lines(&n);
	cr_assert_eq(n, 2);
	while (n--)
		json_object_put(l[n]);
	alerter__free(a);
}

Test(alert, oom_kill_line_and_forget)
{
	struct alerter *a = alerter__new(fd, NULL);
	struct alert_proc p = proc(11);
	struct growth g = gr(GV_LEAK, GS_CRITICAL);
	json_object **l, *v;
	size_t n;

	p.limit_bytes = 0;
	p.argv = NULL;
	cr_assert_eq(alerter__feed(a, 1, &p, &g, NULL, 0), 0);
	cr_assert_eq(alerter__tracked(a), 1);
	cr_assert_eq(alerter__oom_kill(a, 2, &p, NULL, NULL, 0, "/var/lib/memslope/oom/1.json"), 0);
	cr_assert_eq(alerter__tracked(a), 0);
	l = new_lines(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(str(l[0], "event"), "oom_kill");
	cr_assert_str_eq(str(l[0], "dump"), "/var/lib/memslope/oom/1.json");
	cr_assert_null(str(l[0], "verdict"));
	cr_assert_null(str(l[0], "limit_bytes"));
	cr_assert_null(str(l[0], "argv"));
	json_object_object_get_ex(l[0], "top_stacks", &v);
	cr_assert_eq(json_object_array_length(v), 0);
	json_object_put(l[0]);
	/* forgotten: the count starts again */
	cr_assert_eq(alerter__feed(a, 3, &p, &g, NULL, 0), 0);
	alerter__forget(a, 11);
	cr_assert_eq(alerter__feed(a, 4, &p, &g, NULL, 0), 0);
	alerter__free(a);
}

Test(alert, state_is_bounded)
{
	struct alerter_cfg cfg;
	struct alerter *a;
	struct growth calm = gr(GV_STABLE, GS_OK), leak = gr(GV_LEAK, GS_WARNING);
	int pid;

	alerter_cfg__default(&cfg);
	cfg.max_pids = 4;
	cfg.leak_min_s = -1;
	a = alerter__new(fd, &cfg);
	/* pid 1 is mid-alert: it outlives quieter pids when space runs out */
	struct alert_proc p1 = proc(1);
	alerter__feed(a, 0, &p1, &leak, NULL, 0);
	cr_assert_eq(alerter__feed(a, 0, &p1, &leak, NULL, 0), 1);
	for (pid = 100; pid < 110; pid++) {
		struct alert_proc p = proc(pid);

		alerter__feed(a, pid, &p, &calm, NULL, 0);
		cr_assert_leq(alerter__tracked(a), 4);
	}
	cr_assert_eq(alerter__tracked(a), 4);
	/* pid 1's state survived: still alerted, so no new growth line */
	cr_assert_eq(alerter__feed(a, 200, &p1, &leak, NULL, 0), 0);
	alerter__free(a);
	alerter__free(NULL);
}

Test(alert, write_error_is_returned)
{
	struct alerter *a;
	struct alert_proc p = proc(5);
	struct growth g = gr(GV_LEAK, GS_WARNING);
	int rfd = open(path, O_RDONLY);

	a = alerter__new(rfd, NULL);
	cr_assert_not_null(a);
	alerter__feed(a, 1, &p, &g, NULL, 0);
	alerter__feed(a, 2, &p, &g, NULL, 0);
	cr_assert_eq(alerter__feed(a, 3, &p, &g, NULL, 0), -EBADF);
	alerter__free(a);
	close(rfd);
	errno = 0;
	cr_assert_null(alerter__new(-1, NULL));
	cr_assert_eq(errno, EBADF);
}

/*
 * Non-linear growth (a warm-up is non-linear growth that stops) alerts only once it has
 * been flagged for growing_min_s; leak verdicts interleaved with it never make a run of
 * their own, and a run of them alerts after flag_after evaluations over leak_min_s.
 */
Test(alert, growing_needs_to_last)
{
	struct alerter *a = alerter__new(fd, NULL);
	struct alert_proc p = proc(21);
	struct growth grow = gr(GV_GROWING, GS_CRITICAL), leak = gr(GV_LEAK, GS_CRITICAL);
	struct growth calm = gr(GV_STABLE, GS_OK), none = gr(GV_INSUFFICIENT, GS_OK);
	json_object **l;
	size_t n;
	int t;

	cr_assert_not_null(a);
	/* a warm-up: leak now and then, mostly growing, for 59 s, then flat: no alert */
	for (t = 100; t < 159; t++)
		cr_assert_eq(alerter__feed(a, t, &p, t % 3 ? &grow : &leak, NULL, 0), 0, "t %d", t);
	cr_assert_eq(alerter__feed(a, 159, &p, &calm, NULL, 0), 0);
	/* growth that goes on: alerted once its flagged run spans 60 s (insufficient-data
	 * in between is no evidence either way) */
	for (t = 200; t < 260; t++)
		cr_assert_eq(alerter__feed(a, t, &p, t == 230 ? &none : &grow, NULL, 0), 0,
			     "t %d", t);
	cr_assert_eq(alerter__feed(a, 260, &p, &grow, NULL, 0), 1);
	l = new_lines(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(str(l[0], "verdict"), "growing");
	json_object_put(l[0]);
	alerter__free(a);

	/* the same flagged run turning linear alerts as a leak would */
	a = alerter__new(fd, NULL);
	for (t = 0; t < 10; t++)
		cr_assert_eq(alerter__feed(a, t, &p, &grow, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 10.0, &p, &leak, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 11.0, &p, &leak, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 11.5, &p, &leak, NULL, 0), 1);
	l = new_lines(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(str(l[0], "verdict"), "leak");
	json_object_put(l[0]);
	alerter__free(a);
}

/* growing_min_s < 0: growing alerts like a leak (after flag_after evaluations) */
Test(alert, growing_min_can_be_off)
{
	struct alerter_cfg cfg;
	struct alerter *a;
	struct alert_proc p = proc(22);
	struct growth grow = gr(GV_GROWING, GS_WARNING);
	json_object **l;
	size_t n;

	alerter_cfg__default(&cfg);
	cr_assert_float_eq(cfg.leak_min_s, 1.5, 1e-9);
	cr_assert_float_eq(cfg.growing_min_s, 60, 1e-9);
	cfg.growing_min_s = -1;
	a = alerter__new(fd, &cfg);
	cr_assert_eq(alerter__feed(a, 1, &p, &grow, NULL, 0), 0);
	cr_assert_eq(alerter__feed(a, 2, &p, &grow, NULL, 0), 1);
	l = new_lines(&n);
	cr_assert_eq(n, 1);
	json_object_put(l[0]);
	alerter__free(a);
}
