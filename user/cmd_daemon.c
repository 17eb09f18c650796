// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cmd_daemon.c - `memslope daemon`: watch every process, alert on growth, escalate, dump OOM kills, serve metrics */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "bpf_tracer.h"
#include "commands.h"
#include "daemon_cfg.h"
#include "daemon_escalate.h"
#include "daemon_http.h"
#include "daemon_metrics.h"
#include "daemon_watch.h"
#include "log.h"
#include "oomdump.h"
#include "oomevent.h"
#include "report.h"
#include "procfs.h"

#define PENDING_MAX	64	/* OOM kills waiting for their exit event */
#define OOM_EXIT_WAIT	2.0	/* seconds to wait for a victim's exit event before dumping anyway */
#define POLL_MAX_MS	250	/* signals and the ring buffer are looked at this often at least */

static const char usage_head[] =
"USAGE: memslope daemon [OPTIONS]\n"
"\n"
"Watch the memory of every process on the host (one BPF iter/task pass per interval, no\n"
"allocator probes), judge each process's growth, alert on leaks and sustained growth,\n"
"trace flagged processes exactly for a while to name the stacks that grow, write a dump\n"
"for every OOM kill, and serve Prometheus metrics. Settings come from the config file\n"
"(INI, [daemon] section, key = value); every setting is also a flag, which wins.\n"
"SIGHUP reloads the config file, SIGTERM stops (alerts flushed, pending dumps written).\n"
"\n"
"OPTIONS:\n"
"  -c, --config FILE           config file (default " DAEMON_CFG_PATH ", if present)\n";

static const char usage_tail[] =
"  -v, --verbose               more messages (-vv: libbpf's too)\n"
"  -h, --help                  this help\n"
"\n"
"HTTP: GET /metrics (Prometheus text format), GET /status (JSON, what `memslope status` shows).\n"
"\n"
"EXAMPLES:\n"
"  memslope daemon                                   defaults, or " DAEMON_CFG_PATH "\n"
"  memslope daemon --interval 1 --alerts /tmp/a.jsonl --dump-dir /tmp/oom --listen 127.0.0.1:9500\n"
"  memslope daemon --escalate no --growth-warn 10MB/h --growth-crit 50MB/h\n";

enum esc_state { ESC_NONE = 0, ESC_ACTIVE, ESC_DONE, ESC_FAILED };

/* What the daemon keeps about a process once it has been flagged (wproc->user). */
struct dproc {
	char **argv;
	enum esc_state esc;
	double esc_start;	/* seconds (daemon time) */
	bool fed;		/* the alerter has state for it */
	bool denied;		/* counted once as a busy-slot drop */
	size_t nstacks;
	struct alert_stack stacks[TRACE_STATE_TOP];
	char text[TRACE_STATE_TOP][TRACE_STATE_FRAMES_LEN];
};

/* An OOM kill whose dump is not written yet. */
struct pending {
	int pid;
	double since;		/* daemon time of the first event */
	bool have_oom, have_exit, escalated;
	struct ms_oom_event oom;
	int exit_code;
	uint64_t maxrss_pages;
	char comm[16];
	char **argv;
	struct rpt_point *series;
	size_t npoints;
	struct growth growth;
	uint64_t rss_bytes, limit_bytes;
	char cgroup[256];
	struct pending *next;
};

struct dflag {
	const char *key, *value;
};

struct daemon {
	struct daemon_cfg cfg;
	const char *config_path;	/* NULL: the default, if it exists */
	struct dflag *flags;
	size_t nflags;

	struct tracer *tracer;
	struct watch *watch;
	struct escalator *esc;
	struct alerter *alerter;
	int pipe_r, pipe_w;		/* alerter -> tee (file, stdout, recent) */
	int alerts_fd;
	char *line;			/* partial alert line */
	size_t linelen, linecap;
	struct http_server *http;
	char *http_listen;

	pthread_mutex_t lock;		/* guards view against the HTTP thread */
	struct dview view;
	uint64_t drops[DDROP__NR];
	uint64_t oom_kills, dumps_written, alerts[3], escalations;

	struct pending *pending;
	size_t npending;
	double start_mono;
	double start_wall;
	double last_pass;
	double pass_seconds;
	uint64_t passes;
	int self_pid;
	bool watch_failed;
	char host[256];
};

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}




