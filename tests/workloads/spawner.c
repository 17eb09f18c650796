// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* spawner.c - short-lived children that leak at once: fork-following without a grace period */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Usage: spawner [N]     (default 10)
 *
 * Forks N children one after the other. Each child calls burst_leak() as its very first
 * action: BLOCKS mallocs of BLOCK_SIZE bytes, written and kept, then _exit(0): no time for
 * a tracer to react to the fork. Every odd child, after its burst, waits 100 ms, forks a
 * grandchild that leaks the same way at once and exits, waits for it, and leaks a second
 * burst (so the tree is three levels deep, and the odd children outlive a child of their
 * own). The parent waits for each child before forking the next, then prints "spawned P
 * processes, each leaked B bytes (odd children twice)" and exits 0 (1 if a child failed).
 * The parent itself never calls burst_leak().
 */

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

#define BLOCKS		10
#define BLOCK_SIZE	1000

static void *kept[BLOCKS];

NOINLINE static void burst_leak(void)
{
	for (int i = 0; i < BLOCKS; i++) {
		kept[i] = malloc(BLOCK_SIZE);
		if (!kept[i])
			_exit(1);
		memset(kept[i], i, BLOCK_SIZE);
	}
}

static int wait_ok(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10, procs = 0, ok = 1;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			burst_leak();
			if (i % 2) {
				pid_t g;

				usleep(100000);
				g = fork();
				if (g == 0) {
					burst_leak();
					_exit(0);
				}
				if (!wait_ok(g))
					_exit(1);
				burst_leak();
			}
			_exit(0);
		}
		ok &= wait_ok(pid);
		procs += 1 + i % 2;
	}
	printf("spawned %d processes, each leaked %d bytes (odd children twice)\n", procs,
	       BLOCKS * BLOCK_SIZE);
	return ok ? 0 : 1;
}
