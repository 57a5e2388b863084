/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fast forms and the block runner that executes them (emu_fast_run):
 * forms of the instructions that make up most of what a kernel runs
 * (docs/emu-speed.md has the counts): register and memory ALU ops, MOV
 * forms, LEA, SETcc/CMOVcc, shifts, IMUL, and (fast_ctrl.h) PUSH/POP and
 * near branches.  fast_forms.h lists them; the decoder's caller picks one
 * per decoded instruction (emu_fast_select, fast_select.c) and keeps it
 * with the decoded form, so the operand kinds are not looked at again
 * when it runs.
 *
 * A handler either does the whole instruction or nothing: memory is only
 * touched through the TLB's fast tags (emu_fast_ptr: RAM, one page,
 * permissions already checked in this privilege context), every check
 * comes before the first change, and anything else (a TLB miss, MMIO, a
 * non-canonical branch target, a fault) returns EMU_FAST_MISS with the
 * state untouched, for the general executor to do exactly.  So a handler
 * never raises an exception and needs no snapshot of the registers.
 */
#include "accel/emu/block_int.h"
#include "accel/emu/fast_ctrl.h"
#include "accel/emu/fast_forms.h"
#include "accel/emu/fast_int.h"

/* emu_alu's results and flags, inlined (op is a constant in each handler): ADD..CMP and TEST. */
FAST_INLINE uint64_t alu(struct x86_cpu_state *s, unsigned op, uint64_t a, uint64_t b,
			 unsigned size, int nf)
{
	uint64_t m = emu_mask(size), msb = 1ULL << (size * 8 - 1), cin, r, f;

	a &= m;
	b &= m;
	if (nf) {
		cin = (op == OP_ADC || op == OP_SBB) && (s->rflags & FL(CF));
		switch (op) {
		case OP_ADD: case OP_ADC: return (a + b + cin) & m;
		case OP_SUB: case OP_SBB: case OP_CMP: return (a - b - cin) & m;
		case OP_OR: return a | b;
		case OP_XOR: return a ^ b;
		default: return a & b;
		}
	}
	switch (op) {
	case OP_ADD:
	case OP_ADC:
		cin = op == OP_ADC && (s->rflags & FL(CF));
		r = (a + b + cin) & m;
		f = (r < a || (cin && r == a)) ? FL(CF) : 0;
		f |= ((a ^ r) & (b ^ r) & msb) ? FL(OF) : 0;
		f |= (a ^ b ^ r) & FL(AF);
		break;
	case OP_SUB:
	case OP_SBB:
	case OP_CMP:
		cin = op == OP_SBB && (s->rflags & FL(CF));
		r = (a - b - cin) & m;
		f = (a < b || (cin && a == b)) ? FL(CF) : 0;
		f |= ((a ^ b) & (a ^ r) & msb) ? FL(OF) : 0;
		f |= (a ^ b ^ r) & FL(AF);
		break;
	case OP_OR:
		r = a | b;
		f = 0;
		break;
	case OP_XOR:
		r = a ^ b;
		f = 0;
		break;
	default:     /* AND, TEST */
		r = a & b;
		f = 0;
		break;
	}
	s->rflags = (s->rflags & ~EMU_FLAGS_ARITH) | f | szp(r, size);
	return r;
}

/* ---- ALU ops: one handler per operand form ---- */

FAST_INLINE uint64_t src_val(const struct x86_cpu_state *s, const struct x86_insn *in, int k,
			     unsigned size)
{
	switch (k) {
	case K_RM: return rget(s, in, in->rm, size);
	case K_REG: return rget(s, in, in->reg, size);
	case K_ACC: return s->gpr[X86_RAX] & emu_mask(size);
	case K_ONE: return 1;
	case K_CL: return s->gpr[X86_RCX] & 0xff;
	default: return in->imm & emu_mask(size);
	}
}

FAST_INLINE unsigned dst_reg(const struct x86_insn *in, int k)
{
	return k == K_RM ? in->rm : k == K_REG ? in->reg : X86_RAX;
}

