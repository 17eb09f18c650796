/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python.bpf.h - the allocating thread's CPython stack: thread state, then frames (code, lasti) */
#ifndef MS_PYTHON_BPF_H
#define MS_PYTHON_BPF_H

/* Included by alloc.bpf.h after its maps and helpers. */

/*
 * Cost model (KERNEL.md machine): a bpf_probe_read_user costs ~95 ns, nearly all of it fixed
 * (4 KiB ~110 ns), and one that runs into a page never touched fails after ~1 us. So the walker reads few and large, and never past memory the interpreter wrote: the
 * thread state's fields in one read, the frames of the thread's current data stack chunk
 * (3.11+: Python calls push their frames there) in one read, one read per frame elsewhere
 * (generators, C-stack shims, older chunks, <= 3.10 frame objects).
 */
#define MS_PY_FRAME_BUF	128	/* bytes read per frame: covers every field of every version */
#define MS_PY_CODE_BUF	256	/* bytes read per code object for its identity (MS_PYF_CODE_IDENT) */
#define MS_PY_TS_BUF	512	/* bytes of a thread state read: from the frame pointer on */
#define MS_PY_WIN	16384	/* bytes of data stack read at once (a first chunk's worth) */
#define MS_PY_KNOWN	16	/* stack ids a CPU remembers as stored (skips a map lookup) */
#define MS_PY_WALK_MAX	64	/* thread states visited looking for ours */
#define MS_PY_CHUNK_HDR	24	/* _PyStackChunk: previous, size, top, then data (3.11-3.13) */

/* Set by user space: Python processes being traced (skip the lookup when there are none). */
__u32 py_nprocs;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);			/* tgid */
	__type(value, struct ms_py_offsets);
} py_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);			/* tid */
	__type(value, __u64);			/* its PyThreadState */
} py_tstates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct ms_py_stack);
} py_stacks SEC(".maps");

