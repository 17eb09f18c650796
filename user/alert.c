// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* alert.c - memslope.alert/1 JSON-lines writer with per-pid hysteresis */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"

struct alert_state {
	int pid;
	unsigned int flagged_run;
	unsigned int leak_run;		/* "leak" verdicts in a row, part of flagged_run */
	unsigned int clear_run;
	double flagged_since;		/* now of the first evaluation of flagged_run */
	double leak_since;		/* now of the first evaluation of leak_run */
	bool alerted;
	enum growth_severity alerted_sev;	/* highest severity alerted in this episode */
	double last_alert;
	double last_seen;
};

struct alerter {
	int fd;
	struct alerter_cfg cfg;
	char host[256];
	struct alert_state *st;	/* sorted by pid */
	size_t n;
};

void alerter_cfg__default(struct alerter_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flag_after = 2;
	cfg->clear_after = 3;
	cfg->realert_s = 600;
	cfg->max_pids = 4096;
	cfg->leak_min_s = 1.5;
	cfg->growing_min_s = 60;
}

struct alerter *alerter__new(int fd, const struct alerter_cfg *cfg)
{
	struct alerter_cfg def;
	struct alerter *a;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	alerter_cfg__default(&def);
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->fd = fd;
	a->cfg = cfg ? *cfg : def;
	if (!a->cfg.flag_after)
		a->cfg.flag_after = def.flag_after;
	if (!a->cfg.clear_after)
		a->cfg.clear_after = def.clear_after;
	if (a->cfg.realert_s == 0)
		a->cfg.realert_s = def.realert_s;
	if (!a->cfg.max_pids)
		a->cfg.max_pids = def.max_pids;
	if (a->cfg.leak_min_s == 0)
		a->cfg.leak_min_s = def.leak_min_s;
	if (a->cfg.growing_min_s == 0)
		a->cfg.growing_min_s = def.growing_min_s;
	if (a->cfg.host)
		snprintf(a->host, sizeof(a->host), "%s", a->cfg.host);
	else if (gethostname(a->host, sizeof(a->host) - 1))
		snprintf(a->host, sizeof(a->host), "unknown");
	a->cfg.host = NULL;	/* not kept: the caller's string may go away */
	a->st = calloc(a->cfg.max_pids, sizeof(*a->st));
	if (!a->st) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void alerter__free(struct alerter *a)
{
	if (!a)
		return;
	free(a->st);
	free(a);
}

size_t alerter__tracked(const struct alerter *a)
{
	return a ? a->n : 0;
}

/* index of pid, or where it would go */
static size_t alert_find(const struct alerter *a, int pid, bool *found)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->st[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < a->n && a->st[lo].pid == pid;
	return lo;
}

static void alert_remove(struct alerter *a, size_t i)
{
	memmove(&a->st[i], &a->st[i + 1], (a->n - i - 1) * sizeof(*a->st));
	a->n--;
}

static struct alert_state *alert_get(struct alerter *a, int pid, double now)
{
	bool found;
	size_t i = alert_find(a, pid, &found), j, victim = 0;

