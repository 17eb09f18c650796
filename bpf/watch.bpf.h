/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* watch.bpf.h - the watch tier: every process's exact memory in one iter/task pass */
#ifndef MS_WATCH_BPF_H
#define MS_WATCH_BPF_H

#include "alloc.bpf.h"
#include "oom.bpf.h"

#define MS_MAX_CPUS 512

const volatile __u32 nr_cpus = 1;	/* possible CPUs, set by user space */

/*
 * Per-CPU offsets (__per_cpu_offset[], which kallsyms does not show on every
 * kernel): a per-CPU array element's address on a CPU minus the element's raw
 * per-CPU pointer. That pointer sits in the map's struct bpf_array, reached
 * from an iter/bpf_map pass (find_percpu_offsets) that user space runs once;
 * user space sets pcpu_probe_id to the map's id first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_probe SEC(".maps");

__u32 pcpu_probe_id;
__u64 percpu_off[MS_MAX_CPUS];
__u32 percpu_off_ready;

static __always_inline void percpu_offsets_init(struct bpf_map *map)
{
	struct bpf_array *arr = (struct bpf_array *)map;
	__u64 base;
	__u32 zero = 0;

	base = (__u64)BPF_CORE_READ(arr, pptrs[0]);
	if (!base)
		return;
	for (__u32 cpu = 0; cpu < MS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		void *p = bpf_map_lookup_percpu_elem(&pcpu_probe, &zero, cpu);
		volatile __u64 *slot = &percpu_off[cpu];

		/* through memory: a pointer read back from a map value is a plain number */
		*slot = (__u64)p;
		*slot = p ? *slot - base : 0;
	}
	percpu_off_ready = 1;
}

/* The exact value of a percpu_counter: its count plus every CPU's unfolded delta. */
static __always_inline __s64 percpu_counter_sum(struct percpu_counter *pc)
{
	__s64 sum = BPF_CORE_READ(pc, count);
	__u64 counters = (__u64)BPF_CORE_READ(pc, counters);

	if (!percpu_off_ready || !counters)
		return sum;
	for (__u32 cpu = 0; cpu < MS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		__s32 v = 0;

		if (!bpf_probe_read_kernel(&v, sizeof(v), (void *)(counters + percpu_off[cpu])))
			sum += v;
	}
	return sum;
}

static __always_inline void watch_fill(struct ms_task_rec *r, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct mem_cgroup *memcg;
	__s64 v;

	r->pid = BPF_CORE_READ(task, tgid);
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	r->uid = BPF_CORE_READ(task, cred, uid.val);
	r->start_ns = BPF_CORE_READ(task, start_boottime);
	BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
	v = percpu_counter_sum(&mm->rss_stat[0]);	/* MM_FILEPAGES */
	r->file_pages = v > 0 ? v : 0;
	v = percpu_counter_sum(&mm->rss_stat[1]);	/* MM_ANONPAGES */
	r->anon_pages = v > 0 ? v : 0;
	v = percpu_counter_sum(&mm->rss_stat[3]);	/* MM_SHMEMPAGES */
	r->shmem_pages = v > 0 ? v : 0;
	memcg = task_memcg(task);
	if (memcg)
		r->memcg_id = BPF_CORE_READ(memcg, css.cgroup, kn, id);
}

#endif /* MS_WATCH_BPF_H */
