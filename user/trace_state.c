// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* trace_state.c - traced processes, their memory series, per-stack counters, and the reports built from them */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "bpf_tracer.h"
#include "cgroup.h"
#include "log.h"
#include "oomdump.h"
#include "oomevent.h"
#include "procfs.h"
#include "python.h"
#include "symbolize.h"
#include "trace_state.h"

#define SERIES_CAP	3600	/* points judged by the growth verdict */
#define STACK_SERIES	120	/* points per stack, for its growth slope */
#define POINTS_CAP	4096	/* points kept for the report; halved (every other) when full */
#define EXEC_LIBC_WAIT	1.0	/* seconds to wait for the loader to map libc after exec */
#define JSON_STACKS	100	/* stacks per process in the final JSON */

struct proc {
	int pid, ppid;
	char comm[16];
	char **argv;
	bool exited, reaped, oom_killed, no_libc, attached;
	int status;		/* wait status */
	double exec_since;	/* > 0: exec'd, libc not found yet */
	uint64_t rss;
	int64_t heap;
	uint64_t limit;		/* memory limit (nearest limited cgroup, else available memory) */
	char cgroup[256];	/* "" when the limit is not a cgroup's */
	struct series *heap_series, *rss_series;
	struct rpt_point *points;
	size_t npoints;
	double point_step;	/* keep one point per point_step seconds after decimation */
	struct growth growth;
	/* OOM kill: what the killer saw, then the dump written from it */
	bool oom_seen, dump_due;
	double oom_at;		/* mono() when the OOM event arrived */
	struct ms_oom_event oom;
	uint64_t maxrss_pages;
	uint64_t last_stack_id;	/* the victim's own stack at death */
	uint64_t last_py_stack_id;
	char *dump_path;
	/* CPython in the process: detected after attach and after exec */
	struct pyrt py;
	bool has_py;
	bool py_final;		/* the interpreter is shutting down: its frees are not news */
	double py_since;	/* > 0: still looking for it since then */
	struct proc *next;
};

/* Counters of one (process, stack), as last read; survive the process. */
struct acc {
	uint32_t tgid;
	uint64_t stack_id;	/* native stack; 0: empty slot (1: no native stack) */
	uint64_t py_stack_id;	/* Python stack of the same calls; 0: none */
	struct ms_stat_val v;
	struct ms_stat_val prev;	/* the sample before: put back if that one saw a shutdown */
	int64_t first_live;
	bool have_first;
	struct series *live;
	double slope;
	bool py_named;		/* its Python frames were symbolized while the process lived */
};

struct trace_state {
	double interval;
	struct growth_cfg gcfg;
	struct tracer *tracer;
	struct alerter *alerter;	/* NULL: no alerts */
	struct symbolizer *sym;
	struct proc *procs;
	struct acc *accs;	/* open addressing, capacity power of two */
	size_t nacc, acc_cap;
	int target_pid;
	char **target_cmd;
	time_t started_at;
	double last_t;
	struct ms_counters counters;
	const char *dump_dir;	/* where OOM dumps go */
	int *purge;		/* exited pids whose map entries go at the next sample */
	int npurge, purge_cap;
	int live_lines;		/* lines drawn by the last live table (tty redraw) */
	bool no_dumps;		/* the caller writes OOM dumps (the daemon) */
	struct py_names *pynames;	/* named Python stacks, open addressing */
	size_t npynames, pynames_cap;
};

/*
 * The frames of one Python stack, named once, promptly (code objects die and
 * their addresses are reused), and owned here: names never change afterwards.
 */
struct py_names {
	int pid;		/* 0: empty slot */
	uint64_t id;
	size_t n;
	struct rpt_frame *frames;	/* func, file strdup'ed */
};

static uint64_t now_s_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

static double wall_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct trace_state *trace_state__new(double interval_s, const struct growth_cfg *cfg)
{
	struct trace_state *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->interval = interval_s;
	ts->gcfg = *cfg;
	ts->sym = symbolizer__new();
	ts->acc_cap = 1024;
	ts->accs = calloc(ts->acc_cap, sizeof(*ts->accs));
	if (!ts->sym || !ts->accs) {
		trace_state__free(ts);
		return NULL;
	}
	(void)now_s_mono;
	return ts;
}


static void proc_free(struct proc *p)
{
	if (p->has_py)
		pyrt__release(&p->py);
	free(p->dump_path);
	argv__free(p->argv);
	series__free(p->heap_series);
	series__free(p->rss_series);
	free(p->points);
	free(p);
}

void trace_state__free(struct trace_state *ts)
{
	struct proc *p, *np;

	if (!ts)
		return;
	for (p = ts->procs; p; p = np) {
		np = p->next;
		proc_free(p);
	}
	for (size_t i = 0; i < ts->acc_cap; i++)
		series__free(ts->accs[i].live);
	free(ts->accs);
	for (size_t i = 0; i < ts->pynames_cap; i++) {
		for (size_t j = 0; j < ts->pynames[i].n; j++) {
			free((char *)ts->pynames[i].frames[j].func);
			free((char *)ts->pynames[i].frames[j].file);
		}
		free(ts->pynames[i].frames);
	}
	free(ts->pynames);
	free(ts->purge);
	symbolizer__free(ts->sym);
	free(ts);
}

void trace_state__set_tracer(struct trace_state *ts, struct tracer *t)
{
	ts->tracer = t;
}

/* Watch mode: the tracer's stacks count new pages, not live allocations. */
static bool is_watch(const struct trace_state *ts)
{
	return ts->tracer && tracer__opts(ts->tracer)->faults;
}

void trace_state__set_alerter(struct trace_state *ts, struct alerter *a)
{
	ts->alerter = a;
}

void trace_state__set_dump_dir(struct trace_state *ts, const char *dir)
{
	ts->dump_dir = dir;
}


void trace_state__start(struct trace_state *ts, int target_pid, char **cmd)
{
	ts->target_pid = target_pid;
	ts->target_cmd = cmd;
	ts->started_at = time(NULL);
}