/* dk: K_RM, K_REG, K_ACC or K_MEM; sk: K_RM, K_REG, K_IMM or K_MEM. */
FAST_INLINE int alu_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int dk, int sk,
			 unsigned op, unsigned size, int nf)
{
	struct x86_cpu_state *s = c->s;
	uint64_t a, b, r;
	uint8_t *p = NULL;

	if (sk == K_MEM) {
		if (!mload(c, in, next_rip, size, &b))
			return EMU_FAST_MISS;
	} else {
		b = src_val(s, in, sk, size);
	}
	if (dk == K_MEM) {
		p = mptr(c, in, next_rip, size, writes_dst(op));
		if (!p)
			return EMU_FAST_MISS;
		a = ld(p, size);
	} else {
		a = rget(s, in, dst_reg(in, dk), size);
	}
	if (nf == 2) {
		c->lazy_a = a;
		c->lazy_b = b;
	}
	r = alu(s, op, a, b, size, nf);
	if (!writes_dst(op))
		return 0;
	if (dk == K_MEM)
		return st_done(c, p, size, r);
	rset(s, in, dst_reg(in, dk), size, r);
	return 0;
}

/* INC, DEC, NOT, NEG on a register or memory (no LOCK). */
FAST_INLINE int unary_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int dk, unsigned op,
			   unsigned size, int nf)
{
	struct x86_cpu_state *s = c->s;
	unsigned r = (in->map == X86_MAP_ONE && in->opcode < 0x50) ?
		     (in->opcode & 7) : in->rm;      /* 40-4F in 16/32-bit code */
	uint64_t a, v, cf = s->rflags & FL(CF);
	uint8_t *p = NULL;

	if (dk == K_MEM) {
		p = mptr(c, in, next_rip, size, 1);
		if (!p)
			return EMU_FAST_MISS;
		a = ld(p, size);
	} else {
		a = rget(s, in, r, size);
	}
	switch (op) {
	case OP_INC:
	case OP_DEC:
		v = alu(s, op == OP_INC ? OP_ADD : OP_SUB, a, 1, size, nf);
		if (!nf)
			s->rflags = (s->rflags & ~FL(CF)) | cf;
		break;
	case OP_NEG:
		v = alu(s, OP_SUB, 0, a, size, nf);
		break;
	default:
		v = ~a & emu_mask(size);
		break;
	}
	if (dk == K_MEM)
		return st_done(c, p, size, v);
	rset(s, in, r, size, v);
	return 0;
}

/* Shifts and ROL/ROR with exec_alu.c's flags (RCL/RCR are the general executor's). */
FAST_INLINE uint64_t shift(struct x86_cpu_state *s, unsigned op, uint64_t a, unsigned cnt,
			   unsigned size, int nf)
{
	unsigned bits = size * 8;
	uint64_t m = emu_mask(size), r, cf, of;

	cnt &= size == 8 ? 63 : 31;
	a &= m;
	if (!cnt)
		return a;
	if (op == OP_ROL || op == OP_ROR) {
		unsigned n = cnt % bits;

		if (n)
			r = op == OP_ROL ? ((a << n) | (a >> (bits - n))) & m :
					   ((a >> n) | (a << (bits - n))) & m;
		else
			r = a;
		if (nf)
			return r;
		cf = op == OP_ROL ? r & 1 : r >> (bits - 1);
		of = op == OP_ROL ? (r >> (bits - 1)) ^ cf : ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1;
		s->rflags = (s->rflags & ~(FL(CF) | FL(OF))) | (cf ? FL(CF) : 0) | (of ? FL(OF) : 0);
		return r;
	}
	if (nf) {
		if (op == OP_SAR)
			return (uint64_t)((int64_t)emu_sext(a, size) >> (cnt > 63 ? 63 : cnt)) & m;
		return cnt >= bits ? 0 : op == OP_SHR ? a >> cnt : (a << cnt) & m;
	}
	if (op == OP_SHR) {
		r = cnt >= bits ? 0 : a >> cnt;
		cf = cnt > bits ? 0 : (a >> (cnt - 1)) & 1;
		of = a >> (bits - 1);
	} else if (op == OP_SAR) {
		int64_t sa = (int64_t)emu_sext(a, size);

		r = (uint64_t)(sa >> (cnt > 63 ? 63 : cnt)) & m;
		cf = (uint64_t)(sa >> (cnt - 1 > 63 ? 63 : cnt - 1)) & 1;
		of = 0;
	} else {
		r = cnt >= bits ? 0 : (a << cnt) & m;
		cf = cnt > bits ? 0 : (a >> (bits - cnt)) & 1;
		of = (r >> (bits - 1)) ^ cf;
	}
	s->rflags = (s->rflags & ~EMU_FLAGS_ARITH) | szp(r, size) | FL(AF) |
		    (cf ? FL(CF) : 0) | (of ? FL(OF) : 0);
	return r;
}

