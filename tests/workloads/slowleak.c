// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* slowleak.c - a steady leak of RATE bytes/s (slow_leak) hidden behind several MB of churn */

/*
 * Usage: slowleak RATE SECONDS [NOISE [SEED]]
 *   RATE    bytes leaked per second, 0 or >= 160; NOISE (default 8M, at most 64M): the range
 *           of the churn's live bytes. Both take an optional K, M or G suffix (KiB, MiB,
 *           GiB: 100K = 102400, 1M = 1048576). SEED (default 0: built in) picks another
 *           reproducible noise; the leak does not depend on it.
 *
 * Every 100 ms (CLOCK_MONOTONIC absolute deadlines, so a slow tick under a tracer does not
 * stretch the run), for SECONDS * 10 ticks:
 *   churn_noise()  frees 20 random blocks of its pool and mallocs 20 new ones, then draws a
 *                  new target uniformly in [0, NOISE] and frees random blocks or mallocs new
 *                  ones until the pool's live bytes are within one block (< 64 KiB) of it.
 *                  Blocks are 4..64 KiB, memset when allocated. Sampled once a second, the
 *                  live heap therefore jumps around by several MB (uniform on [0, NOISE]:
 *                  sd = NOISE / sqrt(12), 2.3 MiB at the default) with no trend at all.
 *                  Every noise malloc and free is called directly by churn_noise().
 *   slow_leak()    mallocs this tick's share of the leak, (i+1)*RATE/10 - i*RATE/10 bytes in
 *                  integer arithmetic (so the total is exactly RATE * SECONDS), as 4 KiB
 *                  blocks (the last takes the remainder; a remainder under 16 B is folded
 *                  into the block before it), memsets them and keeps them all, chained
 *                  through their first word. One malloc call site: the whole leak is owned by
 *                  one stack, frames[0] = slow_leak, frames[1] = main.
 * Truth: the live heap grows at exactly RATE bytes/s plus a trendless noise in [0, NOISE + 64 KiB).
 * Nothing else is allocated (libc may allocate its stdout buffer). The noise pool is freed
 * before the summary, the leak is not.
 *
 * stdout: one line at the end, "leaked N bytes rate R bytes/s noise M bytes", N = the exact
 * total requested by slow_leak() (= RATE * SECONDS). Exits 0; 2 on a usage error.
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
#define LEAK_BLOCK	4096
#define NZ_MIN		4096
#define NZ_MAX_SIZE	65536
#define NZ_REPLACE	20
#define NOISE_CAP	(64ULL << 20)
/* the level never exceeds NOISE + one block */
#define NZ_SLOTS	(NOISE_CAP / NZ_MIN + 64)

static void *leaked_head;
static unsigned long long leaked_total;

static void *nz[NZ_SLOTS];
static size_t nz_size[NZ_SLOTS];
static size_t nz_n;
static unsigned long long nz_live;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	/* xorshift64*: cheap and good enough that levels look uniform */
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

/* Leak exactly bytes bytes in blocks of at most LEAK_BLOCK. */
NOINLINE static void slow_leak(unsigned long long bytes)
{
	unsigned long long done = 0;

	while (done < bytes) {
		unsigned long long left = bytes - done;
		size_t sz = left > LEAK_BLOCK ? LEAK_BLOCK : left;
		void **p;

		/* every block holds the chain link */
		if (left > LEAK_BLOCK && left - LEAK_BLOCK < 16)
			sz = left;
		p = malloc(sz);
		if (!p) {
			perror("slowleak: malloc");
			exit(1);
		}
		memset(p, 0xa5, sz);
		*p = leaked_head;
		leaked_head = p;
		done += sz;
	}
	leaked_total += done;
}

/* Churn the noise pool and move its live bytes to a fresh random level in [0, noise]. */
NOINLINE static void churn_noise(unsigned long long noise)
{
	unsigned long long target = noise ? next_rand() % (noise + 1) : 0;
	int k;

	/* traffic at a constant level: replace a few random blocks */
	for (k = 0; k < NZ_REPLACE && nz_n; k++) {
		size_t i = next_rand() % nz_n;
		size_t sz = NZ_MIN + next_rand() % (NZ_MAX_SIZE - NZ_MIN + 1);

		free(nz[i]);
		nz_live -= nz_size[i];
		nz[i] = malloc(sz);
		if (!nz[i]) {
			perror("slowleak: malloc");
			exit(1);
		}
		memset(nz[i], k, sz);
		nz_size[i] = sz;
		nz_live += sz;
	}
	/* then the jump: down by freeing random blocks, up by new ones */
	while (nz_live > target && nz_n) {
		size_t i = next_rand() % nz_n;

		free(nz[i]);
		nz_live -= nz_size[i];
		nz_n--;
		nz[i] = nz[nz_n];
		nz_size[i] = nz_size[nz_n];
	}
	while (nz_live < target && nz_n < NZ_SLOTS) {
		size_t sz = NZ_MIN + next_rand() % (NZ_MAX_SIZE - NZ_MIN + 1);

		nz[nz_n] = malloc(sz);
		if (!nz[nz_n]) {
			perror("slowleak: malloc");
			exit(1);
		}
		memset(nz[nz_n], 0x5a, sz);
		nz_size[nz_n++] = sz;
		nz_live += sz;
	}
}

static void noise_free(void)
{
	while (nz_n)
		free(nz[--nz_n]);
	nz_live = 0;
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
	unsigned long long rate, seconds, noise = 8ULL << 20, seed = 0, ticks, i;
	struct timespec next;

	if (argc < 3 || argc > 5 || parse_bytes(argv[1], &rate) || (rate && rate < 160) ||
	    parse_bytes(argv[2], &seconds) || (argc > 3 && parse_bytes(argv[3], &noise)) ||
	    noise > NOISE_CAP || (argc > 4 && parse_bytes(argv[4], &seed))) {
		fprintf(stderr, "usage: slowleak RATE SECONDS [NOISE [SEED]]  "
				"(RATE: 0 or >= 160 bytes/s, NOISE <= 64M; K/M/G suffixes)\n");
		return 2;
	}
	seed_rand(seed);
	ticks = seconds * TICKS_PER_S;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < ticks; i++) {
		churn_noise(noise);
		slow_leak((i + 1) * rate / TICKS_PER_S - i * rate / TICKS_PER_S);
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	noise_free();
	printf("leaked %llu bytes rate %llu bytes/s noise %llu bytes\n", leaked_total, rate, noise);
	return fflush(stdout) ? 1 : 0;
}
