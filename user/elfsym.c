// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* elfsym.c - one ELF file: function symbols, build-id, separate debug file, load bias, DWARF lines */
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "elfsym.h"
#include "log.h"

struct elf_sym {
	uint64_t addr;
	uint64_t size;
	uint64_t end;		/* exclusive end used for lookups (see elf_file__index) */
	const char *name;	/* points into the mapped string table of the ELF it came from */
	int rank;		/* lower is preferred among aliases of one address */
};

struct elf_seg {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;
};

struct cu_range {
	uint64_t lo, hi;
	Dwarf_Off off;
};

struct elf_file {
	char *path;
	Elf *elf;		/* main file, mmapped; its fd is already closed */
	Elf *dbg_elf;		/* separate debug file or NULL */
	char *debug_path;
	char *build_id;
	uint16_t type;
	struct elf_seg *segs;
	size_t nsegs;
	struct elf_sym *syms;	/* every function symbol, by address then preference */
	size_t nsyms;
	struct elf_sym *uniq;	/* one entry per address: the preferred name */
	size_t nuniq;
	Elf *dwarf_elf;		/* whichever file carries .debug_info, or NULL */
	Dwarf *dw;
	int dw_tried;
	struct cu_range *cus;	/* fallback address index when .debug_aranges is missing */
	size_t ncus;
	int cus_built;
};

static int elf_lib_ready;

/*
 * Map an ELF file and close its descriptor at once: a daemon may hold hundreds
 * of files and should not hold two descriptors for each.
 */
static Elf *elf_map(const char *path, int *err)
{
	Elf *elf;
	int fd;

	if (!elf_lib_ready) {
		if (elf_version(EV_CURRENT) == EV_NONE) {
			*err = EINVAL;
			return NULL;
		}
		elf_lib_ready = 1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		close(fd);
		*err = ENOEXEC;
		return NULL;
	}
	/*
	 * FDREAD reads the file into memory only if mmap failed, then marks the
	 * descriptor unused: closing it cannot break later section reads.
	 */
	if (elf_cntl(elf, ELF_C_FDREAD)) {
		elf_end(elf);
		close(fd);
		*err = EIO;
		return NULL;
	}
	close(fd);
	return elf;
}

static Elf_Scn *elf_find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	const char *sname;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, shdr))
			continue;
		sname = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (sname && !strcmp(sname, name))
			return scn;
	}
	return NULL;
}

static Elf_Scn *elf_find_type(Elf *elf, uint32_t type, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, shdr) && shdr->sh_type == type)
			return scn;
	return NULL;
}

static int elf_has_dwarf(Elf *elf)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;

	scn = elf_find_section(elf, ".debug_info", &shdr);
	if (!scn)
		scn = elf_find_section(elf, ".zdebug_info", &shdr);
	/* --only-keep-debug leaves NOBITS stubs behind in the other direction too. */
	return scn && shdr.sh_type != SHT_NOBITS;
}

static char *elf_build_id_hex(Elf *elf)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *id;
	const void *p;
	ssize_t len, i;
	char *s;

	len = dwelf_elf_gnu_build_id(elf, &p);
	if (len <= 0)
		return NULL;
	id = p;
	s = malloc(len * 2 + 1);
	if (!s)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = hex[id[i] >> 4];
		s[2 * i + 1] = hex[id[i] & 15];
	}
	s[2 * len] = 0;
	return s;
}

static int file_crc32(const char *path, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, Z_NULL, 0);
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		c = crc32(c, buf, r);
	close(fd);
	if (r < 0)
		return -EIO;
	*crc = c;
	return 0;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Adopt candidate as the debug file if it opens as ELF and passes check(). */
static int debug_try(struct elf_file *ef, const char *cand, const uint32_t *crc)
{
	uint32_t got;
	char *bid;
	Elf *elf;
	int err, ok;

	if (access(cand, R_OK) || same_file(cand, ef->path))
		return 0;
	if (crc) {
		/* A stale debug file would give wrong lines: the CRC is the only guard debuglink has. */
		if (file_crc32(cand, &got) || got != *crc) {
			pr_debug("debug file %s: crc mismatch, ignored", cand);
			return 0;
		}
	}
	elf = elf_map(cand, &err);
	if (!elf)
		return 0;
	if (!crc && ef->build_id) {
		bid = elf_build_id_hex(elf);
		ok = bid && !strcmp(bid, ef->build_id);
		free(bid);
		if (!ok) {
			elf_end(elf);
			return 0;
		}
	}
	ef->debug_path = strdup(cand);
	if (!ef->debug_path) {
		elf_end(elf);
		return -ENOMEM;
	}
	ef->dbg_elf = elf;
	return 1;
}

