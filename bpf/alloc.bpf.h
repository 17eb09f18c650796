/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* alloc.bpf.h - maps and the one accounting path shared by every allocator probe */
#ifndef MS_ALLOC_BPF_H
#define MS_ALLOC_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "memslope.h"

#define MS_PAGE_SIZE 4096ULL

/* Set by user space before load. */
const volatile bool probe_only = false;	/* bench floor: probes fire and return at once */
const volatile __u64 sample_bytes = 0;	/* --sample-bytes N; 0: every block, exactly */
const volatile __u32 sample_gaps[MS_SAMPLE_GAPS] = {};	/* exponential, mean MS_SAMPLE_ONE */

/* Map sizes are placeholders: user space sets them from options before load. */
/* The call a thread is in, between entry and return probe; freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ms_pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct ms_alloc_key);
	__type(value, struct ms_alloc_val);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ms_alloc_key);	/* (tgid, start of region) */
	__type(value, struct ms_alloc_val);	/* page-rounded length */
} mmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ms_stat_key);
	__type(value, struct ms_stat_val);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);			/* stack id: hash of the frames */
	__type(value, struct ms_stack);
} stacks SEC(".maps");

#define MS_STACK_WIN 4096	/* bytes of native stack read at once, from sp up */

/* Per-CPU scratch: a stack is too big for the BPF stack. */
struct stack_scratch {
	struct ms_stack st;
	__u64 last_id;		/* the id this CPU stored last: allocation loops repeat it */
	__u8 win[MS_STACK_WIN + 16];	/* the top of the user stack (+ slack for masked reads) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} stack_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ms_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);			/* tgid */
	__type(value, __u32);			/* unused flags */
} targets SEC(".maps");

/*
 * Which set of inheritable uprobe events covers a thread (user space's id; 0 or
 * absent: none). The perf events of a set are inherited by every thread and
 * process the covered thread creates, so the fork tracepoint hands the id down
 * exactly as the kernel hands down the events.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} evsets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u32 zero = 0;
	struct ms_counters *c = bpf_map_lookup_elem(&counters, &zero);

	if (c && idx < MS_C__NR)
		c->c[idx]++;
}

static __always_inline __u64 hash_step(__u64 h, __u64 v)
{
	h ^= v;
	h *= 1099511628211ULL;	/* FNV prime */
	return h ^ (h >> 29);
}

struct vma_found {
	__u64 start, end, off, dev, ino;
};

static long vma_found_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_found *f)
{
	struct file *file = vma->vm_file;

	f->start = vma->vm_start;
	f->end = vma->vm_end;
	f->off = vma->vm_pgoff << 12;
	if (file) {
		f->ino = BPF_CORE_READ(file, f_inode, i_ino);
		f->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	}
	return 0;
}

/* The stack mapping of this thread around sp, in p->stk_lo/stk_hi (found once per thread). */
static __always_inline bool stack_bounds(struct ms_pending *p, __u64 sp)
{
	struct vma_found f = {};

	if (sp >= p->stk_lo && sp < p->stk_hi)
		return true;
	if (bpf_find_vma(bpf_get_current_task_btf(), sp, vma_found_cb, &f, 0))
		return false;
	p->stk_lo = f.start;
	p->stk_hi = f.end;
	return true;
}

/*
 * Stack id of the user stack by frame pointers, from sp and fp, its innermost
 * frame ip (a fault) or, when ip is 0, the return address at [sp]: at an
 * allocator's entry probe rbp still belongs to the caller, so its frame gives
 * the caller's caller, and the direct caller is at [sp] (placement guarantees
 * that sp and rbp are untouched at the probe). Each bpf_probe_read_user()
 * costs ~95 ns whatever its size, so the top MS_STACK_WIN bytes of the stack
 * are read at once and the frames found there cost nothing more; a frame
 * pointer must lie in the thread's stack mapping ([p->stk_lo, p->stk_hi)),
 * which stops a walk through code built without frame pointers, where rbp is
 * any value, at its first step. The frames are hashed as they are read (the
 * id) and stored once per id.
 */
