/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String instructions with REP/REPE/REPNE, and port I/O.  A REP runs at
 * most a bounded number of iterations per step and then re-executes, so a
 * long copy cannot starve the caller; a fault keeps the progress made.
 */
#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x
#define REP_BUDGET 4096

/*
 * May the instruction touch size bytes of ports from port?  In protected
 * mode with CPL > IOPL, and always in virtual-8086 mode, every bit of the
 * range in the TSS I/O permission bitmap must be clear.  The bitmap
 * starts at the 16-bit offset at 0x66 of a 32- or 64-bit TSS; the CPU
 * reads two bytes for the first bit, and a bit beyond TR's limit counts as
 * set.  A 16-bit TSS has no bitmap.  0 allowed, else -1 with #GP(0) raised.
 */
static int io_allowed(struct emu_cpu *c, uint16_t port, unsigned size)
{
	uint16_t bits;

	if (!emu_protected(c) || (!emu_v86(c) && emu_cpl(c) <= emu_iopl(c)))
		return 0;
	if (emu_tss_map(c, port / 8, &bits, 2))
		return -1;
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		return emu_gp(c, 0);
	return 0;
}

static uint64_t port_in(struct emu_cpu *c, uint16_t port, unsigned size)
{
	if (emu_dr7_armed(c->s))
		emu_io_breakpoints(c, port, size);
	if (!c->env.pio)
		return emu_mask(size);
	return bus_read(c->env.pio, port, size) & emu_mask(size);
}

static void port_out(struct emu_cpu *c, uint16_t port, unsigned size, uint64_t v)
{
	if (emu_dr7_armed(c->s))
		emu_io_breakpoints(c, port, size);
	if (c->env.pio)
		bus_write(c->env.pio, port, size, v & emu_mask(size));
}

static void advance(struct emu_cpu *c, int reg, unsigned size)
{
	unsigned as = c->insn.addrsize;
	uint64_t v = c->s->gpr[reg];

	v = (c->s->rflags & FL(DF)) ? v - size : v + size;
	emu_reg_set(c, reg, as, 0, v);
}

/* One iteration; for CMPS/SCAS *stop tells REPE/REPNE to end. */
static int iterate(struct emu_cpu *c, unsigned size, int *stop)
{
	const struct x86_insn *in = &c->insn;
	struct x86_cpu_state *s = c->s;
	unsigned as = in->addrsize;
	int src_seg = in->seg >= 0 ? in->seg : X86_DS;
	uint64_t si = s->gpr[X86_RSI] & emu_mask(as), di = s->gpr[X86_RDI] & emu_mask(as);
	uint64_t a, b;
	uint16_t port = s->gpr[X86_RDX] & 0xffff;

	switch (in->op) {
	case OP_MOVS:
		if (emu_read_u(c, src_seg, si, size, &a) || emu_write_u(c, X86_ES, di, size, a))
			return -1;
		advance(c, X86_RSI, size);
		advance(c, X86_RDI, size);
		return 0;
	case OP_STOS:
		if (emu_write_u(c, X86_ES, di, size, emu_reg_get(c, X86_RAX, size, 0)))
			return -1;
		advance(c, X86_RDI, size);
		return 0;
	case OP_LODS:
		if (emu_read_u(c, src_seg, si, size, &a))
			return -1;
		emu_reg_set(c, X86_RAX, size, 0, a);
		advance(c, X86_RSI, size);
		return 0;
	case OP_CMPS:
		if (emu_read_u(c, src_seg, si, size, &a) || emu_read_u(c, X86_ES, di, size, &b))
			return -1;
		emu_alu(c, OP_CMP, a, b, size);
		advance(c, X86_RSI, size);
		advance(c, X86_RDI, size);
		break;
	case OP_SCAS:
		if (emu_read_u(c, X86_ES, di, size, &b))
			return -1;
		emu_alu(c, OP_CMP, emu_reg_get(c, X86_RAX, size, 0), b, size);
		advance(c, X86_RDI, size);
		break;
	case OP_INS:
		/* Probe the destination first: a fault must not lose port data. */
		if (emu_read_u(c, X86_ES, di, size, &a))
			return -1;
		a = port_in(c, port, size);
		if (emu_write_u(c, X86_ES, di, size, a))
			return -1;
		advance(c, X86_RDI, size);
		return 0;
	default:   /* OP_OUTS */
		if (emu_read_u(c, src_seg, si, size, &a))
			return -1;
		port_out(c, port, size, a);
		advance(c, X86_RSI, size);
		return 0;
	}
	{
		int zf = !!(s->rflags & FL(ZF));

		*stop = in->rep == 0xf3 ? !zf : in->rep == 0xf2 ? zf : 0;
	}
	return 0;
}

static int string_op(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	struct x86_cpu_state *s = c->s;
	unsigned size = emu_insn_opsize(c), as = in->addrsize;
	int stop = 0;

	if (in->op == OP_INS || in->op == OP_OUTS) {
		if (size == 8)
			size = 4;    /* ports are at most 32 bits wide */
		if (io_allowed(c, s->gpr[X86_RDX] & 0xffff, size))
			return -1;
		if (emu_io_check(c, EMU_IO_PIO, s->gpr[X86_RDX] & 0xffff))
			return -1;
	}
	if (!in->rep)
		return iterate(c, size, &stop);
	for (int n = 0; n < REP_BUDGET; n++) {
		if (!(s->gpr[X86_RCX] & emu_mask(as)))
			return 0;
		if (iterate(c, size, &stop)) {
			c->keep_regs = 1;
			return -1;
		}
		emu_reg_set(c, X86_RCX, as, 0, s->gpr[X86_RCX] - 1);
		if (stop)
			return 0;
		if (c->db_hits)
			break;       /* a data or I/O breakpoint traps after this iteration */
	}
	/*
	 * More to do: the next step continues.  RF says it resumes (no
	 * instruction breakpoint again), and a trap or interrupt before then
	 * pushes RF set (SDM 17.3.1.1).
	 */
	if (s->gpr[X86_RCX] & emu_mask(as)) {
		s->rip = c->insn_rip;
		s->rflags |= FL(RF);
	}
	return 0;
}

static int port_io(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = (in->flags & F_BYTE) ? 1 : in->opsize == 2 ? 2 : 4;
	uint16_t port = in->imm_size ? in->imm & 0xff : c->s->gpr[X86_RDX] & 0xffff;

	if (io_allowed(c, port, size))
		return -1;
	if (emu_io_check(c, EMU_IO_PIO, port))
		return -1;
	if (in->op == OP_IN)
		emu_reg_set(c, X86_RAX, size, 0, port_in(c, port, size));
	else
		port_out(c, port, size, emu_reg_get(c, X86_RAX, size, 0));
	return 0;
}

int emu_exec_string(struct emu_cpu *c)
{
	if (c->insn.op == OP_IN || c->insn.op == OP_OUT)
		return port_io(c);
	return string_op(c);
}
