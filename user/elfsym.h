/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* elfsym.h - one ELF file: symbols, build-id, debug file, load bias, DWARF lines (libelf/libdw; pure) */
#ifndef MS_ELFSYM_H
#define MS_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file;

/*
 * Open an ELF file and index its function symbols (.symtab, else .dynsym). When the
 * file has no .symtab or no DWARF, look for a separate debug file: first
 * <root>/usr/lib/debug/.build-id/xx/yyyy.debug, then .gnu_debuglink next to the file,
 * in .debug/ beside it, and under <root>/usr/lib/debug/<dir>/. root is a prefix
 * for those lookups ("" or "/proc/PID/root"). Returns NULL with errno on failure
 * (ENOENT, ENOEXEC for a non-ELF file).
 */
struct elf_file *elf_file__open(const char *path, const char *root);
void elf_file__free(struct elf_file *ef);	/* accepts NULL */

bool elf_file__is_pie(const struct elf_file *ef);	/* ET_DYN */
/* Lowercase hex build-id, or NULL when the file has none. */
const char *elf_file__build_id(const struct elf_file *ef);
/* Path of the separate debug file in use, or NULL. */
const char *elf_file__debug_path(const struct elf_file *ef);

/* Address (st_value) and size of the named function symbol. Returns 0 or -ENOENT. */
int elf_file__find_func(const struct elf_file *ef, const char *name, uint64_t *vaddr, uint64_t *size);

/* File offset of a virtual address, from the PT_LOAD that holds it (what uprobes take). 0 or -ENOENT. */
int elf_file__vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *off);

/* Copy len bytes of the file's contents at vaddr into buf. Returns bytes copied or -errno. */
long elf_file__read(const struct elf_file *ef, uint64_t vaddr, void *buf, size_t len);

/*
 * Virtual address (as in the ELF's symbols) of a runtime address inside a mapping
 * that starts at map_start with file offset map_offset. 0 or -ENOENT.
 */
int elf_file__runtime_to_vaddr(const struct elf_file *ef, uint64_t map_start, uint64_t map_offset,
			       uint64_t addr, uint64_t *vaddr);

/* Pure load-bias math: vaddr = addr - map_start + map_offset - seg_offset + seg_vaddr. */
uint64_t elf_addr_to_vaddr(uint64_t addr, uint64_t map_start, uint64_t map_offset,
			   uint64_t seg_vaddr, uint64_t seg_offset);

/* Function containing vaddr: name (owned by ef) and offset into it; NULL when none. */
const char *elf_file__symbolize(const struct elf_file *ef, uint64_t vaddr, uint64_t *sym_off);

/* Source file (owned by ef) and line of vaddr from DWARF. 0, or -ENOENT when unknown. */
int elf_file__line(struct elf_file *ef, uint64_t vaddr, const char **file, int *line);

#endif
