/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fast forms of the stack and near control transfers in 64-bit code with
 * 64-bit operands: PUSH/POP, CALL, RET, indirect JMP/CALL (JMP and Jcc are
 * the runner's own, in fast.c).  A
 * branch target is checked (canonical) before anything changes; a miss
 * leaves the instruction to the general executor, as in fast.c.
 */
#include "accel/emu/fast_int.h"

/* ---- stack and near branches (64-bit code, 64-bit operand size) ---- */

static int f_push_z(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint64_t sp = s->gpr[X86_RSP] - 8;
	uint8_t *p;

	if (!stack_ptr_ok(c, sp, 1, &p))
		return EMU_FAST_MISS;
	st(c, p, 8, s->gpr[(in->opcode & 7) | ((in->rex & 1) << 3)]);
	s->gpr[X86_RSP] = sp;
	return 0;
}

static int f_push_imm(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint64_t sp = s->gpr[X86_RSP] - 8;
	uint8_t *p;

	if (!stack_ptr_ok(c, sp, 1, &p))
		return EMU_FAST_MISS;
	st(c, p, 8, in->imm);
	s->gpr[X86_RSP] = sp;
	return 0;
}

static int f_pop_z(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint8_t *p;
	uint64_t v;

	if (!stack_ptr_ok(c, s->gpr[X86_RSP], 0, &p))
		return EMU_FAST_MISS;
	v = ld(p, 8);
	s->gpr[X86_RSP] += 8;
	s->gpr[(in->opcode & 7) | ((in->rex & 1) << 3)] = v;
	return 0;
}

static int f_call(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint64_t t = s->rip + in->imm, sp = s->gpr[X86_RSP] - 8;
	uint8_t *p;

	if (!canonical(t) || !stack_ptr_ok(c, sp, 1, &p))
		return EMU_FAST_MISS;
	st(c, p, 8, s->rip);
	s->gpr[X86_RSP] = sp;
	s->rip = t;
	return 0;
}

static int f_ret(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint8_t *p;
	uint64_t t;

	if (!stack_ptr_ok(c, s->gpr[X86_RSP], 0, &p))
		return EMU_FAST_MISS;
	t = ld(p, 8);
	if (!canonical(t))
		return EMU_FAST_MISS;
	s->gpr[X86_RSP] += 8 + (in->imm & 0xffff);
	s->rip = t;
	return 0;
}

/* JMP and CALL through a register or memory. */
static inline __attribute__((always_inline)) int ind_form(struct emu_cpu *c,
							  const struct x86_insn *in, int sk)
{
	struct x86_cpu_state *s = c->s;
	uint64_t t, sp = s->gpr[X86_RSP] - 8;
	uint8_t *p = NULL;

	if (sk == K_MEM) {
		if (!mload(c, in, s->rip, 8, &t))
			return EMU_FAST_MISS;
	} else {
		t = s->gpr[in->rm];
	}
	if (!canonical(t))
		return EMU_FAST_MISS;
	if (in->op == OP_CALL_IND) {
		if (!stack_ptr_ok(c, sp, 1, &p))
			return EMU_FAST_MISS;
		st(c, p, 8, s->rip);
		s->gpr[X86_RSP] = sp;
	}
	s->rip = t;
	return 0;
}

FORM(f_ind_reg, ind_form(c, in, K_RM))
FORM(f_ind_mem, ind_form(c, in, K_MEM))

emu_fast_fn emu_fast_select_ctrl(const struct x86_insn *in)
{
	int reg = in->has_modrm && in->mod == 3;

	if (in->mode != 64 || in->opsize != 8 || in->lock)
		return NULL;
	switch (in->op) {
	case OP_PUSH_Z:
		return f_push_z;
	case OP_POP_Z:
		return f_pop_z;
	case OP_PUSH_I:
		return f_push_imm;
	case OP_CALL:
		return f_call;
	case OP_RET:
		return f_ret;
	case OP_JMP_IND:
	case OP_CALL_IND:
		return reg ? f_ind_reg : f_ind_mem;
	}
	return NULL;
}