static int elf_file__find_debug(struct elf_file *ef, const char *root)
{
	const char *link, *rel;
	char *cand = NULL, *dir;
	GElf_Word crc;
	uint32_t crc32v;
	size_t rootlen = strlen(root);
	int r = 0;

	if (ef->build_id && strlen(ef->build_id) > 2) {
		if (asprintf(&cand, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, ef->build_id,
			     ef->build_id + 2) < 0)
			return -ENOMEM;
		r = debug_try(ef, cand, NULL);
		free(cand);
		if (r)
			return r < 0 ? r : 0;
	}
	link = dwelf_elf_gnu_debuglink(ef->elf, &crc);
	if (!link)
		return 0;
	crc32v = crc;
	dir = strrchr(ef->path, '/') ? strndup(ef->path, strrchr(ef->path, '/') - ef->path) : strdup(".");
	if (!dir)
		return -ENOMEM;
	/* Under /usr/lib/debug the directory is the one the process sees, not ours. */
	rel = dir;
	if (rootlen && !strncmp(dir, root, rootlen))
		rel = dir + rootlen;
	for (int i = 0; i < 3 && !r; i++) {
		int len;

		if (i == 0)
			len = asprintf(&cand, "%s/%s", dir, link);
		else if (i == 1)
			len = asprintf(&cand, "%s/.debug/%s", dir, link);
		else
			len = asprintf(&cand, "%s/usr/lib/debug%s/%s", root, rel, link);
		if (len < 0) {
			r = -ENOMEM;
			break;
		}
		r = debug_try(ef, cand, &crc32v);
		free(cand);
	}
	free(dir);
	return r < 0 ? r : 0;
}

static int sym_rank(const GElf_Sym *sym)
{
	int r;

	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		r = 0;
		break;
	case STB_WEAK:
		r = 2;
		break;
	default:
		r = 4;
		break;
	}
	/* An IFUNC symbol names its resolver, a worse name than a plain function at the same place. */
	if (GELF_ST_TYPE(sym->st_info) == STT_GNU_IFUNC)
		r++;
	return r;
}

static int leading_underscores(const char *s)
{
	int n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* Total order so that the name chosen for an address never depends on symbol table order. */
static int sym_cmp(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;
	size_t lx, ly;
	int ux, uy;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	ux = leading_underscores(x->name);
	uy = leading_underscores(y->name);
	if (ux != uy)
		return ux - uy;
	lx = strlen(x->name);
	ly = strlen(y->name);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int elf_file__load_syms(struct elf_file *ef, Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr)
{
	size_t i, j, n, cnt = 0;
	GElf_Shdr sec;
	Elf_Data *data;
	GElf_Sym sym;
	const char *name;
	uint64_t next;

	data = elf_getdata(scn, NULL);
	if (!data || !shdr->sh_entsize)
		return 0;
	n = shdr->sh_size / shdr->sh_entsize;
	ef->syms = calloc(n ? n : 1, sizeof(*ef->syms));
	if (!ef->syms)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(data, i, &sym))
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE || !sym.st_value)
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		ef->syms[cnt].addr = sym.st_value;
		ef->syms[cnt].size = sym.st_size;
		ef->syms[cnt].name = name;
		ef->syms[cnt].rank = sym_rank(&sym);
		/*
		 * A zero-size symbol (hand-written assembly) extends to the next
		 * symbol, but never past the end of its section.
		 */
		ef->syms[cnt].end = sym.st_value + sym.st_size;
		if (!sym.st_size) {
			Elf_Scn *s = elf_getscn(elf, sym.st_shndx);

			ef->syms[cnt].end = UINT64_MAX;
			if (s && gelf_getshdr(s, &sec) && sec.sh_addr <= sym.st_value)
				ef->syms[cnt].end = sec.sh_addr + sec.sh_size;
		}
		cnt++;
	}
	ef->nsyms = cnt;
	qsort(ef->syms, cnt, sizeof(*ef->syms), sym_cmp);

	ef->uniq = calloc(cnt ? cnt : 1, sizeof(*ef->uniq));
	if (!ef->uniq)
		return -ENOMEM;
	for (i = 0; i < cnt; i = j) {
		struct elf_sym u = ef->syms[i];

		/* Aliases share one address: keep the preferred name and the largest extent. */
		for (j = i + 1; j < cnt && ef->syms[j].addr == u.addr; j++)
			if (ef->syms[j].size > u.size)
				u.size = ef->syms[j].size;
		if (u.size)
			u.end = u.addr + u.size;
		ef->uniq[ef->nuniq++] = u;
	}
	for (i = 0; i < ef->nuniq; i++) {
		if (ef->uniq[i].size)
			continue;
		next = i + 1 < ef->nuniq ? ef->uniq[i + 1].addr : UINT64_MAX;
		if (next < ef->uniq[i].end)
			ef->uniq[i].end = next;
	}
	return 0;
}

