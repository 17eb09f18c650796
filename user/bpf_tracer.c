// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpf_tracer.c - exact tracing: skeleton lifetime, per-process allocator uprobes, map readers */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>

#include "bpf_tracer.h"
#include "elfsym.h"
#include "log.h"
#include "memslope.skel.h"
#include "placement.h"
#include "procfs.h"
#include "procmaps.h"
#include "sample.h"
#include "tracefs.h"

/* One libc entry point: which kind of call it is and what its entry reads. */
struct probe_spec {
	const char *sym;
	__u32 kind;		/* enum ms_kind: the attach cookie */
	bool ret;		/* needs a return probe */
	unsigned int args;	/* argument registers the entry program reads */
};

/*
 * reallocarray is not probed: glibc (and musl) implement it as a call to realloc,
 * whose probes account for it. aligned_alloc and memalign share one address in
 * glibc; sites are deduplicated by address.
 */
static const struct probe_spec probe_specs[] = {
	{ "malloc", MS_K_MALLOC, true, PL_RDI },
	{ "free", MS_K_FREE, false, PL_RDI },
	{ "calloc", MS_K_CALLOC, true, PL_RDI | PL_RSI },
	{ "realloc", MS_K_REALLOC, true, PL_RDI | PL_RSI },
	{ "posix_memalign", MS_K_POSIX_MEMALIGN, true, PL_RDI | PL_RSI | PL_RDX },
	{ "aligned_alloc", MS_K_MEMALIGN, true, PL_RDI | PL_RSI },
	{ "memalign", MS_K_MEMALIGN, true, PL_RDI | PL_RSI },
	{ "valloc", MS_K_VALLOC, true, PL_RDI },
	{ "pvalloc", MS_K_VALLOC, true, PL_RDI },
	{ "mmap", MS_K_MMAP, true, PL_RDI | PL_RSI | PL_RDX },
	{ "munmap", MS_K_MUNMAP, true, PL_RDI | PL_RSI },
	{ "mremap", MS_K_MREMAP, true, PL_RDI | PL_RSI | PL_RDX },
};

#define NR_SPECS (sizeof(probe_specs) / sizeof(probe_specs[0]))
#define MAX_LINKS (2 * NR_SPECS)
#define EVSET_EVENTS 2	/* tracefs events of a probe set: entries, returns */
#define MAX_ANCHORS 8
#define MAX_CODE 8192	/* bytes of a function decoded to place its probe (whole function) */

/* Where to probe one libc file: computed once per (device, inode). */
struct site {
	const struct probe_spec *spec;
	uint64_t file_off;
	struct probe_site where;
};

struct libc_plan {
	dev_t dev;
	ino_t ino;
	int nsites;
	struct site sites[NR_SPECS];
	struct libc_plan *next;
};

/*
 * A set of inheritable uprobes: two tracefs events, one with a probe at every
 * entry site and one with a probe at every return site (the program tells the
 * sites apart by address), each opened twice as a perf event on a root process. The first carries the BPF
 * program; the second has attr.inherit, and the kernel copies it into every
 * task the root (or a copy) creates, before that task runs. The copies put the
 * new tasks in the event's filter, so the program (which belongs to the event,
 * not to one perf event) runs for them from their first instruction. The
 * program is not on the inherited one because an inherited copy takes its
 * parent's program along, and when that copy dies the kernel removes the
 * program from the event (6.18): every process would stop being traced the
 * moment the first child exits. The set lives while a process it covers does.
 */
struct evset {
	__u32 id;		/* our number; the BPF evsets task storage holds it */
	int refs;		/* processes covered, and sets stacked on this one */
	dev_t dev;		/* the libc file probed */
	ino_t ino;
	int nev;		/* events defined: 0 every entry site, 1 every return site */
	bool defined[EVSET_EVENTS];
	int ev_id[EVSET_EVENTS];	/* their tracefs ids */
	struct bpf_link *links[EVSET_EVENTS];	/* the perf events with the program */
	int inherit_fd[EVSET_EVENTS];		/* the inherited perf events; -1: none */
	struct evset *base;	/* the set the process had before an exec into another libc */
	struct evset *next;
};

struct target {
	int pid;
	dev_t dev;		/* the libc file probed; 0 when none */
	ino_t ino;
	int multi_fd[2];	/* uprobe_multi links: entry, return; -1 when none */
	int nlinks;		/* perf-based fallback: one link per site and direction */
	struct bpf_link *links[MAX_LINKS];
	struct evset *evset;	/* inheritable probes covering it (own or inherited); a reference */
	int nanchors;		/* its own perf events on inherited sets, see target_anchor() */
	int anchor_fd[MAX_ANCHORS];
	struct target *next;
};

