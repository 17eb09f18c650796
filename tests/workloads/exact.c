// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* exact.c - every allocator entry point, each from its own function, with known final live bytes */

/*
 * Usage: exact [SECONDS]      (default 3)
 *
 * Runs every do_* function below once, in this order, then prints ONE line on stdout: a JSON
 * object mapping each function name to the live bytes it owns at the end (the truth the
 * root tests compare with), flushes it, sleeps SECONDS so a tracer can sample, exits 0.
 * Exits 1 if glibc did not behave as assumed below (the truth would then be wrong), 2 on a
 * usage error.
 *
 * Accounting rules this truth follows (memslope's exact mode, see tests/root/test_trace.py):
 *  - bytes are REQUESTED bytes (the size arguments), never malloc_usable_size nor page rounding
 *    of heap calls; mmap family regions count their length rounded up to whole pages (the
 *    kernel maps whole pages; all lengths here are page multiples anyway);
 *  - a block is owned by the stack of the call that returned it: after a successful realloc,
 *    reallocarray or mremap the whole new size belongs to that call's stack (the old block's
 *    stack loses the old size), even when the block did not move;
 *  - a failed call (NULL / MAP_FAILED / non-zero return) adds nothing and, for realloc,
 *    reallocarray and mremap, leaves the old block with its old owner;
 *  - a free/munmap from another function still takes the bytes away from the allocating stack.
 * Every allocator call is made directly by the named function (frames[0] of its stack), except
 * in alloc_for_realloc / alloc_for_free, whose blocks are handed to other functions.
 *
 * Function             calls (p = page size, 4096 here)                                 live
 * do_malloc            malloc(1000) x3, kept                                            3000
 * do_big_malloc        malloc(1 MiB), kept; glibc serves it with an internal mmap,  1048576
 *                      which must not be counted a second time
 * do_calloc            calloc(10, 100) kept; calloc(SIZE_MAX/2, 4) overflows -> NULL    1000
 * do_realloc           malloc(1000) -> realloc 5000 (grow) -> realloc 300 (shrink), kept  300
 *                      malloc(400); realloc(it, SIZE_MAX/2) fails -> the 400 stay       +400
 *                      realloc(NULL, 700) acts as malloc(700), kept                     +700
 *                      malloc(900); realloc(it, 0) frees it, returns NULL (glibc)      +0 = 1400
 * alloc_for_realloc    malloc(800), handed to do_realloc_owner                             0
 * do_realloc_owner     realloc(that block, 1200), kept: the realloc owns it now          1200
 * do_reallocarray      reallocarray(NULL, 10, 50) kept (500); malloc(100) then
 *                      reallocarray(it, 20, 30) kept (600); reallocarray(it, SIZE_MAX/2, 4)
 *                      overflows -> NULL, the 600 stay                                  1100
 * do_posix_memalign    posix_memalign(64, 2000) kept; posix_memalign(align 3) -> EINVAL and
 *                      posix_memalign(64, SIZE_MAX/2) -> ENOMEM add nothing (the out
 *                      pointer is pre-set to the live block, so reading it on failure
 *                      double counts)                                                   2000
 * do_aligned_alloc     aligned_alloc(64, 640), kept                                      640
 * do_memalign          memalign(128, 1280), kept (same address as aligned_alloc in
 *                      glibc 2.36: probing both symbols must not count twice)           1280
 * do_valloc            valloc(5000), kept (requested 5000, page-aligned)                 5000
 * do_pvalloc           pvalloc(5000), kept (glibc rounds to 2 pages; requested 5000)     5000
 * do_mmap              mmap 10p kept; mmap 8p, munmap its last 3p (5p stay); mmap 4p,
 *                      munmap all; mmap(len 0) and mmap(no MAP_PRIVATE/SHARED) fail      15p
 * do_munmap_split      mmap 6p, munmap its first 2p (4p stay); mmap 7p, munmap its 4th
 *                      page (6p stay, in two pieces)                                     10p
 * do_mremap            mmap 2p, mremap to 6p (MREMAP_MAYMOVE); mmap 5p, mremap to 2p;
 *                      mmap 3p, mremap to 0 fails (EINVAL), the 3p stay                  11p
 * alloc_for_free       malloc(700), freed by do_free_all                                   0
 * do_free_all          malloc(2000) x5, calloc(4, 250), malloc(256 KiB) (internal mmap),
 *                      malloc(100) -> realloc 200, all freed; free(NULL)                    0
 */
