// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* trace.bpf.c - exact tracing: libc allocator uprobes and process lifecycle of traced processes */
#include "alloc.bpf.h"
#include "oom.bpf.h"
#include "watch.bpf.h"

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

/*
 * Two programs serve every allocator entry point: the attach cookie says which
 * function fired (enum ms_kind). One entry and one return program per process
 * mean two uprobe_multi links to create and to tear down, whatever the number
 * of functions probed.
 */

/* calloc(nmemb, size): on overflow it fails; record 0 bytes so the return balances. */
static __always_inline __u64 calloc_size(__u64 nmemb, __u64 size)
{
	__u64 limit = ~0ULL;

	if (size)
		limit /= size;
	/* keeps clang from turning the check into a 128-bit multiply BPF lacks */
	asm volatile("" : "+r"(limit));
	return nmemb <= limit ? nmemb * size : 0;
}

/* free has no return probe: it cannot fail, and it is the hottest call. */
static __always_inline int free_enter(struct pt_regs *ctx, struct ms_pending *p, __u64 ptr)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!ptr)
		return 0;
	if (in_call(p, PT_REGS_SP(ctx))) {
		count(MS_C_NESTED);	/* realloc(p, 0) frees through free() */
		return 0;
	}
	if (!block_del(&allocs, id >> 32, ptr) && !sample_bytes)
		count(MS_C_UNKNOWN_FREES);	/* sampling leaves most blocks untracked */
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(alloc_enter, __u64 a0, __u64 a1, __u64 a2)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	struct ms_pending *p;
	__u64 size, arg = 0;

	if (probe_only)
		return 0;
	p = pending_get(true);	/* this thread's pending call: one lookup for all below */
	if (!p) {
		count(MS_C_DROP_PENDING);
		return 0;
	}
	if (!kind)
		kind = site_kind(ctx, p);	/* a tracefs event: one for all sites */
	switch (kind) {
	case MS_K_MALLOC:		/* malloc(size) */
	case MS_K_VALLOC:		/* valloc(size), pvalloc(size): requested bytes count */
		size = a0;
		break;
	case MS_K_CALLOC:		/* calloc(nmemb, size) */
		size = calloc_size(a0, a1);
		break;
	case MS_K_REALLOC:		/* realloc(ptr, size) */
		size = a1;
		arg = a0;
		break;
	case MS_K_MEMALIGN:		/* memalign(align, size), aligned_alloc(align, size) */
		size = a1;
		break;
	case MS_K_POSIX_MEMALIGN:	/* posix_memalign(memptr, align, size) */
		size = a2;
		arg = a0;
		break;
	case MS_K_MMAP:			/* mmap(addr, len, prot, ...) */
		/*
		 * PROT_NONE maps address space, not memory: glibc reserves 64 MiB
		 * per arena this way (from free(), which has no return probe to
		 * nest under) and carves heap out of it with mprotect. Size 0:
		 * the return accounts nothing.
		 */
		size = a2 ? page_round(a1) : 0;
		break;
	case MS_K_MUNMAP:		/* munmap(addr, len) */
		size = page_round(a1);
		arg = a0;
		break;
	case MS_K_MREMAP:		/* mremap(old, old_len, new_len, ...): old region found at return */
		size = page_round(a2);
		arg = a0;
		break;
	case MS_K_FREE:
		return free_enter(ctx, p, a0);
	default:
		return 0;
	}
	return call_enter(ctx, p, kind, size, arg);
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
static __always_inline void region_keep(__u32 tgid, __u64 start, __u64 len, const struct ms_alloc_val *owner)
{
	struct ms_alloc_key key = { .tgid = tgid, .addr = start };
	struct ms_alloc_val val = {
		.size = len, .stack_id = owner->stack_id, .py_stack_id = owner->py_stack_id, .allocs = 1,
	};

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
		struct ms_alloc_val owner;
		__u64 rs, re, lo, hi;
		__s64 nallocs = -1;

		if (i >= uc.n)
			break;
		rs = uc.keys[i].addr;
		re = rs + uc.vals[i].size;
		owner = uc.vals[i];
		lo = rs > start ? rs : start;
		hi = re < end ? re : end;
		if (bpf_map_delete_elem(&mmaps, &uc.keys[i]))
			continue;
		if (rs < lo) {
			region_keep(tgid, rs, lo - rs, &owner);
			nallocs++;
		}
		if (hi < re) {
			region_keep(tgid, hi, re - hi, &owner);
			nallocs++;
		}
		stat_add(tgid, &owner, -(__s64)(hi - lo), nallocs, false);
	}
}

