// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* python.c - CPython in a traced process: detection, layout for BPF, frame walk, symbolization */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "procmaps.h"
#include "python.h"

#define PY_MAX_INTERPS	 8	/* interpreters visited per walk */
#define PY_MAX_THREADS	 256	/* thread states visited per interpreter */
#define PY_MAX_STR	 4096	/* code points read from a name or file name */
#define PY_MAX_LINETABLE (1u << 20)
#define PY_WALK_LIMIT	 1024	/* frames followed before giving up on a (corrupt) chain */

/* glibc x86-64 struct pthread.tid, when libc's _thread_db_pthread_tid cannot be read. */
#define GLIBC_PTHREAD_TID_OFF 720

/* _Py_DebugOffsets (3.13): byte offsets of the fields read, inside _PyRuntime. */
#define DBG_COOKIE		 0
#define DBG_VERSION		 8
#define DBG_FREE_THREADED	 16
#define DBG_RT_INTERP_HEAD	 40
#define DBG_IS_NEXT		 64
#define DBG_IS_THREADS_HEAD	 72
#define DBG_IS_GIL_HOLDER	 144
#define DBG_TS_NEXT		 168
#define DBG_TS_INTERP		 176
#define DBG_TS_CURRENT_FRAME	 184
#define DBG_TS_THREAD_ID	 192
#define DBG_TS_NATIVE_TID	 200
#define DBG_IF_PREVIOUS		 232
#define DBG_IF_EXECUTABLE	 240
#define DBG_IF_INSTR_PTR	 248
#define DBG_IF_OWNER		 264
#define DBG_CO_FILENAME		 280
#define DBG_CO_NAME		 288
#define DBG_CO_QUALNAME		 296
#define DBG_CO_LINETABLE	 304
#define DBG_CO_FIRSTLINENO	 312
#define DBG_CO_ADAPTIVE		 344
#define DBG_UNICODE_STATE	 544
#define DBG_UNICODE_LENGTH	 552
#define DBG_UNICODE_ASCII_SIZE	 560
#define DBG_SIZE		 568	/* bytes read: through unicode_object */

/* ------------------------------------------------------------------------- */
/* Built-in layouts (x86-64, GIL builds), from the pyenv builds' DWARF; see PYTHON.md. */

