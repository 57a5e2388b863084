/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSSE3: the 0F38 00-0B and 1C-1E packed-integer operations (PSHUFB, the
 * horizontal adds and subtracts, PMADDUBSW, PSIGN*, PMULHRSW, PABS*) and
 * PALIGNR (0F3A 0F), on MMX registers without a prefix and XMM with 66.
 * Everything else of the 0F38/0F3A maps goes on to exec_sse4.c.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

static uint64_t sat16(int64_t v)
{
	return (uint64_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v) & 0xffff;
}

static void pshufb(uint8_t *d, const uint8_t *s, unsigned len)
{
	uint8_t r[16];

	for (unsigned i = 0; i < len; i++)
		r[i] = (s[i] & 0x80) ? 0 : d[s[i] & (len - 1)];
	memcpy(d, r, len);
}

/* PHADDW/D, PHADDSW, PHSUBW/D, PHSUBSW: pairs of d then pairs of s. */
static void horizontal(uint8_t op, uint8_t *d, const uint8_t *s, unsigned len)
{
	unsigned es = (op & 3) == 2 ? 4 : 2, n = len / es;
	int sub = op >= 5, sat = (op & 3) == 3;
	uint8_t r[16];

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = i < n / 2 ? d : s;
		unsigned k = 2 * (i % (n / 2));
		int64_t a = emu_slane(p, es, k), b = emu_slane(p, es, k + 1);
		int64_t v = sub ? a - b : a + b;

		emu_set_lane(r, es, i, sat ? sat16(v) : (uint64_t)v & emu_mask(es));
	}
	memcpy(d, r, len);
}

static void pmaddubsw(uint8_t *d, const uint8_t *s, unsigned len)
{
	for (unsigned i = 0; i < len / 2; i++) {
		int64_t v = (int64_t)d[2 * i] * (int8_t)s[2 * i] +
			    (int64_t)d[2 * i + 1] * (int8_t)s[2 * i + 1];

		emu_set_lane(d, 2, i, sat16(v));
	}
}

static void psign(unsigned es, uint8_t *d, const uint8_t *s, unsigned len)
{
	for (unsigned i = 0; i < len / es; i++) {
		int64_t v = emu_slane(s, es, i);
		uint64_t a = emu_lane(d, es, i);

		emu_set_lane(d, es, i, v < 0 ? (0 - a) & emu_mask(es) : v == 0 ? 0 : a);
	}
}

static void pmulhrsw(uint8_t *d, const uint8_t *s, unsigned len)
{
	for (unsigned i = 0; i < len / 2; i++) {
		int64_t v = emu_slane(d, 2, i) * emu_slane(s, 2, i);

		emu_set_lane(d, 2, i, (uint64_t)(((v >> 14) + 1) >> 1) & 0xffff);
	}
}

static void pabs(unsigned es, uint8_t *d, const uint8_t *s, unsigned len)
{
	for (unsigned i = 0; i < len / es; i++) {
		int64_t v = emu_slane(s, es, i);

		emu_set_lane(d, es, i, (uint64_t)(v < 0 ? -v : v) & emu_mask(es));
	}
}

/* The bytes of s (low) and d (high) shifted right by imm bytes. */
static void palignr(uint8_t *d, const uint8_t *s, unsigned len, unsigned imm)
{
	uint8_t t[32], r[16];

	memcpy(t, s, len);
	memcpy(t + len, d, len);
	for (unsigned i = 0; i < len; i++)
		r[i] = imm + i < 2 * len ? t[imm + i] : 0;
	memcpy(d, r, len);
}

static int is_ssse3(const struct x86_insn *in)
{
	if (in->map == X86_MAP_0F3A)
		return in->opcode == 0x0f;
	return in->opcode <= 0x0b || (in->opcode >= 0x1c && in->opcode <= 0x1e);
}

int emu_exec_ssse3(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	int pfx = emu_sse_prefix(in), mmx = pfx == P_NONE;
	unsigned len = mmx ? 8 : 16;
	uint8_t op = in->opcode, s[16], *d;

	if (!is_ssse3(in))
		return emu_exec_sse4(c);
	if (pfx == P_F3 || pfx == P_F2)
		return emu_ud(c);
	if (mmx ? emu_mmx_usable(c) : emu_sse_usable(c))
		return -1;
	if (emu_sse_src(c, mmx, len, !mmx, s))
		return -1;
	d = mmx ? emu_mmx_enter(c) + 16 * (in->reg & 7) : emu_xmm(c, in->reg);
	if (in->map == X86_MAP_0F3A)
		palignr(d, s, len, (uint8_t)in->imm);
	else if (op == 0x00)
		pshufb(d, s, len);
	else if (op == 0x04)
		pmaddubsw(d, s, len);
	else if (op >= 0x08 && op <= 0x0a)
		psign(1u << (op - 0x08), d, s, len);
	else if (op == 0x0b)
		pmulhrsw(d, s, len);
	else if (op >= 0x1c)
		pabs(1u << (op - 0x1c), d, s, len);
	else
		horizontal(op, d, s, len);
	if (mmx)
		emu_mmx_written(c, in->reg);
	return 0;
}
