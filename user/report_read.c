// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report_read.c - saved reports (memslope.trace/1) and OOM dumps (memslope.oom/1) back into struct rpt; saving */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "report_folded.h"
#include "report_html.h"
#include "report_pprof.h"
#include "report_read.h"

#define OOM_SCHEMA	"memslope.oom/1"

/* a reader with a sticky error: the first problem wins, later calls do nothing */
struct rd {
	char *err;
	size_t errlen;
	int ret;		/* 0, -EBADMSG, -ENOMEM */
};

__attribute__((format(printf, 3, 4)))
static void rd_fail(struct rd *rd, int ret, const char *fmt, ...)
{
	va_list ap;

	if (rd->ret)
		return;
	rd->ret = ret;
	if (rd->errlen) {
		va_start(ap, fmt);
		vsnprintf(rd->err, rd->errlen, fmt, ap);
		va_end(ap);
	}
}

/* a field's path for messages ("processes[0].stacks[2]"); a cut one is still useful */
__attribute__((format(printf, 3, 4)))
static void path_fmt(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

static const char *type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

/*
 * The value of key in obj when present and not null, else NULL; a value of
 * another type than want fails with "path.key: expected ..., got ...".
 * json_type_double accepts integers too.
 */
static struct json_object *rd_get(struct rd *rd, struct json_object *obj, const char *path,
				  const char *key, json_type want, const char *want_name)
{
	struct json_object *v;
	json_type t;

	if (rd->ret || !obj || !json_object_object_get_ex(obj, key, &v) || !v)
		return NULL;
	t = json_object_get_type(v);
	if (t == want || (want == json_type_double && t == json_type_int))
		return v;
	rd_fail(rd, -EBADMSG, "%s%s%s: expected %s, got %s", path, *path ? "." : "", key,
		want_name, type_name(v));
	return NULL;
}

static void rd_missing(struct rd *rd, const char *path, const char *key)
{
	rd_fail(rd, -EBADMSG, "%s%s%s: missing", path, *path ? "." : "", key);
}

static const char *rd_str(struct rd *rd, struct json_object *obj, const char *path,
			  const char *key)
{
	struct json_object *v = rd_get(rd, obj, path, key, json_type_string, "a string");

	return v ? json_object_get_string(v) : NULL;
}

static bool rd_int(struct rd *rd, struct json_object *obj, const char *path, const char *key,
		   int64_t min, int64_t max, int64_t *out)
{
	struct json_object *v = rd_get(rd, obj, path, key, json_type_int, "an integer");
	int64_t n;

	if (!v)
		return false;
	errno = 0;
	n = json_object_get_int64(v);
	/* json-c clamps what does not fit in int64; a uint64 above INT64_MAX reads as such */
	if (n < min || n > max || (errno == ERANGE && max < INT64_MAX)) {
		rd_fail(rd, -EBADMSG, "%s%s%s: %s out of range", path, *path ? "." : "", key,
			json_object_get_string(v));
		return false;
	}
	*out = n;
	return true;
}

static bool rd_u64(struct rd *rd, struct json_object *obj, const char *path, const char *key,
		   uint64_t *out)
{
	struct json_object *v = rd_get(rd, obj, path, key, json_type_int, "an integer");
	const char *s;

	if (!v)
		return false;
	s = json_object_get_string(v);
	if (s && *s == '-') {
		rd_fail(rd, -EBADMSG, "%s%s%s: %s is negative", path, *path ? "." : "", key, s);
		return false;
	}
	*out = json_object_get_uint64(v);
	return true;
}

static bool rd_double(struct rd *rd, struct json_object *obj, const char *path, const char *key,
		      double *out)
{
	struct json_object *v = rd_get(rd, obj, path, key, json_type_double, "a number");

	if (!v)
		return false;
	*out = json_object_get_double(v);
	return true;
}

static bool rd_bool(struct rd *rd, struct json_object *obj, const char *path, const char *key,
		    bool *out)
{
	struct json_object *v = rd_get(rd, obj, path, key, json_type_boolean, "a boolean");

	if (!v)
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static struct json_object *rd_array(struct rd *rd, struct json_object *obj, const char *path,
				    const char *key, size_t *n)
{
	struct json_object *v = rd_get(rd, obj, path, key, json_type_array, "an array");

	*n = v ? json_object_array_length(v) : 0;
	return v;
}

static struct json_object *rd_object(struct rd *rd, struct json_object *obj, const char *path,
				     const char *key)
{
	return rd_get(rd, obj, path, key, json_type_object, "an object");
}

/* element i of arr, which must be an object */
static struct json_object *rd_elem(struct rd *rd, struct json_object *arr, const char *path,
				   size_t i)
{
	struct json_object *v = json_object_array_get_idx(arr, i);

	if (rd->ret)
		return NULL;
	if (!v || json_object_get_type(v) != json_type_object) {
		rd_fail(rd, -EBADMSG, "%s[%zu]: expected an object, got %s", path, i,
			v ? type_name(v) : "null");
		return NULL;
	}
	return v;
}

static void *rd_calloc(struct rd *rd, size_t n, size_t size)
{
	void *p;

	if (rd->ret)
		return NULL;
	p = calloc(n ? n : 1, size);
	if (!p)
		rd_fail(rd, -ENOMEM, "out of memory");
	return p;
}

static void copy_comm(char dst[16], const char *s)
{
	/* comm is 16 bytes, not necessarily NUL-terminated, as the kernel's */
	memset(dst, 0, 16);
	if (s)
		memcpy(dst, s, strnlen(s, 16));
}

/* a NULL-terminated argv whose strings point into the JSON; NULL when absent */
static char **rd_argv(struct rd *rd, struct json_object *obj, const char *path, const char *key)
{
	struct json_object *a;
	char **argv;
	size_t n, i;

	a = rd_array(rd, obj, path, key, &n);
	if (!a)
		return NULL;
	argv = rd_calloc(rd, n + 1, sizeof(*argv));
	for (i = 0; argv && i < n; i++) {
		struct json_object *s = json_object_array_get_idx(a, i);

		if (!s || json_object_get_type(s) != json_type_string) {
			rd_fail(rd, -EBADMSG, "%s%s%s[%zu]: expected a string, got %s", path,
				*path ? "." : "", key, i, s ? type_name(s) : "null");
			break;
		}
		argv[i] = (char *)json_object_get_string(s);
	}
	return argv;
}

/* { "code": n|null, "signal": n|null, "oom_killed": bool } */
static void rd_exit(struct rd *rd, struct json_object *obj, const char *path, bool *exited,
		    int *code, int *sig, bool *oom_killed)
{
	struct json_object *ex = rd_object(rd, obj, path, "exit");
	char p[256];
	int64_t v;

	if (!ex)
		return;
	path_fmt(p, sizeof(p), "%s%sexit", path, *path ? "." : "");
	if (rd_int(rd, ex, p, "code", INT32_MIN, INT32_MAX, &v)) {
		*code = (int)v;
		*exited = true;
	}
	if (rd_int(rd, ex, p, "signal", 0, 255, &v)) {
		*sig = (int)v;
		*exited = true;
	}
	rd_bool(rd, ex, p, "oom_killed", oom_killed);
}

static void rd_growth(struct rd *rd, struct json_object *obj, const char *path, struct growth *g)
{
	static const char *const verdicts[] = { "insufficient-data", "stable", "plateau",
						"sawtooth", "growing", "leak" };
	static const char *const sevs[] = { "ok", "warning", "critical" };
	struct json_object *o = rd_object(rd, obj, path, "growth");
	const char *s;
	char p[256];
	size_t i;

	memset(g, 0, sizeof(*g));
	g->eta_limit_s = -1;
	g->p_value = 1;
	if (!o)
		return;
	path_fmt(p, sizeof(p), "%s%sgrowth", path, *path ? "." : "");
	if ((s = rd_str(rd, o, p, "verdict"))) {
		for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
			if (!strcmp(s, verdicts[i]))
				break;
		if (i == sizeof(verdicts) / sizeof(verdicts[0]))
			rd_fail(rd, -EBADMSG, "%s.verdict: unknown verdict \"%s\"", p, s);
		else
			g->verdict = (enum growth_verdict)i;
	}
	if ((s = rd_str(rd, o, p, "severity"))) {
		for (i = 0; i < sizeof(sevs) / sizeof(sevs[0]); i++)
			if (!strcmp(s, sevs[i]))
				break;
		if (i == sizeof(sevs) / sizeof(sevs[0]))
			rd_fail(rd, -EBADMSG, "%s.severity: unknown severity \"%s\"", p, s);
		else
			g->severity = (enum growth_severity)i;
	}
	rd_double(rd, o, p, "slope_bytes_per_s", &g->slope_bps);
	rd_double(rd, o, p, "r2", &g->r2);
	rd_double(rd, o, p, "eta_limit_s", &g->eta_limit_s);
	rd_double(rd, o, p, "p_value", &g->p_value);
}

static void rd_series(struct rd *rd, struct json_object *obj, const char *path,
		      struct rpt_point **out, size_t *n)
{
	struct json_object *a = rd_array(rd, obj, path, "series", n);
	char p[256];
	size_t i;

	*out = NULL;
	if (!a)
		return;
	*out = rd_calloc(rd, *n, sizeof(**out));
	for (i = 0; *out && i < *n && !rd->ret; i++) {
		struct json_object *o;
		int64_t v;

		path_fmt(p, sizeof(p), "%s%sseries", path, *path ? "." : "");
		o = rd_elem(rd, a, p, i);
		path_fmt(p, sizeof(p), "%s%sseries[%zu]", path, *path ? "." : "", i);
		if (!rd_double(rd, o, p, "t", &(*out)[i].t) && !rd->ret)
			rd_missing(rd, p, "t");
		rd_u64(rd, o, p, "rss_bytes", &(*out)[i].rss_bytes);
		/* heap is live tracked bytes: it may dip below zero when frees predate the trace */
		if (rd_int(rd, o, p, "heap_bytes", INT64_MIN, INT64_MAX, &v))
			(*out)[i].heap_bytes = v < 0 ? 0 : (uint64_t)v;
	}
	if (rd->ret)
		*n = 0;
}

static const char *unknown_to_null(const char *s)
{
	return s && !strcmp(s, REPORT_UNKNOWN) ? NULL : s;
}

static void rd_frames(struct rd *rd, struct json_object *a, const char *path,
		      struct rpt_frame *frames, size_t n)
{
	char p[256];
	size_t i;

	for (i = 0; i < n && !rd->ret; i++) {
		struct json_object *o = rd_elem(rd, a, path, i);
		struct rpt_frame *fr = &frames[i];
		const char *addr;
		int64_t line;
		char *end;

		path_fmt(p, sizeof(p), "%s[%zu]", path, i);
		fr->func = unknown_to_null(rd_str(rd, o, p, "func"));
		fr->module = unknown_to_null(rd_str(rd, o, p, "module"));
		fr->file = rd_str(rd, o, p, "file");
		if (rd_int(rd, o, p, "line", 0, INT32_MAX, &line))
			fr->line = (int)line;
		fr->lang = rd_str(rd, o, p, "lang");
		if (fr->lang && strcmp(fr->lang, "c") && strcmp(fr->lang, "python"))
			rd_fail(rd, -EBADMSG, "%s.lang: unknown language \"%s\"", p, fr->lang);
		fr->build_id = rd_str(rd, o, p, "build_id");
		if ((addr = rd_str(rd, o, p, "addr"))) {
			errno = 0;
			fr->addr = strtoull(addr, &end, 16);
			if (strncmp(addr, "0x", 2) || errno || end == addr + 2 || *end)
				rd_fail(rd, -EBADMSG, "%s.addr: \"%s\" is not a hex address", p,
					addr);
		}
		rd_u64(rd, o, p, "func_off", &fr->func_off);
	}
}

static void rd_stack(struct rd *rd, struct json_object *o, const char *p, struct rpt_stack *st)
{
	struct json_object *fa;
	char fp[256];

	if (!rd_int(rd, o, p, "live_bytes", INT64_MIN, INT64_MAX, &st->live_bytes) && !rd->ret)
		rd_missing(rd, p, "live_bytes");
	rd_int(rd, o, p, "live_allocs", INT64_MIN, INT64_MAX, &st->live_allocs);
	rd_u64(rd, o, p, "alloc_bytes", &st->alloc_bytes);
	rd_u64(rd, o, p, "allocs", &st->allocs);
	rd_u64(rd, o, p, "stack_id", &st->stack_id);
	rd_int(rd, o, p, "growth_bytes", INT64_MIN, INT64_MAX, &st->growth_bytes);
	rd_double(rd, o, p, "slope_bytes_per_s", &st->slope_bps);
	fa = rd_array(rd, o, p, "frames", &st->nframes);
	if (!fa) {
		st->nframes = 0;
		return;
	}
	st->frames = rd_calloc(rd, st->nframes, sizeof(*st->frames));
	path_fmt(fp, sizeof(fp), "%s.frames", p);
	if (st->frames)
		rd_frames(rd, fa, fp, st->frames, st->nframes);
	else
		st->nframes = 0;
}

static void rd_stacks(struct rd *rd, struct json_object *obj, const char *path, const char *key,
		      struct rpt_stack **out, size_t *n)
{
	struct json_object *a = rd_array(rd, obj, path, key, n);
	char ap[256], p[256];
	size_t i;

	*out = NULL;
	if (!a)
		return;
	*out = rd_calloc(rd, *n, sizeof(**out));
	if (!*out) {
		*n = 0;
		return;
	}
	path_fmt(ap, sizeof(ap), "%s%s%s", path, *path ? "." : "", key);
	for (i = 0; i < *n && !rd->ret; i++) {
		struct json_object *o = rd_elem(rd, a, ap, i);

		path_fmt(p, sizeof(p), "%s[%zu]", ap, i);
		if (o)
			rd_stack(rd, o, p, &(*out)[i]);
	}
}

static void rd_by_test(struct rd *rd, struct json_object *obj, const char *path,
		       struct rpt_test **out, size_t *n)
{
	struct json_object *a = rd_array(rd, obj, path, "by_test", n);
	char ap[256], p[256];
	size_t i;

	*out = NULL;
	if (!a)
		return;
	*out = rd_calloc(rd, *n, sizeof(**out));
	if (!*out) {
		*n = 0;
		return;
	}
	path_fmt(ap, sizeof(ap), "%s%sby_test", path, *path ? "." : "");
	for (i = 0; i < *n && !rd->ret; i++) {
		struct json_object *o = rd_elem(rd, a, ap, i);

		path_fmt(p, sizeof(p), "%s[%zu]", ap, i);
		(*out)[i].test = rd_str(rd, o, p, "test");
		rd_int(rd, o, p, "live_bytes", INT64_MIN, INT64_MAX, &(*out)[i].live_bytes);
	}
}

/* the parts of a process both documents share: series, growth, stacks, by_test */
static void rd_process_body(struct rd *rd, struct json_object *o, const char *p,
			    struct rpt_process *pr, const char *stacks_key)
{
	size_t i;

	rd_series(rd, o, p, &pr->series, &pr->npoints);
	rd_growth(rd, o, p, &pr->growth);
	rd_stacks(rd, o, p, stacks_key, &pr->stacks, &pr->nstacks);
	rd_by_test(rd, o, p, &pr->by_test, &pr->ntests);
	if (pr->npoints) {
		pr->rss_bytes = pr->series[pr->npoints - 1].rss_bytes;
		pr->heap_bytes = (int64_t)pr->series[pr->npoints - 1].heap_bytes;
	} else {
		for (i = 0; i < pr->nstacks; i++)
			pr->heap_bytes += pr->stacks[i].live_bytes;
	}
}

static void rd_process(struct rd *rd, struct json_object *o, const char *p, struct rpt_process *pr)
{
	int64_t v;

	if (rd_int(rd, o, p, "pid", 0, INT32_MAX, &v))
		pr->pid = (int)v;
	else if (!rd->ret)
		rd_missing(rd, p, "pid");
	if (rd_int(rd, o, p, "ppid", 0, INT32_MAX, &v))
		pr->ppid = (int)v;
	copy_comm(pr->comm, rd_str(rd, o, p, "comm"));
	pr->argv = rd_argv(rd, o, p, "argv");
	rd_exit(rd, o, p, &pr->exited, &pr->exit_code, &pr->exit_signal, &pr->oom_killed);
	rd_bool(rd, o, p, "exited", &pr->exited);
	rd_process_body(rd, o, p, pr, "stacks");
	/* the last sample, when the writer gave it, wins over the series' last point */
	rd_u64(rd, o, p, "rss_bytes", &pr->rss_bytes);
	rd_int(rd, o, p, "heap_bytes", INT64_MIN, INT64_MAX, &pr->heap_bytes);
	rd_u64(rd, o, p, "limit_bytes", &pr->limit_bytes);
	pr->cgroup = rd_str(rd, o, p, "cgroup");
}

static void rd_trace(struct rd *rd, struct json_object *root, struct rpt_doc *d)
{
	struct rpt *r = &d->rpt;
	struct json_object *a, *o;
	const char *s;
	char p[64];
	size_t i, n;
	int64_t v;

	if ((s = rd_str(rd, root, "", "started_at")))
		snprintf(r->started_at, sizeof(r->started_at), "%s", s);
	rd_double(rd, root, "", "duration_s", &r->duration_s);
	rd_double(rd, root, "", "interval_s", &r->interval_s);
	r->mode = rd_str(rd, root, "", "mode");
	if (r->mode && strcmp(r->mode, "exact") && strcmp(r->mode, "watch"))
		rd_fail(rd, -EBADMSG, "mode: unknown mode \"%s\"", r->mode);
	rd_u64(rd, root, "", "sample_bytes", &r->sample_bytes);

	if ((o = rd_object(rd, root, "", "target"))) {
		if (rd_int(rd, o, "target", "pid", 0, INT32_MAX, &v))
			r->target_pid = (int)v;
		r->target_argv = rd_argv(rd, o, "target", "argv");
		rd_exit(rd, o, "target", &r->target_exited, &r->target_exit_code,
			&r->target_exit_signal, &r->target_oom_killed);
		rd_bool(rd, o, "target", "exited", &r->target_exited);
	}

	a = rd_array(rd, root, "", "processes", &n);
	if (!a && !rd->ret)
		rd_missing(rd, "", "processes");
	r->procs = rd_calloc(rd, n, sizeof(*r->procs));
	if (r->procs)
		r->nprocs = n;
	for (i = 0; i < r->nprocs && !rd->ret; i++) {
		o = rd_elem(rd, a, "processes", i);
		path_fmt(p, sizeof(p), "processes[%zu]", i);
		rd_process(rd, o, p, &r->procs[i]);
	}

	a = rd_array(rd, root, "", "oom_kills", &n);
	if (a) {
		r->oom_kills = rd_calloc(rd, n, sizeof(*r->oom_kills));
		if (r->oom_kills)
			r->noom_kills = n;
	}
	for (i = 0; i < r->noom_kills && !rd->ret; i++) {
		o = rd_elem(rd, a, "oom_kills", i);
		path_fmt(p, sizeof(p), "oom_kills[%zu]", i);
		if (rd_int(rd, o, p, "pid", 0, INT32_MAX, &v))
			r->oom_kills[i].pid = (int)v;
		copy_comm(r->oom_kills[i].comm, rd_str(rd, o, p, "comm"));
		r->oom_kills[i].dump = rd_str(rd, o, p, "dump");
	}

	if ((o = rd_object(rd, root, "", "stats"))) {
		rd_u64(rd, o, "stats", "events", &r->stats.events);
		rd_u64(rd, o, "stats", "lost_events", &r->stats.lost_events);
		rd_u64(rd, o, "stats", "dropped_allocs", &r->stats.dropped_allocs);
		rd_u64(rd, o, "stats", "dropped_stacks", &r->stats.dropped_stacks);
	}
}

/*
 * An OOM dump as a report of one process, the victim. Its series, growth,
 * stacks and by_test have the trace report's shapes, at the top level or in
 * "victim"; the memcg limit is the line the chart draws.
 */
static void rd_oom(struct rd *rd, struct json_object *root, struct rpt_doc *d)
{
	struct rpt *r = &d->rpt;
	struct rpt_process *pr;
	struct json_object *victim, *memcg, *body;
	const char *s;
	int64_t v;

	victim = rd_object(rd, root, "", "victim");
	if (!victim && !rd->ret)
		rd_missing(rd, "", "victim");
	if ((s = rd_str(rd, root, "", "time")))
		snprintf(r->started_at, sizeof(r->started_at), "%s", s);
	r->mode = "exact";
	r->procs = rd_calloc(rd, 1, sizeof(*r->procs));
	if (rd->ret)
		return;
	r->nprocs = 1;
	pr = &r->procs[0];
	if (rd_int(rd, victim, "victim", "pid", 1, INT32_MAX, &v))
		pr->pid = (int)v;
	else if (!rd->ret)
		rd_missing(rd, "victim", "pid");
	copy_comm(pr->comm, rd_str(rd, victim, "victim", "comm"));
	pr->argv = rd_argv(rd, victim, "victim", "argv");
	pr->exited = true;
	pr->exit_signal = 9;
	pr->oom_killed = true;
	rd_exit(rd, root, "", &pr->exited, &pr->exit_code, &pr->exit_signal, &pr->oom_killed);
	/* the writer may nest the history in the victim; the top level is the documented place */
	body = json_object_object_get_ex(root, "series", NULL) ||
	       json_object_object_get_ex(root, "stacks", NULL) ? root : victim;
	rd_process_body(rd, body, body == root ? "" : "victim", pr, "stacks");
	if (!pr->npoints)
		pr->rss_bytes = 0;
	if ((memcg = rd_object(rd, root, "", "memcg"))) {
		rd_u64(rd, memcg, "memcg", "limit_bytes", &pr->limit_bytes);
		pr->cgroup = rd_str(rd, memcg, "memcg", "path");
	}
	/* "max" may come through as the largest number some kernels report */
	if (pr->limit_bytes >= (1ULL << 62))
		pr->limit_bytes = 0;

	r->target_pid = pr->pid;
	r->target_argv = NULL;
	r->target_exited = pr->exited;
	r->target_exit_code = pr->exit_code;
	r->target_exit_signal = pr->exit_signal;
	r->target_oom_killed = true;
	r->oom_kills = rd_calloc(rd, 1, sizeof(*r->oom_kills));
	if (r->oom_kills) {
		r->noom_kills = 1;
		r->oom_kills[0].pid = pr->pid;
		memcpy(r->oom_kills[0].comm, pr->comm, 16);
	}
	if (pr->npoints)
		r->duration_s = pr->series[pr->npoints - 1].t - pr->series[0].t;
}

void rpt_doc__free(struct rpt_doc *d)
{
	struct rpt *r;
	size_t i, j;

	if (!d)
		return;
	r = &d->rpt;
	for (i = 0; i < r->nprocs; i++) {
		struct rpt_process *p = &r->procs[i];

		free(p->argv);
		free(p->series);
		for (j = 0; j < p->nstacks; j++)
			free(p->stacks[j].frames);
		free(p->stacks);
		free(p->by_test);
	}
	free(r->procs);
	free(r->oom_kills);
	free(r->target_argv);
	json_object_put(d->priv);
	free(d);
}

/* 1-based line and column of byte off in buf, for a parse error a person can find */
static void line_col(const char *buf, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int report__parse(const char *buf, size_t len, struct rpt_doc **out, char *err, size_t errlen)
{
	struct rd rd = { .err = err, .errlen = errlen };
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	struct rpt_doc *d = NULL;
	const char *schema;
	size_t off, line, col;

	if (errlen)
		err[0] = '\0';
	if (!out || (!buf && len))
		return -EINVAL;
	*out = NULL;
	if (len > INT32_MAX) {
		rd_fail(&rd, -EBADMSG, "too large to parse");
		goto cleanup;
	}
	off = 0;
	while (off < len && strchr(" \t\r\n", buf[off]))
		off++;
	if (off == len) {
		rd_fail(&rd, -EBADMSG, "empty file: not a memslope report");
		goto cleanup;
	}
	tok = json_tokener_new();
	if (!tok) {
		rd_fail(&rd, -ENOMEM, "out of memory");
		goto cleanup;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		rd_fail(&rd, -EBADMSG, "not a memslope report: truncated JSON");
		goto cleanup;
	}
	if (jerr != json_tokener_success || !root) {
		line_col(buf, off, &line, &col);
		rd_fail(&rd, -EBADMSG, "not a memslope report: not JSON (%s at line %zu, column %zu)",
			json_tokener_error_desc(jerr), line, col);
		goto cleanup;
	}
	while (off < len && strchr(" \t\r\n", buf[off]))
		off++;
	if (off < len) {
		line_col(buf, off, &line, &col);
		rd_fail(&rd, -EBADMSG, "not a memslope report: data after the JSON document at line %zu, column %zu",
			line, col);
		goto cleanup;
	}
	if (json_object_get_type(root) != json_type_object) {
		rd_fail(&rd, -EBADMSG, "not a memslope report: the JSON is %s, not an object",
			type_name(root));
		goto cleanup;
	}
	schema = rd_str(&rd, root, "", "schema");
	if (rd.ret)
		goto cleanup;
	if (!schema) {
		rd_fail(&rd, -EBADMSG, "not a memslope report: no \"schema\" field");
		goto cleanup;
	}
	if (strcmp(schema, REPORT_SCHEMA) && strcmp(schema, OOM_SCHEMA)) {
		if (!strncmp(schema, "memslope.", 9))
			rd_fail(&rd, -EPROTONOSUPPORT,
				"unsupported schema \"%s\": this memslope reads %s and %s", schema,
				REPORT_SCHEMA, OOM_SCHEMA);
		else
			rd_fail(&rd, -EBADMSG, "not a memslope report: schema is \"%s\"", schema);
		goto cleanup;
	}
	d = rd_calloc(&rd, 1, sizeof(*d));
	if (!d)
		goto cleanup;
	d->priv = root;
	d->schema = schema;
	root = NULL;
	if (!strcmp(schema, REPORT_SCHEMA))
		rd_trace(&rd, d->priv, d);
	else
		rd_oom(&rd, d->priv, d);
	if (!rd.ret && !d->rpt.mode)
		d->rpt.mode = "exact";
cleanup:
	if (tok)
		json_tokener_free(tok);
	json_object_put(root);
	if (rd.ret) {
		rpt_doc__free(d);
		return rd.ret;
	}
	*out = d;
	return 0;
}

int report__read(const char *path, struct rpt_doc **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		snprintf(err, errlen, "is a directory, not a report");
		goto cleanup;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > REPORT_READ_MAX_SIZE) {
		ret = -EFBIG;
		snprintf(err, errlen, "too large (%" PRIu64 " bytes, at most %u)",
			 (uint64_t)st.st_size, REPORT_READ_MAX_SIZE);
		goto cleanup;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			if (cap > REPORT_READ_MAX_SIZE) {
				ret = -EFBIG;
				snprintf(err, errlen, "too large (more than %u bytes)",
					 REPORT_READ_MAX_SIZE);
				goto cleanup;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				ret = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				goto cleanup;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read: %s", strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	ret = report__parse(buf, len, out, err, errlen);
cleanup:
	free(buf);
	close(fd);
	return ret;
}

static int write_format(const struct rpt *r, enum report_format fmt, FILE *f)
{
	switch (fmt) {
	case REPORT_FMT_JSON:
		return report__write_json(r, f);
	case REPORT_FMT_PPROF:
		return report__write_pprof(r, f);
	case REPORT_FMT_FOLDED:
		return report__write_folded(r, f, true);
	case REPORT_FMT_FOLDED_BARE:
		return report__write_folded(r, f, false);
	case REPORT_FMT_HTML:
		return report__write_html(r, f);
	}
	return -EINVAL;
}

int report__save(const struct rpt *r, enum report_format fmt, const char *path)
{
	char *tmp = NULL;
	FILE *f = NULL;
	mode_t mask;
	int fd = -1, err;

	if (!r || !path || !*path)
		return -EINVAL;
	if (!strcmp(path, "-"))
		return write_format(r, fmt, stdout);
	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	/* mkstemp makes 0600; a report is as readable as any file the user creates */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask)) {
		err = -errno;
		goto cleanup;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		goto cleanup;
	}
	fd = -1;
	err = write_format(r, fmt, f);
	if (fclose(f) && !err)
		err = errno ? -errno : -EIO;
	f = NULL;
	if (!err && rename(tmp, path))
		err = -errno;
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
