// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_oomevent.c - OOM event to dump fields: constraint, cgroup path, units */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "oomevent.h"

static struct ms_oom_event event(void)
{
	struct ms_oom_event o = {
		.type = MS_EV_OOM, .pid = 42, .tid = 43, .uid = 1000, .trigger_pid = 7,
		.oom_score_adj = 500, .total_vm_pages = 100, .rss_anon_pages = 10,
		.rss_file_pages = 2, .rss_shmem_pages = -3, .pgtables_bytes = 8192,
		.memcg_limit_pages = 16384, .memcg_usage_pages = 16384, .memcg_oom_kills = 1,
		.nkstack = 3, .kstack = { 0x1000, 0x2050, 0x3000 }, .cg_depth = 3,
	};

	strcpy(o.comm, "victim");
	strcpy(o.trigger_comm, "trigger");
	strcpy(o.cg_path[0], "leaf");
	strcpy(o.cg_path[1], "mid");
	strcpy(o.cg_path[2], "top");
	return o;
}

Test(oomevent, constraint_from_kernel_stack)
{
	struct ms_oom_event o = event();

	cr_expect_eq(oomevent__constraint(&o, 0x2000, 0x2100), OOM_CONSTRAINT_MEMCG);
	cr_expect_eq(oomevent__constraint(&o, 0x4000, 0x4100), OOM_CONSTRAINT_GLOBAL);
	o.nkstack = 0;
	cr_expect_eq(oomevent__constraint(&o, 0x2000, 0x2100), OOM_CONSTRAINT_UNKNOWN);
}

Test(oomevent, constraint_without_symbols)
{
	struct ms_oom_event o = event();

	cr_expect_eq(oomevent__constraint(&o, 0, 0), OOM_CONSTRAINT_MEMCG);	/* at its limit */
	o.memcg_usage_pages = 100;
	cr_expect_eq(oomevent__constraint(&o, 0, 0), OOM_CONSTRAINT_UNKNOWN);
	o.memcg_limit_pages = 1ULL << 51;	/* PAGE_COUNTER_MAX: unlimited */
	o.memcg_usage_pages = 1ULL << 51;
	cr_expect_eq(oomevent__constraint(&o, 0, 0), OOM_CONSTRAINT_UNKNOWN);
}

Test(oomevent, cgroup_path_root_first)
{
	struct ms_oom_event o = event();
	char buf[OOMEVENT_CG_LEN];

	oomevent__cg_path(&o, buf, sizeof(buf));
	cr_expect_str_eq(buf, "/top/mid/leaf");
	o.cg_depth = 0;
	oomevent__cg_path(&o, buf, sizeof(buf));
	cr_expect_str_eq(buf, "/");
	o.cg_depth = 3;
	oomevent__cg_path(&o, buf, 6);
	cr_expect_str_eq(buf, "/top/");	/* truncated, still terminated */
}

Test(oomevent, fill_converts_pages_to_bytes)
{
	struct ms_oom_event o = event();
	char cg[OOMEVENT_CG_LEN];
	long page = sysconf(_SC_PAGESIZE);
	struct oom_dump d;

	oomdump__init(&d);
	d.victim.pid = 42;
	oomevent__fill(&d, &o, cg, sizeof(cg));
	cr_expect_str_eq(d.victim.comm, "victim");
	cr_expect_eq(d.victim.tid, 43);
	cr_expect_eq(d.victim.oom_score_adj, 500);
	cr_expect_eq(d.victim.total_vm_bytes, 100 * (uint64_t)page);
	cr_expect_eq(d.victim.anon_rss_bytes, 10 * (uint64_t)page);
	cr_expect_eq(d.victim.shmem_rss_bytes, 0);	/* a negative per-CPU drift is 0 */
	cr_expect_eq(d.trigger.pid, 7);
	cr_expect_str_eq(d.trigger.comm, "trigger");
	cr_expect_str_eq(d.memcg.path, "/top/mid/leaf");
	cr_expect_eq(d.memcg.limit_bytes, 16384 * (uint64_t)page);
	cr_expect_eq(d.memcg.oom_kills, 1);
	cr_expect(d.time_ns > 0);
	o.memcg_limit_pages = 1ULL << 51;
	oomdump__init(&d);
	oomevent__fill(&d, &o, cg, sizeof(cg));
	cr_expect_eq(d.memcg.limit_bytes, OOMDUMP_NONE, "unlimited is unknown, not a huge limit");
}