struct tracer {
	struct memslope_bpf *skel;
	struct ring_buffer *rb;
	struct tracer_opts opts;
	tracer_event_fn fn;
	void *fn_ctx;
	struct target *targets;
	struct libc_plan *plans;
	bool multi;		/* uprobe_multi links (kernel 6.6+); else perf-based uprobes */
	const char *tracefs;	/* inheritable probes through tracefs; NULL: per-pid links */
	char group[32];		/* our tracefs event group: memslope_<pid> */
	__u32 evset_next;
	struct evset *evsets;
};

#define TRACEFS_PREFIX "memslope_"

static struct target *target_find(const struct tracer *t, int pid);
static struct target *target_new(struct tracer *t, int pid);
static int perf_tracepoint_open(int id, int pid, bool inherit);
static void target_anchor(struct target *tg);
static void target_detach(struct tracer *t, struct target *tg);
static void target_release(struct tracer *t, struct target *tg);
static struct evset *evset_find(const struct tracer *t, __u32 id);
static void evset_put(struct tracer *t, struct evset *es);

void tracer_opts__default(struct tracer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_allocs = 1 << 18;
	o->max_stacks = 1 << 14;
	o->max_mmaps = 1 << 13;
	o->ringbuf_bytes = 1 << 18;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own messages sit one level below ours */
	if ((level == LIBBPF_WARN && log_verbosity < LOG_INFO) ||
	    (level == LIBBPF_INFO && log_verbosity < LOG_DEBUG) ||
	    (level == LIBBPF_DEBUG && log_verbosity < LOG_TRACE))
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint32_t pow2_at_least(uint32_t v, uint32_t min);

/* BPF_TRACE_UPROBE_MULTI, from kernel 6.6 uapi (the installed headers may predate it). */
#define MS_ATTACH_UPROBE_MULTI 48
#define MS_F_UPROBE_MULTI_RETURN 1

static void skel_configure(struct memslope_bpf *skel, const struct tracer_opts *o)
{
	skel->rodata->probe_only = o->probe_only;
	skel->rodata->sample_bytes = o->sample_bytes;
	sample_gaps_fill((uint32_t *)skel->rodata->sample_gaps);
	skel->rodata->nr_cpus = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	bpf_map__set_max_entries(skel->maps.allocs, o->max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, o->max_stacks);
	bpf_map__set_max_entries(skel->maps.py_stacks, o->max_stacks / 2 > 1024 ? o->max_stacks / 2 : 1024);
	bpf_map__set_max_entries(skel->maps.stats, o->max_stacks * 4);
	bpf_map__set_max_entries(skel->maps.mmaps, o->max_mmaps);
	bpf_map__set_max_entries(skel->maps.events, pow2_at_least(o->ringbuf_bytes, 4096));
}

/*
 * Give the watch tier the per-CPU offsets it needs to fold per-CPU counters
 * exactly: one pass of the iter/bpf_map program over our probe map. Without
 * them RSS is the approximate per-mm count (a warning says so).
 */
static void percpu_offsets_find(struct tracer *t)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char buf[64];
	int fd;

	if (bpf_obj_get_info_by_fd(bpf_map__fd(t->skel->maps.pcpu_probe), &info, &len))
		goto fail;
	t->skel->bss->pcpu_probe_id = info.id;
	if (!t->skel->links.find_percpu_offsets)
		goto fail;
	fd = bpf_iter_create(bpf_link__fd(t->skel->links.find_percpu_offsets));
	if (fd < 0)
		goto fail;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	if (t->skel->bss->percpu_off_ready)
		return;
fail:
	pr_debug("per-CPU offsets not found: RSS from the watch pass is approximate");
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	const struct ms_event *e = data;

	/* every record starts with its type; check the size the type promises */
	if (size < sizeof(__u32) ||
	    size < (e->type == MS_EV_OOM ? sizeof(struct ms_oom_event) : sizeof(struct ms_event)))
		return 0;
	if (e->type == MS_EV_FORK && e->evset && !target_find(t, e->pid)) {
		/* born with copies of a set's events: covered until it exits */
		struct evset *es = evset_find(t, e->evset);
		struct target *tg = es ? target_new(t, e->pid) : NULL;

		if (tg) {
			tg->evset = es;
			es->refs++;
			target_anchor(tg);
		}
	} else if (e->type == MS_EV_EXIT) {
		struct target *tg = target_find(t, e->pid);

		if (tg)
			target_release(t, tg);	/* its events are gone with it */
	}
	t->fn(t->fn_ctx, data);
	return 0;
}

