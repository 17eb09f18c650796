// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* leaky.c - a steady leaker with a known culprit (leak_some) and known total, plus harmless churn */

/*
 * Usage: leaky [SECONDS [BYTES_PER_SEC]]     (defaults: 12 s, 1048576 B/s)
 *
 * Every 100 ms, for SECONDS * 10 ticks:
 *   leak_some()  mallocs BYTES_PER_SEC / 10 bytes as 4 KiB blocks (the last block of a tick
 *                takes the remainder; a remainder under 16 B is folded into the block before
 *                it), memsets every block (so RSS grows too) and keeps them all, chained
 *                through their first word. Every leaked byte is requested by the single
 *                malloc call site in leak_some(), so one stack owns the whole leak:
 *                frames[0] = leak_some, frames[1] = main.
 *   churn()      mallocs ~100 blocks of 16..512 B, touches them and frees them all before it
 *                returns: 0 live bytes after every call.
 * Nothing else is allocated by this program (libc may allocate its stdout buffer).
 *
 * stdout: exactly one line at the end, "leaked N bytes", N = the exact total of the sizes
 * passed to malloc by leak_some() (= SECONDS * 10 * (BYTES_PER_SEC / 10)). Exits 0;
 * 2 on a usage error (BYTES_PER_SEC must be 0 or at least 160, i.e. 16 B per tick).
 * Ticks are scheduled on CLOCK_MONOTONIC absolute deadlines, so a slow tick (e.g. under a
 * tracer) does not stretch the run.
 *
 * leaky_static.c includes this file to build the same program statically.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

#define BLOCK		4096
#define TICK_NS		100000000L
#define CHURN_BLOCKS	100

static void *leaked_head;	/* every leaked block, chained through its first word */
static unsigned long long leaked_total;
static unsigned int rng = 12345;

static unsigned int next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Leak exactly bytes bytes in blocks of at most BLOCK bytes; returns the bytes leaked. */
NOINLINE static unsigned long long leak_some(unsigned long long bytes)
{
	unsigned long long done = 0;

	while (done < bytes) {
		unsigned long long left = bytes - done;
		size_t sz = left > BLOCK ? BLOCK : left;
		void **p;

		/* keep every block at least 16 B so it can hold the chain link */
		if (left > BLOCK && left - BLOCK < 16)
			sz = left;
		p = malloc(sz);
		if (!p) {
			perror("leaky: malloc");
			exit(1);
		}
		memset(p, 0xa5, sz);
		*p = leaked_head;	/* sz >= 16: main rejects smaller ticks */
		leaked_head = p;
		done += sz;
	}
	leaked_total += done;
	return done;
}

/* Allocate and free ~100 small blocks: plenty of allocator traffic, no growth. */
NOINLINE static void churn(void)
{
	void *blocks[CHURN_BLOCKS];
	int n = CHURN_BLOCKS - 10 + (int)(next_rand() % 21);
	int i;

	if (n > CHURN_BLOCKS)
		n = CHURN_BLOCKS;
	for (i = 0; i < n; i++) {
		size_t sz = 16 + next_rand() % 497;

		blocks[i] = malloc(sz);
		if (!blocks[i]) {
			perror("leaky: malloc");
			exit(1);
		}
		memset(blocks[i], i, sz);
	}
	for (i = 0; i < n; i++)
		free(blocks[i]);
}

static int parse_num(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long seconds = 12, rate = 1048576, ticks, i;
	struct timespec next;

	if (argc > 3 || (argc > 1 && parse_num(argv[1], &seconds)) ||
	    (argc > 2 && parse_num(argv[2], &rate)) || (rate && rate < 160)) {
		fprintf(stderr, "usage: leaky [SECONDS [BYTES_PER_SEC]]  (BYTES_PER_SEC: 0 or >= 160)\n");
		return 2;
	}
	ticks = seconds * 10;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < ticks; i++) {
		churn();
		leak_some(rate / 10);
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	printf("leaked %llu bytes\n", leaked_total);
	return fflush(stdout) ? 1 : 0;
}
