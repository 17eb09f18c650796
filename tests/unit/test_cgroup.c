// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_cgroup.c - memory limits from fake /proc and /sys/fs/cgroup trees (v1, v2, hybrid) */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

static char root[256];

/* write root/rel (creating directories), like `mkdir -p; printf > file` */
static void put(const char *rel, const char *text)
{
	char path[PATH_MAX], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/ms-cgroup-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	put("proc/meminfo", "MemTotal:       16000000 kB\nMemFree:  1000 kB\n"
			    "MemAvailable:    8000000 kB\nBuffers: 1 kB\n");
	put("proc/42/status", "Name:\tleaky\nVmPeak:\t  9000 kB\nVmRSS:\t    2000 kB\n");
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(cgroup, .init = setup, .fini = teardown);

Test(cgroup, v2_nearest_limited_ancestor)
{
	char at[256];
	uint64_t lim = 0, use = 0;
	enum cgroup_mem_src src;
	int ver = 0;

	put("proc/42/cgroup", "0::/system.slice/app.service/worker\n");
	put("sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
	put("sys/fs/cgroup/system.slice/memory.max", "max\n");
	put("sys/fs/cgroup/system.slice/app.service/memory.max", "536870912\n");
	put("sys/fs/cgroup/system.slice/app.service/memory.current", "123456789\n");
	put("sys/fs/cgroup/system.slice/app.service/worker/memory.max", "max\n");

	cr_assert_eq(cgroup__path(42, root, at, sizeof(at), &ver), 0);
	cr_assert_str_eq(at, "/system.slice/app.service/worker");
	cr_assert_eq(ver, 2);
	cr_assert_eq(cgroup__mem_limit_src(42, root, &lim, at, sizeof(at), &src), 0);
	cr_assert_eq(lim, 536870912ULL);
	cr_assert_str_eq(at, "/system.slice/app.service");
	cr_assert_eq(src, CGROUP_SRC_V2);
	cr_assert_eq(cgroup__mem_usage(42, root, &use), 0);
	cr_assert_eq(use, 123456789ULL);
}

Test(cgroup, v2_tighter_parent_wins)
{
	char at[256];
	uint64_t lim = 0;

	put("proc/42/cgroup", "0::/a/b\n");
	put("sys/fs/cgroup/cgroup.controllers", "memory\n");
	put("sys/fs/cgroup/a/memory.max", "1000000\n");
	put("sys/fs/cgroup/a/b/memory.max", "2000000\n");
	cr_assert_eq(cgroup__mem_limit(42, root, &lim, at, sizeof(at)), 0);
	cr_assert_eq(lim, 1000000);
	cr_assert_str_eq(at, "/a");
}

Test(cgroup, v1_memory_controller_and_unlimited_value)
{
	char at[256];
	uint64_t lim = 0, use = 0;
	enum cgroup_mem_src src;

	put("proc/42/cgroup", "12:pids:/user.slice\n"
			      "9:memory:/docker/abc/\n"
			      "3:cpu,cpuacct:/docker/abc\n"
			      "0::/docker/abc\n");
	put("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	put("sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "268435456\n");
	put("sys/fs/cgroup/memory/docker/memory.usage_in_bytes", "1048576\n");
	put("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
	put("sys/fs/cgroup/unified/cgroup.controllers", "\n");

	cr_assert_eq(cgroup__mem_limit_src(42, root, &lim, at, sizeof(at), &src), 0);
	cr_assert_eq(lim, 268435456ULL);
	cr_assert_eq(src, CGROUP_SRC_V1);
	cr_assert_str_eq(at, "/docker");
	cr_assert_eq(cgroup__mem_usage(42, root, &use), 0);
	cr_assert_eq(use, 1048576);
}

Test(cgroup, hybrid_v2_under_unified)
{
	char at[256];
	uint64_t lim = 0;
	enum cgroup_mem_src src;

	/* no v1 memory line: the unified hierarchy holds memory */
	put("proc/42/cgroup", "1:name=systemd:/x\n0::/x/y\n");
	put("sys/fs/cgroup/unified/cgroup.controllers", "memory\n");
	put("sys/fs/cgroup/unified/x/memory.max", "777777\n");
	put("sys/fs/cgroup/unified/x/y/memory.max", "max\n");
	cr_assert_eq(cgroup__mem_limit_src(42, root, &lim, at, sizeof(at), &src), 0);
	cr_assert_eq(lim, 777777);
	cr_assert_eq(src, CGROUP_SRC_V2);
	cr_assert_str_eq(at, "/x");
}

Test(cgroup, unlimited_falls_back_to_meminfo)
{
	char at[256] = "junk";
	uint64_t lim = 0, use;
	enum cgroup_mem_src src;

	put("proc/42/cgroup", "0::/user.slice/session-1.scope (deleted)\n");
	put("sys/fs/cgroup/cgroup.controllers", "memory\n");
	put("sys/fs/cgroup/user.slice/memory.max", "max\n");
	cr_assert_eq(cgroup__path(42, root, at, sizeof(at), NULL), 0);
	cr_assert_str_eq(at, "/user.slice/session-1.scope");
	cr_assert_eq(cgroup__mem_limit_src(42, root, &lim, at, sizeof(at), &src), 0);
	cr_assert_eq(src, CGROUP_SRC_MEMINFO);
	cr_assert_str_eq(at, "");
	cr_assert_eq(lim, (8000000ULL + 2000) * 1024, "limit %llu", (unsigned long long)lim);
	cr_assert_eq(cgroup__mem_usage(42, root, &use), -ENODATA);
}

Test(cgroup, errors)
{
	char at[8];
	uint64_t lim = 5;

	/* process gone */
	cr_assert_eq(cgroup__mem_limit(7, root, &lim, at, sizeof(at)), -ENOENT);
	cr_assert_eq(lim, 5);
	/* path does not fit the caller's buffer */
	put("proc/42/cgroup", "0::/a/very/long/path\n");
	cr_assert_eq(cgroup__path(42, root, at, sizeof(at), NULL), -ENAMETOOLONG);
	/* garbage in a limit file is skipped, not taken for a limit */
	put("sys/fs/cgroup/cgroup.controllers", "memory\n");
	put("sys/fs/cgroup/a/memory.max", "12abc\n");
	cr_assert_eq(cgroup__mem_limit(42, root, &lim, NULL, 0), 0);
	cr_assert_eq(lim, (8000000ULL + 2000) * 1024);
}
