/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* memslope.h - the BPF <-> user-space ABI: map keys and values, event records, limits */
#ifndef MEMSLOPE_H
#define MEMSLOPE_H

/*
 * Only fixed-width types, explicit padding and no pointers: this header is
 * compiled both by clang for BPF (with vmlinux.h) and by cc for user space.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MS_MAX_FRAMES	64	/* native frames kept per stack (innermost first) */
#define MS_COMM_LEN	16

/* Which allocator entry point a pending call belongs to. */
enum ms_kind {
	MS_K_MALLOC = 1,
	MS_K_CALLOC,
	MS_K_REALLOC,
	MS_K_MEMALIGN,		/* memalign, aligned_alloc: (align, size) */
	MS_K_POSIX_MEMALIGN,	/* (void **memptr, align, size), returns 0 on success */
	MS_K_VALLOC,		/* valloc, pvalloc: (size) */
	MS_K_MMAP,
	MS_K_MUNMAP,
	MS_K_MREMAP,
	MS_K_FREE,
	MS_K__NR,
};

/* A live heap block or mmap region: (process, start address). */
struct ms_alloc_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct ms_alloc_val {
	__u64 size;
	__u64 stack_id;
};

/* Per-(process, stack) accounting. */
struct ms_stat_key {
	__u32 tgid;
	__u32 pad;
	__u64 stack_id;
};

struct ms_stat_val {
	__s64 live_bytes;
	__s64 live_allocs;
	__u64 alloc_bytes;	/* total bytes ever allocated from this stack */
	__u64 allocs;		/* total allocations from this stack */
};

/* Frames of one stack, stored once per stack id (a hash of the frames). */
struct ms_stack {
	__u32 nr;
	__u32 flags;
	__u64 ips[MS_MAX_FRAMES];
};

/* A call between its entry and its return probe, in task storage; kind 0 = none. */
struct ms_pending {
	__u64 sp;		/* stack pointer at entry: identifies the call */
	__u64 size;		/* requested bytes (0 for free-like calls) */
	__u64 arg;		/* old pointer (realloc, mremap, munmap) or memptr */
	__u64 stack_id;
	__u32 kind;		/* enum ms_kind */
	__u32 pad;
};

/* Counters in the per-CPU "counters" map; summed by user space. */
enum ms_counter {
	MS_C_NESTED,		/* calls made inside another allocator call (skipped) */
	MS_C_FAILED,		/* calls that failed (nothing to account) */
	MS_C_UNKNOWN_FREES,	/* frees of blocks allocated before tracing began */
	MS_C_DROP_ALLOCS,	/* live map full: block not tracked */
	MS_C_DROP_STATS,	/* per-stack map full */
	MS_C_DROP_STACKS,	/* stack map full */
	MS_C_STACK_ERRORS,	/* no user stack could be taken */
	MS_C_DROP_PENDING,	/* no per-thread storage for a pending call */
	MS_C_NO_ENTRY,		/* return probe with no matching entry */
	MS_C_STALE_ENTRY,	/* entry record replaced before its return */
	MS_C_LOST_EVENTS,	/* ring buffer full */
	MS_C_MMAP_SPLITS_LOST,	/* munmap touched more regions than one pass handles */
	MS_C__NR,
};

struct ms_counters {
	__u64 c[MS_C__NR];
};

/* Ring-buffer records: every record starts with __u32 type. */
enum ms_event_type {
	MS_EV_FORK = 1,		/* pid = child tgid, ppid = parent tgid */
	MS_EV_EXEC = 2,		/* pid = tgid that exec'd */
	MS_EV_EXIT = 3,		/* pid = tgid whose last thread exited */
};

struct ms_event {
	__u32 type;
	__u32 pid;
	__u32 ppid;
	__s32 exit_code;	/* MS_EV_EXIT: wait status as the parent sees it */
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 maxrss_pages;	/* MS_EV_EXIT: peak RSS (signal->maxrss, pages) */
	__u32 flags;		/* MS_EVF_* */
	__u32 pad;
	char comm[MS_COMM_LEN];
};

#define MS_EVF_OOM_KILLED	(1u << 0)	/* SIGKILL with signal->oom_mm set */

_Static_assert(sizeof(struct ms_alloc_key) == 16, "ms_alloc_key layout");
_Static_assert(sizeof(struct ms_alloc_val) == 16, "ms_alloc_val layout");
_Static_assert(sizeof(struct ms_stat_key) == 16, "ms_stat_key layout");
_Static_assert(sizeof(struct ms_stat_val) == 32, "ms_stat_val layout");
_Static_assert(sizeof(struct ms_stack) == 8 + 8 * MS_MAX_FRAMES, "ms_stack layout");
_Static_assert(sizeof(struct ms_pending) == 40, "ms_pending layout");
_Static_assert(sizeof(struct ms_event) == 56, "ms_event layout");

#endif /* MEMSLOPE_H */