/* mremap: the region keeps its owner; only its address and size change. */
static __always_inline void remap(__u32 tgid, __u64 old_addr, __u64 new_addr, __u64 new_size)
{
	struct ms_alloc_key key = { .tgid = tgid, .addr = old_addr };
	struct ms_alloc_val *v, old;

	v = bpf_map_lookup_elem(&mmaps, &key);
	if (!v)
		return;	/* a region we do not track (mapped before the trace) */
	old = *v;
	if (bpf_map_delete_elem(&mmaps, &key))
		return;
	stat_add(tgid, &old, -(__s64)old.size, -1, false);
	block_add(&mmaps, tgid, new_addr, new_size, 1, &old);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	__u32 tgid = cur_tgid();
	struct ms_alloc_val owner;
	struct call p;

	if (probe_only || !call_exit(ctx, kind, &p))
		return 0;
	kind = p.kind;
	owner.size = 0;
	owner.stack_id = p.stack_id;
	owner.py_stack_id = p.py_stack_id;
	owner.allocs = 0;
	switch (kind) {
	case MS_K_MALLOC:
	case MS_K_CALLOC:
	case MS_K_MEMALIGN:
	case MS_K_VALLOC:
		if (!ret)
			break;
		if (p.wallocs)
			block_add(&allocs, tgid, ret, p.weight, p.wallocs, &owner);
		return 0;
	case MS_K_REALLOC:
		/*
		 * The bytes move to the new block only on success, and the new
		 * block belongs to the realloc's stack. glibc's realloc(p, 0)
		 * frees p and returns NULL.
		 */
		if (!ret) {
			if (p.size == 0 && p.arg) {
				block_del(&allocs, tgid, p.arg);
				return 0;
			}
			break;
		}
		if (p.arg)
			block_del(&allocs, tgid, p.arg);
		if (p.wallocs)
			block_add(&allocs, tgid, ret, p.weight, p.wallocs, &owner);
		return 0;
	case MS_K_POSIX_MEMALIGN: {
		__u64 addr = 0;

		if ((int)ret != 0)
			break;
		if (!p.wallocs)
			return 0;
		if (bpf_probe_read_user(&addr, sizeof(addr), (void *)p.arg) || !addr)
			break;
		block_add(&allocs, tgid, addr, p.weight, p.wallocs, &owner);
		return 0;
	}
	case MS_K_MMAP:
		if (!p.size)
			return 0;	/* a reservation (PROT_NONE) or a zero length */
		if (ret >= MAP_FAILED_MIN)
			break;
		block_add(&mmaps, tgid, ret, p.size, 1, &owner);
		return 0;
	case MS_K_MUNMAP:
		if ((int)ret != 0)
			break;
		unmap_range(tgid, p.arg, p.arg + p.size);
		return 0;
	case MS_K_MREMAP:
		if (ret >= MAP_FAILED_MIN)
			break;
		remap(tgid, p.arg, ret, p.size);
		return 0;
	default:
		return 0;
	}
	count(MS_C_FAILED);
	return 0;
}

/* --- watch mode: new pages, charged to the code that touched them ---------- */

/*
 * trace --mode watch (attached only then): a write to a page not present, a new
 * anonymous page, is charged (MS_PAGE_SIZE, one page) to the faulting thread's
 * stacks, native and Python. One probe per page of new memory instead of three
 * per allocator call: it names the code whose memory grows, but it sees no
 * free, so its bytes only rise; memory reused does not fault again. Faults on
 * the thread's own stack are not charged.
 */
SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_event, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct ms_alloc_val owner = {};
	__u32 tgid = cur_tgid();
	struct ms_pending *p;
	__u64 sp;

	/* x86 error code: bit 0 page present (a protection fault), bit 1 write */
	if ((error_code & 3) != 2 || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	p = pending_get(true);
	if (!p) {
		count(MS_C_DROP_PENDING);
		return 0;
	}
	sp = regs->sp;
	/* the stack itself, or its growth below the mapping (extended by this very fault) */
	if (stack_bounds(p, sp) && address < p->stk_hi && (address >= p->stk_lo || sp - address < 65536))
		return 0;
	owner.stack_id = stack_id_user(p, sp, regs->bp, regs->ip);
	owner.py_stack_id = py_stack_id_get();
	stat_add(tgid, &owner, MS_PAGE_SIZE, 1, true);
	return 0;
}

