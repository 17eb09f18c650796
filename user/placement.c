// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* placement.c - pick a uprobe offset in a function that the x86-64 kernel emulates (Capstone) */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <capstone.h>

#include "placement.h"

/*
 * What arch/x86/kernel/uprobes.c (6.18: uprobe_init_insn, branch_setup_xol_ops,
 * push_setup_xol_ops) emulates at the breakpoint instead of single-stepping:
 *  - nop: opcode 0x90 with any prefixes, and since 6.16 (610f6e14c29d) the exact
 *    x86_nops[len] encodings (len 1..8); other 0f 1f forms are single-stepped;
 *  - jmp rel8/rel32 (eb, e9), call rel32 (e8), jcc rel8/rel32 (70-7f, 0f 80-8f), but
 *    any 0x66 prefix makes the kernel refuse the probe (-ENOTSUPP);
 *  - push reg (50-57) one byte long, or two bytes with exactly the REX prefix 0x41.
 * Before any of that, an es/cs/ss/ds or lock prefix makes the kernel refuse the probe.
 * Everything else is single-stepped out of line: ~10x the cost (KERNEL.md).
 */

enum emu {
	EMU_NO = 0,
	EMU_NOP,
	EMU_BRANCH,
	EMU_CALL,
	EMU_PUSH,
};

/* arch/x86/include/asm/nops.h, CONFIG_64BIT, entries 1..8 (ASM_NOP_MAX) */
static const uint8_t x86_nops[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	}
	return false;
}

/*
 * Decide from the raw bytes, as the kernel does: Capstone keeps only the last
 * prefix of each group, and the kernel's checks are about bytes, not mnemonics.
 */
static enum emu kernel_emulates(const cs_insn *in)
{
	const uint8_t *b = in->bytes;
	size_t n = in->size, i = 0;
	bool opsize = false;
	uint8_t rex = 0, op;

	for (; i < n && is_legacy_prefix(b[i]); i++) {
		switch (b[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0xf0:
			return EMU_NO;	/* is_prefix_bad(): the probe would not even attach */
		case 0x66:
			opsize = true;
			break;
		}
	}
	if (i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= n)
		return EMU_NO;
	op = b[i];

	if (n <= 8 && !memcmp(b, x86_nops[n], n))
		return EMU_NOP;
	/*
	 * The kernel takes any prefixed 0x90 as a nop; Capstone tells the real nops
	 * (90, 66 90, 48 90) from pause (f3 90) and xchg eax, r8d (41 90), which the
	 * 6.18 kernel would wrongly skip: never put a probe on those.
	 */
	if (op == 0x90 && i + 1 == n)
		return in->id == X86_INS_NOP ? EMU_NOP : EMU_NO;

	if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f) ||
	    (op == 0x0f && i + 1 < n && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f)) {
		if (opsize)
			return EMU_NO;	/* "16-bit overrides ... reject any branch insns" */
		return op == 0xe8 ? EMU_CALL : EMU_BRANCH;
	}

	if (op >= 0x50 && op <= 0x57) {
		if (n == 1 || (n == 2 && rex == 0x41 && b[0] == 0x41))
			return EMU_PUSH;
	}
	return EMU_NO;
}

/* Full 64-bit register behind any of its parts, for the registers we guard. */
static unsigned int reg64(unsigned int r)
{
	switch (r) {
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return X86_REG_RDI;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return X86_REG_RSI;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH:
		return X86_REG_RDX;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH:
		return X86_REG_RCX;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B:
		return X86_REG_R8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B:
		return X86_REG_R9;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL:
		return X86_REG_RSP;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL:
		return X86_REG_RBP;
	}
	return r;
}

static const struct {
	unsigned int bit;
	unsigned int reg;
	const char *name;
} arg_regs_tab[] = {
	{ PL_RDI, X86_REG_RDI, "rdi" }, { PL_RSI, X86_REG_RSI, "rsi" },
	{ PL_RDX, X86_REG_RDX, "rdx" }, { PL_RCX, X86_REG_RCX, "rcx" },
	{ PL_R8, X86_REG_R8, "r8" },    { PL_R9, X86_REG_R9, "r9" },
};

