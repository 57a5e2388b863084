/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_EMU_FAST_CTRL_H
#define VMON_ACCEL_EMU_FAST_CTRL_H

/*
 * Fast forms of the stack and near control transfers in 64-bit code with
 * 64-bit operands, for the runner in fast.c (fast_forms.h's CTRL_FORMS):
 * PUSH/POP, CALL, RET, indirect JMP/CALL.  A branch target is checked
 * (canonical) before anything changes; a miss leaves the instruction to
 * the general executor, as in fast.c.  A transfer is its block's last
 * instruction and sets RIP.
 */
#include "accel/emu/fast_int.h"

/* ---- stack and near branches (64-bit code, 64-bit operand size) ---- */

/* PUSH r (50-57) or PUSH imm (68, 6A). */
FAST_INLINE int push_form(struct emu_cpu *c, const struct x86_insn *in, int imm)
{
	struct x86_cpu_state *s = c->s;
	uint64_t sp = s->gpr[X86_RSP] - 8;
	uint64_t v = imm ? in->imm : s->gpr[(in->opcode & 7) | ((in->rex & 1) << 3)];
	uint8_t *p;

	if (!stack_ptr_ok(c, sp, 1, &p))
		return EMU_FAST_MISS;
	s->gpr[X86_RSP] = sp;
	return st_done(c, p, 8, v);
}

/* The quadword at the top of the stack, into *v: 0 when the fast path cannot. */
FAST_INLINE int stack_top(struct emu_cpu *c, uint64_t *v)
{
	uint8_t *p;

	if (!stack_ptr_ok(c, c->s->gpr[X86_RSP], 0, &p))
		return 0;
	*v = ld(p, 8);
	return 1;
}

FAST_INLINE int pop_form(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint64_t v;

	if (!stack_top(c, &v))
		return EMU_FAST_MISS;
	s->gpr[X86_RSP] += 8;
	s->gpr[(in->opcode & 7) | ((in->rex & 1) << 3)] = v;
	return 0;
}

FAST_INLINE int call_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip)
{
	struct x86_cpu_state *s = c->s;
	uint64_t t = next_rip + in->imm, sp = s->gpr[X86_RSP] - 8;
	uint8_t *p;

	if (!canonical(t) || !stack_ptr_ok(c, sp, 1, &p))
		return EMU_FAST_MISS;
	st(c, p, 8, next_rip);
	s->gpr[X86_RSP] = sp;
	s->rip = t;
	return FAST_BRANCH;
}

FAST_INLINE int ret_form(struct emu_cpu *c, const struct x86_insn *in)
{
	struct x86_cpu_state *s = c->s;
	uint64_t t;

	if (!stack_top(c, &t) || !canonical(t))
		return EMU_FAST_MISS;
	s->gpr[X86_RSP] += 8 + (in->imm & 0xffff);
	s->rip = t;
	return FAST_BRANCH;
}

/* JMP and CALL through a register or memory. */
FAST_INLINE int ind_form(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip, int sk)
{
	struct x86_cpu_state *s = c->s;
	uint64_t t, sp = s->gpr[X86_RSP] - 8;
	uint8_t *p = NULL;

	if (sk == K_MEM) {
		if (!mload(c, in, next_rip, 8, &t))
			return EMU_FAST_MISS;
	} else {
		t = s->gpr[in->rm];
	}
	if (!canonical(t))
		return EMU_FAST_MISS;
	if (in->op == OP_CALL_IND) {
		if (!stack_ptr_ok(c, sp, 1, &p))
			return EMU_FAST_MISS;
		st(c, p, 8, next_rip);
		s->gpr[X86_RSP] = sp;
	}
	s->rip = t;
	return FAST_BRANCH;
}

#endif