static double now_t(const struct daemon *d)
{
	return mono() - d->start_mono;
}

/* --- settings ---------------------------------------------------------------- */

/* Defaults, then the config file, then the flags. Returns 0 or -errno with err set. */
static int cfg_build(const struct daemon *d, struct daemon_cfg *c, char *err, size_t errlen)
{
	const char *path = d->config_path ? d->config_path : DAEMON_CFG_PATH;
	int ret;

	ret = daemon_cfg__default(c);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = daemon_cfg__load(c, path, err, errlen);
	if (ret == -ENOENT && !d->config_path)
		ret = 0;	/* no file at the default place: defaults and flags */
	for (size_t i = 0; !ret && i < d->nflags; i++)
		ret = daemon_cfg__set(c, d->flags[i].key, d->flags[i].value, err, errlen);
	if (!ret)
		ret = daemon_cfg__check(c, err, errlen);
	if (ret)
		daemon_cfg__free(c);
	return ret;
}

static void watch_cfg_fill(const struct daemon *d, struct watch_cfg *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->max_procs = d->cfg.max_procs;
	wc->series_points = d->cfg.series_points;
	growth_cfg__default(&wc->gcfg);
	wc->gcfg.warn_bps = d->cfg.growth_warn;
	wc->gcfg.crit_bps = d->cfg.growth_crit;
	wc->gcfg.min_span_s = d->cfg.min_span;
	wc->gcfg.min_points = d->cfg.min_points;
	wc->self_pid = d->self_pid;
	wc->root = "";
}

/* --- alerts: the alerter writes into a pipe; each line goes to the file, stdout and /status -- */

static void tee_line(struct daemon *d, const char *line, size_t len)
{
	static const char *const events[] = { "\"event\":\"growth\"", "\"event\":\"recovered\"",
					      "\"event\":\"oom_kill\"" };
	char *buf = malloc(len + 1);

	if (!buf)
		return;
	memcpy(buf, line, len);
	buf[len] = '\n';
	if (d->alerts_fd >= 0 && write(d->alerts_fd, buf, len + 1) != (ssize_t)len + 1)
		d->drops[DDROP_ALERTS]++;
	if (d->cfg.alerts_stdout || d->alerts_fd < 0) {
		fwrite(buf, 1, len + 1, stdout);
		fflush(stdout);
	}
	free(buf);
	for (size_t i = 0; i < 3; i++)
		if (memmem(line, len, events[i], strlen(events[i])))
			d->alerts[i]++;
	pthread_mutex_lock(&d->lock);
	dview__add_recent(&d->view, line, len);
	pthread_mutex_unlock(&d->lock);
}

static void alerts_drain(struct daemon *d)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(d->pipe_r, buf, sizeof(buf))) > 0) {
		if (d->linelen + n > d->linecap) {
			size_t cap = (d->linelen + n) * 2;
			char *nl = realloc(d->line, cap);

			if (!nl)
				return;
			d->line = nl;
			d->linecap = cap;
		}
		memcpy(d->line + d->linelen, buf, n);
		d->linelen += n;
		for (;;) {
			char *eol = memchr(d->line, '\n', d->linelen);
			size_t l;

			if (!eol)
				break;
			l = eol - d->line;
			tee_line(d, d->line, l);
			memmove(d->line, eol + 1, d->linelen - l - 1);
			d->linelen -= l + 1;
		}
	}
}

