// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* trace.bpf.c - exact tracing: libc allocator uprobes and process lifecycle of traced processes */
#include "alloc.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAP_FAILED_MIN ((__u64)-4095)	/* mmap/mremap return -errno on failure */
#define MS_MUNMAP_MAX 4			/* regions one munmap call can touch in one pass */

static __always_inline __u32 cur_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline __u64 page_round(__u64 len)
{
	return (len + MS_PAGE_SIZE - 1) & ~(MS_PAGE_SIZE - 1);
}

/* --- malloc family ------------------------------------------------------- */

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	return call_enter(ctx, MS_K_MALLOC, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_exit, __u64 ret)
{
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_MALLOC, &p))
		return 0;
	if (!ret) {
		count(MS_C_FAILED);
		return 0;
	}
	block_add(&allocs, cur_tgid(), ret, p.size, p.stack_id);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 nmemb, __u64 size)
{
	__u64 total = 0, limit = ~0ULL;

	/*
	 * On overflow calloc fails: record 0 bytes so the return still balances.
	 * The barrier keeps clang from turning the check into a 128-bit multiply.
	 */
	if (size)
		limit /= size;
	asm volatile("" : "+r"(limit));
	if (nmemb <= limit)
		total = nmemb * size;
	return call_enter(ctx, MS_K_CALLOC, total, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(calloc_exit, __u64 ret)
{
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_CALLOC, &p))
		return 0;
	if (!ret) {
		count(MS_C_FAILED);
		return 0;
	}
	block_add(&allocs, cur_tgid(), ret, p.size, p.stack_id);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	return call_enter(ctx, MS_K_REALLOC, size, ptr);
}

/*
 * realloc moves the bytes to the new block only on success, and the new block
 * belongs to the realloc's stack. glibc's realloc(p, 0) frees p and returns NULL.
 */
SEC("uretprobe")
int BPF_KRETPROBE(realloc_exit, __u64 ret)
{
	__u32 tgid = cur_tgid();
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_REALLOC, &p))
		return 0;
	if (!ret) {
		if (p.size == 0 && p.arg)
			block_del(&allocs, tgid, p.arg);
		else
			count(MS_C_FAILED);
		return 0;
	}
	if (p.arg)
		block_del(&allocs, tgid, p.arg);
	block_add(&allocs, tgid, ret, p.size, p.stack_id);
	return 0;
}

/* memalign(align, size) and aligned_alloc(align, size) */
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size)
{
	return call_enter(ctx, MS_K_MEMALIGN, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(memalign_exit, __u64 ret)
{
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_MEMALIGN, &p))
		return 0;
	if (!ret) {
		count(MS_C_FAILED);
		return 0;
	}
	block_add(&allocs, cur_tgid(), ret, p.size, p.stack_id);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return call_enter(ctx, MS_K_POSIX_MEMALIGN, size, memptr);
}

SEC("uretprobe")
int BPF_KRETPROBE(posix_memalign_exit, int ret)
{
	struct ms_pending p;
	__u64 addr = 0;

	if (!call_exit(ctx, MS_K_POSIX_MEMALIGN, &p))
		return 0;
	if (ret != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)p.arg) || !addr) {
		count(MS_C_FAILED);
		return 0;
	}
	block_add(&allocs, cur_tgid(), addr, p.size, p.stack_id);
	return 0;
}

/* valloc(size) and pvalloc(size): the requested bytes are what is accounted */
SEC("uprobe")
int BPF_KPROBE(valloc_enter, __u64 size)
{
	return call_enter(ctx, MS_K_VALLOC, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(valloc_exit, __u64 ret)
{
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_VALLOC, &p))
		return 0;
	if (!ret) {
		count(MS_C_FAILED);
		return 0;
	}
	block_add(&allocs, cur_tgid(), ret, p.size, p.stack_id);
	return 0;
}

/* free has no return probe: it cannot fail, and it is the hottest call. */
SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (probe_only || !ptr)
		return 0;
	if (in_call((__u32)id, PT_REGS_SP(ctx))) {
		count(MS_C_NESTED);	/* realloc(p, 0) frees through free() */
		return 0;
	}
	if (!block_del(&allocs, id >> 32, ptr))
		count(MS_C_UNKNOWN_FREES);
	return 0;
}

/* --- mmap family ---------------------------------------------------------- */

SEC("uprobe")
int BPF_KPROBE(mmap_enter, __u64 addr, __u64 len)
{
	return call_enter(ctx, MS_K_MMAP, page_round(len), 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(mmap_exit, __u64 ret)
{
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_MMAP, &p))
		return 0;
	if (ret >= MAP_FAILED_MIN || !p.size) {
		count(MS_C_FAILED);
		return 0;
	}
	block_add(&mmaps, cur_tgid(), ret, p.size, p.stack_id);
	return 0;
}

struct unmap_ctx {
	__u32 tgid;
	__u32 n;
	__u64 start, end;		/* the range being unmapped */
	struct ms_alloc_key keys[MS_MUNMAP_MAX];
	struct ms_alloc_val vals[MS_MUNMAP_MAX];
};

static long unmap_collect(void *map, struct ms_alloc_key *key, struct ms_alloc_val *val,
			  struct unmap_ctx *uc)
{
	__u32 i = uc->n;