static __always_inline __u64 stack_id_user(struct ms_pending *p, __u64 sp, __u64 fp, __u64 ip)
{
	__u32 flags = ip ? MS_STACK_F_IP0 : 0;
	__u64 h = 14695981039346656037ULL ^ flags;	/* FNV offset basis */
	__u64 lo = sp, win_hi, size;
	struct stack_scratch *sc;
	struct ms_stack *st;
	__u32 zero = 0, nr = 1;

	sc = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!sc)
		return 0;
	if (!stack_bounds(p, sp))
		goto err;
	/*
	 * Every page from sp up was touched by the frames of the callers, unless
	 * one of them left a large local untouched: then only sp's own page is
	 * certain (a read that meets a page never touched fails).
	 */
	win_hi = p->stk_hi - sp > MS_STACK_WIN ? sp + MS_STACK_WIN : p->stk_hi;
	size = win_hi - sp;
	if (size < 8 || size > MS_STACK_WIN)
		goto err;
	if (bpf_probe_read_user(sc->win, size, (void *)sp)) {
		win_hi = (sp | (MS_PAGE_SIZE - 1)) + 1;
		size = win_hi - sp;
		if (size < 8 || size > MS_STACK_WIN || bpf_probe_read_user(sc->win, size, (void *)sp))
			goto err;
	}
	st = &sc->st;
	st->ips[0] = ip ? ip : *(__u64 *)sc->win;
	if (!st->ips[0])
		goto err;
	h = hash_step(h, st->ips[0]);
	for (int i = 1; i < MS_MAX_FRAMES; i++) {
		struct {
			__u64 fp;
			__u64 ret;
		} frame;

		if (fp < lo || (fp & 7) || fp + sizeof(frame) > p->stk_hi)
			break;	/* frames live at rising addresses in the stack: anything else is not a frame */
		if (fp + sizeof(frame) <= win_hi)
			frame = *(typeof(frame) *)(sc->win + ((fp - sp) & (MS_STACK_WIN - 1)));
		else if (bpf_probe_read_user(&frame, sizeof(frame), (void *)fp))
			break;
		if (!frame.ret)
			break;
		st->ips[i] = frame.ret;
		h = hash_step(h, frame.ret);
		nr++;
		lo = fp + sizeof(frame);
		fp = frame.fp;
	}
	st->nr = nr;
	st->flags = flags;
	if (h == 0)
		h = 1;
	if (h == sc->last_id)
		return h;	/* stored already: skip the map lookup */

	if (!bpf_map_lookup_elem(&stacks, &h)) {
		long err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);

		if (err && err != -17 /* EEXIST: another CPU stored it first */) {
			count(MS_C_DROP_STACKS);
			return 0;
		}
	}
	sc->last_id = h;
	return h;
err:
	count(MS_C_STACK_ERRORS);
	return 0;
}

/* Add delta bytes / allocs to (tgid, stacks); new_alloc also counts them as allocated. */
static __always_inline void stat_add(__u32 tgid, const struct ms_alloc_val *owner, __s64 bytes,
				     __s64 nallocs, bool new_alloc)
{
	struct ms_stat_key key = {
		.tgid = tgid, .stack_id = owner->stack_id, .py_stack_id = owner->py_stack_id,
	};
	struct ms_stat_val *v;

	v = bpf_map_lookup_elem(&stats, &key);
	if (!v) {
		struct ms_stat_val zero = {};

		if (bpf_map_update_elem(&stats, &key, &zero, BPF_NOEXIST) && !bpf_map_lookup_elem(&stats, &key)) {
			count(MS_C_DROP_STATS);
			return;
		}
		v = bpf_map_lookup_elem(&stats, &key);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->live_bytes, bytes);
	__sync_fetch_and_add(&v->live_allocs, nallocs);
	if (new_alloc) {
		__sync_fetch_and_add(&v->alloc_bytes, bytes);
		__sync_fetch_and_add(&v->allocs, nallocs);
	}
}