static uint32_t pow2_at_least(uint32_t v, uint32_t min)
{
	uint32_t p = min;

	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

struct tracer *tracer__new(const struct tracer_opts *o, tracer_event_fn fn, void *ctx)
{
	struct tracer *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->opts = *o;
	t->fn = fn;
	t->fn_ctx = ctx;
	libbpf_set_print(libbpf_print);

	/*
	 * Inheritable probes through tracefs when there is one (the only way to
	 * follow forks without a race); else uprobe_multi links per process, and
	 * a kernel without those refuses the attach type at load: perf uprobes.
	 * MEMSLOPE_NO_TRACEFS=1 takes the fallback on a machine with tracefs (tests).
	 */
	t->tracefs = getenv("MEMSLOPE_NO_TRACEFS") ? NULL : tracefs__dir();
	if (t->tracefs) {
		snprintf(t->group, sizeof(t->group), TRACEFS_PREFIX "%d", getpid());
		tracefs__purge_stale(t->tracefs, TRACEFS_PREFIX);
	}
	for (int multi = !t->tracefs; multi >= 0; multi--) {
		memslope_bpf__destroy(t->skel);
		t->skel = memslope_bpf__open();
		if (!t->skel) {
			err = -errno;
			pr_err("cannot open BPF object: %s", strerror(-err));
			goto fail;
		}
		skel_configure(t->skel, o);
		if (multi) {
			bpf_program__set_expected_attach_type(t->skel->progs.alloc_enter, MS_ATTACH_UPROBE_MULTI);
			bpf_program__set_expected_attach_type(t->skel->progs.alloc_exit, MS_ATTACH_UPROBE_MULTI);
		}
		bpf_program__set_autoattach(t->skel->progs.alloc_enter, false);
		bpf_program__set_autoattach(t->skel->progs.alloc_exit, false);
		/* watch mode's fault probe: not even loaded otherwise (x86's tracepoint) */
		bpf_program__set_autoload(t->skel->progs.fault_event, o->faults);
		err = memslope_bpf__load(t->skel);
		t->multi = multi;
		if (!err || err == -EPERM || err == -EACCES)
			break;
		pr_debug("loading with uprobe_multi failed (%s), trying perf-based uprobes", strerror(-err));
	}
	if (err) {
		if (err == -EPERM || err == -EACCES)
			pr_err("cannot load BPF programs: %s (run as root, or grant CAP_BPF and CAP_PERFMON)",
			       strerror(-err));
		else
			pr_err("cannot load BPF programs: %s (a kernel with BTF and BPF uprobes is needed; -vv shows why)",
			       strerror(-err));
		goto fail;
	}
	err = memslope_bpf__attach(t->skel);	/* the lifecycle tracepoints; uprobes go per process */
	if (err) {
		pr_err("cannot attach process lifecycle tracepoints: %s", strerror(-err));
		goto fail;
	}
	percpu_offsets_find(t);
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, t, NULL);
	if (!t->rb) {
		err = -errno;
		pr_err("cannot create ring buffer: %s", strerror(-err));
		goto fail;
	}
	return t;
fail:
	tracer__free(t);
	errno = -err;
	return NULL;
}

static struct target *target_find(const struct tracer *t, int pid)
{
	struct target *tg;

	for (tg = t->targets; tg; tg = tg->next)
		if (tg->pid == pid)
			return tg;
	return NULL;
}

/*
 * Close the perf events of a set. The last close of each tracefs event waits
 * for an RCU grace period (~0.1 s here), and the kernel serializes them (closing
 * from several threads measured no faster): hence two events per set, not one
 * per site.
 */
static void evset_close(struct evset *es)
{
	double t0 = now_ms();

	for (int i = 0; i < es->nev; i++) {
		if (es->inherit_fd[i] >= 0)
			close(es->inherit_fd[i]);
		es->inherit_fd[i] = -1;
		bpf_link__destroy(es->links[i]);
		es->links[i] = NULL;
	}
	pr_debug("closed %d uprobe events in %.1f ms", es->nev, now_ms() - t0);
}