int py_offsets_for(int minor, struct ms_py_offsets *o)
{
	memset(o, 0, sizeof(*o));
	o->unicode_state_off = 32;
	o->unicode_length_off = 16;
	o->bytes_size_off = 16;
	o->bytes_data_off = 32;
	o->interp_next_off = 0;
	o->tstate_next_off = 8;
	o->tstate_interp_off = 16;

	switch (minor) {
	case 9:
	case 10:
		o->flags = MS_PYF_FRAME_OBJECT | MS_PYF_PTHREAD_ID;
		o->runtime_interp_head_off = 32;
		o->gil_holder_off = 568;
		o->interp_threads_head_off = 8;
		o->tstate_thread_id_off = 176;
		o->tstate_frame_off = 24;
		o->frame_previous_off = 24;	/* f_back */
		o->frame_code_off = 32;		/* f_code */
		o->frame_instr_off = minor == 9 ? 104 : 96;	/* f_lasti */
		o->frame_read_size = o->frame_instr_off + 4;
		o->code_firstlineno_off = 40;
		o->code_filename_off = 104;
		o->code_name_off = 112;
		o->code_linetable_off = 120;
		o->unicode_ascii_data_off = 48;
		o->unicode_compact_data_off = 72;
		return 0;
	case 11:
		o->flags = MS_PYF_CFRAME;
		o->runtime_interp_head_off = 40;
		o->gil_holder_off = 576;
		o->interp_threads_head_off = 16;
		o->tstate_native_tid_off = 160;
		o->tstate_thread_id_off = 152;
		o->tstate_frame_off = 56;
		o->tstate_datastack_chunk_off = 296;
		o->tstate_datastack_top_off = 304;
		o->cframe_current_frame_off = 8;
		o->frame_code_off = 32;
		o->frame_previous_off = 48;
		o->frame_instr_off = 56;
		o->frame_owner_off = 69;
		o->frame_read_size = 72;
		o->code_firstlineno_off = 72;
		o->code_firsttraceable_off = 168;
		o->code_adaptive_off = 184;
		o->unicode_ascii_data_off = 48;
		o->unicode_compact_data_off = 72;
		break;
	case 12:
		o->flags = MS_PYF_CFRAME | MS_PYF_GIL_IN_INTERP | MS_PYF_CSTACK_SHIM;
		o->runtime_interp_head_off = 40;
		o->gil_holder_off = 1048;
		o->interp_threads_head_off = 72;
		o->tstate_native_tid_off = 144;
		o->tstate_thread_id_off = 136;
		o->tstate_frame_off = 56;
		o->tstate_datastack_chunk_off = 232;
		o->tstate_datastack_top_off = 240;
		o->cframe_current_frame_off = 0;
		o->frame_code_off = 0;
		o->frame_previous_off = 8;
		o->frame_instr_off = 56;
		o->frame_owner_off = 70;
		o->frame_read_size = 72;
		o->code_firstlineno_off = 68;
		o->code_firsttraceable_off = 176;
		o->code_adaptive_off = 192;
		o->unicode_ascii_data_off = 40;
		o->unicode_compact_data_off = 56;
		break;
	case 13:
		o->flags = MS_PYF_GIL_IN_INTERP | MS_PYF_CSTACK_SHIM;
		o->runtime_interp_head_off = 632;
		o->gil_holder_off = 7760;
		o->interp_next_off = 7264;
		o->interp_threads_head_off = 7344;
		o->tstate_native_tid_off = 160;
		o->tstate_thread_id_off = 152;
		o->tstate_frame_off = 72;
		o->tstate_datastack_chunk_off = 232;
		o->tstate_datastack_top_off = 240;
		o->frame_code_off = 0;
		o->frame_previous_off = 8;
		o->frame_instr_off = 56;
		o->frame_owner_off = 70;
		o->frame_read_size = 72;
		o->code_firstlineno_off = 68;
		o->code_firsttraceable_off = 184;
		o->code_adaptive_off = 200;
		o->unicode_ascii_data_off = 40;
		o->unicode_compact_data_off = 56;
		break;
	default:
		return -ENOTSUP;
	}
	o->code_filename_off = 112;
	o->code_name_off = 120;
	o->code_qualname_off = 128;
	o->code_linetable_off = 136;
	o->flags |= MS_PYF_DATASTACK;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Line tables */

int py_line_lnotab(const uint8_t *tab, size_t len, int firstlineno, int32_t lasti)
{
	int line = firstlineno;
	int64_t addr = 0;
	size_t i;

	/* Objects/lnotab_notes.txt: (address increment, signed line increment) pairs. */
	for (i = 0; i + 1 < len; i += 2) {
		addr += tab[i];
		if (addr > lasti)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line;
}

int py_line_310(const uint8_t *tab, size_t len, int firstlineno, int32_t lasti)
{
	int64_t addr = (int64_t)lasti * 2, start, end = 0;
	int line = firstlineno;
	size_t i;

	if (lasti < 0)
		return firstlineno;
	/*
	 * (end - start in bytes, signed line delta) pairs, each a range starting where the
	 * previous ended; a line delta of -128 means "no line" and leaves the line as is.
	 */
	for (i = 0; i + 1 < len; i += 2) {
		int ldelta = (int8_t)tab[i + 1];

		start = end;
		end += tab[i];
		if (ldelta != -128)
			line += ldelta;
		if (addr >= start && addr < end)
			return ldelta == -128 ? -1 : line;
	}
	return -1;
}

/* Varint of the 3.11 location table: 6 bits per byte, least significant first, bit 6 = more. */
static int scan_varint(const uint8_t *p, const uint8_t *lim, uint32_t *val)
{
	uint32_t v = 0, shift = 0;

	for (;;) {
		if (p >= lim || shift > 30)
			return -1;
		v |= (uint32_t)(*p & 63) << shift;
		if (!(*p++ & 64))
			break;
		shift += 6;
	}
	*val = v;
	return 0;
}

int py_line_311(const uint8_t *tab, size_t len, int firstlineno, int32_t lasti)
{
	const uint8_t *p = tab, *lim = tab + len;
	int64_t start = 0, end;
	int line = firstlineno;

	if (lasti < 0)
		return firstlineno;
	while (p < lim) {
		uint8_t b = *p;
		int code = (b >> 3) & 15, delta = 0;
		uint32_t v;

		/* Every entry starts with bit 7 set; continuation bytes never have it. */
		if (!(b & 128))
			return -1;
		if (code == 13 || code == 14) {	/* no-column and long forms: signed varint delta */
			if (scan_varint(p + 1, lim, &v))
				return -1;
			delta = (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
		} else if (code >= 10 && code <= 12) {	/* one-line forms */
			delta = code - 10;
		}
		line += delta;
		end = start + (b & 7) + 1;
		if (lasti < end)
			return code == 15 ? -1 : line;
		start = end;
		do
			p++;
		while (p < lim && !(*p & 128));
	}
	return -1;
}

int py_line(int minor, const uint8_t *tab, size_t len, int firstlineno, int32_t lasti)
{
	if (minor >= 11)
		return py_line_311(tab, len, firstlineno, lasti);
	if (minor == 10)
		return py_line_310(tab, len, firstlineno, lasti);
	return py_line_lnotab(tab, len, firstlineno, lasti);
}

size_t py_utf8_put(char *buf, uint32_t cp)
{
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		buf[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = 0xc0 | (cp >> 6);
		buf[1] = 0x80 | (cp & 63);
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = 0xe0 | (cp >> 12);
		buf[1] = 0x80 | ((cp >> 6) & 63);
		buf[2] = 0x80 | (cp & 63);
		return 3;
	}
	buf[0] = 0xf0 | (cp >> 18);
	buf[1] = 0x80 | ((cp >> 12) & 63);
	buf[2] = 0x80 | ((cp >> 6) & 63);
	buf[3] = 0x80 | (cp & 63);
	return 4;
}

/* ------------------------------------------------------------------------- */
/* ELF: data symbols (elfsym indexes functions only) */

struct elf_syms {
	const char *const *names;
	uint64_t *vaddr;	/* 0 when not found */
	size_t n;
	int type;		/* ET_EXEC / ET_DYN */
	uint64_t first_load;	/* p_vaddr of the first PT_LOAD, page-aligned */
};

static int elf_lib_ready;

static void scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct elf_syms *q)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, j, n;
	GElf_Sym sym;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		const char *name;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		for (j = 0; j < q->n; j++)
			if (!q->vaddr[j] && !strcmp(name, q->names[j]))
				q->vaddr[j] = sym.st_value;
	}
}

/* Look names up in path's .symtab, then .dynsym. Returns 0 or -errno (-ENOEXEC: not ELF). */
static int elf_lookup(const char *path, struct elf_syms *q)
{
	long pg = sysconf(_SC_PAGESIZE);
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	GElf_Shdr sh;
	Elf *elf = NULL;
	size_t i, nph;
	int fd, err = 0, pass;

	if (!elf_lib_ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -EINVAL;
		elf_lib_ready = 1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	q->type = eh.e_type;
	q->first_load = 0;
	if (!elf_getphdrnum(elf, &nph)) {
		for (i = 0; i < nph; i++) {
			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD) {
				q->first_load = ph.p_vaddr & ~(uint64_t)(pg - 1);
				break;
			}
		}
	}
	memset(q->vaddr, 0, q->n * sizeof(*q->vaddr));
	/* .symtab first (local symbols too), then .dynsym for what is still missing. */
	for (pass = 0; pass < 2; pass++) {
		scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (pass ? SHT_DYNSYM : SHT_SYMTAB))
				scan_symtab(elf, scn, &sh, q);
		}
	}
