// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* plateau.c - a warm-up (a cache filling), 20 % of the run by default, then flat under churn */

/*
 * Usage: plateau SECONDS [CACHE [NOISE [SEED [WARMUP]]]]
 *   CACHE (default 64M, at most 256M): the cache's size once warm; NOISE (default 4M, at
 *   most 64M): the range of the churn's live bytes. Both take an optional K, M or G suffix
 *   (KiB, MiB, GiB). SEED (default 0: built in) picks other reproducible sizes and noise.
 *   WARMUP (default 0: 20 % of the run, at most SECONDS): the warm-up's length in seconds.
 *
 * Every 100 ms (CLOCK_MONOTONIC absolute deadlines), for SECONDS * 10 ticks; the warm-up is
 * the first W = SECONDS * 10 / 5 ticks (20 % of the run) or WARMUP * 10:
 *   cache_fill()    warm-up ticks only: mallocs cache entries of 4..64 KiB (memset) until the
 *                   cache holds CACHE * (1 - (1 - x)^2) bytes, x = (tick + 1) / W: it fills
 *                   fast at first (2 * CACHE / warm-up seconds) and slows to a stop, the way
 *                   a cache warms. At the last warm-up tick it holds CACHE plus less than one
 *                   entry, and never grows again.
 *   cache_refresh() after the warm-up: evicts 20 random entries and inserts new ones of the
 *                   same sizes (free then malloc): traffic, live bytes exactly flat.
 *   churn_noise()   every tick: frees 20 random blocks of its pool and mallocs 20 new ones,
 *                   then draws a target uniformly in [0, NOISE] and frees random blocks or
 *                   mallocs new 4..64 KiB ones (memset) until the pool is within one block of
 *                   it. No trend; sampled once a second it jumps by up to NOISE.
 * Truth: live heap = cache (rises for the first 20 % of the run, then constant) + trendless
 * noise in [0, NOISE + 64 KiB). Every malloc and free of the cache is called directly by
 * cache_fill() or cache_refresh(), of the noise by churn_noise(). Everything is freed before
 * the summary.
 *
 * stdout: one line at the end, "cache N bytes warmup S s noise M bytes": N = the cache's
 * exact requested bytes after the warm-up, S = the warm-up's length in seconds. Exits 0; 2
 * on a usage error.
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

#define TICKS_PER_S	10
#define TICK_NS		(1000000000L / TICKS_PER_S)
#define BLK_MIN		4096
#define BLK_MAX		65536
#define REPLACE		20
#define CACHE_CAP	(256ULL << 20)
#define NOISE_CAP	(64ULL << 20)
#define CACHE_SLOTS	(CACHE_CAP / BLK_MIN + 64)
#define NZ_SLOTS	(NOISE_CAP / BLK_MIN + 64)

static void *cache[CACHE_SLOTS];
static size_t cache_size[CACHE_SLOTS];
static size_t cache_n;
static unsigned long long cache_live;

static void *nz[NZ_SLOTS];
static size_t nz_size[NZ_SLOTS];
static size_t nz_n;
static unsigned long long nz_live;

static uint64_t rng = 0xd1b54a32d192ed03ULL;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* a different, reproducible noise for each SEED (0: the built-in one) */
static void seed_rand(unsigned long long seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	if (!seed)
		return;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;	/* splitmix64 */
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	rng = z ? z : 1;
}

static size_t rand_size(void)
{
	return BLK_MIN + next_rand() % (BLK_MAX - BLK_MIN + 1);
}

static void oom(void)
{
	perror("plateau: malloc");
	exit(1);
}

/* Grow the cache to at least target bytes. */
NOINLINE static void cache_fill(unsigned long long target)
{
	while (cache_live < target && cache_n < CACHE_SLOTS) {
		size_t sz = rand_size();

		cache[cache_n] = malloc(sz);
		if (!cache[cache_n])
			oom();
		memset(cache[cache_n], 0x11, sz);
		cache_size[cache_n++] = sz;
		cache_live += sz;
	}
}