static struct proc *proc_find(const struct trace_state *ts, int pid)
{
	for (struct proc *p = ts->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}




static void proc_attach(struct trace_state *ts, struct proc *p)
{
	int err = tracer__add(ts->tracer, p->pid);

	p->attached = err == 0;
	p->no_libc = err == -ENOENT;
	if (err && err != -ENOENT && err != -ESRCH)
		pr_warn("cannot attach to pid %d (%s): %s", p->pid, p->comm, strerror(-err));
}

static void py_detect(struct trace_state *ts, struct proc *p);
static const struct py_names *py_names_get(struct trace_state *ts, struct proc *p, uint64_t id);

/*
 * A child gone (or a zombie) before we could read it had its parent's image and
 * name, unless it exec'd: the exec event, which follows, undoes this.
 */
static void proc_from_parent(struct trace_state *ts, struct proc *p)
{
	struct proc *parent = proc_find(ts, p->ppid);

	if (!parent)
		return;
	if (!p->comm[0])
		memcpy(p->comm, parent->comm, sizeof(p->comm));
	/* the parent's snapshot may predate its exec: take a fresh one while it lives */
	if (!parent->exited)
		symbolizer__snapshot(ts->sym, parent->pid);
	symbolizer__inherit(ts->sym, p->pid, parent->pid);
}

int trace_state__add(struct trace_state *ts, int pid, int ppid)
{
	struct proc *p = proc_find(ts, pid);

	if (p)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->ppid = ppid ? ppid : procfs__ppid(pid);
	p->heap_series = series__new(SERIES_CAP);
	p->rss_series = series__new(SERIES_CAP);
	p->points = calloc(POINTS_CAP, sizeof(*p->points));
	if (!p->heap_series || !p->rss_series || !p->points) {
		proc_free(p);
		return -ENOMEM;
	}
	procfs__comm(pid, p->comm);
	p->argv = procfs__argv(pid);
	p->next = ts->procs;
	ts->procs = p;

	if (!procfs__alive(pid)) {
		proc_from_parent(ts, p);
		p->exited = true;
		return -ESRCH;
	}
	proc_attach(ts, p);
	if (p->no_libc)
		pr_warn("pid %d (%s) maps no libc.so (statically linked?): allocations cannot be traced, only RSS is reported",
			pid, p->comm);
	if (symbolizer__snapshot(ts->sym, pid) == -ESRCH)
		proc_from_parent(ts, p);
	p->py_since = mono();
	py_detect(ts, p);
	return 0;
}

/* Stop reading pid's Python stacks (it exec'd, or exited). */
static void py_forget(struct trace_state *ts, struct proc *p)
{
	if (!p->has_py)
		return;
	tracer__set_python(ts->tracer, p->pid, NULL);
	pyrt__release(&p->py);
	p->has_py = false;
}

/*
 * Look for CPython in p. The loader maps libpython, and the interpreter makes its
 * first thread state, a moment after exec: keep looking for a while.
 */
static void py_detect(struct trace_state *ts, struct proc *p)
{
	double waited = mono() - p->py_since;
	int err;

	err = pyrt__detect(p->pid, &p->py);
	if (err == 0) {
		err = tracer__set_python(ts->tracer, p->pid, &p->py.off);
		if (err) {
			pr_warn("pid %d (%s): cannot trace Python stacks: %s", p->pid, p->comm, strerror(-err));
			pyrt__release(&p->py);
		} else {
			p->has_py = true;
			pr_info("pid %d (%s): CPython %d.%d, Python stacks on", p->pid, p->comm, p->py.major,
				p->py.minor);
		}
		p->py_since = 0;
	} else if (err == -ENOTSUP) {
		pr_warn("pid %d (%s): %s: Python frames unavailable, tracing native frames only", p->pid,
			p->comm, p->py.why[0] ? p->py.why : "unsupported CPython");
		p->py_since = 0;
	} else if (err == -EAGAIN && waited > 10.0) {
		pr_warn("pid %d (%s): CPython has no thread state after 10 s: native frames only", p->pid,
			p->comm);
		p->py_since = 0;
	} else if ((err == -ENOENT && waited > 2.0) || err == -ESRCH) {
		p->py_since = 0;	/* not Python: the common case, nothing to say */
	}
}

void trace_state__exec_started(struct trace_state *ts, int pid)
{
	struct proc *p = proc_find(ts, pid);

	if (p) {
		p->exec_since = mono();
		py_forget(ts, p);
		p->py_since = mono();
	}
}

void trace_state__event(struct trace_state *ts, const struct ms_event *e)
{
	struct proc *p;

	switch (e->type) {
	case MS_EV_FORK:
		pr_debug("fork: %u -> %u (%.16s)", e->ppid, e->pid, e->comm);
		trace_state__add(ts, e->pid, e->ppid);
		break;
	case MS_EV_EXEC:
		p = proc_find(ts, e->pid);
		if (!p)
			break;
		memcpy(p->comm, e->comm, sizeof(p->comm));
		p->comm[15] = '\0';
		if (p->exited)
			symbolizer__forget(ts->sym, p->pid);	/* not its parent's image after all */
		argv__free(p->argv);
		p->argv = procfs__argv(e->pid);
		p->exec_since = mono();
		py_forget(ts, p);
		p->py_since = mono();
		pr_debug("exec: %u (%s)", e->pid, p->comm);
		break;
	case MS_EV_PYSTACK:
		p = proc_find(ts, e->pid);
		if (p && p->has_py && !p->exited)
			py_names_get(ts, p, e->py_stack_id);
		break;
	case MS_EV_OOM:
		p = proc_find(ts, e->pid);
		if (!p)
			break;	/* not ours: the daemon cares, a trace does not */
		memcpy(&p->oom, e, sizeof(p->oom));
		p->oom_seen = true;
		p->oom_at = mono();
		pr_info("OOM kill: pid %d (%.16s), triggered by pid %u (%.16s)", p->pid, p->oom.comm,
			p->oom.trigger_pid, p->oom.trigger_comm);
		break;
	case MS_EV_EXIT:
		p = proc_find(ts, e->pid);
		if (!p || p->exited)
			break;
		p->exited = true;
		if (!p->reaped)
			p->status = e->exit_code;
		p->oom_killed = e->flags & MS_EVF_OOM_KILLED;
		p->maxrss_pages = e->maxrss_pages;
		if (p->oom_killed) {
			p->last_stack_id = e->stack_id;
			p->last_py_stack_id = e->py_stack_id;
			p->dump_due = true;	/* written after the next read of its counters */
		}
		p->exec_since = 0;
		tracer__remove(ts->tracer, p->pid);
		if (ts->alerter)
			alerter__forget(ts->alerter, p->pid);
		if (ts->npurge == ts->purge_cap) {
			int cap = ts->purge_cap ? ts->purge_cap * 2 : 16;
			int *np = realloc(ts->purge, cap * sizeof(*np));

			if (!np)
				break;
			ts->purge = np;
			ts->purge_cap = cap;
		}
		ts->purge[ts->npurge++] = p->pid;
		pr_debug("exit: %u status 0x%x%s", e->pid, e->exit_code, p->oom_killed ? " (OOM kill)" : "");
		break;
	}
}

void trace_state__tick(struct trace_state *ts)
{
	for (struct proc *p = ts->procs; p; p = p->next) {
		int err;

		if (p->py_since > 0 && !p->exited)
			py_detect(ts, p);
		/* a victim whose exit we never saw (lost event): dump what we have */
		if (p->oom_seen && !p->dump_path && !p->dump_due && mono() - p->oom_at > 2.0)
			p->dump_due = true;

		if (p->exec_since <= 0 || p->exited)
			continue;
		err = tracer__refresh(ts->tracer, p->pid);
		if (err == -ENOENT && mono() - p->exec_since < EXEC_LIBC_WAIT)
			continue;	/* the loader has not mapped libc yet */
		p->exec_since = 0;
		p->attached = err == 0;
		p->no_libc = err == -ENOENT;
		if (p->no_libc)
			pr_warn("pid %d (%s) maps no libc.so (statically linked?): allocations cannot be traced, only RSS is reported",
				p->pid, p->comm);
		else if (err && err != -ESRCH)
			pr_warn("cannot attach to pid %d (%s): %s", p->pid, p->comm, strerror(-err));
		symbolizer__snapshot(ts->sym, p->pid);
	}
}

bool trace_state__busy(const struct trace_state *ts)
{
	for (struct proc *p = ts->procs; p; p = p->next)
		if (p->exec_since > 0 && !p->exited)
			return true;
	return false;
}

void trace_state__reaped(struct trace_state *ts, int pid, int status)
{
	struct proc *p = proc_find(ts, pid);

	if (!p)
		return;
	p->reaped = true;
	p->status = status;
	if (!p->exited) {
		struct ms_event e = { .type = MS_EV_EXIT, .pid = pid, .exit_code = status };

		trace_state__event(ts, &e);
	}
}

bool trace_state__exited(const struct trace_state *ts, int pid)
{
	struct proc *p = proc_find(ts, pid);

	return !p || p->exited;
}

/* --- per-stack counters --------------------------------------------------- */

static size_t acc_hash(uint32_t tgid, uint64_t stack_id, uint64_t py_stack_id)
{
	uint64_t h = stack_id ^ ((uint64_t)tgid * 0x9e3779b97f4a7c15ULL) ^ (py_stack_id * 31);

	return h ^ (h >> 31);
}

static struct acc *acc_get(struct trace_state *ts, uint32_t tgid, uint64_t stack_id,
			   uint64_t py_stack_id)
{
	size_t mask, i;

	if ((ts->nacc + 1) * 10 > ts->acc_cap * 7) {
		size_t ncap = ts->acc_cap * 2;
		struct acc *n = calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < ts->acc_cap; j++) {
			struct acc *a = &ts->accs[j];

			if (!a->stack_id)
				continue;
			for (i = acc_hash(a->tgid, a->stack_id, a->py_stack_id) & (ncap - 1); n[i].stack_id;
			     i = (i + 1) & (ncap - 1))
				;
			n[i] = *a;
		}
		free(ts->accs);
		ts->accs = n;
		ts->acc_cap = ncap;
	}
	mask = ts->acc_cap - 1;
	for (i = acc_hash(tgid, stack_id, py_stack_id) & mask; ts->accs[i].stack_id; i = (i + 1) & mask)
		if (ts->accs[i].tgid == tgid && ts->accs[i].stack_id == stack_id &&
		    ts->accs[i].py_stack_id == py_stack_id)
			return &ts->accs[i];
	ts->accs[i].tgid = tgid;
	ts->accs[i].stack_id = stack_id;
	ts->accs[i].py_stack_id = py_stack_id;
	ts->accs[i].live = series__new(STACK_SERIES);
	ts->nacc++;
	return &ts->accs[i];
}

