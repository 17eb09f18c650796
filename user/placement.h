/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* placement.h - choose where in a function to put a uprobe so the kernel emulates it (pure, Capstone) */
#ifndef MS_PLACEMENT_H
#define MS_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

/* Argument registers the probe reads: they must be intact at the chosen site. */
enum {
	PL_RDI = 1 << 0,
	PL_RSI = 1 << 1,
	PL_RDX = 1 << 2,
	PL_RCX = 1 << 3,
	PL_R8  = 1 << 4,
	PL_R9  = 1 << 5,
};

struct probe_site {
	uint32_t offset;	/* bytes from the function's start; 0 = the symbol itself */
	int emulated;		/* 1 when the instruction at offset is one the kernel emulates */
	char insn[48];		/* "push r12" etc., for -v logs */
	char reason[96];	/* why this site (or why we fell back to the symbol) */
};

/*
 * Pick the first instruction of the entry block that the x86-64 uprobe code emulates
 * (push reg, jcc, jmp rel, call rel, nop), such that every instruction before it
 * runs straight through (no branch, call, ret, syscall), writes none of arg_regs and
 * touches neither rsp nor rbp ([rsp] must still be the return address, for uretprobes
 * and the direct-caller read, and rbp the caller's frame, where the stack walk
 * starts), and no direct branch inside the function targets
 * any byte after the start up to the site (the probe must fire once per call).
 * Otherwise offset 0. code/len: the whole function's bytes, func_addr: its address.
 * Returns 0 (out filled, possibly with the fallback) or -EINVAL.
 */
int placement__choose(const uint8_t *code, size_t len, uint64_t func_addr, unsigned int arg_regs,
		      struct probe_site *out);

#endif