static bool in_group(const cs_insn *in, uint8_t grp)
{
	for (uint8_t i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == grp)
			return true;
	return false;
}

/* Leaves the straight line: the instructions after it may not run on this call. */
static bool leaves(const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSENTER: case X86_INS_INT: case X86_INS_INT1:
	case X86_INS_INT3: case X86_INS_INTO: case X86_INS_HLT: case X86_INS_UD2:
	case X86_INS_UD2B: case X86_INS_UD0:
		return true;
	}
	/* loop/loopcc are only in BRANCH_RELATIVE with Capstone 4 */
	return in_group(in, CS_GRP_JUMP) || in_group(in, CS_GRP_CALL) || in_group(in, CS_GRP_RET) ||
	       in_group(in, CS_GRP_INT) || in_group(in, CS_GRP_IRET) ||
	       in_group(in, CS_GRP_BRANCH_RELATIVE);
}

/*
 * Name of what the instruction clobbers that the probe needs (an argument
 * register, rsp, or the return address at [rsp]), or NULL.
 */
static const char *clobbers(csh h, const cs_insn *in, unsigned int arg_regs)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	const cs_x86 *x = &in->detail->x86;

	/* Capstone 4 reports no register written by enter */
	if (in->id == X86_INS_ENTER)
		return "rsp";
	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return "registers (unknown)";
	for (uint8_t i = 0; i < nwr; i++) {
		unsigned int r = reg64(wr[i]);

		if (r == X86_REG_RSP)
			return "rsp";
		if (r == X86_REG_RBP)
			return "rbp";	/* the tracer's frame-pointer walk starts from it */
		for (size_t j = 0; j < sizeof(arg_regs_tab) / sizeof(arg_regs_tab[0]); j++)
			if ((arg_regs & arg_regs_tab[j].bit) && r == arg_regs_tab[j].reg)
				return arg_regs_tab[j].name;
	}
	/* A store at or above rsp overwrites the return address the tracer reads. */
	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *o = &x->operands[i];

		if (o->type == X86_OP_MEM && (o->access & CS_AC_WRITE) &&
		    reg64(o->mem.base) == X86_REG_RSP && o->mem.disp + (int64_t)o->size > 0)
			return "[rsp]";
	}
	return NULL;
}