/* Forget the block at addr, if we track it. Returns true when it was tracked. */
static __always_inline bool block_del(void *map, __u32 tgid, __u64 addr)
{
	struct ms_alloc_key key = { .tgid = tgid, .addr = addr };
	struct ms_alloc_val *v, old;

	v = bpf_map_lookup_elem(map, &key);
	if (!v)
		return false;
	old = *v;
	if (bpf_map_delete_elem(map, &key))
		return false;	/* another thread freed it first */
	stat_add(tgid, &old, -(__s64)old.size, -(__s64)old.allocs, false);
	return true;
}

/*
 * A new block at addr, owned by the stacks in owner and standing for size bytes
 * in nallocs allocations (1, or more for a sample).
 */
static __always_inline void block_add(void *map, __u32 tgid, __u64 addr, __u64 size,
				      __u64 nallocs, const struct ms_alloc_val *owner)
{
	struct ms_alloc_key key = { .tgid = tgid, .addr = addr };
	struct ms_alloc_val val = {
		.size = size, .stack_id = owner->stack_id, .py_stack_id = owner->py_stack_id,
		.allocs = nallocs,
	};
	long err;

	err = bpf_map_update_elem(map, &key, &val, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		/* An address handed out twice means we missed its free: settle the old one. */
		block_del(map, tgid, addr);
		err = bpf_map_update_elem(map, &key, &val, BPF_NOEXIST);
	}
	if (err) {
		count(MS_C_DROP_ALLOCS);
		return;
	}
	stat_add(tgid, &val, size, nallocs, true);
}

static __always_inline __u64 sample_gap(void)
{
	return sample_bytes * sample_gaps[bpf_get_prandom_u32() & (MS_SAMPLE_GAPS - 1)] / MS_SAMPLE_ONE;
}

/*
 * What the block of a heap call of size bytes will stand for (p->weight bytes
 * in p->wallocs allocations; 0 allocations: not kept), when sampling. With
 * --sample-bytes N a block of N bytes or more is kept exactly, and the smaller
 * ones are sampled as a Poisson process of rate 1/N over each thread's bytes:
 * a block is kept when the thread's byte count crosses one of its sample
 * points, and each point crossed stands for N bytes, an unbiased estimate
 * whatever the sizes. A kept block skips no work; the others skip the stack
 * walks and the maps, which is most of the cost of a probe after its trap.
 */
static __always_inline void sample(struct ms_pending *p, __u64 size)
{
	__u64 n = 0;

	if (size >= sample_bytes)
		return;	/* big: kept exactly, as call_enter() set it */
	if (!p->sample_armed) {
		p->sample_left = sample_gap();
		p->sample_armed = 1;
	}
	p->sample_left -= size;
	for (int i = 0; i < 64 && p->sample_left <= 0; i++) {
		p->sample_left += sample_gap();
		n++;
	}
	if (p->sample_left <= 0)
		p->sample_left = sample_gap();	/* gaps of ~0 64 times in a row: start afresh */
	p->weight = n * sample_bytes;
	p->wallocs = size ? (p->weight + size / 2) / size : n;
	if (n && !p->wallocs)
		p->wallocs = 1;
}

/*
 * Entry of an allocator call: remember it until its return probe. A call made
 * while this thread is already inside one of the probed functions (glibc's
 * realloc(NULL, n) calls malloc, malloc calls mmap, reallocarray tail-calls
 * realloc) is skipped: the outer call accounts for it. Inside means a deeper or
 * equal stack pointer than the pending outer call; a shallower one means the
 * pending record is stale (its return was never seen) and is replaced.
 */
#include "python.bpf.h"

static __always_inline struct ms_pending *pending_get(bool create)
{
	return bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Probe sites by libc file and offset, for probes without a cookie (tracefs events). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct ms_site_key);
	__type(value, __u32);			/* enum ms_kind */
} sites SEC(".maps");

