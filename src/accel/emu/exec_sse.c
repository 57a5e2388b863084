/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MMX, SSE and SSE2 outside floating-point arithmetic: register and memory
 * moves (MOVD/MOVQ, MOVAPS/MOVUPS/MOVDQA/MOVDQU, MOVSS/MOVSD, MOVLPS/MOVHPS
 * and friends, non-temporal stores, MASKMOV), the packed-integer operations
 * (exec_simd_int.c), shuffles, unpacks, PMOVMSKB/MOVMSKPS, PINSRW/PEXTRW,
 * shifts by immediate, EMMS.  The mandatory prefix (none, 66, F3, F2)
 * selects the instruction; without 66 the integer forms work on the MMX
 * registers.  Floating-point arithmetic is exec_sse_fp.c.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

int emu_sse_prefix(const struct x86_insn *in)
{
	if (in->rep == 0xf2)
		return P_F2;
	if (in->rep == 0xf3)
		return P_F3;
	return in->opsize_prefix ? P_66 : P_NONE;
}

int emu_sse_usable(struct emu_cpu *c)
{
	if ((c->s->cr0 & X86_CR0_EM) || !(c->s->cr4 & X86_CR4_OSFXSR))
		return emu_ud(c);
	if (c->s->cr0 & X86_CR0_TS)
		return emu_raise(c, EXC_NM, 0, 0);
	emu_xinuse(c, 2);
	return 0;
}

int emu_mmx_usable(struct emu_cpu *c)
{
	if (c->s->cr0 & X86_CR0_EM)
		return emu_ud(c);
	return emu_x87_check(c);
}

/* The register operand: an XMM register, or MMX (REX ignored). */
static uint8_t *reg_ptr(struct emu_cpu *c, unsigned r, int mmx)
{
	return mmx ? emu_mmx_enter(c) + 16 * (r & 7) : emu_xmm(c, r);
}

/*
 * Reads the r/m source: size bytes (of a register, or memory), zero padded
 * to 16.  align: 16-byte memory operands that must be aligned (#GP).
 */
int emu_sse_src(struct emu_cpu *c, int mmx, unsigned size, int align, uint8_t v[16])
{
	const struct x86_insn *in = &c->insn;
	int seg;
	uint64_t off;

	memset(v, 0, 16);
	if (in->mod == 3) {
		memcpy(v, reg_ptr(c, in->rm, mmx), size);
		return 0;
	}
	off = emu_ea(c, &seg);
	if (align && (off & 15))
		return emu_gp(c, 0);
	return emu_read(c, seg, off, v, size);
}

/* Writes size bytes to the r/m destination (a register's low bytes or memory). */
static int dst_rm(struct emu_cpu *c, int mmx, unsigned size, int align, const uint8_t *v)
{
	const struct x86_insn *in = &c->insn;
	int seg;
	uint64_t off;

	if (in->mod == 3) {
		memcpy(reg_ptr(c, in->rm, mmx), v, size);
		if (mmx)
			emu_mmx_written(c, in->rm);
		return 0;
	}
	off = emu_ea(c, &seg);
	if (align && (off & 15))
		return emu_gp(c, 0);
	return emu_write(c, seg, off, v, size);
}

static void set_reg(struct emu_cpu *c, int mmx, const uint8_t *v, unsigned size)
{
	memcpy(reg_ptr(c, c->insn.reg, mmx), v, size);
	if (mmx)
		emu_mmx_written(c, c->insn.reg);
}

/* 10/11/28/29/2B and 6F/7F/E7/D6: whole-register and scalar moves. */
static int moves(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, v[16];
	int store = op == 0x11 || op == 0x29 || op == 0x2b || op == 0x7f || op == 0xe7 ||
		    op == 0xd6;
	int mmx = (op == 0x6f || op == 0x7f || op == 0xe7) && pfx == P_NONE;
	int align = op == 0x28 || op == 0x29 || op == 0x2b ||
		    ((op == 0x6f || op == 0x7f) && pfx == P_66) || (op == 0xe7 && pfx == P_66);
	unsigned size = mmx ? 8 : 16;

	if ((op == 0x2b || op == 0xe7) && in->mod == 3)
		return emu_ud(c);
	if (op == 0xd6) {
		if (pfx == P_F3 || pfx == P_F2) {     /* MOVQ2DQ, MOVDQ2Q */
			if (in->mod != 3)
				return emu_ud(c);
			if (emu_mmx_usable(c))
				return -1;
			memset(v, 0, 16);
			memcpy(v, reg_ptr(c, in->rm, pfx == P_F3), 8);
			set_reg(c, pfx == P_F2, v, pfx == P_F3 ? 16 : 8);
			return 0;
		}
		if (pfx != P_66)
			return emu_ud(c);
		memcpy(v, emu_xmm(c, in->reg), 16);
		if (in->mod == 3)
			memset(v + 8, 0, 8);
		return dst_rm(c, 0, in->mod == 3 ? 16 : 8, 0, v);
	}
	if ((op == 0x10 || op == 0x11) && (pfx == P_F3 || pfx == P_F2)) {
		size = pfx == P_F3 ? 4 : 8;     /* MOVSS / MOVSD */
		if (store)
			return dst_rm(c, 0, size, 0, emu_xmm(c, in->reg));
		if (emu_sse_src(c, 0, size, 0, v))
			return -1;
		if (in->mod == 3)   /* register form merges into the destination */
			memcpy(v + size, emu_xmm(c, in->reg) + size, 16 - size);
		set_reg(c, 0, v, 16);
		return 0;
	}
	if (store)
		return dst_rm(c, mmx, size, align, reg_ptr(c, in->reg, mmx));
	if (emu_sse_src(c, mmx, size, align, v))
		return -1;
	set_reg(c, mmx, v, size);
	return 0;
}