struct py_names;
static const struct py_names *py_names_get(struct trace_state *ts, struct proc *p, uint64_t id);

struct sample_ctx {
	struct trace_state *ts;
	double t;
	struct proc *last;	/* the process of the previous counter: they come in runs */
};

static void on_stat(void *ctx, const struct ms_stat_key *k, const struct ms_stat_val *v)
{
	struct sample_ctx *sc = ctx;
	struct proc *p;
	struct acc *a;

	/*
	 * CPython frees its objects when it shuts down: what an exited Python
	 * process held is what the last sample before its exit saw.
	 */
	p = sc->last && sc->last->pid == (int)k->tgid ? sc->last : proc_find(sc->ts, k->tgid);
	sc->last = p;
	if (p && p->has_py && (p->exited || p->py_final))
		return;
	/* "no native stack" still needs a slot: 0 marks empty ones */
	a = acc_get(sc->ts, k->tgid, k->stack_id ? k->stack_id : 1, k->py_stack_id);
	if (!a)
		return;
	a->prev = a->v;
	a->v = *v;
	/*
	 * Name the Python frames now: code objects die (lambdas, exec'd code, the
	 * whole process), and the names are cached for the reports.
	 */
	if (a->py_stack_id && !a->py_named && p && p->has_py && !p->exited) {
		py_names_get(sc->ts, p, a->py_stack_id);
		a->py_named = true;
	}
	if (!a->have_first) {
		a->first_live = v->live_bytes;
		a->have_first = true;
	}
	if (a->live)
		series__push(a->live, sc->t, (double)v->live_bytes);
}


