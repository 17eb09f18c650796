// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_placement.c - unit tests for placement.c on real glibc 2.36 entries and synthetic code */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "placement.h"

/* any address: branch targets are checked relative to it */
#define ADDR	0x7f0000001000ULL
#define LIBC	"/lib/x86_64-linux-gnu/libc.so.6"

static size_t unhex(const char *s, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	for (; s[0] && s[1] && n < cap; s += 2) {
		unsigned int v;

		cr_assert(sscanf(s, "%2x", &v) == 1, "bad hex near \"%s\"", s);
		buf[n++] = (uint8_t)v;
	}
	return n;
}

/* Choose a site for hex bytes; asserts success and returns the site. */
static struct probe_site choose(const char *hex, unsigned int args)
{
	uint8_t code[256];
	size_t n = unhex(hex, code, sizeof(code));
	struct probe_site s;

	cr_assert_eq(placement__choose(code, n, ADDR, args, &s), 0);
	cr_log_info("%-70s -> +%u %-16s emulated=%d: %s", hex, s.offset, s.insn, s.emulated,
		    s.reason);
	return s;
}

/* s is evaluated once: it is usually a choose() call */
#define ASSERT_SITE(s, off, emu, text)                                                        \
	do {                                                                                  \
		struct probe_site s_ = (s);                                                   \
                                                                                              \
		cr_expect_eq(s_.offset, (off), "offset %u, want %u (%s)", s_.offset,          \
			     (unsigned int)(off), s_.reason);                                 \
		cr_expect_eq(s_.emulated, (emu), "emulated %d, want %d (%s)", s_.emulated,    \
			     (emu), s_.reason);                                               \
		cr_expect(!strncmp(s_.insn, (text), strlen(text)), "insn \"%s\", want \"%s\"", \
			  s_.insn, (text));                                                    \
		cr_expect(s_.reason[0] != '\0');                                              \
	} while (0)

/* --- real glibc 2.36 entries (prefixes of the functions, from this machine) ------------ */

#define MALLOC		"415455534889fb4883ec10803d461b1400000f84f80100004885db0f88fd0100"
#define FREE		"4885ff0f84bf00000055488d77f0534883ec18488b1dd69e1300488b47f8648b"
#define POSIX_MEMALIGN	"803d010214000041544989d4554889fd534889f3745a4889da48c1ea03488d42"
#define CALLOC		"41554889f8415455534883ec1848f7e64889c30f90c04885"
#define MEMALIGN	"803d710e1400007407e932f6ffff66904883ec18488974240848893c24e8bebc"
#define MMAP		"4189ca41f7c1ff0f00007514b8090000000f05483d00f0ffff7725c3"
#define MUNMAP		"b80b0000000f05483d01f0ffff7301c3488b0dc9130d00f7"
#define MREMAP		"4883ec584c8944244064488b042528000000488944241831"
#define REALLOCARRAY	"4889f048f7e24889c67005e940b8f8ff488b05e985130064"

Test(placement, malloc_push_r12_at_entry)
{
	ASSERT_SITE(choose(MALLOC, PL_RDI), 0, 1, "push r12");
}

Test(placement, free_je_after_test)
{
	ASSERT_SITE(choose(FREE, PL_RDI), 3, 1, "je");
}

Test(placement, posix_memalign_push_after_riprel_cmp)
{
	ASSERT_SITE(choose(POSIX_MEMALIGN, PL_RDI | PL_RSI | PL_RDX), 7, 1, "push r12");
}

Test(placement, calloc_push_r13_at_entry)
{
	ASSERT_SITE(choose(CALLOC, PL_RDI | PL_RSI), 0, 1, "push r13");
}

Test(placement, memalign_je_after_riprel_cmp)
{
	ASSERT_SITE(choose(MEMALIGN, PL_RDI | PL_RSI), 7, 1, "je");
}

