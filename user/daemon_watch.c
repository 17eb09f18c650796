// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon_watch.c - the watch tier's per-process series and verdicts, in memory bounded by max_procs */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "daemon_watch.h"
#include "report.h"

struct watch {
	struct watch_cfg cfg;
	char root[256];
	struct wproc **procs;	/* sorted by pid */
	size_t n, cap;
	size_t untracked, flagged;
	long page;
};

struct watch *watch__new(const struct watch_cfg *cfg)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	watch__set_cfg(w, cfg);
	w->page = sysconf(_SC_PAGESIZE);
	return w;
}

void watch__set_cfg(struct watch *w, const struct watch_cfg *cfg)
{
	w->cfg = *cfg;
	snprintf(w->root, sizeof(w->root), "%s", cfg->root ? cfg->root : "");
	w->cfg.root = w->root;
	if (w->cfg.series_points < 3)
		w->cfg.series_points = 3;
}

static void wproc_free(struct wproc *p)
{
	if (!p)
		return;
	series__free(p->rss);
	free(p);
}

void watch__free(struct watch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		wproc_free(w->procs[i]);
	free(w->procs);
	free(w);
}

static int cmp_rec(const void *a, const void *b)
{
	const struct ms_task_rec *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static bool is_flagged(const struct growth *g)
{
	return g->verdict == GV_LEAK || (g->verdict == GV_GROWING && g->severity >= GS_WARNING);
}

/* The verdict on p's series after a new point. */
static void judge(struct watch *w, struct wproc *p)
{
	const struct growth_cfg *g = &w->cfg.gcfg;
	size_t len = series__len(p->rss);

	if (len >= 2 && p->nflat + 1 >= len) {
		/* not one byte of change in the whole window: nothing to analyze */
		double t0, t1, v;

		series__get(p->rss, 0, &t0, &v);
		series__last(p->rss, &t1, &v);
		memset(&p->growth, 0, sizeof(p->growth));
		p->growth.verdict = len < g->min_points || t1 - t0 < g->min_span_s ? GV_INSUFFICIENT
										 : GV_STABLE;
		p->growth.p_value = 1;
		p->growth.window_s = t1 - t0;
		p->growth.window_points = len;
	} else {
		growth__analyze(p->rss, g, 0, &p->growth);
	}
	p->flagged = p->pid != w->cfg.self_pid && is_flagged(&p->growth);
	p->growth.eta_limit_s = -1;
	if (!p->flagged)
		return;
	/* a limit is only worth its file reads while the process is flagged */
	if (cgroup__mem_limit(p->pid, w->root, &p->limit_bytes, p->cgroup, sizeof(p->cgroup)))
		p->limit_bytes = 0;
	if (p->growth.slope_bps > 0 && p->limit_bytes > p->rss_bytes)
		p->growth.eta_limit_s = (p->limit_bytes - p->rss_bytes) / p->growth.slope_bps;
}

static void wproc_update(struct watch *w, struct wproc *p, const struct ms_task_rec *r, double t)
{
	uint64_t rss;

	p->ppid = r->ppid;
	p->uid = r->uid;
	p->memcg_id = r->memcg_id;
	memcpy(p->comm, r->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	p->anon_bytes = r->anon_pages * w->page;
	p->file_bytes = r->file_pages * w->page;
	p->shmem_bytes = r->shmem_pages * w->page;
	rss = p->anon_bytes + p->file_bytes + p->shmem_bytes;
	if (series__len(p->rss) && rss == p->rss_bytes)
		p->nflat++;
	else
		p->nflat = 0;
	p->rss_bytes = rss;
	series__push(p->rss, t, (double)rss);
	judge(w, p);
}

static struct wproc *wproc_new(struct watch *w, const struct ms_task_rec *r)
{
	struct wproc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = r->pid;
	p->start_ns = r->start_ns;
	p->rss = series__new(w->cfg.series_points);
	if (!p->rss) {
		free(p);
		return NULL;
	}
	return p;
}

int watch__update(struct watch *w, struct ms_task_rec *recs, size_t n, double t,
		  watch_gone_fn fn, void *ctx)
{
	struct wproc **np;
	size_t i = 0, j, kept = 0, room, k = 0, cap;
	int err = 0;

	qsort(recs, n, sizeof(*recs), cmp_rec);
	/* first: how many tracked processes live on, so that they keep their slots */
	for (j = 0; j < n; j++) {
		while (i < w->n && w->procs[i]->pid < (int)recs[j].pid)
			i++;
		if (i < w->n && w->procs[i]->pid == (int)recs[j].pid &&
		    w->procs[i]->start_ns == recs[j].start_ns)
			kept++;
	}
	room = w->cfg.max_procs > kept ? w->cfg.max_procs - kept : 0;
	cap = kept + (n - kept < room ? n - kept : room);
	np = calloc(cap ? cap : 1, sizeof(*np));
	if (!np)
		return -ENOMEM;

	w->untracked = 0;
	w->flagged = 0;
	for (i = 0, j = 0; j < n; j++) {
		const struct ms_task_rec *r = &recs[j];
		struct wproc *p = NULL;

		for (; i < w->n && w->procs[i]->pid <= (int)r->pid; i++) {
			struct wproc *o = w->procs[i];

			if (o->pid == (int)r->pid && o->start_ns == r->start_ns) {
				p = o;	/* the same process */
				continue;
			}
			if (fn)
				fn(ctx, o);	/* exited, or its pid was reused */
			wproc_free(o);
		}
		if (!p) {
			if (!room) {
				w->untracked++;
				continue;
			}
			p = wproc_new(w, r);
			if (!p) {
				err = -ENOMEM;
				w->untracked++;
				continue;
			}
			room--;
		}
		wproc_update(w, p, r, t);
		w->flagged += p->flagged;
		np[k++] = p;
	}
	for (; i < w->n; i++) {
		if (fn)
			fn(ctx, w->procs[i]);
		wproc_free(w->procs[i]);
	}
	free(w->procs);
	w->procs = np;
	w->n = k;
	w->cap = cap;
	return err;
}

size_t watch__count(const struct watch *w)
{
	return w->n;
}

struct wproc *watch__at(const struct watch *w, size_t i)
{
	return i < w->n ? w->procs[i] : NULL;
}

struct wproc *watch__get(const struct watch *w, int pid)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->procs[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->n && w->procs[lo]->pid == pid ? w->procs[lo] : NULL;
}

size_t watch__untracked(const struct watch *w)
{
	return w->untracked;
}

size_t watch__flagged(const struct watch *w)
{
	return w->flagged;
}

struct rpt_point *watch__points(const struct wproc *p, size_t *n)
{
	size_t len = series__len(p->rss);
	struct rpt_point *pts;

	*n = 0;
	if (!len)
		return NULL;
	pts = calloc(len, sizeof(*pts));
	if (!pts)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		double t, v;

		series__get(p->rss, i, &t, &v);
		pts[i].t = t;
		pts[i].rss_bytes = v;
	}
	*n = len;
	return pts;
}
