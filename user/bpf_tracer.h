/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpf_tracer.h - exact tracing: load the BPF skeleton, attach allocator uprobes per process, read maps */
#ifndef MS_BPF_TRACER_H
#define MS_BPF_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "memslope.h"

struct tracer_opts {
	uint32_t max_allocs;	/* live blocks tracked at once (--max-allocs) */
	uint32_t max_stacks;	/* distinct stacks (--max-stacks); per-(pid, stack) counters get 4x */
	uint32_t max_mmaps;	/* live mmap regions */
	uint32_t ringbuf_bytes;	/* lifecycle event ring buffer (--ringbuf-size) */
	uint64_t sample_bytes;	/* --sample-bytes: 0, every heap block exactly */
	bool faults;		/* watch mode: charge new pages (page faults) to stacks, no allocator probes */
	bool probe_only;	/* attach probes that return at once (benchmark floor) */
	bool no_placement;	/* probe at the symbols, not at emulated instructions (benchmark) */
};

void tracer_opts__default(struct tracer_opts *o);

struct tracer;

/*
 * Called from tracer__poll() for every lifecycle event of a traced process tree and
 * every OOM kill on the host: e->type tells which record it is (MS_EV_OOM: a
 * struct ms_oom_event).
 */
typedef void (*tracer_event_fn)(void *ctx, const struct ms_event *e);

/*
 * Load the BPF programs and attach the lifecycle tracepoints. Returns NULL with
 * errno set (EPERM: missing privileges) and an error already logged.
 */
struct tracer *tracer__new(const struct tracer_opts *o, tracer_event_fn fn, void *ctx);
void tracer__free(struct tracer *t);	/* accepts NULL; detaches everything */
const struct tracer_opts *tracer__opts(const struct tracer *t);	/* as given to tracer__new() */

/*
 * Trace pid: follow its forks and attach the allocator probes to the libc it maps.
 * Returns 0; -ESRCH when the process does not exist; -ENOENT when it maps no
 * libc (static binary: followed, but only RSS is known); other -errno on failure.
 */
int tracer__add(struct tracer *t, int pid);

/*
 * After an exec: attach to the libc the new program maps, unless it is the one
 * already probed (pid-filtered uprobes on the same file survive exec). Returns as
 * tracer__add(); -EAGAIN when the dynamic loader has not mapped libc yet.
 */
int tracer__refresh(struct tracer *t, int pid);

/* Detach pid's probes (its counters stay until tracer__purge). */
void tracer__remove(struct tracer *t, int pid);

/* Is pid's libc probed? */
bool tracer__attached(const struct tracer *t, int pid);

/* Wait up to timeout_ms for lifecycle events and dispatch them. Returns events handled or -errno. */
int tracer__poll(struct tracer *t, int timeout_ms);

typedef void (*tracer_stat_fn)(void *ctx, const struct ms_stat_key *k, const struct ms_stat_val *v);

/* Call fn for every (process, stack) counter. Returns 0 or -errno. */
int tracer__for_each_stat(struct tracer *t, tracer_stat_fn fn, void *ctx);

/* Frames of a stack id. Returns 0 or -ENOENT. */
int tracer__stack(struct tracer *t, uint64_t stack_id, struct ms_stack *out);

/* Python frames of a Python stack id. Returns 0 or -ENOENT. */
int tracer__py_stack(struct tracer *t, uint64_t py_stack_id, struct ms_py_stack *out);

/* Walk pid's Python stacks with these offsets at every allocation (NULL: stop). 0 or -errno. */
int tracer__set_python(struct tracer *t, int pid, const struct ms_py_offsets *off);

/* Counters summed over CPUs. */
int tracer__counters(struct tracer *t, struct ms_counters *out);

/*
 * The watch tier: one iter/task pass over every process on the host (exact RSS
 * split anon/file/shmem, in pages). *out is malloc'ed. Returns the count or -errno.
 */
int tracer__watch(struct tracer *t, struct ms_task_rec **out);

/* Free the map entries of processes that are gone (one sweep for all of them). */
void tracer__purge(struct tracer *t, const int *pids, int n);

#endif