cleanup:
	elf_end(elf);
	close(fd);
	return err;
}

/* Open a file of pid's mappings: through its root, else through map_files (deleted files). */
static int proc_elf_lookup(int pid, const struct map_entry *m, struct elf_syms *q)
{
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, m->path);
	err = elf_lookup(path, q);
	if (err == -ENOENT || err == -EACCES || m->deleted) {
		snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		if (!elf_lookup(path, q))
			err = 0;
	}
	return err;
}

/* Load bias of m's file: start of its mapping at file offset 0 minus the first PT_LOAD. */
static uint64_t load_bias(const struct map_entry *e, size_t n, const struct map_entry *m,
			  const struct elf_syms *q)
{
	size_t i;

	if (q->type == ET_EXEC)
		return 0;
	for (i = 0; i < n; i++)
		if (e[i].offset == 0 && e[i].inode == m->inode && e[i].dev_major == m->dev_major &&
		    e[i].dev_minor == m->dev_minor && !strcmp(e[i].path, m->path))
			return e[i].start - q->first_load;
	return m->start - m->offset - q->first_load;
}

/* ------------------------------------------------------------------------- */
/* Process memory */

static int mem_read(struct pyrt *rt, uint64_t addr, void *buf, size_t len)
{
	ssize_t r;

	if (rt->mem_fd < 0)
		return -ESRCH;
	r = pread(rt->mem_fd, buf, len, (off_t)addr);
	if (r == (ssize_t)len)
		return 0;
	/* 0 bytes: the address space is gone (exited, zombie), so nothing is "stale". */
	if (r == 0 && len)
		return -ESRCH;
	if (r < 0 && errno != EIO && errno != EFAULT)
		return -errno;
	return kill(rt->pid, 0) && errno == ESRCH ? -ESRCH : -EFAULT;
}

static int mem_u64(struct pyrt *rt, uint64_t addr, uint64_t *v)
{
	return mem_read(rt, addr, v, sizeof(*v));
}

static int set_why(struct pyrt *rt, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_why(struct pyrt *rt, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rt->why, sizeof(rt->why), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * tid as the target's own pid namespace numbers it (last NSpid field): native_thread_id
 * and glibc's struct pthread.tid hold that value, /proc and BPF give ours.
 */
static int ns_tid(int pid, int tid)
{
	char path[64], line[256];
	int v = tid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (;;) {
			long x = strtol(p, &end, 10);

			if (end == p)
				break;
			v = (int)x;
			p = end;
		}
		break;
	}
	fclose(f);
	return v;
}

/* Threads of pid, as its own pid namespace numbers them. */
static int *read_tids(int pid, size_t *n)
{
	char path[64];
	struct dirent *d;
	int *tids = NULL, *t;
	size_t cap = 0;
	DIR *dir;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return NULL;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			t = realloc(tids, cap * sizeof(*tids));
			if (!t) {
				free(tids);
				closedir(dir);
				*n = 0;
				return NULL;
			}
			tids = t;
		}
		tids[(*n)++] = ns_tid(pid, atoi(d->d_name));
	}
	closedir(dir);
	return tids;
}

/* Kernel tid of a thread state, or -errno. */
static int tstate_tid(struct pyrt *rt, uint64_t ts)
{
	uint64_t v;
	int32_t tid;
	int err;

	if (!(rt->off.flags & MS_PYF_PTHREAD_ID)) {
		err = mem_u64(rt, ts + rt->off.tstate_native_tid_off, &v);
		return err ? err : (int)v;
	}
	/* thread_id is pthread_self(): glibc's struct pthread, which records the kernel tid. */
	err = mem_u64(rt, ts + rt->off.tstate_thread_id_off, &v);
	if (err)
		return err;
	err = mem_read(rt, v + rt->pthread_tid_off, &tid, sizeof(tid));
	return err ? err : tid;
}

/*
 * Visit every thread state (bounded): fn returns nonzero to stop, and that value is
 * returned. Thread states whose interp pointer is not their interpreter stop the walk with
 * -EPROTO (wrong layout). Returns 0 when all were visited, or -errno.
 */
static int for_each_tstate(struct pyrt *rt, int (*fn)(struct pyrt *, uint64_t, void *), void *arg)
{
	const struct ms_py_offsets *o = &rt->off;
	uint64_t is, ts, back;
	int i, j, err;

	err = mem_u64(rt, o->runtime_addr + o->runtime_interp_head_off, &is);
	for (i = 0; !err && is && i < PY_MAX_INTERPS; i++) {
		err = mem_u64(rt, is + o->interp_threads_head_off, &ts);
		for (j = 0; !err && ts && j < PY_MAX_THREADS; j++) {
			err = mem_u64(rt, ts + o->tstate_interp_off, &back);
			if (err)
				break;
			if (back != is)
				return -EPROTO;
			err = fn(rt, ts, arg);
			if (err)
				return err;
			err = mem_u64(rt, ts + o->tstate_next_off, &ts);
		}
		if (!err)
			err = mem_u64(rt, is + o->interp_next_off, &is);
	}
	return err;
}

struct tid_match {
	const int *tids;
	size_t ntids;
	int want;		/* find this tid (walk), or 0: any of tids (validation) */
	uint64_t tstate;
	int seen;
};

static int match_tstate(struct pyrt *rt, uint64_t ts, void *arg)
{
	struct tid_match *m = arg;
	size_t i;
	int tid;

	m->seen++;
	tid = tstate_tid(rt, ts);
	if (tid == -ESRCH)
		return tid;
	if (tid <= 0)
		return 0;	/* e.g. a thread state not bound to a thread yet */
	if (m->want) {
		if (tid != m->want)
			return 0;
	} else {
		for (i = 0; i < m->ntids && m->tids[i] != tid; i++)
			;
		if (i == m->ntids)
			return 0;
	}
	m->tstate = ts;
	return 1;
}

/* ------------------------------------------------------------------------- */
/* Caches: open addressing on the code address (0 is never a code object) */

