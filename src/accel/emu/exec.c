/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software CPU's main loop: fetch, decode, dispatch to the family that
 * executes the operation, and turn a fault into an exception delivered
 * through the guest's IDT.  An instruction that faults is undone (registers
 * restored) before delivery, as on hardware.
 */
#include <stdlib.h>
#include <string.h>

#include "accel/emu/emu_int.h"

struct emu_cpu *emu_cpu_new(struct x86_cpu_state *s, const struct emu_env *env)
{
	struct emu_cpu *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->env = *env;
	c->fault = -1;
	c->dcache = malloc(EMU_DCACHE_SIZE * sizeof(*c->dcache));
	if (!c->dcache) {
		free(c);
		return NULL;
	}
	for (unsigned i = 0; i < EMU_DCACHE_SIZE; i++)
		c->dcache[i].lin = ~0ULL;
	c->code = env->mem ? env->mem->code : NULL;
	if (c->code) {
		c->code_base = c->code->base;
		c->code_has = c->code->has;
		c->code_pages = c->code->pages;
	}
	c->code_page = ~0ULL;
	emu_mmu_reset(c);     /* also empties the fetch page */
	return c;
}

void emu_cpu_free(struct emu_cpu *c)
{
	if (c) {
		free(c->dcache);
		emu_blocks_free(c->blocks);
	}
	free(c);
}

void emu_cpu_flush_tlb(struct emu_cpu *c)
{
	emu_mmu_reset(c);
}

unsigned emu_nesting(const struct emu_cpu *c)
{
	return c->nesting;
}

const struct x86_insn *emu_last_insn(const struct emu_cpu *c)
{
	return &c->insn;
}

/* ---- registers and operands ---- */

uint64_t emu_reg_get(struct emu_cpu *c, int reg, unsigned size, int hi8)
{
	uint64_t v = c->s->gpr[reg & 15];

	if (hi8)
		return (v >> 8) & 0xff;
	return v & emu_mask(size);
}

void emu_reg_set(struct emu_cpu *c, int reg, unsigned size, int hi8, uint64_t v)
{
	uint64_t *r = &c->s->gpr[reg & 15];

	if (hi8)
		*r = (*r & ~0xff00ULL) | ((v & 0xff) << 8);
	else if (size == 4)
		*r = v & 0xffffffffULL;
	else if (size == 8)
		*r = v;
	else
		*r = (*r & ~emu_mask(size)) | (v & emu_mask(size));
}

uint64_t emu_ea(struct emu_cpu *c, int *seg)
{
	const struct x86_insn *in = &c->insn;
	uint64_t a = (uint64_t)in->disp;

	if (in->rip_relative)
		a += c->next_rip;
	if (in->base != 0xff)
		a += c->s->gpr[in->base];
	if (in->index != 0xff)
		a += c->s->gpr[in->index] << in->scale;
	*seg = in->seg >= 0 ? in->seg :
	       (in->base == X86_RSP || in->base == X86_RBP) ? X86_SS : X86_DS;
	return a & emu_mask(in->addrsize);
}

static void reg_operand(struct emu_cpu *c, int r, unsigned size, struct emu_operand *o)
{
	o->kind = 1;
	o->size = size;
	o->reg = r;
	o->hi8 = size == 1 && !c->insn.rex && r >= 4 && r < 8;
	if (o->hi8)
		o->reg = r - 4;
}

