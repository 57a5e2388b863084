/* SPDX-License-Identifier: Apache-2.0 */
/* Stack and control transfer: PUSH/POP forms, ENTER/LEAVE, jumps, calls, returns. */
#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x

/* A new RIP: truncated to the operand size, canonical / within CS limit. */
static int set_rip(struct emu_cpu *c, uint64_t target, unsigned size)
{
	const struct x86_segment *cs = &c->s->seg[X86_CS];

	target &= emu_mask(size);
	if (emu_64bit(c)) {
		if ((uint64_t)((int64_t)(target << 16) >> 16) != target)
			return emu_gp(c, 0);
	} else if (emu_protected(c) && target > cs->limit) {   /* 0xffff in virtual-8086 mode */
		return emu_gp(c, 0);
	}
	c->s->rip = target;
	return 0;
}

static unsigned branch_size(const struct emu_cpu *c)
{
	return c->insn.opsize;
}

static int rel_jump(struct emu_cpu *c)
{
	return set_rip(c, c->next_rip + c->insn.imm, branch_size(c));
}

/* The FLAGS image PUSHF and interrupts in virtual-8086 mode give the 8086 program under VME: IF is VIF, IOPL 3. */
uint64_t emu_vme_flags(const struct emu_cpu *c)
{
	uint64_t f = c->s->rflags & 0xffff & ~FL(IF);

	return f | FL(IOPL) | ((c->s->rflags & FL(VIF)) ? FL(IF) : 0);
}

/*
 * The low 16 bits of EFLAGS from a FLAGS image under VME (POPF, IRET):
 * IF goes to VIF, IOPL stays; #GP(0) for TF set, or IF set while VIP is.
 */
int emu_vme_load_flags(struct emu_cpu *c, uint64_t v)
{
	uint64_t *f = &c->s->rflags, keep = FL(IF) | FL(IOPL);

	if ((v & FL(TF)) || ((v & FL(IF)) && (*f & FL(VIP))))
		return emu_gp(c, 0);
	*f = (*f & ~0xffffULL) | (*f & keep) | (v & 0xffff & ~keep);
	*f = (*f & ~FL(VIF)) | ((v & FL(IF)) ? FL(VIF) : 0);
	*f = (*f & 0x3f7fd7ULL) | X86_RFLAGS_FIXED;
	return 0;
}

static int push_flags(struct emu_cpu *c, unsigned size)
{
	if (emu_v86(c) && emu_iopl(c) < 3) {
		if (!emu_vme(c) || size != 2)
			return emu_gp(c, 0);
		return emu_push(c, emu_vme_flags(c), 2);
	}
	return emu_push(c, c->s->rflags & ~(FL(VM) | FL(RF)), size);
}

static int pop_flags(struct emu_cpu *c, unsigned size)
{
	uint64_t v, keep = FL(VM) | FL(VIP) | FL(VIF), f;
	int cpl = emu_cpl(c);

	if (emu_v86(c) && emu_iopl(c) < 3) {
		if (!emu_vme(c) || size != 2)
			return emu_gp(c, 0);
		return emu_pop(c, &v, 2) || emu_vme_load_flags(c, v);
	}
	if (emu_pop(c, &v, size))
		return -1;
	if (emu_protected(c) && cpl > 0)
		keep |= FL(IOPL);
	if (emu_protected(c) && cpl > (int)((c->s->rflags >> 12) & 3))
		keep |= FL(IF);
	if (size == 2)
		keep |= ~0xffffULL;
	keep |= ~0x3f7fd5ULL;
	f = (c->s->rflags & keep) | (v & ~keep);
	c->s->rflags = (f & 0x3f7fd7ULL & ~FL(RF)) | X86_RFLAGS_FIXED;
	return 0;
}

static int enter(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	unsigned size = c->insn.opsize, ss = emu_stack_size(c);
	unsigned level = c->insn.imm2 & 31;
	uint64_t alloc = c->insn.imm & 0xffff, frame, bp = s->gpr[X86_RBP], v;

	if (emu_push(c, emu_reg_get(c, X86_RBP, size, 0), size))
		return -1;
	frame = s->gpr[X86_RSP] & emu_mask(ss);
	for (unsigned i = 1; i < level; i++) {
		bp = (bp - size) & emu_mask(ss);
		if (emu_read_u(c, X86_SS, bp, size, &v) || emu_push(c, v, size))
			return -1;
	}
	if (level && emu_push(c, frame, size))
		return -1;
	emu_reg_set(c, X86_RBP, size, 0, frame);
	emu_reg_set(c, X86_RSP, ss, 0, (s->gpr[X86_RSP] - alloc) & emu_mask(ss));
	/* Touch the new stack top so a fault happens here, as on hardware. */
	return emu_read_u(c, X86_SS, s->gpr[X86_RSP] & emu_mask(ss), 1, &v);
}