struct code_ent {
	uint64_t addr;
	uint64_t ident;		/* ms_py_code_ident(): a new code object at addr differs */
	char *func, *file;
	int firstlineno;
	uint8_t *tab;
	size_t tablen;
};

struct line_ent {
	uint64_t addr;
	int32_t lasti;
	int line;
};

struct pyrt_cache {
	struct code_ent *codes;
	size_t ncodes, capcodes;	/* capcodes: 0 or a power of two */
	struct line_ent *lines;
	size_t nlines, caplines;
};

#define PY_MAX_LINES_CACHED (1u << 20)

static size_t hash64(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k & (cap - 1);
}

static struct code_ent *code_find(struct pyrt_cache *c, uint64_t addr)
{
	size_t i;

	if (!c->capcodes)
		return NULL;
	for (i = hash64(addr, c->capcodes); c->codes[i].addr; i = (i + 1) & (c->capcodes - 1))
		if (c->codes[i].addr == addr)
			return &c->codes[i];
	return NULL;
}

/* Insert a copy of ent (addr not present). Returns the stored entry, or NULL on ENOMEM. */
static struct code_ent *code_insert(struct pyrt_cache *c, const struct code_ent *ent)
{
	size_t i, j;

	if ((c->ncodes + 1) * 2 > c->capcodes) {
		size_t cap = c->capcodes ? c->capcodes * 2 : 64;
		struct code_ent *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (j = 0; j < c->capcodes; j++) {
			if (!c->codes[j].addr)
				continue;
			for (i = hash64(c->codes[j].addr, cap); t[i].addr; i = (i + 1) & (cap - 1))
				;
			t[i] = c->codes[j];
		}
		free(c->codes);
		c->codes = t;
		c->capcodes = cap;
	}
	for (i = hash64(ent->addr, c->capcodes); c->codes[i].addr; i = (i + 1) & (c->capcodes - 1))
		;
	c->codes[i] = *ent;
	c->ncodes++;
	return &c->codes[i];
}

static size_t line_hash(uint64_t addr, int32_t lasti, size_t cap)
{
	return hash64(addr ^ ((uint64_t)(uint32_t)lasti << 40) ^ (uint32_t)lasti, cap);
}

static struct line_ent *line_find(struct pyrt_cache *c, uint64_t addr, int32_t lasti)
{
	size_t i;

	if (!c->caplines)
		return NULL;
	for (i = line_hash(addr, lasti, c->caplines); c->lines[i].addr;
	     i = (i + 1) & (c->caplines - 1))
		if (c->lines[i].addr == addr && c->lines[i].lasti == lasti)
			return &c->lines[i];
	return NULL;
}

/* Remember a line; the cache only saves work, so failing to grow it is not an error. */
static void line_insert(struct pyrt_cache *c, uint64_t addr, int32_t lasti, int line)
{
	size_t i, j;

	if (c->nlines >= PY_MAX_LINES_CACHED) {
		memset(c->lines, 0, c->caplines * sizeof(*c->lines));
		c->nlines = 0;
	}
	if ((c->nlines + 1) * 2 > c->caplines) {
		size_t cap = c->caplines ? c->caplines * 2 : 256;
		struct line_ent *t = calloc(cap, sizeof(*t));

		if (!t)
			return;
		for (j = 0; j < c->caplines; j++) {
			const struct line_ent *l = &c->lines[j];

			if (!l->addr)
				continue;
			for (i = line_hash(l->addr, l->lasti, cap); t[i].addr; i = (i + 1) & (cap - 1))
				;
			t[i] = *l;
		}
		free(c->lines);
		c->lines = t;
		c->caplines = cap;
	}
	for (i = line_hash(addr, lasti, c->caplines); c->lines[i].addr;
	     i = (i + 1) & (c->caplines - 1))
		;
	c->lines[i] = (struct line_ent){ addr, lasti, line };
	c->nlines++;
}

static void cache_clear(struct pyrt_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->capcodes; i++) {
		free(c->codes[i].func);
		free(c->codes[i].file);
		free(c->codes[i].tab);
	}
	free(c->codes);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

void pyrt__flush(struct pyrt *rt)
{
	if (rt)
		cache_clear(rt->cache);
}

void pyrt__release(struct pyrt *rt)
{
	if (!rt)
		return;
	cache_clear(rt->cache);
	free(rt->cache);
	rt->cache = NULL;
	if (rt->mem_fd >= 0)
		close(rt->mem_fd);
	rt->mem_fd = -1;
	free(rt->path);
	rt->path = NULL;
}

/* ------------------------------------------------------------------------- */
/* Objects */

/* A compact str object as a malloc'd UTF-8 string. Returns 0 or -errno (-EPROTO: not compact). */
static int read_str(struct pyrt *rt, uint64_t obj, char **out)
{
	const struct ms_py_offsets *o = &rt->off;
	uint32_t state, kind, i;
	uint64_t len;
	uint8_t *raw = NULL;
	char *s = NULL, *p;
	int err;

	*out = NULL;
	if (!obj)
		return -EPROTO;
	err = mem_read(rt, obj + o->unicode_state_off, &state, sizeof(state));
	if (!err)
		err = mem_u64(rt, obj + o->unicode_length_off, &len);
	if (err)
		return err;
	kind = (state >> 2) & 7;
	if (!(state & (1u << 5)) || (kind != 1 && kind != 2 && kind != 4))
		return -EPROTO;	/* legacy (non-compact) strings are not code object names */
	if (len > PY_MAX_STR)
		len = PY_MAX_STR;
	raw = malloc(len * kind + 1);
	s = malloc(len * 4 + 1);
	if (!raw || !s) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = mem_read(rt, obj + ((state & (1u << 6)) ? o->unicode_ascii_data_off
						      : o->unicode_compact_data_off),
		       raw, len * kind);
	if (err)
		goto cleanup;
	for (i = 0, p = s; i < len; i++) {
		uint32_t cp;

		if (kind == 1) {
			cp = raw[i];
		} else if (kind == 2) {
			uint16_t u;

			memcpy(&u, raw + 2 * i, 2);
			cp = u;
		} else {
			memcpy(&cp, raw + 4 * i, 4);
		}
		p += py_utf8_put(p, cp);
	}
	*p = 0;
	*out = s;
	s = NULL;
cleanup:
	free(raw);
	free(s);
	return err;
}

