// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bench_ring.c - overhead workload: 64 live blocks, each step frees one and mallocs a new one */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS		64
#define MIN_SIZE	16
#define MAX_SIZE	512
#define WARMUP_MAX	100000L

/* Global so the compiler cannot prove the blocks dead and drop malloc/free pairs. */
void *slots[SLOTS];

static uint64_t rng = 0x9e3779b97f4a7c15ULL;	/* fixed seed: every run does the same work */

static uint64_t xorshift64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void *alloc_block(void)
{
	size_t size = MIN_SIZE + xorshift64() % (MAX_SIZE - MIN_SIZE + 1);
	char *p = malloc(size);

	if (!p) {
		fprintf(stderr, "bench_ring: malloc(%zu) failed\n", size);
		exit(1);
	}
	p[0] = (char)size;	/* touch it: a real program uses what it allocates */
	return p;
}

/* One pair: free a random slot, malloc a block of a random size into it. */
static void run(long pairs)
{
	for (long i = 0; i < pairs; i++) {
		unsigned int k = xorshift64() % SLOTS;

		free(slots[k]);
		slots[k] = alloc_block();
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long pairs = 2000000, warmup;
	double t0, t1;
	char *end;

	if (argc > 1) {
		pairs = strtol(argv[1], &end, 10);
		if (*end || pairs <= 0) {
			fprintf(stderr, "usage: bench_ring [PAIRS]   (default 2000000)\n");
			return 2;
		}
	}
	for (int k = 0; k < SLOTS; k++)
		slots[k] = alloc_block();
	/* Warm-up: let the allocator reach its steady state (bins, tcache) and the probes settle. */
	warmup = pairs / 10 < WARMUP_MAX ? pairs / 10 : WARMUP_MAX;
	run(warmup);

	t0 = now_ns();
	run(pairs);
	t1 = now_ns();

	for (int k = 0; k < SLOTS; k++)
		free(slots[k]);
	printf("bench_ring: %ld pairs, %.1f ns/pair\n", pairs, (t1 - t0) / pairs);
	return 0;
}