static int leave(struct emu_cpu *c)
{
	unsigned ss = emu_stack_size(c);
	uint64_t v;

	emu_reg_set(c, X86_RSP, ss, 0, c->s->gpr[X86_RBP]);
	if (emu_pop(c, &v, c->insn.opsize))
		return -1;
	emu_reg_set(c, X86_RBP, c->insn.opsize, 0, v);
	return 0;
}

static int pusha(struct emu_cpu *c, int push)
{
	unsigned size = c->insn.opsize;
	uint64_t sp = c->s->gpr[X86_RSP], v;

	for (int r = push ? 0 : 7; push ? r < 8 : r >= 0; r += push ? 1 : -1) {
		if (push) {
			if (emu_push(c, r == X86_RSP ? sp : c->s->gpr[r], size))
				return -1;
			continue;
		}
		if (emu_pop(c, &v, size))
			return -1;
		if (r != X86_RSP)
			emu_reg_set(c, r, size, 0, v);
	}
	return 0;
}

static int seg_of_opcode(const struct x86_insn *in)
{
	if (in->map == X86_MAP_0F)
		return (in->opcode & 0xf8) == 0xa0 ? X86_FS : X86_GS;
	return in->opcode >> 3;
}

/* Far transfer to sel:off at the current privilege (gates and tasks: callgate.c). */
static int far_jump(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned size)
{
	if (emu_load_cs(c, sel, emu_cpl(c)))
		return -1;
	return set_rip(c, off, size);
}

static int far_pointer(struct emu_cpu *c, uint16_t *sel, uint64_t *off, unsigned size)
{
	int seg;
	uint64_t a = emu_ea(c, &seg), v;

	if (emu_read_u(c, seg, a, size, off) || emu_read_u(c, seg, a + size, 2, &v))
		return -1;
	*sel = v;
	return 0;
}

static int retf(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	unsigned size = c->insn.opsize;
	uint64_t ip, cs, sp, ss;
	int cpl = emu_cpl(c), rpl;

	if (emu_pop(c, &ip, size) || emu_pop(c, &cs, size))
		return -1;
	rpl = cs & 3;
	if (!emu_protected(c) || emu_v86(c) || rpl == cpl) {
		if (emu_load_cs(c, cs, emu_protected(c) && !emu_v86(c) ? cpl : 0))
			return -1;
		if (set_rip(c, ip, size))
			return -1;
		emu_reg_set(c, X86_RSP, emu_stack_size(c), 0,
			    s->gpr[X86_RSP] + (c->insn.imm & 0xffff));
		return 0;
	}
	if (rpl < cpl)
		return emu_gp(c, cs & ~3u);
	emu_reg_set(c, X86_RSP, emu_stack_size(c), 0, s->gpr[X86_RSP] + (c->insn.imm & 0xffff));
	if (emu_pop(c, &sp, size) || emu_pop(c, &ss, size))
		return -1;
	if (emu_load_cs(c, cs, rpl))
		return -1;
	s->seg[X86_SS].dpl = rpl;
	if (emu_load_seg(c, X86_SS, ss))
		return -1;
	s->gpr[X86_RSP] = (sp + (c->insn.imm & 0xffff)) & emu_mask(size);
	emu_null_data_segs(c, rpl);
	return set_rip(c, ip, size);
}

static int loop(struct emu_cpu *c, int op)
{
	unsigned as = c->insn.addrsize;
	uint64_t cx = (c->s->gpr[X86_RCX] - 1) & emu_mask(as);
	int zf = !!(c->s->rflags & FL(ZF)), take;

	emu_reg_set(c, X86_RCX, as, 0, cx);
	take = cx != 0 && (op == OP_LOOP || (op == OP_LOOPE ? zf : !zf));
	return take ? rel_jump(c) : 0;
}

