// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* symbolize.c - native symbolization: per-pid mapping snapshots over a shared ELF file cache */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "elfsym.h"
#include "log.h"
#include "procmaps.h"
#include "symbolize.h"

/* Per-pid result caches are dropped wholesale past this many entries to bound memory. */
#define FRAME_CACHE_MAX (1u << 20)

/*
 * Open-addressing hash table of pointers with linear probing. Entries hash
 * themselves (entry_hash) so the table can grow and delete by backward shift
 * without tombstones.
 */
struct htab {
	void **slots;
	size_t cap, len;
	uint64_t (*entry_hash)(const void *entry);
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Slot holding an entry that match()es key, or the empty slot where it would go. */
static void **htab__slot(struct htab *t, uint64_t hash, int (*match)(const void *, const void *),
			 const void *key)
{
	size_t i = hash & (t->cap - 1);

	while (t->slots[i] && !match(t->slots[i], key))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static int htab__grow(struct htab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64, i, j;
	void **slots;

	if (t->len * 2 < t->cap)
		return 0;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (!t->slots[i])
			continue;
		j = t->entry_hash(t->slots[i]) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

static void htab__remove(struct htab *t, void **slot)
{
	size_t i = slot - t->slots, j = i, home;

	t->slots[i] = NULL;
	t->len--;
	/* Backward shift: pull later entries of the probe run into the hole. */
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (!t->slots[j])
			return;
		home = t->entry_hash(t->slots[j]) & (t->cap - 1);
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

/* --- interned strings: live until symbolizer__free, whatever happens to files and pids --- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static uint64_t str_entry_hash(const void *e)
{
	return str_hash(e);
}

static int str_match(const void *e, const void *key)
{
	return !strcmp(e, key);
}

static const char *strpool__intern(struct htab *t, const char *s)
{
	void **slot;
	char *copy;

	if (!s)
		return NULL;
	if (htab__grow(t))
		return NULL;
	slot = htab__slot(t, str_hash(s), str_match, s);
	if (*slot)
		return *slot;
	copy = strdup(s);
	if (!copy)
		return NULL;
	*slot = copy;
	t->len++;
	return copy;
}

/* --- ELF files, shared across pids, keyed by the (device, inode) maps reports --- */

struct file_ent {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	struct elf_file *ef;	/* NULL when the file could not be opened (cached too) */
	const char *build_id;	/* interned */
	int refs;		/* snapshot mappings using it */
};

struct file_key {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
};

static uint64_t file_key_hash(uint32_t maj, uint32_t min, uint64_t ino)
{
	return mix64(((uint64_t)maj << 32 | min) ^ mix64(ino));
}

static uint64_t file_entry_hash(const void *e)
{
	const struct file_ent *f = e;

	return file_key_hash(f->dev_major, f->dev_minor, f->inode);
}

static int file_match(const void *e, const void *key)
{
	const struct file_ent *f = e;
	const struct file_key *k = key;

	return f->dev_major == k->dev_major && f->dev_minor == k->dev_minor && f->inode == k->inode;
}

/* --- per-pid snapshots --- */

struct smap {
	uint64_t start, end, offset;
	const char *module;	/* interned */
	struct file_ent *file;	/* executable file mappings only */
};

struct cache_ent {
	struct sym_frame f;
	int used;
	int code;	/* answered from an ELF file mapping: survives an unchanged re-snapshot */
};

struct snap {
	int pid;
	struct smap *maps;	/* sorted by start (as the kernel lists them) */
	size_t n;
	struct cache_ent *cache;	/* open addressing on addr */
	size_t cache_cap, cache_len;
};

static uint64_t snap_entry_hash(const void *e)
{
	return mix64((uint64_t)(uint32_t)((const struct snap *)e)->pid);
}

static int snap_match(const void *e, const void *key)
{
	return ((const struct snap *)e)->pid == *(const int *)key;
}

struct symbolizer {
	struct htab strs;
	struct htab files;
	struct htab snaps;
};

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->strs.entry_hash = str_entry_hash;
	s->files.entry_hash = file_entry_hash;
	s->snaps.entry_hash = snap_entry_hash;
	return s;
}

static void file_ent__put(struct symbolizer *s, struct file_ent *f)
{
	struct file_key k;

	if (!f || --f->refs > 0)
		return;
	/* Nothing maps it any more: every string handed out was interned, so it can go. */
	k = (struct file_key){ f->dev_major, f->dev_minor, f->inode };
	htab__remove(&s->files, htab__slot(&s->files, file_entry_hash(f), file_match, &k));
	elf_file__free(f->ef);
	free(f);
}

/*
 * Open the file behind an executable mapping through the process' own root so
 * that containers work; fall back to map_files when the path no longer names
 * the mapped inode (deleted, or replaced by an upgrade).
 */
static struct elf_file *file_open(int pid, const struct map_entry *e)
{
	char path[PATH_MAX + 64], root[64];
	struct elf_file *ef = NULL;
	struct stat st;
	int by_path;

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	snprintf(path, sizeof(path), "%s%s", root, e->path);
	/*
	 * Overlayfs reports the real file's inode in maps but its own device on
	 * stat(), so only the inode number is compared.
	 */
	by_path = !e->deleted && !stat(path, &st) && st.st_ino == e->inode;
	if (by_path) {
		ef = elf_file__open(path, root);
		if (ef)
			return ef;
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, e->start,
		 e->end);
	ef = elf_file__open(path, root);
	if (!ef)
		pr_debug("pid %d: cannot open %s: %s", pid, e->path, strerror(errno));
	return ef;
}

static struct file_ent *file_ent__get(struct symbolizer *s, int pid, const struct map_entry *e)
{
	struct file_key k = { e->dev_major, e->dev_minor, e->inode };
	struct file_ent *f;
	void **slot;

	if (htab__grow(&s->files))
		return NULL;
	slot = htab__slot(&s->files, file_key_hash(k.dev_major, k.dev_minor, k.inode), file_match, &k);
	if (*slot) {
		f = *slot;
		f->refs++;
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->dev_major = k.dev_major;
	f->dev_minor = k.dev_minor;
	f->inode = k.inode;
	f->refs = 1;
	f->ef = file_open(pid, e);
	if (f->ef)
		f->build_id = strpool__intern(&s->strs, elf_file__build_id(f->ef));
	*slot = f;
	s->files.len++;
	return f;
}

static void snap__clear_cache(struct snap *sn)
{
	free(sn->cache);
	sn->cache = NULL;
	sn->cache_cap = sn->cache_len = 0;
}

static void snap__drop_maps(struct symbolizer *s, struct snap *sn)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		file_ent__put(s, sn->maps[i].file);
	free(sn->maps);
	sn->maps = NULL;
	sn->n = 0;
}

/* Same executable file mappings (address, offset, file) in the same order? */
static int snap__same_code(const struct snap *sn, const struct smap *maps, size_t n)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < sn->n && !sn->maps[i].file)
			i++;
		while (j < n && !maps[j].file)
			j++;
		if (i == sn->n || j == n)
			return i == sn->n && j == n;
		if (sn->maps[i].start != maps[j].start || sn->maps[i].end != maps[j].end ||
		    sn->maps[i].offset != maps[j].offset || sn->maps[i].file != maps[j].file)
			return 0;
		i++;
		j++;
	}
}