#define _GNU_SOURCE	/* mremap, reallocarray, valloc, pvalloc */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

/* volatile: the compiler must neither fold these calls nor warn about impossible sizes */
static volatile size_t huge = SIZE_MAX / 2;
static volatile size_t zero;
static void *volatile sink;
static void *kept[64];
static int nkept;
static size_t page;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "exact: %s:%d: assumption failed: %s (errno %d)\n",   \
				__FILE__, __LINE__, #cond, errno);                      \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

/* Keep a block for the whole run (reachable, so not "lost" to a checker either). */
static void *keep(void *p)
{
	CHECK(p != NULL && p != MAP_FAILED);
	CHECK(nkept < (int)(sizeof(kept) / sizeof(kept[0])));
	kept[nkept++] = p;
	return p;
}

/* Let a pointer escape so a malloc/free pair is not optimised away. */
static void *escape(void *p)
{
	sink = p;
	return sink;
}

NOINLINE static size_t do_malloc(void)
{
	int i;

	for (i = 0; i < 3; i++)
		keep(malloc(1000));
	return 3 * 1000;
}

NOINLINE static size_t do_big_malloc(void)
{
	keep(malloc(1 << 20));
	return 1 << 20;
}

NOINLINE static size_t do_calloc(void)
{
	keep(calloc(10, 100));
	errno = 0;
	CHECK(calloc(huge, 4) == NULL && errno == ENOMEM);
	return 10 * 100;
}

NOINLINE static size_t do_realloc(void)
{
	void *p, *q;

	p = malloc(1000);
	CHECK(p);
	p = realloc(p, 5000);
	CHECK(p);
	p = realloc(p, 300);
	keep(p);

	p = keep(malloc(400));
	errno = 0;
	q = realloc(p, huge);
	CHECK(q == NULL && errno == ENOMEM);	/* p is still valid and still kept */

	keep(realloc(NULL, 700));

	p = malloc(900);
	CHECK(p);
	CHECK(realloc(escape(p), zero) == NULL);	/* glibc 2.36: frees p */
	return 300 + 400 + 700;
}

NOINLINE static void *alloc_for_realloc(void)
{
	void *p = malloc(800);

	CHECK(p);
	return p;
}

NOINLINE static size_t do_realloc_owner(void *p)
{
	keep(realloc(p, 1200));
	return 1200;
}

NOINLINE static size_t do_reallocarray(void)
{
	void *p;

	keep(reallocarray(NULL, 10, 50));
	p = malloc(100);
	CHECK(p);
	p = reallocarray(p, 20, 30);
	keep(p);
	errno = 0;
	CHECK(reallocarray(p, huge, 4) == NULL && errno == ENOMEM);
	return 500 + 600;
}

NOINLINE static size_t do_posix_memalign(void)
{
	void *p = NULL, *q;

	CHECK(posix_memalign(&p, 64, 2000) == 0);
	keep(p);
	q = p;
	CHECK(posix_memalign(&q, 3, 100) == EINVAL && q == p);
	CHECK(posix_memalign(&q, 64, huge) == ENOMEM && q == p);
	return 2000;
}

NOINLINE static size_t do_aligned_alloc(void)
{
	keep(aligned_alloc(64, 640));
	return 640;
}

NOINLINE static size_t do_memalign(void)
{
	keep(memalign(128, 1280));
	return 1280;
}

NOINLINE static size_t do_valloc(void)
{
	keep(valloc(5000));
	return 5000;
}

NOINLINE static size_t do_pvalloc(void)
{
	keep(pvalloc(5000));
	return 5000;
}

