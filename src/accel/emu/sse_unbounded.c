/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PE after an unmasked SSE overflow or underflow.  The CPU then stores no
 * result, but it sets PE by the result rounded to the destination's
 * precision with an unbounded exponent (the exponent-adjusted result of
 * SDM vol. 1 4.9.1.4-5), where the host's masked run (exec_sse_fp.c)
 * set it by the overflowed or denormalized result.  The x87 rounds to 24
 * or 53 bits under its precision control with an exponent range that
 * holds any sum, product or quotient of two doubles, so each lane is
 * computed there again and its PE taken from the x87 status word.  Lanes
 * that neither overflow nor underflow unmasked keep their masked rule.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define MXCSR_DAZ 0x40u
#define MXCSR_OM  0x400u
#define MXCSR_UM  0x800u
#define MXCSR_FTZ 0x8000u
#define FSW_PE    0x20u

enum uop { U_ADD, U_SUB, U_MUL, U_DIV };

struct uop_lane {
	long double a, b;
	enum uop op;
	int dbl;      /* rounded to double (else single) precision */
	int exact;    /* NaN, infinity or x/0 in: no rounding to look at */
};

#if defined(__x86_64__)
/* fadd, fsub, fmul, fdiv st(0), st(1); each followed by RET. */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"vmon_emu_x87_lane_stubs:\n"
	".byte 0xd8, 0xc1, 0xc3, 0xcc\n"
	".byte 0xd8, 0xe1, 0xc3, 0xcc\n"
	".byte 0xd8, 0xc9, 0xc3, 0xcc\n"
	".byte 0xd8, 0xf1, 0xc3, 0xcc\n"
	".popsection\n");
extern const uint8_t vmon_emu_x87_lane_stubs[];

/* A lane's value; DAZ makes a denormal a zero of its sign. */
static long double lane_value(const uint8_t *p, int dbl, unsigned i, uint32_t mxcsr, int *special)
{
	uint64_t v = emu_lane(p, dbl ? 8 : 4, i);
	unsigned mant_bits = dbl ? 52 : 23, exp_bits = dbl ? 11 : 8;
	uint64_t mant = v & ((1ULL << mant_bits) - 1);
	uint64_t exp = (v >> mant_bits) & ((1ULL << exp_bits) - 1);
	int neg = (v >> (mant_bits + exp_bits)) & 1;
	double d;
	float f;

	if (exp == (1ULL << exp_bits) - 1)
		*special = 1;
	if (!exp && mant && (mxcsr & MXCSR_DAZ))
		return neg ? -0.0L : 0.0L;
	if (dbl) {
		memcpy(&d, &v, 8);
		return d;
	}
	memcpy(&f, &v, 4);
	return f;
}

static void lane_set(struct uop_lane *l, enum uop op, int dbl, uint32_t mxcsr, const uint8_t *pa,
		     unsigned ia, const uint8_t *pb, unsigned ib)
{
	int special = 0;

	l->op = op;
	l->dbl = dbl;
	l->a = lane_value(pa, dbl, ia, mxcsr, &special);
	l->b = lane_value(pb, dbl, ib, mxcsr, &special);
	l->exact = special || (op == U_DIV && l->b == 0);
}

/* CVTPD2PS/CVTSD2SS: the double times 1 at single precision. */
static void lane_convert(struct uop_lane *l, const uint8_t *src, unsigned i, uint32_t mxcsr)
{
	int special = 0;

	l->op = U_MUL;
	l->dbl = 0;
	l->a = lane_value(src, 1, i, mxcsr, &special);
	l->b = 1.0L;
	l->exact = special;
}

/* HADD/HSUB (7C/7D) and ADDSUB (D0): lane i of the result from pairs. */
static unsigned lanes_horizontal(uint8_t op, int dbl, uint32_t mxcsr, const uint8_t *d,
				 const uint8_t *s, struct uop_lane *l)
{
	unsigned n = dbl ? 2 : 4;

	for (unsigned i = 0; i < n; i++) {
		if (op == 0xd0) {
			lane_set(&l[i], i & 1 ? U_ADD : U_SUB, dbl, mxcsr, d, i, s, i);
			continue;
		}
		const uint8_t *p = i < n / 2 ? d : s;
		unsigned j = 2 * (i % (n / 2));

		lane_set(&l[i], op == 0x7c ? U_ADD : U_SUB, dbl, mxcsr, p, j, p, j + 1);
	}
	return n;
}

