/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BOUND and ARPL, two instructions of 16- and 32-bit code only: in 64-bit
 * mode 62 is the EVEX escape (#UD without AVX-512) and 63 is MOVSXD, both
 * the decoder's.
 */
#include "accel/emu/emu_int.h"

/*
 * BOUND r16/32, m16&16/m32&32: the signed index against the lower bound at
 * m and the upper one right above it, both read first; out of range is
 * #BR, a fault (the frame names BOUND).  The register form is #UD (the
 * decoder's F_MEM).
 */
static int bound(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = in->opsize;
	int seg;
	uint64_t a = emu_ea(c, &seg), lo, hi;
	int64_t idx = (int64_t)emu_sext(emu_reg_get(c, in->reg, size, 0), size);

	if (emu_read_u(c, seg, a, size, &lo) || emu_read_u(c, seg, a + size, size, &hi))
		return -1;
	if (idx < (int64_t)emu_sext(lo, size) || idx > (int64_t)emu_sext(hi, size))
		return emu_raise(c, EXC_BR, 0, 0);
	return 0;
}

/*
 * ARPL r/m16, r16: raises the destination selector's RPL to the source's
 * (ZF 1) or leaves it (ZF 0); no other flag changes.  A memory destination
 * is written only when it changes, as the SDM's pseudocode has it.  Not
 * recognised in real-address and virtual-8086 mode: #UD.
 */
static int arpl(struct emu_cpu *c)
{
	struct emu_operand d;
	uint64_t src = emu_reg_get(c, c->insn.reg, 2, 0);

	if (!emu_protected(c) || emu_v86(c))
		return emu_ud(c);
	emu_opnd_decode(c, OPND_E, 2, &d);
	if (emu_opnd_read(c, &d))
		return -1;
	c->s->rflags &= ~X86_RFLAGS_ZF;
	if ((d.val & 3) >= (src & 3))
		return 0;
	c->s->rflags |= X86_RFLAGS_ZF;
	return emu_opnd_write(c, &d, (d.val & ~3ULL) | (src & 3));
}

int emu_exec_legacy(struct emu_cpu *c)
{
	return c->insn.op == OP_BOUND ? bound(c) : arpl(c);
}