static void evset_put(struct tracer *t, struct evset *es)
{
	struct evset **pp;

	if (!es || --es->refs > 0)
		return;
	for (pp = &t->evsets; *pp && *pp != es; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = es->next;
	/* closing the perf events also ends their inherited copies */
	evset_close(es);
	for (int i = 0; i < es->nev; i++) {
		char name[32];

		if (!es->defined[i])
			continue;
		snprintf(name, sizeof(name), "e%u_%d", es->id, i);
		if (tracefs__uprobe_del(t->tracefs, t->group, name))
			pr_debug("cannot remove uprobe event %s/%s", t->group, name);
	}
	evset_put(t, es->base);
	free(es);
}

static struct evset *evset_find(const struct tracer *t, __u32 id)
{
	struct evset *es;

	for (es = t->evsets; es; es = es->next)
		if (es->id == id)
			return es;
	return NULL;
}

/* Is the libc file (dev, ino) probed by es or a set below it? */
static bool evset_covers(const struct evset *es, dev_t dev, ino_t ino)
{
	for (; es; es = es->base)
		if (es->dev == dev && es->ino == ino)
			return true;
	return false;
}

/* Drop tg's per-process links. */
static void target_unlink(struct target *tg)
{
	for (int i = 0; i < 2; i++) {
		if (tg->multi_fd[i] >= 0)
			close(tg->multi_fd[i]);
		tg->multi_fd[i] = -1;
	}
	for (int i = 0; i < tg->nlinks; i++)
		bpf_link__destroy(tg->links[i]);
	tg->nlinks = 0;
	tg->dev = 0;
	tg->ino = 0;
}

/*
 * A process born with copies of a set's perf events gets perf events of its
 * own on the set's tracefs events (no program: they only keep it in the
 * events' filter). Needed because of how perf moves inherited events (6.18):
 * when a task whose events are all inherited forks, the child's perf context
 * is a clone of the parent's, and at a context switch between the two the
 * kernel swaps the contexts, events and all. The child then exits holding the
 * parent's copies, their filter entries go with them, and the kernel removes
 * the breakpoints from the parent, which is traced no more. An event that is
 * not inherited makes the context no clone of anything: from here on this
 * process and its children keep their own. Until it is in place (the time to
 * read the fork event), a child that forks and loses its own child can lose
 * calls; the anchor puts the breakpoints back.
 */
static void target_anchor(struct target *tg)
{
	for (const struct evset *es = tg->evset; es; es = es->base)
		for (int i = 0; i < es->nev && tg->nanchors < MAX_ANCHORS; i++) {
			int fd = perf_tracepoint_open(es->ev_id[i], tg->pid, false);

			if (fd < 0) {
				pr_debug("anchor of pid %d on set %u: %s", tg->pid, es->id, strerror(-fd));
				continue;
			}
			tg->anchor_fd[tg->nanchors++] = fd;
		}
}

/* Drop every probe of tg (the process exited, or is no longer traced). */
static void target_detach(struct tracer *t, struct target *tg)
{
	for (int i = 0; i < tg->nanchors; i++)
		close(tg->anchor_fd[i]);
	tg->nanchors = 0;
	target_unlink(tg);
	evset_put(t, tg->evset);
	tg->evset = NULL;
}

/* target_detach(), saying so when it had probes (the last process of a set closes it). */
static void target_release(struct tracer *t, struct target *tg)
{
	/* a process only sharing a set detaches nothing worth a line */
	bool had = tg->nlinks || tg->multi_fd[0] >= 0 || (tg->evset && tg->evset->refs == 1);
	double t0 = now_ms();

	target_detach(t, tg);
	if (had)
		pr_info("detached from pid %d in %.1f ms", tg->pid, now_ms() - t0);
}

static struct target *target_new(struct tracer *t, int pid)
{
	struct target *tg = calloc(1, sizeof(*tg));

	if (!tg)
		return NULL;
	tg->pid = pid;
	tg->multi_fd[0] = tg->multi_fd[1] = -1;
	tg->next = t->targets;
	t->targets = tg;
	return tg;
}

void tracer__free(struct tracer *t)
{
	struct target *tg, *ntg;
	struct libc_plan *p, *np;

	double t0;
	int n = 0;

	if (!t)
		return;
	t0 = now_ms();
	for (tg = t->targets; tg; tg = ntg) {
		ntg = tg->next;
		n += tg->nlinks || tg->multi_fd[0] >= 0 || tg->evset;
		target_detach(t, tg);
		free(tg);
	}
	while (t->evsets) {
		t->evsets->refs = 1;
		evset_put(t, t->evsets);
	}
	if (n)
		pr_info("detached from %d processes in %.1f ms", n, now_ms() - t0);
	for (p = t->plans; p; p = np) {
		np = p->next;
		free(p);
	}
	ring_buffer__free(t->rb);
	memslope_bpf__destroy(t->skel);
	free(t);
}

static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-2.", 7) ||
	       !strncmp(base, "libc.musl", 9) || !strncmp(base, "ld-musl", 7);
}

static const struct map_entry *find_libc(const struct map_entry *maps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (maps[i].perms[2] == 'x' && maps[i].inode && is_libc(maps[i].path))
			return &maps[i];
	return NULL;
}