static void proc_push_point(struct proc *p, double t)
{
	if (p->npoints && p->point_step > 0 && t - p->points[p->npoints - 1].t < p->point_step)
		return;
	if (p->npoints == POINTS_CAP) {
		/* Keep the whole history in bounded memory: every other point goes. */
		for (size_t i = 0; i < POINTS_CAP / 2; i++)
			p->points[i] = p->points[2 * i];
		p->npoints = POINTS_CAP / 2;
		p->point_step = p->points[1].t - p->points[0].t;
	}
	p->points[p->npoints].t = t;
	p->points[p->npoints].rss_bytes = p->rss;
	p->points[p->npoints].heap_bytes = p->heap > 0 ? p->heap : 0;
	p->npoints++;
}

static void proc_alert(struct trace_state *ts, struct proc *p);
static void proc_dump(struct trace_state *ts, struct proc *p);

void trace_state__sample(struct trace_state *ts, double t)
{
	struct sample_ctx sc = { .ts = ts, .t = t };
	struct proc *p;

	ts->last_t = t;
	for (p = ts->procs; p; p = p->next) {
		if (p->exited)
			continue;
		p->rss = procfs__rss(p->pid);
		if (cgroup__mem_limit(p->pid, "", &p->limit, p->cgroup, sizeof(p->cgroup)))
			p->limit = 0;
		symbolizer__snapshot(ts->sym, p->pid);	/* mappings change (dlopen); keep them for after exit */
	}
	tracer__for_each_stat(ts->tracer, on_stat, &sc);
	/*
	 * CPython frees its objects when it shuts down. _finalizing is set before the
	 * first of those frees: seen now, this sample may hold some of them, so the
	 * process keeps what the sample before saw, and nothing after.
	 */
	for (p = ts->procs; p; p = p->next) {
		/* a process gone since the read may have been shutting down during it */
		if (!p->has_py || p->exited || p->py_final || pyrt__finalizing(&p->py) == 0)
			continue;
		p->py_final = true;
		pr_debug("pid %d: CPython is shutting down: its heap is kept as last sampled", p->pid);
		for (size_t i = 0; i < ts->acc_cap; i++)
			if (ts->accs[i].stack_id && ts->accs[i].tgid == (uint32_t)p->pid)
				ts->accs[i].v = ts->accs[i].prev;
	}
	tracer__counters(ts->tracer, &ts->counters);
	if (ts->npurge) {
		tracer__purge(ts->tracer, ts->purge, ts->npurge);
		ts->npurge = 0;
	}

	for (p = ts->procs; p; p = p->next)
		p->heap = 0;
	for (size_t i = 0; i < ts->acc_cap; i++) {
		struct acc *a = &ts->accs[i];

		if (!a->stack_id)
			continue;
		p = proc_find(ts, a->tgid);
		if (p && !is_watch(ts))	/* new pages are no heap: bytes freed since are not off */
			p->heap += a->v.live_bytes;
	}
	for (p = ts->procs; p; p = p->next) {
		if (p->exited && p->npoints)
			continue;	/* its series ended with it */
		series__push(p->heap_series, t, (double)p->heap);
		series__push(p->rss_series, t, (double)p->rss);
		proc_push_point(p, t);
		/* The exact live bytes are the clearest signal; RSS when allocations are not traced. */
		growth__analyze((p->attached || p->heap) && !is_watch(ts) ? p->heap_series : p->rss_series,
				&ts->gcfg, 0, &p->growth);
		/* Time to the limit counts from the process's RSS, whatever series grows. */
		p->growth.eta_limit_s = -1;
		if ((p->growth.verdict == GV_LEAK || p->growth.verdict == GV_GROWING) &&
		    p->growth.slope_bps > 0 && p->limit > p->rss)
			p->growth.eta_limit_s = (p->limit - p->rss) / p->growth.slope_bps;
		if (ts->alerter && !p->exited)
			proc_alert(ts, p);
	}
	for (p = ts->procs; p; p = p->next)
		if (p->dump_due && !p->dump_path && !ts->no_dumps)
			proc_dump(ts, p);
}

/* --- reports -------------------------------------------------------------- */

static void fill_frames(struct trace_state *ts, struct proc *p, uint64_t stack_id,
			uint64_t py_stack_id, struct rpt_stack *rs);

/* "f (a.c:3) <- g (b.c:9) <- ..." for alerts: the first few frames of a stack. */
static void format_frames(const struct rpt_stack *rs, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rs->nframes && i < 6 && off < len; i++) {
		const struct rpt_frame *f = &rs->frames[i];
		const char *file = f->file ? strrchr(f->file, '/') : NULL;

		file = file ? file + 1 : f->file;
		if (file)
			off += snprintf(buf + off, len - off, "%s%s (%s:%d)", i ? " <- " : "",
					f->func ? f->func : "[unknown]", file, f->line);
		else
			off += snprintf(buf + off, len - off, "%s%s", i ? " <- " : "",
					f->func ? f->func : "[unknown]");
	}
}

static int cmp_acc_slope(const void *a, const void *b)
{
	const struct acc *x = *(const struct acc *const *)a, *y = *(const struct acc *const *)b;

	return x->slope < y->slope ? 1 : x->slope > y->slope ? -1 : 0;
}