/* "mnemonic operands"; a long one (AVX-512 memory operand) ends in "..." */
static void insn_text(const cs_insn *in, char *buf, size_t sz)
{
	int n = snprintf(buf, sz, "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "", in->op_str);

	if (n >= (int)sz && sz > 4)
		memcpy(buf + sz - 4, "...", 4);
}

/*
 * Find a direct jmp/jcc/call/loop anywhere in the function whose target lies in
 * (lo, hi]. Undecodable bytes are skipped one at a time: realigning may invent
 * a branch, which only costs a fallback, while stopping could miss a real one.
 * Returns true and the branch's and target's offsets when one is found.
 */
static bool branch_into(csh h, cs_insn *in, const uint8_t *code, size_t len, uint64_t func_addr,
			uint64_t lo, uint64_t hi, uint64_t *from, uint64_t *to)
{
	const uint8_t *p = code;
	size_t size = len;
	uint64_t addr = func_addr;

	while (size > 0) {
		const cs_x86 *x;
		uint64_t at = addr;

		if (!cs_disasm_iter(h, &p, &size, &addr, in)) {
			p++;
			size--;
			addr++;
			continue;
		}
		if (!in_group(in, CS_GRP_JUMP) && !in_group(in, CS_GRP_CALL) &&
		    !in_group(in, CS_GRP_BRANCH_RELATIVE))
			continue;
		x = &in->detail->x86;
		if (x->op_count < 1 || x->operands[0].type != X86_OP_IMM)
			continue;	/* indirect: target unknown, nothing to check */
		if ((uint64_t)x->operands[0].imm > lo && (uint64_t)x->operands[0].imm <= hi) {
			*from = at - func_addr;
			*to = (uint64_t)x->operands[0].imm - func_addr;
			return true;
		}
	}
	return false;
}

static const char *emu_name(enum emu e)
{
	switch (e) {
	case EMU_NOP:
		return "nop";
	case EMU_BRANCH:
		return "branch";
	case EMU_CALL:
		return "call";
	case EMU_PUSH:
		return "push";
	default:
		return "single-stepped";
	}
}

int placement__choose(const uint8_t *code, size_t len, uint64_t func_addr, unsigned int arg_regs,
		      struct probe_site *out)
{
	const uint8_t *p = code;
	size_t size = len;
	uint64_t addr = func_addr, from, to;
	char first[sizeof(out->insn)] = "", why[sizeof(out->reason)] = "";
	enum emu first_emu = EMU_NO, site_emu = EMU_NO;
	unsigned int n_before = 0;
	cs_insn *in = NULL;
	csh h = 0;
	int found = 0;

	if (!code || !len || !out || len > UINT64_MAX - func_addr)
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		/* placement only saves time: the symbol itself always works */
		snprintf(out->reason, sizeof(out->reason), "at symbol: capstone unavailable");
		return 0;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	if (!in) {
		snprintf(out->reason, sizeof(out->reason), "at symbol: capstone out of memory");
		goto cleanup;
	}

	while (size > 0) {
		uint64_t off = addr - func_addr;
		enum emu e;
		const char *what;

		if (!cs_disasm_iter(h, &p, &size, &addr, in)) {
			snprintf(why, sizeof(why), "undecodable bytes at +%llu",
				 (unsigned long long)off);
			break;
		}
		e = kernel_emulates(in);
		if (off == 0) {
			insn_text(in, first, sizeof(first));
			first_emu = e;
		}
		if (e != EMU_NO) {
			out->offset = (uint32_t)off;
			out->emulated = 1;
			site_emu = e;
			insn_text(in, out->insn, sizeof(out->insn));
			found = 1;
			break;
		}
		if (leaves(in)) {
			snprintf(why, sizeof(why), "%s at +%llu leaves before any emulated insn",
				 in->mnemonic, (unsigned long long)off);
			break;
		}
		what = clobbers(h, in, arg_regs);
		if (what) {
			snprintf(why, sizeof(why), "%s at +%llu writes %s before any emulated insn",
				 in->mnemonic, (unsigned long long)off, what);
			break;
		}
		n_before++;
	}
	if (!found && !why[0])
		snprintf(why, sizeof(why), "no emulated insn in the %zu bytes given", len);

	/* A branch back into the skipped prefix or onto the site would fire the probe twice. */
	if (found && out->offset > 0 &&
	    branch_into(h, in, code, len, func_addr, func_addr, func_addr + out->offset, &from,
			&to)) {
		snprintf(why, sizeof(why), "branch at +%llu targets +%llu, inside the entry block",
			 (unsigned long long)from, (unsigned long long)to);
		found = 0;
	}

	if (found) {
		if (out->offset == 0)
			snprintf(out->reason, sizeof(out->reason), "first insn is emulated (%s)",
				 emu_name(first_emu));
		else
			snprintf(out->reason, sizeof(out->reason),
				 "first emulated insn (%s); %u insn(s) before it keep args, [rsp]",
				 emu_name(site_emu), n_before);
	} else {
		out->offset = 0;
		out->emulated = first_emu != EMU_NO;
		snprintf(out->insn, sizeof(out->insn), "%s", first);
		snprintf(out->reason, sizeof(out->reason), "at symbol (%s): %s",
			 emu_name(first_emu), why);
	}

cleanup:
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return 0;
}