Test(placement, mmap_mov_to_r10_and_test_pass)
{
	ASSERT_SITE(choose(MMAP, PL_RDI | PL_RSI | PL_RCX), 10, 1, "jne");
}

Test(placement, munmap_syscall_first)
{
	struct probe_site s = choose(MUNMAP, PL_RDI | PL_RSI);

	ASSERT_SITE(s, 0, 0, "mov eax, 0xb");
	cr_expect(strstr(s.reason, "syscall"), "%s", s.reason);
}

Test(placement, mremap_sub_rsp_first)
{
	struct probe_site s = choose(MREMAP, PL_RDI | PL_RSI | PL_RDX);

	ASSERT_SITE(s, 0, 0, "sub rsp");
	cr_expect(strstr(s.reason, "rsp"), "%s", s.reason);
}

Test(placement, reallocarray_args_written_before_jo)
{
	struct probe_site s = choose(REALLOCARRAY, PL_RDI | PL_RSI | PL_RDX);

	ASSERT_SITE(s, 0, 0, "mov rax, rsi");
	cr_expect(strstr(s.reason, "rdx"), "mul writes rdx: %s", s.reason);
	/* only rsi guarded: mul passes, mov rsi, rax at +6 stops the scan */
	s = choose(REALLOCARRAY, PL_RSI);
	ASSERT_SITE(s, 0, 0, "mov rax, rsi");
	cr_expect(strstr(s.reason, "+6") && strstr(s.reason, "rsi"), "%s", s.reason);
}

/* --- synthetic code ------------------------------------------------------------------ */

Test(placement, endbr64_is_passed_over)
{
	/* endbr64; push rbp; mov rbp, rsp */
	ASSERT_SITE(choose("f30f1efa554889e5", PL_RDI), 4, 1, "push rbp");
}

Test(placement, loop_back_into_entry_block)
{
	/* 0 test rdi,rdi; 3 xor eax,eax; 5 je 10; 7 inc rax; 10 jmp 3 */
	struct probe_site s = choose("4885ff31c0740348ffc0ebf7", PL_RDI);

	ASSERT_SITE(s, 0, 0, "test rdi, rdi");
	cr_expect(strstr(s.reason, "+10") && strstr(s.reason, "+3"), "%s", s.reason);
	/* a branch onto the site itself also fires twice: 10 jmp 5 */
	ASSERT_SITE(choose("4885ff31c0740348ffc0ebf9", PL_RDI), 0, 0, "test");
	/* back to the symbol (outside the interval) or past the site is fine: 10 jmp 0, jmp 7 */
	ASSERT_SITE(choose("4885ff31c0740348ffc0ebf4", PL_RDI), 5, 1, "je");
	ASSERT_SITE(choose("4885ff31c0740348ffc0ebfb", PL_RDI), 5, 1, "je");
}

Test(placement, far_branch_into_entry_block)
{
	/* 0 test rdi,rdi; 3 push rbp; 4 nop*16; 20 jne rel32 back to +2 (mid-instruction) */
	ASSERT_SITE(choose("4885ff55" "90909090909090909090909090909090" "0f85e8ffffff", PL_RDI), 0,
		    0, "test");
	/* same with the jne to +0: allowed */
	ASSERT_SITE(choose("4885ff55" "90909090909090909090909090909090" "0f85e6ffffff", PL_RDI), 3,
		    1, "push rbp");
}

Test(placement, write_to_guarded_register_stops)
{
	/* xor edi, edi; push rbp */
	ASSERT_SITE(choose("31ff55", PL_RDI), 0, 0, "xor edi, edi");
	ASSERT_SITE(choose("31ff55", PL_RSI), 2, 1, "push rbp");
	/* partial writes count: mov sil, 1 / mov dh, 1 / mov r8w, 1 */
	ASSERT_SITE(choose("40b60155", PL_RSI), 0, 0, "mov sil");
	ASSERT_SITE(choose("b60155", PL_RDX), 0, 0, "mov dh");
	ASSERT_SITE(choose("6641b8010055", PL_R8), 0, 0, "mov r8w");
	/* r12 is not an argument: xor r12, r12; push rbp */
	ASSERT_SITE(choose("4d31e455", PL_RDI | PL_RSI | PL_RDX | PL_RCX | PL_R8 | PL_R9), 3, 1,
		    "push rbp");
	/* implicit writes: cqo (rdx), rep movsb (rdi, rsi, rcx) */
	ASSERT_SITE(choose("489955", PL_RDX), 0, 0, "cqo");
	ASSERT_SITE(choose("f3a455", PL_RCX), 0, 0, "rep movsb");
}

