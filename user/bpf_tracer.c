// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpf_tracer.c - exact tracing: skeleton lifetime, per-process allocator uprobes, map readers */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_tracer.h"
#include "elfsym.h"
#include "log.h"
#include "memslope.skel.h"
#include "placement.h"
#include "procmaps.h"

/* One libc entry point: where to probe it and which programs run there. */
struct probe_spec {
	const char *sym;
	const char *enter;	/* program run at the entry site */
	const char *exit;	/* program run at the return, or NULL */
	unsigned int args;	/* argument registers the entry program reads */
};

/*
 * reallocarray is not probed: glibc (and musl) implement it as a call to realloc,
 * whose probes account for it. aligned_alloc and memalign share one address in
 * glibc; sites are deduplicated by address.
 */
static const struct probe_spec probe_specs[] = {
	{ "malloc", "malloc_enter", "malloc_exit", PL_RDI },
	{ "free", "free_enter", NULL, PL_RDI },
	{ "calloc", "calloc_enter", "calloc_exit", PL_RDI | PL_RSI },
	{ "realloc", "realloc_enter", "realloc_exit", PL_RDI | PL_RSI },
	{ "posix_memalign", "posix_memalign_enter", "posix_memalign_exit", PL_RDI | PL_RSI | PL_RDX },
	{ "aligned_alloc", "memalign_enter", "memalign_exit", PL_RDI | PL_RSI },
	{ "memalign", "memalign_enter", "memalign_exit", PL_RDI | PL_RSI },
	{ "valloc", "valloc_enter", "valloc_exit", PL_RDI },
	{ "pvalloc", "valloc_enter", "valloc_exit", PL_RDI },
	{ "mmap", "mmap_enter", "mmap_exit", PL_RDI | PL_RSI },
	{ "munmap", "munmap_enter", "munmap_exit", PL_RDI | PL_RSI },
	{ "mremap", "mremap_enter", "mremap_exit", PL_RDI | PL_RSI | PL_RDX },
};

#define NR_SPECS (sizeof(probe_specs) / sizeof(probe_specs[0]))
#define MAX_LINKS (2 * NR_SPECS)
#define MAX_CODE 512	/* bytes of a function decoded to place its probe */

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

struct target {
	int pid;
	dev_t dev;		/* the libc file probed; 0 when none */
	ino_t ino;
	int nlinks;
	struct bpf_link *links[MAX_LINKS];
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
};

void tracer_opts__default(struct tracer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_allocs = 1 << 18;
	o->max_stacks = 1 << 14;
	o->max_mmaps = 1 << 13;
	o->max_threads = 1 << 14;
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

static int on_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(struct ms_event))
		return 0;
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

	t->skel = memslope_bpf__open();
	if (!t->skel) {
		err = -errno;
		pr_err("cannot open BPF object: %s", strerror(-err));
		goto fail;
	}
	t->skel->rodata->probe_only = o->probe_only;
	bpf_map__set_max_entries(t->skel->maps.allocs, o->max_allocs);
	bpf_map__set_max_entries(t->skel->maps.stacks, o->max_stacks);
	bpf_map__set_max_entries(t->skel->maps.stats, o->max_stacks * 4);
	bpf_map__set_max_entries(t->skel->maps.mmaps, o->max_mmaps);
	bpf_map__set_max_entries(t->skel->maps.pending, o->max_threads);
	bpf_map__set_max_entries(t->skel->maps.events, pow2_at_least(o->ringbuf_bytes, 4096));

	err = memslope_bpf__load(t->skel);
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

static void target_detach(struct target *tg)
{
	for (int i = 0; i < tg->nlinks; i++)
		bpf_link__destroy(tg->links[i]);
	tg->nlinks = 0;
	tg->dev = 0;
	tg->ino = 0;
}

void tracer__free(struct tracer *t)
{
	struct target *tg, *ntg;
	struct libc_plan *p, *np;

	if (!t)
		return;
	for (tg = t->targets; tg; tg = ntg) {
		ntg = tg->next;
		target_detach(tg);
		free(tg);
	}
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
		uint8_t code[MAX_CODE];
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

static int attach_one(struct target *tg, const char *prog_name, struct bpf_object *obj, int pid,
		      const char *path, uint64_t off, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts, .retprobe = retprobe);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
	struct bpf_link *link;

	if (!prog)
		return -ENOENT;
	link = bpf_program__attach_uprobe_opts(prog, pid, path, off, &uopts);
	if (!link)
		return -errno;
	tg->links[tg->nlinks++] = link;
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

	maps = procmaps__read(tg->pid, &n);
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	libc = find_libc(maps, n);
	if (!libc) {
		err = -ENOENT;
		goto out;
	}
	snprintf(root, sizeof(root), "/proc/%d/root", tg->pid);
	snprintf(path, sizeof(path), "%s%s", root, libc->path);
	if (stat(path, &st)) {
		err = errno == ENOENT && kill(tg->pid, 0) ? -ESRCH : -errno;
		goto out;
	}
	if (tg->nlinks && tg->dev == st.st_dev && tg->ino == st.st_ino)
		goto out;	/* already probing this very file */
	target_detach(tg);

	plan = plan_get(t, path, st.st_dev, st.st_ino, root);
	if (!plan) {
		err = -ENOEXEC;
		goto out;
	}
	for (int i = 0; i < plan->nsites && !err; i++) {
		const struct site *s = &plan->sites[i];

		err = attach_one(tg, s->spec->enter, t->skel->obj, tg->pid, path, s->file_off, false);
		if (!err && s->spec->exit)
			err = attach_one(tg, s->spec->exit, t->skel->obj, tg->pid, path, s->file_off, true);
		if (err)
			pr_debug("attach %s to %d: %s", s->spec->sym, tg->pid, strerror(-err));
	}
	if (err) {
		target_detach(tg);
		if (kill(tg->pid, 0))
			err = -ESRCH;	/* it exited under us: normal, not a warning */
		goto out;
	}
	tg->dev = st.st_dev;
	tg->ino = st.st_ino;
	pr_info("attached %d probes to pid %d (%s) in %.1f ms", tg->nlinks, tg->pid, libc->path,
		now_ms() - t0);
out:
	procmaps__free(maps, n);
	return err;
}

int tracer__add(struct tracer *t, int pid)
{
	struct target *tg = target_find(t, pid);
	__u32 key = pid, flags = 0;

	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	if (!tg) {
		tg = calloc(1, sizeof(*tg));
		if (!tg)
			return -ENOMEM;
		tg->pid = pid;
		tg->next = t->targets;
		t->targets = tg;
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
	for (pp = &t->targets; (tg = *pp); pp = &tg->next) {
		if (tg->pid != pid)
			continue;
		*pp = tg->next;
		target_detach(tg);
		free(tg);
		return;
	}
}

bool tracer__attached(const struct tracer *t, int pid)
{
	const struct target *tg = target_find(t, pid);

	return tg && tg->nlinks > 0;
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
		fn(ctx, key.tgid, key.stack_id, &val);
	}
	return errno == ENOENT ? 0 : -errno;
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