struct py_scratch {
	struct ms_py_stack st;
	__u8 frame[MS_PY_FRAME_BUF];
	__u8 code[MS_PY_CODE_BUF];
	__u8 ts[MS_PY_TS_BUF];
	__u8 win[MS_PY_WIN + MS_PY_FRAME_BUF];	/* data stack below datastack_top (+ slack for masks) */
	__u64 last_pid_tgid;	/* the thread this CPU found a thread state for last ... */
	__u64 last_ts;		/* ... and that thread state (re-checked at each use) */
	__u64 known[MS_PY_KNOWN];	/* stack ids stored in py_stacks (never deleted there) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
} py_scratch SEC(".maps");

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (!addr || bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/*
 * Is ts the thread state of this thread? 3.11+ compare native_thread_id with
 * the tid; before, thread_id is pthread_self(), which on x86-64 glibc is the
 * thread's fs base. (In a pid namespace native_thread_id is namespace-local:
 * tracing across one would compare bpf_get_ns_current_pid_tgid() instead.)
 */
static __always_inline bool py_tstate_is(const struct ms_py_offsets *o, __u64 ts, __u32 tid,
					 __u64 fsbase)
{
	if (!ts)
		return false;
	if (o->flags & MS_PYF_PTHREAD_ID)
		return read_ptr(ts + o->tstate_thread_id_off) == fsbase;
	return (__u32)read_ptr(ts + o->tstate_native_tid_off) == tid;
}

/*
 * The current thread's PyThreadState when the CPU's last one is not it: the one
 * found last time for this thread, else the GIL holder if it is us (a malloc
 * with the GIL released must not be blamed on the holder), else a bounded walk
 * over interpreters and their threads. Remembered per thread in py_tstates.
 */
static __always_inline __u64 py_tstate_find(const struct ms_py_offsets *o, __u32 tid, __u64 fsbase)
{
	__u64 ts, interp, next_interp, *cached;

	cached = bpf_map_lookup_elem(&py_tstates, &tid);
	if (cached && py_tstate_is(o, *cached, tid, fsbase))
		return *cached;

	if (o->flags & MS_PYF_GIL_IN_INTERP)
		ts = read_ptr(read_ptr(o->runtime_addr + o->runtime_interp_head_off) + o->gil_holder_off);
	else
		ts = read_ptr(o->runtime_addr + o->gil_holder_off);
	if (py_tstate_is(o, ts, tid, fsbase))
		goto found;

	next_interp = read_ptr(o->runtime_addr + o->runtime_interp_head_off);
	ts = 0;
	for (int i = 0; i < MS_PY_WALK_MAX; i++) {
		if (!ts) {
			interp = next_interp;
			if (!interp)
				break;
			ts = read_ptr(interp + o->interp_threads_head_off);
			next_interp = read_ptr(interp + o->interp_next_off);
		} else if (py_tstate_is(o, ts, tid, fsbase)) {
			goto found;
		} else {
			ts = read_ptr(ts + o->tstate_next_off);
		}
	}
	return 0;
found:
	bpf_map_update_elem(&py_tstates, &tid, &ts, BPF_ANY);
	return ts;
}

/* A u64 of the thread-state window sc->ts read from ts + base (offsets checked by user space). */
static __always_inline __u64 ts_u64(struct py_scratch *sc, __u32 off, __u32 base)
{
	return *(__u64 *)(sc->ts + ((off - base) & (MS_PY_TS_BUF - 8)));
}

/*
 * Read the thread-state fields the walk needs (thread id, frame pointer, data stack chunk)
 * in one read into sc->ts, if ts is this thread's. Returns the window base, or -1.
 */
static __always_inline long py_tstate_read(const struct ms_py_offsets *o, struct py_scratch *sc,
					   __u64 ts, __u32 tid, __u64 fsbase)
{
	__u32 base = o->tstate_frame_off & ~7u, size = o->tstate_read_size;

	if (size > MS_PY_TS_BUF)
		size = MS_PY_TS_BUF;
	if (!ts || bpf_probe_read_user(sc->ts, size, (void *)(ts + base)))
		return -1;
	if (o->flags & MS_PYF_PTHREAD_ID) {
		if (ts_u64(sc, o->tstate_thread_id_off, base) != fsbase)
			return -1;
	} else if ((__u32)ts_u64(sc, o->tstate_native_tid_off, base) != tid) {
		return -1;
	}
	return base;
}

/*
 * Identity of each frame's code object (include/memslope.h, ms_py_code_ident), for a stack
 * about to be stored: user space names frames later, when a dead code object's address may
 * be another's, and checks this to tell them apart. A frame whose code pointer leads to no
 * code object now (ob_type) was read from a dead frame: MS_PY_IDENT_NOT_CODE. One read per
 * frame, new stacks only.
 */
static __always_inline void py_idents(const struct ms_py_offsets *o, struct py_scratch *sc)
{
	__u32 nr = sc->st.nr;	/* from memory: the verifier walks this loop once, not per nr */

	__u32 name_off = o->code_qualname_off ? o->code_qualname_off : o->code_name_off;
	__u32 size = o->code_read_size;	/* no more: past a code object may be an untouched page */
	__u64 *w = (__u64 *)sc->code;

	if (size > MS_PY_CODE_BUF)
		size = MS_PY_CODE_BUF;	/* user space keeps it within */
	for (int i = 0; i < MS_PY_MAX_FRAMES; i++) {
		struct ms_py_frame *f = &sc->st.frames[i];

		if (i >= nr)
			break;
		f->ident = 0;
		if (!(o->flags & MS_PYF_CODE_IDENT) || !f->code ||
		    bpf_probe_read_user(sc->code, size, (void *)f->code))
			continue;
		if (w[1] != o->pycode_type_addr) {
			f->ident = MS_PY_IDENT_NOT_CODE;
			continue;
		}
		f->ident = ms_py_code_ident(w[(o->code_filename_off >> 3) & 31], w[(name_off >> 3) & 31],
					    w[(o->code_linetable_off >> 3) & 31],
					    *(__u32 *)(sc->code + (o->code_firstlineno_off & 252)));
	}
}

/*
 * Python stack id of the current thread, 0 when the process runs no Python or
 * this thread has no thread state. Frames are picked out of per-CPU scratch with
 * masked offsets; recorded at the loop index (a second counter would multiply
 * verifier states), C-stack shims flagged for user space to drop. A global
 * function: the verifier checks it once per program instead of in the context of
 * each caller (inlined, exit_event alone took ~990k of the 1M instructions).
 */
__noinline __u64 py_stack_id_get(void)
{
	__u64 id = bpf_get_current_pid_tgid(), fsbase = 0, frame, ts, h;
	__u64 win_lo = 1, win_hi = 0, read_size;
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0, nr = 0, slot;
	const struct ms_py_offsets *o;
	struct py_scratch *sc;
	long base;

	if (!py_nprocs)
		return 0;
	o = bpf_map_lookup_elem(&py_procs, &tgid);
	if (!o)
		return 0;
	sc = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!sc)
		return 0;
	if (o->flags & MS_PYF_PTHREAD_ID) {
		struct task_struct *task = bpf_get_current_task_btf();

		fsbase = BPF_CORE_READ(task, thread.fsbase);
	}