static int alerts_open(struct daemon *d)
{
	const char *path = d->cfg.alerts;

	if (d->alerts_fd >= 0) {
		fsync(d->alerts_fd);
		close(d->alerts_fd);
		d->alerts_fd = -1;
	}
	if (!path[0] || !strcmp(path, "-"))
		return 0;
	d->alerts_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (d->alerts_fd < 0) {
		int e = errno;

		pr_err("cannot write alerts to %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* --- OOM kills --------------------------------------------------------------- */

static struct pending *pending_get(struct daemon *d, int pid)
{
	struct pending *p;
	struct wproc *w;

	for (p = d->pending; p; p = p->next)
		if (p->pid == pid)
			return p;
	if (d->npending >= PENDING_MAX) {
		d->drops[DDROP_DUMPS]++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		d->drops[DDROP_DUMPS]++;
		return NULL;
	}
	p->pid = pid;
	p->since = now_t(d);
	p->escalated = escalator__active(d->esc, pid);
	p->growth.eta_limit_s = -1;
	/* what the watch tier knew until now: the process is about to leave it */
	w = watch__get(d->watch, pid);
	if (w) {
		struct dproc *dp = w->user;

		p->series = watch__points(w, &p->npoints);
		p->growth = w->growth;
		p->rss_bytes = w->rss_bytes;
		p->limit_bytes = w->limit_bytes;
		snprintf(p->cgroup, sizeof(p->cgroup), "%s", w->cgroup);
		memcpy(p->comm, w->comm, sizeof(p->comm));
		if (dp)
			p->argv = argv__dup(dp->argv);
	}
	if (!p->argv)
		p->argv = procfs__argv(pid);	/* often still alive: the kill was only marked */
	p->next = d->pending;
	d->pending = p;
	d->npending++;
	return p;
}

static void pending_free(struct pending *p)
{
	argv__free(p->argv);
	free(p->series);
	free(p);
}

static void dump_write(struct daemon *d, struct pending *p)
{
	struct trace_state *ts = escalator__state(d->esc);
	long page = sysconf(_SC_PAGESIZE);
	struct rpt *r = NULL;
	struct rpt_stack last = {};
	struct alert_stack as[TRACE_STATE_TOP];
	char text[TRACE_STATE_TOP][TRACE_STATE_FRAMES_LEN];
	size_t nas = 0;
	char cg[OOMEVENT_CG_LEN], path[4096];
	struct oom_dump od;
	int err;

	oomdump__init(&od);
	od.victim.pid = p->pid;
	memcpy(od.victim.comm, p->comm, sizeof(od.victim.comm));
	od.victim.argv = p->argv;
	od.series = p->series;
	od.npoints = p->npoints;
	od.growth = p->growth;
	od.exit.known = p->have_exit;
	if (p->have_exit) {
		od.exit.signal = WIFSIGNALED(p->exit_code) ? WTERMSIG(p->exit_code) : 0;
		od.exit.code = od.exit.signal ? 0 : WEXITSTATUS(p->exit_code);
		od.exit.oom_killed = true;
	}
	if (p->maxrss_pages)
		od.victim.peak_rss_bytes = p->maxrss_pages * page;
	if (p->have_oom)
		oomevent__fill(&od, &p->oom, cg, sizeof(cg));

	if (p->escalated && escalator__active(d->esc, p->pid)) {
		/* exact tracing was on: its stacks at the kill and the stack it died in */
		r = trace_state__report(ts, 10, false);
		for (size_t i = 0; r && i < r->nprocs; i++) {
			if (r->procs[i].pid != p->pid)
				continue;
			od.stacks = r->procs[i].stacks;
			od.nstacks = r->procs[i].nstacks;
			od.by_test = r->procs[i].by_test;
			od.ntests = r->procs[i].ntests;
		}
		if (!trace_state__last_stack(ts, p->pid, &last)) {
			od.last_stack = last.frames;
			od.nlast = last.nframes;
		}
		nas = escalator__top(d->esc, p->pid, as, text, TRACE_STATE_TOP);
	}

	err = oomdump__write(&od, d->cfg.dump_dir, path, sizeof(path));
	if (err) {
		pr_err("cannot write the OOM dump of pid %d to %s: %s", p->pid, d->cfg.dump_dir, strerror(-err));
		d->drops[DDROP_DUMPS]++;
	} else {
		d->dumps_written++;
		pr_warn("pid %d (%s) was OOM-killed; dump: %s", p->pid, od.victim.comm, path);
	}
	{
		char comm[17];
		struct alert_proc ap = {
			.pid = p->pid, .comm = comm, .argv = p->argv,
			.cgroup = od.memcg.path ? od.memcg.path : (p->cgroup[0] ? p->cgroup : NULL),
			.rss_bytes = p->rss_bytes, .limit_bytes = p->limit_bytes,
		};

		memcpy(comm, od.victim.comm, 16);
		comm[16] = '\0';
		if (alerter__oom_kill(d->alerter, wall(), &ap, &p->growth, as, nas, err ? NULL : path))
			d->drops[DDROP_ALERTS]++;
		alerts_drain(d);
	}
	free(last.frames);
	trace_state__report_free(r);
	if (p->escalated)
		escalator__stop(d->esc, p->pid);
}

/* Write the dumps whose exit was seen, or that waited long enough (all when stopping). */
static void dumps_flush(struct daemon *d, bool all)
{
	struct pending **pp = &d->pending, *p;
	double t = now_t(d);

	while ((p = *pp)) {
		if (!all && !p->have_exit && t - p->since < OOM_EXIT_WAIT) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		d->npending--;
		dump_write(d, p);
		pending_free(p);
	}
}

static void on_event(void *ctx, const struct ms_event *e)
{
	struct daemon *d = ctx;
	struct pending *p;

	switch (e->type) {
	case MS_EV_OOM: {
		const struct ms_oom_event *o = (const struct ms_oom_event *)e;

		d->oom_kills++;
		pr_info("OOM kill: pid %u (%.16s), triggered by pid %u (%.16s)", o->pid, o->comm,
			o->trigger_pid, o->trigger_comm);
		p = pending_get(d, o->pid);
		if (p) {
			p->oom = *o;
			p->have_oom = true;
			if (!p->comm[0])
				memcpy(p->comm, o->comm, sizeof(p->comm));
		}
		break;
	}
	case MS_EV_EXIT:
		if (!(e->flags & MS_EVF_OOM_KILLED))
			break;
		p = pending_get(d, e->pid);
		if (p) {
			p->have_exit = true;
			p->exit_code = e->exit_code;
			p->maxrss_pages = e->maxrss_pages;
			if (!p->comm[0])
				memcpy(p->comm, e->comm, sizeof(p->comm));
		}
		break;
	}
	escalator__event(d->esc, e);
}

/* --- the watch pass ---------------------------------------------------------- */

static void on_gone(void *ctx, struct wproc *w)
{
	struct daemon *d = ctx;
	struct dproc *dp = w->user;
	bool dump_pending = false;

	if (!dp)
		return;
	for (struct pending *p = d->pending; p; p = p->next)
		dump_pending |= p->pid == w->pid;
	/* an OOM victim keeps its exact tracing until its dump is written */
	if (dp->esc == ESC_ACTIVE && !dump_pending)
		escalator__stop(d->esc, w->pid);
	if (dp->fed)
		alerter__forget(d->alerter, w->pid);
	argv__free(dp->argv);
	free(dp);
	w->user = NULL;
}

static int cmp_slope_desc(const void *a, const void *b)
{
	const struct wproc *x = *(const struct wproc *const *)a, *y = *(const struct wproc *const *)b;

	return x->growth.slope_bps < y->growth.slope_bps ? 1 : x->growth.slope_bps > y->growth.slope_bps ? -1 : 0;
}

/* Start exact tracing of flagged processes, fastest first, while slots are free. */
static void escalate(struct daemon *d, double t)
{
	size_t n = watch__count(d->watch), nc = 0;
	struct wproc **cand;

	if (!d->cfg.escalate || !watch__flagged(d->watch))
		return;
	cand = calloc(watch__flagged(d->watch), sizeof(*cand));
	if (!cand)
		return;
	for (size_t i = 0; i < n && nc < watch__flagged(d->watch); i++) {
		struct wproc *w = watch__at(d->watch, i);
		struct dproc *dp = w->user;

		if (w->flagged && dp && dp->esc == ESC_NONE && daemon_cfg__may_escalate(&d->cfg, w->comm))
			cand[nc++] = w;
	}
	qsort(cand, nc, sizeof(*cand), cmp_slope_desc);
	for (size_t i = 0; i < nc; i++) {
		struct dproc *dp = cand[i]->user;
		int err;

		if (escalator__count(d->esc) >= d->cfg.escalate_max) {
			if (!dp->denied)
				d->drops[DDROP_ESCALATIONS]++;
			dp->denied = true;
			continue;
		}
		err = escalator__start(d->esc, cand[i]->pid, cand[i]->ppid);
		if (err) {
			dp->esc = ESC_FAILED;
			pr_info("cannot trace pid %d (%s) exactly: %s", cand[i]->pid, cand[i]->comm,
				err == -ENOENT ? "no libc mapped (static binary?)" : strerror(-err));
			continue;
		}
		dp->esc = ESC_ACTIVE;
		dp->esc_start = t;
		d->escalations++;
		pr_info("tracing pid %d (%s) exactly for %g s: %s at %.0f B/s", cand[i]->pid, cand[i]->comm,
			d->cfg.escalate_window, growth_verdict__str(cand[i]->growth.verdict),
			cand[i]->growth.slope_bps);
	}
	free(cand);
}

/* Exact tracing: read counters, keep the top growing stacks, end windows that are over. */
static void escalations_update(struct daemon *d, double t)
{
	size_t n = watch__count(d->watch);

	escalator__sample(d->esc, t);
	for (size_t i = 0; i < n; i++) {
		struct wproc *w = watch__at(d->watch, i);
		struct dproc *dp = w->user;
		struct alert_stack as[TRACE_STATE_TOP];
		size_t k;

		if (!dp || dp->esc != ESC_ACTIVE)
			continue;
		k = escalator__top(d->esc, w->pid, as, dp->text, TRACE_STATE_TOP);
		if (k) {
			for (size_t j = 0; j < k; j++) {
				dp->stacks[j] = as[j];
				dp->stacks[j].frames = dp->text[j];
			}
			dp->nstacks = k;
		}
		if (t - dp->esc_start >= d->cfg.escalate_window) {
			escalator__stop(d->esc, w->pid);
			dp->esc = ESC_DONE;
			pr_info("exact tracing of pid %d (%s) ended: %zu growing stacks", w->pid, w->comm,
				dp->nstacks);
		}
	}
}

static void alerts_feed(struct daemon *d, double t)
{
	double hold = fmin(d->cfg.escalate_window, fmax(5.0, 10 * d->cfg.interval));
	size_t n = watch__count(d->watch);
	double now = wall();

	for (size_t i = 0; i < n; i++) {
		struct wproc *w = watch__at(d->watch, i);
		struct dproc *dp = w->user;
		struct alert_proc ap;

		if (!dp || (!w->flagged && !dp->fed))
			continue;
		/* give exact tracing a few samples to name the stacks before the first alert */
		if (w->flagged && dp->esc == ESC_ACTIVE && !dp->nstacks && t - dp->esc_start < hold)
			continue;
		ap = (struct alert_proc){
			.pid = w->pid, .comm = w->comm, .argv = dp->argv,
			.cgroup = w->cgroup[0] ? w->cgroup : NULL, .rss_bytes = w->rss_bytes,
			.limit_bytes = w->limit_bytes,
		};
		if (alerter__feed(d->alerter, now, &ap, &w->growth, dp->stacks, dp->nstacks) < 0)
			d->drops[DDROP_ALERTS]++;
		dp->fed = true;
		alerts_drain(d);
	}
}

static void self_usage(uint64_t *rss, double *cpu)
{
	struct rusage ru;
	unsigned long size, res;
	FILE *f = fopen("/proc/self/statm", "re");

	*rss = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) == 2)
			*rss = (uint64_t)res * sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The snapshot the HTTP thread renders: flagged and escalated first, then fastest growing. */
static void view_update(struct daemon *d)
{
	size_t n = watch__count(d->watch), nc = 0, top = d->cfg.metrics_top;
	struct wproc **cand = calloc(n ? n : 1, sizeof(*cand));
	struct ms_counters c = {};
	struct dview *v = &d->view;

	escalator__counters(d->esc, &c);
	d->drops[DDROP_RINGBUF] = c.c[MS_C_LOST_EVENTS];
	d->drops[DDROP_ALLOCS] = c.c[MS_C_DROP_ALLOCS] + c.c[MS_C_DROP_STATS] + c.c[MS_C_DROP_PENDING];
	d->drops[DDROP_STACKS] = c.c[MS_C_DROP_STACKS] + c.c[MS_C_STACK_ERRORS];
	d->drops[DDROP_UNTRACKED] = watch__untracked(d->watch);

	pthread_mutex_lock(&d->lock);
	v->version = MEMSLOPE_VERSION;
	v->host = d->host;
	v->started_at = d->start_wall;
	v->now = wall();
	v->interval_s = d->cfg.interval;
	v->passes = d->passes;
	v->pass_seconds = d->pass_seconds;
	v->watched = n;
	v->flagged = watch__flagged(d->watch);
	v->oom_kills = d->oom_kills;
	v->dumps_written = d->dumps_written;
	v->alerts_growth = d->alerts[0];
	v->alerts_recovered = d->alerts[1];
	v->alerts_oom = d->alerts[2];
	v->escalations = d->escalations;
	v->escalated_now = escalator__count(d->esc);
	v->escalate_max = d->cfg.escalate ? d->cfg.escalate_max : 0;
	memcpy(v->drops, d->drops, sizeof(v->drops));
	v->nprocs = 0;
	if (top > DVIEW_MAX_PROCS)
		top = DVIEW_MAX_PROCS;
	if (cand) {
		for (int pass = 0; pass < 2; pass++) {
			nc = 0;
			for (size_t i = 0; i < n; i++) {
				struct wproc *w = watch__at(d->watch, i);
				struct dproc *dp = w->user;
				bool hot = w->flagged || (dp && dp->esc == ESC_ACTIVE);

				if (pass == 0 ? hot : (!hot && w->growth.slope_bps > 0 &&
						       w->growth.verdict != GV_INSUFFICIENT))
					cand[nc++] = w;
			}
			qsort(cand, nc, sizeof(*cand), cmp_slope_desc);
			for (size_t i = 0; i < nc && v->nprocs < top; i++) {
				struct dview_proc *vp = &v->procs[v->nprocs++];
				struct wproc *w = cand[i];
				struct dproc *dp = w->user;

				memset(vp, 0, sizeof(*vp));
				vp->pid = w->pid;
				memcpy(vp->comm, w->comm, sizeof(vp->comm));
				vp->rss_bytes = w->rss_bytes;
				vp->limit_bytes = w->limit_bytes;
				vp->growth = w->growth;
				vp->flagged = w->flagged;
				vp->escalated = dp && dp->esc == ESC_ACTIVE;
				if (dp && dp->nstacks)
					snprintf(vp->top_stack, sizeof(vp->top_stack), "%s", dp->text[0]);
			}
		}
	}
	pthread_mutex_unlock(&d->lock);
	free(cand);
}

static void pass(struct daemon *d)
{
	double t0 = mono(), t = t0 - d->start_mono;
	struct ms_task_rec *recs = NULL;
	int n;

	n = tracer__watch(d->tracer, &recs);
	if (n < 0) {
		if (!d->watch_failed)
			pr_err("watch pass failed: %s", strerror(-n));
		d->watch_failed = true;
	} else {
		d->watch_failed = false;
		if (watch__update(d->watch, recs, n, t, on_gone, d))
			pr_warn("out of memory in the watch pass");
	}
	free(recs);
	for (size_t i = 0; i < watch__count(d->watch); i++) {
		struct wproc *w = watch__at(d->watch, i);

		if (w->flagged && !w->user) {
			struct dproc *dp = calloc(1, sizeof(*dp));

			if (!dp)
				continue;
			dp->argv = procfs__argv(w->pid);
			w->user = dp;
		}
	}
	escalate(d, t);
	escalations_update(d, t);
	alerts_feed(d, t);
	dumps_flush(d, false);
	d->passes++;
	d->pass_seconds = mono() - t0;
	view_update(d);
}

/* --- HTTP -------------------------------------------------------------------- */

static int render(void *ctx, const char *path, char **body, size_t *len, const char **ctype)
{
	struct daemon *d = ctx;
	FILE *f = open_memstream(body, len);
	int status = 200, err = 0;

	if (!f) {
		*body = NULL;
		return 500;
	}
	pthread_mutex_lock(&d->lock);
	self_usage(&d->view.self_rss_bytes, &d->view.self_cpu_seconds);
	if (!strcmp(path, "/metrics")) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		err = dview__metrics(&d->view, f);
	} else if (!strcmp(path, "/status")) {
		*ctype = "application/json";
		err = dview__status_json(&d->view, f);
	} else if (!strcmp(path, "/")) {
		fputs("memslope daemon: /metrics (Prometheus), /status (JSON)\n", f);
	} else {
		fputs("not found: /metrics, /status\n", f);
		status = 404;
	}
	pthread_mutex_unlock(&d->lock);
	if (fclose(f) || err) {
		free(*body);
		*body = NULL;
		return 500;
	}
	return status;
}

static int http_apply(struct daemon *d)
{
	const char *l = d->cfg.listen;
	bool want = l[0] && strcmp(l, "off");
	sigset_t all, old;

	if (d->http && want && !strcmp(d->http_listen, l))
		return 0;
	http_server__stop(d->http);
	d->http = NULL;
	free(d->http_listen);
	d->http_listen = NULL;
	if (!want)
		return 0;
	/* the server's thread must not take our signals */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d->http = http_server__start(l, render, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d->http)
		return -errno;
	d->http_listen = strdup(l);
	pr_info("serving /metrics and /status on %s", l);
	return 0;
}

/* --- reload ------------------------------------------------------------------ */

static void reload(struct daemon *d)
{
	struct daemon_cfg c, old = d->cfg;
	struct watch_cfg wc;
	char err[512];

	sd_notify(0, "RELOADING=1");
	if (cfg_build(d, &c, err, sizeof(err))) {
		pr_err("reload: %s (keeping the running settings)", err);
		sd_notify(0, "READY=1");
		return;
	}
	if (c.max_allocs != old.max_allocs || c.max_stacks != old.max_stacks ||
	    c.sample_bytes != old.sample_bytes)
		pr_warn("reload: max_allocs, max_stacks and sample_bytes take effect at the next start");
	if (c.realert != old.realert)
		pr_warn("reload: realert takes effect at the next start");
	d->cfg = c;
	watch_cfg_fill(d, &wc);
	watch__set_cfg(d->watch, &wc);
	if (strcmp(old.alerts, c.alerts) || d->alerts_fd < 0)
		alerts_open(d);
	if (http_apply(d))
		pr_err("reload: no HTTP endpoint now");
	daemon_cfg__free(&old);
	pr_warn("reloaded %s: interval %g s, alerts %s, dumps %s, listen %s",
		d->config_path ? d->config_path : DAEMON_CFG_PATH, c.interval, c.alerts[0] ? c.alerts : "-",
		c.dump_dir, c.listen);
	sd_notify(0, "READY=1");
}

/* --- the command ------------------------------------------------------------- */

static void usage(FILE *f)
{
	const struct daemon_opt *o;
	size_t n;

	fputs(usage_head, f);
	o = daemon_cfg__options(&n);
	for (size_t i = 0; i < n; i++) {
		char flag[64];

		snprintf(flag, sizeof(flag), "--%s %s", o[i].key, o[i].metavar);
		for (char *p = flag; *p && *p != ' '; p++)
			if (*p == '_')
				*p = '-';
		fprintf(f, "      %-22s%s%s\n", flag, strlen(flag) > 21 ? "\n                            " : " ",
			o[i].help);
	}
	fputs(usage_tail, f);
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "memslope daemon: %s\nTry 'memslope daemon --help' for more information.\n", msg);
	return 2;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct daemon *d)
{
	const struct daemon_opt *o;
	struct option *lo;
	char names[32][40];
	size_t n, k = 0;
	int c, ret = -1;

	o = daemon_cfg__options(&n);
	if (n > 32)
		return 1;
	lo = calloc(n + 4, sizeof(*lo));
	d->flags = calloc(n * 2 + argc, sizeof(*d->flags));
	if (!lo || !d->flags) {
		free(lo);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "%s", o[i].key);
		for (char *p = names[i]; *p; p++)
			if (*p == '_')
				*p = '-';
		lo[k++] = (struct option){ names[i], required_argument, NULL, 1000 + (int)i };
	}
	lo[k++] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[k++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	lo[k++] = (struct option){ "help", no_argument, NULL, 'h' };

	optind = 1;
	while (ret < 0 && (c = getopt_long(argc, argv, "c:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			break;
		default:
			if (c >= 1000 && c < 1000 + (int)n) {
				d->flags[d->nflags++] = (struct dflag){ o[c - 1000].key, optarg };
				break;
			}
			fputs("Try 'memslope daemon --help' for more information.\n", stderr);
			ret = 2;
		}
	}
	if (ret < 0 && optind < argc)
		ret = usage_error("unexpected argument");
	free(lo);
	return ret;
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon d = { .alerts_fd = -1, .pipe_r = -1, .pipe_w = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct alerter_cfg acfg;
	struct tracer_opts topts;
	struct watch_cfg wc;
	char err[512];
	int ret, fds[2];
	double next;

	ret = parse_args(argc, argv, &d);
	if (ret >= 0)
		goto out_args;
	ret = cfg_build(&d, &d.cfg, err, sizeof(err));
	if (ret) {
		ret = ret == -EINVAL || ret == -ENOENT ? usage_error(err) : (pr_err("%s", err), 1);
		goto out_args;
	}
	ret = 1;
	pthread_mutex_init(&d.lock, NULL);
	d.self_pid = getpid();
	d.start_mono = mono();
	d.start_wall = wall();
	if (gethostname(d.host, sizeof(d.host) - 1))
		snprintf(d.host, sizeof(d.host), "unknown");

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
		pr_err("cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	d.pipe_r = fds[0];
	d.pipe_w = fds[1];
	fcntl(d.pipe_w, F_SETPIPE_SZ, 1 << 20);	/* a long alert line fits whole */
	if (alerts_open(&d))
		goto out;
	alerter_cfg__default(&acfg);
	acfg.realert_s = d.cfg.realert;
	d.alerter = alerter__new(d.pipe_w, &acfg);
	watch_cfg_fill(&d, &wc);
	d.watch = watch__new(&wc);
	if (!d.alerter || !d.watch) {
		pr_err("out of memory");
		goto out;
	}

	tracer_opts__default(&topts);
	topts.max_allocs = d.cfg.max_allocs;
	topts.max_stacks = d.cfg.max_stacks;
	topts.sample_bytes = d.cfg.sample_bytes;
	topts.max_mmaps = 4096;
	d.tracer = tracer__new(&topts, on_event, &d);
	if (!d.tracer)
		goto out;
	growth_cfg__default(&wc.gcfg);
	wc.gcfg.warn_bps = d.cfg.growth_warn;
	wc.gcfg.crit_bps = d.cfg.growth_crit;
	d.esc = escalator__new(d.tracer, d.cfg.interval, &wc.gcfg);
	if (!d.esc) {
		pr_err("out of memory");
		goto out;
	}
	if (http_apply(&d))
		goto out;

	pass(&d);
	sd_notify(0, "READY=1");
	pr_warn("watching %zu processes every %g s (alerts: %s, dumps: %s, listen: %s)",
		watch__count(d.watch), d.cfg.interval, d.cfg.alerts[0] ? d.cfg.alerts : "stdout",
		d.cfg.dump_dir, d.http_listen ? d.http_listen : "off");

	next = mono() + d.cfg.interval;
	while (!stop_signal) {
		double wait = next - mono();

		if (wait > POLL_MAX_MS / 1000.0)
			wait = POLL_MAX_MS / 1000.0;
		tracer__poll(d.tracer, wait > 0 ? (int)(wait * 1000) : 0);
		if (stop_signal)
			break;
		if (reload_signal) {
			reload_signal = 0;
			reload(&d);
			next = fmin(next, mono() + d.cfg.interval);
		}
		if (mono() >= next) {
			pass(&d);
			next += d.cfg.interval;
			if (next < mono())
				next = mono() + d.cfg.interval;	/* a pass overran: do not catch up */
		}
	}
	sd_notify(0, "STOPPING=1");
	pr_warn("stopping (%s)", strsignal(stop_signal));
	/* last events (an OOM kill in flight), then every pending dump */
	tracer__poll(d.tracer, 0);
	dumps_flush(&d, true);
	alerts_drain(&d);
	ret = 0;
out:
	http_server__stop(d.http);
	free(d.http_listen);
	if (d.watch) {
		/* per-process state goes with the watch */
		for (size_t i = 0; i < watch__count(d.watch); i++)
			on_gone(&d, watch__at(d.watch, i));
	}
	while (d.pending) {
		struct pending *p = d.pending;

		d.pending = p->next;
		pending_free(p);
	}
	escalator__free(d.esc);
	tracer__free(d.tracer);
	watch__free(d.watch);
	alerter__free(d.alerter);
	if (d.alerts_fd >= 0) {
		if (fsync(d.alerts_fd) && errno != EINVAL)
			pr_warn("cannot sync %s: %s", d.cfg.alerts, strerror(errno));
		close(d.alerts_fd);
	}
	if (d.pipe_r >= 0)
		close(d.pipe_r);
	if (d.pipe_w >= 0)
		close(d.pipe_w);
	free(d.line);
	dview__clear(&d.view);
	daemon_cfg__free(&d.cfg);
	fflush(stdout);
out_args:
	free(d.flags);
	return ret;
}