/* Shifts and rotates (group 2) by an immediate, 1 or CL. */
FAST_INLINE int shift_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int dk, int sk,
			   unsigned op, unsigned size, int nf)
{
	struct x86_cpu_state *s = c->s;
	unsigned cnt = sk == K_IMM ? (unsigned)(in->imm & 0xff) : (unsigned)src_val(s, in, sk, size);
	uint64_t a, v;
	uint8_t *p = NULL;

	if (dk == K_MEM) {
		p = mptr(c, in, next_rip, size, 1);
		if (!p)
			return EMU_FAST_MISS;
		a = ld(p, size);
	} else {
		a = rget(s, in, in->rm, size);
	}
	v = shift(s, op, a, cnt, size, nf);
	if (dk == K_MEM)
		return st_done(c, p, size, v);
	rset(s, in, in->rm, size, v);
	return 0;
}

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B): CF and OF only. */
FAST_INLINE int imul_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int sk, unsigned op,
			  unsigned size, int nf)
{
	struct x86_cpu_state *s = c->s;
	uint64_t a, b, lo;
	__int128 prod;

	if (sk == K_MEM) {
		if (!mload(c, in, next_rip, size, &b))
			return EMU_FAST_MISS;
	} else {
		b = rget(s, in, in->rm, size);
	}
	a = op == OP_IMUL2 ? rget(s, in, in->reg, size) : in->imm;
	prod = (__int128)(int64_t)emu_sext(a, size) * (int64_t)emu_sext(b, size);
	lo = (uint64_t)(unsigned __int128)prod & emu_mask(size);
	rset(s, in, in->reg, size, lo);
	if (nf)
		return 0;
	s->rflags &= ~(FL(CF) | FL(OF));
	if (prod != (__int128)(int64_t)emu_sext(lo, size))
		s->rflags |= FL(CF) | FL(OF);
	return 0;
}

/* ---- data movement ---- */

/* The MOV family: kind is MV_* (fast_forms.h), one form per kind, operand form and width. */
FAST_INLINE int mov_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int dk, int sk, int kind,
			 unsigned dsize)
{
	struct x86_cpu_state *s = c->s;
	unsigned ssize;
	uint64_t v;

	switch (kind) {
	case MV_ZX8: case MV_SX8: ssize = 1; break;
	case MV_ZX16: case MV_SX16: ssize = 2; break;
	case MV_SXD: ssize = dsize == 8 ? 4 : dsize; break;
	default: ssize = dsize; break;
	}
	if (sk == K_MEM) {
		if (!mload(c, in, next_rip, ssize, &v))
			return EMU_FAST_MISS;
	} else if (sk == K_IMM) {
		v = in->imm & emu_mask(ssize);
	} else {
		v = rget(s, in, sk == K_RM ? in->rm : in->reg, ssize);
	}
	if (kind == MV_SX8 || kind == MV_SX16 || kind == MV_SXD)
		v = emu_sext(v, ssize);
	if (dk == K_MEM) {
		uint8_t *p = mptr(c, in, next_rip, dsize, 1);

		if (!p)
			return EMU_FAST_MISS;
		return st_done(c, p, dsize, v);
	}
	rset(s, in, dk == K_RM ? in->rm : in->reg, dsize, v);
	return 0;
}

/* B0-BF: MOV r, imm (the register is in the opcode). */
FAST_INLINE int mov_z_imm(struct emu_cpu *c, const struct x86_insn *in, unsigned size)
{
	rset(c->s, in, (in->opcode & 7) | ((in->rex & 1) << 3), size, in->imm);
	return 0;
}

FAST_INLINE int lea(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, unsigned size)
{
	struct x86_cpu_state *s = c->s;

	rset(s, in, in->reg, size, fast_ea(s, in, next_rip));
	return 0;
}

FAST_INLINE int setcc_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int dk)
{
	uint64_t v = cond(c->s->rflags, in->opcode & 0xf);

	if (dk == K_MEM) {
		uint8_t *p = mptr(c, in, next_rip, 1, 1);

		if (!p)
			return EMU_FAST_MISS;
		return st_done(c, p, 1, v);
	}
	rset(c->s, in, in->rm, 1, v);
	return 0;
}

