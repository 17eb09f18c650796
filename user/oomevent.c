// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* oomevent.c - what BPF saw at an OOM kill (struct ms_oom_event), turned into dump fields */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oomevent.h"

#define PAGE_COUNTER_UNLIMITED (1ULL << 40)	/* pages: anything above is PAGE_COUNTER_MAX */

void oomevent__memcg_oom_range(uint64_t *start, uint64_t *end)
{
	static uint64_t s, e;
	static bool done;
	char line[256], name[128];
	unsigned long long addr;
	char type;
	FILE *f;

	if (!done) {
		done = true;
		f = fopen("/proc/kallsyms", "re");
		while (f && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3)
				continue;
			if (s && addr > s) {
				e = addr;	/* kallsyms is sorted: the next symbol ends it */
				break;
			}
			if (!strcmp(name, "mem_cgroup_out_of_memory"))
				s = addr;
		}
		if (f)
			fclose(f);
		if (!e)
			s = 0;
	}
	*start = s;
	*end = e;
}

enum oom_constraint oomevent__constraint(const struct ms_oom_event *o, uint64_t ksym_start,
					 uint64_t ksym_end)
{
	if (ksym_start && ksym_end) {
		for (uint32_t i = 0; i < o->nkstack && i < MS_OOM_KSTACK; i++)
			if (o->kstack[i] >= ksym_start && o->kstack[i] < ksym_end)
				return OOM_CONSTRAINT_MEMCG;
		return o->nkstack ? OOM_CONSTRAINT_GLOBAL : OOM_CONSTRAINT_UNKNOWN;
	}
	/* no kernel symbols: a limited memcg at its limit is the likely culprit */
	if (o->memcg_limit_pages < PAGE_COUNTER_UNLIMITED &&
	    o->memcg_usage_pages + 32 >= o->memcg_limit_pages)
		return OOM_CONSTRAINT_MEMCG;
	return OOM_CONSTRAINT_UNKNOWN;
}

void oomevent__cg_path(const struct ms_oom_event *o, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = (int)o->cg_depth - 1; i >= 0 && off < len; i--) {
		if (i >= MS_CG_DEPTH)
			continue;
		off += snprintf(buf + off, len - off, "/%.*s", MS_CG_NAME, o->cg_path[i]);
	}
	if (!buf[0])
		snprintf(buf, len, "/");
}

void oomevent__fill(struct oom_dump *d, const struct ms_oom_event *o, char *cg, size_t cglen)
{
	long page = sysconf(_SC_PAGESIZE);
	struct timespec rt, mono;
	uint64_t ks, ke;

	/* the kill's wall time, from its monotonic timestamp */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	d->mono_ns = o->ts_ns;
	d->time_ns = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec -
		     ((int64_t)mono.tv_sec * 1000000000LL + mono.tv_nsec - (int64_t)o->ts_ns);

	if (!d->victim.comm[0])
		memcpy(d->victim.comm, o->comm, sizeof(d->victim.comm));
	d->victim.tid = o->tid;
	d->victim.uid = o->uid;
	d->victim.oom_score_adj = o->oom_score_adj;
	d->victim.total_vm_bytes = o->total_vm_pages * page;
	d->victim.anon_rss_bytes = o->rss_anon_pages > 0 ? o->rss_anon_pages * page : 0;
	d->victim.file_rss_bytes = o->rss_file_pages > 0 ? o->rss_file_pages * page : 0;
	d->victim.shmem_rss_bytes = o->rss_shmem_pages > 0 ? o->rss_shmem_pages * page : 0;
	d->victim.pgtables_bytes = o->pgtables_bytes;
	d->trigger.pid = o->trigger_pid;
	memcpy(d->trigger.comm, o->trigger_comm, sizeof(d->trigger.comm));

	oomevent__memcg_oom_range(&ks, &ke);
	d->constraint = oomevent__constraint(o, ks, ke);
	oomevent__cg_path(o, cg, cglen);
	d->memcg.path = cg;
	d->memcg.version = access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0 ? 1 : 2;
	if (o->memcg_limit_pages < PAGE_COUNTER_UNLIMITED)
		d->memcg.limit_bytes = o->memcg_limit_pages * page;
	d->memcg.usage_bytes = o->memcg_usage_pages * page;
	d->memcg.failcnt = o->memcg_failcnt;
	d->memcg.oom_events = o->memcg_oom_events;
	d->memcg.oom_kills = o->memcg_oom_kills;
}
