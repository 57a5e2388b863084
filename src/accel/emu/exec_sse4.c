/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSE4.1 and SSE4.2 (66-prefixed 0F38/0F3A): blends, PTEST, PMOVSX/ZX,
 * the new min/max/multiplies/compares, PACKUSDW, PHMINPOSUW, MOVNTDQA,
 * PEXTRB/W/D/Q, PINSRB/D/Q, EXTRACTPS, INSERTPS, MPSADBW; ROUNDPS/PD/SS/SD and
 * DPPS/DPPD on the host FPU (exec_sse_fp.c); PCMPGTQ, CRC32 (F2 0F38 F0/F1),
 * MOVBE (0F38 F0/F1 without F2); AES/PCLMUL/SHA go to exec_crypto.c;
 * the string compares are exec_pcmpstr.c.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

/* CRC-32C (Castagnoli, reflected) over size bytes of v, as CRC32 does. */
static uint32_t crc32c(uint32_t crc, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		crc ^= (uint8_t)(v >> (8 * i));
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return crc;
}

static int crc32_insn(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = in->opcode == 0xf0 ? 1 : (in->rex & 8) ? 8 : in->opsize_prefix ? 2 : 4;
	unsigned dsize = (in->rex & 8) ? 8 : 4;
	struct emu_operand o;
	uint32_t crc;

	if (emu_opnd_decode(c, OPND_E, size, &o) || emu_opnd_read(c, &o))
		return -1;
	crc = crc32c((uint32_t)emu_reg_get(c, in->reg, 4, 0), o.val, size);
	emu_reg_set(c, in->reg, dsize, 0, crc);
	return 0;
}

/* MOVBE: 0F38 F0 loads Gv from memory, F1 stores it, bytes reversed. */
static int movbe(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = in->opsize;
	struct emu_operand o;
	uint64_t v;

	if (in->mod == 3)
		return emu_ud(c);
	emu_opnd_decode(c, OPND_E, size, &o);
	if (in->opcode == 0xf1) {
		v = emu_reg_get(c, in->reg, size, 0);
		return emu_opnd_write(c, &o, __builtin_bswap64(v) >> (64 - 8 * size));
	}
	if (emu_opnd_read(c, &o))
		return -1;
	emu_reg_set(c, in->reg, size, 0, __builtin_bswap64(o.val) >> (64 - 8 * size));
	return 0;
}

/* PMOVSX (20-25) / PMOVZX (30-35): source element size and count. */
static void pmovx(uint8_t op, uint8_t *d, const uint8_t *s)
{
	static const uint8_t from[6] = { 1, 1, 1, 2, 2, 4 }, to[6] = { 2, 4, 8, 4, 8, 8 };
	unsigned k = op & 7, n = 16 / to[k];
	uint8_t r[16];

	for (unsigned i = 0; i < n; i++)
		emu_set_lane(r, to[k], i, op < 0x30 ? (uint64_t)emu_slane(s, from[k], i) : emu_lane(s, from[k], i));
	memcpy(d, r, 16);
}

static unsigned pmovx_size(uint8_t op)
{
	static const uint8_t sz[6] = { 8, 4, 2, 8, 4, 8 };

	return sz[op & 7];
}

/* 38-3F: PMINSB PMINSD PMINUW PMINUD PMAXSB PMAXSD PMAXUW PMAXUD. */
static void minmax(uint8_t op, uint8_t *d, const uint8_t *s)
{
	static const uint8_t es_of[4] = { 1, 4, 2, 4 };
	unsigned es = es_of[op & 3];
	int sgn = !(op & 2), max = op >= 0x3c;

	for (unsigned i = 0; i < 16 / es; i++) {
		uint64_t a = emu_lane(d, es, i), b = emu_lane(s, es, i);
		int lt = sgn ? emu_slane(d, es, i) < emu_slane(s, es, i) : a < b;

		emu_set_lane(d, es, i, (lt != max) ? a : b);
	}
}

