// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_daemon_metrics.c - Prometheus text and /status JSON of a daemon snapshot */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_metrics.h"

static char *render(const struct dview *v, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	cr_assert_eq(json ? dview__status_json(v, f) : dview__metrics(v, f), 0);
	fclose(f);
	return buf;
}

static void sample_view(struct dview *v)
{
	memset(v, 0, sizeof(*v));
	v->version = "9.9";
	v->host = "box";
	v->started_at = 1700000000;
	v->now = 1700000100;
	v->interval_s = 5;
	v->passes = 20;
	v->watched = 500;
	v->flagged = 1;
	v->oom_kills = 2;
	v->dumps_written = 2;
	v->alerts_growth = 3;
	v->drops[DDROP_RINGBUF] = 7;
	v->drops[DDROP_UNTRACKED] = 4;
	v->self_rss_bytes = 12 << 20;
	v->self_cpu_seconds = 1.25;
	v->nprocs = 2;
	v->procs[0].pid = 42;
	strcpy(v->procs[0].comm, "lea\"k\\y");
	v->procs[0].rss_bytes = 100 << 20;
	v->procs[0].limit_bytes = 1 << 30;
	v->procs[0].growth.verdict = GV_LEAK;
	v->procs[0].growth.severity = GS_CRITICAL;
	v->procs[0].growth.slope_bps = 1000.5;
	v->procs[0].growth.r2 = 0.99;
	v->procs[0].growth.eta_limit_s = 3000;
	v->procs[0].flagged = true;
	v->procs[0].escalated = true;
	strcpy(v->procs[0].top_stack, "leak_some (leaky.c:70) <- main (leaky.c:120)");
	v->procs[1].pid = 7;
	memcpy(v->procs[1].comm, "\x01\xffodd name\n", 12);
	v->procs[1].growth.verdict = GV_PLATEAU;
	v->procs[1].growth.eta_limit_s = -1;
}

Test(daemon_metrics, families_and_samples)
{
	struct dview v;
	char *m;

	sample_view(&v);
	m = render(&v, false);
	cr_assert(strstr(m, "# TYPE memslope_process_rss_bytes gauge\n"), "%s", m);
	cr_assert(strstr(m, "memslope_process_rss_bytes{pid=\"42\",comm=\"lea\\\"k\\\\y\"} 104857600\n"), "%s", m);
	cr_assert(strstr(m, "memslope_process_growth_bytes_per_second{pid=\"42\",comm=\"lea\\\"k\\\\y\"} 1000.5\n"), "%s", m);
	cr_assert(strstr(m, "memslope_process_verdict{pid=\"42\",comm=\"lea\\\"k\\\\y\",verdict=\"leak\"} 1\n"), "%s", m);
	cr_assert(strstr(m, "memslope_process_severity{pid=\"42\",comm=\"lea\\\"k\\\\y\"} 2\n"), "%s", m);
	cr_assert(strstr(m, "memslope_process_eta_limit_seconds{pid=\"42\",comm=\"lea\\\"k\\\\y\"} 3000\n"), "%s", m);
	cr_assert(strstr(m, "memslope_process_escalated{pid=\"42\",comm=\"lea\\\"k\\\\y\"} 1\n"), "%s", m);
	/* raw bytes of a comm become '?', a newline is escaped */
	cr_assert(strstr(m, "memslope_process_verdict{pid=\"7\",comm=\"??odd name\\n\",verdict=\"plateau\"} 1\n"), "%s", m);
	/* no eta, no limit: no sample */
	cr_assert(!strstr(m, "memslope_process_eta_limit_seconds{pid=\"7\""), "%s", m);
	cr_assert(!strstr(m, "memslope_process_limit_bytes{pid=\"7\""), "%s", m);
	cr_assert(strstr(m, "memslope_oom_kills_total 2\n"), "%s", m);
	cr_assert(strstr(m, "memslope_drops_total{reason=\"ringbuf_full\"} 7\n"), "%s", m);
	cr_assert(strstr(m, "memslope_untracked_processes 4\n"), "%s", m);
	cr_assert(!strstr(m, "reason=\"untracked_processes\""), "%s", m);
	cr_assert(strstr(m, "memslope_alerts_total{event=\"growth\"} 3\n"), "%s", m);
	cr_assert(strstr(m, "process_resident_memory_bytes 12582912\n"), "%s", m);
	cr_assert(strstr(m, "process_cpu_seconds_total 1.25\n"), "%s", m);
	cr_assert(strstr(m, "memslope_build_info{version=\"9.9\"} 1\n"), "%s", m);
	free(m);
}

