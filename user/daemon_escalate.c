// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon_escalate.c - flagged processes traced exactly for a while: a thin layer over trace_state */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_tracer.h"
#include "daemon_escalate.h"
#include "log.h"

struct escalator {
	struct tracer *tracer;
	struct trace_state *ts;
	int *pids;		/* escalated now */
	size_t n, cap;
};

struct escalator *escalator__new(struct tracer *t, double interval_s, const struct growth_cfg *g)
{
	struct escalator *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->tracer = t;
	e->ts = trace_state__new(interval_s, g);
	if (!e->ts) {
		free(e);
		return NULL;
	}
	trace_state__set_tracer(e->ts, t);
	trace_state__set_dumps(e->ts, false);
	trace_state__start(e->ts, 0, NULL);
	return e;
}

void escalator__free(struct escalator *e)
{
	if (!e)
		return;
	while (e->n)
		escalator__stop(e, e->pids[e->n - 1]);
	trace_state__free(e->ts);
	free(e->pids);
	free(e);
}

static ssize_t find(const struct escalator *e, int pid)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->pids[i] == pid)
			return i;
	return -1;
}

bool escalator__active(const struct escalator *e, int pid)
{
	return find(e, pid) >= 0;
}

size_t escalator__count(const struct escalator *e)
{
	return e->n;
}

int escalator__start(struct escalator *e, int pid, int ppid)
{
	int err;

	if (find(e, pid) >= 0)
		return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		int *np = realloc(e->pids, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		e->pids = np;
		e->cap = cap;
	}
	err = trace_state__add(e->ts, pid, ppid);
	if (err) {
		trace_state__remove(e->ts, pid);
		return err;
	}
	if (!tracer__attached(e->tracer, pid)) {
		/* static, or gone while attaching: the probes tell nothing here */
		bool gone = trace_state__exited(e->ts, pid);

		trace_state__remove(e->ts, pid);
		return gone ? -ESRCH : -ENOENT;
	}
	e->pids[e->n++] = pid;
	return 0;
}

void escalator__stop(struct escalator *e, int pid)
{
	ssize_t i = find(e, pid);

	if (i < 0)
		return;
	e->pids[i] = e->pids[--e->n];
	trace_state__remove(e->ts, pid);
}

void escalator__event(struct escalator *e, const struct ms_event *ev)
{
	if (ev->type == MS_EV_FORK) {
		/* BPF made the child a target because its parent is one: undo, we trace only the flagged */
		if (find(e, ev->ppid) >= 0)
			tracer__remove(e->tracer, ev->pid);
		return;
	}
	if (find(e, ev->pid) >= 0)
		trace_state__event(e->ts, ev);
}

void escalator__sample(struct escalator *e, double t)
{
	if (!e->n)
		return;
	trace_state__tick(e->ts);
	trace_state__sample(e->ts, t);
}

size_t escalator__top(struct escalator *e, int pid, struct alert_stack *as,
		      char (*text)[TRACE_STATE_FRAMES_LEN], size_t max)
{
	if (find(e, pid) < 0)
		return 0;
	return trace_state__top_growing(e->ts, pid, as, text, max);
}

struct trace_state *escalator__state(struct escalator *e)
{
	return e->ts;
}

int escalator__counters(struct escalator *e, struct ms_counters *out)
{
	return tracer__counters(e->tracer, out);
}
