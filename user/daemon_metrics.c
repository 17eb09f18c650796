// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon_metrics.c - the daemon's snapshot rendered as Prometheus metrics and as /status JSON */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_metrics.h"

static const char *const drop_names[DDROP__NR] = {
	[DDROP_RINGBUF] = "ringbuf_full",
	[DDROP_ALLOCS] = "alloc_maps_full",
	[DDROP_STACKS] = "stacks_lost",
	[DDROP_UNTRACKED] = "untracked_processes",
	[DDROP_ESCALATIONS] = "escalation_slots_busy",
	[DDROP_ALERTS] = "alert_write_errors",
	[DDROP_DUMPS] = "dump_write_errors",
};

const char *dview_drop__str(enum dview_drop d)
{
	return d < DDROP__NR ? drop_names[d] : "unknown";
}

int dview__add_recent(struct dview *v, const char *line, size_t len)
{
	char *s = strndup(line, len);

	if (!s)
		return -ENOMEM;
	if (v->nrecent == DVIEW_RECENT) {
		free(v->recent[0]);
		memmove(v->recent, v->recent + 1, (DVIEW_RECENT - 1) * sizeof(v->recent[0]));
		v->nrecent--;
	}
	v->recent[v->nrecent++] = s;
	return 0;
}

void dview__clear(struct dview *v)
{
	for (size_t i = 0; i < v->nrecent; i++)
		free(v->recent[i]);
	v->nrecent = 0;
}

