// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* leaky_static.c - leaky.c linked statically: no libc.so for allocator probes, RSS still grows */

/*
 * Same program, arguments, allocations and output as leaky.c ("leaked N bytes", 1 MiB/s by
 * default, every block memset so RSS grows by about N); the Makefile links *_static.c
 * workloads with -static, so the allocator lives inside the executable and memslope can
 * only watch the process (RSS), not account its allocations per stack.
 */
#include "leaky.c"