/* A bytes object's contents, malloc'd. Returns 0 or -errno. */
static int read_bytes(struct pyrt *rt, uint64_t obj, uint8_t **out, size_t *len)
{
	uint64_t size;
	uint8_t *b;
	int err;

	*out = NULL;
	*len = 0;
	if (!obj)
		return -EPROTO;
	err = mem_u64(rt, obj + rt->off.bytes_size_off, &size);
	if (err)
		return err;
	if (size > PY_MAX_LINETABLE)
		return -EPROTO;
	b = malloc(size ? size : 1);
	if (!b)
		return -ENOMEM;
	err = mem_read(rt, obj + rt->off.bytes_data_off, b, size);
	if (err) {
		free(b);
		return err;
	}
	*out = b;
	*len = size;
	return 0;
}

/* The fields of a code object that identify it, read in one go. */
struct code_hdr {
	uint64_t type;		/* ob_type */
	uint64_t name, file, tab;	/* co_qualname (co_name before 3.11), co_filename, co_linetable */
	int32_t firstlineno;
	uint64_t ident;		/* ms_py_code_ident() of the above */
};

/*
 * Read the header fields of the object at addr. Returns 0, 1 when it is no code object
 * (wrong type, or unmapped: freed), or -errno.
 */
static int code_hdr_read(struct pyrt *rt, uint64_t addr, struct code_hdr *h)
{
	const struct ms_py_offsets *o = &rt->off;
	uint32_t name_off = o->code_qualname_off ? o->code_qualname_off : o->code_name_off;
	uint32_t end = 16, offs[4] = { name_off, o->code_filename_off, o->code_linetable_off,
				       o->code_firstlineno_off };
	uint8_t buf[512];
	int err;

	for (int i = 0; i < 4; i++)
		if (offs[i] + 8 > end)
			end = offs[i] + 8;
	if (end > sizeof(buf))
		return -EINVAL;
	err = mem_read(rt, addr, buf, end);
	if (err == -EFAULT)
		return 1;	/* freed and unmapped */
	if (err)
		return err;
	memcpy(&h->type, buf + 8, 8);
	if (h->type != o->pycode_type_addr)
		return 1;
	memcpy(&h->name, buf + name_off, 8);
	memcpy(&h->file, buf + o->code_filename_off, 8);
	memcpy(&h->tab, buf + o->code_linetable_off, 8);
	memcpy(&h->firstlineno, buf + o->code_firstlineno_off, 4);
	h->ident = ms_py_code_ident(h->file, h->name, h->tab, (uint32_t)h->firstlineno);
	return 0;
}

/*
 * Read and cache one code object, whose header h was just read. Returns 0, 1 when the
 * object is being torn down, or -errno.
 */
static int load_code(struct pyrt *rt, uint64_t addr, const struct code_hdr *h, struct code_ent **out)
{
	struct code_ent ent = { .addr = addr, .ident = h->ident, .firstlineno = h->firstlineno };
	int err;

	err = read_str(rt, h->name, &ent.func);
	if (!err)
		err = read_str(rt, h->file, &ent.file);
	if (!err)
		err = read_bytes(rt, h->tab, &ent.tab, &ent.tablen);
	if (err == -EPROTO || err == -EFAULT)
		err = 1;	/* changed under us: the object is being torn down */
	if (!err) {
		*out = code_insert(rt->cache, &ent);
		if (*out)
			return 0;
		err = -ENOMEM;
	}
	free(ent.func);
	free(ent.file);
	free(ent.tab);
	return err;
}

int pyrt__code_ident(struct pyrt *rt, uint64_t code_addr, uint64_t *ident)
{
	struct code_hdr h;
	int err;

	*ident = 0;
	err = code_addr ? code_hdr_read(rt, code_addr, &h) : 1;
	if (!err)
		*ident = h.ident;
	return err;
}

int pyrt__symbolize_as(struct pyrt *rt, uint64_t code_addr, int32_t lasti, uint64_t ident,
		       struct py_frame *out)
{
	struct code_ent *ce;
	struct code_hdr h;
	struct line_ent *le;
	int err, line;

	memset(out, 0, sizeof(*out));
	if (!rt->cache)
		return -EINVAL;
	if (ident == MS_PY_IDENT_NOT_CODE) {
		out->stale = 1;	/* no code object there when the frame was walked */
		return 0;
	}
	ce = code_find(rt->cache, code_addr);
	/*
	 * With the identity the walker recorded, a cached entry that carries it is the very
	 * code object that ran: no read at all. Without one, re-check the cached object when
	 * asked to (rt->verify).
	 */
	if (!ce || (ident ? ce->ident != ident : rt->verify)) {
		err = code_addr ? code_hdr_read(rt, code_addr, &h) : 1;
		if (err < 0)
			return err;
		if (ce && !err && h.ident == ce->ident) {
			if (ident) {
				out->stale = 1;	/* the cache is current: the code that ran is gone */
				return 0;
			}
		} else {
			if (ce)
				pyrt__flush(rt);	/* another code object now, or none */
			ce = NULL;
			if (err) {
				out->stale = 1;
				return 0;
			}
			err = load_code(rt, code_addr, &h, &ce);
			if (err < 0)
				return err;
			if (err) {
				out->stale = 1;
				return 0;
			}
		}
	}
	if (ident && ce->ident != ident) {
		out->stale = 1;	/* the code object at that address now is not the one that ran */
		return 0;
	}
	out->func = ce->func;
	out->file = ce->file;
	le = line_find(rt->cache, code_addr, lasti);
	if (le) {
		line = le->line;
	} else {
		line = py_line(rt->minor, ce->tab, ce->tablen, ce->firstlineno, lasti);
		if (line < 0)
			line = 0;
		line_insert(rt->cache, code_addr, lasti, line);
	}
	out->line = line;
	return 0;
}

