/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The debug registers' breakpoints (SDM 17.2, 17.3): DR0-DR3 with the
 * enable bits, R/W and LEN fields of DR7.  Instruction breakpoints are
 * faults before the instruction (unless RFLAGS.RF); data and I/O ones
 * are noted as the accesses happen and become one #DB trap after the
 * instruction (exec.c), with single-step and the TSS T bit.  The callers
 * look at DR7's enable bits first, so none of this runs while no
 * breakpoint is enabled; the fast forms and decoded blocks step aside
 * then, for the general executor to see every access.
 */
#include "accel/emu/emu_int.h"

enum { DR_EXEC = 0, DR_WRITE = 1, DR_IO = 2, DR_RW = 3 };

/* The enabled breakpoints whose R/W is in kinds (a bit per R/W value) and whose range meets [addr, addr + size). */
static unsigned dr_match(const struct emu_cpu *c, unsigned kinds, uint64_t addr, unsigned size)
{
	static const unsigned len[4] = { 1, 2, 8, 4 };
	uint64_t dr7 = c->s->dr[7];
	unsigned hits = 0;

	for (unsigned n = 0; n < 4; n++) {
		unsigned rw = (dr7 >> (16 + 4 * n)) & 3, l = len[(dr7 >> (18 + 4 * n)) & 3];
		uint64_t a = c->s->dr[n] & ~(uint64_t)(l - 1);

		if (!((dr7 >> (2 * n)) & 3) || !((kinds >> rw) & 1))
			continue;
		if (rw == DR_EXEC)
			l = 1;
		if (addr < a + l && a < addr + size)
			hits |= 1u << n;
	}
	return hits;
}

void emu_data_breakpoints(struct emu_cpu *c, uint64_t lin, unsigned size, int write)
{
	c->db_hits |= dr_match(c, (write ? 1u << DR_WRITE : 0) | 1u << DR_RW, lin, size);
}

void emu_io_breakpoints(struct emu_cpu *c, uint16_t port, unsigned size)
{
	if (c->s->cr4 & X86_CR4_DE)     /* R/W 10 is undefined without it */
		c->db_hits |= dr_match(c, 1u << DR_IO, port, size);
}

unsigned emu_code_breakpoints(const struct emu_cpu *c)
{
	const struct x86_cpu_state *s = c->s;
	int mode = emu_code_mode(c);
	uint64_t lin = mode == 64 ? s->rip :
		       (s->seg[X86_CS].base + (s->rip & (mode == 32 ? 0xffffffffULL : 0xffffULL))) &
		       0xffffffffULL;

	return dr_match(c, 1u << DR_EXEC, lin, 1);
}