/*
 * The kind of call probed at this probe's address: its file offset in the
 * mapping that holds it (found once per thread and mapping), looked up in the
 * sites map. 0: unknown.
 */
static __always_inline __u32 site_kind(struct pt_regs *ctx, struct ms_pending *p)
{
	__u64 ip = bpf_get_func_ip(ctx);
	struct ms_site_key key;
	__u32 *kind, slot;

	/* a thread calls few allocator functions: most hits are a site it hit before */
	for (int i = 0; i < MS_SITE_CACHE; i++)
		if (p->site_ip[i] == ip && p->site_kind[i])
			return p->site_kind[i];
	if (ip < p->vm_start || ip >= p->vm_end) {
		struct vma_found f = {};

		if (bpf_find_vma(bpf_get_current_task_btf(), ip, vma_found_cb, &f, 0) || !f.ino)
			goto unknown;
		p->vm_start = f.start;
		p->vm_end = f.end;
		p->vm_off = f.off;
		p->vm_dev = f.dev;
		p->vm_ino = f.ino;
	}
	key.dev = p->vm_dev;
	key.ino = p->vm_ino;
	key.off = ip - p->vm_start + p->vm_off;
	kind = bpf_map_lookup_elem(&sites, &key);
	if (kind) {
		slot = p->site_next++ & (MS_SITE_CACHE - 1);
		p->site_ip[slot] = ip;
		p->site_kind[slot] = *kind;
		return *kind;
	}
unknown:
	count(MS_C_UNKNOWN_SITE);
	return 0;
}

static __always_inline int call_enter(struct pt_regs *ctx, struct ms_pending *p, __u32 kind,
				      __u64 size, __u64 arg)
{
	__u64 sp = PT_REGS_SP(ctx);

	if (p->kind) {
		if (sp <= p->sp) {
			count(MS_C_NESTED);
			return 0;
		}
		count(MS_C_STALE_ENTRY);
	}
	p->sp = sp;
	p->size = size;
	p->arg = arg;
	p->stack_id = 0;
	p->py_stack_id = 0;
	p->weight = size;	/* exact: the block stands for itself */
	p->wallocs = 1;
	if (sample_bytes && kind <= MS_K__HEAP_LAST)
		sample(p, size);
	if (p->wallocs && kind != MS_K_MUNMAP) {
		p->stack_id = stack_id_user(p, sp, PT_REGS_FP(ctx), 0);
		p->py_stack_id = py_stack_id_get();
	}
	p->kind = kind;
	return 0;
}

/* What the return probe needs of a pending call. */
struct call {
	__u32 kind;
	__u64 size, arg, stack_id, py_stack_id, weight, wallocs;
};

/*
 * Return of an allocator call: the pending record of this thread, if it belongs
 * to this very call (same kind, stack pointer one return address above the
 * entry's). Copies out what the return needs and clears it.
 */
static __always_inline bool call_exit(struct pt_regs *ctx, __u32 kind, struct call *out)
{
	struct ms_pending *p = pending_get(false);

	if (!p || !p->kind) {
		count(MS_C_NO_ENTRY);
		return false;
	}
	/* kind 0: a probe without cookie, only the stack pointer tells */
	if ((kind && p->kind != kind) || PT_REGS_SP(ctx) != p->sp + 8)
		return false;	/* the return of a nested call we skipped */
	out->kind = p->kind;
	out->size = p->size;
	out->arg = p->arg;
	out->stack_id = p->stack_id;
	out->py_stack_id = p->py_stack_id;
	out->weight = p->weight;
	out->wallocs = p->wallocs;
	p->kind = 0;
	return true;
}

/* Is this thread (p: its pending record) inside a probed call, deeper than or at sp? */
static __always_inline bool in_call(const struct ms_pending *p, __u64 sp)
{
	return p->kind && sp <= p->sp;
}

#endif /* MS_ALLOC_BPF_H */
