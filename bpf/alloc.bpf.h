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

/* Map sizes are placeholders: user space sets them from options before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);			/* thread id */
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ms_stack);		/* scratch: too big for the BPF stack */
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

/*
 * Stack id of the current user stack. The kernel's frame-pointer walk starts at
 * the probed instruction and then follows rbp, which at an entry probe still
 * belongs to the caller: it yields the caller's caller next, so the direct
 * caller is read from [sp] (the placement code guarantees sp is untouched at
 * the probe) and put in place of the allocator's own address.
 */
static __always_inline __u64 stack_id_get(void *ctx, __u64 sp)
{
	struct ms_stack *st;
	__u64 h = 14695981039346656037ULL;	/* FNV-1a offset basis */
	__u64 ret_addr = 0;
	__u32 zero = 0;
	long n;

	st = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!st)
		return 0;
	n = bpf_get_stack(ctx, st->ips, sizeof(st->ips), BPF_F_USER_STACK);
	if (n < 0) {
		count(MS_C_STACK_ERRORS);
		n = 0;
	}
	st->nr = n / sizeof(__u64);
	if (bpf_probe_read_user(&ret_addr, sizeof(ret_addr), (void *)sp) == 0 && ret_addr) {
		st->ips[0] = ret_addr;
		if (st->nr == 0)
			st->nr = 1;
	}
	if (st->nr == 0)
		return 0;
	st->flags = 0;

	for (int i = 0; i < MS_MAX_FRAMES; i++) {
		if (i >= st->nr)
			break;
		h ^= st->ips[i];
		h *= 1099511628211ULL;		/* FNV prime */
		h ^= h >> 29;
	}
	if (h == 0)
		h = 1;

	if (!bpf_map_lookup_elem(&stacks, &h)) {
		long err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);

		if (err && err != -17 /* EEXIST: another CPU stored it first */) {
			count(MS_C_DROP_STACKS);
			return 0;
		}
	}
	return h;
}

/* Add delta bytes / allocs to (tgid, stack); new=1 also counts an allocation. */
static __always_inline void stat_add(__u32 tgid, __u64 stack_id, __s64 bytes, __s64 nallocs, bool new_alloc)
{
	struct ms_stat_key key = { .tgid = tgid, .stack_id = stack_id };
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
		__sync_fetch_and_add(&v->allocs, 1);
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
	stat_add(tgid, old.stack_id, -(__s64)old.size, -1, false);
	return true;
}

static __always_inline void block_add(void *map, __u32 tgid, __u64 addr, __u64 size, __u64 stack_id)
{
	struct ms_alloc_key key = { .tgid = tgid, .addr = addr };
	struct ms_alloc_val val = { .size = size, .stack_id = stack_id };

	/* An address handed out twice means we missed its free: settle the old one. */
	block_del(map, tgid, addr);
	if (bpf_map_update_elem(map, &key, &val, BPF_ANY)) {
		count(MS_C_DROP_ALLOCS);
		return;
	}
	stat_add(tgid, stack_id, size, 1, true);
	count(MS_C_EVENTS);
}

/*
 * Entry of an allocator call: remember it until its return probe. A call made
 * while this thread is already inside one of the probed functions (glibc's
 * realloc(NULL, n) calls malloc, malloc calls mmap, reallocarray tail-calls
 * realloc) is skipped: the outer call accounts for it. Inside means a deeper or
 * equal stack pointer than the pending outer call; a shallower one means the
 * pending record is stale (its return was never seen) and is replaced.
 */
static __always_inline int call_enter(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 arg)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx);
	struct ms_pending *p, rec = {};

	p = bpf_map_lookup_elem(&pending, &tid);
	if (p) {
		if (sp <= p->sp) {
			count(MS_C_NESTED);
			return 0;
		}
		count(MS_C_STALE_ENTRY);
	}
	rec.sp = sp;
	rec.size = size;
	rec.arg = arg;
	rec.kind = kind;
	if (kind != MS_K_MUNMAP)
		rec.stack_id = stack_id_get(ctx, sp);
	if (bpf_map_update_elem(&pending, &tid, &rec, BPF_ANY))
		count(MS_C_DROP_PENDING);
	return 0;
}

/*
 * Return of an allocator call: the pending record of this thread, if it belongs
 * to this very call (same kind, stack pointer one return address above the
 * entry's). Copies it out and deletes it.
 */
static __always_inline bool call_exit(struct pt_regs *ctx, __u32 kind, struct ms_pending *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ms_pending *p;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p) {
		count(MS_C_NO_ENTRY);
		return false;
	}
	if (p->kind != kind || PT_REGS_SP(ctx) != p->sp + 8)
		return false;	/* the return of a nested call we skipped */
	*out = *p;
	bpf_map_delete_elem(&pending, &tid);
	return true;
}

static __always_inline bool in_call(__u32 tid, __u64 sp)
{
	struct ms_pending *p = bpf_map_lookup_elem(&pending, &tid);

	return p && sp <= p->sp;
}

#endif /* MS_ALLOC_BPF_H */