/* The lanes of the ops that can overflow or underflow; 0 for the others. */
static unsigned lanes_of(uint8_t op, int pfx, uint32_t mxcsr, const uint8_t *d, const uint8_t *s,
			 struct uop_lane *l)
{
	static const enum uop arith[8] = { [0] = U_ADD, [1] = U_MUL, [4] = U_SUB, [6] = U_DIV };
	int dbl = pfx == P_66 || pfx == P_F2;
	unsigned n;

	if (op == 0x5a) {
		if (pfx != P_66 && pfx != P_F2)
			return 0;     /* single to double is exact */
		n = pfx == P_66 ? 2 : 1;
		for (unsigned i = 0; i < n; i++)
			lane_convert(&l[i], s, i, mxcsr);
		return n;
	}
	if (op == 0x7c || op == 0x7d || op == 0xd0)
		return lanes_horizontal(op, pfx == P_66, mxcsr, d, s, l);
	if (op != 0x58 && op != 0x59 && op != 0x5c && op != 0x5e)
		return 0;
	n = pfx == P_F3 || pfx == P_F2 ? 1 : dbl ? 2 : 4;
	for (unsigned i = 0; i < n; i++)
		lane_set(&l[i], arith[op - 0x58], dbl, mxcsr, d, i, s, i);
	return n;
}

/* The lane rounded with an unbounded exponent: its value and whether that was inexact. */
static long double lane_round(const struct uop_lane *l, uint32_t mxcsr, int *inexact)
{
	struct emu_host_fp r;
	uint16_t fcw = (uint16_t)(0x7f | (l->dbl ? 0x200 : 0) | ((mxcsr >> 13) & 3) << 10);
	long double v = 0;

	memset(&r, 0, sizeof(r));
	memcpy(r.img + EMU_FX_FCW, &fcw, 2);
	r.img[EMU_FX_FTW] = 0x03;     /* ST0, ST1 valid, TOP 0 */
	memcpy(r.img + EMU_FX_MXCSR, &(uint32_t){ 0x1f80 }, 4);
	memcpy(r.img + EMU_FX_ST, &l->a, 10);
	memcpy(r.img + EMU_FX_ST + 16, &l->b, 10);
	r.stub = vmon_emu_x87_lane_stubs + 4 * l->op;
	emu_host_fp_run(&r);
	memcpy(&v, r.img + EMU_FX_ST, 10);
	*inexact = !!(r.img[EMU_FX_FSW] & FSW_PE);
	return v;
}

static int lane_pe(const struct uop_lane *l, uint32_t mxcsr)
{
	long double max = l->dbl ? 0x1p1024L : 0x1p128L, tiny = l->dbl ? 0x1p-1022L : 0x1p-126L;
	long double step = l->dbl ? 0x1p-1074L : 0x1p-149L, v, mag, grid;
	int inexact;

	if (l->exact)
		return 0;
	v = lane_round(l, mxcsr, &inexact);
	mag = v < 0 ? -v : v;
	if (mag >= max)
		return (mxcsr & MXCSR_OM) ? 1 : inexact;    /* masked: infinity or the largest */
	if (mag == 0 || mag >= tiny || !(mxcsr & MXCSR_UM))
		return inexact;
	/* Masked underflow: flushed to zero, or denormalized onto its grid. */
	if (mxcsr & MXCSR_FTZ)
		return 1;
	grid = mag / step;
	return inexact || grid != (long double)(uint64_t)grid;
}

int emu_sse_unbounded_pe(uint8_t op, int pfx, uint32_t mxcsr, const uint8_t dst[16],
			 const uint8_t src[16])
{
	struct uop_lane l[4];
	unsigned n = lanes_of(op, pfx, mxcsr, dst, src, l);
	int pe = 0;

	if (!n)
		return -1;
	for (unsigned i = 0; i < n; i++)
		pe |= lane_pe(&l[i], mxcsr);
	return pe;
}

#else

int emu_sse_unbounded_pe(uint8_t op, int pfx, uint32_t mxcsr, const uint8_t dst[16],
			 const uint8_t src[16])
{
	(void)op, (void)pfx, (void)mxcsr, (void)dst, (void)src;
	return -1;
}

#endif