static struct cache_ent *snap__cache_slot(struct snap *sn, uint64_t addr);

/*
 * Keep only answers that came from unchanged code mappings: an address that
 * was unmapped, anonymous or heap may belong to something else now.
 */
static void snap__keep_code_cache(struct snap *sn)
{
	struct cache_ent *old = sn->cache;
	size_t i, cap = sn->cache_cap;

	if (!old)
		return;
	sn->cache = calloc(cap, sizeof(*sn->cache));
	if (!sn->cache) {
		sn->cache = old;
		snap__clear_cache(sn);
		return;
	}
	sn->cache_len = 0;
	for (i = 0; i < cap; i++) {
		if (!old[i].used || !old[i].code)
			continue;
		*snap__cache_slot(sn, old[i].f.addr) = old[i];
		sn->cache_len++;
	}
	free(old);
}

static struct snap *snap__find(struct symbolizer *s, int pid)
{
	if (!s->snaps.cap)
		return NULL;
	return *htab__slot(&s->snaps, mix64((uint32_t)pid), snap_match, &pid);
}

static const char *module_name(struct symbolizer *s, const struct map_entry *e)
{
	if (!e->path[0])
		return strpool__intern(&s->strs, "[anon]");
	return strpool__intern(&s->strs, e->path);
}