int pyrt__symbolize(struct pyrt *rt, uint64_t code_addr, int32_t lasti, struct py_frame *out)
{
	return pyrt__symbolize_as(rt, code_addr, lasti, 0, out);
}

/* ------------------------------------------------------------------------- */
/* Frame walk (what the BPF walker does, for cross-checks) */

int pyrt__find_tstate(struct pyrt *rt, int tid, uint64_t *tstate)
{
	struct tid_match m = { .want = ns_tid(rt->pid, tid) };
	int err;

	err = for_each_tstate(rt, match_tstate, &m);
	if (err < 0)
		return err == -EPROTO ? -ENOENT : err;
	if (err != 1)
		return -ENOENT;
	*tstate = m.tstate;
	return 0;
}

int pyrt__gil_holder(struct pyrt *rt, uint64_t *tstate)
{
	const struct ms_py_offsets *o = &rt->off;
	uint64_t base = o->runtime_addr;
	int err;

	if (o->flags & MS_PYF_GIL_IN_INTERP) {
		err = mem_u64(rt, o->runtime_addr + o->runtime_interp_head_off, &base);
		if (err)
			return err;
		if (!base) {
			*tstate = 0;
			return 0;
		}
	}
	return mem_u64(rt, base + o->gil_holder_off, tstate);
}

/*
 * _PyRuntime._finalizing: set by Py_FinalizeEx before it tears anything down.
 * Offsets from the pyenv builds' DWARF (3.13: after the 584-byte _Py_DebugOffsets).
 */
int pyrt__finalizing(struct pyrt *rt)
{
	uint64_t off, v = 0;
	int err;

	switch (rt->minor) {
	case 9:
	case 10:
		off = 16;
		break;
	case 11:
	case 12:
		off = 24;
		break;
	case 13:
		off = 608;
		break;
	default:
		return -ENOTSUP;
	}
	err = mem_u64(rt, rt->off.runtime_addr + off, &v);
	return err ? err : v != 0;
}

int pyrt__walk_thread(struct pyrt *rt, int tid, struct py_raw_frame *frames, int max)
{
	const struct ms_py_offsets *o = &rt->off;
	uint8_t buf[128];
	uint64_t f, code, instr, ts;
	int n = 0, steps, err;

	if (o->frame_read_size > sizeof(buf))
		return -EINVAL;
	err = pyrt__find_tstate(rt, tid, &ts);
	if (err)
		return err;
	err = mem_u64(rt, ts + o->tstate_frame_off, &f);
	if (!err && f && (o->flags & MS_PYF_CFRAME))
		err = mem_u64(rt, f + o->cframe_current_frame_off, &f);
	for (steps = 0; !err && f && n < max && steps < PY_WALK_LIMIT; steps++) {
		err = mem_read(rt, f, buf, o->frame_read_size);
		if (err)
			break;
		memcpy(&code, buf + o->frame_code_off, 8);
		if (o->flags & MS_PYF_FRAME_OBJECT) {
			memcpy(&frames[n].lasti, buf + o->frame_instr_off, 4);
		} else {
			if ((o->flags & MS_PYF_CSTACK_SHIM) && buf[o->frame_owner_off] == MS_PY_OWNER_CSTACK)
				goto next;
			memcpy(&instr, buf + o->frame_instr_off, 8);
			frames[n].lasti = (int32_t)((int64_t)(instr - (code + o->code_adaptive_off)) / 2);
		}
		frames[n].code = code;
		frames[n].flags = 0;
		err = pyrt__code_ident(rt, code, &frames[n].ident);
		if (err > 0)
			err = 0;	/* not a code object: ident 0, as BPF leaves it */
		if (err)
			break;
		n++;
next:
		memcpy(&f, buf + o->frame_previous_off, 8);
	}
	return err ? err : n;
}

/* ------------------------------------------------------------------------- */
/* Detection */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Minor version from "libpython3.X..." or "python3.X..."; -1 when the name does not tell. */
static int minor_from_name(const char *base, int *free_threaded)
{
	const char *p = base;
	char *end;
	long v;

	if (!strncmp(p, "lib", 3))
		p += 3;
	if (strncmp(p, "python3.", 8))
		return -1;
	v = strtol(p + 8, &end, 10);
	if (end == p + 8 || v < 0 || v > 99)
		return -1;
	*free_threaded = *end == 't';	/* libpython3.13t.so: the free-threaded ABI */
	return (int)v;
}

/* glibc's struct pthread.tid offset in pid, from libc's libthread_db descriptor. */
static uint32_t pthread_tid_offset(struct pyrt *rt, const struct map_entry *e, size_t n)
{
	static const char *const names[] = { "_thread_db_pthread_tid" };
	const struct map_entry *libc;
	uint64_t vaddr[1];
	struct elf_syms q = { names, vaddr, 1, 0, 0 };
	uint32_t desc[3];	/* size in bits, count, offset */

	libc = procmaps__find(e, n, "libc.so.6");
	if (!libc)
		libc = procmaps__find(e, n, "libc-");
	if (!libc || proc_elf_lookup(rt->pid, libc, &q) || !vaddr[0])
		return GLIBC_PTHREAD_TID_OFF;
	if (mem_read(rt, load_bias(e, n, libc, &q) + vaddr[0], desc, sizeof(desc)) ||
	    desc[0] != 32 || desc[2] > 4096)
		return GLIBC_PTHREAD_TID_OFF;
	return desc[2];
}

static uint64_t dbg_u64(const uint8_t *d, size_t off)
{
	uint64_t v;

	memcpy(&v, d + off, sizeof(v));
	return v;
}