	/* Most allocations come from the thread this CPU served last: one read checks it. */
	ts = sc->last_pid_tgid == id ? sc->last_ts : 0;
	base = py_tstate_read(o, sc, ts, tid, fsbase);
	if (base < 0) {
		ts = py_tstate_find(o, tid, fsbase);
		base = py_tstate_read(o, sc, ts, tid, fsbase);
		if (base < 0) {
			count(MS_C_PY_NO_TSTATE);
			return 0;
		}
		sc->last_pid_tgid = id;
		sc->last_ts = ts;
	}
	read_size = o->frame_read_size;
	if (read_size > MS_PY_FRAME_BUF)
		read_size = MS_PY_FRAME_BUF;	/* user space keeps it within: never happens */
	frame = ts_u64(sc, o->tstate_frame_off, base);
	if (o->flags & MS_PYF_CFRAME)
		frame = read_ptr(frame + o->cframe_current_frame_off);
	/*
	 * Frames of Python calls sit in the thread's current data stack chunk, below
	 * datastack_top, all of it written (so present): read it in one go, up to
	 * MS_PY_WIN bytes. A read that runs into a page never touched fails, and a
	 * fault costs ~10 reads: never read past what was written.
	 */
	if (o->flags & MS_PYF_DATASTACK) {
		__u64 chunk = ts_u64(sc, o->tstate_datastack_chunk_off, base);
		__u64 top = ts_u64(sc, o->tstate_datastack_top_off, base);
		__u64 lo = top - MS_PY_WIN, size;

		if (lo < chunk + MS_PY_CHUNK_HDR || lo > top)
			lo = chunk + MS_PY_CHUNK_HDR;
		size = top - lo;
		if (chunk && top > lo && size <= MS_PY_WIN && !bpf_probe_read_user(sc->win, size, (void *)lo)) {
			win_lo = lo;
			win_hi = top;
		}
	}

	h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < MS_PY_MAX_FRAMES; i++) {
		struct ms_py_frame *f = &sc->st.frames[i];
		__u64 code;
		__u8 *p;

		if (!frame)
			break;
		if (frame >= win_lo && frame + read_size <= win_hi) {
			p = sc->win + ((frame - win_lo) & (MS_PY_WIN - 1));
		} else {
			if (bpf_probe_read_user(sc->frame, read_size, (void *)frame))
				break;
			p = sc->frame;
		}
		code = *(__u64 *)(p + (o->frame_code_off & 120));
		f->code = code;
		f->flags = 0;
		if (o->flags & MS_PYF_FRAME_OBJECT) {
			f->lasti = *(__s32 *)(p + (o->frame_instr_off & 124));
		} else {
			__u64 instr = *(__u64 *)(p + (o->frame_instr_off & 120));

			/* code units of 2 bytes; -1 before the first instruction */
			f->lasti = (__s32)((__s64)(instr - code - o->code_adaptive_off) >> 1);
			if ((o->flags & MS_PYF_CSTACK_SHIM) &&
			    p[o->frame_owner_off & (MS_PY_FRAME_BUF - 1)] == MS_PY_OWNER_CSTACK)
				f->flags = MS_PY_FRAME_SHIM;
		}
		h = hash_step(h, code);
		h = hash_step(h, (__u32)f->lasti);
		nr = i + 1;
		frame = *(__u64 *)(p + (o->frame_previous_off & 120));
	}
	if (!nr)
		return 0;
	sc->st.nr = nr;
	sc->st.flags = 0;
	if (h == 0)
		h = 1;
	slot = (h >> 7) & (MS_PY_KNOWN - 1);
	if (sc->known[slot] == h)
		return h;	/* stored before: skip the lookup */
	if (!bpf_map_lookup_elem(&py_stacks, &h)) {
		struct ms_event *e;
		long err;

		py_idents(o, sc);
		err = bpf_map_update_elem(&py_stacks, &h, &sc->st, BPF_NOEXIST);
		if (err == -17 /* EEXIST: another CPU stored it first */)
			return h;
		if (err) {
			count(MS_C_DROP_PY_STACKS);
			return 0;
		}
		/*
		 * A new stack: user space names its frames now, while their code
		 * objects live (a dead one's address is soon another's).
		 */
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->type = MS_EV_PYSTACK;
			e->pid = tgid;
			e->py_stack_id = h;
			bpf_ringbuf_submit(e, 0);
		} else {
			count(MS_C_LOST_EVENTS);
		}
	}
	sc->known[slot] = h;
	return h;
}

#endif /* MS_PYTHON_BPF_H */