static void phminposuw(uint8_t *d, const uint8_t *s)
{
	unsigned best = 0;

	for (unsigned i = 1; i < 8; i++)
		if (emu_lane(s, 2, i) < emu_lane(s, 2, best))
			best = i;
	memset(d, 0, 16);
	emu_set_lane(d, 2, 0, emu_lane(s, 2, best));
	emu_set_lane(d, 2, 1, best);
}

static void ptest(struct emu_cpu *c, const uint8_t *d, const uint8_t *s)
{
	int and0 = 1, andn0 = 1;

	for (unsigned i = 0; i < 16; i++) {
		and0 &= !(d[i] & s[i]);
		andn0 &= !(s[i] & (uint8_t)~d[i]);
	}
	c->s->rflags &= ~EMU_FLAGS_ARITH;
	c->s->rflags |= (and0 ? X86_RFLAGS_ZF : 0) | (andn0 ? X86_RFLAGS_CF : 0);
}

/* The 0F38 operations on xmm, xmm/m128 (or smaller for PMOVSX/ZX). */
static int map38(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, s[16], *d = emu_xmm(c, in->reg), *x0 = emu_xmm(c, 0);
	int pmov = (op >= 0x20 && op <= 0x25) || (op >= 0x30 && op <= 0x35);

	if (op == 0x2a && in->mod != 3) {      /* MOVNTDQA */
		if (emu_sse_src(c, 0, 16, 1, s))
			return -1;
		memcpy(d, s, 16);
		return 0;
	}
	if (op == 0x2a)
		return emu_ud(c);
	if (emu_sse_src(c, 0, pmov && in->mod != 3 ? pmovx_size(op) : 16, !pmov, s))
		return -1;
	if (pmov) {
		pmovx(op, d, s);
		return 0;
	}
	if (op >= 0x38 && op <= 0x3f) {
		minmax(op, d, s);
		return 0;
	}
	switch (op) {
	case 0x10: case 0x14: case 0x15: {
		unsigned es = op == 0x10 ? 1 : op == 0x14 ? 4 : 8;

		for (unsigned i = 0; i < 16 / es; i++)
			if (x0[es * i + es - 1] & 0x80)
				memcpy(d + es * i, s + es * i, es);
		return 0;
	}
	case 0x17:
		ptest(c, d, s);
		return 0;
	case 0x28:
		for (unsigned i = 0; i < 2; i++)
			emu_set_lane(d, 8, i, (uint64_t)(emu_slane(d, 4, 2 * i) * emu_slane(s, 4, 2 * i)));
		return 0;
	case 0x29: case 0x37:
		for (unsigned i = 0; i < 2; i++) {
			int t = op == 0x29 ? emu_lane(d, 8, i) == emu_lane(s, 8, i)
					   : emu_slane(d, 8, i) > emu_slane(s, 8, i);

			emu_set_lane(d, 8, i, t ? ~0ULL : 0);
		}
		return 0;
	case 0x2b: {
		uint8_t r[16];

		for (unsigned i = 0; i < 8; i++) {
			int64_t v = emu_slane(i < 4 ? d : s, 4, i & 3);

			emu_set_lane(r, 2, i, (uint64_t)(v < 0 ? 0 : v > 0xffff ? 0xffff : v));
		}
		memcpy(d, r, 16);
		return 0;
	}
	case 0x40:
		for (unsigned i = 0; i < 4; i++)
			emu_set_lane(d, 4, i, emu_lane(d, 4, i) * emu_lane(s, 4, i));
		return 0;
	case 0x41:
		phminposuw(d, s);
		return 0;
	}
	return emu_unimpl(c);
}

/* PEXTRB/W/D/Q, EXTRACTPS (0F3A 14-17): an element of xmm to r/m. */
static int extract(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned op = in->opcode, size = op == 0x14 ? 1 : op == 0x15 ? 2 : 4;
	uint64_t v, off;
	int seg;

	if (op == 0x16 && (in->rex & 8))
		size = 8;
	v = emu_lane(emu_xmm(c, in->reg), size, (uint8_t)in->imm & (16 / size - 1));
	if (in->mod == 3) {
		emu_reg_set(c, in->rm, size == 8 ? 8 : 4, 0, v);
		return 0;
	}
	off = emu_ea(c, &seg);
	return emu_write_u(c, seg, off, size, v);
}