static int elf_file__index(struct elf_file *ef)
{
	Elf *elf = ef->elf;
	GElf_Shdr shdr;
	GElf_Phdr phdr;
	Elf_Scn *scn;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		n = 0;
	ef->segs = calloc(n ? n : 1, sizeof(*ef->segs));
	if (!ef->segs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		ef->segs[ef->nsegs++] = (struct elf_seg){ phdr.p_vaddr, phdr.p_memsz, phdr.p_offset,
							 phdr.p_filesz, phdr.p_flags };
	}

	/* Prefer the full .symtab: of the main file, then of the debug file, then .dynsym. */
	scn = elf_find_type(elf, SHT_SYMTAB, &shdr);
	if (!scn && ef->dbg_elf) {
		scn = elf_find_type(ef->dbg_elf, SHT_SYMTAB, &shdr);
		if (scn)
			elf = ef->dbg_elf;
	}
	if (!scn) {
		elf = ef->elf;
		scn = elf_find_type(elf, SHT_DYNSYM, &shdr);
	}
	if (scn)
		return elf_file__load_syms(ef, elf, scn, &shdr);
	return 0;
}

struct elf_file *elf_file__open(const char *path, const char *root)
{
	struct elf_file *ef;
	GElf_Ehdr ehdr;
	GElf_Shdr shdr;
	int err = 0;

	if (!root)
		root = "";
	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return NULL;
	ef->path = strdup(path);
	if (!ef->path) {
		err = ENOMEM;
		goto cleanup;
	}
	ef->elf = elf_map(path, &err);
	if (!ef->elf)
		goto cleanup;
	if (!gelf_getehdr(ef->elf, &ehdr)) {
		err = ENOEXEC;
		goto cleanup;
	}
	ef->type = ehdr.e_type;
	ef->build_id = elf_build_id_hex(ef->elf);

	/* The separate debug file is opened now, while root still reaches it (the process may exit). */
	if (!elf_find_type(ef->elf, SHT_SYMTAB, &shdr) || !elf_has_dwarf(ef->elf)) {
		err = -elf_file__find_debug(ef, root);
		if (err)
			goto cleanup;
	}
	if (elf_has_dwarf(ef->elf))
		ef->dwarf_elf = ef->elf;
	else if (ef->dbg_elf && elf_has_dwarf(ef->dbg_elf))
		ef->dwarf_elf = ef->dbg_elf;

	err = -elf_file__index(ef);
cleanup:
	if (err) {
		elf_file__free(ef);
		errno = err;
		return NULL;
	}
	return ef;
}

void elf_file__free(struct elf_file *ef)
{
	if (!ef)
		return;
	if (ef->dw)
		dwarf_end(ef->dw);
	free(ef->cus);
	free(ef->syms);
	free(ef->uniq);
	free(ef->segs);
	elf_end(ef->dbg_elf);
	elf_end(ef->elf);
	free(ef->debug_path);
	free(ef->build_id);
	free(ef->path);
	free(ef);
}

bool elf_file__is_pie(const struct elf_file *ef)
{
	return ef->type == ET_DYN;
}

const char *elf_file__build_id(const struct elf_file *ef)
{
	return ef->build_id;
}

const char *elf_file__debug_path(const struct elf_file *ef)
{
	return ef->debug_path;
}

int elf_file__find_func(const struct elf_file *ef, const char *name, uint64_t *vaddr, uint64_t *size)
{
	const struct elf_sym *best = NULL;
	size_t i;

	for (i = 0; i < ef->nsyms; i++) {
		if (strcmp(ef->syms[i].name, name))
			continue;
		if (!best || ef->syms[i].rank < best->rank)
			best = &ef->syms[i];
	}
	if (!best)
		return -ENOENT;
	if (vaddr)
		*vaddr = best->addr;
	if (size)
		*size = best->size;
	return 0;
}

int elf_file__vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *off)
{
	size_t i;

	for (i = 0; i < ef->nsegs; i++) {
		const struct elf_seg *s = &ef->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*off = vaddr - s->vaddr + s->offset;
			return 0;
		}
	}
	return -ENOENT;
}

long elf_file__read(const struct elf_file *ef, uint64_t vaddr, void *buf, size_t len)
{
	const char *image;
	size_t size, i;

	image = elf_rawfile(ef->elf, &size);
	if (!image)
		return -EIO;
	for (i = 0; i < ef->nsegs; i++) {
		const struct elf_seg *s = &ef->segs[i];
		uint64_t off, avail;

		if (vaddr < s->vaddr || vaddr - s->vaddr >= s->filesz)
			continue;
		off = vaddr - s->vaddr + s->offset;
		/* Stop at the segment's end: beyond it the file holds unrelated bytes. */
		avail = s->filesz - (vaddr - s->vaddr);
		if (off >= size)
			return -EIO;
		if (avail > size - off)
			avail = size - off;
		if (len > avail)
			len = avail;
		memcpy(buf, image + off, len);
		return len;
	}
	return -ENOENT;
}

