/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSE/SSE2 floating point: ADD/SUB/MUL/DIV/MIN/MAX/SQRT/RCP/RSQRT in
 * packed and scalar forms, CMPccPS/PD/SS/SD, COMIS/UCOMIS, the conversions
 * between floats, doubles and integers.  Each runs on the host (host_fp.c)
 * as "op xmm0, xmm1" with the destination in xmm0, the source in xmm1 and
 * general-register operands in RAX, under the guest's MXCSR (rounding, DAZ,
 * FTZ) with every exception masked; the flags it raises are then judged
 * against the guest's masks, and an unmasked one is #XM (#UD without
 * CR4.OSXMMEXCPT) with the destination left alone.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define GENERIC_OPS 17
static const uint8_t generic_op[GENERIC_OPS] = {
	0x51, 0x52, 0x53, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0xe6, 0x2e, 0x2f,
	0xd0, 0x7c, 0x7d,
};
/* Valid prefixes (bit per P_*) of each generic op; SSE3's D0/7C/7D are 66 and F2. */
static const uint8_t generic_pfx[GENERIC_OPS] = {
	0xf, 0x5, 0x5, 0xf, 0xf, 0xf, 0x7, 0xf, 0xf, 0xf, 0xf, 0xe, 0x3, 0x3, 0xa, 0xa, 0xa,
};
#define CMP_BASE (GENERIC_OPS * 4)
#define CVT_BASE (CMP_BASE + 32)
#define ROUND_BASE (CVT_BASE + 12)
#define MMX_CVT_BASE (ROUND_BASE + 64)

#if defined(__x86_64__)
/*
 * 8 bytes a stub.  Generic: [pfx] 0F op C1 (op xmm0, xmm1; a NOP stands in
 * for no prefix).  Compares: [pfx] 0F C2 C1 imm.  Integer conversions:
 * F3/F2 [REX.W] 0F 2A C0 (xmm0 <- rax) and 0F 2C/2D C1 (rax <- xmm1).
 * Rounds (0F3A 08-0B) by immediate.  MMX
 * conversions: [66] 0F 2A C1 (xmm0 <- mm1), [66] 0F 2C/2D C1 (mm0 <- xmm1).
 */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"vmon_emu_sse_stubs:\n"
	".irp op, 0x51,0x52,0x53,0x58,0x59,0x5a,0x5b,0x5c,0x5d,0x5e,0x5f,0xe6,0x2e,0x2f,0xd0,0x7c,0x7d\n"
	".byte 0x90, 0x0f, \\op, 0xc1, 0xc3, 0xcc, 0xcc, 0xcc\n"
	".byte 0x66, 0x0f, \\op, 0xc1, 0xc3, 0xcc, 0xcc, 0xcc\n"
	".byte 0xf3, 0x0f, \\op, 0xc1, 0xc3, 0xcc, 0xcc, 0xcc\n"
	".byte 0xf2, 0x0f, \\op, 0xc1, 0xc3, 0xcc, 0xcc, 0xcc\n"
	".endr\n"
	".irp p, 0x90, 0x66, 0xf3, 0xf2\n"
	".irp i, 0, 1, 2, 3, 4, 5, 6, 7\n"
	".byte \\p, 0x0f, 0xc2, 0xc1, \\i, 0xc3, 0xcc, 0xcc\n"
	".endr\n"
	".endr\n"
	".irp op, 0x2a, 0x2c, 0x2d\n"
	".irp p, 0xf3, 0xf2\n"
	".byte \\p, 0x0f, \\op, 0xc0 | (\\op >> 2 & 1), 0xc3, 0xcc, 0xcc, 0xcc\n"
	".byte \\p, 0x48, 0x0f, \\op, 0xc0 | (\\op >> 2 & 1), 0xc3, 0xcc, 0xcc\n"
	".endr\n"
	".endr\n"
	".irp op, 0x08, 0x09, 0x0a, 0x0b\n"
	".irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n"
	".byte 0x66, 0x0f, 0x3a, \\op, 0xc1, \\i, 0xc3, 0xcc\n"
	".endr\n"
	".endr\n"
	".irp op, 0x2a, 0x2c, 0x2d\n"
	".byte 0x90, 0x0f, \\op, 0xc1, 0xc3, 0xcc, 0xcc, 0xcc\n"
	".byte 0x66, 0x0f, \\op, 0xc1, 0xc3, 0xcc, 0xcc, 0xcc\n"
	".endr\n"
	".popsection\n");
extern const uint8_t vmon_emu_sse_stubs[];
#define SSE_STUBS vmon_emu_sse_stubs
#else
#define SSE_STUBS ((const uint8_t *)0)
#endif

