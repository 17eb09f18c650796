/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python.bpf.h - the allocating thread's CPython stack: thread state, then frames (code, lasti) */
#ifndef MS_PYTHON_BPF_H
#define MS_PYTHON_BPF_H

/* Included by alloc.bpf.h after its maps and helpers. */

#define MS_PY_FRAME_BUF	128	/* bytes read per frame: covers every field of every version */
#define MS_PY_CODE_BUF	256	/* bytes read per code object for its identity (MS_PYF_CODE_IDENT) */
#define MS_PY_WALK_MAX	64	/* thread states visited looking for ours */

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
 * The current thread's PyThreadState: the GIL holder if it is us (a malloc with
 * the GIL released must not be blamed on the holder), else the one we found
 * last time, else a bounded walk over interpreters and their threads.
 */
static __always_inline __u64 py_tstate(const struct ms_py_offsets *o, __u32 tid, __u64 fsbase)
{
	__u64 ts, interp, next_interp, *cached;

	if (o->flags & MS_PYF_GIL_IN_INTERP)
		ts = read_ptr(read_ptr(o->runtime_addr + o->runtime_interp_head_off) + o->gil_holder_off);
	else
		ts = read_ptr(o->runtime_addr + o->gil_holder_off);
	if (py_tstate_is(o, ts, tid, fsbase))
		return ts;

	cached = bpf_map_lookup_elem(&py_tstates, &tid);
	if (cached && py_tstate_is(o, *cached, tid, fsbase))
		return *cached;

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
			bpf_map_update_elem(&py_tstates, &tid, &ts, BPF_ANY);
			return ts;
		} else {
			ts = read_ptr(ts + o->tstate_next_off);
		}
	}
	return 0;
}

/*
 * Identity of each frame's code object (include/memslope.h, ms_py_code_ident), for a stack
 * about to be stored: user space names frames later, when a dead code object's address may
 * be another's, and checks this to tell them apart. A frame whose code pointer leads to no
 * code object now (ob_type) was read from a dead frame: MS_PY_IDENT_NOT_CODE. One read per
 * frame, new stacks only.
 */
static __always_inline void py_idents(const struct ms_py_offsets *o, struct py_scratch *sc, __u32 nr)
{
	__u32 name_off = o->code_qualname_off ? o->code_qualname_off : o->code_name_off;
	__u64 *w = (__u64 *)sc->code;

	for (int i = 0; i < MS_PY_MAX_FRAMES; i++) {
		struct ms_py_frame *f = &sc->st.frames[i];

		if (i >= nr)
			break;
		f->ident = 0;
		if (!(o->flags & MS_PYF_CODE_IDENT) || !f->code ||
		    bpf_probe_read_user(sc->code, MS_PY_CODE_BUF, (void *)f->code))
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
 * this thread has no thread state. One read per frame into per-CPU scratch;
 * fields picked out with masked offsets; frames recorded at the loop index
 * (a second counter would multiply verifier states), C-stack shims flagged for
 * user space to drop.
 */
static __always_inline __u64 py_stack_id_get(void)
{
	__u64 id = bpf_get_current_pid_tgid(), frame, ts, h;
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0, nr = 0;
	const struct ms_py_offsets *o;
	struct task_struct *task;
	struct py_scratch *sc;

	if (!py_nprocs)
		return 0;
	o = bpf_map_lookup_elem(&py_procs, &tgid);
	if (!o)
		return 0;
	sc = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!sc)
		return 0;
	task = bpf_get_current_task_btf();
	ts = py_tstate(o, tid, BPF_CORE_READ(task, thread.fsbase));
	if (!ts) {
		count(MS_C_PY_NO_TSTATE);
		return 0;
	}
	frame = read_ptr(ts + o->tstate_frame_off);
	if (o->flags & MS_PYF_CFRAME)
		frame = read_ptr(frame + o->cframe_current_frame_off);

	h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < MS_PY_MAX_FRAMES; i++) {
		struct ms_py_frame *f = &sc->st.frames[i];
		__u64 *w = (__u64 *)sc->frame;
		__u64 code;

		if (!frame || bpf_probe_read_user(sc->frame, MS_PY_FRAME_BUF, (void *)frame))
			break;
		code = w[(o->frame_code_off >> 3) & 15];
		f->code = code;
		f->flags = 0;
		if (o->flags & MS_PYF_FRAME_OBJECT) {
			f->lasti = *(__s32 *)(sc->frame + (o->frame_instr_off & 124));
		} else {
			__u64 instr = w[(o->frame_instr_off >> 3) & 15];

			/* code units of 2 bytes; -1 before the first instruction */
			f->lasti = (__s32)((__s64)(instr - code - o->code_adaptive_off) >> 1);
			if ((o->flags & MS_PYF_CSTACK_SHIM) &&
			    sc->frame[o->frame_owner_off & (MS_PY_FRAME_BUF - 1)] == MS_PY_OWNER_CSTACK)
				f->flags = MS_PY_FRAME_SHIM;
		}
		h = hash_step(h, code);
		h = hash_step(h, (__u32)f->lasti);
		nr = i + 1;
		frame = w[(o->frame_previous_off >> 3) & 15];
	}
	if (!nr)
		return 0;
	sc->st.nr = nr;
	sc->st.flags = 0;
	if (h == 0)
		h = 1;
	if (!bpf_map_lookup_elem(&py_stacks, &h)) {
		struct ms_event *e;
		long err;

		py_idents(o, sc, nr);
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
	return h;
}

#endif /* MS_PYTHON_BPF_H */
