/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random SSE items: packed-integer (SSE2, SSSE3, SSE4.1/4.2), floating
 * point (packed and scalar, single and double, compares, conversions,
 * rounding), the moves between XMM and general registers, AES-NI,
 * PCLMULQDQ, SHA and MOVBE.  XMM registers start with NaNs, infinities,
 * denormals and signed zeros among random bits, MXCSR with a random
 * rounding mode, FTZ and DAZ, and in one case in eight some exceptions
 * unmasked (#XM).  Packed memory operands are 16-byte aligned: legacy SSE
 * would #GP otherwise.
 */
#include <string.h>

#include "dt_gen.h"

#define rn dt_rn

static int xmm_or_mem(uint64_t *r, int align)
{
	return rn(r, 4) == 0 ? dt_rand_mem(r, align) : (int)rn(r, DT_NR_XMM);
}

static void emit_sse(struct dt_item *it, uint8_t pfx, const uint8_t *op, int nop, int reg,
		     int rm)
{
	dt_emit_modrm(it, 4, pfx, op, nop, reg, rm, 0);
}

/* 66 0F xx xmm, xmm/m128: SSE2 packed integer. */
static const uint8_t int_0f[] = {
	0xfc, 0xfd, 0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, 0xdb, 0xdf, 0xeb, 0xef, 0x74, 0x75,
	0x76, 0x64, 0x65, 0x66, 0xd5, 0xe5, 0xe4, 0xf4, 0xdc, 0xdd, 0xec, 0xed, 0xd8, 0xd9,
	0xe8, 0xe9, 0xe0, 0xe3, 0xde, 0xda, 0xee, 0xea, 0xf6, 0xf5, 0x60, 0x61, 0x62, 0x68,
	0x69, 0x6a, 0x6c, 0x6d, 0x63, 0x67, 0x6b, 0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2,
	0xf3, 0x6f, 0xd6,
};

/* 66 0F 38 xx: SSSE3, SSE4.1, SSE4.2. */
static const uint8_t int_0f38[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x14,
	0x15, 0x17, 0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2b,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e,
	0x3f, 0x40, 0x41,
};

/* 66 0F 3A xx ib. */
static const uint8_t int_0f3a[] = {
	0x0f, 0x0e, 0x0c, 0x0d, 0x42, 0x08, 0x09, 0x0a, 0x0b, 0x21, 0x40, 0x41,
};

#define N(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

void dt_gen_sse_int(struct dt_item *it, uint64_t *r)
{
	int reg = (int)rn(r, DT_NR_XMM);
	uint8_t op[3] = { 0x0f, 0, 0 };

	switch (rn(r, 5)) {
	case 0:
	case 1:
		op[1] = int_0f[rn(r, N(int_0f))];
		emit_sse(it, 0x66, op, 2, reg, xmm_or_mem(r, 16));
		break;
	case 2:                           /* PSHUFD/PSHUFHW/PSHUFLW */
		op[1] = 0x70;
		emit_sse(it, (uint8_t[]){ 0x66, 0xf3, 0xf2 }[rn(r, 3)], op, 2, reg,
			 xmm_or_mem(r, 16));
		dt_emit1(it, (uint8_t)dt_rand(r));
		break;
	case 3: {                         /* shifts by an immediate */
		static const uint8_t d[][2] = {
			{ 0x71, 2 }, { 0x71, 4 }, { 0x71, 6 }, { 0x72, 2 }, { 0x72, 4 },
			{ 0x72, 6 }, { 0x73, 2 }, { 0x73, 3 }, { 0x73, 6 }, { 0x73, 7 },
		};
		unsigned k = rn(r, N(d));

		op[1] = d[k][0];
		emit_sse(it, 0x66, op, 2, d[k][1], (int)rn(r, DT_NR_XMM));
		dt_emit1(it, (uint8_t)rn(r, 70));
		break;
	}
	default:
		if (rn(r, 3)) {
			op[1] = 0x38;
			op[2] = int_0f38[rn(r, N(int_0f38))];
			emit_sse(it, 0x66, op, 3, reg, xmm_or_mem(r, 16));
			if (op[2] == 0x17)
				it->def = DT_ARITH;     /* PTEST */
		} else {
			op[1] = 0x3a;
			op[2] = int_0f3a[rn(r, N(int_0f3a))];
			emit_sse(it, 0x66, op, 3, reg, xmm_or_mem(r, 16));
			dt_emit1(it, (uint8_t)(op[2] >= 0x08 && op[2] <= 0x0b ? rn(r, 16) :
					       dt_rand(r)));
		}
	}
}

/*
 * AES-NI, PCLMULQDQ, SHA (SHA256RNDS2 reads XMM0) and MOVBE.  Their
 * memory operands need no alignment but are given it anyway.
 */
void dt_gen_crypto(struct dt_item *it, uint64_t *r)
{
	int reg = (int)rn(r, DT_NR_XMM), rm = xmm_or_mem(r, 16);
	uint8_t op[3] = { 0x0f, 0x38, 0 };

	switch (rn(r, 5)) {
	case 0:                 /* AESIMC, AESENC, AESENCLAST, AESDEC, AESDECLAST */
		op[2] = (uint8_t)(0xdb + rn(r, 5));
		emit_sse(it, 0x66, op, 3, reg, rm);
		break;
	case 1:                 /* AESKEYGENASSIST, PCLMULQDQ */
		op[1] = 0x3a;
		op[2] = rn(r, 2) ? 0xdf : 0x44;
		emit_sse(it, 0x66, op, 3, reg, rm);
		dt_emit1(it, (uint8_t)dt_rand(r));
		break;
	case 2:                 /* SHA1NEXTE, SHA1MSG1/2, SHA256RNDS2, SHA256MSG1/2 */
		op[2] = (uint8_t)(0xc8 + rn(r, 6));
		emit_sse(it, 0, op, 3, reg, rm);
		break;
	case 3:                 /* SHA1RNDS4 */
		op[1] = 0x3a;
		op[2] = 0xcc;
		emit_sse(it, 0, op, 3, reg, rm);
		dt_emit1(it, (uint8_t)rn(r, 4));
		break;
	default: {              /* MOVBE r, m / m, r */
		int size = 2 << rn(r, 3), g = (int)rn(r, 15);

		op[2] = (uint8_t)(0xf0 + rn(r, 2));
		dt_emit_modrm(it, size, 0, op, 3, g >= X86_RSP ? g + 1 : g, dt_rand_mem(r, 0), 0);
	}
	}
}

/* 0F xx with no prefix (ps), 66 (pd), F3 (ss), F2 (sd). */
static const uint8_t fp_all4[] = { 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x51, 0x5a, 0xc2, 0x10 };
static const uint8_t fp_psd[] = { 0x54, 0x55, 0x56, 0x57, 0x14, 0x15, 0xc6, 0x28, 0x2e, 0x2f,
				  0x5b, 0x52, 0x53 };
static const uint8_t fp_sse3[] = { 0x7c, 0x7d, 0xd0 };

void dt_gen_sse_fp(struct dt_item *it, uint64_t *r)
{
	static const uint8_t pfx4[4] = { 0, 0x66, 0xf3, 0xf2 };
	int reg = (int)rn(r, DT_NR_XMM), k = (int)rn(r, 3);
	uint8_t op[3] = { 0x0f, 0, 0 }, pfx;

	if (k == 0) {
		op[1] = fp_all4[rn(r, N(fp_all4))];
		pfx = pfx4[rn(r, 4)];
	} else if (k == 1) {
		op[1] = fp_psd[rn(r, N(fp_psd))];
		pfx = pfx4[rn(r, 2)];
		if ((op[1] == 0x52 || op[1] == 0x53) && pfx)
			pfx = 0xf3;             /* RCP/RSQRT: PS or SS */
		if (op[1] == 0x5b && pfx == 0 && rn(r, 2))
			pfx = 0xf3;             /* CVTTPS2DQ */
	} else {
		if (rn(r, 2)) {                  /* ROUNDPS/PD/SS/SD */
			op[1] = 0x3a;
			op[2] = (uint8_t)(0x08 + rn(r, 4));
			emit_sse(it, 0x66, op, 3, reg, xmm_or_mem(r, 16));
			dt_emit1(it, (uint8_t)rn(r, 16));
			return;
		}
		op[1] = fp_sse3[rn(r, N(fp_sse3))];
		pfx = rn(r, 2) ? 0x66 : 0xf2;
	}
	/* Packed memory operands must be aligned, scalar ones need not be
	 * (the SSE3 ones with F2 and CVTTPS2DQ are packed). */
	emit_sse(it, pfx, op, 2, reg, xmm_or_mem(r, pfx >= 0xf2 && k < 2 && op[1] != 0x5b ? 0 : 16));
	if (op[1] == 0xc2)
		dt_emit1(it, (uint8_t)rn(r, 8));
	else if (op[1] == 0xc6)
		dt_emit1(it, (uint8_t)dt_rand(r));
	if (op[1] == 0x2e || op[1] == 0x2f)
		it->def = DT_ARITH;
}

/* A general register destination or source that is not RSP. */
static int gpr(uint64_t *r)
{
	int g = (int)rn(r, 15);

	return g >= X86_RSP ? g + 1 : g;
}

void dt_gen_sse_gpr(struct dt_item *it, uint64_t *r)
{
	int size = rn(r, 2) ? 8 : 4, x = (int)rn(r, DT_NR_XMM);
	uint8_t op[3] = { 0x0f, 0, 0 };

	switch (rn(r, 8)) {
	case 0:                         /* CVTSI2SS/SD */
		op[1] = 0x2a;
		dt_emit_modrm(it, size, rn(r, 2) ? 0xf3 : 0xf2, op, 2, x, gpr(r), 0);
		break;
	case 1:                         /* CVT(T)SS/SD2SI */
		op[1] = (uint8_t)(0x2c + rn(r, 2));
		dt_emit_modrm(it, size, rn(r, 2) ? 0xf3 : 0xf2, op, 2, gpr(r), x, 0);
		break;
	case 2:                         /* MOVD/MOVQ to and from XMM */
		op[1] = rn(r, 2) ? 0x6e : 0x7e;
		dt_emit_modrm(it, size, 0x66, op, 2, x, gpr(r), 0);
		break;
	case 3:                         /* PMOVMSKB, MOVMSKPS/PD */
		op[1] = rn(r, 2) ? 0xd7 : 0x50;
		dt_emit_modrm(it, 4, op[1] == 0xd7 || rn(r, 2) ? 0x66 : 0, op, 2, gpr(r), x, 0);
		break;
	case 4:                         /* PEXTRW, PINSRW */
		op[1] = rn(r, 2) ? 0xc5 : 0xc4;
		if (op[1] == 0xc5)
			dt_emit_modrm(it, 4, 0x66, op, 2, gpr(r), x, 0);
		else
			dt_emit_modrm(it, 4, 0x66, op, 2, x, gpr(r), 0);
		dt_emit1(it, (uint8_t)rn(r, 16));
		break;
	case 5:                         /* PEXTRB/D/Q to a register */
		op[1] = 0x3a;
		op[2] = rn(r, 2) ? 0x14 : 0x16;
		dt_emit_modrm(it, op[2] == 0x16 ? size : 4, 0x66, op, 3, x, gpr(r), 0);
		dt_emit1(it, (uint8_t)rn(r, 16));
		break;
	case 6:                         /* PINSRB/D/Q from a register */
		op[1] = 0x3a;
		op[2] = rn(r, 2) ? 0x20 : 0x22;
		dt_emit_modrm(it, op[2] == 0x22 ? size : 4, 0x66, op, 3, x, gpr(r), 0);
		dt_emit1(it, (uint8_t)rn(r, 16));
		break;
	default: {                      /* CRC32 r, r/m8 or r/m32/64 */
		int byte = (int)rn(r, 2);

		op[1] = 0x38;
		op[2] = (uint8_t)(0xf0 + !byte);
		dt_emit_modrm(it, byte ? (size == 8 ? 8 : 4) : size, 0xf2, op, 3, gpr(r),
			      rn(r, 3) ? gpr(r) : dt_rand_mem(r, 0), 0);
	}
	}
}

/* Single and double values worth meeting: zeros, ones, infinities, NaNs,
 * denormals, extremes. */
static const uint32_t f32_special[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
	0xffc00000, 0x7f800001, 0x00000001, 0x807fffff, 0x7f7fffff, 0x4f000000, 0xcf000000,
	0x3effffff, 0x3f000000, 0x4b000000,
};
static const uint64_t f64_special[] = {
	0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0x7ff0000000000000ULL,
	0xfff8000000000000ULL, 0x7ff0000000000001ULL, 0x0000000000000001ULL,
	0x7fefffffffffffffULL, 0x43e0000000000000ULL, 0xc3e0000000000000ULL,
	0x3fe0000000000000ULL, 0x41dfffffffc00000ULL,
};

static void fill_lane(uint8_t *p, uint64_t *r)
{
	uint64_t v = dt_rand(r);

	switch (rn(r, 4)) {
	case 0: {
		uint32_t a = f32_special[rn(r, N(f32_special))];
		uint32_t b = f32_special[rn(r, N(f32_special))];

		v = a | (uint64_t)b << 32;
		break;
	}
	case 1:
		v = f64_special[rn(r, N(f64_special))];
		break;
	case 2:                          /* ordinary floats near 1 */
		v = (0x3f800000ULL | (v & 0x7fffff) | (v & 0x8000000000000000ULL ? 0x80000000 : 0)) |
		    (0x40000000ULL | ((v >> 32) & 0x7fffff)) << 32;
		break;
	default:
		break;
	}
	memcpy(p, &v, 8);
}

void dt_gen_sse_init(struct dt_input *in, uint64_t *r)
{
	for (int i = 0; i < DT_NR_XMM; i++) {
		fill_lane(in->xmm[i], r);
		fill_lane(in->xmm[i] + 8, r);
	}
	/* Rounding, FTZ and DAZ at random; one case in eight with some
	 * exceptions unmasked (#XM, the destination left alone). */
	in->mxcsr = 0x1f80 | (uint32_t)(rn(r, 4) << 13) | (rn(r, 4) == 0 ? 0x8000 : 0) |
		    (rn(r, 4) == 0 ? 0x40 : 0);
	if (rn(r, 8) == 0)
		in->mxcsr &= ~((uint32_t)dt_rand(r) & 0x1f80);
	/* Some FP values in the data area too. */
	for (int i = 0; i < 64; i++)
		fill_lane(in->data + 16 * rn(r, DT_DATA_SIZE / 16), r);
}