/* --- process lifecycle ---------------------------------------------------- */

static __always_inline void emit(__u32 type, struct task_struct *task, __u32 ppid, __s32 code, __u32 flags,
				 __u32 evset)
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
	e->evset = evset;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
}

/*
 * A new process in a traced tree becomes a target before it runs a single
 * instruction. Threads and processes alike inherit the covering event set.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_event, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u32 flags = 0, evset = 0, *ev, *cev;

	ev = bpf_task_storage_get(&evsets, parent, 0, 0);
	if (ev && *ev) {
		evset = *ev;
		cev = bpf_task_storage_get(&evsets, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (cev)
			*cev = evset;
		else
			count(MS_C_LOST_EVENTS);
	}
	if (ctgid == ptgid || !bpf_map_lookup_elem(&targets, &ptgid))
		return 0;	/* a new thread, or not ours */
	bpf_map_update_elem(&targets, &ctgid, &flags, BPF_ANY);
	emit(MS_EV_FORK, child, ptgid, 0, 0, evset);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_event, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct ms_pending *pend;

	/* the new image maps libc and its stack elsewhere: forget the mappings the probes saw */
	pend = bpf_task_storage_get(&pending, p, 0, 0);
	if (pend) {
		pend->vm_end = 0;
		pend->stk_hi = 0;
		for (int i = 0; i < MS_SITE_CACHE; i++)
			pend->site_kind[i] = 0;
	}
	if (bpf_map_lookup_elem(&targets, &tgid))
		emit(MS_EV_EXEC, p, 0, 0, 0, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_event, struct task_struct *p, bool group_dead)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	bool target = bpf_map_lookup_elem(&targets, &tgid);
	struct mm_struct *mm;
	struct ms_event *e;
	__u32 flags = 0;
	__s32 code;

	code = BPF_CORE_READ(p, exit_code);
	if ((code & 0x7f) == 9 /* SIGKILL */ && BPF_CORE_READ(p, signal, oom_mm))
		flags |= MS_EVF_OOM_KILLED;
	/* A thread that dies inside malloc never returns: its task storage goes with it. */
	if (!group_dead || (!target && !flags))
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(MS_C_LOST_EVENTS);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MS_EV_EXIT;
	e->pid = tgid;
	e->exit_code = code;
	e->ts_ns = bpf_ktime_get_ns();
	e->flags = flags;
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	mm = BPF_CORE_READ(p, mm);
	if (mm) {
		/* as get_mm_hiwater_rss(): the high-water mark is only updated lazily */
		__s64 rss = BPF_CORE_READ(mm, rss_stat[0].count) + BPF_CORE_READ(mm, rss_stat[1].count) +
			    BPF_CORE_READ(mm, rss_stat[3].count);
		__u64 hw = BPF_CORE_READ(mm, hiwater_rss);

		e->maxrss_pages = rss > 0 && (__u64)rss > hw ? (__u64)rss : hw;
	}
	/*
	 * An OOM victim runs again only to die: current is the victim and its user
	 * registers are those it was stopped at. Keep that stack (ours to take: the
	 * mm is not released before this tracepoint).
	 */
	if ((flags & MS_EVF_OOM_KILLED) && p == bpf_get_current_task_btf()) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(p);

		if (regs)
			e->stack_id = stack_id_at_death(p, BPF_CORE_READ(regs, ip), BPF_CORE_READ(regs, sp),
							BPF_CORE_READ(regs, bp));
		e->py_stack_id = py_stack_id_get();
	}
	bpf_ringbuf_submit(e, 0);
	if (target)
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}

/* The OOM killer chose a victim (kernel 5.x+ signature: the task and its uid). */
SEC("tp_btf/mark_victim")
int BPF_PROG(oom_mark_victim, struct task_struct *victim, uid_t uid)
{
	oom_victim(ctx, victim, uid);
	return 0;
}

/* The watch tier: one record per process (kernel threads and non-leader threads skipped). */
SEC("iter/task")
int watch_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ms_task_rec r = {};

	if (!task || task->pid != task->tgid || !task->mm)
		return 0;
	watch_fill(&r, task);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/* Run once by user space: find our per-CPU probe map and derive the per-CPU offsets. */
SEC("iter/bpf_map")
int find_percpu_offsets(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;

	if (map && pcpu_probe_id && map->id == pcpu_probe_id)
		percpu_offsets_init(map);
	return 0;
}