uint64_t elf_addr_to_vaddr(uint64_t addr, uint64_t map_start, uint64_t map_offset, uint64_t seg_vaddr,
			   uint64_t seg_offset)
{
	/* Unsigned wrap-around is intended: the terms may individually underflow. */
	return addr - map_start + map_offset - seg_offset + seg_vaddr;
}

int elf_file__runtime_to_vaddr(const struct elf_file *ef, uint64_t map_start, uint64_t map_offset,
			       uint64_t addr, uint64_t *vaddr)
{
	uint64_t foff;
	size_t i;

	if (addr < map_start)
		return -ENOENT;
	foff = addr - map_start + map_offset;
	for (i = 0; i < ef->nsegs; i++) {
		const struct elf_seg *s = &ef->segs[i];

		if (foff >= s->offset && foff - s->offset < s->filesz) {
			*vaddr = elf_addr_to_vaddr(addr, map_start, map_offset, s->vaddr, s->offset);
			return 0;
		}
	}
	return -ENOENT;
}

const char *elf_file__symbolize(const struct elf_file *ef, uint64_t vaddr, uint64_t *sym_off)
{
	size_t lo = 0, hi = ef->nuniq;
	const struct elf_sym *s;

	/* Find the last symbol starting at or below vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ef->uniq[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &ef->uniq[lo - 1];
	if (vaddr >= s->end)
		return NULL;
	if (sym_off)
		*sym_off = vaddr - s->addr;
	return s->name;
}

static int cu_cmp(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Producers such as clang omit .debug_aranges; index the CUs' own ranges instead. */
static int elf_file__build_cus(struct elf_file *ef)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Addr base, start, end;
	Dwarf_Die cudie;
	size_t cap = 0;
	ptrdiff_t off;

	ef->cus_built = 1;
	while (!dwarf_get_units(ef->dw, cu, &next, NULL, NULL, &cudie, NULL)) {
		cu = next;
		off = 0;
		while ((off = dwarf_ranges(&cudie, off, &base, &start, &end)) > 0) {
			if (ef->ncus == cap) {
				struct cu_range *tmp;

				cap = cap ? cap * 2 : 64;
				tmp = realloc(ef->cus, cap * sizeof(*tmp));
				if (!tmp)
					return -ENOMEM;
				ef->cus = tmp;
			}
			ef->cus[ef->ncus++] = (struct cu_range){ start, end, dwarf_dieoffset(&cudie) };
		}
	}
	if (ef->ncus)
		qsort(ef->cus, ef->ncus, sizeof(*ef->cus), cu_cmp);
	return 0;
}

static Dwarf_Die *elf_file__cu_lookup(struct elf_file *ef, uint64_t vaddr, Dwarf_Die *die)
{
	size_t lo = 0, hi;

	if (!ef->cus_built && elf_file__build_cus(ef))
		return NULL;
	hi = ef->ncus;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ef->cus[mid].lo <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || vaddr >= ef->cus[lo - 1].hi)
		return NULL;
	return dwarf_offdie(ef->dw, ef->cus[lo - 1].off, die);
}

int elf_file__line(struct elf_file *ef, uint64_t vaddr, const char **file, int *line)
{
	Dwarf_Line *dl;
	Dwarf_Die cu;
	const char *src;
	int ln;

	/* DWARF is parsed on the first question only: most files never get asked. */
	if (!ef->dw_tried) {
		ef->dw_tried = 1;
		if (ef->dwarf_elf)
			ef->dw = dwarf_begin_elf(ef->dwarf_elf, DWARF_C_READ, NULL);
		if (ef->dwarf_elf && !ef->dw)
			pr_debug("%s: cannot read DWARF: %s", ef->path, dwarf_errmsg(-1));
	}
	if (!ef->dw)
		return -ENOENT;
	if (!dwarf_addrdie(ef->dw, vaddr, &cu) && !elf_file__cu_lookup(ef, vaddr, &cu))
		return -ENOENT;
	dl = dwarf_getsrc_die(&cu, vaddr);
	if (!dl || dwarf_lineno(dl, &ln) || ln <= 0)
		return -ENOENT;
	src = dwarf_linesrc(dl, NULL, NULL);
	if (!src)
		return -ENOENT;
	*file = src;
	*line = ln;
	return 0;
}
