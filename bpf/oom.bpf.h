/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* oom.bpf.h - what the OOM killer knew when it chose a victim: the task, its mm, its memory cgroup */
#ifndef MS_OOM_BPF_H
#define MS_OOM_BPF_H

#include "alloc.bpf.h"

/* kernfs_node.parent became __parent in 6.15 */
struct kernfs_node___old {
	struct kernfs_node *parent;
};

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

static __always_inline struct mem_cgroup *task_memcg(struct task_struct *task)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;

	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return NULL;
	css = BPF_CORE_READ(task, cgroups, subsys[id]);
	/* css is the first member of struct mem_cgroup */
	return (struct mem_cgroup *)css;
}

static __always_inline void oom_fill_memcg(struct ms_oom_event *e, struct task_struct *task)
{
	struct mem_cgroup *memcg = task_memcg(task);
	int oom = bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM);
	int oom_kill = bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL);
	struct kernfs_node *kn;
	__u32 depth = 0;

	if (!memcg)
		return;
	e->memcg_limit_pages = BPF_CORE_READ(memcg, memory.max);
	e->memcg_usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
	e->memcg_failcnt = BPF_CORE_READ(memcg, memory.failcnt);
	if (oom >= 0 && oom < 9)
		e->memcg_oom_events = BPF_CORE_READ(memcg, memory_events[oom].counter);
	if (oom_kill >= 0 && oom_kill < 9)
		e->memcg_oom_kills = BPF_CORE_READ(memcg, memory_events[oom_kill].counter);

	kn = BPF_CORE_READ(memcg, css.cgroup, kn);
	e->memcg_id = BPF_CORE_READ(kn, id);
	for (int i = 0; i < MS_CG_DEPTH; i++) {
		struct kernfs_node *parent;

		if (!kn)
			break;
		parent = kn_parent(kn);
		if (!parent)
			break;	/* the hierarchy's root has no name worth keeping */
		bpf_probe_read_kernel_str(e->cg_path[i], MS_CG_NAME, BPF_CORE_READ(kn, name));
		depth++;
		kn = parent;
	}
	e->cg_depth = depth;
}

static __always_inline void oom_fill_mm(struct ms_oom_event *e, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	if (!mm)
		return;
	e->total_vm_pages = BPF_CORE_READ(mm, total_vm);
	e->rss_file_pages = BPF_CORE_READ(mm, rss_stat[0].count);	/* MM_FILEPAGES */
	e->rss_anon_pages = BPF_CORE_READ(mm, rss_stat[1].count);	/* MM_ANONPAGES */
	e->rss_shmem_pages = BPF_CORE_READ(mm, rss_stat[3].count);	/* MM_SHMEMPAGES */
	e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
}

/*
 * Report the victim. Called for every OOM kill on the host: they are rare, and
 * the victim is often not one we trace yet (the daemon wants them all).
 */
static __always_inline void oom_victim(void *ctx, struct task_struct *victim, __u32 uid)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct ms_oom_event *e;
	long n;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(MS_C_LOST_EVENTS);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MS_EV_OOM;
	e->pid = BPF_CORE_READ(victim, tgid);
	e->tid = BPF_CORE_READ(victim, pid);
	e->uid = uid;
	e->trigger_pid = BPF_CORE_READ(cur, tgid);
	e->oom_score_adj = BPF_CORE_READ(victim, signal, oom_score_adj);
	e->ts_ns = bpf_ktime_get_ns();
	BPF_CORE_READ_STR_INTO(&e->comm, victim, comm);
	BPF_CORE_READ_STR_INTO(&e->trigger_comm, cur, comm);
	oom_fill_mm(e, victim);
	oom_fill_memcg(e, victim);
	/* mem_cgroup_out_of_memory() on this stack means a memcg OOM, else global */
	n = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
	e->nkstack = n > 0 ? n / sizeof(__u64) : 0;
	bpf_ringbuf_submit(e, 0);
}

#define MS_SCAN_WORDS	64	/* stack words scanned for return addresses at death */
#define MS_SCAN_SLOTS	47	/* ips[1..47]: scanned words; ips[48..63]: the frame chain after them */
#define MS_USER_MAX	0x800000000000ULL

#define MS_RI_MAX	4

/*
 * Scratch for the walk at death. Return addresses the kernel replaced with its
 * uretprobe trampoline (our own return probes, malloc's say, hijack them until
 * the call returns) are kept by stack slot in the task's return instances.
 * In a map value, unlike on the BPF stack, they are plain unknowns to the
 * verifier: no state per combination of known zeros.
 */
struct death_scratch {
	__u64 words[MS_SCAN_WORDS];
	__u64 ri_slot[MS_RI_MAX];
	__u64 ri_ret[MS_RI_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct death_scratch);
} scan_scratch SEC(".maps");

/*
 * Could w be a return address? A user address that is not on the stack. Which
 * of them point into code is for user space to tell (it has the mappings):
 * bpf_find_vma() needs the mmap lock, which the OOM reaper may be holding.
 */