/* Decide, once per libc file, the site of every probe. */
static struct libc_plan *plan_get(struct tracer *t, const char *path, dev_t dev, ino_t ino,
				  const char *root)
{
	struct libc_plan *plan;
	struct elf_file *ef;
	uint64_t done[NR_SPECS];
	int ndone = 0;

	for (plan = t->plans; plan; plan = plan->next)
		if (plan->dev == dev && plan->ino == ino)
			return plan;

	ef = elf_file__open(path, root);
	if (!ef) {
		pr_warn("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	plan = calloc(1, sizeof(*plan));
	if (!plan) {
		elf_file__free(ef);
		return NULL;
	}
	plan->dev = dev;
	plan->ino = ino;
	for (size_t i = 0; i < NR_SPECS; i++) {
		const struct probe_spec *spec = &probe_specs[i];
		static uint8_t code[MAX_CODE];
		struct site *s = &plan->sites[plan->nsites];
		uint64_t vaddr, size;
		long len;
		bool dup = false;

		if (elf_file__find_func(ef, spec->sym, &vaddr, &size)) {
			pr_debug("%s: no %s", path, spec->sym);
			continue;
		}
		for (int j = 0; j < ndone; j++)
			dup |= done[j] == vaddr;
		if (dup)
			continue;	/* an alias of a function already probed */
		done[ndone++] = vaddr;

		memset(&s->where, 0, sizeof(s->where));
		snprintf(s->where.reason, sizeof(s->where.reason), "at the symbol");
		if (!t->opts.no_placement) {
			if (!size || size > MAX_CODE)
				size = MAX_CODE;
			len = elf_file__read(ef, vaddr, code, size);
			if (len > 0)
				placement__choose(code, len, vaddr, spec->args, &s->where);
		}
		if (elf_file__vaddr_to_offset(ef, vaddr + s->where.offset, &s->file_off)) {
			pr_warn("%s: cannot map %s to a file offset", path, spec->sym);
			continue;
		}
		s->spec = spec;
		plan->nsites++;
		pr_debug("probe %s+%u (%s): %s", spec->sym, s->where.offset,
			 s->where.insn[0] ? s->where.insn : "?", s->where.reason);
	}
	elf_file__free(ef);
	plan->next = t->plans;
	t->plans = plan;
	return plan;
}

/* One perf-based uprobe (fallback for kernels without uprobe_multi). */
static int attach_perf(struct tracer *t, struct target *tg, const struct site *s, const char *path,
		       bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts, .retprobe = retprobe, .bpf_cookie = s->spec->kind);
	struct bpf_program *prog = retprobe ? t->skel->progs.alloc_exit : t->skel->progs.alloc_enter;
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, tg->pid, path, s->file_off, &uopts);
	if (!link)
		return -errno;
	tg->links[tg->nlinks++] = link;
	return 0;
}

/*
 * One uprobe_multi link: every site of the plan (or every site with a return
 * probe) for one pid, the kind of call as each site's cookie. Created with the
 * raw syscall: libbpf 1.1 predates uprobe_multi.
 */
static int attach_multi(struct tracer *t, struct target *tg, const struct libc_plan *plan,
			const char *path, bool retprobe)
{
	unsigned long offsets[NR_SPECS];
	__u64 cookies[NR_SPECS];
	struct {
		__u32 prog_fd, target_fd, attach_type, flags;
		__u64 path, offsets, ref_ctr_offsets, cookies;
		__u32 cnt, mflags, pid, pad;
		__u8 rest[64];		/* the rest of union bpf_attr's link_create: zero */
	} attr;
	struct bpf_program *prog = retprobe ? t->skel->progs.alloc_exit : t->skel->progs.alloc_enter;
	__u32 cnt = 0;
	int fd;

	for (int i = 0; i < plan->nsites; i++) {
		if (retprobe && !plan->sites[i].spec->ret)
			continue;
		offsets[cnt] = plan->sites[i].file_off;
		cookies[cnt] = plan->sites[i].spec->kind;
		cnt++;
	}
	if (!cnt)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = bpf_program__fd(prog);
	attr.attach_type = MS_ATTACH_UPROBE_MULTI;
	attr.path = (uintptr_t)path;
	attr.offsets = (uintptr_t)offsets;
	attr.cookies = (uintptr_t)cookies;
	attr.cnt = cnt;
	attr.mflags = retprobe ? MS_F_UPROBE_MULTI_RETURN : 0;
	attr.pid = tg->pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	tg->multi_fd[retprobe] = fd;
	return 0;
}

/*
 * Are the breakpoints in place in pid's libc? A uprobe shows as int3 (0xcc) at
 * the probed address in the process's memory; the first site tells for all.
 */
static bool probes_present(int pid, const struct map_entry *libc, const struct libc_plan *plan)
{
	uint64_t off, addr;
	char path[64];
	uint8_t byte = 0;
	int fd;
	bool ok;

	if (!plan->nsites)
		return true;
	off = plan->sites[0].file_off;
	if (off < libc->offset || off - libc->offset >= libc->end - libc->start)
		return true;	/* not in this mapping: cannot tell, assume fine */
	addr = libc->start + (off - libc->offset);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ok = pread(fd, &byte, 1, addr) != 1 || byte == 0xcc;
	close(fd);
	return ok;
}