int emu_opnd_decode(struct emu_cpu *c, int kind, unsigned size, struct emu_operand *o)
{
	const struct x86_insn *in = &c->insn;

	memset(o, 0, sizeof(*o));
	switch (kind) {
	case OPND_E:
	case OPND_M:
		if (in->mod == 3) {
			reg_operand(c, in->rm, size, o);
			return 0;
		}
		o->kind = 2;
		o->size = size;
		o->off = emu_ea(c, &o->seg);
		return 0;
	case OPND_G:
		reg_operand(c, in->reg, size, o);
		return 0;
	case OPND_A:
		reg_operand(c, X86_RAX, size, o);
		return 0;
	case OPND_Z:
		reg_operand(c, (in->opcode & 7) | ((in->rex & 1) << 3), size, o);
		return 0;
	case OPND_I:
		o->kind = 3;
		o->size = size;
		o->val = in->imm & emu_mask(size);
		return 0;
	case OPND_1:
		o->kind = 3;
		o->size = 1;
		o->val = 1;
		return 0;
	case OPND_CL:
		o->kind = 3;
		o->size = 1;
		o->val = c->s->gpr[X86_RCX] & 0xff;
		return 0;
	case OPND_DX:
		o->kind = 3;
		o->size = 2;
		o->val = c->s->gpr[X86_RDX] & 0xffff;
		return 0;
	}
	return 0;
}

int emu_opnd_read(struct emu_cpu *c, struct emu_operand *o)
{
	if (o->kind == 1)
		o->val = emu_reg_get(c, o->reg, o->size, o->hi8);
	else if (o->kind == 2)
		return emu_read_u(c, o->seg, o->off, o->size, &o->val);
	return 0;
}

int emu_opnd_write(struct emu_cpu *c, struct emu_operand *o, uint64_t v)
{
	if (o->kind == 1) {
		emu_reg_set(c, o->reg, o->size, o->hi8, v);
		return 0;
	}
	if (o->kind == 2)
		return emu_write_u(c, o->seg, o->off, o->size, v);
	return 0;
}

unsigned emu_insn_opsize(const struct emu_cpu *c)
{
	return (c->insn.flags & F_BYTE) ? 1 : c->insn.opsize;
}

