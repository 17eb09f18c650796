// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* forker.c - a parent that only churns and a forked child that leaks (child_leak) */

/*
 * Usage: forker [SECONDS]     (default 5)
 *
 * The parent forks one child at once and prints "child PID" on stdout (flushed; the parent
 * prints nothing before the fork, so the child inherits an empty stdio buffer).
 *  - child:  every 100 ms, starting 100 ms after the fork (time for a tracer to attach to a
 *            new process), child_leak() mallocs 256 KiB (above glibc's mmap threshold, so
 *            libc serves it with an internal mmap), memsets it and keeps it; it leaks
 *            SECONDS * 10 - 1 times, then prints "child leaked N bytes" (N = exact total
 *            requested by child_leak) and exits 0 at SECONDS after the fork.
 *  - parent: every 100 ms, parent_churn() mallocs ~100 blocks of 16..512 B and frees them
 *            all: no growth, and no stack of the parent ever involves child_leak. After
 *            SECONDS it waits for the child and exits 0 (1 if the child failed).
 * Ticks use CLOCK_MONOTONIC absolute deadlines from a common start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

#define TICK_NS		100000000L
#define LEAK_SIZE	(256 << 10)
#define CHURN_BLOCKS	100

static void **leaked;		/* chain of the child's leaked blocks through their first word */
static unsigned int rng = 777;

static unsigned int next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void sleep_until(struct timespec *base, long tick)
{
	struct timespec t = *base;
	long long ns = (long long)t.tv_nsec + (long long)tick * TICK_NS;

	t.tv_sec += ns / 1000000000L;
	t.tv_nsec = ns % 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

NOINLINE static size_t child_leak(void)
{
	void **p = malloc(LEAK_SIZE);

	if (!p) {
		perror("forker: malloc");
		exit(1);
	}
	memset(p, 0x5a, LEAK_SIZE);
	*p = leaked;
	leaked = p;
	return LEAK_SIZE;
}

NOINLINE static void parent_churn(void)
{
	void *blocks[CHURN_BLOCKS];
	int i;

	for (i = 0; i < CHURN_BLOCKS; i++) {
		size_t sz = 16 + next_rand() % 497;

		blocks[i] = malloc(sz);
		if (!blocks[i]) {
			perror("forker: malloc");
			exit(1);
		}
		memset(blocks[i], i, sz);
	}
	for (i = 0; i < CHURN_BLOCKS; i++)
		free(blocks[i]);
}

int main(int argc, char **argv)
{
	long seconds = 5, ticks, t;
	unsigned long long total = 0;
	struct timespec start;
	char *end;
	int status;
	pid_t child;

	if (argc > 2 || (argc == 2 && ((seconds = strtol(argv[1], &end, 10)) < 0 || *end ||
				       end == argv[1]))) {
		fprintf(stderr, "usage: forker [SECONDS]\n");
		return 2;
	}
	ticks = seconds * 10;
	clock_gettime(CLOCK_MONOTONIC, &start);
	child = fork();
	if (child < 0) {
		perror("forker: fork");
		return 1;
	}
	if (child == 0) {
		for (t = 1; t < ticks; t++) {
			sleep_until(&start, t);
			total += child_leak();
		}
		sleep_until(&start, ticks);
		printf("child leaked %llu bytes\n", total);
		return fflush(stdout) ? 1 : 0;
	}
	printf("child %d\n", (int)child);
	fflush(stdout);
	for (t = 0; t < ticks; t++) {
		parent_churn();
		sleep_until(&start, t + 1);
	}
	if (waitpid(child, &status, 0) < 0) {
		perror("forker: waitpid");
		return 1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
