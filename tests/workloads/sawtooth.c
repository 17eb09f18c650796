// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sawtooth.c - builds up ~PEAK bytes over a few seconds and releases them all, again and again */

/*
 * Usage: sawtooth SECONDS [PEAK [NOISE [SEED]]]
 *   PEAK (default 48M, at most 256M): the mean height of a tooth; NOISE (default 4M, at
 *   most 64M): the range of the churn's live bytes. Both take an optional K, M or G suffix
 *   (KiB, MiB, GiB). SEED (default 0: built in) picks other reproducible teeth and noise.
 *
 * Every 100 ms (CLOCK_MONOTONIC absolute deadlines), for SECONDS * 10 ticks, cycles of:
 *   build-up  3..5 s (uniform, whole ticks): batch_build() mallocs 4..64 KiB blocks (memset)
 *             until the batch holds height * (k + 1) / B bytes at build tick k of B; height is
 *             drawn uniformly in [0.75, 1.25] * PEAK per cycle. A linear ramp of ~12 MiB/s
 *             at the defaults.
 *   release   the tick after the last build tick: batch_release() frees the whole batch.
 *   trough    1..2 s (uniform): nothing held by the batch.
 *   churn_noise() runs every tick: frees 20 random blocks of its pool and mallocs 20 new
 *   ones, then draws a target uniformly in [0, NOISE] and frees random blocks or mallocs new
 *   4..64 KiB ones until the pool is within one block of it.
 * Truth: live heap = batch (teeth of ~PEAK, back to exactly 0 at every release) + trendless
 * noise in [0, NOISE + 64 KiB): the troughs are flat, nothing leaks. Every malloc and free of
 * the batch is called directly by batch_build() / batch_release(), of the noise by
 * churn_noise(). Everything is freed before the summary.
 *
 * stdout: one line at the end, "cycles N releases R peak-min A bytes peak-max B bytes
 * trough 0 bytes noise M bytes": N cycles started, R releases done, A..B the batch sizes
 * reached before release. Exits 0; 2 on a usage error.
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
#define PEAK_CAP	(256ULL << 20)
#define NOISE_CAP	(64ULL << 20)
/* 1.25 * PEAK_CAP, one block over */
#define BATCH_SLOTS	(PEAK_CAP / 4 * 5 / BLK_MIN + 64)
#define NZ_SLOTS	(NOISE_CAP / BLK_MIN + 64)

static void *batch[BATCH_SLOTS];
static size_t batch_n;
static unsigned long long batch_live;

static void *nz[NZ_SLOTS];
static size_t nz_size[NZ_SLOTS];
static size_t nz_n;
static unsigned long long nz_live;

static uint64_t rng = 0x94d049bb133111ebULL;

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
	perror("sawtooth: malloc");
	exit(1);
}

/* Grow the batch to at least target bytes. */
NOINLINE static void batch_build(unsigned long long target)
{
	while (batch_live < target && batch_n < BATCH_SLOTS) {
		size_t sz = rand_size();

		batch[batch_n] = malloc(sz);
		if (!batch[batch_n])
			oom();
		memset(batch[batch_n++], 0x22, sz);
		batch_live += sz;
	}
}

/* Free the whole batch. */
NOINLINE static void batch_release(void)
{
	while (batch_n)
		free(batch[--batch_n]);
	batch_live = 0;
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
	unsigned long long seconds, peak = 48ULL << 20, noise = 4ULL << 20, ticks, i, seed = 0;
	unsigned long long height = 0, pmin = 0, pmax = 0, cycles = 0, releases = 0;
	unsigned int build = 0, trough = 0, k = 0;
	enum { BUILD, TROUGH } phase = TROUGH;
	struct timespec next;

	if (argc < 2 || argc > 5 || parse_bytes(argv[1], &seconds) ||
	    (argc > 2 && parse_bytes(argv[2], &peak)) || peak > PEAK_CAP ||
	    (argc > 3 && parse_bytes(argv[3], &noise)) || noise > NOISE_CAP ||
	    (argc > 4 && parse_bytes(argv[4], &seed))) {
		fprintf(stderr, "usage: sawtooth SECONDS [PEAK [NOISE [SEED]]]  "
				"(PEAK <= 256M, NOISE <= 64M; K/M/G suffixes)\n");
		return 2;
	}
	seed_rand(seed);
	ticks = seconds * TICKS_PER_S;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < ticks; i++) {
		if (phase == TROUGH && k >= trough) {
			/* a new tooth */
			phase = BUILD;
			build = 3 * TICKS_PER_S + next_rand() % (2 * TICKS_PER_S + 1);
			height = (unsigned long long)(peak *
						      (0.75 + 0.5 * (next_rand() % 1001) / 1000.0));
			k = 0;
			cycles++;
		}
		if (phase == BUILD && k < build) {
			batch_build(height * (k + 1) / build);
			k++;
		} else if (phase == BUILD) {
			if (!releases || batch_live < pmin)
				pmin = batch_live;
			if (batch_live > pmax)
				pmax = batch_live;
			batch_release();
			releases++;
			phase = TROUGH;
			trough = TICKS_PER_S + next_rand() % (TICKS_PER_S + 1);
			k = 1;	/* the release tick is the trough's first */
		} else {
			k++;
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
	batch_release();
	while (nz_n)
		free(nz[--nz_n]);
	printf("cycles %llu releases %llu peak-min %llu bytes peak-max %llu bytes trough 0 bytes "
	       "noise %llu bytes\n", cycles, releases, pmin, pmax, noise);
	return fflush(stdout) ? 1 : 0;
}
