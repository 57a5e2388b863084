/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BCD adjustments DAA, DAS, AAA, AAS, AAM and AAD (outside 64-bit mode,
 * where the decoder makes them #UD), as the SDM's pseudocode has them.
 * Flags the SDM leaves undefined follow one rule: SF, ZF and PF from the
 * final AL, OF cleared (and AF, CF cleared for AAM and AAD).
 */
#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x
#define BCD_FLAGS (FL(CF) | FL(PF) | FL(AF) | FL(ZF) | FL(SF) | FL(OF))

static uint64_t szp8(uint8_t v)
{
	uint64_t f = v ? 0 : FL(ZF);

	if (v & 0x80)
		f |= FL(SF);
	if (!__builtin_parity(v))
		f |= FL(PF);
	return f;
}

/* DAA (sub = 0) and DAS (sub = 1). */
static void bcd_decimal(uint8_t *al, uint64_t *f, int sub)
{
	uint8_t old = *al;
	int old_cf = !!(*f & FL(CF)), cf = 0, af = 0;

	if ((old & 0x0f) > 9 || (*f & FL(AF))) {
		cf = old_cf || (sub ? old < 6 : old > 0xf9);
		*al = (uint8_t)(sub ? *al - 6 : *al + 6);
		af = 1;
	}
	if (old > 0x99 || old_cf) {
		*al = (uint8_t)(sub ? *al - 0x60 : *al + 0x60);
		cf = 1;
	} else if (!sub) {
		cf = 0;
	}
	*f = szp8(*al) | (cf ? FL(CF) : 0) | (af ? FL(AF) : 0);
}

/* AAA (sub = 0) and AAS (sub = 1): AX as an unpacked BCD pair. */
static void bcd_ascii(uint16_t *ax, uint64_t *f, int sub)
{
	int adjust = (*ax & 0x0f) > 9 || (*f & FL(AF));

	if (adjust)
		*ax = (uint16_t)(sub ? *ax - 0x106 : *ax + 0x106);
	*ax &= 0xff0f;
	*f = szp8((uint8_t)*ax) | (adjust ? FL(CF) | FL(AF) : 0);
}

int emu_exec_bcd(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	uint16_t ax = (uint16_t)emu_reg_get(c, X86_RAX, 2, 0);
	uint8_t al = (uint8_t)ax, ah = (uint8_t)(ax >> 8), imm = (uint8_t)in->imm;
	uint64_t f = c->s->rflags & BCD_FLAGS;

	switch (in->op) {
	case OP_DAA:
	case OP_DAS:
		bcd_decimal(&al, &f, in->op == OP_DAS);
		ax = (uint16_t)((ax & 0xff00) | al);
		break;
	case OP_AAA:
	case OP_AAS:
		bcd_ascii(&ax, &f, in->op == OP_AAS);
		break;
	case OP_AAM:
		if (!imm)
			return emu_raise(c, EXC_DE, 0, 0);
		ax = (uint16_t)((al / imm) << 8 | al % imm);
		f = szp8((uint8_t)ax);
		break;
	default:        /* OP_AAD */
		ax = (uint8_t)(al + ah * imm);
		f = szp8((uint8_t)ax);
		break;
	}
	emu_reg_set(c, X86_RAX, 2, 0, ax);
	c->s->rflags = (c->s->rflags & ~BCD_FLAGS) | f;
	return 0;
}