int symbolizer__snapshot(struct symbolizer *s, int pid)
{
	struct map_entry *e;
	struct smap *maps;
	struct snap *sn;
	size_t n, i;
	void **slot;
	int err = 0;

	e = procmaps__read(pid, &n);
	if (!e)
		return -errno;	/* a vanished process keeps its previous snapshot */
	if (!n) {
		procmaps__free(e, n);
		return -ESRCH;	/* a zombie: no mappings left, keep what we had */
	}
	maps = calloc(n ? n : 1, sizeof(*maps));
	if (!maps) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		maps[i].start = e[i].start;
		maps[i].end = e[i].end;
		maps[i].offset = e[i].offset;
		maps[i].module = module_name(s, &e[i]);
		if (!maps[i].module) {
			err = -ENOMEM;
			break;
		}
		/* Only code is worth an ELF: data mappings of the same file symbolize to nothing. */
		if (e[i].path[0] == '/' && e[i].perms[2] == 'x' && e[i].inode) {
			maps[i].file = file_ent__get(s, pid, &e[i]);
			if (!maps[i].file) {
				err = -ENOMEM;
				break;
			}
		}
	}
	if (!err && htab__grow(&s->snaps))
		err = -ENOMEM;
	if (err) {
		while (i--)
			file_ent__put(s, maps[i].file);
		free(maps);
		goto cleanup;
	}

	slot = htab__slot(&s->snaps, mix64((uint32_t)pid), snap_match, &pid);
	sn = *slot;
	if (!sn) {
		sn = calloc(1, sizeof(*sn));
		if (!sn) {
			for (i = 0; i < n; i++)
				file_ent__put(s, maps[i].file);
			free(maps);
			err = -ENOMEM;
			goto cleanup;
		}
		sn->pid = pid;
		*slot = sn;
		s->snaps.len++;
	}
	/* Callers re-snapshot every interval: keep the cache unless the code moved. */
	if (snap__same_code(sn, maps, n))
		snap__keep_code_cache(sn);
	else
		snap__clear_cache(sn);
	/* New references were taken first, so files still mapped are not reopened. */
	snap__drop_maps(s, sn);
	sn->maps = maps;
	sn->n = n;
cleanup:
	procmaps__free(e, n);
	return err;
}

int symbolizer__inherit(struct symbolizer *s, int pid, int parent)
{
	struct snap *from = snap__find(s, parent), *sn;
	struct smap *maps;
	void **slot;

	if (snap__find(s, pid))
		return 0;
	if (!from)
		return -ENOENT;
	maps = calloc(from->n ? from->n : 1, sizeof(*maps));
	sn = calloc(1, sizeof(*sn));
	if (!maps || !sn || htab__grow(&s->snaps)) {
		free(maps);
		free(sn);
		return -ENOMEM;
	}
	memcpy(maps, from->maps, from->n * sizeof(*maps));
	for (size_t i = 0; i < from->n; i++)
		if (maps[i].file)
			maps[i].file->refs++;
	sn->pid = pid;
	sn->maps = maps;
	sn->n = from->n;
	slot = htab__slot(&s->snaps, mix64((uint32_t)pid), snap_match, &pid);
	*slot = sn;
	s->snaps.len++;
	return 0;
}

void symbolizer__forget(struct symbolizer *s, int pid)
{
	struct snap *sn;
	void **slot;

	if (!s || !s->snaps.cap)
		return;
	slot = htab__slot(&s->snaps, mix64((uint32_t)pid), snap_match, &pid);
	sn = *slot;
	if (!sn)
		return;
	htab__remove(&s->snaps, slot);
	snap__drop_maps(s, sn);
	snap__clear_cache(sn);
	free(sn);
}

static const struct smap *snap__lookup(const struct snap *sn, uint64_t addr)
{
	size_t lo = 0, hi = sn->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sn->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= sn->maps[lo - 1].end)
		return NULL;
	return &sn->maps[lo - 1];
}