int emu_exec_ctrl(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	struct x86_cpu_state *s = c->s;
	unsigned size = emu_insn_opsize(c);
	struct emu_operand o;
	uint64_t v;
	uint16_t sel;
	int r;

	switch (in->op) {
	case OP_PUSH:
	case OP_PUSH_Z:
		emu_opnd_decode(c, in->op == OP_PUSH ? OPND_E : OPND_Z, size, &o);
		return emu_opnd_read(c, &o) || emu_push(c, o.val, size);
	case OP_PUSH_I:
		return emu_push(c, in->imm, size);
	case OP_POP:
	case OP_POP_Z:
		if (emu_pop(c, &v, size))
			return -1;
		/* POP computes a memory address with the incremented RSP. */
		emu_opnd_decode(c, in->op == OP_POP ? OPND_E : OPND_Z, size, &o);
		return emu_opnd_write(c, &o, v);
	case OP_PUSH_SEG:
		return emu_push(c, s->seg[seg_of_opcode(in)].selector, size);
	case OP_POP_SEG:
		if (emu_pop(c, &v, size))
			return -1;
		r = seg_of_opcode(in);
		if (r == X86_SS)
			c->shadow = EMU_SHADOW_MOV_SS;
		return emu_load_seg(c, r, v);
	case OP_PUSHF:
		return push_flags(c, size);
	case OP_POPF:
		return pop_flags(c, size);
	case OP_PUSHA:
	case OP_POPA:
		return pusha(c, in->op == OP_PUSHA);
	case OP_ENTER:
		return enter(c);
	case OP_LEAVE:
		return leave(c);
	case OP_JMP:
		return rel_jump(c);
	case OP_JCC:
		return emu_cond(c, in->opcode & 0xf) ? rel_jump(c) : 0;
	/* The target is checked before the push: a CALL to a non-canonical
	 * address is #GP with nothing written to the stack. */
	case OP_CALL:
		if (rel_jump(c))
			return -1;
		return emu_push(c, c->next_rip, branch_size(c));
	case OP_JMP_IND:
	case OP_CALL_IND:
		emu_opnd_decode(c, OPND_E, branch_size(c), &o);
		if (emu_opnd_read(c, &o) || set_rip(c, o.val, branch_size(c)))
			return -1;
		return in->op == OP_CALL_IND ? emu_push(c, c->next_rip, branch_size(c)) : 0;
	case OP_RET:
		if (emu_pop(c, &v, branch_size(c)))
			return -1;
		emu_reg_set(c, X86_RSP, emu_stack_size(c), 0, s->gpr[X86_RSP] + (in->imm & 0xffff));
		return set_rip(c, v, branch_size(c));
	case OP_RETF:
		return retf(c);
	case OP_JMPF:
	case OP_CALLF:
	case OP_JMPF_IND:
	case OP_CALLF_IND: {
		uint16_t old_cs = s->seg[X86_CS].selector;

		if (in->op == OP_JMPF || in->op == OP_CALLF) {
			sel = in->imm2;
			v = in->imm;
		} else if (far_pointer(c, &sel, &v, size)) {
			return -1;
		}
		r = emu_far_system(c, sel, in->op == OP_CALLF || in->op == OP_CALLF_IND);
		if (r <= 0)
			return r;
		if (far_jump(c, sel, v, size))
			return -1;
		if (in->op == OP_CALLF || in->op == OP_CALLF_IND)
			return emu_push(c, old_cs, size) || emu_push(c, c->next_rip, size);
		return 0;
	}
	case OP_LOOP:
	case OP_LOOPE:
	case OP_LOOPNE:
		return loop(c, in->op);
	case OP_JCXZ:
		return (s->gpr[X86_RCX] & emu_mask(in->addrsize)) ? 0 : rel_jump(c);
	case OP_SETCC:
		emu_opnd_decode(c, OPND_E, 1, &o);
		return emu_opnd_write(c, &o, emu_cond(c, in->opcode & 0xf));
	case OP_CMOVCC: {
		struct emu_operand d;

		emu_opnd_decode(c, OPND_E, size, &o);
		emu_opnd_decode(c, OPND_G, size, &d);
		if (emu_opnd_read(c, &o))
			return -1;
		emu_opnd_read(c, &d);
		/* A 32-bit CMOV writes (zero-extends) even when the condition fails. */
		emu_reg_set(c, d.reg, size, 0, emu_cond(c, in->opcode & 0xf) ? o.val : d.val);
		return 0;
	}
	}
	return emu_unimpl(c);
}
