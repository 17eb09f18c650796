// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_daemon_watch.c - the watch tier's state: slots, pid reuse, exits, cap, verdicts */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_watch.h"
#include "report.h"

static struct watch_cfg cfg(size_t max)
{
	struct watch_cfg c = { .max_procs = max, .series_points = 60, .root = "/nonexistent" };

	growth_cfg__default(&c.gcfg);
	return c;
}

static struct ms_task_rec rec(int pid, uint64_t start, uint64_t anon_pages)
{
	struct ms_task_rec r = { .pid = pid, .ppid = 1, .start_ns = start, .anon_pages = anon_pages };

	snprintf(r.comm, sizeof(r.comm), "p%d", pid);
	return r;
}

static int gone[64], ngone;

static void on_gone(void *ctx, struct wproc *p)
{
	(void)ctx;
	gone[ngone++] = p->pid;
	free(p->user);
	p->user = NULL;
}

Test(daemon_watch, tracks_and_forgets)
{
	struct watch_cfg c = cfg(100);
	struct watch *w = watch__new(&c);
	struct ms_task_rec r[3] = { rec(30, 1, 10), rec(10, 1, 5), rec(20, 1, 7) };

	ngone = 0;
	cr_assert_eq(watch__update(w, r, 3, 1, on_gone, NULL), 0);
	cr_assert_eq(watch__count(w), 3);
	cr_assert_eq(watch__at(w, 0)->pid, 10);
	cr_assert_eq(watch__at(w, 2)->pid, 30);
	cr_assert_eq(watch__get(w, 20)->rss_bytes, 7 * (uint64_t)sysconf(_SC_PAGESIZE));
	cr_assert_str_eq(watch__get(w, 20)->comm, "p20");
	watch__get(w, 20)->user = malloc(8);

	/* 20 exits, 30's pid is reused by a new process, 40 appears */
	struct ms_task_rec r2[3] = { rec(10, 1, 5), rec(30, 2, 1), rec(40, 1, 1) };

	cr_assert_eq(watch__update(w, r2, 3, 2, on_gone, NULL), 0);
	cr_assert_eq(ngone, 2);
	cr_assert_eq(gone[0], 20);
	cr_assert_eq(gone[1], 30);
	cr_assert_eq(watch__count(w), 3);
	cr_assert_null(watch__get(w, 20));
	cr_assert_eq(watch__get(w, 30)->start_ns, 2);
	cr_assert_eq(series__len(watch__get(w, 30)->rss), 1);	/* a new series */
	cr_assert_eq(series__len(watch__get(w, 10)->rss), 2);
	watch__free(w);
}

Test(daemon_watch, cap_keeps_old_processes)
{
	struct watch_cfg c = cfg(2);
	struct watch *w = watch__new(&c);
	struct ms_task_rec r[2] = { rec(50, 1, 1), rec(60, 1, 1) };

	cr_assert_eq(watch__update(w, r, 2, 1, NULL, NULL), 0);
	/* a lower pid appears: the two tracked keep their slots, it is untracked */
	struct ms_task_rec r2[3] = { rec(5, 1, 1), rec(50, 1, 1), rec(60, 1, 1) };

	cr_assert_eq(watch__update(w, r2, 3, 2, NULL, NULL), 0);
	cr_assert_eq(watch__count(w), 2);
	cr_assert_eq(watch__untracked(w), 1);
	cr_assert_null(watch__get(w, 5));
	cr_assert_not_null(watch__get(w, 50));
	/* 50 exits: 5 gets its slot */
	struct ms_task_rec r3[2] = { rec(5, 1, 1), rec(60, 1, 1) };

	cr_assert_eq(watch__update(w, r3, 2, 3, NULL, NULL), 0);
	cr_assert_not_null(watch__get(w, 5));
	cr_assert_eq(watch__untracked(w), 0);
	watch__free(w);
}

Test(daemon_watch, leak_is_flagged_flat_is_stable)
{
	struct watch_cfg c = cfg(10);
	struct watch *w;
	struct rpt_point *pts;
	size_t n;

	c.self_pid = 3;
	w = watch__new(&c);
	for (int i = 0; i < 40; i++) {
		/* 1: +64 pages a second; 2: flat; 3: leaks but is the daemon itself */
		struct ms_task_rec r[3] = { rec(1, 1, 100 + 64 * i), rec(2, 1, 500), rec(3, 1, 100 + 64 * i) };

		cr_assert_eq(watch__update(w, r, 3, i, NULL, NULL), 0);
	}
	cr_assert_eq(watch__get(w, 1)->growth.verdict, GV_LEAK);
	cr_assert(watch__get(w, 1)->flagged);
	cr_assert_float_eq(watch__get(w, 1)->growth.slope_bps, 64.0 * sysconf(_SC_PAGESIZE), 1);
	cr_assert_eq(watch__get(w, 2)->growth.verdict, GV_STABLE);
	cr_assert(!watch__get(w, 2)->flagged);
	cr_assert_eq(watch__get(w, 3)->growth.verdict, GV_LEAK);
	cr_assert(!watch__get(w, 3)->flagged);
	cr_assert_eq(watch__flagged(w), 1);
	pts = watch__points(watch__get(w, 1), &n);
	cr_assert_eq(n, 40);
	cr_assert_float_eq(pts[39].t, 39, 1e-9);
	cr_assert_eq(pts[39].rss_bytes, (100 + 64 * 39) * (uint64_t)sysconf(_SC_PAGESIZE));
	free(pts);
	watch__free(w);
}

Test(daemon_watch, series_is_bounded)
{
	struct watch_cfg c = cfg(10);
	struct watch *w = watch__new(&c);

	for (int i = 0; i < 500; i++) {
		struct ms_task_rec r = rec(1, 1, i % 7);

		watch__update(w, &r, 1, i, NULL, NULL);
	}
	cr_assert_eq(series__len(watch__get(w, 1)->rss), 60);
	watch__free(w);
}