/* Memory operand size of a generic op (0: full, aligned 16 bytes). */
static unsigned mem_size(uint8_t op, int pfx)
{
	if (op == 0x2e || op == 0x2f)
		return pfx == P_66 ? 8 : 4;
	if (op == 0xd0 || op == 0x7c || op == 0x7d)
		return 0;
	if (op == 0x5a && pfx != P_66)
		return pfx == P_F3 ? 4 : 8;
	if (op == 0xe6 && pfx == P_F3)
		return 8;
	if (op != 0xe6 && op != 0x5b && (pfx == P_F3 || pfx == P_F2))
		return pfx == P_F3 ? 4 : 8;
	return 0;
}

#define MXCSR_PE  0x20u
#define MXCSR_OE  0x08u
#define MXCSR_UE  0x10u
#define MXCSR_UM  0x800u
#define MXCSR_FTZ 0x8000u

/* The generic op and prefix of a stub, whose lanes sse_unbounded.c can compute again (op 0: none). */
struct fp_op {
	uint8_t op;
	int pfx;
};

static uint32_t adjusted_pe(const struct fp_op *how, uint32_t mxcsr, const uint8_t ops[32],
			    uint32_t raised)
{
	int pe = emu_sse_unbounded_pe(how->op, how->pfx, mxcsr, ops, ops + 16);

	if (pe < 0)
		return raised;
	return (raised & ~MXCSR_PE) | (pe ? MXCSR_PE : 0);
}

/* Runs the stub; commits MXCSR flags; 1 if an unmasked exception (no result). */
static int run(struct emu_cpu *c, struct emu_host_fp *r, unsigned idx, const struct fp_op *how)
{
	uint32_t mxcsr, after, raised, unmasked;
	struct emu_host_fp again;
	uint8_t ops[32];

	memcpy(&mxcsr, c->s->xsave + EMU_FX_MXCSR, 4);
	after = (mxcsr & ~0x3fu) | 0x1f80;
	memcpy(r->img + EMU_FX_MXCSR, &after, 4);
	r->stub = SSE_STUBS + 8 * idx;
	r->mem = NULL;
	again = *r;
	memcpy(ops, r->img + EMU_FX_XMM, 32);
	emu_host_fp_run(r);
	memcpy(&after, r->img + EMU_FX_MXCSR, 4);
	raised = after & 0x3f;
	unmasked = raised & ~(mxcsr >> 7);
	/*
	 * Unmasked, underflow traps on any tiny result; masked, the host only
	 * flags a tiny inexact one.  FTZ flushes (and flags) every tiny one:
	 * a second run with it tells.
	 */
	if (!(unmasked & 7) && !(mxcsr & MXCSR_UM) && !(raised & MXCSR_UE)) {
		after |= MXCSR_FTZ;
		memcpy(again.img + EMU_FX_MXCSR, &after, 4);
		emu_host_fp_run(&again);
		memcpy(&after, again.img + EMU_FX_MXCSR, 4);
		if (after & MXCSR_UE) {
			raised |= MXCSR_UE;
			unmasked |= MXCSR_UE;
		}
	}
	/*
	 * An unmasked pre-computation exception (IE, DE, ZE) traps before the
	 * post-computation ones (OE, UE, PE) are looked for: only its group
	 * is flagged, though the host, all masked, computed on.  After an
	 * unmasked OE or UE the CPU flags PE by the exponent-adjusted result,
	 * which the masked run does not show.
	 */
	if (unmasked & 7)
		raised &= 7;
	else if ((unmasked & (MXCSR_OE | MXCSR_UE)) && how->op)
		raised = adjusted_pe(how, mxcsr, ops, raised);
	mxcsr |= raised;
	memcpy(c->s->xsave + EMU_FX_MXCSR, &mxcsr, 4);
	if (unmasked) {
		if (c->s->cr4 & X86_CR4_OSXMMEXCPT)
			emu_raise(c, EXC_XM, 0, 0);
		else
			emu_ud(c);
		return 1;
	}
	return 0;
}