/* A label value: printable ASCII only (comm is raw bytes), escaped for the text format. */
static void label(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else
			fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A float in the text format: Go's ParseFloat reads these, including +Inf and NaN. */
static void value(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.17g", v);
}

static void proc_sample(FILE *f, const char *name, const struct dview_proc *p, double v)
{
	fprintf(f, "%s{pid=\"%d\",comm=\"", name, p->pid);
	label(f, p->comm, sizeof(p->comm));
	fputs("\"} ", f);
	value(f, v);
	fputc('\n', f);
}

static void scalar(FILE *f, const char *name, const char *type, const char *help, double v)
{
	family(f, name, type, help);
	fputs(name, f);
	fputc(' ', f);
	value(f, v);
	fputc('\n', f);
}

int dview__metrics(const struct dview *v, FILE *f)
{
	static const char *const verdicts[] = { "insufficient-data", "stable", "plateau", "sawtooth",
						"growing", "leak" };
	size_t i;

	family(f, "memslope_build_info", "gauge", "memslope version (always 1)");
	fputs("memslope_build_info{version=\"", f);
	label(f, v->version ? v->version : "", 64);
	fputs("\"} 1\n", f);
	scalar(f, "memslope_watch_interval_seconds", "gauge", "Seconds between two watch passes",
	       v->interval_s);
	scalar(f, "memslope_watch_passes_total", "counter", "Watch passes over every process",
	       v->passes);
	scalar(f, "memslope_watch_pass_duration_seconds", "gauge", "Duration of the last watch pass",
	       v->pass_seconds);
	scalar(f, "memslope_processes_watched", "gauge", "Processes with a memory series", v->watched);
	scalar(f, "memslope_processes_flagged", "gauge",
	       "Processes flagged as leaking or growing at warning severity or above", v->flagged);

	family(f, "memslope_process_rss_bytes", "gauge",
	       "Resident memory (anon + file + shmem) of a flagged or fast-growing process");
	for (i = 0; i < v->nprocs; i++)
		proc_sample(f, "memslope_process_rss_bytes", &v->procs[i], v->procs[i].rss_bytes);
	family(f, "memslope_process_growth_bytes_per_second", "gauge",
	       "Growth slope of the process's resident memory (Theil-Sen)");
	for (i = 0; i < v->nprocs; i++)
		proc_sample(f, "memslope_process_growth_bytes_per_second", &v->procs[i],
			    v->procs[i].growth.slope_bps);
	family(f, "memslope_process_growth_r2", "gauge", "Goodness of the linear fit of the growth (0-1)");
	for (i = 0; i < v->nprocs; i++)
		proc_sample(f, "memslope_process_growth_r2", &v->procs[i], v->procs[i].growth.r2);
	family(f, "memslope_process_severity", "gauge", "Growth severity: 0 ok, 1 warning, 2 critical");
	for (i = 0; i < v->nprocs; i++)
		proc_sample(f, "memslope_process_severity", &v->procs[i], v->procs[i].growth.severity);
	family(f, "memslope_process_verdict", "gauge", "Growth verdict of the process (the one set is 1)");
	for (i = 0; i < v->nprocs; i++) {
		const struct dview_proc *p = &v->procs[i];
		unsigned int vd = p->growth.verdict;

		fprintf(f, "memslope_process_verdict{pid=\"%d\",comm=\"", p->pid);
		label(f, p->comm, sizeof(p->comm));
		fprintf(f, "\",verdict=\"%s\"} 1\n", vd < 6 ? verdicts[vd] : "unknown");
	}
	family(f, "memslope_process_eta_limit_seconds", "gauge",
	       "Seconds until the process reaches its memory limit at the current slope");
	for (i = 0; i < v->nprocs; i++)
		if (v->procs[i].growth.eta_limit_s >= 0)
			proc_sample(f, "memslope_process_eta_limit_seconds", &v->procs[i],
				    v->procs[i].growth.eta_limit_s);
	family(f, "memslope_process_limit_bytes", "gauge",
	       "Memory limit the process counts against (cgroup, else available memory)");
	for (i = 0; i < v->nprocs; i++)
		if (v->procs[i].limit_bytes)
			proc_sample(f, "memslope_process_limit_bytes", &v->procs[i], v->procs[i].limit_bytes);
	family(f, "memslope_process_escalated", "gauge", "1 while the process is traced exactly");
	for (i = 0; i < v->nprocs; i++)
		proc_sample(f, "memslope_process_escalated", &v->procs[i], v->procs[i].escalated);

	scalar(f, "memslope_oom_kills_total", "counter", "OOM kills seen on the host", v->oom_kills);
	scalar(f, "memslope_oom_dumps_total", "counter", "OOM dumps written", v->dumps_written);
	family(f, "memslope_alerts_total", "counter", "memslope.alert/1 lines written, by event");
	fprintf(f, "memslope_alerts_total{event=\"growth\"} %llu\n", (unsigned long long)v->alerts_growth);
	fprintf(f, "memslope_alerts_total{event=\"recovered\"} %llu\n",
		(unsigned long long)v->alerts_recovered);
	fprintf(f, "memslope_alerts_total{event=\"oom_kill\"} %llu\n", (unsigned long long)v->alerts_oom);
	scalar(f, "memslope_escalations_total", "counter", "Flagged processes traced exactly",
	       v->escalations);
	scalar(f, "memslope_escalated_processes", "gauge", "Processes traced exactly right now",
	       v->escalated_now);
	scalar(f, "memslope_escalation_slots", "gauge", "Processes that may be traced exactly at once",
	       v->escalate_max);
	scalar(f, "memslope_untracked_processes", "gauge",
	       "Processes of the last pass not tracked (over max_procs)", v->drops[DDROP_UNTRACKED]);
	family(f, "memslope_drops_total", "counter", "Data lost, by reason");
	for (i = 0; i < DDROP__NR; i++) {
		if (i == DDROP_UNTRACKED)
			continue;	/* a gauge, above */
		fprintf(f, "memslope_drops_total{reason=\"%s\"} %llu\n", drop_names[i],
			(unsigned long long)v->drops[i]);
	}
	scalar(f, "process_resident_memory_bytes", "gauge", "Resident memory of the memslope daemon",
	       v->self_rss_bytes);
	scalar(f, "process_cpu_seconds_total", "counter", "CPU time of the memslope daemon (user + system)",
	       v->self_cpu_seconds);
	scalar(f, "process_start_time_seconds", "gauge", "Start time of the memslope daemon (epoch seconds)",
	       v->started_at);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

static json_object *jnum(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

static json_object *jstr(const char *s, size_t max)
{
	char buf[256];
	size_t i;

	/* comm is raw bytes: keep JSON valid UTF-8 */
	for (i = 0; i < max && i < sizeof(buf) - 1 && s[i]; i++)
		buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return json_object_new_string(buf);
}

int dview__status_json(const struct dview *v, FILE *f)
{
	json_object *o = json_object_new_object(), *procs, *recent, *drops, *self, *pr;
	const char *s;
	int err = 0;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "schema", json_object_new_string("memslope.status/1"));
	json_object_object_add(o, "version", json_object_new_string(v->version ? v->version : ""));
	json_object_object_add(o, "host", v->host ? json_object_new_string(v->host) : NULL);
	json_object_object_add(o, "started_at", jnum(v->started_at));
	json_object_object_add(o, "now", jnum(v->now));
	json_object_object_add(o, "interval_s", jnum(v->interval_s));
	json_object_object_add(o, "passes", json_object_new_int64(v->passes));
	json_object_object_add(o, "pass_seconds", jnum(v->pass_seconds));
	pr = json_object_new_object();
	json_object_object_add(pr, "watched", json_object_new_int64(v->watched));
	json_object_object_add(pr, "flagged", json_object_new_int64(v->flagged));
	json_object_object_add(pr, "untracked", json_object_new_int64(v->drops[DDROP_UNTRACKED]));
	json_object_object_add(pr, "escalated", json_object_new_int64(v->escalated_now));
	json_object_object_add(pr, "escalate_max", json_object_new_int64(v->escalate_max));
	json_object_object_add(o, "processes", pr);
	json_object_object_add(o, "oom_kills", json_object_new_int64(v->oom_kills));
	json_object_object_add(o, "dumps_written", json_object_new_int64(v->dumps_written));
	json_object_object_add(o, "escalations", json_object_new_int64(v->escalations));

	procs = json_object_new_array();
	for (size_t i = 0; i < v->nprocs; i++) {
		const struct dview_proc *p = &v->procs[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "pid", json_object_new_int(p->pid));
		json_object_object_add(j, "comm", jstr(p->comm, sizeof(p->comm)));
		json_object_object_add(j, "rss_bytes", json_object_new_int64(p->rss_bytes));
		json_object_object_add(j, "limit_bytes", p->limit_bytes ? json_object_new_int64(p->limit_bytes)
									 : NULL);
		json_object_object_add(j, "verdict", json_object_new_string(growth_verdict__str(p->growth.verdict)));
		json_object_object_add(j, "severity",
				       json_object_new_string(growth_severity__str(p->growth.severity)));
		json_object_object_add(j, "slope_bytes_per_s", jnum(p->growth.slope_bps));
		json_object_object_add(j, "r2", jnum(p->growth.r2));
		json_object_object_add(j, "eta_limit_s", p->growth.eta_limit_s >= 0 ? jnum(p->growth.eta_limit_s)
										     : NULL);
		json_object_object_add(j, "flagged", json_object_new_boolean(p->flagged));
		json_object_object_add(j, "escalated", json_object_new_boolean(p->escalated));
		json_object_object_add(j, "top_stack", p->top_stack[0] ? jstr(p->top_stack, sizeof(p->top_stack))
								       : NULL);
		json_object_array_add(procs, j);
	}
	json_object_object_add(o, "top", procs);

	recent = json_object_new_array();
	for (size_t i = 0; i < v->nrecent; i++) {
		json_object *a = json_tokener_parse(v->recent[i]);

		json_object_array_add(recent, a ? a : json_object_new_string(v->recent[i]));
	}
	json_object_object_add(o, "recent_alerts", recent);

	drops = json_object_new_object();
	for (size_t i = 0; i < DDROP__NR; i++)
		json_object_object_add(drops, drop_names[i], json_object_new_int64(v->drops[i]));
	json_object_object_add(o, "drops", drops);
	self = json_object_new_object();
	json_object_object_add(self, "rss_bytes", json_object_new_int64(v->self_rss_bytes));
	json_object_object_add(self, "cpu_seconds", jnum(v->self_cpu_seconds));
	json_object_object_add(o, "self", self);

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || fputs(s, f) < 0 || fputc('\n', f) < 0)
		err = -EIO;
	json_object_put(o);
	if (!err && fflush(f))
		err = -EIO;
	return err;
}
