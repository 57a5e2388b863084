/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fast forms of the instructions that make up most of what a kernel runs
 * (docs/emu-speed.md has the counts): register and memory ALU ops, MOV
 * forms, LEA, SETcc/CMOVcc, shifts, IMUL, and (fast_ctrl.h) PUSH/POP and
 * near branches.  The decoder's caller picks one handler per decoded
 * instruction (emu_fast_select) and keeps it with the decoded form, so the
 * operand kinds are not looked at again when it runs.
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

/*
 * Each form exists for each operand size (1, 2, 4, 8 bytes), so that the
 * widths, masks and sign bits are constants in it.
 */
#define SIZES(X, M, ...) M(X, __VA_ARGS__, 1) WIDE(X, M, __VA_ARGS__)
#define WIDE(X, M, ...) M(X, __VA_ARGS__, 2) M(X, __VA_ARGS__, 4) M(X, __VA_ARGS__, 8)
/* SIZES' index of a size. */
static unsigned size_index(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/*
 * Seven operand forms for each of the nine ops and four sizes; MOV has the
 * first six (rm_select).
 */
enum { A_RM_REG, A_MEM_REG, A_REG_RM, A_REG_MEM, A_RM_IMM, A_MEM_IMM, A_ACC_IMM, A_FORMS };

#define ALU_OP_SIZE(X, nm, op, z) \
	X(nm##_rm_reg##z, alu_form(c, in, NEXT_RIP, K_RM, K_REG, op, z, bi->nf)) \
	X(nm##_mem_reg##z, alu_form(c, in, NEXT_RIP, K_MEM, K_REG, op, z, bi->nf)) \
	X(nm##_reg_rm##z, alu_form(c, in, NEXT_RIP, K_REG, K_RM, op, z, bi->nf)) \
	X(nm##_reg_mem##z, alu_form(c, in, NEXT_RIP, K_REG, K_MEM, op, z, bi->nf)) \
	X(nm##_rm_imm##z, alu_form(c, in, NEXT_RIP, K_RM, K_IMM, op, z, bi->nf)) \
	X(nm##_mem_imm##z, alu_form(c, in, NEXT_RIP, K_MEM, K_IMM, op, z, bi->nf)) \
	X(nm##_acc_imm##z, alu_form(c, in, NEXT_RIP, K_ACC, K_IMM, op, z, bi->nf))
#define ALU_OP(X, nm, op) SIZES(X, ALU_OP_SIZE, nm, op)
#define ALU_FORMS(X) \
	ALU_OP(X, add, OP_ADD) ALU_OP(X, or, OP_OR) ALU_OP(X, adc, OP_ADC) \
	ALU_OP(X, sbb, OP_SBB) ALU_OP(X, and, OP_AND) ALU_OP(X, sub, OP_SUB) \
	ALU_OP(X, xor, OP_XOR) ALU_OP(X, cmp, OP_CMP) ALU_OP(X, test, OP_TEST)

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

#define UNARY_SIZE(X, nm, op, z) \
	X(nm##_reg##z, unary_form(c, in, NEXT_RIP, K_RM, op, z, bi->nf)) \
	X(nm##_mem##z, unary_form(c, in, NEXT_RIP, K_MEM, op, z, bi->nf))
#define UNARY_FORMS(X) \
	SIZES(X, UNARY_SIZE, inc, OP_INC) SIZES(X, UNARY_SIZE, dec, OP_DEC) \
	SIZES(X, UNARY_SIZE, not, OP_NOT) SIZES(X, UNARY_SIZE, neg, OP_NEG)

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

/*
 * Shifts by an immediate: a form for each op and size; by 1 and CL, and in
 * memory (rarer), the op is looked at when they run.
 */
enum { S_REG_IMM, S_REG_ONE, S_REG_CL, S_MEM_IMM, S_MEM_ONE, S_MEM_CL, S_FORMS };
#define SHIFT_IMM_SIZE(X, nm, op, z) X(nm##_reg_imm##z, shift_form(c, in, NEXT_RIP, K_RM, K_IMM, op, z, bi->nf))
#define SHIFT_SIZE(X, nm, z) \
	X(nm##_reg_one##z, shift_form(c, in, NEXT_RIP, K_RM, K_ONE, in->op, z, bi->nf)) \
	X(nm##_reg_cl##z, shift_form(c, in, NEXT_RIP, K_RM, K_CL, in->op, z, bi->nf)) \
	X(nm##_mem_imm##z, shift_form(c, in, NEXT_RIP, K_MEM, K_IMM, in->op, z, bi->nf)) \
	X(nm##_mem_one##z, shift_form(c, in, NEXT_RIP, K_MEM, K_ONE, in->op, z, bi->nf)) \
	X(nm##_mem_cl##z, shift_form(c, in, NEXT_RIP, K_MEM, K_CL, in->op, z, bi->nf))
#define SHIFT_FORMS(X) \
	SIZES(X, SHIFT_IMM_SIZE, rol, OP_ROL) SIZES(X, SHIFT_IMM_SIZE, ror, OP_ROR) \
	SIZES(X, SHIFT_IMM_SIZE, shl, OP_SHL) SIZES(X, SHIFT_IMM_SIZE, shr, OP_SHR) \
	SIZES(X, SHIFT_IMM_SIZE, sar, OP_SAR) SIZES(X, SHIFT_SIZE, shift)

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

#define IMUL_SIZE(X, nm, op, z) \
	X(nm##_reg##z, imul_form(c, in, NEXT_RIP, K_RM, op, z, bi->nf)) \
	X(nm##_mem##z, imul_form(c, in, NEXT_RIP, K_MEM, op, z, bi->nf))
#define IMUL_FORMS(X) WIDE(X, IMUL_SIZE, imul2, OP_IMUL2) WIDE(X, IMUL_SIZE, imul3, OP_IMUL3)

/* ---- data movement ---- */

/* The MOV family, one handler per kind, operand form and width. */
enum { MV_MOV, MV_ZX8, MV_ZX16, MV_SX8, MV_SX16, MV_SXD };

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

#define MOV_SIZE(X, nm, k, z) \
	X(nm##_rm_reg##z, mov_form(c, in, NEXT_RIP, K_RM, K_REG, k, z)) \
	X(nm##_mem_reg##z, mov_form(c, in, NEXT_RIP, K_MEM, K_REG, k, z)) \
	X(nm##_reg_rm##z, mov_form(c, in, NEXT_RIP, K_REG, K_RM, k, z)) \
	X(nm##_reg_mem##z, mov_form(c, in, NEXT_RIP, K_REG, K_MEM, k, z)) \
	X(nm##_rm_imm##z, mov_form(c, in, NEXT_RIP, K_RM, K_IMM, k, z)) \
	X(nm##_mem_imm##z, mov_form(c, in, NEXT_RIP, K_MEM, K_IMM, k, z))
#define MOVX_SIZE(X, nm, k, z) \
	X(nm##_reg##z, mov_form(c, in, NEXT_RIP, K_REG, K_RM, k, z)) \
	X(nm##_mem##z, mov_form(c, in, NEXT_RIP, K_REG, K_MEM, k, z))
#define MOV_FORMS(X) \
	SIZES(X, MOV_SIZE, mov, MV_MOV) \
	WIDE(X, MOVX_SIZE, movzx8, MV_ZX8) WIDE(X, MOVX_SIZE, movzx16, MV_ZX16) \
	WIDE(X, MOVX_SIZE, movsx8, MV_SX8) WIDE(X, MOVX_SIZE, movsx16, MV_SX16) \
	WIDE(X, MOVX_SIZE, movsxd, MV_SXD)

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

#define MOVZI_SIZE(X, nm, z) X(nm##z, mov_z_imm(c, in, z))
#define LEA_SIZE(X, nm, z) X(nm##z, lea(c, in, NEXT_RIP, z))

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

#define SETCC_FORMS(X) \
	X(setcc_reg, setcc_form(c, in, NEXT_RIP, K_RM)) \
	X(setcc_mem, setcc_form(c, in, NEXT_RIP, K_MEM))

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

#define CMOV_SIZE(X, nm, z) \
	X(nm##_reg##z, cmov_form(c, in, NEXT_RIP, K_RM, z)) \
	X(nm##_mem##z, cmov_form(c, in, NEXT_RIP, K_MEM, z))
#define CMOV_FORMS(X) WIDE(X, CMOV_SIZE, cmov)

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

/* ---- every form, a label of the block runner ---- */

/* In a form's body: the address of the instruction after it (emu_fast_run's). */
#define NEXT_RIP (base + bi->end)

#define FAST_FORMS(X) \
	ALU_FORMS(X) UNARY_FORMS(X) SHIFT_FORMS(X) IMUL_FORMS(X) MOV_FORMS(X) \
	SETCC_FORMS(X) CMOV_FORMS(X) \
	SIZES(X, MOVZI_SIZE, mov_z_imm) WIDE(X, LEA_SIZE, lea) X(nop, 0) \
	X(jmp, jcc_form(c, in, NEXT_RIP, 0)) X(jcc, jcc_form(c, in, NEXT_RIP, 1)) CTRL_FORMS(X)
/* The stack and branch forms, last in FAST_FORMS: FF_jmp and on. */

/* The flags an ALU op left waiting (nf 2), before anything can see them. */
static __attribute__((noinline, cold)) void flags_wait_end(struct emu_cpu *c,
							 const struct emu_block_insn *k)
{
	alu(c->s, k->in.op, c->lazy_a, c->lazy_b, osize(&k->in), 0);
}

#define X_ID(name, body) FF_##name,
enum { FF_NONE, FAST_FORMS(X_ID) FF_COUNT };

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

#undef in

/*
 * The forms' numbers by op, size and operand form: t[size_index(size)]
 * for SIZES' groups, t[size_index(size) - 1] for WIDE's.
 */
#define BY_SIZE(M, ...) { M(__VA_ARGS__, 1), M(__VA_ARGS__, 2), M(__VA_ARGS__, 4), M(__VA_ARGS__, 8) }
#define BY_WIDE(M, ...) { M(__VA_ARGS__, 2), M(__VA_ARGS__, 4), M(__VA_ARGS__, 8) }
#define ALU_IDS(nm, z) { FF_##nm##_rm_reg##z, FF_##nm##_mem_reg##z, FF_##nm##_reg_rm##z, \
			 FF_##nm##_reg_mem##z, FF_##nm##_rm_imm##z, FF_##nm##_mem_imm##z, \
			 FF_##nm##_acc_imm##z }
#define SHIFT_IDS(nm, z) { FF_##nm##_reg_imm##z, FF_shift_reg_one##z, FF_shift_reg_cl##z, \
			   FF_shift_mem_imm##z, FF_shift_mem_one##z, FF_shift_mem_cl##z }
#define MOV_IDS(nm, z) { FF_##nm##_rm_reg##z, FF_##nm##_mem_reg##z, FF_##nm##_reg_rm##z, \
			 FF_##nm##_reg_mem##z, FF_##nm##_rm_imm##z, FF_##nm##_mem_imm##z }
#define REG_MEM_IDS(nm, z) { FF_##nm##_reg##z, FF_##nm##_mem##z }
#define ONE_ID(nm, z) FF_##nm##z

/* ADD..CMP in OP_ order, then TEST. */
static const uint16_t alu_forms[9][4][A_FORMS] = {
	BY_SIZE(ALU_IDS, add), BY_SIZE(ALU_IDS, or), BY_SIZE(ALU_IDS, adc),
	BY_SIZE(ALU_IDS, sbb), BY_SIZE(ALU_IDS, and), BY_SIZE(ALU_IDS, sub),
	BY_SIZE(ALU_IDS, xor), BY_SIZE(ALU_IDS, cmp), BY_SIZE(ALU_IDS, test),
};
static const uint16_t unary_forms[4][4][2] = {    /* INC, DEC, NOT, NEG */
	BY_SIZE(REG_MEM_IDS, inc), BY_SIZE(REG_MEM_IDS, dec),
	BY_SIZE(REG_MEM_IDS, not), BY_SIZE(REG_MEM_IDS, neg),
};
static const uint16_t shift_forms[5][4][S_FORMS] = {    /* ROL, ROR, SHL, SHR, SAR */
	BY_SIZE(SHIFT_IDS, rol), BY_SIZE(SHIFT_IDS, ror), BY_SIZE(SHIFT_IDS, shl),
	BY_SIZE(SHIFT_IDS, shr), BY_SIZE(SHIFT_IDS, sar),
};
static const uint16_t imul_forms[2][3][2] = {    /* IMUL2, IMUL3 */
	BY_WIDE(REG_MEM_IDS, imul2), BY_WIDE(REG_MEM_IDS, imul3),
};
static const uint16_t mov_forms[4][A_ACC_IMM] = BY_SIZE(MOV_IDS, mov);
static const uint16_t movx_forms[5][3][2] = {    /* ZX8, ZX16, SX8, SX16, SXD */
	BY_WIDE(REG_MEM_IDS, movzx8), BY_WIDE(REG_MEM_IDS, movzx16), BY_WIDE(REG_MEM_IDS, movsx8),
	BY_WIDE(REG_MEM_IDS, movsx16), BY_WIDE(REG_MEM_IDS, movsxd),
};
static const uint16_t mov_z_imm_forms[4] = BY_SIZE(ONE_ID, mov_z_imm);
static const uint16_t lea_forms[3] = BY_WIDE(ONE_ID, lea);
static const uint16_t cmov_forms[3][2] = BY_WIDE(REG_MEM_IDS, cmov);

/* ---- choosing a handler ---- */

/* The E,G / G,E / E,imm forms of a row of alu_forms or mov_forms. */
static unsigned rm_select(const uint16_t *row, unsigned dk, unsigned sk, int reg)
{
	if (dk == OPND_E && sk == OPND_G)
		return row[reg ? A_RM_REG : A_MEM_REG];
	if (dk == OPND_G && sk == OPND_E)
		return row[reg ? A_REG_RM : A_REG_MEM];
	if (dk == OPND_E && sk == OPND_I)
		return row[reg ? A_RM_IMM : A_MEM_IMM];
	return FF_NONE;
}

static unsigned alu_select(const struct x86_insn *in, unsigned dk, unsigned sk, int reg,
			   unsigned size)
{
	const uint16_t *row = alu_forms[in->op == OP_TEST ? 8 : in->op - OP_ADD][size_index(size)];

	if (dk == OPND_A && sk == OPND_I)
		return row[A_ACC_IMM];
	return rm_select(row, dk, sk, reg);
}

static unsigned shift_select(const struct x86_insn *in, unsigned sk, int reg, unsigned size)
{
	static const int8_t row[8] = { 0, 1, -1, -1, 2, 3, 2, 4 };   /* ROL..SAR */
	int r = row[in->op - OP_ROL];
	unsigned f = sk == OPND_I ? S_REG_IMM : sk == OPND_1 ? S_REG_ONE : S_REG_CL;

	if (r < 0 || (sk != OPND_I && sk != OPND_1 && sk != OPND_CL))
		return FF_NONE;     /* RCL, RCR: the general executor's */
	return shift_forms[r][size_index(size)][reg ? f : f + S_MEM_IMM];
}


/* The forms of fast_ctrl.h: 64-bit code, 64-bit operands. */
static unsigned ctrl_select(const struct x86_insn *in, int reg)
{
	if (in->mode != 64 || in->opsize != 8)
		return FF_NONE;
	switch (in->op) {
	case OP_PUSH_Z: return FF_push_z;
	case OP_POP_Z: return FF_pop_z;
	case OP_PUSH_I: return FF_push_imm;
	case OP_CALL: return FF_call;
	case OP_RET: return FF_ret;
	case OP_JMP_IND: case OP_CALL_IND: return reg ? FF_ind_reg : FF_ind_mem;
	}
	return FF_NONE;
}

static unsigned select_form(const struct x86_insn *in)
{
	unsigned dk = F_GET_DST(in->flags), sk = F_GET_SRC(in->flags), size = osize(in);
	int reg = in->has_modrm && in->mod == 3, mem = in->has_modrm && in->mod != 3;
	unsigned wide = size_index(in->opsize) - 1, rm = !reg;   /* opsize: 2, 4 or 8 */

	if (in->lock || in->vex)
		return FF_NONE;
	/* Memory forms only in 64-bit code (flat segments); no 67 (32-bit addresses) there. */
	if (mem && in->mode != 64)
		return FF_NONE;
	switch (in->op) {
	case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB:
	case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP: case OP_TEST:
		return alu_select(in, dk, sk, reg, size);
	case OP_INC: case OP_DEC: case OP_NOT: case OP_NEG:
		if (!in->has_modrm && in->mode == 64)
			return FF_NONE;      /* 40-4F are REX there */
		return unary_forms[in->op == OP_INC ? 0 : in->op == OP_DEC ? 1 : in->op == OP_NOT ? 2 : 3]
				  [size_index(size)][in->has_modrm ? rm : 0];   /* 40-4F: registers */
	case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR:
	case OP_SHL: case OP_SHR: case OP_SAL: case OP_SAR:
		return shift_select(in, sk, reg, size);
	case OP_IMUL2:
	case OP_IMUL3:
		return imul_forms[in->op == OP_IMUL3][wide][rm];
	case OP_MOV:
		return rm_select(mov_forms[size_index(size)], dk, sk, reg);
	case OP_MOVZX:
		return movx_forms[(in->opcode & 1) ? 1 : 0][wide][rm];
	case OP_MOVSX:
		return movx_forms[(in->opcode & 1) ? 3 : 2][wide][rm];
	case OP_MOVSXD:
		return movx_forms[4][wide][rm];
	case OP_MOV_ZI:
		return mov_z_imm_forms[size_index(size)];
	case OP_LEA:
		return lea_forms[wide];
	case OP_NOP:
		return FF_nop;
	case OP_XCHG_A:   /* 90 is NOP (F3 90 PAUSE) unless REX.B makes it XCHG r8 */
		return !(in->rex & 1) && (in->opcode & 7) == 0 ? FF_nop : FF_NONE;
	case OP_SETCC:
		return reg ? FF_setcc_reg : FF_setcc_mem;
	case OP_CMOVCC:
		return cmov_forms[wide][rm];
	case OP_JMP:
	case OP_JCC:
		if (in->mode != 64 || in->opsize != 8)
			return FF_NONE;
		return in->op == OP_JMP ? FF_jmp : FF_jcc;
	}
	return ctrl_select(in, reg);
}

unsigned emu_fast_select(const struct x86_insn *in)
{
	return select_form(in);
}

/* ---- flags nothing reads ---- */

/* The flags cc's condition reads. */
static unsigned cond_flags(unsigned cc)
{
	static const uint16_t f[8] = {
		FL(OF), FL(CF), FL(ZF), FL(CF) | FL(ZF), FL(SF), FL(PF), FL(SF) | FL(OF),
		FL(ZF) | FL(SF) | FL(OF),
	};

	return f[(cc >> 1) & 7];
}

/*
 * The arithmetic flags bi's form always writes (*w), whatever the operand
 * values; the ones it reads (*r): all of them for an instruction without
 * a form, which the general executor runs; and whether anything may see
 * them around it (*x): a memory operand, the stack or a branch can miss,
 * when the general executor runs it and may fault with RFLAGS in the
 * frame, and a store can end the block after itself.
 */
static void form_flags(const struct emu_block_insn *bi, unsigned *w, unsigned *r, int *x)
{
	const struct x86_insn *in = &bi->in;
	unsigned size = osize(in), cnt, sk = F_GET_SRC(in->flags);

	*w = 0;
	*r = 0;
	*x = (in->has_modrm && in->mod != 3 && in->op != OP_LEA) || bi->form >= FF_jmp;
	if (bi->form == FF_NONE) {
		*r = EMU_FLAGS_ARITH;
		return;
	}
	switch (in->op) {
	case OP_ADC: case OP_SBB:
		*r = FL(CF);
		/* fall through */
	case OP_ADD: case OP_OR: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP:
	case OP_TEST: case OP_NEG:
		*w = EMU_FLAGS_ARITH;
		break;
	case OP_INC: case OP_DEC:
		*w = EMU_FLAGS_ARITH & ~FL(CF);
		break;
	case OP_ROL: case OP_ROR: case OP_SHL: case OP_SHR: case OP_SAL: case OP_SAR:
		if (sk != OPND_I && sk != OPND_1)
			break;      /* by CL: a count of 0 writes none */
		cnt = sk == OPND_1 ? 1 : (unsigned)in->imm & (size == 8 ? 63 : 31);
		if (cnt)
			*w = in->op == OP_ROL || in->op == OP_ROR ? FL(CF) | FL(OF) : EMU_FLAGS_ARITH;
		break;
	case OP_IMUL2: case OP_IMUL3:
		*w = FL(CF) | FL(OF);
		break;
	case OP_SETCC: case OP_CMOVCC: case OP_JCC:
		*r = cond_flags(in->opcode & 0xf);
		break;
	}
}

/* A register ADD, OR, AND, SUB, XOR, CMP or TEST: its flags can wait (nf 2). */
static int can_wait(const struct emu_block_insn *bi)
{
	unsigned op = bi->in.op;

	return bi->form != FF_NONE && !(bi->in.has_modrm && bi->in.mod != 3) &&
	       (op == OP_ADD || op == OP_OR || op == OP_AND || op == OP_SUB || op == OP_XOR ||
		op == OP_CMP || op == OP_TEST);
}

/*
 * A block runs from its first instruction to its last but where one
 * misses or stops; the block's end and whatever misses or stops see every
 * flag.  Flags written again before anything reads or can see them are
 * dead: their form need not compute them (nf 1).  A register ALU op whose
 * flags the next flag writer (a register form too) overwrites whole, with
 * nothing reading them between, keeps only its operands (nf 2), and what
 * can miss or stop between computes them from these first (mat).
 */
void emu_fast_liveness(struct emu_block_insn *insns, unsigned n)
{
	unsigned live = EMU_FLAGS_ARITH, w[n], r[n], i, k;
	int x[n];

	for (i = 0; i < n; i++) {
		form_flags(&insns[i], &w[i], &r[i], &x[i]);
		insns[i].mat = 0;
	}
	for (i = n; i--;) {
		if (x[i])
			live = EMU_FLAGS_ARITH;
		insns[i].nf = w[i] && !(w[i] & live);
		live = (live & ~w[i]) | r[i] | (x[i] ? EMU_FLAGS_ARITH : 0);
	}
	for (k = 0; k < n; k++) {
		if (insns[k].nf || !can_wait(&insns[k]))
			continue;
		for (i = k + 1; i < n && !w[i] && !r[i]; i++)
			;
		if (i == n || r[i] || x[i] || w[i] != EMU_FLAGS_ARITH)
			continue;
		insns[k].nf = 2;
		while (--i > k)
			if (x[i])
				insns[i].mat = (uint8_t)(i - k);
	}
}