Test(placement, rsp_and_return_address_are_guarded)
{
	/* push rbx with a REX.W prefix is not emulated, and it moves rsp */
	ASSERT_SITE(choose("4853", 0), 0, 0, "push rbx");
	/* mov [rsp], rax overwrites the return address; mov [rsp-8], rdi does not */
	ASSERT_SITE(choose("4889042455", 0), 0, 0, "mov qword ptr [rsp], rax");
	ASSERT_SITE(choose("48897c24f855", PL_RDI), 5, 1, "push rbp");
	/* enter: Capstone 4 reports no register write, it moves rsp all the same */
	ASSERT_SITE(choose("c810000055", 0), 0, 0, "enter");
	/* lea rsp, [rsp - 8] */
	ASSERT_SITE(choose("488d6424f855", 0), 0, 0, "lea rsp");
	/* xor ebp, ebp: the frame-pointer walk starts from rbp, so it must be intact too */
	ASSERT_SITE(choose("31ed55", 0), 0, 0, "xor ebp, ebp");
}

Test(placement, forward_jmp_as_site)
{
	/* test rdi, rdi; jmp +16; padding */
	ASSERT_SITE(choose("4885ffeb10" "cccccccccccccccccccccccccccccccc", PL_RDI), 3, 1, "jmp");
	/* call rel32 is emulated too */
	ASSERT_SITE(choose("4885ffe800000000", PL_RDI), 3, 1, "call");
}

Test(placement, leaving_instructions_stop)
{
	/* ret, indirect jmp, ud2, hlt, int3, syscall; each followed by push rbp */
	ASSERT_SITE(choose("c355", 0), 0, 0, "ret");
	ASSERT_SITE(choose("ffe055", 0), 0, 0, "jmp rax");
	ASSERT_SITE(choose("0f0b55", 0), 0, 0, "ud2");
	ASSERT_SITE(choose("f455", 0), 0, 0, "hlt");
	ASSERT_SITE(choose("cc55", 0), 0, 0, "int3");
	ASSERT_SITE(choose("0f0555", 0), 0, 0, "syscall");
	/* loop (writes rcx, and branches) */
	ASSERT_SITE(choose("e2fe55", 0), 0, 0, "loop");
}

Test(placement, kernel_refused_prefixes)
{
	/* 66-prefixed jmp/jcc: the kernel rejects them, and they leave */
	ASSERT_SITE(choose("66e9000055", 0), 0, 0, "jmp");
	/* jcc with a ds (branch-taken hint) prefix: probe would not attach */
	ASSERT_SITE(choose("3e740055", 0), 0, 0, "je");
	/* cs-prefixed 10-byte nop: not emulated, writes nothing, passed over */
	ASSERT_SITE(choose("662e0f1f84000000000055", 0), 10, 1, "push rbp");
	/* lock inc dword ptr [rdi]: never a site, but it writes no register: passed over */
	ASSERT_SITE(choose("f0ff0755", PL_RDI), 3, 1, "push rbp");
}