size_t trace_state__top_growing(struct trace_state *ts, int pid, struct alert_stack *as,
				char (*text)[TRACE_STATE_FRAMES_LEN], size_t max)
{
	struct proc *p = proc_find(ts, pid);
	struct acc *top[TRACE_STATE_TOP] = {};
	size_t n = 0;

	if (!p)
		return 0;
	if (max > TRACE_STATE_TOP)
		max = TRACE_STATE_TOP;
	for (size_t i = 0; i < ts->acc_cap && max; i++) {
		struct acc *a = &ts->accs[i];

		if (!a->stack_id || a->tgid != (uint32_t)pid || !a->live || series__len(a->live) < 3)
			continue;
		a->slope = growth__slope(a->live);
		if (n < max) {
			top[n++] = a;
			qsort(top, n, sizeof(top[0]), cmp_acc_slope);
		} else if (a->slope > top[n - 1]->slope) {
			top[n - 1] = a;
			qsort(top, n, sizeof(top[0]), cmp_acc_slope);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct rpt_stack rs = {};

		if (top[i]->slope <= 0) {
			n = i;
			break;	/* only stacks that grow explain growth */
		}
		fill_frames(ts, p, top[i]->stack_id, top[i]->py_stack_id, &rs);
		format_frames(&rs, text[i], sizeof(text[i]));
		free(rs.frames);
		as[i].live_bytes = top[i]->v.live_bytes;
		as[i].slope_bps = top[i]->slope;
		as[i].frames = text[i];
	}
	return n;
}

/* Feed the alerter with p's verdict and its fastest-growing stacks. */
static void proc_alert(struct trace_state *ts, struct proc *p)
{
	struct alert_proc ap = {
		.pid = p->pid, .comm = p->comm, .argv = p->argv,
		.cgroup = p->cgroup[0] ? p->cgroup : NULL, .rss_bytes = p->rss, .limit_bytes = p->limit,
	};
	struct alert_stack as[3];
	char text[3][TRACE_STATE_FRAMES_LEN];
	size_t n = 0;

	/* Only flagged processes need their stacks ranked; the rest costs one call. */
	if (p->growth.verdict == GV_LEAK || p->growth.verdict == GV_GROWING)
		n = trace_state__top_growing(ts, p->pid, as, text, 3);
	alerter__feed(ts->alerter, wall_now(), &ap, &p->growth, as, n);
}

static int cmp_acc_live(const void *a, const void *b)
{
	const struct acc *x = *(const struct acc *const *)a, *y = *(const struct acc *const *)b;

	if (x->v.live_bytes != y->v.live_bytes)
		return x->v.live_bytes < y->v.live_bytes ? 1 : -1;
	return x->v.alloc_bytes < y->v.alloc_bytes ? 1 : -1;
}


/* Native frames of stack_id into frames[] (room for MS_MAX_FRAMES); returns how many. */
static size_t native_frames(struct trace_state *ts, int pid, uint64_t stack_id, struct rpt_frame *frames)
{
	struct ms_stack st;
	size_t n = 0;

	if (stack_id <= 1 || tracer__stack(ts->tracer, stack_id, &st) || !st.nr)
		return 0;
	if (log_verbosity >= LOG_DEBUG && (st.flags & MS_STACK_F_HOLES)) {
		for (uint32_t i = 0; i < st.nr; i++)
			if (st.ips[i])
				pr_debug("stack %#llx slot %u: %#llx", (unsigned long long)stack_id, i,
					 (unsigned long long)st.ips[i]);
	}
	for (uint32_t i = 0; i < st.nr; i++) {
		struct rpt_frame *f = &frames[n];
		unsigned int back;
		struct sym_frame sf;

		if (!st.ips[i]) {
			if (st.flags & MS_STACK_F_HOLES)
				continue;
			break;
		}
		/* A return address is looked up at the call before it; an ip is exact. */
		back = i == 0 && (st.flags & MS_STACK_F_IP0) ? 0 : 1;
		symbolizer__symbolize(ts->sym, pid, st.ips[i] - back, &sf);
		/* a scanned stack word is a frame only if it lands in a function */
		if ((st.flags & MS_STACK_F_HOLES) && i > 0 && !sf.func)
			continue;
		/*
		 * A frame-pointer walk through code built without them (libc) ends in
		 * words that point nowhere: the stack ends there.
		 */
		if (!(st.flags & MS_STACK_F_HOLES) && i > 0 && !sf.module)
			break;
		f->addr = st.ips[i];
		f->func = sf.func;
		f->func_off = sf.func ? sf.func_off + back : 0;
		f->build_id = sf.build_id;
		f->module = sf.module;
		f->file = sf.file;
		f->line = sf.line;
		f->lang = "c";
		n++;
	}
	return n;
}

static size_t pynames_slot(const struct trace_state *ts, int pid, uint64_t id)
{
	size_t mask = ts->pynames_cap - 1, i = (id ^ ((uint64_t)pid * 0x9e3779b97f4a7c15ULL)) & mask;

	while (ts->pynames[i].pid && (ts->pynames[i].pid != pid || ts->pynames[i].id != id))
		i = (i + 1) & mask;
	return i;
}

/* The named frames of p's Python stack id: named now if they were not yet. NULL on error. */
static const struct py_names *py_names_get(struct trace_state *ts, struct proc *p, uint64_t id)
{
	struct ms_py_stack st;
	struct py_names *e;
	size_t i;

	if (!ts->pynames_cap || (ts->npynames + 1) * 10 > ts->pynames_cap * 7) {
		size_t ncap = ts->pynames_cap ? 2 * ts->pynames_cap : 256, ocap = ts->pynames_cap;
		struct py_names *old = ts->pynames, *n = calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		ts->pynames = n;
		ts->pynames_cap = ncap;
		for (size_t j = 0; j < ocap; j++)
			if (old[j].pid)
				ts->pynames[pynames_slot(ts, old[j].pid, old[j].id)] = old[j];
		free(old);
	}
	i = pynames_slot(ts, p->pid, id);
	e = &ts->pynames[i];
	if (e->pid)
		return e;
	if (!p->has_py || tracer__py_stack(ts->tracer, id, &st))
		return NULL;
	e->frames = calloc(st.nr ? st.nr : 1, sizeof(*e->frames));
	if (!e->frames)
		return NULL;
	p->py.verify = 1;	/* frames without an identity: re-check cached code objects */
	for (uint32_t k = 0; k < st.nr; k++) {
		const struct ms_py_frame *rf = &st.frames[k];
		struct rpt_frame *f = &e->frames[e->n];
		struct py_frame pf = {};

		if (rf->flags & MS_PY_FRAME_SHIM)
			continue;
		if (pyrt__symbolize_as(&p->py, rf->code, rf->lasti, rf->ident, &pf) < 0 || pf.stale) {
			/*
			 * The innermost frame was running at the allocation. If its code was
			 * no code object even then (or, without a recorded identity, is gone
			 * now, moments later), the walk started in a dead frame (stale
			 * interpreter memory) and the frames after it cannot be trusted
			 * either: keep no Python frames rather than guess. With an identity
			 * that no longer matches, only that frame's code died since.
			 */
			if (e->n == 0 && (rf->ident == 0 || rf->ident == MS_PY_IDENT_NOT_CODE)) {
				pr_debug("pid %d: Python stack %#llx starts in a dead frame: dropped", p->pid,
					 (unsigned long long)id);
				break;
			}
			f->func = strdup("<stale code object>");	/* the function is gone: no guess */
		} else {
			f->func = strdup(pf.func ? pf.func : "[unknown]");
			f->file = pf.file ? strdup(pf.file) : NULL;
			f->line = pf.line;
		}
		f->addr = rf->code;
		f->lang = "python";
		e->n++;
	}
	p->py.verify = 0;
	e->pid = p->pid;
	e->id = id;
	ts->npynames++;
	return e;
}

/* Python frames of py_stack_id into frames[] (room for MS_PY_MAX_FRAMES), shims dropped. */
static size_t python_frames(struct trace_state *ts, struct proc *p, uint64_t py_stack_id,
			    struct rpt_frame *frames)
{
	const struct py_names *e;

	if (!py_stack_id)
		return 0;
	e = py_names_get(ts, p, py_stack_id);
	if (!e)
		return 0;
	for (size_t i = 0; i < e->n; i++) {
		frames[i] = e->frames[i];
		frames[i].module = p->py.path;
	}
	return e->n;
}

/* The interpreter's eval loop: where native frames hand over to Python ones. */
static bool is_eval_frame(const char *func)
{
	static const char *const names[] = {
		"_PyEval_EvalFrameDefault", "_PyEval_EvalFrame", "PyEval_EvalFrameEx",
		"_PyEval_Vector", "PyEval_EvalCode", "_PyEval_EvalCode",
	};

	for (size_t i = 0; func && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(func, names[i]))
			return true;
	return false;
}

/*
 * A stack's frames, innermost first: the native frames from the allocator up to
 * the interpreter's eval loop (C extensions, the object allocator), then the
 * Python frames that were running; without Python, the native frames alone.
 */
static void fill_frames(struct trace_state *ts, struct proc *p, uint64_t stack_id,
			uint64_t py_stack_id, struct rpt_stack *rs)
{
	struct rpt_frame *f = calloc(MS_MAX_FRAMES + MS_PY_MAX_FRAMES, sizeof(*f));
	size_t nn = 0, np = 0, cut;

	rs->nframes = 0;
	rs->frames = NULL;
	if (!f)
		return;
	nn = native_frames(ts, p->pid, stack_id, f);
	np = python_frames(ts, p, py_stack_id, f + MS_MAX_FRAMES);
	if (np) {
		for (cut = 0; cut < nn && !is_eval_frame(f[cut].func); cut++)
			;
		memmove(f + cut, f + MS_MAX_FRAMES, np * sizeof(*f));
		nn = cut;
	}
	rs->frames = f;
	rs->nframes = nn + np;
}

/*
 * The test a stack ran under: its outermost Python frame whose function name
 * starts with "test" (pytest and unittest), as "file.py::qualname"; NULL when none.
 */
static const char *stack_test(const struct rpt_stack *rs, char *buf, size_t len)
{
	for (size_t i = rs->nframes; i-- > 0;) {
		const struct rpt_frame *f = &rs->frames[i];
		const char *name, *file;

		if (strcmp(f->lang, "python") || !f->file || !f->func)
			continue;
		name = strrchr(f->func, '.');
		name = name ? name + 1 : f->func;
		if (strncmp(name, "test", 4))
			continue;
		file = strrchr(f->file, '/');
		snprintf(buf, len, "%s::%s", file ? file + 1 : f->file, f->func);
		return buf;
	}
	return NULL;
}

/* Live bytes per test over every stack of p (not only the top ones), largest first. */
static void fill_by_test(struct trace_state *ts, struct proc *p, struct rpt_process *rp)
{
	size_t cap = 0;

	for (size_t i = 0; i < ts->acc_cap; i++) {
		struct acc *a = &ts->accs[i];
		struct rpt_stack rs = {};
		char buf[512];
		const char *test;
		size_t j;

		if (!a->stack_id || a->tgid != (uint32_t)p->pid || !a->py_stack_id || a->v.live_bytes <= 0)
			continue;
		fill_frames(ts, p, a->stack_id, a->py_stack_id, &rs);
		test = stack_test(&rs, buf, sizeof(buf));
		if (test) {
			for (j = 0; j < rp->ntests && strcmp(rp->by_test[j].test, test); j++)
				;
			if (j == rp->ntests) {
				if (rp->ntests == cap) {
					size_t ncap = cap ? 2 * cap : 8;
					struct rpt_test *nt = realloc(rp->by_test, ncap * sizeof(*nt));

					if (!nt) {
						free(rs.frames);
						return;
					}
					rp->by_test = nt;
					cap = ncap;
				}
				rp->by_test[j].test = strdup(test);
				rp->by_test[j].live_bytes = 0;
				rp->ntests++;
			}
			rp->by_test[j].live_bytes += a->v.live_bytes;
		}
		free(rs.frames);
	}
	/* largest first: a few entries, insertion sort */
	for (size_t i = 1; i < rp->ntests; i++)
		for (size_t j = i; j > 0 && rp->by_test[j].live_bytes > rp->by_test[j - 1].live_bytes; j--) {
			struct rpt_test t = rp->by_test[j];

			rp->by_test[j] = rp->by_test[j - 1];
			rp->by_test[j - 1] = t;
		}
}

static void fill_process(struct trace_state *ts, struct proc *p, struct rpt_process *rp, int nstacks)
{
	struct acc **list = NULL;
	size_t n = 0;

	rp->pid = p->pid;
	rp->ppid = p->ppid;
	memcpy(rp->comm, p->comm, sizeof(rp->comm));
	rp->argv = argv__dup(p->argv);
	rp->exited = p->exited;
	if (p->exited) {
		if (WIFSIGNALED(p->status))
			rp->exit_signal = WTERMSIG(p->status);
		else
			rp->exit_code = WEXITSTATUS(p->status);
	}
	rp->oom_killed = p->oom_killed;
	rp->rss_bytes = p->rss;
	rp->heap_bytes = p->heap;
	rp->limit_bytes = p->limit;
	rp->cgroup = p->cgroup[0] ? p->cgroup : NULL;
	rp->growth = p->growth;
	rp->series = calloc(p->npoints ? p->npoints : 1, sizeof(*rp->series));
	if (rp->series) {
		memcpy(rp->series, p->points, p->npoints * sizeof(*p->points));
		rp->npoints = p->npoints;
	}

	list = calloc(ts->nacc ? ts->nacc : 1, sizeof(*list));
	if (!list)
		return;
	for (size_t i = 0; i < ts->acc_cap; i++)
		if (ts->accs[i].stack_id && ts->accs[i].tgid == (uint32_t)p->pid)
			list[n++] = &ts->accs[i];
	qsort(list, n, sizeof(*list), cmp_acc_live);
	if (n > (size_t)nstacks)
		n = nstacks;
	rp->stacks = calloc(n ? n : 1, sizeof(*rp->stacks));
	if (!rp->stacks) {
		free(list);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct rpt_stack *rs = &rp->stacks[i];
		struct acc *a = list[i];

		rs->stack_id = a->stack_id;
		rs->live_bytes = a->v.live_bytes;
		rs->live_allocs = a->v.live_allocs;
		rs->alloc_bytes = a->v.alloc_bytes;
		rs->allocs = a->v.allocs;
		rs->growth_bytes = a->v.live_bytes - a->first_live;
		rs->slope_bps = a->live && series__len(a->live) >= 3 ? growth__slope(a->live) : 0;
		fill_frames(ts, p, a->stack_id, a->py_stack_id, rs);
	}
	rp->nstacks = n;
	free(list);
	if (p->has_py && nstacks >= JSON_STACKS)
		fill_by_test(ts, p, rp);	/* final reports and dumps: every stack counts */
}

struct rpt *trace_state__report(struct trace_state *ts, int top, bool final)
{
	struct rpt *r = calloc(1, sizeof(*r));
	struct proc *p;
	size_t n = 0, i = 0;
	struct tm tm;

	if (!r)
		return NULL;
	gmtime_r(&ts->started_at, &tm);
	strftime(r->started_at, sizeof(r->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r->duration_s = ts->last_t;
	r->interval_s = ts->interval;
	r->mode = is_watch(ts) ? "watch" : "exact";
	r->sample_bytes = ts->tracer ? tracer__opts(ts->tracer)->sample_bytes : 0;
	r->target_pid = ts->target_pid;
	r->target_argv = argv__dup(ts->target_cmd);
	p = proc_find(ts, ts->target_pid);
	if (p) {
		if (!r->target_argv)
			r->target_argv = argv__dup(p->argv);
		r->target_exited = p->exited;
		if (p->exited) {
			if (WIFSIGNALED(p->status))
				r->target_exit_signal = WTERMSIG(p->status);
			else
				r->target_exit_code = WEXITSTATUS(p->status);
		}
		r->target_oom_killed = p->oom_killed;
	}

	for (p = ts->procs; p; p = p->next)
		n++;
	r->procs = calloc(n ? n : 1, sizeof(*r->procs));
	if (!r->procs) {
		trace_state__report_free(r);
		return NULL;
	}
	/* oldest first: the target, then its children in the order they appeared */
	for (p = ts->procs; p; p = p->next)
		i++;
	for (p = ts->procs; p; p = p->next)
		fill_process(ts, p, &r->procs[--i], final && top < JSON_STACKS ? JSON_STACKS : top);
	r->nprocs = n;

	r->oom_kills = calloc(n ? n : 1, sizeof(*r->oom_kills));
	for (p = ts->procs; p && r->oom_kills; p = p->next) {
		struct rpt_oom_kill *k;

		if (!p->oom_killed && !p->oom_seen)
			continue;
		k = &r->oom_kills[r->noom_kills++];
		k->pid = p->pid;
		memcpy(k->comm, p->comm, sizeof(k->comm));
		k->dump = p->dump_path && p->dump_path[0] ? p->dump_path : NULL;
	}

	for (size_t j = 0; j < ts->acc_cap; j++)
		r->stats.events += ts->accs[j].v.allocs;	/* every accounted allocation */
	if (final && log_verbosity >= LOG_DEBUG) {
		static const char *const names[MS_C__NR] = {
			"nested", "failed", "unknown_frees", "drop_allocs", "drop_stats", "drop_stacks",
			"stack_errors", "drop_pending", "no_entry", "stale_entry", "lost_events",
			"mmap_splits_lost", "py_no_tstate", "drop_py_stacks", "unknown_site",
		};

		for (int c = 0; c < MS_C__NR; c++)
			pr_debug("counter %s: %llu", names[c] ? names[c] : "?",
				 (unsigned long long)ts->counters.c[c]);
	}
	r->stats.lost_events = ts->counters.c[MS_C_LOST_EVENTS];
	r->stats.dropped_allocs = ts->counters.c[MS_C_DROP_ALLOCS] + ts->counters.c[MS_C_DROP_STATS] +
				  ts->counters.c[MS_C_DROP_PENDING];
	r->stats.dropped_stacks = ts->counters.c[MS_C_DROP_STACKS] + ts->counters.c[MS_C_STACK_ERRORS];
	return r;
}

void trace_state__report_free(struct rpt *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nprocs; i++) {
		struct rpt_process *rp = &r->procs[i];

		argv__free(rp->argv);
		for (size_t j = 0; j < rp->nstacks; j++)
			free(rp->stacks[j].frames);
		for (size_t j = 0; j < rp->ntests; j++)
			free((char *)rp->by_test[j].test);
		free(rp->by_test);
		free(rp->stacks);
		free(rp->series);
	}
	argv__free(r->target_argv);
	free(r->procs);
	free(r->oom_kills);
	free(r);
}

void trace_state__print_live(struct trace_state *ts, FILE *f, int top, bool tty)
{
	struct rpt *r = trace_state__report(ts, top, false);
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!r)
		return;
	m = open_memstream(&buf, &len);
	if (m) {
		report__print_text(r, m, top, false);
		fclose(m);
		if (tty && ts->live_lines)
			fprintf(f, "\033[%dA\033[J", ts->live_lines);	/* redraw in place */
		fputs(buf, f);
		fflush(f);
		ts->live_lines = 0;
		for (size_t i = 0; i < len; i++)
			ts->live_lines += buf[i] == '\n';
		free(buf);
	}
	trace_state__report_free(r);
}

bool trace_state__any_leak(const struct trace_state *ts)
{
	for (struct proc *p = ts->procs; p; p = p->next)
		if (p->growth.verdict == GV_LEAK ||
		    (p->growth.verdict == GV_GROWING && p->growth.severity == GS_CRITICAL))
			return true;
	return false;
}

/* --- OOM dumps ------------------------------------------------------------- */

static void proc_dump(struct trace_state *ts, struct proc *p)
{
	long page = sysconf(_SC_PAGESIZE);
	struct rpt_process rp = {};
	struct rpt_stack last = {};
	char cg[OOMEVENT_CG_LEN];
	char path[4096];
	struct oom_dump d;
	int err;

	p->dump_due = false;
	oomdump__init(&d);
	fill_process(ts, p, &rp, JSON_STACKS);
	d.series = rp.series;
	d.npoints = rp.npoints;
	d.growth = p->growth;
	d.stacks = rp.stacks;
	d.nstacks = rp.nstacks < 10 ? rp.nstacks : 10;
	d.by_test = rp.by_test;
	d.ntests = rp.ntests;
	d.test = rp.ntests ? rp.by_test[0].test : NULL;	/* the test holding the most */

	d.victim.pid = p->pid;
	memcpy(d.victim.comm, p->comm, sizeof(d.victim.comm));
	d.victim.argv = p->argv;
	d.exit.known = p->exited;
	d.exit.signal = p->exited && WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
	d.exit.code = p->exited && !d.exit.signal ? WEXITSTATUS(p->status) : 0;
	d.exit.oom_killed = p->oom_killed;
	if (p->maxrss_pages)
		d.victim.peak_rss_bytes = p->maxrss_pages * page;
	if (p->last_stack_id) {
		fill_frames(ts, p, p->last_stack_id, p->last_py_stack_id, &last);
		d.last_stack = last.frames;
		d.nlast = last.nframes;
	}

	if (p->oom_seen)
		oomevent__fill(&d, &p->oom, cg, sizeof(cg));

	err = oomdump__write(&d, ts->dump_dir ? ts->dump_dir : oomdump__default_dir(), path, sizeof(path));
	if (err) {
		pr_err("cannot write the OOM dump of pid %d: %s", p->pid, strerror(-err));
		p->dump_path = strdup("");	/* tried: do not retry every second */
	} else {
		p->dump_path = strdup(path);
		pr_warn("pid %d (%s) was OOM-killed; dump: %s", p->pid, p->comm, path);
	}
	if (ts->alerter) {
		struct alert_proc ap = {
			.pid = p->pid, .comm = p->comm, .argv = p->argv, .cgroup = d.memcg.path,
			.rss_bytes = p->rss, .limit_bytes = p->limit,
		};

		alerter__oom_kill(ts->alerter, wall_now(), &ap, &p->growth, NULL, 0,
				  err ? NULL : path);
	}
	free(last.frames);
	for (size_t j = 0; j < rp.ntests; j++)
		free((char *)rp.by_test[j].test);
	free(rp.by_test);
	for (size_t j = 0; j < rp.nstacks; j++)
		free(rp.stacks[j].frames);
	free(rp.stacks);
	free(rp.series);
	argv__free(rp.argv);
}

/* --- for the daemon: escalations come and go ------------------------------- */

void trace_state__set_dumps(struct trace_state *ts, bool write_dumps)
{
	ts->no_dumps = !write_dumps;
}

int trace_state__last_stack(struct trace_state *ts, int pid, struct rpt_stack *out)
{
	struct proc *p = proc_find(ts, pid);

	memset(out, 0, sizeof(*out));
	if (!p || !p->last_stack_id)
		return -ENOENT;
	fill_frames(ts, p, p->last_stack_id, 0, out);
	return out->nframes ? 0 : -ENOENT;
}

void trace_state__remove(struct trace_state *ts, int pid)
{
	struct proc **pp, *p;
	struct acc *old = ts->accs;
	size_t cap = ts->acc_cap;

	for (pp = &ts->procs; (p = *pp) && p->pid != pid; pp = &p->next)
		;
	if (!p)
		return;
	*pp = p->next;
	py_forget(ts, p);
	tracer__remove(ts->tracer, pid);
	/* its map entries go now: nothing refers to them once the process is forgotten */
	tracer__purge(ts->tracer, &pid, 1);
	symbolizer__forget(ts->sym, pid);
	proc_free(p);

	/* rebuild the counters without pid's (open addressing has no deletion) */
	ts->accs = calloc(cap, sizeof(*ts->accs));
	if (!ts->accs) {
		ts->accs = old;	/* keep them: a few stale counters, not a crash */
		return;
	}
	ts->nacc = 0;
	for (size_t j = 0; j < cap; j++) {
		struct acc *a = &old[j];
		size_t i;

		if (!a->stack_id)
			continue;
		if (a->tgid == (uint32_t)pid) {
			series__free(a->live);
			continue;
		}
		for (i = acc_hash(a->tgid, a->stack_id, a->py_stack_id) & (cap - 1); ts->accs[i].stack_id;
		     i = (i + 1) & (cap - 1))
			;
		ts->accs[i] = *a;
		ts->nacc++;
	}
	free(old);
}