static int perf_tracepoint_open(int id, int pid, bool inherit)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_TRACEPOINT,
		.config = id,
		.sample_period = 1,
		.wakeup_events = 1,
		.inherit = inherit,	/* copied into every task pid creates, before it runs */
	};
	int fd = syscall(__NR_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Mark pid's main thread as covered by set id (0: by none) for the fork tracepoint. */
static int evset_mark(struct tracer *t, int pid, __u32 id)
{
	int fd = bpf_map__fd(t->skel->maps.evsets);
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int err = 0;

	if (pidfd < 0)
		return -errno;
	if (id)
		err = bpf_map_update_elem(fd, &pidfd, &id, BPF_ANY) ? -errno : 0;
	else
		bpf_map_delete_elem(fd, &pidfd);
	close(pidfd);
	return err;
}

/*
 * Tell BPF the kind of call at each site of plan: tracefs events carry no
 * cookie per site, the program finds the site from the probe's address.
 */
static int sites_publish(struct tracer *t, const struct libc_plan *plan, dev_t dev, ino_t ino)
{
	int fd = bpf_map__fd(t->skel->maps.sites);

	for (int i = 0; i < plan->nsites; i++) {
		struct ms_site_key key = {
			.dev = (__u64)major(dev) << 20 | minor(dev),	/* the kernel's dev_t */
			.ino = ino,
			.off = plan->sites[i].file_off,
		};
		__u32 kind = plan->sites[i].spec->kind;

		if (bpf_map_update_elem(fd, &key, &kind, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Probe pid, and every task it creates from now on, with a new set of
 * inheritable uprobes on the libc file path. The set replaces tg->evset, which
 * it keeps below it: the process still carries those events.
 */
static int evset_attach(struct tracer *t, struct target *tg, const struct libc_plan *plan,
			const char *path, dev_t dev, ino_t ino)
{
	struct evset *es = calloc(1, sizeof(*es));
	int err = 0;

	if (!es)
		return -ENOMEM;
	es->id = ++t->evset_next;
	es->refs = 1;
	es->dev = dev;
	es->ino = ino;
	for (int i = 0; i < EVSET_EVENTS; i++)
		es->inherit_fd[i] = -1;
	/*
	 * Mark before the events exist: a thread the process creates in between
	 * is then believed covered and its children lose their first calls,
	 * rather than being probed twice. Only -p on a busy process can see it.
	 */
	err = evset_mark(t, tg->pid, es->id);
	if (!err)
		err = sites_publish(t, plan, dev, ino);
	/* event 0: every entry site; event 1: every return site */
	for (int ret = 0; ret < EVSET_EVENTS && !err; ret++) {
		struct bpf_program *prog = ret ? t->skel->progs.alloc_exit : t->skel->progs.alloc_enter;
		int n = es->nev++, id = -ENOENT, pfd;
		char name[32];

		snprintf(name, sizeof(name), "e%u_%d", es->id, n);
		for (int i = 0; i < plan->nsites; i++) {
			const struct site *s = &plan->sites[i];

			if (ret && !s->spec->ret)
				continue;
			id = tracefs__uprobe_add(t->tracefs, t->group, name, ret, path, s->file_off);
			if (id < 0) {
				pr_debug("uprobe event %s for %s: %s", name, s->spec->sym, strerror(-id));
				break;
			}
			es->defined[n] = true;
		}
		if (id < 0) {
			err = id;
			break;
		}
		es->ev_id[n] = id;
		pfd = perf_tracepoint_open(id, tg->pid, true);
		if (pfd < 0) {
			err = pfd;
			pr_debug("inherited perf event %s on %d: %s", name, tg->pid, strerror(-err));
			break;
		}
		es->inherit_fd[n] = pfd;
		pfd = perf_tracepoint_open(id, tg->pid, false);
		if (pfd < 0) {
			err = pfd;
			pr_debug("perf event %s on %d: %s", name, tg->pid, strerror(-err));
			break;
		}
		es->links[n] = bpf_program__attach_perf_event(prog, pfd);
		if (!es->links[n]) {
			err = -errno;
			close(pfd);
			pr_debug("BPF on the perf event %s: %s", name, strerror(-err));
		}
	}
	es->next = t->evsets;
	t->evsets = es;
	if (err) {
		evset_mark(t, tg->pid, tg->evset ? tg->evset->id : 0);
		evset_put(t, es);
		return err;
	}
	es->base = tg->evset;	/* our reference moves below the new set */
	tg->evset = es;
	return 0;
}

/* Probe the libc pid maps now; tg->dev/ino say which file is probed. */
static int target_attach(struct tracer *t, struct target *tg)
{
	char root[64], path[PATH_MAX + 64];
	const struct map_entry *libc;
	struct map_entry *maps;
	struct libc_plan *plan;
	struct stat st;
	size_t n;
	double t0 = now_ms();
	int err = 0;

	if (t->opts.faults)	/* watch mode: the fault tracepoint covers every target */
		return kill(tg->pid, 0) && errno == ESRCH ? -ESRCH : 0;
	maps = procmaps__read(tg->pid, &n);
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	libc = find_libc(maps, n);
	if (!libc) {
		/* a process exiting under us (a zombie) maps nothing: gone, not static */
		err = !procfs__alive(tg->pid) ? -ESRCH : -ENOENT;
		goto out;
	}
	snprintf(root, sizeof(root), "/proc/%d/root", tg->pid);
	snprintf(path, sizeof(path), "%s%s", root, libc->path);
	if (stat(path, &st)) {
		err = errno == ENOENT && kill(tg->pid, 0) ? -ESRCH : -errno;
		goto out;
	}
	if (evset_covers(tg->evset, st.st_dev, st.st_ino))
		goto out;	/* inheritable probes on this very file: its own, or its parent's copies */
	if (tg->dev == st.st_dev && tg->ino == st.st_ino) {
		plan = plan_get(t, path, st.st_dev, st.st_ino, root);
		if (!plan || probes_present(tg->pid, libc, plan))
			goto out;	/* already probing this very file */
		/*
		 * An exec raced with our attach: the new image mapped libc between
		 * the link's registration and its scan of the mappings, and has no
		 * breakpoints. Attach again.
		 */
		pr_debug("pid %d: probes missing after exec: attaching again", tg->pid);
	}
	target_unlink(tg);

	plan = plan_get(t, path, st.st_dev, st.st_ino, root);
	if (!plan) {
		err = -ENOEXEC;
		goto out;
	}
	if (t->tracefs) {
		err = evset_attach(t, tg, plan, path, st.st_dev, st.st_ino);
		if (!err) {
			pr_info("attached %d probes to pid %d and its future children (%s, inheritable uprobe events) in %.1f ms",
				plan->nsites, tg->pid, libc->path, now_ms() - t0);
			goto out;
		}
		if (kill(tg->pid, 0)) {
			err = -ESRCH;
			goto out;
		}
		pr_debug("inheritable probes on pid %d: %s; per-process probes instead", tg->pid, strerror(-err));
		err = 0;
	}
	if (t->multi) {
		err = attach_multi(t, tg, plan, path, false);
		if (!err)
			err = attach_multi(t, tg, plan, path, true);
		if (err)
			pr_debug("uprobe_multi attach to %d: %s", tg->pid, strerror(-err));
	}
	for (int i = 0; i < plan->nsites && !t->multi && !err; i++) {
		const struct site *s = &plan->sites[i];

		err = attach_perf(t, tg, s, path, false);
		if (!err && s->spec->ret)
			err = attach_perf(t, tg, s, path, true);
		if (err)
			pr_debug("attach %s to %d: %s", s->spec->sym, tg->pid, strerror(-err));
	}
	if (err) {
		target_unlink(tg);
		if (kill(tg->pid, 0))
			err = -ESRCH;	/* it exited under us: normal, not a warning */
		goto out;
	}
	tg->dev = st.st_dev;
	tg->ino = st.st_ino;
	pr_info("attached %d probes to pid %d (%s, %s) in %.1f ms", plan->nsites, tg->pid, libc->path,
		t->multi ? "uprobe_multi" : "perf uprobes", now_ms() - t0);
out:
	procmaps__free(maps, n);
	return err;
}

const struct tracer_opts *tracer__opts(const struct tracer *t)
{
	return &t->opts;
}

int tracer__add(struct tracer *t, int pid)
{
	struct target *tg = target_find(t, pid);
	__u32 key = pid, flags = 0;

	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	if (!tg) {
		tg = target_new(t, pid);
		if (!tg)
			return -ENOMEM;
	}
	/* Follow its forks from now on, even if the probes below cannot attach. */
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.targets), &key, &flags, BPF_ANY);
	return target_attach(t, tg);
}

int tracer__refresh(struct tracer *t, int pid)
{
	struct target *tg = target_find(t, pid);
	int err;

	if (!tg)
		return tracer__add(t, pid);
	err = target_attach(t, tg);
	return err;
}

void tracer__remove(struct tracer *t, int pid)
{
	struct target **pp, *tg;
	__u32 key = pid;

	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.targets), &key);
	tracer__set_python(t, pid, NULL);
	for (pp = &t->targets; (tg = *pp); pp = &tg->next) {
		if (tg->pid != pid)
			continue;
		*pp = tg->next;
		target_release(t, tg);
		free(tg);
		return;
	}
}

bool tracer__attached(const struct tracer *t, int pid)
{
	const struct target *tg = target_find(t, pid);

	return tg && (t->opts.faults || tg->nlinks > 0 || tg->multi_fd[0] >= 0 || tg->evset);
}

int tracer__poll(struct tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int tracer__for_each_stat(struct tracer *t, tracer_stat_fn fn, void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.stats);
	struct ms_stat_key key, next;
	struct ms_stat_val val;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;	/* deleted under us */
		fn(ctx, &key, &val);
	}
	return errno == ENOENT ? 0 : -errno;
}