NOINLINE static size_t do_mmap(void)
{
	char *p;

	keep(mmap(NULL, 10 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));

	p = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	keep(p);
	CHECK(munmap(p + 5 * page, 3 * page) == 0);

	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(munmap(p, 4 * page) == 0);

	errno = 0;
	CHECK(mmap(NULL, zero, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		      MAP_FAILED && errno == EINVAL);
	errno = 0;
	CHECK(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
	      errno == EINVAL);
	return (10 + 5) * page;
}

NOINLINE static size_t do_munmap_split(void)
{
	char *p;

	p = mmap(NULL, 6 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	keep(p);
	CHECK(munmap(p, 2 * page) == 0);

	p = mmap(NULL, 7 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	keep(p);
	CHECK(munmap(p + 3 * page, page) == 0);
	return (4 + 6) * page;
}

NOINLINE static size_t do_mremap(void)
{
	char *p, *q;

	/* the mmap calls are written out here: a helper would be frames[0] of the 3p that stay */
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	keep(mremap(p, 2 * page, 6 * page, MREMAP_MAYMOVE));

	p = mmap(NULL, 5 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	q = mremap(p, 5 * page, 2 * page, MREMAP_MAYMOVE);
	CHECK(q == p);
	keep(q);

	p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	keep(p);
	errno = 0;
	CHECK(mremap(p, 3 * page, zero, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
	return (6 + 2 + 3) * page;
}

NOINLINE static void *alloc_for_free(void)
{
	void *p = malloc(700);

	CHECK(p);
	return p;
}

NOINLINE static size_t do_free_all(void *from_elsewhere)
{
	void *p[5], *q;
	int i;

	for (i = 0; i < 5; i++) {
		p[i] = malloc(2000);
		CHECK(p[i]);
	}
	for (i = 0; i < 5; i++)
		free(escape(p[i]));

	q = calloc(4, 250);
	CHECK(q);
	free(escape(q));

	q = malloc(256 << 10);
	CHECK(q);
	free(escape(q));

	q = malloc(100);
	CHECK(q);
	q = realloc(q, 200);
	CHECK(q);
	free(escape(q));

	free(escape(NULL));
	free(from_elsewhere);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec ts = { .tv_sec = 3 };
	char *end;

	if (argc > 2 || (argc == 2 && (strtol(argv[1], &end, 10) < 0 || *end || end == argv[1]))) {
		fprintf(stderr, "usage: exact [SECONDS]\n");
		return 2;
	}
	if (argc == 2)
		ts.tv_sec = strtol(argv[1], NULL, 10);
	page = sysconf(_SC_PAGESIZE);

	/* run everything first, print after: printf's own allocations come last */
	size_t m = do_malloc();
	size_t bm = do_big_malloc();
	size_t c = do_calloc();
	size_t r = do_realloc();
	size_t ro = do_realloc_owner(alloc_for_realloc());
	size_t ra = do_reallocarray();
	size_t pm = do_posix_memalign();
	size_t aa = do_aligned_alloc();
	size_t ma = do_memalign();
	size_t va = do_valloc();
	size_t pv = do_pvalloc();
	size_t mm = do_mmap();
	size_t ms = do_munmap_split();
	size_t mr = do_mremap();
	size_t fa = do_free_all(alloc_for_free());

	printf("{\"do_malloc\": %zu, \"do_big_malloc\": %zu, \"do_calloc\": %zu, "
	       "\"do_realloc\": %zu, \"alloc_for_realloc\": 0, \"do_realloc_owner\": %zu, "
	       "\"do_reallocarray\": %zu, \"do_posix_memalign\": %zu, \"do_aligned_alloc\": %zu, "
	       "\"do_memalign\": %zu, \"do_valloc\": %zu, \"do_pvalloc\": %zu, \"do_mmap\": %zu, "
	       "\"do_munmap_split\": %zu, \"do_mremap\": %zu, \"alloc_for_free\": 0, "
	       "\"do_free_all\": %zu}\n",
	       m, bm, c, r, ro, ra, pm, aa, ma, va, pv, mm, ms, mr, fa);
	if (fflush(stdout))
		return 1;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}