static struct cache_ent *snap__cache_slot(struct snap *sn, uint64_t addr)
{
	size_t i = mix64(addr) & (sn->cache_cap - 1);

	while (sn->cache[i].used && sn->cache[i].f.addr != addr)
		i = (i + 1) & (sn->cache_cap - 1);
	return &sn->cache[i];
}

static void snap__cache_put(struct snap *sn, const struct sym_frame *f, int code)
{
	struct cache_ent *old, *c;
	size_t old_cap, i;

	if (sn->cache_len >= FRAME_CACHE_MAX)
		snap__clear_cache(sn);
	old = sn->cache;
	old_cap = sn->cache_cap;
	if ((sn->cache_len + 1) * 2 > sn->cache_cap) {
		size_t cap = sn->cache_cap ? sn->cache_cap * 2 : 256;

		sn->cache = calloc(cap, sizeof(*sn->cache));
		if (!sn->cache) {
			/* Caching is an optimization: on failure, keep the old table. */
			sn->cache = old;
			return;
		}
		sn->cache_cap = cap;
		for (i = 0; i < old_cap; i++)
			if (old[i].used)
				*snap__cache_slot(sn, old[i].f.addr) = old[i];
		free(old);
	}
	c = snap__cache_slot(sn, f->addr);
	c->f = *f;
	c->used = 1;
	c->code = code;
	sn->cache_len++;
}

/* Returns whether the answer came from an ELF file mapping. */
static int symbolize_uncached(struct symbolizer *s, const struct snap *sn, uint64_t addr,
			      struct sym_frame *out)
{
	const struct smap *m = snap__lookup(sn, addr);
	struct elf_file *ef;
	const char *name, *file;
	uint64_t vaddr, off = 0;
	int line;

	if (!m)
		return 0;
	out->module = m->module;
	if (!m->file)
		return 0;
	if (!m->file->ef)
		return 1;
	ef = m->file->ef;
	out->build_id = m->file->build_id;
	if (elf_file__runtime_to_vaddr(ef, m->start, m->offset, addr, &vaddr))
		return 1;
	name = elf_file__symbolize(ef, vaddr, &off);
	if (name) {
		out->func = strpool__intern(&s->strs, name);
		out->func_off = off;
	}
	if (!elf_file__line(ef, vaddr, &file, &line)) {
		out->file = strpool__intern(&s->strs, file);
		out->line = out->file ? line : 0;
	}
	return 1;
}

void symbolizer__symbolize(struct symbolizer *s, int pid, uint64_t addr, struct sym_frame *out)
{
	struct cache_ent *c;
	struct snap *sn;

	memset(out, 0, sizeof(*out));
	out->addr = addr;
	sn = snap__find(s, pid);
	if (!sn) {
		/*
		 * Never seen: take a snapshot now. If the process is gone, remember
		 * an empty one so that /proc is not asked again for every frame.
		 */
		if (symbolizer__snapshot(s, pid) && htab__grow(&s->snaps) == 0) {
			void **slot = htab__slot(&s->snaps, mix64((uint32_t)pid), snap_match, &pid);

			if (!*slot && (*slot = calloc(1, sizeof(struct snap)))) {
				((struct snap *)*slot)->pid = pid;
				s->snaps.len++;
			}
		}
		sn = snap__find(s, pid);
		if (!sn)
			return;
	}
	if (sn->cache_cap) {
		c = snap__cache_slot(sn, addr);
		if (c->used) {
			*out = c->f;
			return;
		}
	}
	snap__cache_put(sn, out, symbolize_uncached(s, sn, addr, out));
}

void symbolizer__free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->snaps.cap; i++) {
		struct snap *sn = s->snaps.slots[i];

		if (!sn)
			continue;
		snap__drop_maps(s, sn);
		snap__clear_cache(sn);
		free(sn);
	}
	/* Dropping the maps released every file; any left would be a refcount bug. */
	for (i = 0; i < s->files.cap; i++) {
		struct file_ent *f = s->files.slots[i];

		if (f) {
			elf_file__free(f->ef);
			free(f);
		}
	}
	for (i = 0; i < s->strs.cap; i++)
		free(s->strs.slots[i]);
	free(s->snaps.slots);
	free(s->files.slots);
	free(s->strs.slots);
	free(s);
}
