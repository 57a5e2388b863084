/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random x87 and MMX items.  The x87 state starts with a random control
 * word (rounding and precision at random, exceptions mostly masked), a random TOP and some registers valid with ordinary and
 * special values (zeros, infinities, NaNs, denormals, pseudo-denormals).
 * Loads and stores go through the data area; MMX ops use MM0-7 (the x87
 * registers' mantissas) and 8-byte memory operands; the MMX conversions
 * (CVTPI2PS...) XMM registers and MXCSR too.
 */
#include <string.h>

#include "dt_gen.h"

#define rn dt_rn
#define N(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

/* ModRM with /digit on a data-area operand, after the opcode byte op. */
static void x87_mem(struct dt_item *it, uint8_t op, int digit, uint64_t *r)
{
	dt_emit_modrm(it, 4, 0, &op, 1, digit, dt_rand_mem(r, rn(r, 2) ? 8 : 0), 0);
}

static void x87_reg(struct dt_item *it, uint8_t op, uint8_t base, uint64_t *r)
{
	dt_emit1(it, op);
	dt_emit1(it, (uint8_t)(base + rn(r, 8)));
}

/* Loads: m32/m64/m80 reals, m16/m32/m64 integers, constants, ST(i). */
static void x87_load(struct dt_item *it, uint64_t *r)
{
	static const uint8_t mem[][2] = {
		{ 0xd9, 0 }, { 0xdd, 0 }, { 0xdb, 5 }, { 0xdf, 0 }, { 0xdb, 0 }, { 0xdf, 5 },
	};
	unsigned k = rn(r, N(mem) + 2);

	if (k < N(mem))
		x87_mem(it, mem[k][0], mem[k][1], r);
	else if (k == N(mem))
		x87_reg(it, 0xd9, 0xc0, r);                 /* FLD ST(i) */
	else
		dt_emit(it, (const uint8_t[]){ 0xd9, (uint8_t)(0xe8 + rn(r, 7)) }, 2);
}

/* Stores: FST/FSTP m32/m64, FSTP m80, FIST/FISTP m16/m32, FISTP m64,
 * FISTTP m16/m32/m64, FST/FSTP ST(i), FNSTSW AX, FNSTCW/FNSTSW m16. */
static void x87_store(struct dt_item *it, uint64_t *r)
{
	static const uint8_t mem[][2] = {
		{ 0xd9, 2 }, { 0xd9, 3 }, { 0xdd, 2 }, { 0xdd, 3 }, { 0xdb, 7 }, { 0xdf, 2 },
		{ 0xdf, 3 }, { 0xdb, 2 }, { 0xdb, 3 }, { 0xdf, 7 }, { 0xdf, 1 }, { 0xdb, 1 },
		{ 0xdd, 1 }, { 0xd9, 7 }, { 0xdd, 7 },
	};
	unsigned k = rn(r, N(mem) + 3);

	if (k < N(mem))
		x87_mem(it, mem[k][0], mem[k][1], r);
	else if (k == N(mem))
		x87_reg(it, 0xdd, rn(r, 2) ? 0xd0 : 0xd8, r);
	else
		dt_emit(it, (const uint8_t[]){ 0xdf, 0xe0 }, 2);     /* FNSTSW AX */
}

/* FADD/FMUL/FCOM/FCOMP/FSUB/FSUBR/FDIV/FDIVR in all their forms. */
static void x87_arith(struct dt_item *it, uint64_t *r)
{
	int op = (int)rn(r, 8);

	switch (rn(r, 5)) {
	case 0:
		x87_mem(it, 0xd8, op, r);                   /* m32 */
		break;
	case 1:
		x87_mem(it, 0xdc, op, r);                   /* m64 */
		break;
	case 2:
		x87_mem(it, rn(r, 2) ? 0xda : 0xde, op, r);  /* m32int, m16int */
		break;
	case 3:
		x87_reg(it, 0xd8, (uint8_t)(0xc0 + 8 * op), r);
		break;
	default:                                        /* ST(i), ST and the pops */
		if (op == 2 || op == 3)
			op = 0;
		x87_reg(it, rn(r, 2) ? 0xdc : 0xde, (uint8_t)(0xc0 + 8 * op), r);
	}
}

/* The D9 E0-FF group: FCHS, FABS, FTST, FXAM, FXCH, F2XM1, FYL2X, FPTAN,
 * FPATAN, FXTRACT, FPREM1, FDECSTP, FINCSTP, FPREM, FYL2XP1, FSQRT, FSINCOS,
 * FRNDINT, FSCALE, FSIN, FCOS; FFREE, FNCLEX, FNINIT, FWAIT. */
static void x87_misc(struct dt_item *it, uint64_t *r)
{
	static const uint8_t d9[] = {
		0xe0, 0xe1, 0xe4, 0xe5, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	};
	unsigned k = rn(r, N(d9) + 4);

	if (k < N(d9))
		dt_emit(it, (const uint8_t[]){ 0xd9, d9[k] }, 2);
	else if (k == N(d9))
		x87_reg(it, 0xd9, 0xc8, r);                 /* FXCH */
	else if (k == N(d9) + 1)
		x87_reg(it, 0xdd, 0xc0, r);                 /* FFREE */
	else if (k == N(d9) + 2)
		dt_emit(it, (const uint8_t[]){ 0xdb, (uint8_t)(rn(r, 2) ? 0xe2 : 0xe3) }, 2);
	else
		dt_emit1(it, 0x9b);                         /* FWAIT */
}

/*
 * State from memory: FLDCW (random bits, so exceptions may be unmasked and
 * the next waiting instruction raise #MF), FLDENV and FRSTOR (arbitrary
 * registers and tags), FBLD and FBSTP (packed BCD).
 */
static void x87_state(struct dt_item *it, uint64_t *r)
{
	static const uint8_t mem[][2] = {
		{ 0xd9, 5 }, { 0xd9, 4 }, { 0xdd, 4 }, { 0xdf, 4 }, { 0xdf, 6 },
	};
	unsigned k = rn(r, N(mem));
	uint8_t op = mem[k][0];

	/* Inside the data area: where a 108-byte FRSTOR crosses into an
	 * unmapped page, CR2 is model-specific (this AMD CPU names the last
	 * byte). */
	dt_emit_modrm(it, 4, 0, &op, 1, mem[k][1], DT_RM_MEM + (int)rn(r, DT_DATA_SIZE - 112), 0);
}

/* FCOMI/FUCOMI[P] set ZF, PF, CF; FCMOVcc reads them. */
static void x87_flags(struct dt_item *it, uint64_t *r)
{
	static const uint8_t fcmov[8][2] = {
		{ 0xda, 0xc0 }, { 0xda, 0xc8 }, { 0xda, 0xd0 }, { 0xda, 0xd8 },
		{ 0xdb, 0xc0 }, { 0xdb, 0xc8 }, { 0xdb, 0xd0 }, { 0xdb, 0xd8 },
	};
	static const uint16_t fcmov_uses[4] = { DT_CF, DT_ZF, DT_CF | DT_ZF, DT_PF };

	if (rn(r, 2)) {
		static const uint8_t fcomi[4][2] = {
			{ 0xdb, 0xf0 }, { 0xdb, 0xe8 }, { 0xdf, 0xf0 }, { 0xdf, 0xe8 },
		};
		unsigned k = rn(r, 4);

		x87_reg(it, fcomi[k][0], fcomi[k][1], r);
		it->def = DT_ARITH;
	} else {
		unsigned k = rn(r, 8);

		x87_reg(it, fcmov[k][0], fcmov[k][1], r);
		it->uses = fcmov_uses[k & 3];
	}
}

/* SSSE3 on MM registers: 0F 38 xx without 66, and PALIGNR. */
static const uint8_t mmx_0f38[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x1c, 0x1d, 0x1e,
};

/* MMX: the SSE2 integer table without 66, on MM registers. */
static const uint8_t mmx_0f[] = {
	0xfc, 0xfd, 0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, 0xdb, 0xdf, 0xeb, 0xef, 0x74, 0x75,
	0x76, 0x64, 0x65, 0x66, 0xd5, 0xe5, 0xe4, 0xf4, 0xdc, 0xdd, 0xec, 0xed, 0xd8, 0xd9,
	0xe8, 0xe9, 0xe0, 0xe3, 0xde, 0xda, 0xee, 0xea, 0xf6, 0xf5, 0x60, 0x61, 0x62, 0x68,
	0x69, 0x6a, 0x63, 0x67, 0x6b, 0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3, 0x6f,
	0x7f,
};

static void mmx(struct dt_item *it, uint64_t *r)
{
	uint8_t op[2] = { 0x0f, 0 };
	int reg = (int)rn(r, 8), rm = rn(r, 4) ? (int)rn(r, 8) : dt_rand_mem(r, 0);

	switch (rn(r, 8)) {
	case 7: {       /* CVTPI2PS/PD xmm, mm/m64; CVT(T)PS2PI mm, xmm/m64; CVT(T)PD2PI mm, xmm/m128 */
		int pd = (int)rn(r, 2), to_xmm = !rn(r, 3);

		op[1] = to_xmm ? 0x2a : (uint8_t)(0x2c + rn(r, 2));
		if (to_xmm)
			dt_emit_modrm(it, 4, pd ? 0x66 : 0, op, 2, (int)rn(r, DT_NR_XMM), rm, 0);
		else
			dt_emit_modrm(it, 4, pd ? 0x66 : 0, op, 2, reg,
				      rn(r, 4) ? (int)rn(r, DT_NR_XMM) : dt_rand_mem(r, pd ? 16 : 0), 0);
		break;
	}
	case 6:                                   /* SSSE3: 0F 38 xx, PALIGNR */
		if (rn(r, 4)) {
			uint8_t op3[3] = { 0x0f, 0x38, mmx_0f38[rn(r, N(mmx_0f38))] };

			dt_emit_modrm(it, 4, 0, op3, 3, reg, rm, 0);
		} else {
			uint8_t op3[3] = { 0x0f, 0x3a, 0x0f };

			dt_emit_modrm(it, 4, 0, op3, 3, reg, rm, 0);
			dt_emit1(it, (uint8_t)rn(r, 24));
		}
		break;
	case 0:                                   /* PSHUFW */
		op[1] = 0x70;
		dt_emit_modrm(it, 4, 0, op, 2, reg, rm, 0);
		dt_emit1(it, (uint8_t)dt_rand(r));
		break;
	case 1: {                                 /* shifts by an immediate */
		static const uint8_t d[][2] = {
			{ 0x71, 2 }, { 0x71, 4 }, { 0x71, 6 }, { 0x72, 2 }, { 0x72, 4 },
			{ 0x72, 6 }, { 0x73, 2 }, { 0x73, 6 },
		};
		unsigned k = rn(r, N(d));

		op[1] = d[k][0];
		dt_emit_modrm(it, 4, 0, op, 2, d[k][1], (int)rn(r, 8), 0);
		dt_emit1(it, (uint8_t)rn(r, 70));
		break;
	}
	case 2:                                   /* MOVD/MOVQ with GPRs, EMMS */
		if (rn(r, 4) == 0) {
			dt_emit(it, (const uint8_t[]){ 0x0f, 0x77 }, 2);
			break;
		}
		op[1] = rn(r, 2) ? 0x6e : 0x7e;
		rm = (int)rn(r, 15);
		dt_emit_modrm(it, rn(r, 2) ? 8 : 4, 0, op, 2, reg, rm >= X86_RSP ? rm + 1 : rm, 0);
		break;
	default:
		op[1] = mmx_0f[rn(r, N(mmx_0f))];
		dt_emit_modrm(it, 4, 0, op, 2, reg, rm, 0);
	}
}

void dt_gen_x87(struct dt_item *it, uint64_t *r)
{
	switch (rn(r, 13)) {
	case 12:
		x87_state(it, r);
		break;
	case 0:
	case 6:
		x87_load(it, r);
		break;
	case 1:
	case 7:
		x87_store(it, r);
		break;
	case 2:
	case 8:
		x87_arith(it, r);
		break;
	case 3:
	case 9:
		x87_misc(it, r);
		break;
	case 4:
	case 10:
		x87_flags(it, r);
		break;
	default:
		mmx(it, r);
	}
}

/* 80-bit values: ordinary ones and the special encodings. */
static void rand_f80(uint8_t *p, uint64_t *r)
{
	static const struct { uint64_t m; uint16_t se; } special[] = {
		{ 0, 0 }, { 0, 0x8000 }, { 1ULL << 63, 0x7fff }, { 1ULL << 63, 0xffff },
		{ 3ULL << 62, 0x7fff }, { (1ULL << 63) | 1, 0x7fff }, { 1, 0 }, { 1ULL << 62, 0 },
		{ 1ULL << 63, 0 }, { 1ULL << 63, 0x3fff }, { ~0ULL, 0x7ffe }, { 1ULL << 62, 0x3fff },
	};
	uint64_t m = dt_rand(r) | 1ULL << 63;
	uint16_t se = (uint16_t)(0x3fff - 70 + rn(r, 140)) | (uint16_t)(rn(r, 2) << 15);

	if (rn(r, 4) == 0) {
		unsigned k = rn(r, N(special));

		m = special[k].m;
		se = special[k].se;
	}
	memcpy(p, &m, 8);
	memcpy(p + 8, &se, 2);
}

void dt_gen_x87_init(struct dt_input *in, uint64_t *r)
{
	unsigned top = rn(r, 8);

	/* Precision 24/53/64 bits, any rounding; one case in eight with some
	 * exceptions unmasked (#MF at the next waiting instruction). */
	in->x87.fcw = (uint16_t)(0x3f | 0x40 | (rn(r, 2) ? 0x300 : rn(r, 2) << 9) |
				 rn(r, 4) << 10);
	if (rn(r, 8) == 0)
		in->x87.fcw &= (uint16_t)~(dt_rand(r) & 0x3f);
	in->x87.fsw = (uint16_t)(top << 11);
	in->x87.ftw = 0;
	for (int i = 0; i < 8; i++) {
		rand_f80(in->x87.st[i], r);
		if (rn(r, 2))
			in->x87.ftw |= (uint8_t)(1u << ((top + (unsigned)i) & 7));
	}
}