	if (found)
		return &a->st[i];
	if (a->n == a->cfg.max_pids) {
		/* full: drop the state seen longest ago, preferring one not mid-alert */
		for (j = 1; j < a->n; j++) {
			const struct alert_state *v = &a->st[victim], *c = &a->st[j];

			if ((v->alerted && !c->alerted) ||
			    (v->alerted == c->alerted && c->last_seen < v->last_seen))
				victim = j;
		}
		alert_remove(a, victim);
		i = alert_find(a, pid, &found);
	}
	memmove(&a->st[i + 1], &a->st[i], (a->n - i) * sizeof(*a->st));
	a->n++;
	memset(&a->st[i], 0, sizeof(a->st[i]));
	a->st[i].pid = pid;
	a->st[i].last_seen = now;
	return &a->st[i];
}

void alerter__forget(struct alerter *a, int pid)
{
	bool found;
	size_t i;

	if (!a)
		return;
	i = alert_find(a, pid, &found);
	if (found)
		alert_remove(a, i);
}

/* doubles with 6 significant digits: %.17g noise helps nobody reading alerts */
static json_object *alert_double(double v)
{
	char buf[64];

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static json_object *alert_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void alert_ts(double now, char *buf, size_t len)
{
	time_t secs = (time_t)floor(now);
	unsigned int ms = (unsigned int)((now - floor(now)) * 1000) % 1000;
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ", ms);
}

/* the whole line in one write(); a short write of a regular file or pipe is resumed */
static int alert_write(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= n;
	}
	return 0;
}

static int alert_emit(struct alerter *a, double now, const char *event,
		      const struct alert_proc *p, const struct growth *g,
		      const struct alert_stack *stacks, size_t nstacks, const char *dump)
{
	json_object *o = json_object_new_object(), *arr;
	const char *text;
	char ts[40], *line = NULL;
	size_t i, len;
	int err = -ENOMEM;

	if (!o)
		return -ENOMEM;
	alert_ts(now, ts, sizeof(ts));
	json_object_object_add(o, "schema", json_object_new_string("memslope.alert/1"));
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "host", json_object_new_string(a->host));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "comm", alert_str(p->comm));
	arr = NULL;
	if (p->argv) {
		arr = json_object_new_array();
		for (i = 0; arr && p->argv[i]; i++)
			json_object_array_add(arr, json_object_new_string(p->argv[i]));
	}
	json_object_object_add(o, "argv", arr);
	json_object_object_add(o, "cgroup", alert_str(p->cgroup));
	json_object_object_add(o, "rss_bytes", json_object_new_uint64(p->rss_bytes));
	json_object_object_add(o, "slope_bytes_per_s", g ? alert_double(g->slope_bps) : NULL);
	json_object_object_add(o, "r2", g ? alert_double(g->r2) : NULL);
	json_object_object_add(o, "verdict", g ? alert_str(growth_verdict__str(g->verdict)) : NULL);
	json_object_object_add(o, "severity",
			       g ? alert_str(growth_severity__str(g->severity)) : NULL);
	json_object_object_add(o, "limit_bytes",
			       p->limit_bytes ? json_object_new_uint64(p->limit_bytes) : NULL);
	json_object_object_add(o, "eta_limit_s",
			       g && g->eta_limit_s >= 0 ? alert_double(g->eta_limit_s) : NULL);
	arr = json_object_new_array();
	for (i = 0; arr && i < nstacks; i++) {
		json_object *s = json_object_new_object();

		if (!s)
			break;
		json_object_object_add(s, "live_bytes", json_object_new_int64(stacks[i].live_bytes));
		json_object_object_add(s, "slope_bytes_per_s", alert_double(stacks[i].slope_bps));
		json_object_object_add(s, "stack", alert_str(stacks[i].frames));
		json_object_array_add(arr, s);
	}
	json_object_object_add(o, "top_stacks", arr);
	json_object_object_add(o, "dump", alert_str(dump));

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		goto cleanup;
	len = strlen(text);
	line = malloc(len + 2);
	if (!line)
		goto cleanup;
	memcpy(line, text, len);
	line[len] = '\n';
	err = alert_write(a->fd, line, len + 1);
cleanup:
	free(line);
	json_object_put(o);
	return err;
}

static bool alert_flagged(const struct growth *g)
{
	return g->verdict == GV_LEAK || (g->verdict == GV_GROWING && g->severity >= GS_WARNING);
}

int alerter__feed(struct alerter *a, double now, const struct alert_proc *p,
		  const struct growth *g, const struct alert_stack *stacks, size_t nstacks)
{
	struct alert_state *st;
	int err;

	if (!a || !p || !g)
		return -EINVAL;
	st = alert_get(a, p->pid, now);
	st->last_seen = now;
	if (g->verdict == GV_INSUFFICIENT)
		return 0;

	if (alert_flagged(g)) {
		bool fire;

		st->clear_run = 0;
		if (!st->flagged_run)
			st->flagged_since = now;
		if (st->flagged_run < UINT32_MAX)
			st->flagged_run++;
		if (g->verdict != GV_LEAK) {
			st->leak_run = 0;
		} else if (st->leak_run < UINT32_MAX) {
			if (!st->leak_run++)
				st->leak_since = now;
		}
		/*
		 * A warm-up's first seconds look linear; its slowing shows only later. So
		 * linear growth alerts after a short run of leak verdicts, the rest only if
		 * it keeps growing for much longer.
		 */
		if (!st->alerted)
			fire = st->flagged_run >= a->cfg.flag_after &&
			       ((st->leak_run >= a->cfg.flag_after &&
				 now - st->leak_since >= a->cfg.leak_min_s) ||
				now - st->flagged_since >= a->cfg.growing_min_s);
		else
			fire = g->severity > st->alerted_sev ||
			       (a->cfg.realert_s > 0 && now - st->last_alert >= a->cfg.realert_s);
		if (!fire)
			return 0;
		err = alert_emit(a, now, "growth", p, g, stacks, nstacks, NULL);
		if (err)
			return err;	/* state unchanged: the next evaluation tries again */
		if (!st->alerted || g->severity > st->alerted_sev)
			st->alerted_sev = g->severity;
		st->alerted = true;
		st->last_alert = now;
		return 1;
	}

	st->flagged_run = 0;
	st->leak_run = 0;
	if (!st->alerted)
		return 0;
	if (++st->clear_run < a->cfg.clear_after)
		return 0;
	err = alert_emit(a, now, "recovered", p, g, stacks, nstacks, NULL);
	if (err)
		return err;
	st->alerted = false;
	st->clear_run = 0;
	return 1;
}

int alerter__oom_kill(struct alerter *a, double now, const struct alert_proc *p,
		      const struct growth *g, const struct alert_stack *stacks, size_t nstacks,
		      const char *dump)
{
	int err;

	if (!a || !p)
		return -EINVAL;
	err = alert_emit(a, now, "oom_kill", p, g, stacks, nstacks, dump);
	alerter__forget(a, p->pid);
	return err;
}
