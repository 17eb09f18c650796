// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sampled.c - many small blocks and a few big ones, with known live bytes: truth for --sample-bytes */

/*
 * Usage: sampled [SECONDS]      (default 3)
 *
 * Function      calls                                                          live at the end
 * keep_small    malloc(100) x 200000, kept                                         20000000
 * churn_small   malloc(16..2063) x 200000, each freed at once                              0
 * keep_mixed    calloc(1, 40) x 100000 and realloc each to 160, kept               16000000
 * keep_big      malloc(1 MiB) x 4, kept (touched)                                   4194304
 *
 * Prints one line on stdout, a JSON object mapping each function to its live bytes and
 * live blocks ({"keep_small": [20000000, 200000], ...}), flushes it, sleeps SECONDS so a
 * tracer can sample, exits 0. Exits 1 when out of memory, 2 on a usage error. Every
 * allocator call is made directly by the named function (frames[0] of its stack).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

#define NSMALL 200000
#define NMIXED 100000
#define NBIG 4

static void *volatile sink;

static void *must(void *p)
{
	if (!p) {
		fputs("sampled: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *small_v[NSMALL], *mixed_v[NMIXED], *big_v[NBIG];	/* bss: no heap of their own */

NOINLINE static void **keep_small(void)
{
	void **v = small_v;

	for (int i = 0; i < NSMALL; i++)
		v[i] = must(malloc(100));
	return v;
}

NOINLINE static void churn_small(void)
{
	for (int i = 0; i < NSMALL; i++) {
		sink = must(malloc(16 + (i * 7919) % 2048));
		free(sink);
	}
}

NOINLINE static void **keep_mixed(void)
{
	void **v = mixed_v;

	for (int i = 0; i < NMIXED; i++)
		v[i] = must(calloc(1, 40));
	for (int i = 0; i < NMIXED; i++)
		v[i] = must(realloc(v[i], 160));
	return v;
}

NOINLINE static void **keep_big(void)
{
	void **v = big_v;

	for (int i = 0; i < NBIG; i++)
		memset(v[i] = must(malloc(1 << 20)), 1, 1 << 20);
	return v;
}

int main(int argc, char **argv)
{
	unsigned secs = 3;
	void **small, **mixed, **big;

	if (argc > 2 || (argc == 2 && sscanf(argv[1], "%u", &secs) != 1)) {
		fputs("usage: sampled [SECONDS]\n", stderr);
		return 2;
	}
	small = keep_small();
	churn_small();
	mixed = keep_mixed();
	big = keep_big();
	printf("{\"keep_small\": [%d, %d], \"churn_small\": [0, 0], \"keep_mixed\": [%d, %d], "
	       "\"keep_big\": [%d, %d]}\n", NSMALL * 100, NSMALL, NMIXED * 160, NMIXED,
	       NBIG << 20, NBIG);
	fflush(stdout);
	sleep(secs);
	sink = small;
	sink = mixed;
	sink = big;
	return 0;
}