/* PINSRB/D/Q (0F3A 20, 22), INSERTPS (21). */
static int insert(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned op = in->opcode, size = op == 0x20 ? 1 : (op == 0x22 && (in->rex & 8)) ? 8 : 4;
	uint8_t imm = (uint8_t)in->imm, *d = emu_xmm(c, in->reg);
	struct emu_operand o;
	uint64_t v;

	if (op == 0x21) {
		uint8_t s[16];

		if (emu_sse_src(c, 0, in->mod == 3 ? 16 : 4, 0, s))
			return -1;
		v = emu_lane(s, 4, in->mod == 3 ? imm >> 6 : 0);
		emu_set_lane(d, 4, (imm >> 4) & 3, v);
		for (unsigned i = 0; i < 4; i++)
			if (imm & (1u << i))
				emu_set_lane(d, 4, i, 0);
		return 0;
	}
	if (in->mod == 3) {     /* PINSRB takes r32: SPL..DIL, never AH..BH */
		o.val = c->s->gpr[in->rm];
	} else if (emu_opnd_decode(c, OPND_E, size, &o) || emu_opnd_read(c, &o)) {
		return -1;
	}
	emu_set_lane(d, size, imm & (16 / size - 1), o.val);
	return 0;
}

/* BLENDPS/PD (0C, 0D), PBLENDW (0E): imm bit i picks element i of the source. */
static void blend_imm(uint8_t op, uint8_t *d, const uint8_t *s, uint8_t imm)
{
	unsigned es = op == 0x0c ? 4 : op == 0x0d ? 8 : 2;

	for (unsigned i = 0; i < 16 / es; i++)
		if (imm & (1u << i))
			memcpy(d + es * i, s + es * i, es);
}

static void mpsadbw(uint8_t *d, const uint8_t *s, uint8_t imm)
{
	unsigned so = 4 * (imm & 3), dofs = 4 * ((imm >> 2) & 1);
	uint8_t r[16];

	for (unsigned i = 0; i < 8; i++) {
		unsigned sum = 0;

		for (unsigned j = 0; j < 4; j++) {
			int a = d[dofs + i + j], b = s[so + j];

			sum += (unsigned)(a > b ? a - b : b - a);
		}
		emu_set_lane(r, 2, i, sum);
	}
	memcpy(d, r, 16);
}

static int map3a(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, s[16], imm = (uint8_t)in->imm;
	unsigned size = op == 0x0a ? 4 : op == 0x0b ? 8 : 16;

	if (op >= 0x14 && op <= 0x17)
		return extract(c);
	if (op >= 0x20 && op <= 0x22)
		return insert(c);
	if (op >= 0x60 && op <= 0x63)
		return emu_exec_pcmpstr(c);
	if (!((op >= 0x08 && op <= 0x0e) || (op >= 0x40 && op <= 0x42)))
		return emu_unimpl(c);
	if (emu_sse_src(c, 0, in->mod == 3 ? 16 : size, size == 16, s))
		return -1;
	if (op >= 0x0c && op <= 0x0e)
		blend_imm(op, emu_xmm(c, in->reg), s, imm);
	else if (op == 0x42)
		mpsadbw(emu_xmm(c, in->reg), s, imm);
	else
		return emu_sse_fp_3a(c, s);
	return 0;
}

int emu_exec_sse4(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	int pfx = emu_sse_prefix(in);

	if (in->map == X86_MAP_0F38 && (in->opcode == 0xf0 || in->opcode == 0xf1)) {
		if (pfx == P_F2)
			return crc32_insn(c);
		return pfx == P_F3 ? emu_ud(c) : movbe(c);
	}
	if (emu_is_crypto(in))
		return emu_exec_crypto(c);
	if (pfx != P_66)
		return emu_ud(c);
	if (emu_sse_usable(c))
		return -1;
	return in->map == X86_MAP_0F38 ? map38(c) : map3a(c);
}