/* Replace a few random entries by new ones of the same size: traffic, no growth. */
NOINLINE static void cache_refresh(void)
{
	for (int k = 0; k < REPLACE && cache_n; k++) {
		size_t i = next_rand() % cache_n;

		free(cache[i]);
		cache[i] = malloc(cache_size[i]);
		if (!cache[i])
			oom();
		memset(cache[i], k, cache_size[i]);
	}
}

/* Churn the noise pool and move its live bytes to a fresh random level in [0, noise]. */
NOINLINE static void churn_noise(unsigned long long noise)
{
	unsigned long long target = noise ? next_rand() % (noise + 1) : 0;

	for (int k = 0; k < REPLACE && nz_n; k++) {
		size_t i = next_rand() % nz_n;
		size_t sz = rand_size();

		free(nz[i]);
		nz_live -= nz_size[i];
		nz[i] = malloc(sz);
		if (!nz[i])
			oom();
		memset(nz[i], k, sz);
		nz_size[i] = sz;
		nz_live += sz;
	}
	while (nz_live > target && nz_n) {
		size_t i = next_rand() % nz_n;

		free(nz[i]);
		nz_live -= nz_size[i];
		nz_n--;
		nz[i] = nz[nz_n];
		nz_size[i] = nz_size[nz_n];
	}
	while (nz_live < target && nz_n < NZ_SLOTS) {
		size_t sz = rand_size();

		nz[nz_n] = malloc(sz);
		if (!nz[nz_n])
			oom();
		memset(nz[nz_n], 0x5a, sz);
		nz_size[nz_n++] = sz;
		nz_live += sz;
	}
}

/* bytes with an optional K/M/G (binary) suffix; 0 or -1 */
static int parse_bytes(const char *s, unsigned long long *out)
{
	unsigned long long mul = 1;
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		mul = 1ULL << 10;
		break;
	case 'M':
	case 'm':
		mul = 1ULL << 20;
		break;
	case 'G':
	case 'g':
		mul = 1ULL << 30;
		break;
	}
	if (mul > 1)
		end++;
	if (*end || *out > (~0ULL) / mul)
		return -1;
	*out *= mul;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long seconds, csize = 64ULL << 20, noise = 4ULL << 20, seed = 0, warmup = 0;
	unsigned long long ticks, warm, i;
	unsigned long long warm_bytes = 0;
	struct timespec next;

	if (argc < 2 || argc > 6 || parse_bytes(argv[1], &seconds) ||
	    (argc > 2 && parse_bytes(argv[2], &csize)) || csize > CACHE_CAP ||
	    (argc > 3 && parse_bytes(argv[3], &noise)) || noise > NOISE_CAP ||
	    (argc > 4 && parse_bytes(argv[4], &seed)) ||
	    (argc > 5 && parse_bytes(argv[5], &warmup)) || warmup > seconds) {
		fprintf(stderr, "usage: plateau SECONDS [CACHE [NOISE [SEED [WARMUP]]]]  "
				"(CACHE <= 256M, NOISE <= 64M; K/M/G suffixes; WARMUP <= SECONDS)\n");
		return 2;
	}
	seed_rand(seed);
	ticks = seconds * TICKS_PER_S;
	warm = warmup ? warmup * TICKS_PER_S : ticks / 5;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < ticks; i++) {
		if (i < warm) {
			double x = 1.0 - (double)(i + 1) / (double)warm;

			cache_fill(i + 1 == warm ? csize
						 : (unsigned long long)(csize * (1.0 - x * x)));
			warm_bytes = cache_live;
		} else {
			cache_refresh();
		}
		churn_noise(noise);
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	while (cache_n)
		free(cache[--cache_n]);
	while (nz_n)
		free(nz[--nz_n]);
	printf("cache %llu bytes warmup %.1f s noise %llu bytes\n", warm_bytes,
	       (double)warm / TICKS_PER_S, noise);
	return fflush(stdout) ? 1 : 0;
}