Test(daemon_metrics, every_family_once_with_help_and_type)
{
	struct dview v;
	char *m, *line, *save;
	int help = 0, type = 0;

	sample_view(&v);
	m = render(&v, false);
	for (line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7))
			help++;
		else if (!strncmp(line, "# TYPE ", 7))
			type++;
		else
			cr_assert(line[0] != '#' && line[0] != ' ' && strchr(line, ' '), "bad line: %s", line);
	}
	cr_assert_eq(help, type);
	cr_assert_geq(help, 20);
	free(m);
}

Test(daemon_metrics, empty_view)
{
	struct dview v = {};
	char *m = render(&v, false), *j;

	cr_assert(strstr(m, "memslope_processes_watched 0\n"), "%s", m);
	free(m);
	json_object *o;

	j = render(&v, true);
	o = json_tokener_parse(j);
	cr_assert(o, "%s", j);
	json_object_put(o);
	free(j);
}

Test(daemon_metrics, status_json)
{
	struct dview v;
	json_object *o, *top, *p, *x, *recent;
	char *j;

	sample_view(&v);
	cr_assert_eq(dview__add_recent(&v, "{\"event\":\"growth\",\"pid\":42}xx", 28), 0);
	cr_assert_eq(dview__add_recent(&v, "not json", 8), 0);
	j = render(&v, true);
	o = json_tokener_parse(j);
	cr_assert(o, "%s", j);
	cr_assert(json_object_object_get_ex(o, "schema", &x));
	cr_assert_str_eq(json_object_get_string(x), "memslope.status/1");
	cr_assert(json_object_object_get_ex(o, "top", &top));
	cr_assert_eq(json_object_array_length(top), 2);
	p = json_object_array_get_idx(top, 0);
	cr_assert(json_object_object_get_ex(p, "pid", &x));
	cr_assert_eq(json_object_get_int(x), 42);
	cr_assert(json_object_object_get_ex(p, "verdict", &x));
	cr_assert_str_eq(json_object_get_string(x), "leak");
	cr_assert(json_object_object_get_ex(p, "top_stack", &x));
	cr_assert(strstr(json_object_get_string(x), "leak_some"));
	p = json_object_array_get_idx(top, 1);
	cr_assert(json_object_object_get_ex(p, "eta_limit_s", &x));
	cr_assert_null(x);
	cr_assert(json_object_object_get_ex(p, "comm", &x));
	cr_assert_str_eq(json_object_get_string(x), "??odd name?");
	cr_assert(json_object_object_get_ex(o, "recent_alerts", &recent));
	cr_assert_eq(json_object_array_length(recent), 2);
	cr_assert(json_object_is_type(json_object_array_get_idx(recent, 0), json_type_object));
	cr_assert(json_object_is_type(json_object_array_get_idx(recent, 1), json_type_string));
	json_object_put(o);
	free(j);
	dview__clear(&v);
}

Test(daemon_metrics, recent_is_bounded)
{
	struct dview v = {};
	char line[32];

	for (int i = 0; i < 3 * DVIEW_RECENT; i++) {
		int n = snprintf(line, sizeof(line), "{\"n\":%d}", i);

		cr_assert_eq(dview__add_recent(&v, line, n), 0);
	}
	cr_assert_eq(v.nrecent, DVIEW_RECENT);
	snprintf(line, sizeof(line), "{\"n\":%d}", 3 * DVIEW_RECENT - 1);
	cr_assert_str_eq(v.recent[DVIEW_RECENT - 1], line);
	snprintf(line, sizeof(line), "{\"n\":%d}", 2 * DVIEW_RECENT);
	cr_assert_str_eq(v.recent[0], line);
	dview__clear(&v);
	cr_assert_eq(v.nrecent, 0);
}

Test(daemon_metrics, non_finite_values)
{
	struct dview v;
	char *m;

	sample_view(&v);
	v.procs[0].growth.slope_bps = NAN;
	v.procs[1].growth.r2 = INFINITY;
	m = render(&v, false);
	cr_assert(strstr(m, "memslope_process_growth_bytes_per_second{pid=\"42\",comm=\"lea\\\"k\\\\y\"} NaN\n"), "%s", m);
	cr_assert(strstr(m, "} +Inf\n"), "%s", m);
	free(m);
}