int tracer__py_stack(struct tracer *t, uint64_t py_stack_id, struct ms_py_stack *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.py_stacks), &py_stack_id, out))
		return -ENOENT;
	if (out->nr > MS_PY_MAX_FRAMES)
		out->nr = MS_PY_MAX_FRAMES;
	return 0;
}

int tracer__set_python(struct tracer *t, int pid, const struct ms_py_offsets *off)
{
	__u32 key = pid;
	int fd = bpf_map__fd(t->skel->maps.py_procs);
	bool had = bpf_map_lookup_elem(fd, &key, &(struct ms_py_offsets){}) == 0;

	if (!off) {
		if (had && !bpf_map_delete_elem(fd, &key) && t->skel->bss->py_nprocs)
			t->skel->bss->py_nprocs--;
		return 0;
	}
	if (bpf_map_update_elem(fd, &key, off, BPF_ANY))
		return -errno;
	if (!had)
		t->skel->bss->py_nprocs++;
	return 0;
}

int tracer__stack(struct tracer *t, uint64_t stack_id, struct ms_stack *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stacks), &stack_id, out))
		return -ENOENT;
	if (out->nr > MS_MAX_FRAMES)
		out->nr = MS_MAX_FRAMES;
	return 0;
}

int tracer__counters(struct tracer *t, struct ms_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ms_counters *percpu;
	__u32 zero = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.counters), &zero, percpu)) {
		err = -errno;
		goto out;
	}
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (int i = 0; i < MS_C__NR; i++)
			out->c[i] += percpu[cpu].c[i];