/* 3.13+: take the layout from _Py_DebugOffsets; the table fills what it does not carry. */
static int apply_debug_offsets(struct pyrt *rt)
{
	struct ms_py_offsets *o = &rt->off, table = *o;
	uint8_t d[DBG_SIZE];
	uint32_t last;
	int err;

	err = mem_read(rt, o->runtime_addr, d, sizeof(d));
	if (err)
		return err;
	if (memcmp(d + DBG_COOKIE, "xdebugpy", 8)) {
		pr_debug("python: pid %d: no _Py_DebugOffsets cookie, using the built-in 3.%d table",
			 rt->pid, rt->minor);
		return 0;
	}
	if (dbg_u64(d, DBG_FREE_THREADED))
		return set_why(rt, -ENOTSUP, "free-threaded CPython 3.%d build (%s) is not supported",
			       rt->minor, rt->path);
	if ((dbg_u64(d, DBG_VERSION) >> 16) != (uint64_t)(0x0300 | rt->minor))
		return set_why(rt, -ENOTSUP, "_Py_DebugOffsets version %#llx does not match 3.%d",
			       (unsigned long long)dbg_u64(d, DBG_VERSION), rt->minor);
	o->runtime_interp_head_off = dbg_u64(d, DBG_RT_INTERP_HEAD);
	o->interp_next_off = dbg_u64(d, DBG_IS_NEXT);
	o->interp_threads_head_off = dbg_u64(d, DBG_IS_THREADS_HEAD);
	o->gil_holder_off = dbg_u64(d, DBG_IS_GIL_HOLDER);
	o->tstate_next_off = dbg_u64(d, DBG_TS_NEXT);
	o->tstate_interp_off = dbg_u64(d, DBG_TS_INTERP);
	o->tstate_frame_off = dbg_u64(d, DBG_TS_CURRENT_FRAME);
	o->tstate_thread_id_off = dbg_u64(d, DBG_TS_THREAD_ID);
	o->tstate_native_tid_off = dbg_u64(d, DBG_TS_NATIVE_TID);
	o->frame_previous_off = dbg_u64(d, DBG_IF_PREVIOUS);
	o->frame_code_off = dbg_u64(d, DBG_IF_EXECUTABLE);
	o->frame_instr_off = dbg_u64(d, DBG_IF_INSTR_PTR);
	o->frame_owner_off = dbg_u64(d, DBG_IF_OWNER);
	o->code_filename_off = dbg_u64(d, DBG_CO_FILENAME);
	o->code_name_off = dbg_u64(d, DBG_CO_NAME);
	o->code_qualname_off = dbg_u64(d, DBG_CO_QUALNAME);
	o->code_linetable_off = dbg_u64(d, DBG_CO_LINETABLE);
	o->code_firstlineno_off = dbg_u64(d, DBG_CO_FIRSTLINENO);
	o->code_adaptive_off = dbg_u64(d, DBG_CO_ADAPTIVE);
	o->unicode_state_off = dbg_u64(d, DBG_UNICODE_STATE);
	o->unicode_length_off = dbg_u64(d, DBG_UNICODE_LENGTH);
	o->unicode_ascii_data_off = dbg_u64(d, DBG_UNICODE_ASCII_SIZE);
	o->flags |= MS_PYF_DEBUG_OFFSETS;
	/* One read must cover the last field read (8 bytes wide at most), rounded to 8. */
	last = o->frame_code_off;
	if (o->frame_previous_off > last)
		last = o->frame_previous_off;
	if (o->frame_instr_off > last)
		last = o->frame_instr_off;
	if (o->frame_owner_off > last)
		last = o->frame_owner_off;
	o->frame_read_size = (last + 8) & ~7u;
	/* Everything fits a frame header and a GIL build; anything else is a layout we do not know. */
	if (o->frame_read_size > 128 || o->frame_owner_off >= o->frame_read_size)
		return set_why(rt, -ENOTSUP, "unexpected _Py_DebugOffsets frame layout in 3.%d",
			       rt->minor);
	table.flags = o->flags;
	table.frame_read_size = o->frame_read_size;
	if (rt->minor == 13 && memcmp(&table, o, sizeof(*o)))
		pr_debug("python: pid %d: _Py_DebugOffsets differ from the 3.13 table", rt->pid);
	return 0;
}

/*
 * Bytes of a thread state the BPF walker reads in one go, from tstate_frame_off rounded down
 * to 8: up to the last of the thread id, the frame pointer and (MS_PYF_DATASTACK) the data
 * stack bounds, each 8-aligned from there. 0 when they do not fit its 512-byte buffer.
 */
static uint32_t tstate_read_size(const struct ms_py_offsets *o)
{
	uint32_t base = o->tstate_frame_off & ~7u, end = 0, offs[3], n = 1;

	if (o->tstate_frame_off & 7)
		return 0;
	offs[0] = (o->flags & MS_PYF_PTHREAD_ID) ? o->tstate_thread_id_off : o->tstate_native_tid_off;
	if (o->flags & MS_PYF_DATASTACK) {
		offs[n++] = o->tstate_datastack_chunk_off;
		offs[n++] = o->tstate_datastack_top_off;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (offs[i] < base || ((offs[i] - base) & 7))
			return 0;
		if (offs[i] + 8 > end)
			end = offs[i] + 8;
	}
	if (o->tstate_frame_off + 8 > end)
		end = o->tstate_frame_off + 8;
	return end - base <= 512 ? end - base : 0;
}

/*
 * Bytes from a code object's start that the BPF walker reads for its identity
 * (MS_PYF_CODE_IDENT): through ob_type and the fields ms_py_code_ident mixes, each aligned
 * to its size. 0 when they do not fit its 256-byte buffer.
 */
static uint32_t code_read_size(const struct ms_py_offsets *o)
{
	uint32_t name_off = o->code_qualname_off ? o->code_qualname_off : o->code_name_off;
	uint32_t offs[3] = { name_off, o->code_filename_off, o->code_linetable_off }, end = 16;

	if (!o->code_firstlineno_off || (o->code_firstlineno_off & 3))
		return 0;
	if (o->code_firstlineno_off + 4 > end)
		end = o->code_firstlineno_off + 4;
	for (int i = 0; i < 3; i++) {
		if (!offs[i] || (offs[i] & 7))
			return 0;
		if (offs[i] + 8 > end)
			end = offs[i] + 8;
	}
	return end <= 256 ? end : 0;
}