/* SSE3 MOVSLDUP (F3 12), MOVSHDUP (F3 16), MOVDDUP (F2 12). */
static int dups(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	uint8_t v[16], r[16];

	if ((in->opcode & 1) || (pfx == P_F2 && in->opcode == 0x16))
		return emu_ud(c);
	if (emu_sse_src(c, 0, pfx == P_F2 && in->mod != 3 ? 8 : 16, pfx == P_F3, v))
		return -1;
	for (unsigned i = 0; i < 4; i++) {
		unsigned from = pfx == P_F2 ? i & 1 : (i & 2) + (in->opcode == 0x16);

		memcpy(r + 4 * i, v + 4 * from, 4);
	}
	memcpy(emu_xmm(c, in->reg), r, 16);
	return 0;
}

/* 12/13/16/17: MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVHLPS/MOVLHPS. */
static int half_moves(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	uint8_t *x = emu_xmm(c, in->reg), v[16];
	unsigned hi = in->opcode >= 0x16 ? 8 : 0;

	if (pfx == P_F3 || pfx == P_F2)
		return dups(c, pfx);
	if (in->opcode & 1) {       /* stores */
		if (in->mod == 3)
			return emu_ud(c);
		return dst_rm(c, 0, 8, 0, x + hi);
	}
	if (in->mod == 3) {
		if (pfx == P_66)
			return emu_ud(c);
		/* MOVHLPS: high of source to low; MOVLHPS: low of source to high. */
		memcpy(x + hi, emu_xmm(c, in->rm) + (hi ? 0 : 8), 8);
		return 0;
	}
	if (emu_sse_src(c, 0, 8, 0, v))
		return -1;
	memcpy(x + hi, v, 8);
	return 0;
}

/* 6E/7E: MOVD/MOVQ between general registers or memory and MMX/XMM. */
static int movd(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	int mmx = pfx == P_NONE, seg;
	unsigned size = (in->rex & 8) ? 8 : 4;
	uint8_t v[16] = { 0 };
	uint64_t g = 0, off;

	if (in->opcode == 0x7e && pfx == P_F3) {     /* MOVQ xmm, xmm/m64 */
		if (emu_sse_src(c, 0, 8, 0, v))
			return -1;
		set_reg(c, 0, v, 16);
		return 0;
	}
	if (pfx == P_F2 || pfx == P_F3)
		return emu_ud(c);
	if (in->opcode == 0x6e) {
		if (in->mod == 3) {
			g = c->s->gpr[in->rm];
		} else {
			off = emu_ea(c, &seg);
			if (emu_read_u(c, seg, off, size, &g))
				return -1;
		}
		g &= emu_mask(size);
		memcpy(v, &g, 8);
		set_reg(c, mmx, v, mmx ? 8 : 16);
		return 0;
	}
	memcpy(&g, reg_ptr(c, in->reg, mmx), 8);
	g &= emu_mask(size);
	if (in->mod == 3) {
		c->s->gpr[in->rm] = g;
		return 0;
	}
	off = emu_ea(c, &seg);
	return emu_write_u(c, seg, off, size, g);
}

