/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packed-integer operations shared by MMX (8 bytes) and SSE2 (16 bytes):
 * lane-wise add/sub (wrapping and saturating), compares, multiplies,
 * averages, min/max, logic, unpacks, packs and shifts.  Little-endian
 * lanes, read and written with memcpy, arithmetic unsigned (UBSan clean).
 */
#include <string.h>

#include "accel/emu/emu_int.h"

static uint64_t sat_s(int64_t v, unsigned es)
{
	int64_t hi = (int64_t)(emu_mask(es) >> 1), lo = -hi - 1;

	return (uint64_t)(v > hi ? hi : v < lo ? lo : v) & emu_mask(es);
}

static uint64_t sat_u(int64_t v, unsigned es)
{
	int64_t hi = (int64_t)emu_mask(es);

	return (uint64_t)(v > hi ? hi : v < 0 ? 0 : v);
}

enum lane_op {
	L_ADD, L_SUB, L_ADDS, L_SUBS, L_ADDUS, L_SUBUS, L_CMPEQ, L_CMPGT,
	L_MINU, L_MAXU, L_MINS, L_MAXS, L_AVG, L_MULLO, L_MULHI, L_MULHU,
};

static uint64_t lane_op(int op, uint64_t a, uint64_t b, unsigned es)
{
	int64_t sa = (int64_t)emu_sext(a, es), sb = (int64_t)emu_sext(b, es);
	uint64_t m = emu_mask(es);

	switch (op) {
	case L_ADD: return (a + b) & m;
	case L_SUB: return (a - b) & m;
	case L_ADDS: return sat_s(sa + sb, es);
	case L_SUBS: return sat_s(sa - sb, es);
	case L_ADDUS: return sat_u((int64_t)(a + b), es);
	case L_SUBUS: return a > b ? a - b : 0;
	case L_CMPEQ: return a == b ? m : 0;
	case L_CMPGT: return sa > sb ? m : 0;
	case L_MINU: return a < b ? a : b;
	case L_MAXU: return a > b ? a : b;
	case L_MINS: return sa < sb ? a : b;
	case L_MAXS: return sa > sb ? a : b;
	case L_AVG: return (a + b + 1) >> 1;
	case L_MULLO: return (a * b) & m;
	case L_MULHI: return ((uint64_t)(sa * sb) >> (8 * es)) & m;
	case L_MULHU: return ((a * b) >> (8 * es)) & m;
	}
	return 0;
}

static void lanes(int op, unsigned es, uint8_t *d, const uint8_t *s, unsigned len)
{
	for (unsigned i = 0; i < len / es; i++)
		emu_set_lane(d, es, i, lane_op(op, emu_lane(d, es, i), emu_lane(s, es, i), es));
}

/* Interleave the low (hi=0) or high halves of d and s, element size es. */
static void unpack(unsigned es, int hi, uint8_t *d, const uint8_t *s, unsigned len)
{
	uint8_t r[16];
	unsigned n = len / es / 2, base = hi ? n : 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(r + 2 * i * es, d + (base + i) * es, es);
		memcpy(r + (2 * i + 1) * es, s + (base + i) * es, es);
	}
	memcpy(d, r, len);
}

/* Narrow es-byte lanes of d then s to es/2 bytes with saturation. */
static void pack(unsigned es, int is_unsigned, uint8_t *d, const uint8_t *s, unsigned len)
{
	uint8_t r[16];
	unsigned n = len / es, h = es / 2;

	for (unsigned i = 0; i < n; i++) {
		int64_t a = emu_slane(d, es, i), b = emu_slane(s, es, i);

		emu_set_lane(r, h, i, is_unsigned ? sat_u(a, h) : sat_s(a, h));
		emu_set_lane(r, h, n + i, is_unsigned ? sat_u(b, h) : sat_s(b, h));
	}
	memcpy(d, r, len);
}

static void logic(uint8_t op, uint8_t *d, const uint8_t *s, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		switch (op) {
		case 0xdb: d[i] &= s[i]; break;
		case 0xdf: d[i] = (uint8_t)(~d[i] & s[i]); break;
		case 0xeb: d[i] |= s[i]; break;
		default: d[i] ^= s[i]; break;
		}
	}
}

/* Shift every es-byte lane: kind 0 logical right, 1 arithmetic right, 2 left. */
void emu_simd_shift(int kind, unsigned es, uint8_t *d, uint64_t count, unsigned len)
{
	unsigned bits = 8 * es;

	for (unsigned i = 0; i < len / es; i++) {
		uint64_t v = emu_lane(d, es, i);

		if (kind == 1)
			v = emu_sext(v, es) >> (count >= bits ? bits - 1 : count);
		else if (count >= bits)
			v = 0;
		else
			v = kind == 0 ? v >> count : v << count;
		emu_set_lane(d, es, i, v & emu_mask(es));
	}
}

/* PSRLDQ / PSLLDQ: whole-register byte shifts. */
void emu_simd_byte_shift(int left, uint8_t *d, unsigned count)
{
	uint8_t r[16] = { 0 };

	if (count > 16)
		count = 16;
	if (left)
		memcpy(r + count, d, 16 - count);
	else
		memcpy(r, d + count, 16 - count);
	memcpy(d, r, 16);
}