static int detect_in(struct pyrt *rt, const struct map_entry *e, size_t n, const struct map_entry *m)
{
	static const char *const names[] = { "_PyRuntime", "PyCode_Type", "Py_Version" };
	uint64_t vaddr[3];
	struct elf_syms q = { names, vaddr, 3, 0, 0 };
	uint32_t hex = 0;
	int err, ft = 0, name_minor;

	err = proc_elf_lookup(rt->pid, m, &q);
	if (err)
		return err;
	if (!vaddr[0])
		return -ENOENT;
	rt->path = strdup(m->path);
	if (!rt->path)
		return -ENOMEM;
	rt->bias = load_bias(e, n, m, &q);
	rt->major = 3;
	name_minor = minor_from_name(base_name(m->path), &ft);
	if (vaddr[2]) {
		err = mem_read(rt, rt->bias + vaddr[2], &hex, sizeof(hex));
		if (err)
			return err;
		if ((hex >> 24) != 3)
			return set_why(rt, -ENOTSUP, "unexpected Py_Version %#x in %s", hex, m->path);
		rt->minor = (hex >> 16) & 0xff;
	} else if (name_minor >= 0) {
		rt->minor = name_minor;
		hex = 0x03000000u | (uint32_t)name_minor << 16;
	} else {
		return set_why(rt, -ENOTSUP, "cannot tell the CPython version of %s", m->path);
	}
	if (ft)
		return set_why(rt, -ENOTSUP, "free-threaded CPython 3.%d build (%s) is not supported",
			       rt->minor, m->path);
	if (py_offsets_for(rt->minor, &rt->off))
		return set_why(rt, -ENOTSUP, "CPython 3.%d (%s) is not supported (3.9-3.13 are)",
			       rt->minor, m->path);
	rt->off.version = hex;
	rt->off.runtime_addr = rt->bias + vaddr[0];
	rt->off.pycode_type_addr = vaddr[1] ? rt->bias + vaddr[1] : 0;
	if (!vaddr[1])
		return set_why(rt, -ENOTSUP, "no PyCode_Type symbol in %s", m->path);
	if (rt->minor >= 13) {
		err = apply_debug_offsets(rt);
		if (err)
			return err;
	}
	if (rt->off.flags & MS_PYF_PTHREAD_ID)
		rt->pthread_tid_off = pthread_tid_offset(rt, e, n);
	rt->off.code_read_size = code_read_size(&rt->off);
	if (rt->off.code_read_size)
		rt->off.flags |= MS_PYF_CODE_IDENT;
	rt->off.tstate_read_size = tstate_read_size(&rt->off);
	if (!rt->off.tstate_read_size) {
		rt->off.flags &= ~MS_PYF_DATASTACK;	/* frames read one by one then */
		rt->off.tstate_read_size = tstate_read_size(&rt->off);
	}
	if (!rt->off.tstate_read_size)
		return set_why(rt, -ENOTSUP, "unexpected CPython 3.%d thread state layout in %s",
			       rt->minor, m->path);
	return 0;
}

static int validate(struct pyrt *rt)
{
	struct tid_match m = { 0 };
	int err;

	m.tids = read_tids(rt->pid, &m.ntids);
	if (!m.tids)
		return -ESRCH;
	err = for_each_tstate(rt, match_tstate, &m);
	free((void *)m.tids);
	if (err == 1)
		return 0;
	if (err == -ESRCH)
		return err;
	if (err == -EPROTO || (err && m.seen))
		return set_why(rt, -ENOTSUP,
			       "CPython 3.%d layout check failed in %s (thread states do not link back)",
			       rt->minor, rt->path);
	if (m.seen)
		return set_why(rt, -ENOTSUP,
			       "CPython 3.%d layout check failed in %s (no thread state of pid %d)",
			       rt->minor, rt->path, rt->pid);
	return set_why(rt, -EAGAIN, "CPython 3.%d in %s has no thread state yet", rt->minor,
		       rt->path);
}

int pyrt__detect(int pid, struct pyrt *out)
{
	struct map_entry *e;
	size_t n, i;
	char path[64];
	int err = -ENOENT;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->mem_fd = -1;
	e = procmaps__read(pid, &n);
	if (!e)
		return errno == ENOENT ? -ESRCH : -errno;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	out->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (out->mem_fd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		const char *b = base_name(e[i].path);
		size_t j;

		if (e[i].path[0] != '/' ||
		    (strncmp(b, "libpython3", 10) && strncmp(b, "python3", 7)))
			continue;
		for (j = 0; j < i && strcmp(e[j].path, e[i].path); j++)
			;
		if (j < i)
			continue;	/* this file was tried already */
		err = detect_in(out, e, n, &e[i]);
		if (err != -ENOENT && err != -ENOEXEC)
			break;
		free(out->path);
		out->path = NULL;
		err = -ENOENT;
	}
	if (!err)
		err = validate(out);
cleanup:
	procmaps__free(e, n);
	if (err) {
		if (err == -ENOENT && !out->why[0])
			set_why(out, err, "no CPython runtime in pid %d", pid);
		if (out->mem_fd >= 0)
			close(out->mem_fd);
		out->mem_fd = -1;
		free(out->path);
		out->path = NULL;
		return err;
	}
	out->cache = calloc(1, sizeof(*out->cache));
	if (!out->cache) {
		pyrt__release(out);
		return -ENOMEM;
	}
	pr_debug("python: pid %d: CPython %d.%d (%#x) in %s, _PyRuntime at %#llx", pid, out->major,
		 out->minor, out->off.version, out->path,
		 (unsigned long long)out->off.runtime_addr);
	return 0;
}
