// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* churn.c - heavy allocator churn over a bounded working set: live bytes stay flat, nothing leaks */

/*
 * Usage: churn [SECONDS]      (default 5)
 *
 * A working set of SLOTS (256) blocks. Every 10 ms, churn_step() runs OPS (100) times: it picks
 * a random slot, frees the block there (if any) and mallocs a new one of 16..4096 B into it
 * (touched with memset). About 10,000 malloc/free pairs a second; every malloc and every free
 * is called directly by churn_step() (frames[0]). The working set fills within the first
 * ~50 ms and then stays at about 256 * 2056 B = ~514 KiB: live bytes are bounded by
 * SLOTS * 4096 = 1 MiB at every instant. The blocks still in the set are kept until exit.
 *
 * stdout: one line at the end, "live N bytes bound M bytes": N = the exact requested bytes
 * still live in the working set when the program ends (all owned by churn_step), M = the
 * bound. Exits 0; 2 on a usage error. Ticks use CLOCK_MONOTONIC absolute deadlines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

#define SLOTS		256
#define OPS		100
#define MIN_SIZE	16
#define MAX_SIZE	4096
#define TICK_NS		10000000L

static void *slot[SLOTS];
static size_t slot_size[SLOTS];
static unsigned long long live;
static unsigned int rng = 4242;

static unsigned int next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Replace one random block of the working set. */
NOINLINE static void churn_step(void)
{
	unsigned int i = next_rand() % SLOTS;
	size_t sz = MIN_SIZE + next_rand() % (MAX_SIZE - MIN_SIZE + 1);

	if (slot[i]) {
		free(slot[i]);
		live -= slot_size[i];
	}
	slot[i] = malloc(sz);
	if (!slot[i]) {
		perror("churn: malloc");
		exit(1);
	}
	memset(slot[i], (int)i, sz);
	slot_size[i] = sz;
	live += sz;
}

int main(int argc, char **argv)
{
	long seconds = 5, ticks, t;
	struct timespec next;
	char *end;
	int op;

	if (argc > 2 || (argc == 2 && ((seconds = strtol(argv[1], &end, 10)) < 0 || *end ||
				       end == argv[1]))) {
		fprintf(stderr, "usage: churn [SECONDS]\n");
		return 2;
	}
	ticks = seconds * (1000000000L / TICK_NS);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (t = 0; t < ticks; t++) {
		for (op = 0; op < OPS; op++)
			churn_step();
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	printf("live %llu bytes bound %d bytes\n", live, SLOTS * MAX_SIZE);
	return fflush(stdout) ? 1 : 0;
}