static int generic(struct emu_cpu *c, int pfx, unsigned k)
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, src[16];
	unsigned size = mem_size(op, pfx);
	struct emu_host_fp r;

	if (!((generic_pfx[k] >> pfx) & 1))
		return emu_ud(c);
	if (emu_sse_src(c, 0, in->mod == 3 || !size ? 16 : size, !size, src))
		return -1;
	emu_host_fp_load(&r, c->s);
	memcpy(r.img + EMU_FX_XMM, emu_xmm(c, in->reg), 16);
	memcpy(r.img + EMU_FX_XMM + 16, src, 16);
	r.rflags = c->s->rflags;
	r.rax = 0;
	if (run(c, &r, op == 0xc2 ? CMP_BASE + pfx * 8 + (in->imm & 7) : k * 4 + pfx,
		&(struct fp_op){ op, pfx }))
		return -1;
	if (op == 0x2e || op == 0x2f) {
		/* ZF PF CF from the compare; the host cleared OF SF AF. */
		c->s->rflags = (c->s->rflags & ~EMU_FLAGS_ARITH) | (r.rflags & EMU_FLAGS_ARITH);
		return 0;
	}
	memcpy(emu_xmm(c, in->reg), r.img + EMU_FX_XMM, 16);
	return 0;
}

/*
 * CVTPI2PS/PD (2A), CVTTPS2PI/CVTTPD2PI (2C), CVTPS2PI/CVTPD2PI (2D): 66
 * selects the doubles.  An MMX register operand makes the x87 state MMX
 * (TOP 0, every tag valid) after a pending x87 exception is reported
 * (#MF); CVTPI2PS/PD from memory do neither (SDM).  The transition comes
 * after the memory operand is read and before the conversion, so a #PF
 * leaves the x87 state alone and an #XM does not (as this AMD host does
 * both).  On the host the stub sees a clean x87 state with TOP 0: mm1 is
 * the source, mm0 the result; its x87 state is not taken back.
 */
static int mmx_convert(struct emu_cpu *c, int pd)
{
	const struct x86_insn *in = &c->insn;
	unsigned k = in->opcode == 0x2a ? 0 : in->opcode == 0x2c ? 1 : 2;
	struct emu_host_fp r;
	uint8_t src[16];

	if ((k || in->mod == 3) && emu_x87_check(c))
		return -1;
	if (k) {
		if (emu_sse_src(c, 0, pd || in->mod == 3 ? 16 : 8, pd, src))
			return -1;
	} else if (in->mod == 3) {
		memset(src, 0, 16);
		memcpy(src, emu_mmx_enter(c) + 16 * (in->rm & 7), 8);
	} else if (emu_sse_src(c, 0, 8, 0, src)) {
		return -1;
	}
	if (k)
		emu_mmx_enter(c);
	emu_host_fp_load(&r, c->s);
	memcpy(r.img, &(uint32_t){ 0x037f }, 4);     /* FCW masked, FSW clear: TOP 0 */
	r.img[EMU_FX_FTW] = 0;
	if (k) {
		memcpy(r.img + EMU_FX_XMM + 16, src, 16);
	} else {
		memcpy(r.img + EMU_FX_XMM, emu_xmm(c, in->reg), 16);
		memcpy(r.img + EMU_FX_ST + 16, src, 8);
	}
	r.rflags = c->s->rflags;
	r.rax = 0;
	if (run(c, &r, MMX_CVT_BASE + k * 2 + pd, &(struct fp_op){ 0 }))
		return -1;
	if (!k) {
		memcpy(emu_xmm(c, in->reg), r.img + EMU_FX_XMM, 16);
		return 0;
	}
	memcpy(emu_mmx_enter(c) + 16 * (in->reg & 7), r.img + EMU_FX_ST, 8);
	emu_mmx_written(c, in->reg);
	return 0;
}

/* CVTSI2SS/SD (2A), CVTTSS2SI/CVTTSD2SI (2C), CVTSS2SI/CVTSD2SI (2D); the MMX forms. */
static int convert(struct emu_cpu *c, int pfx)
{
	const struct x86_insn *in = &c->insn;
	unsigned w = !!(in->rex & 8), k = in->opcode == 0x2a ? 0 : in->opcode == 0x2c ? 1 : 2;
	struct emu_host_fp r;
	uint8_t src[16];

	if (pfx != P_F3 && pfx != P_F2)
		return mmx_convert(c, pfx == P_66);
	emu_host_fp_load(&r, c->s);
	r.rflags = c->s->rflags;
	r.rax = 0;
	if (k == 0) {
		struct emu_operand o;

		emu_opnd_decode(c, OPND_E, w ? 8 : 4, &o);
		if (emu_opnd_read(c, &o))
			return -1;
		r.rax = o.val;
		memcpy(r.img + EMU_FX_XMM, emu_xmm(c, in->reg), 16);
	} else {
		if (emu_sse_src(c, 0, in->mod == 3 ? 16 : (pfx == P_F3 ? 4 : 8), 0, src))
			return -1;
		memcpy(r.img + EMU_FX_XMM + 16, src, 16);
	}
	if (run(c, &r, CVT_BASE + k * 4 + (pfx == P_F2) * 2 + w, &(struct fp_op){ 0 }))
		return -1;
	if (k == 0)
		memcpy(emu_xmm(c, in->reg), r.img + EMU_FX_XMM, 16);
	else
		emu_reg_set(c, in->reg, w ? 8 : 4, 0, r.rax);
	return 0;
}