static __always_inline bool maybe_code(__u64 w, __u64 sp)
{
	return w >= 0x1000 && w < MS_USER_MAX && (w + (1 << 20) < sp || w > sp + (8 << 20));
}

static __always_inline void hijacked_read(struct task_struct *task, struct death_scratch *ds)
{
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);

	for (int i = 0; i < MS_RI_MAX; i++) {
		ds->ri_slot[i] = ri ? BPF_CORE_READ(ri, stack) : 0;
		ds->ri_ret[i] = ri ? BPF_CORE_READ(ri, orig_ret_vaddr) : 0;
		ri = ri ? BPF_CORE_READ(ri, next) : NULL;
	}
}

/* The word stored at stack address slot, as the program would see it without our probes. */
static __always_inline __u64 unhijack(const struct death_scratch *ds, __u64 slot, __u64 w)
{
	for (int i = 0; i < MS_RI_MAX; i++)
		if (ds->ri_slot[i] == slot && ds->ri_ret[i])
			return ds->ri_ret[i];
	return w;
}

/* Put the real return addresses back into the copy of the stack that starts at sp. */
static __always_inline void unhijack_words(struct death_scratch *ds, __u64 sp)
{
	for (int i = 0; i < MS_RI_MAX; i++) {
		__u64 k = (ds->ri_slot[i] - sp) / 8;

		if (ds->ri_ret[i] && ds->ri_slot[i] >= sp && k < MS_SCAN_WORDS)
			ds->words[k & (MS_SCAN_WORDS - 1)] = ds->ri_ret[i];
	}
}

/*
 * The stack of a task stopped anywhere, typically deep in libc (built without
 * frame pointers) when the OOM killer struck: the instruction pointer, then
 * the words found by scanning the top of the stack up to the first frame of a
 * frame-pointer chain (a saved rbp: a stack address above us whose next word
 * may be a return address), then that chain. Words at fixed slots, zero for
 * holes: a running frame count as index would make the verifier walk every
 * count (MS_STACK_F_HOLES). User space keeps the scanned words that land in
 * code. Not for hot paths.
 */
static __always_inline __u64 stack_id_at_death(struct task_struct *task, __u64 ip, __u64 sp, __u64 bp)
{
	__u64 h = 14695981039346656037ULL ^ MS_STACK_F_IP0, fp = 0, ret = 0;
	struct stack_scratch *sc;
	struct death_scratch *ds;
	struct ms_stack *st;
	__u64 *words;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&stack_scratch, &zero);
	ds = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!sc || !ds)
		return 0;
	st = &sc->st;
	words = ds->words;
	__builtin_memset(st->ips, 0, sizeof(st->ips));
	hijacked_read(task, ds);
	st->ips[0] = ip;
	h = hash_step(h, ip);

	if (bp > sp && bp - sp < (1 << 20) &&
	    !bpf_probe_read_user(&ret, sizeof(ret), (void *)(bp + 8)) && maybe_code(ret, sp))
		fp = bp;	/* rbp is a frame pointer already */
	if (!fp && !bpf_probe_read_user(words, MS_SCAN_WORDS * sizeof(__u64), (void *)sp)) {
		int end = MS_SCAN_SLOTS;

		unhijack_words(ds, sp);
		/* first, where the chain starts: the words below it belong to inner frames */
		for (int i = 0; i < MS_SCAN_SLOTS; i++) {
			__u64 w = words[i];

			if (w > sp + i * 8 && w - sp < (1 << 20) && !(w & 7) &&
			    !bpf_probe_read_user(&ret, sizeof(ret), (void *)(w + 8)) && maybe_code(ret, sp)) {
				fp = w;
				end = (w - sp) / 8 < MS_SCAN_SLOTS ? (w - sp) / 8 : MS_SCAN_SLOTS;
				words[i] = 0;	/* the saved rbp itself is no frame */
				break;
			}
		}
		for (int i = 0; i < MS_SCAN_SLOTS; i++) {
			__u64 w;

			if (i >= end)
				break;
			w = words[i];
			if (maybe_code(w, sp)) {
				st->ips[1 + i] = w;
				h = hash_step(h, w);
			}
		}
	}
	for (int i = MS_SCAN_SLOTS + 1; i < MS_MAX_FRAMES; i++) {
		struct {
			__u64 fp;
			__u64 ret;
		} frame;

		if (!fp || bpf_probe_read_user(&frame, sizeof(frame), (void *)fp) || !frame.ret)
			break;
		frame.ret = unhijack(ds, fp + 8, frame.ret);
		st->ips[i] = frame.ret;
		h = hash_step(h, frame.ret);
		if (frame.fp <= fp)
			break;
		fp = frame.fp;
	}
	st->nr = MS_MAX_FRAMES;
	st->flags = MS_STACK_F_IP0 | MS_STACK_F_HOLES;
	if (h == 0)
		h = 1;
	if (!bpf_map_lookup_elem(&stacks, &h) && bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST)) {
		count(MS_C_DROP_STACKS);
		return 0;
	}
	return h;
}

#endif /* MS_OOM_BPF_H */