Test(placement, nops)
{
	/* the kernel's x86_nops[] patterns are emulated */
	ASSERT_SITE(choose("90", 0), 0, 1, "nop");
	ASSERT_SITE(choose("6690", 0), 0, 1, "nop");
	ASSERT_SITE(choose("0f1f440000", 0), 0, 1, "nop");
	ASSERT_SITE(choose("0f1f840000000000", 0), 0, 1, "nop");
	/* a nopw with a different modrm is not in x86_nops: passed over */
	ASSERT_SITE(choose("0f1f4000" "0f1f0055", 0), 0, 1, "nop");
	ASSERT_SITE(choose("0f1f0155", 0), 3, 1, "push rbp");
	/* pause (f3 90) and xchg eax, r8d (41 90) look like 0x90 but are not nops */
	ASSERT_SITE(choose("f39055", 0), 2, 1, "push rbp");
	ASSERT_SITE(choose("419055", 0), 2, 1, "push rbp");
	ASSERT_SITE(choose("419055", PL_R8), 0, 0, "xchg");
}

Test(placement, push_encodings)
{
	ASSERT_SITE(choose("4157", 0), 0, 1, "push r15");
	ASSERT_SITE(choose("50", 0), 0, 1, "push rax");
	/* 66 50 (push ax) and 40 55 (REX push rbp) are single-stepped */
	ASSERT_SITE(choose("6650", 0), 0, 0, "push ax");
	ASSERT_SITE(choose("4055", 0), 0, 0, "push rbp");
}

Test(placement, no_site_and_bad_input)
{
	struct probe_site s;
	uint8_t code[] = { 0x48, 0x85, 0xff };

	s = choose("4885ff", PL_RDI);
	ASSERT_SITE(s, 0, 0, "test rdi, rdi");
	cr_expect(strstr(s.reason, "no emulated"), "%s", s.reason);
	s = choose("4885ff06", PL_RDI);	/* 06 is invalid in 64-bit mode */
	ASSERT_SITE(s, 0, 0, "test rdi, rdi");
	cr_expect(strstr(s.reason, "undecodable"), "%s", s.reason);

	cr_expect_eq(placement__choose(NULL, 3, ADDR, 0, &s), -EINVAL);
	cr_expect_eq(placement__choose(code, 0, ADDR, 0, &s), -EINVAL);
	cr_expect_eq(placement__choose(code, sizeof(code), ADDR, 0, NULL), -EINVAL);
	cr_expect_eq(placement__choose(code, sizeof(code), UINT64_MAX - 1, 0, &s), -EINVAL);
}

/* --- the real libc of this machine --------------------------------------------------- */

struct elf_file {
	uint8_t *map;
	size_t size;
};

/* Find a dynamic symbol's address, size and bytes; 0 or -errno. */
static int elf_dynsym(const struct elf_file *f, const char *name, uint64_t *addr, uint64_t *size,
		      const uint8_t **bytes)
{
	const Elf64_Ehdr *eh = (const void *)f->map;
	const Elf64_Shdr *sh;
	const Elf64_Phdr *ph;

	if (f->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) > f->size ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*ph) > f->size)
		return -ENOEXEC;
	sh = (const void *)(f->map + eh->e_shoff);
	ph = (const void *)(f->map + eh->e_phoff);
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;
		size_t n;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset + sh[i].sh_size > f->size ||
		    sh[sh[i].sh_link].sh_offset + sh[sh[i].sh_link].sh_size > f->size)
			continue;
		sym = (const void *)(f->map + sh[i].sh_offset);
		str = (const char *)f->map + sh[sh[i].sh_link].sh_offset;
		n = sh[i].sh_size / sizeof(*sym);
		for (size_t k = 0; k < n; k++) {
			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || !sym[k].st_size ||
			    sym[k].st_name >= sh[sh[i].sh_link].sh_size ||
			    strcmp(str + sym[k].st_name, name))
				continue;
			for (unsigned int j = 0; j < eh->e_phnum; j++) {
				uint64_t v = sym[k].st_value;

				if (ph[j].p_type != PT_LOAD || v < ph[j].p_vaddr ||
				    v + sym[k].st_size > ph[j].p_vaddr + ph[j].p_filesz ||
				    ph[j].p_offset + (v - ph[j].p_vaddr) + sym[k].st_size > f->size)
					continue;
				*addr = v;
				*size = sym[k].st_size;
				*bytes = f->map + ph[j].p_offset + (v - ph[j].p_vaddr);
				return 0;
			}
		}
	}
	return -ENOENT;
}