/* One generic op (ADD 58, MUL 59) of a dot product on a and b: the result in out. */
static int dp_stage(struct emu_cpu *c, uint8_t op, int pfx, const uint8_t a[16], const uint8_t b[16],
		    uint8_t out[16])
{
	struct emu_host_fp r;

	emu_host_fp_load(&r, c->s);
	memcpy(r.img + EMU_FX_XMM, a, 16);
	memcpy(r.img + EMU_FX_XMM + 16, b, 16);
	r.rflags = c->s->rflags;
	r.rax = 0;
	if (run(c, &r, (op == 0x59 ? 4 : 3) * 4 + pfx, &(struct fp_op){ op, pfx }))
		return -1;
	memcpy(out, r.img + EMU_FX_XMM, 16);
	return 0;
}

/*
 * DPPS/DPPD (0F3A 40, 41) in the SDM's stages: the products imm[7:4]
 * selects (+0.0 for the others), then the pairwise sums, then (DPPS) their
 * sum, each rounded; imm[3:0] selects the lanes that get it.  Each stage
 * is its own host op and is judged on its own, as the CPU does: the flags
 * accumulate, an unmasked exception ends the instruction at its stage,
 * and the products and sums a later stage adds are operands like any
 * (DAZ, DE).
 */
static int dot_product(struct emu_cpu *c, const uint8_t src[16], int pd, uint8_t imm)
{
	unsigned es = pd ? 8 : 4, n = pd ? 2 : 4;
	uint8_t a[16] = { 0 }, b[16] = { 0 }, t[16], sum[16], *d = emu_xmm(c, c->insn.reg);

	for (unsigned i = 0; i < n; i++) {
		if (!((imm >> (4 + i)) & 1))
			continue;
		memcpy(a + es * i, d + es * i, es);
		memcpy(b + es * i, src + es * i, es);
	}
	if (dp_stage(c, 0x59, pd ? P_66 : P_NONE, a, b, t))
		return -1;
	memset(a, 0, 16);
	memset(b, 0, 16);
	memcpy(a, t, es);                   /* t0 + t1 (and t2 + t3) */
	memcpy(b, t + es, es);
	if (!pd) {
		memcpy(a + 4, t + 8, 4);
		memcpy(b + 4, t + 12, 4);
	}
	if (dp_stage(c, 0x58, pd ? P_F2 : P_NONE, a, b, sum))
		return -1;
	if (!pd) {
		memset(a, 0, 16);
		memset(b, 0, 16);
		memcpy(a, sum, 4);
		memcpy(b, sum + 4, 4);
		if (dp_stage(c, 0x58, P_F3, a, b, sum))
			return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if ((imm >> i) & 1)
			memcpy(d + es * i, sum, es);
		else
			memset(d + es * i, 0, es);
	}
	return 0;
}

/* ROUNDPS/PD/SS/SD (0F3A 08-0B), one stub per immediate, and DPPS/DPPD (40, 41). */
int emu_sse_fp_3a(struct emu_cpu *c, const uint8_t src[16])
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, imm = (uint8_t)in->imm;
	struct emu_host_fp r;

	if (!emu_host_fp_available())
		return emu_unimpl(c);
	if (op >= 0x40)
		return dot_product(c, src, op == 0x41, imm);
	emu_host_fp_load(&r, c->s);
	memcpy(r.img + EMU_FX_XMM, emu_xmm(c, in->reg), 16);
	memcpy(r.img + EMU_FX_XMM + 16, src, 16);
	r.rflags = c->s->rflags;
	r.rax = 0;
	if (run(c, &r, ROUND_BASE + (op - 0x08) * 16u + (imm & 15), &(struct fp_op){ 0 }))
		return -1;
	memcpy(emu_xmm(c, in->reg), r.img + EMU_FX_XMM, 16);
	return 0;
}

int emu_exec_sse_fp(struct emu_cpu *c)
{
	int pfx = emu_sse_prefix(&c->insn);
	uint8_t op = c->insn.opcode;

	if (!emu_host_fp_available())
		return emu_unimpl(c);
	if (op == 0x2a || op == 0x2c || op == 0x2d)
		return convert(c, pfx);
	if (op == 0xc2)
		return generic(c, pfx, 3);     /* every prefix is valid, like ADD */
	for (unsigned k = 0; k < GENERIC_OPS; k++)
		if (generic_op[k] == op)
			return generic(c, pfx, k);
	return emu_unimpl(c);
}
