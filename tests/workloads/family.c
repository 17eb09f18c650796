// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* family.c - a parent and several forked children of which exactly one leaks (family_leak) */

/*
 * Usage: family [SECONDS [CHILDREN [LEAKER]]]     (defaults: 30 s, 4 children, leaker 2)
 *
 * The parent forks CHILDREN children, then prints one line per child, "child PID leaks" for
 * child number LEAKER (0-based) and "child PID steady" for the others (flushed; nothing is
 * printed before the forks), and waits for them.
 *  - leaker: every 100 ms, starting 100 ms after the fork, family_leak() mallocs 64 KiB
 *            (below glibc's mmap threshold: heap memory), memsets it and keeps it: 640 KiB/s,
 *            every leaked byte from the one malloc call in family_leak().
 *  - steady: steady_setup() mallocs and touches 1 MiB once, then every 100 ms steady_churn()
 *            mallocs ~100 blocks of 16..512 B and frees them all: RSS flat after the start.
 *  - parent: allocates nothing after the fork; waits.
 * Every child exits 0 after SECONDS; the parent exits 0 when all did (1 otherwise).
 * Ticks use CLOCK_MONOTONIC absolute deadlines from each child's start.
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
#define LEAK_SIZE	(64 << 10)
#define STEADY_SIZE	(1 << 20)
#define CHURN_BLOCKS	100
#define MAX_CHILDREN	64

static void **leaked;		/* chain of leaked blocks through their first word */
static void *steady_block;
static unsigned int rng = 4242;

static unsigned int next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void sleep_until(const struct timespec *base, long tick)
{
	struct timespec t = *base;
	long long ns = (long long)t.tv_nsec + (long long)tick * TICK_NS;

	t.tv_sec += ns / 1000000000L;
	t.tv_nsec = ns % 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

NOINLINE static void family_leak(void)
{
	void **p = malloc(LEAK_SIZE);

	if (!p) {
		perror("family: malloc");
		exit(1);
	}
	memset(p, 0x5a, LEAK_SIZE);
	*p = leaked;
	leaked = p;
}

NOINLINE static void steady_setup(void)
{
	steady_block = malloc(STEADY_SIZE);
	if (!steady_block) {
		perror("family: malloc");
		exit(1);
	}
	memset(steady_block, 1, STEADY_SIZE);
}

NOINLINE static void steady_churn(void)
{
	void *blocks[CHURN_BLOCKS];
	int i;

	for (i = 0; i < CHURN_BLOCKS; i++) {
		size_t sz = 16 + next_rand() % 497;

		blocks[i] = malloc(sz);
		if (!blocks[i]) {
			perror("family: malloc");
			exit(1);
		}
		memset(blocks[i], i, sz);
	}
	for (i = 0; i < CHURN_BLOCKS; i++)
		free(blocks[i]);
}

NOINLINE static int child_main(long seconds, int leaks)
{
	struct timespec start;
	long t, ticks = seconds * 10;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (!leaks)
		steady_setup();
	for (t = 1; t < ticks; t++) {
		sleep_until(&start, t);
		if (leaks)
			family_leak();
		else
			steady_churn();
	}
	sleep_until(&start, ticks);
	return 0;
}

int main(int argc, char **argv)
{
	long seconds = 30, children = 4, leaker = 2;
	pid_t pids[MAX_CHILDREN];
	int status, ret = 0;
	char *end;

	if (argc > 1 && ((seconds = strtol(argv[1], &end, 10)) <= 0 || *end))
		goto usage;
	if (argc > 2 && ((children = strtol(argv[2], &end, 10)) <= 0 || *end || children > MAX_CHILDREN))
		goto usage;
	if (argc > 3 && ((leaker = strtol(argv[3], &end, 10)) < 0 || *end))
		goto usage;
	if (argc > 4)
		goto usage;
	for (long i = 0; i < children; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("family: fork");
			return 1;
		}
		if (pids[i] == 0)
			_exit(child_main(seconds, i == leaker));
	}
	for (long i = 0; i < children; i++)
		printf("child %d %s\n", (int)pids[i], i == leaker ? "leaks" : "steady");
	fflush(stdout);
	for (long i = 0; i < children; i++) {
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			ret = 1;
	}
	return ret;
usage:
	fprintf(stderr, "usage: family [SECONDS [CHILDREN [LEAKER]]]\n");
	return 2;
}