static void shift_by(uint8_t op, uint8_t *d, const uint8_t *s, unsigned len)
{
	static const uint8_t es_of[4] = { 0, 2, 4, 8 };
	uint64_t count;

	memcpy(&count, s, 8);
	emu_simd_shift(op >= 0xf0 ? 2 : op >= 0xe0 ? 1 : 0, es_of[op & 3], d, count, len);
}

static void multiply_add(uint8_t op, uint8_t *d, const uint8_t *s, unsigned len)
{
	uint8_t r[16];

	for (unsigned i = 0; i < len / 8; i++) {
		if (op == 0xf4) {          /* PMULUDQ */
			emu_set_lane(r, 8, i, emu_lane(d, 4, 2 * i) * emu_lane(s, 4, 2 * i));
		} else if (op == 0xf5) {   /* PMADDWD */
			for (unsigned j = 0; j < 2; j++) {
				unsigned k = 4 * i + 2 * j;
				int64_t v = emu_slane(d, 2, k) * emu_slane(s, 2, k) +
					    emu_slane(d, 2, k + 1) * emu_slane(s, 2, k + 1);

				emu_set_lane(r, 4, 2 * i + j, (uint64_t)v & 0xffffffffULL);
			}
		} else {                   /* PSADBW */
			uint64_t sum = 0;

			for (unsigned k = 0; k < 8; k++) {
				uint8_t a = d[8 * i + k], b = s[8 * i + k];

				sum += a > b ? a - b : b - a;
			}
			emu_set_lane(r, 8, i, sum);
		}
	}
	memcpy(d, r, len);
}

/* The binary packed-integer op of 0F opcode op; -1 if it is not one. */
int emu_simd_int(uint8_t op, uint8_t *d, const uint8_t *s, unsigned len)
{
	static const struct { uint8_t opc, op, es; } tab[] = {
		{ 0x64, L_CMPGT, 1 }, { 0x65, L_CMPGT, 2 }, { 0x66, L_CMPGT, 4 },
		{ 0x74, L_CMPEQ, 1 }, { 0x75, L_CMPEQ, 2 }, { 0x76, L_CMPEQ, 4 },
		{ 0xd4, L_ADD, 8 }, { 0xd5, L_MULLO, 2 }, { 0xd8, L_SUBUS, 1 },
		{ 0xd9, L_SUBUS, 2 }, { 0xda, L_MINU, 1 }, { 0xdc, L_ADDUS, 1 },
		{ 0xdd, L_ADDUS, 2 }, { 0xde, L_MAXU, 1 }, { 0xe0, L_AVG, 1 },
		{ 0xe3, L_AVG, 2 }, { 0xe4, L_MULHU, 2 }, { 0xe5, L_MULHI, 2 },
		{ 0xe8, L_SUBS, 1 }, { 0xe9, L_SUBS, 2 }, { 0xea, L_MINS, 2 },
		{ 0xec, L_ADDS, 1 }, { 0xed, L_ADDS, 2 }, { 0xee, L_MAXS, 2 },
		{ 0xf8, L_SUB, 1 }, { 0xf9, L_SUB, 2 }, { 0xfa, L_SUB, 4 },
		{ 0xfb, L_SUB, 8 }, { 0xfc, L_ADD, 1 }, { 0xfd, L_ADD, 2 },
		{ 0xfe, L_ADD, 4 },
	};

	for (unsigned i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (tab[i].opc == op) {
			lanes(tab[i].op, tab[i].es, d, s, len);
			return 0;
		}
	}
	switch (op) {
	case 0x60: case 0x61: case 0x62: case 0x6c:
		unpack(op == 0x6c ? 8 : 1u << (op - 0x60), 0, d, s, len);
		return 0;
	case 0x68: case 0x69: case 0x6a: case 0x6d:
		unpack(op == 0x6d ? 8 : 1u << (op - 0x68), 1, d, s, len);
		return 0;
	case 0x63: pack(2, 0, d, s, len); return 0;
	case 0x67: pack(2, 1, d, s, len); return 0;
	case 0x6b: pack(4, 0, d, s, len); return 0;
	case 0xdb: case 0xdf: case 0xeb: case 0xef:
		logic(op, d, s, len);
		return 0;
	case 0xd1: case 0xd2: case 0xd3: case 0xe1: case 0xe2:
	case 0xf1: case 0xf2: case 0xf3:
		shift_by(op, d, s, len);
		return 0;
	case 0xf4: case 0xf5: case 0xf6:
		multiply_add(op, d, s, len);
		return 0;
	}
	return -1;
}

/* PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2), PSHUFW (MMX): pfx 1, 2, 3, 0. */
void emu_simd_pshuf(int pfx, uint8_t *d, const uint8_t *s, uint8_t imm)
{
	uint8_t r[16];

	memcpy(r, s, 16);
	for (unsigned i = 0; i < 4; i++) {
		unsigned sel = (imm >> (2 * i)) & 3;

		if (pfx == 1)
			memcpy(r + 4 * i, s + 4 * sel, 4);
		else if (pfx == 2)
			memcpy(r + 8 + 2 * i, s + 8 + 2 * sel, 2);
		else
			memcpy(r + 2 * i, s + 2 * sel, 2);
	}
	memcpy(d, r, pfx == 0 ? 8 : 16);
}

/* PMOVMSKB: the top bit of every byte. */
uint32_t emu_simd_movmskb(const uint8_t *s, unsigned len)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < len; i++)
		m |= (uint32_t)(s[i] >> 7) << i;
	return m;
}
