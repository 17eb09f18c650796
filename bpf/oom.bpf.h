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

#endif /* MS_OOM_BPF_H */