static int elf_open(const char *path, struct elf_file *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	f->map = NULL;
	f->size = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return -EINVAL;
	}
	f->size = (size_t)st.st_size;
	f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f->map == MAP_FAILED)
		return -errno;
	return 0;
}

Test(placement, real_libc_free)
{
	struct elf_file f;
	const uint8_t *code;
	uint64_t addr, size;
	struct probe_site s;
	/* test rdi, rdi; je */
	static const uint8_t want[] = { 0x48, 0x85, 0xff, 0x0f, 0x84 };

	if (elf_open(LIBC, &f))
		cr_skip_test("%s not readable", LIBC);
	if (elf_dynsym(&f, "free", &addr, &size, &code) || size < sizeof(want) ||
	    memcmp(code, want, sizeof(want))) {
		munmap(f.map, f.size);
		cr_skip_test("free in %s is not the glibc 2.36 build these tests expect", LIBC);
	}
	/* the whole function this time: every branch in it is checked */
	cr_assert_eq(placement__choose(code, size, addr, PL_RDI, &s), 0);
	cr_log_info("free @%#llx size %llu -> +%u %s: %s", (unsigned long long)addr,
		    (unsigned long long)size, s.offset, s.insn, s.reason);
	cr_expect_eq(s.emulated, 1, "%s", s.reason);
	cr_expect_gt(s.offset, 0, "%s", s.reason);
	munmap(f.map, f.size);
}

/* The table above, on the whole functions, wherever the installed libc is the same build. */
Test(placement, real_libc_family)
{
	static const struct {
		const char *sym, *hex;
		unsigned int args;
		uint32_t offset;
	} t[] = {
		{ "malloc", MALLOC, PL_RDI, 0 },
		{ "free", FREE, PL_RDI, 3 },
		{ "posix_memalign", POSIX_MEMALIGN, PL_RDI | PL_RSI | PL_RDX, 7 },
		{ "calloc", CALLOC, PL_RDI | PL_RSI, 0 },
		{ "memalign", MEMALIGN, PL_RDI | PL_RSI, 7 },
		{ "aligned_alloc", MEMALIGN, PL_RDI | PL_RSI, 7 },
		{ "mmap", MMAP, PL_RDI | PL_RSI | PL_RCX, 10 },
		{ "munmap", MUNMAP, PL_RDI | PL_RSI, 0 },
		{ "mremap", MREMAP, PL_RDI | PL_RSI | PL_RDX, 0 },
		{ "reallocarray", REALLOCARRAY, PL_RDI | PL_RSI | PL_RDX, 0 },
	};
	struct elf_file f;
	unsigned int matched = 0;

	if (elf_open(LIBC, &f))
		cr_skip_test("%s not readable", LIBC);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t pre[64];
		size_t n = unhex(t[i].hex, pre, sizeof(pre));
		const uint8_t *code;
		uint64_t addr, size;
		struct probe_site s;

		if (elf_dynsym(&f, t[i].sym, &addr, &size, &code) || size < n ||
		    memcmp(code, pre, n))
			continue;
		matched++;
		cr_assert_eq(placement__choose(code, size, addr, t[i].args, &s), 0);
		cr_log_info("%-14s size %5llu -> +%u %-10s emulated=%d: %s", t[i].sym,
			    (unsigned long long)size, s.offset, s.insn, s.emulated, s.reason);
		cr_expect_eq(s.offset, t[i].offset, "%s: +%u, want +%u (%s)", t[i].sym, s.offset,
			     t[i].offset, s.reason);
	}
	munmap(f.map, f.size);
	if (!matched)
		cr_skip_test("%s is not the glibc 2.36 build these tests expect", LIBC);
}