/* CMOVcc reads its source either way; a 32-bit one writes (zero-extends) either way. */
FAST_INLINE int cmov_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int sk, unsigned size)
{
	struct x86_cpu_state *s = c->s;
	uint64_t v;

	if (sk == K_MEM) {
		if (!mload(c, in, next_rip, size, &v))
			return EMU_FAST_MISS;
	} else {
		v = rget(s, in, in->rm, size);
	}
	rset(s, in, in->reg, size, cond(s->rflags, in->opcode & 0xf) ? v : rget(s, in, in->reg, size));
	return 0;
}

/* ---- near JMP and Jcc (64-bit code, 64-bit operand size): a block's last instruction ---- */

FAST_INLINE int jcc_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip,
			 int conditional)
{
	uint64_t t = next_rip + in->imm;

	if (conditional && !cond(c->s->rflags, in->opcode & 0xf))
		t = next_rip;
	else if (!canonical(t))
		return EMU_FAST_MISS;
	c->s->rip = t;
	return FAST_BRANCH;
}

/* ---- the block runner: every form of fast_forms.h is one of its labels ---- */

/* In a form's body: the address of the instruction after it (emu_fast_run's). */
#define NEXT_RIP (base + bi->end)

/* The flags an ALU op left waiting (nf 2), before anything can see them. */
static __attribute__((noinline, cold)) void flags_wait_end(struct emu_cpu *c,
							 const struct emu_block_insn *k)
{
	alu(c->s, k->in.op, c->lazy_a, c->lazy_b, osize(&k->in), 0);
}

/*
 * In a form's body: the instruction, the first member of the runner's bi
 * (not a variable of its own, which the compiler would keep in a register).
 */
_Static_assert(offsetof(struct emu_block_insn, in) == 0, "in first");
#define in ((const struct x86_insn *)bi)

/*
 * Runs a block's instructions from insns[i] on while they have fast forms
 * and these do them, threaded: each form jumps to the next one's label,
 * with the guest state and the block in host registers, instead of
 * returning to a loop and calling through a pointer.  Only the last
 * instruction of a block can transfer control, so each one's next RIP is
 * base (the block's RIP) plus its end offset (NEXT_RIP), and RIP itself
 * is written only when the runner stops.  A block that ran whole goes on
 * to the next one when emu_block_next finds it, while the chain's budget
 * lasts.  Returns the index, in run's block then, of the first
 * instruction not done: n, or one the general executor must run (RIP then
 * at its start), or the one after a store into the block's page.
 */
unsigned emu_fast_run(struct emu_cpu *c, struct emu_run *run, unsigned i)
{
#define X_LABEL(name, body) [FF_##name] = &&l_##name,
	static const void *const labels[FF_COUNT] = {
		[FF_NONE] = &&l_none, FAST_FORMS(X_LABEL)
	};
	struct x86_cpu_state *s = c->s;
	const struct emu_block_insn *insns = run->insns, *bi = insns + i, *last = insns + run->n;
	uint64_t base = run->base;

	if (bi >= last)
		return i;
	goto *labels[bi->form];

/*
 * Each form jumps to the next itself: an indirect jump of its own, which
 * the CPU predicts from what follows that form (a boot 5-10% faster than
 * with one jump shared by every form).
 */
#define X_BODY(name, body) \
l_##name: \
	switch (body) { \
	case 0: \
		if (++bi == last) \
			goto end; \
		goto *labels[bi->form]; \
	case EMU_FAST_MISS: goto miss; \
	case FAST_STOP: goto stop; \
	default: goto branched; \
	}
	FAST_FORMS(X_BODY)
end:
	s->rip = base + bi[-1].end;
	goto chain;
stop:
	if (bi->mat)
		flags_wait_end(c, bi - bi->mat);
	s->rip = NEXT_RIP;
	bi++;
	goto out;
branched:
	bi++;
chain:
	if (c->smc || run->done + run->n >= run->budget || !emu_block_next(c, run))
		goto out;
	insns = bi = run->insns;
	last = insns + run->n;
	base = run->base;
	i = 0;
	goto *labels[bi->form];
miss:
	if (bi->mat)
		flags_wait_end(c, bi - bi->mat);
l_none:
	s->rip = base + bi->end - in->len;
out:
	if (bi > insns + i)
		s->events.interrupt_shadow = 0;
	return (unsigned)(bi - insns);
}