out:
	free(percpu);
	return err;
}

static bool pid_in(uint32_t pid, const int *pids, int n)
{
	for (int i = 0; i < n; i++)
		if ((uint32_t)pids[i] == pid)
			return true;
	return false;
}

/* Delete every entry of a map whose key starts with a tgid in pids. */
static void purge_map(struct bpf_map *map, size_t key_size, const int *pids, int n)
{
	int fd = bpf_map__fd(map);
	uint8_t key[32], next[32];
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		uint32_t tgid;

		memcpy(&tgid, next, sizeof(tgid));
		if (pid_in(tgid, pids, n)) {
			/* keep the cursor on the previous key: the deleted one is gone */
			bpf_map_delete_elem(fd, next);
			continue;
		}
		memcpy(key, next, key_size);
		prev = key;
	}
}

void tracer__purge(struct tracer *t, const int *pids, int n)
{
	if (n <= 0)
		return;
	purge_map(t->skel->maps.allocs, sizeof(struct ms_alloc_key), pids, n);
	purge_map(t->skel->maps.mmaps, sizeof(struct ms_alloc_key), pids, n);
	purge_map(t->skel->maps.stats, sizeof(struct ms_stat_key), pids, n);
}

int tracer__watch(struct tracer *t, struct ms_task_rec **out)
{
	size_t cap = 256, n = 0;
	struct ms_task_rec *recs;
	ssize_t got;
	int fd, err = 0;

	*out = NULL;
	if (!t->skel->links.watch_task)
		return -ENOTSUP;
	fd = bpf_iter_create(bpf_link__fd(t->skel->links.watch_task));
	if (fd < 0)
		return -errno;
	recs = malloc(cap * sizeof(*recs));
	while (recs) {
		if (n == cap) {
			struct ms_task_rec *nr = realloc(recs, 2 * cap * sizeof(*recs));

			if (!nr) {
				err = -ENOMEM;
				break;
			}
			recs = nr;
			cap *= 2;
		}
		/* the iterator hands out whole records; read as many as fit */
		got = read(fd, recs + n, (cap - n) * sizeof(*recs));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (got == 0)
			break;
		n += got / sizeof(*recs);
	}
	close(fd);
	if (!recs)
		return -ENOMEM;
	if (err) {
		free(recs);
		return err;
	}
	*out = recs;
	return n;
}
