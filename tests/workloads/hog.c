// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hog.c - holds memory and volunteers as the OOM killer's victim (oom_score_adj 1000) */

/*
 * Usage: hog MIB [SECONDS]     (defaults: 16 MiB, 60 s)
 *
 * Raises its own oom_score_adj to 1000 (lowering needs CAP_SYS_RESOURCE, raising does
 * not), waits 300 ms (a tracer following forks attaches to a new process within a few
 * ms: what a child allocates before that is not seen), maps MIB MiB in hold_memory()
 * and touches every page, prints "hog ready" on
 * stdout, then sleeps SECONDS and exits 0. In a memory cgroup where another process
 * allocates past the limit, the OOM killer chooses this process: the victim is not the
 * trigger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static __attribute__((noinline)) void *hold_memory(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, bytes);
	return p;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
	int seconds = argc > 2 ? atoi(argv[2]) : 60;
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	if (!f || fprintf(f, "1000\n") < 0 || fclose(f)) {
		perror("hog: oom_score_adj");
		return 1;
	}
	usleep(300 * 1000);
	if (!hold_memory(mib << 20)) {
		perror("hog: mmap");
		return 1;
	}
	printf("hog ready\n");
	fflush(stdout);
	sleep(seconds);
	return 0;
}
