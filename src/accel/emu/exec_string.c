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

/*
 * REP MOVS and REP STOS a run of elements at a time.  A run stays within
 * one page on each side and within the offsets' address size, passes the
 * segment checks the elements would, and touches only RAM whose TLB fast
 * tag says an access of its kind already passed in this privilege context
 * (tag_host in mmu.c): then no element of it could fault, meet #AC or
 * reach MMIO, and the element path is needed only at a page's edge, which
 * is where a fault in the middle shows itself, with the registers exact.
 */
struct run_side {
	int seg, reg, write;
	uint64_t off, lin;
	uint8_t *lo;         /* host address of the run's lowest byte */
};

/* How many elements of size bytes from off (and lin) stay in the page and do not wrap the offset. */
static uint64_t run_room(uint64_t off, uint64_t lin, uint64_t mask, unsigned size, int down)
{
	uint64_t pg = lin & 0xfff, page, wrap;

	if (pg + size > 0x1000 || mask - off < size - 1)
		return 0;
	if (down) {
		page = pg / size + 1;
		wrap = off / size + 1;
	} else {
		page = (0x1000 - pg) / size;
		wrap = (mask - off - (size - 1)) / size + 1;
	}
	return page < wrap ? page : wrap;
}

/* The run's first element on this side: *n shrinks to what fits.  0, or -1 for the element path. */
static int run_first(struct emu_cpu *c, struct run_side *sd, unsigned size, int down, uint64_t *n)
{
	uint64_t mask = emu_mask(c->insn.addrsize), room;

	sd->off = c->s->gpr[sd->reg] & mask;
	if (emu_linear_try(c, sd->seg, sd->off, size, sd->write ? ACC_WRITE : ACC_READ, &sd->lin))
		return -1;
	room = run_room(sd->off, sd->lin, mask, size, down);
	if (!room)
		return -1;
	if (*n > room)
		*n = room;
	return 0;
}

/* The whole run of n elements on this side: its segment checks and its host bytes. */
static int run_span(struct emu_cpu *c, struct run_side *sd, unsigned size, int down, uint64_t n)
{
	uint64_t lo = down ? sd->off - (n - 1) * size : sd->off, lin;
	const struct emu_tlb_entry *t;

	if (emu_linear_try(c, sd->seg, lo, (unsigned)(n * size),
			   sd->write ? ACC_WRITE : ACC_READ, &lin))
		return -1;
	t = emu_tlb_tagged(c, lin, sd->write, emu_tlb_ctx(c));
	if (!t)
		return -1;
	sd->lo = t->host + (lin & 0xfff);
	return 0;
}

/*
 * Elements copied one after another in the direction of DF: where the
 * destination lies ahead of the source by d < len bytes, each element
 * reads what an earlier one wrote, so the bytes go in chunks of at most d
 * (whole elements), each read after the last was written.  -1 when d is
 * less than an element (the element path does that).
 */
static int run_copy(uint8_t *dst, const uint8_t *src, uint64_t len, unsigned size, int down)
{
	uintptr_t sa = (uintptr_t)src, da = (uintptr_t)dst;
	uint64_t d = down ? sa - da : da - sa, chunk;

	if (d == 0 || d >= len) {
		memmove(dst, src, len);
		return 0;
	}
	chunk = d / size * size;
	if (!chunk)
		return -1;
	for (uint64_t done = 0; done < len; done += chunk) {
		uint64_t k = len - done < chunk ? len - done : chunk;
		uint64_t at = down ? len - done - k : done;

		memcpy(dst + at, src + at, k);
	}
	return 0;
}

/* The value repeated: one element, then ever larger copies of what is there. */
static void run_fill(uint8_t *dst, uint64_t v, uint64_t len, unsigned size)
{
	memcpy(dst, &v, size);
	for (uint64_t k = size; k < len; k *= 2)
		memcpy(dst + k, dst, len - k < k ? len - k : k);
}

/* Elements done as one run (at most max), or 0: the element path takes the next one. */
static uint64_t string_run(struct emu_cpu *c, unsigned size, uint64_t max)
{
	const struct x86_insn *in = &c->insn;
	struct x86_cpu_state *s = c->s;
	unsigned as = in->addrsize;
	int down = !!(s->rflags & FL(DF)), movs = in->op == OP_MOVS;
	struct run_side dst = { .seg = X86_ES, .reg = X86_RDI, .write = 1 };
	struct run_side src = { .seg = in->seg >= 0 ? in->seg : X86_DS, .reg = X86_RSI };
	uint64_t n = s->gpr[X86_RCX] & emu_mask(as), step;

	if ((!movs && in->op != OP_STOS) || emu_dr7_armed(s) || (s->rflags & FL(TF)) ||
	    !(s->cr0 & X86_CR0_PG))
		return 0;
	if (n > max)
		n = max;
	if (run_first(c, &dst, size, down, &n) || (movs && run_first(c, &src, size, down, &n)))
		return 0;
	if (run_span(c, &dst, size, down, n) || (movs && run_span(c, &src, size, down, n)))
		return 0;
	if (movs && run_copy(dst.lo, src.lo, n * size, size, down))
		return 0;
	if (!movs)
		run_fill(dst.lo, emu_reg_get(c, X86_RAX, size, 0), n * size, size);
	emu_note_write(c, dst.lo);
	step = down ? -(n * size) : n * size;
	emu_reg_set(c, X86_RDI, as, 0, s->gpr[X86_RDI] + step);
	if (movs)
		emu_reg_set(c, X86_RSI, as, 0, s->gpr[X86_RSI] + step);
	emu_reg_set(c, X86_RCX, as, 0, s->gpr[X86_RCX] - n);
	return n;
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
	for (uint64_t n = 0; n < REP_BUDGET; n++) {
		uint64_t run;

		if (!(s->gpr[X86_RCX] & emu_mask(as)))
			return 0;
		run = string_run(c, size, REP_BUDGET - n);
		if (run) {
			n += run - 1;
			continue;
		}
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
