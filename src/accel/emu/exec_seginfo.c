/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LAR, LSL, VERR, VERW: what a selector would give, as ZF and a register,
 * without loading it.  A selector outside its table or of the wrong kind
 * clears ZF rather than faulting; only reading the table itself can fault.
 */
#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x

/* System descriptor types LAR (and LSL) accept, by mode. */
static int system_ok(struct emu_cpu *c, unsigned type, int lsl)
{
	if (emu_long_mode(c))
		return type == 2 || type == 9 || type == 0xb || (!lsl && type == 0xc);
	switch (type) {
	case 1: case 2: case 3: case 9: case 0xb:
		return 1;
	case 4: case 5: case 0xc:
		return !lsl;
	}
	return 0;
}

static int check(struct emu_cpu *c, int op, uint16_t sel, uint64_t d)
{
	unsigned type = (d >> 40) & 0xf, s = (d >> 44) & 1, dpl = (d >> 45) & 3;
	int code = s && (type & 8), conforming = code && (type & 4);
	unsigned cpl = emu_cpl(c), rpl = sel & 3;

	if (!conforming && (dpl < cpl || dpl < rpl))
		return 0;
	switch (op) {
	case OP_VERR:
		return s && (!code || (type & 2));
	case OP_VERW:
		return s && !code && (type & 2);
	default:
		return s || system_ok(c, type, op == OP_LSL);
	}
}

int emu_exec_seginfo(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	struct emu_operand src, dst;
	uint64_t d = 0, v;
	int ok, r;

	if (!emu_protected(c) || emu_v86(c))
		return emu_ud(c);
	emu_opnd_decode(c, OPND_E, 2, &src);
	if (emu_opnd_read(c, &src))
		return -1;
	r = emu_peek_desc(c, (uint16_t)src.val, &d);
	if (r < 0)
		return -1;
	ok = r > 0 && check(c, in->op, (uint16_t)src.val, d);
	c->s->rflags = (c->s->rflags & ~FL(ZF)) | (ok ? FL(ZF) : 0);
	if (!ok || in->op == OP_VERR || in->op == OP_VERW)
		return 0;
	if (in->op == OP_LAR) {
		v = (d >> 32) & (in->opsize == 2 ? 0xff00 : 0x00f0ff00);
	} else {
		v = (d & 0xffff) | (((d >> 48) & 0xf) << 16);
		if ((d >> 55) & 1)
			v = (v << 12) | 0xfff;
	}
	emu_opnd_decode(c, OPND_G, in->opsize, &dst);
	return emu_opnd_write(c, &dst, v);
}