/* 71/72/73: shifts by an immediate (group 12, 13, 14). */
static int shift_imm(struct emu_cpu *c, int pfx, int mmx)
{
	const struct x86_insn *in = &c->insn;
	unsigned reg = (in->modrm >> 3) & 7, es = in->opcode == 0x71 ? 2 : in->opcode == 0x72 ? 4 : 8;
	uint8_t *d = reg_ptr(c, in->rm, mmx);
	uint8_t count = (uint8_t)in->imm;

	if (in->opcode == 0x73 && (reg == 3 || reg == 7)) {
		if (pfx != P_66)
			return emu_ud(c);
		emu_simd_byte_shift(reg == 7, d, count);
		return 0;
	}
	emu_simd_shift(reg == 2 ? 0 : reg == 4 ? 1 : 2, es, d, count, mmx ? 8 : 16);
	if (mmx)
		emu_mmx_written(c, in->rm);
	return 0;
}

/* 14/15 UNPCKL/H PS/PD, C6 SHUFPS/PD, 50 MOVMSKPS/PD. */
static int fp_shuffles(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	uint8_t *d = emu_xmm(c, in->reg), s[16], r[16];
	unsigned es = pfx == P_66 ? 8 : 4;

	if (in->opcode == 0x50) {
		uint32_t m = 0;

		if (in->mod != 3)
			return emu_ud(c);
		for (unsigned i = 0; i < 16 / es; i++)
			m |= (uint32_t)(emu_xmm(c, in->rm)[es * i + es - 1] >> 7) << i;
		c->s->gpr[in->reg] = m;
		return 0;
	}
	if (emu_sse_src(c, 0, 16, 1, s))
		return -1;
	if (in->opcode == 0xc6) {
		for (unsigned i = 0; i < 16 / es; i++) {
			unsigned sel = es == 4 ? (in->imm >> (2 * i)) & 3 : (in->imm >> i) & 1;

			memcpy(r + es * i, (i < 8 / es ? d : s) + es * sel, es);
		}
	} else {
		unsigned base = in->opcode == 0x15 ? 8 / es : 0;

		for (unsigned i = 0; i < 8 / es; i++) {
			memcpy(r + 2 * i * es, d + (base + i) * es, es);
			memcpy(r + (2 * i + 1) * es, s + (base + i) * es, es);
		}
	}
	memcpy(d, r, 16);
	return 0;
}

/* C4 PINSRW, C5 PEXTRW, D7 PMOVMSKB, 70 PSHUF*, F7 MASKMOVQ/MASKMOVDQU. */
static int words(struct emu_cpu *c, int pfx, int mmx)
{
	const struct x86_insn *in = &c->insn;
	unsigned len = mmx ? 8 : 16;
	uint8_t s[16], *d;
	uint64_t v = 0;

	switch (in->opcode) {
	case 0xc4: {
		struct emu_operand o;

		emu_opnd_decode(c, OPND_E, 2, &o);
		if (emu_opnd_read(c, &o))
			return -1;
		d = reg_ptr(c, in->reg, mmx);
		memcpy(d + 2 * (in->imm & (len / 2 - 1)), &o.val, 2);
		if (mmx)
			emu_mmx_written(c, in->reg);
		return 0;
	}
	case 0xc5:
	case 0xd7:
		if (in->mod != 3)
			return emu_ud(c);
		d = reg_ptr(c, in->rm, mmx);
		if (in->opcode == 0xc5)
			memcpy(&v, d + 2 * (in->imm & (len / 2 - 1)), 2);
		else
			v = emu_simd_movmskb(d, len);
		c->s->gpr[in->reg] = v;
		return 0;
	case 0x70:
		if (emu_sse_src(c, mmx, len, !mmx, s))
			return -1;
		emu_simd_pshuf(pfx, reg_ptr(c, in->reg, mmx), s, (uint8_t)in->imm);
		if (mmx)
			emu_mmx_written(c, in->reg);
		return 0;
	}
	/* MASKMOV: the bytes of reg whose mask byte (rm) has its top bit, to DS:rDI. */
	if (in->mod != 3)
		return emu_ud(c);
	d = reg_ptr(c, in->reg, mmx);
	memcpy(s, reg_ptr(c, in->rm, mmx), len);
	for (unsigned i = 0; i < len; i++) {
		uint64_t off = (c->s->gpr[X86_RDI] + i) & emu_mask(in->addrsize);

		if ((s[i] & 0x80) && emu_write(c, in->seg >= 0 ? in->seg : X86_DS, off, d + i, 1))
			return -1;
	}
	return 0;
}

static int movnti(struct emu_cpu *c)
{
	struct emu_operand d;
	unsigned size = (c->insn.rex & 8) ? 8 : 4;

	if (c->insn.mod == 3)
		return emu_ud(c);
	emu_opnd_decode(c, OPND_E, size, &d);
	return emu_opnd_write(c, &d, emu_reg_get(c, c->insn.reg, size, 0));
}