	if (key->tgid != uc->tgid || key->addr >= uc->end || key->addr + val->size <= uc->start)
		return 0;
	if (i >= MS_MUNMAP_MAX) {
		count(MS_C_MMAP_SPLITS_LOST);
		return 1;
	}
	uc->keys[i] = *key;
	uc->vals[i] = *val;
	uc->n = i + 1;
	return 0;
}

/* Put back the part of a region that survives an unmap. */
static __always_inline void region_keep(__u32 tgid, __u64 start, __u64 len, __u64 stack_id)
{
	struct ms_alloc_key key = { .tgid = tgid, .addr = start };
	struct ms_alloc_val val = { .size = len, .stack_id = stack_id };

	if (bpf_map_update_elem(&mmaps, &key, &val, BPF_ANY))
		count(MS_C_DROP_ALLOCS);
}

/*
 * Remove [start, end) from the tracked regions of tgid: whole regions go, and
 * a region cut at its head, tail or middle keeps what is left, still owned by
 * the stack that mapped it.
 */
static __always_inline void unmap_range(__u32 tgid, __u64 start, __u64 end)
{
	struct unmap_ctx uc = { .tgid = tgid, .start = start, .end = end };

	bpf_for_each_map_elem(&mmaps, unmap_collect, &uc, 0);

	for (int i = 0; i < MS_MUNMAP_MAX; i++) {
		__u64 rs, re, lo, hi, stack_id;
		__s64 nallocs = -1;

		if (i >= uc.n)
			break;
		rs = uc.keys[i].addr;
		re = rs + uc.vals[i].size;
		stack_id = uc.vals[i].stack_id;
		lo = rs > start ? rs : start;
		hi = re < end ? re : end;
		if (bpf_map_delete_elem(&mmaps, &uc.keys[i]))
			continue;
		if (rs < lo) {
			region_keep(tgid, rs, lo - rs, stack_id);
			nallocs++;
		}
		if (hi < re) {
			region_keep(tgid, hi, re - hi, stack_id);
			nallocs++;
		}
		stat_add(tgid, stack_id, -(__s64)(hi - lo), nallocs, false);
	}
}

SEC("uprobe")
int BPF_KPROBE(munmap_enter, __u64 addr, __u64 len)
{
	return call_enter(ctx, MS_K_MUNMAP, page_round(len), addr);
}

SEC("uretprobe")
int BPF_KRETPROBE(munmap_exit, int ret)
{
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_MUNMAP, &p))
		return 0;
	if (ret != 0) {
		count(MS_C_FAILED);
		return 0;
	}
	unmap_range(cur_tgid(), p.arg, p.arg + p.size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(mremap_enter, __u64 old_addr, __u64 old_size, __u64 new_size)
{
	/* size = new length; the old region is found again at the return */
	return call_enter(ctx, MS_K_MREMAP, page_round(new_size), old_addr);
}

SEC("uretprobe")
int BPF_KRETPROBE(mremap_exit, __u64 ret)
{
	struct ms_alloc_key key = { .tgid = cur_tgid() };
	struct ms_alloc_val *v, old;
	struct ms_pending p;

	if (!call_exit(ctx, MS_K_MREMAP, &p))
		return 0;
	if (ret >= MAP_FAILED_MIN) {
		count(MS_C_FAILED);
		return 0;
	}
	key.addr = p.arg;
	v = bpf_map_lookup_elem(&mmaps, &key);
	if (!v)
		return 0;	/* a region we do not track (mapped before the trace) */
	old = *v;
	if (bpf_map_delete_elem(&mmaps, &key))
		return 0;
	/* The region keeps its owner; only its size changes. */
	stat_add(key.tgid, old.stack_id, -(__s64)old.size, -1, false);
	block_add(&mmaps, key.tgid, ret, p.size, old.stack_id);
	return 0;
}

/* --- process lifecycle ---------------------------------------------------- */

static __always_inline void emit(__u32 type, struct task_struct *task, __u32 ppid, __s32 code, __u32 flags)
{
	struct ms_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(MS_C_LOST_EVENTS);
		return;
	}
	e->type = type;
	e->pid = BPF_CORE_READ(task, tgid);
	e->ppid = ppid;
	e->exit_code = code;
	e->ts_ns = bpf_ktime_get_ns();
	e->maxrss_pages = 0;
	e->flags = flags;
	e->pad = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
}

/* A new process in a traced tree becomes a target before it runs a single instruction. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_event, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u32 flags = 0;

	if (ctgid == ptgid || !bpf_map_lookup_elem(&targets, &ptgid))
		return 0;	/* a new thread, or not ours */
	bpf_map_update_elem(&targets, &ctgid, &flags, BPF_ANY);
	emit(MS_EV_FORK, child, ptgid, 0, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_event, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (bpf_map_lookup_elem(&targets, &tgid))
		emit(MS_EV_EXEC, p, 0, 0, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_event, struct task_struct *p, bool group_dead)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 flags = 0;
	__s32 code;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/* A thread that dies inside malloc never returns: forget its call. */
	bpf_map_delete_elem(&pending, &tid);
	if (!group_dead)
		return 0;
	code = BPF_CORE_READ(p, exit_code);
	if ((code & 0x7f) == 9 /* SIGKILL */ && BPF_CORE_READ(p, signal, oom_mm))
		flags |= MS_EVF_OOM_KILLED;
	emit(MS_EV_EXIT, p, 0, code, flags);
	bpf_map_delete_elem(&targets, &tgid);
	return 0;
}