int emu_cond(const struct emu_cpu *c, unsigned cc)
{
	uint64_t f = c->s->rflags;
	int cf = !!(f & X86_RFLAGS_CF), zf = !!(f & X86_RFLAGS_ZF);
	int sf = !!(f & X86_RFLAGS_SF), of = !!(f & X86_RFLAGS_OF);
	int pf = !!(f & X86_RFLAGS_PF), r;

	switch ((cc >> 1) & 7) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

/* ---- stack ---- */

unsigned emu_stack_size(const struct emu_cpu *c)
{
	if (emu_64bit(c))
		return 8;
	return c->s->seg[X86_SS].db ? 4 : 2;
}

int emu_push(struct emu_cpu *c, uint64_t v, unsigned size)
{
	unsigned ss = emu_stack_size(c);
	uint64_t sp = (c->s->gpr[X86_RSP] - size) & emu_mask(ss);

	if (emu_write_u(c, X86_SS, sp, size, v))
		return -1;
	emu_reg_set(c, X86_RSP, ss, 0, sp);
	if (ss == 4)   /* a 32-bit stack keeps RSP's upper half (not 64-bit mode) */
		c->s->gpr[X86_RSP] = sp;
	return 0;
}

int emu_pop(struct emu_cpu *c, uint64_t *v, unsigned size)
{
	unsigned ss = emu_stack_size(c);
	uint64_t sp = c->s->gpr[X86_RSP] & emu_mask(ss);

	if (emu_read_u(c, X86_SS, sp, size, v))
		return -1;
	emu_reg_set(c, X86_RSP, ss, 0, sp + size);
	return 0;
}

/* ---- fetch, dispatch, step ---- */

/* The instruction's bytes (at most 15, zero padded to 16) still at p? */
static int same_bytes(const struct emu_dcache_entry *e, const uint8_t *p)
{
	unsigned len = e->insn.len;
	uint64_t a[2], b[2], m0 = len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
	uint64_t m1 = len <= 8 ? 0 : (1ULL << (8 * (len - 8))) - 1;

	memcpy(a, p, 16);
	memcpy(b, e->bytes, 16);
	return !((a[0] ^ b[0]) & m0) && !((a[1] ^ b[1]) & m1);
}

/*
 * 64-bit code from RAM: the decode cache, checked against the bytes now at
 * RIP.  1 when it answered (c->insn and next_rip set), 0 to take the slow
 * path, -1 on a fault.
 */
static int fetch_cached(struct emu_cpu *c, uint64_t rip)
{
	struct emu_dcache_entry *e = &c->dcache[(rip ^ (rip >> 12)) % EMU_DCACHE_SIZE];
	const uint8_t *p;
	unsigned avail;
	int r;

	if (!((rip >> 47) == 0 || (rip >> 47) == 0x1ffff))
		return 0;     /* non-canonical: the slow path raises #GP */
	if (emu_fetch_ptr(c, rip, &p, &avail))
		return -1;
	if (!p || avail < 16)
		return 0;     /* MMIO, or near the end of the page */
	if (e->lin != rip || !same_bytes(e, p)) {
		uint8_t buf[16];

		/* A copy: another vCPU may be writing the bytes as we decode. */
		memcpy(buf, p, sizeof(buf));
		r = emu_decode(buf, 15, 64, &e->insn);
		if (r) {
			e->lin = ~0ULL;
			return 0;    /* #UD, #GP: the slow path decodes and raises */
		}
		memset(e->bytes, 0, sizeof(e->bytes));
		memcpy(e->bytes, buf, e->insn.len);
		e->lin = rip;
		e->form = emu_fast_select(&e->insn);
	}
	c->insn = e->insn;
	c->fast_form = e->form;
	c->next_rip = rip + c->insn.len;
	return 1;
}

static int fetch_decode(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	int mode = emu_code_mode(c), r;
	uint8_t buf[15];
	uint64_t lin, rip = s->rip & (mode == 64 ? ~0ULL : 0xffffffffULL);
	unsigned n = 15, first;

	c->fast_form = 0;
	if (mode == 64) {
		r = fetch_cached(c, rip);
		if (r)
			return r > 0 ? 0 : -1;
	}
	if (!emu_64bit(c) && emu_protected(c) && !emu_v86(c)) {
		if (rip > s->seg[X86_CS].limit)
			return emu_gp(c, 0);
		if (s->seg[X86_CS].limit - rip + 1 < n)
			n = s->seg[X86_CS].limit - rip + 1;
	}
	if (emu_linear(c, X86_CS, rip, 1, ACC_EXEC, &lin))
		return -1;
	first = 0x1000 - (lin & 0xfff);
	if (first > n)
		first = n;
	if (emu_read_lin(c, lin, buf, first, ACC_EXEC))
		return -1;
	r = emu_decode(buf, first, mode, &c->insn);
	if (r == EMU_DECODE_TRUNCATED && first < n) {
		/* Only now does the next page matter. */
		if (emu_read_lin(c, lin + first, buf + first, n - first, ACC_EXEC))
			return -1;
		r = emu_decode(buf, n, mode, &c->insn);
	}
	if (r == EMU_DECODE_TRUNCATED)
		return emu_gp(c, 0);   /* ran into the CS limit */
	if (r == EMU_DECODE_TOO_LONG)
		return emu_gp(c, 0);
	c->next_rip = (rip + c->insn.len) & (mode == 64 ? ~0ULL : mode == 32 ? 0xffffffffULL : 0xffffULL);
	if (r == EMU_DECODE_INVALID)
		return emu_ud(c);
	c->fast_form = emu_fast_select(&c->insn);
	return 0;
}

static int dispatch(struct emu_cpu *c)
{
	unsigned op = c->insn.op;

	if (op >= OP_ADD && op <= OP_DEC)
		return emu_exec_alu(c);
	if (op >= OP_BT && op <= OP_SHRD)
		return emu_exec_alu(c);
	if ((op >= OP_MOV && op <= OP_BSWAP) || (op >= OP_CBW && op <= OP_STAC) ||
	    op == OP_XLAT || op == OP_SALC)
		return emu_exec_data(c);
	if (op >= OP_DAA && op <= OP_AAD)
		return emu_exec_bcd(c);
	if (op == OP_BOUND || op == OP_ARPL)
		return emu_exec_legacy(c);
	if (op == OP_RDPMC)
		return emu_rdpmc(c);
	if (op >= OP_PUSH && op <= OP_CMOVCC)
		return emu_exec_ctrl(c);
	if (op >= OP_MOVS && op <= OP_OUT)
		return emu_exec_string(c);
	if (op >= OP_FXSAVE && op <= OP_STMXCSR)
		return emu_exec_xsave(c);
	if (op == OP_XGETBV || op == OP_XSETBV)
		return emu_exec_xsave(c);
	if (op == OP_X87)
		return emu_exec_x87(c);
	if (op == OP_SSE)
		return emu_exec_sse(c);
	if (op == OP_FWAIT)
		return emu_fwait(c);
	if (op >= OP_LAR && op <= OP_VERW)
		return emu_exec_seginfo(c);
	if (op == OP_VECTOR)
		return emu_ud(c);   /* no AVX in the CPUID model */
	if (op == OP_INVALID)
		return emu_ud(c);
	/*
	 * Features emu's CPUID model leaves out (VMX, SVM, SGX, TSX, PKU,
	 * MONITOR, the AVX-era 0F38/0F3A opcodes...) are #UD when that model is
	 * the guest's; where the guest sees another CPU's CPUID (KVM's rescue
	 * and stretches), the instruction goes back to the caller untouched.
	 */
	if (op == OP_ABSENT)
		return c->env.cpuid ? emu_unimpl(c) : emu_ud(c);
	return emu_exec_sys(c);
}

/* Registers an instruction may change before it faults. */
/*
 * cr2 and dr6 too: delivering #PF or #DB sets them before it can give up;
 * and XINUSE, which SSE and x87 instructions set before they are done.
 */
struct snapshot {
	uint64_t gpr[X86_NR_GPRS], rip, rflags, cr2, dr6;
	uint8_t xinuse;
	int has_seg;
	struct x86_segment seg[X86_NR_SEGS];
};

static void snap(const struct x86_cpu_state *s, struct snapshot *sn)
{
	memcpy(sn->gpr, s->gpr, sizeof(sn->gpr));
	sn->rip = s->rip;
	sn->rflags = s->rflags;
	sn->cr2 = s->cr2;
	sn->dr6 = s->dr[6];
	sn->xinuse = s->xsave[EMU_XSTATE_BV];
	sn->has_seg = 0;
}

/*
 * Segment registers are copied only for the families that can change them
 * (system, far control transfers, unimplemented): most instructions never
 * do, and the copy was a large part of every step.
 */
static void snap_segs(struct emu_cpu *c, struct snapshot *sn)
{
	unsigned op = c->insn.op;
	int safe = (op >= OP_ADD && op <= OP_SHRD) || (op >= OP_CBW && op <= OP_STAC) ||
		   op == OP_SSE || op == OP_X87 || op == OP_XLAT || op == OP_SALC ||
		   (op >= OP_DAA && op <= OP_AAD) || op == OP_BOUND || op == OP_ARPL ||
		   (op >= OP_MOVS && op <= OP_OUT) ||
		   (op >= OP_PUSH && op <= OP_CMOVCC && op != OP_POP_SEG && op != OP_RETF &&
		    op != OP_JMPF && op != OP_JMPF_IND && op != OP_CALLF && op != OP_CALLF_IND);

	if (safe)
		return;
	memcpy(sn->seg, c->s->seg, sizeof(sn->seg));
	sn->has_seg = 1;
}

static void unsnap(struct x86_cpu_state *s, const struct snapshot *sn)
{
	memcpy(s->gpr, sn->gpr, sizeof(sn->gpr));
	if (sn->has_seg)
		memcpy(s->seg, sn->seg, sizeof(sn->seg));
	s->rip = sn->rip;
	s->rflags = sn->rflags;
	s->cr2 = sn->cr2;
	s->dr[6] = sn->dr6;
	s->xsave[EMU_XSTATE_BV] = sn->xinuse;
}

/* An instruction the executor gave up on, undone. */
static enum emu_result undone(struct emu_cpu *c, const struct snapshot *sn)
{
	unsnap(c->s, sn);
	return c->io_stopped ? EMU_IO : EMU_UNIMPLEMENTED;
}

static enum emu_result deliver_fault(struct emu_cpu *c, const struct snapshot *sn)
{
	int vec = c->fault;
	uint32_t err = c->fault_err;
	int has_err = c->fault_has_err;

	if (!emu_protected(c))
		has_err = 0;
	/* The one #DB an instruction raises as a fault: general detect (MOV DR). */
	if (vec == EXC_DB)
		c->s->dr[6] = (c->s->dr[6] & ~0xfULL) | EMU_DR6_BD;
	if (emu_deliver(c, vec, EV_EXCEPTION, has_err, err, c->s->rip))
		return c->unimplemented ? undone(c, sn) : EMU_TRIPLE_FAULT;
	return EMU_OK;
}

static void step_begin(struct emu_cpu *c)
{
	c->fault = -1;
	c->unimplemented = c->io_stopped = c->halted = c->shadow = 0;
	c->delivered = c->triple = c->keep_regs = c->task_trap = 0;
	c->db_hits = 0;
	c->insn_rip = c->s->rip;
}

/*
 * A #DB trap after an instruction (or after the event it delivered):
 * bits are DR6's B0-B3 (replacing the old ones when any is set), BS, BT.
 */
static enum emu_result debug_trap(struct emu_cpu *c, const struct snapshot *sn, uint64_t bits)
{
	struct x86_cpu_state *s = c->s;

	if (bits & 0xf)
		s->dr[6] &= ~0xfULL;
	s->dr[6] |= bits;
	c->insn_rip = s->rip;
	if (emu_deliver(c, EXC_DB, EV_EXCEPTION, 0, 0, s->rip))
		return c->unimplemented ? undone(c, sn) : EMU_TRIPLE_FAULT;
	return EMU_OK;
}

/*
 * The instruction after a MOV SS or POP SS faulted: its handler is
 * entered, then the held #DB is delivered before the handler's first
 * instruction, as it is after an INT n or SYSCALL there.
 */
static enum emu_result fault_then_held(struct emu_cpu *c, const struct snapshot *sn)
{
	enum emu_result r = deliver_fault(c, sn);

	if (r != EMU_OK || !c->db_held)
		return r;
	if ((r = debug_trap(c, sn, c->db_held)) == EMU_OK)
		c->db_held = 0;
	return r;
}

/*
 * The general executor: c->insn decoded (fetch_r 0) or its fetch failed
 * (fetch_r -1, the fault in c->fault).  Snapshots what an instruction may
 * change before it faults, runs it, and delivers its fault or the
 * single-step trap.  After a MOV SS or POP SS that trap (and a data
 * breakpoint's) is held in c->db_held until the next instruction is done.
 */
static enum emu_result step_general(struct emu_cpu *c, int fetch_r)
{
	struct x86_cpu_state *s = c->s;
	struct snapshot sn;
	uint64_t tf = s->rflags & X86_RFLAGS_TF, bits;
	enum emu_result res;
	int r = fetch_r;

	snap(s, &sn);
	if (!r) {
		snap_segs(c, &sn);
		/* Branches overwrite this; faults restore the snapshot.  RF goes
		 * at the start of an instruction (IRET may set it again). */
		s->rip = c->next_rip;
		s->rflags &= ~X86_RFLAGS_RF;
		r = dispatch(c);
	}
	if (c->unimplemented)
		return undone(c, &sn);
	if (c->triple)
		return EMU_TRIPLE_FAULT;
	if (r) {
		if (c->keep_regs)
			s->rip = sn.rip;
		else
			unsnap(s, &sn);
		return fault_then_held(c, &sn);
	}
	s->events.interrupt_shadow = c->shadow;
	/* BS: single-step trap; BT: a task switch to a TSS with T set;
	 * B0-B3: the data and I/O breakpoints met. */
	bits = c->db_hits | (tf && !c->delivered ? EMU_DR6_BS : 0) |
	       (c->task_trap ? EMU_DR6_BT : 0) | c->db_held;
	c->task_trap = 0;
	if (c->shadow == EMU_SHADOW_MOV_SS) {
		c->db_held = bits;
		return c->halted ? EMU_HALT : EMU_OK;
	}
	if (bits && (res = debug_trap(c, &sn, bits)) != EMU_OK)
		return res;     /* an undone instruction keeps what was held */
	c->db_held = 0;
	return c->halted ? EMU_HALT : EMU_OK;
}

/*
 * An instruction breakpoint at CS:RIP: a #DB fault before the instruction
 * (DR6 B0-B3), whose frame has RF as it is (0): the handler sets it to
 * resume (SDM 17.3.1.1).
 */
static enum emu_result code_breakpoint(struct emu_cpu *c, unsigned hits)
{
	struct x86_cpu_state *s = c->s;
	uint64_t dr6 = s->dr[6];

	/* A #DB held since a MOV SS goes with it: one exception, both causes. */
	s->dr[6] = (dr6 & ~0xfULL) | hits | c->db_held;
	if (!emu_deliver(c, EXC_DB, EV_EXCEPTION, 0, 0, s->rip)) {
		c->db_held = 0;
		return EMU_OK;
	}
	if (!c->unimplemented)
		return EMU_TRIPLE_FAULT;
	s->dr[6] = dr6;
	return c->io_stopped ? EMU_IO : EMU_UNIMPLEMENTED;
}

enum emu_result emu_step(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	int r;

	step_begin(c);
	if (emu_dr7_armed(s) && !(s->rflags & X86_RFLAGS_RF)) {
		unsigned hits = emu_code_breakpoints(c);

		if (hits)
			return code_breakpoint(c, hits);
	}
	r = fetch_decode(c);
	/*
	 * The fast form through the block runner, as a block of one: not with
	 * TF or RF set, nor a breakpoint armed (the general path tracks
	 * those), nor when RIP wraps around.
	 */
	if (!r && c->fast_form && !(s->rflags & (X86_RFLAGS_TF | X86_RFLAGS_RF)) &&
	    !emu_dr7_armed(s) && !c->env.general_only && c->next_rip == s->rip + c->insn.len) {
		struct emu_block_insn bi = { .in = c->insn, .form = (uint16_t)c->fast_form,
					     .end = c->insn.len };
		struct emu_run run = { .insns = &bi, .n = 1, .base = s->rip };

		c->fast_ctx = emu_tlb_ctx(c);
		if (emu_fast_run(c, &run, 0))
			return EMU_OK;
	}
	return step_general(c, r);
}

enum emu_result emu_exec_decoded(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip)
{
	step_begin(c);
	c->insn = *in;
	c->next_rip = next_rip;
	return step_general(c, 0);
}

enum emu_result emu_run(struct emu_cpu *c, unsigned long max_insns)
{
	unsigned long n = 0;
	enum emu_result r;

	do {
		r = emu_step(c);
		n++;
		if (r != EMU_OK)
			return r;
	} while (c->nesting && n < max_insns);
	return c->nesting ? EMU_LIMIT : EMU_OK;
}

int emu_interrupt(struct emu_cpu *c, uint8_t vector)
{
	c->fault = -1;
	c->unimplemented = c->task_trap = 0;
	c->s->mp_state = X86_MP_RUNNABLE;
	c->insn_rip = c->s->rip;
	return emu_deliver(c, vector, EV_EXTERNAL, 0, 0, c->s->rip);
}