static int is_int_op(uint8_t op)
{
	return (op >= 0x60 && op <= 0x6d) || (op >= 0x74 && op <= 0x76) ||
	       (op >= 0xd1 && op <= 0xfe && op != 0xd6 && op != 0xd7 && op != 0xe6 &&
		op != 0xe7 && op != 0xf0 && op != 0xf7);
}

/* Packed integer, MMX or SSE2; 54-57 are the same logic on float types. */
static int int_op(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, s[16];
	int mmx = pfx == P_NONE;

	if (op >= 0x54 && op <= 0x57) {
		static const uint8_t as_int[4] = { 0xdb, 0xdf, 0xeb, 0xef };

		if (pfx != P_NONE && pfx != P_66)
			return emu_ud(c);
		if (emu_sse_src(c, 0, 16, 1, s))
			return -1;
		return emu_simd_int(as_int[op - 0x54], emu_xmm(c, in->reg), s, 16);
	}
	if (pfx == P_F2 || pfx == P_F3 || (mmx && (op == 0x6c || op == 0x6d)))
		return emu_ud(c);
	if (mmx && emu_mmx_usable(c))
		return -1;
	/* MMX punpckl* read 32 bits of memory; everything else the register width. */
	if (emu_sse_src(c, mmx, mmx && op >= 0x60 && op <= 0x62 && in->mod != 3 ? 4 : (mmx ? 8 : 16),
			!mmx, s))
		return -1;
	emu_simd_int(op, reg_ptr(c, in->reg, mmx), s, mmx ? 8 : 16);
	if (mmx)
		emu_mmx_written(c, in->reg);
	return 0;
}

int emu_exec_sse(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	int pfx = emu_sse_prefix(in), mmx = pfx == P_NONE;
	uint8_t op = in->opcode;

	if (in->map == X86_MAP_0F38 || in->map == X86_MAP_0F3A)
		return emu_exec_ssse3(c);
	if (op == 0xc3)
		return movnti(c);
	/*
	 * Opcodes with no form for their prefix are #UD before any state is
	 * looked at, as on the host CPU: F3/F2 MOVAPS, MOVAPD, MOVNTPS, EMMS.
	 */
	if ((op == 0x28 || op == 0x29 || op == 0x2b) && pfx >= P_F3)
		return emu_ud(c);
	if (op == 0x77) {
		if (pfx != P_NONE)
			return emu_ud(c);
		if (emu_mmx_usable(c))
			return -1;
		emu_emms(c);
		return 0;
	}
	/*
	 * The MMX forms answer to the x87 state (EM, TS, a pending #MF) and
	 * not to CR4.OSFXSR; everything else is SSE.
	 */
	if (mmx && (is_int_op(op) || op == 0x6e || op == 0x7e || op == 0x6f || op == 0x7f ||
		    op == 0xe7 || op == 0x70 || (op >= 0x71 && op <= 0x73) || op == 0xc4 ||
		    op == 0xc5 || op == 0xd7 || op == 0xf7)) {
		if (emu_mmx_usable(c))
			return -1;
	} else if (emu_sse_usable(c)) {
		return -1;
	}
	switch (op) {
	case 0x10: case 0x11: case 0x28: case 0x29: case 0x2b:
	case 0x6f: case 0x7f: case 0xe7: case 0xd6:
		if ((op == 0x6f || op == 0x7f) && pfx == P_F2)
			return emu_ud(c);
		return moves(c, pfx);
	case 0x12: case 0x13: case 0x16: case 0x17:
		return half_moves(c, pfx);
	case 0x6e: case 0x7e:
		return movd(c, pfx);
	case 0xf0: {       /* LDDQU: an unaligned 16-byte load */
		uint8_t v[16];

		if (pfx != P_F2 || in->mod == 3)
			return emu_ud(c);
		if (emu_sse_src(c, 0, 16, 0, v))
			return -1;
		memcpy(emu_xmm(c, in->reg), v, 16);
		return 0;
	}
	case 0x71: case 0x72: case 0x73:
		if (pfx >= P_F3 || in->mod != 3)
			return emu_ud(c);
		return shift_imm(c, pfx, mmx);
	case 0x14: case 0x15: case 0xc6: case 0x50:
		if (pfx >= P_F3)
			return emu_ud(c);
		return fp_shuffles(c, pfx);
	case 0xc4: case 0xc5: case 0xd7: case 0x70: case 0xf7:
		if (pfx >= P_F3 && op != 0x70)
			return emu_ud(c);
		return words(c, pfx, mmx);
	}
	if (is_int_op(op) || (op >= 0x54 && op <= 0x57))
		return int_op(c, pfx);
	return emu_exec_sse_fp(c);
}
