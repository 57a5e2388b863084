/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The faults of the x87, MMX and SSE instructions in the software CPU: #XM
 * for an unmasked SSE exception (and MXCSR after one), #MF for a pending
 * x87 one, #NM with CR0.TS, #UD and #GP for bad prefixes, register forms
 * and alignment, those of the MMX conversions and the crypto instructions;
 * and the state they leave: XINUSE after an SSE write, an XSAVEC/XSAVES
 * round trip.  Each runs once with an IDT whose gates lead to
 * HANDLER + vector, so the RIP after it names the fault.
 */
#include <string.h>

#include "emu_simd_rig.h"
#include "test.h"

#define GDT 0x3000
#define IDT 0x4000
#define HANDLER 0x6000
#define STACK 0x8000

static void idt_gate(int vec, uint64_t target)
{
	uint64_t lo = (target & 0xffff) | (0x08ULL << 16) | (0xeULL << 40) | (1ULL << 47) |
		      ((target >> 16) & 0xffff) << 48, hi = target >> 32;

	guest_mem_write(&mem, IDT + vec * 16, &lo, 8);
	guest_mem_write(&mem, IDT + vec * 16 + 8, &hi, 8);
}

/* Runs bytes once with an IDT whose every gate leads to HANDLER + vector. */
static enum emu_result run_faulting(const char *bytes, unsigned len)
{
	uint64_t code = 0x00209a000000ffffULL, data = 0x00cf92000000ffffULL;

	guest_mem_write(&mem, GDT + 8, &code, 8);
	guest_mem_write(&mem, GDT + 16, &data, 8);
	for (int v = 0; v < 32; v++)
		idt_gate(v, HANDLER + (uint64_t)v);
	st.gdt = (struct x86_dtable){ GDT, 0x17 };
	st.idt = (struct x86_dtable){ IDT, 32 * 16 - 1 };
	st.gpr[X86_RSP] = STACK;
	st.gpr[X86_RBX] = BUF;
	st.rip = CODE;
	guest_mem_write(&mem, CODE, bytes, len);
	return emu_step(cpu);
}

static void fresh_fpu(void)
{
	uint8_t img[512];

	memset(img, 0, sizeof(img));
	img[0] = 0x7f;
	img[1] = 0x03;
	memcpy(img + 24, &(uint32_t){ 0x1f80 }, 4);
	memcpy(st.xsave, img, 512);
	memset(st.xsave + 512, 0, 64);
	st.cr0 &= ~X86_CR0_TS;
}

static void test_sse_unmasked_exception(void)
{
	double one = 1.0, zero = 0.0;

	fresh_fpu();
	memcpy(emu_xmm(cpu, 0), &one, 8);
	memcpy(emu_xmm(cpu, 1), &zero, 8);
	memcpy(st.xsave + 24, &(uint32_t){ 0x1f80 & ~0x200u }, 4);    /* ZM clear */
	CHECK_EQ(run_faulting("\xf2\x0f\x5e\xc1", 4), EMU_OK);         /* divsd xmm0, xmm1 */
	CHECK_EQ(st.rip, HANDLER + EXC_XM);
	CHECK_EQ(*(uint64_t *)emu_xmm(cpu, 0), 0x3ff0000000000000ULL);   /* untouched */
	CHECK(st.xsave[24] & 0x04);                                       /* ZE set */
	/* Masked: infinity and the flag, no fault. */
	fresh_fpu();
	memcpy(emu_xmm(cpu, 0), &one, 8);
	CHECK_EQ(run_faulting("\xf2\x0f\x5e\xc1", 4), EMU_OK);
	CHECK_EQ(st.rip, CODE + 4);
	CHECK_EQ(*(uint64_t *)emu_xmm(cpu, 0), 0x7ff0000000000000ULL);
	CHECK(st.xsave[24] & 0x04);
	/* Without CR4.OSXMMEXCPT an unmasked exception is #UD. */
	fresh_fpu();
	memcpy(emu_xmm(cpu, 0), &one, 8);
	st.cr4 &= ~X86_CR4_OSXMMEXCPT;
	memcpy(st.xsave + 24, &(uint32_t){ 0x1f80 & ~0x200u }, 4);
	CHECK_EQ(run_faulting("\xf2\x0f\x5e\xc1", 4), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	st.cr4 |= X86_CR4_OSXMMEXCPT;
}

/*
 * After an unmasked overflow or underflow, PE follows the result rounded
 * with an unbounded exponent, exact in each case here, where the masked
 * (denormalized or overflowed) result would be inexact, and lanes
 * without an unmasked exception keep the masked rule; DPPS/DPPD flag and
 * trap stage by stage.  The expected MXCSR values are this host CPU's
 * (tests/diff found the first three and two DPP ones; the others from
 * the same instructions run natively with a SIGFPE handler).
 */
static void test_sse_unmasked_overflow_precision(void)
{
	static const struct {
		const char *b;
		uint32_t mxcsr, want;
		uint64_t x0[2], x1[2];
	} k[] = {
		/* cvtpd2ps xmm0, xmm1: 2^1017 * (1 + 2^-21) overflows, exact in 24 bits */
		{ "\x66\x0f\x5a\xc1", 0x43c0, 0x43c8, { 0, 0 },
		  { 0x43e0000000000000ULL, 0xff80000080000000ULL } },
		/* mulpd xmm0, xmm1: a denormal times a double, tiny, exact in 53 bits */
		{ "\x66\x0f\x59\xc1", 0xe300, 0xe312,
		  { 0x239711c2233fcbd4ULL, 0x7f7fffffffc00000ULL }, { 0x14, 0x4064c } },
		/* divsd xmm0, xmm1: a denormal over -2^63 */
		{ "\xf2\x0f\x5e\xc1", 0x3700, 0x3712, { 0x00000001ffc00000ULL, 0 },
		  { 0xc3e0000000000000ULL, 0 } },
		/* the same divided by 3: inexact, so PE */
		{ "\xf2\x0f\x5e\xc1", 0x3700, 0x3732, { 0x00000001ffc00000ULL, 0 },
		  { 0x4008000000000000ULL, 0 } },
		/* mulss: 2^100 * 2^100 overflows exactly */
		{ "\xf3\x0f\x59\xc1", 0x1b80, 0x1b88, { 0x71800000, 0 }, { 0x71800000, 0 } },
		/* addps: lane 0 overflows exactly, lane 1 (1 + 2^-30) is inexact */
		{ "\x0f\x58\xc1", 0x1b80, 0x1ba8, { 0x3f8000007f7fffffULL, 0 },
		  { 0x308000007f7fffffULL, 0 } },
		/* haddps: the same two sums from pairs of the destination */
		{ "\xf2\x0f\x7c\xc1", 0x1b80, 0x1ba8,
		  { 0x7f7fffff7f7fffffULL, 0x3f80000030800000ULL }, { 0, 0 } },
		/* mulps: lane 1 2^-127 (1 + 2^-23), tiny: exact unbounded (UM clear) ... */
		{ "\x0f\x59\xc1", 0x1380, 0x1398, { 0x0080000071800000ULL, 0 },
		  { 0x3f00000171800000ULL, 0 } },
		/* ... inexact denormalized (UM set), flushed (FTZ) or exact (2^-127) */
		{ "\x0f\x59\xc1", 0x1b80, 0x1bb8, { 0x0080000071800000ULL, 0 },
		  { 0x3f00000171800000ULL, 0 } },
		{ "\x0f\x59\xc1", 0x9b80, 0x9bb8, { 0x0080000071800000ULL, 0 },
		  { 0x3f00000071800000ULL, 0 } },
		{ "\x0f\x59\xc1", 0x1b80, 0x1b88, { 0x0080000071800000ULL, 0 },
		  { 0x3f00000071800000ULL, 0 } },
		/* DPPD/DPPS stage by stage: #U (exact) and #P among the products end it
		 * there, #I in the last sum comes with the products' #O and #P */
		{ "\x66\x0f\x3a\x41\xc1\xfe", 0xc380, 0xc393, { 0x3fe0000000000000ULL,
		  0x7ff0000000000001ULL }, { 0xff800000, 0x41dfffffffc00000ULL } },
		{ "\x66\x0f\x3a\x40\xc1\x85", 0x2e00, 0x2e30, { 0x0000000180000000ULL,
		  0xaac418ff55c8b8a2ULL }, { 0x3a, 0x92c92718aa79ecd7ULL } },
		{ "\x66\x0f\x3a\x40\xc1\x65", 0x0500, 0x052a, { 0xc125f13c0d800000ULL,
		  0xa04a35387f800000ULL }, { 0x7f7fffff000ceb94ULL, 0x0d45a2b600000001ULL } },
		{ "\x66\x0f\x3a\x40\xc1\xba", 0x9e40, 0x9e69, { 0x7f7fffffff800000ULL,
		  0xff7fffff20000000ULL }, { 0xdc709bdf20000000ULL, 0xce53242c9041c766ULL } },
	};

	for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		uint32_t mxcsr;

		fresh_fpu();
		memcpy(st.xsave + 24, &k[i].mxcsr, 4);
		memcpy(emu_xmm(cpu, 0), k[i].x0, 16);
		memcpy(emu_xmm(cpu, 1), k[i].x1, 16);
		CHECK_EQ(run_faulting(k[i].b, (unsigned)strlen(k[i].b)), EMU_OK);
		CHECK_EQ(st.rip, HANDLER + EXC_XM);
		memcpy(&mxcsr, st.xsave + 24, 4);
		CHECK_EQ(mxcsr, k[i].want);
		CHECK(!memcmp(emu_xmm(cpu, 0), k[i].x0, 16));    /* no result */
	}
}

static void test_x87_pending_exception(void)
{
	fresh_fpu();
	/* fldz; fld1 would need two steps: set up ST0 = 1, ST1 = 0 directly. */
	st.xsave[0] = 0x7b;            /* FCW 0x37b: ZM unmasked */
	st.xsave[4] = 0x03;            /* ST0, ST1 valid (TOP 0) */
	memcpy(st.xsave + 32, &(long double){ 1.0L }, 10);
	memcpy(st.xsave + 48, &(long double){ 0.0L }, 10);
	CHECK_EQ(run_faulting("\xd8\xf1", 2), EMU_OK);    /* fdiv st, st(1): delayed */
	CHECK_EQ(st.rip, CODE + 2);
	CHECK((st.xsave[2] & 0x84) == 0x84);              /* ZE and ES */
	CHECK_EQ(run_faulting("\x9b", 1), EMU_OK);        /* fwait: #MF now */
	CHECK_EQ(st.rip, HANDLER + EXC_MF);
	CHECK_EQ(run_faulting("\xdb\xe2", 2), EMU_OK);    /* fnclex: no wait */
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(st.xsave[2] & 0xbf, 0);
	CHECK_EQ(run_faulting("\x9b", 1), EMU_OK);
	CHECK_EQ(st.rip, CODE + 1);
}

static void test_device_not_available(void)
{
	fresh_fpu();
	st.cr0 |= X86_CR0_TS;
	CHECK_EQ(run_faulting("\x66\x0f\xef\xc1", 4), EMU_OK);    /* pxor */
	CHECK_EQ(st.rip, HANDLER + EXC_NM);
	CHECK_EQ(run_faulting("\xd9\xe8", 2), EMU_OK);            /* fld1 */
	CHECK_EQ(st.rip, HANDLER + EXC_NM);
	CHECK_EQ(run_faulting("\x9b", 1), EMU_OK);                /* fwait: TS and MP */
	CHECK_EQ(st.rip, HANDLER + EXC_NM);
	st.cr0 &= ~X86_CR0_TS;
	st.cr4 &= ~X86_CR4_OSFXSR;
	CHECK_EQ(run_faulting("\x66\x0f\xef\xc1", 4), EMU_OK);    /* no OSFXSR: #UD */
	CHECK_EQ(run_faulting("\x66\x0f\xef\xc1", 4), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x0f\xfc\xc1", 3), EMU_OK);       /* paddb mm0, mm1: MMX needs no OSFXSR */
	CHECK_EQ(st.rip, CODE + 3);
	st.cr0 |= X86_CR0_EM;
	CHECK_EQ(run_faulting("\x0f\xfc\xc1", 3), EMU_OK);       /* ... but EM is #UD */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	st.cr0 &= ~X86_CR0_EM;
	st.cr4 |= X86_CR4_OSFXSR;
}

static void test_not_in_model(void)
{
	fresh_fpu();
	CHECK_EQ(run_faulting("\x0f\x7c\xc1", 3), EMU_OK);        /* haddps without F2 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\xf2\x0f\xf0\xc1", 4), EMU_OK);    /* lddqu xmm0, xmm1 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x0f\x38\x17\xc1", 4), EMU_OK);    /* ptest without 66 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x66\x0f\x38\x2a\xc1", 5), EMU_OK); /* movntdqa xmm0, xmm1 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\xf3\x0f\x38\x00\xc1", 5), EMU_OK); /* pshufb with F3 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x66\x0f\x38\x00\x43\x01", 6), EMU_OK); /* pshufb [rbx+1] */
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(run_faulting("\x66\x0f\x3a\x0e\x43\x01\x01", 7), EMU_OK); /* pblendw */
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(run_faulting("\x66\x0f\xd7\x03", 4), EMU_OK);    /* pmovmskb eax, [rbx] */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x66\x0f\x28\x43\x01", 5), EMU_OK); /* movapd xmm0, [rbx+1] */
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
}

/*
 * Prefixes that make no instruction of the model are #UD, as on the host
 * CPU (checked natively with a SIGILL handler): F3/F2 on MOVAPS/MOVAPD/
 * MOVNTPS, 66/F3/F2 on EMMS and on the fences, 0F B8 without F3.  The
 * SSE ones are #UD even with CR0.TS, undefined opcodes being no SSE
 * instruction to find unavailable.
 */
static void test_prefix_ud(void)
{
	static const struct { const char *b; unsigned len; } ud[] = {
		{ "\xf3\x0f\x28\xc1", 4 }, { "\xf2\x0f\x28\xc1", 4 },
		{ "\xf3\x0f\x29\x03", 4 }, { "\xf2\x0f\x29\xc1", 4 },
		{ "\xf3\x0f\x2b\x03", 4 }, { "\xf2\x0f\x2b\x03", 4 },
		{ "\x66\x0f\x77", 3 }, { "\xf3\x0f\x77", 3 },
		{ "\x66\x0f\xae\xe8", 4 }, { "\xf3\x0f\xae\xe8", 4 },   /* lfence */
		{ "\x66\x0f\xae\xf0", 4 }, { "\xf2\x0f\xae\xf0", 4 },   /* mfence */
		{ "\xf3\x0f\xae\xf8", 4 },                                 /* sfence */
		{ "\x0f\xb8\xc1", 3 }, { "\x66\x0f\xb8\xc1", 4 },         /* popcnt w/o F3 */
	};

	for (unsigned i = 0; i < sizeof(ud) / sizeof(ud[0]); i++) {
		fresh_fpu();
		if (i < 8)
			st.cr0 |= X86_CR0_TS;
		CHECK_EQ(run_faulting(ud[i].b, ud[i].len), EMU_OK);
		CHECK_EQ(st.rip, HANDLER + EXC_UD);
		st.cr0 &= ~X86_CR0_TS;
	}
	/* The forms with their own prefix still run. */
	fresh_fpu();
	CHECK_EQ(run_faulting("\x0f\xae\xe8", 3), EMU_OK);
	CHECK_EQ(st.rip, CODE + 3);
	CHECK_EQ(run_faulting("\xf3\x0f\xb8\xc1", 4), EMU_OK);
	CHECK_EQ(st.rip, CODE + 4);
	CHECK_EQ(run_faulting("\x0f\x77", 2), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
}

/* TOP and the abridged tag word of the x87 image. */
static unsigned fpu_top(void)
{
	return (st.xsave[3] >> 3) & 7;
}

/*
 * The MMX conversions' faults: a pending x87 exception is #MF where the
 * instruction makes the x87 state MMX and not for CVTPI2PS/PD from
 * memory, which leave TOP and the tags alone; an unmasked invalid
 * operation is #XM (#UD without OSXMMEXCPT) with the destination
 * untouched and IE set, after the transition (as the host does: see
 * mmx_convert); #GP for a misaligned m128 of CVTPD2PI, #NM for CR0.TS,
 * #UD for CR0.EM or without CR4.OSFXSR.
 */
static void test_mmx_conversion_faults(void)
{
	static const struct { const char *b; unsigned len; int mf; } pending[] = {
		{ "\x0f\x2a\xc1", 3, 1 },        /* cvtpi2ps xmm0, mm1 */
		{ "\x0f\x2a\x03", 3, 0 },        /* cvtpi2ps xmm0, [rbx] */
		{ "\x66\x0f\x2a\xc1", 4, 1 },    /* cvtpi2pd xmm0, mm1 */
		{ "\x66\x0f\x2a\x03", 4, 0 },    /* cvtpi2pd xmm0, [rbx] */
		{ "\x0f\x2d\x03", 3, 1 },        /* cvtps2pi mm0, [rbx] */
		{ "\x66\x0f\x2c\xc1", 4, 1 },    /* cvttpd2pi mm0, xmm1 */
	};
	uint32_t nan = 0x7fc00000, mx = 0x1f80 & ~0x80u;     /* IM clear */
	uint64_t before;

	for (unsigned i = 0; i < sizeof(pending) / sizeof(pending[0]); i++) {
		fresh_fpu();
		st.xsave[0] = 0x7b;                     /* ZM unmasked... */
		st.xsave[2] = 0x84;                     /* ... and ZE pending */
		st.xsave[3] = 6 << 3;                   /* TOP 6, two registers valid */
		st.xsave[4] = 0x03;
		CHECK_EQ(run_faulting(pending[i].b, pending[i].len), EMU_OK);
		CHECK_EQ(st.rip, pending[i].mf ? HANDLER + EXC_MF : CODE + pending[i].len);
		CHECK_EQ(fpu_top(), 6);
		CHECK_EQ(st.xsave[4], 0x03);
	}
	/* Without a pending exception the register forms go MMX, the memory ones not. */
	fresh_fpu();
	st.xsave[3] = 6 << 3;
	st.xsave[4] = 0x03;
	CHECK_EQ(run_faulting("\x0f\x2a\x03", 3), EMU_OK);
	CHECK_EQ(fpu_top(), 6);
	CHECK_EQ(run_faulting("\x0f\x2a\xc1", 3), EMU_OK);
	CHECK_EQ(fpu_top(), 0);
	CHECK_EQ(st.xsave[4], 0xff);

	/* An unmasked invalid operation: #XM, IE, the destination untouched. */
	fresh_fpu();
	st.xsave[3] = 6 << 3;
	memcpy(st.xsave + 24, &mx, 4);
	memcpy(emu_xmm(cpu, 1), &nan, 4);
	memcpy(&before, st.xsave + 32 + 16 * 2, 8);      /* R0, in slot 2 while TOP is 6 */
	CHECK_EQ(run_faulting("\x0f\x2d\xc1", 3), EMU_OK); /* cvtps2pi mm0, xmm1 */
	CHECK_EQ(st.rip, HANDLER + EXC_XM);
	CHECK_EQ(st.xsave[24] & 0x3f, 0x01);
	CHECK_EQ(fpu_top(), 0);
	CHECK(!memcmp(&before, st.xsave + 32, 8));
	st.cr4 &= ~X86_CR4_OSXMMEXCPT;
	CHECK_EQ(run_faulting("\x0f\x2c\xc1", 3), EMU_OK); /* cvttps2pi: #UD */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	st.cr4 |= X86_CR4_OSXMMEXCPT;
	/* Masked: the integer indefinite. */
	fresh_fpu();
	memcpy(emu_xmm(cpu, 1), &nan, 4);
	CHECK_EQ(run_faulting("\x0f\x2d\xc1", 3), EMU_OK);
	CHECK_EQ(st.rip, CODE + 3);
	CHECK_EQ(*(uint32_t *)(st.xsave + 32), 0x80000000u);
	CHECK_EQ(*(uint16_t *)(st.xsave + 40), 0xffff);   /* written: exponent all ones */

	/* #GP for a misaligned m128 (before any transition); m64 forms need no alignment. */
	fresh_fpu();
	st.xsave[3] = 6 << 3;
	CHECK_EQ(run_faulting("\x66\x0f\x2d\x43\x08", 5), EMU_OK);  /* cvtpd2pi mm0, [rbx+8] */
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(fpu_top(), 6);
	CHECK_EQ(run_faulting("\x0f\x2d\x43\x04", 4), EMU_OK);      /* cvtps2pi mm0, [rbx+4] */
	CHECK_EQ(st.rip, CODE + 4);
	CHECK_EQ(fpu_top(), 0);
	st.cr0 |= X86_CR0_TS;
	CHECK_EQ(run_faulting("\x66\x0f\x2a\x03", 4), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_NM);
	st.cr0 = (st.cr0 & ~X86_CR0_TS) | X86_CR0_EM;
	CHECK_EQ(run_faulting("\x0f\x2a\x03", 3), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	st.cr0 &= ~X86_CR0_EM;
	st.cr4 &= ~X86_CR4_OSFXSR;
	CHECK_EQ(run_faulting("\x0f\x2d\xc1", 3), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	st.cr4 |= X86_CR4_OSFXSR;
}

/* AES/PCLMUL need 66, SHA none; MOVBE has no register form and no F3 form. */
static void test_crypto_faults(void)
{
	fresh_fpu();
	CHECK_EQ(run_faulting("\x0f\x38\xdc\xc1", 4), EMU_OK);       /* aesenc without 66 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x66\x0f\x38\xc8\xc1", 5), EMU_OK);   /* sha1nexte with 66 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\x66\x0f\x38\xdc\x43\x01", 6), EMU_OK); /* aesenc xmm0, [rbx+1] */
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(run_faulting("\x0f\x3a\xcc\x43\x08\x00", 6), EMU_OK); /* sha1rnds4 [rbx+8] */
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(run_faulting("\x0f\x38\xf0\xc1", 4), EMU_OK);       /* movbe eax, ecx */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(run_faulting("\xf3\x0f\x38\xf0\x03", 5), EMU_OK);   /* movbe with F3 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	st.cr0 |= X86_CR0_TS;
	CHECK_EQ(run_faulting("\x66\x0f\x3a\x44\xc1\x00", 6), EMU_OK); /* pclmulqdq: #NM */
	CHECK_EQ(st.rip, HANDLER + EXC_NM);
	CHECK_EQ(run_faulting("\x0f\x38\xf0\x03", 4), EMU_OK);       /* movbe: not SSE state */
	CHECK_EQ(st.rip, CODE + 4);
	st.cr0 &= ~X86_CR0_TS;
}

/* PINSRB reads the low byte of r32 (ESP here), not AH as a byte ModRM would. */
static void test_pinsrb_register(void)
{
	fresh_fpu();
	st.gpr[X86_RAX] = 0x1234;
	memset(emu_xmm(cpu, 0), 0xee, 16);
	CHECK_EQ(run_faulting("\x66\x0f\x3a\x20\xc4\x00", 6), EMU_OK);  /* pinsrb xmm0, esp, 0 */
	CHECK_EQ(st.rip, CODE + 6);
	CHECK_EQ(emu_xmm(cpu, 0)[0], STACK & 0xff);
	CHECK_EQ(emu_xmm(cpu, 0)[1], 0xee);
}

static void test_xinuse(void)
{
	fresh_fpu();
	CHECK_EQ(st.xsave[512] & 3, 0);
	CHECK_EQ(run_faulting("\x66\x0f\xef\xc1", 4), EMU_OK);
	CHECK_EQ(st.xsave[512] & 3, 2);
	CHECK_EQ(run_faulting("\xd9\xe8", 2), EMU_OK);            /* fld1 */
	CHECK_EQ(st.xsave[512] & 3, 3);
}

/* XSAVEC/XSAVES keep x87 and XMM in the legacy region: nothing beyond 576 bytes. */
static void test_xsave_compacted_round_trip(void)
{
	uint8_t xmm[256], img[640], sentinel[64];

	fresh_fpu();
	st.cr4 |= X86_CR4_OSXSAVE;
	st.xcr0 = 3;
	fill(xmm, sizeof(xmm));
	memcpy(st.xsave + 160, xmm, 256);
	st.xsave[512] = 3;
	memset(sentinel, 0xa5, sizeof(sentinel));
	guest_mem_write(&mem, BUF + 576, sentinel, sizeof(sentinel));
	st.gpr[X86_RAX] = 3;
	st.gpr[X86_RDX] = 0;
	for (int k = 0; k < 2; k++) {
		/* xsavec [rbx], then xsaves [rbx] */
		CHECK_EQ(run_faulting(k ? "\x0f\xc7\x2b" : "\x0f\xc7\x23", 3), EMU_OK);
		CHECK_EQ(st.rip, CODE + 3);
		guest_mem_read(&mem, BUF, img, sizeof(img));
		CHECK(!memcmp(img + 160, xmm, 256));
		CHECK(!memcmp(img + 576, sentinel, sizeof(sentinel)));
		CHECK_EQ(img[512] & 3, 3);
		CHECK_EQ(img[512 + 15], 0x80);             /* XCOMP_BV bit 63 */
	}
	memset(st.xsave + 160, 0, 256);
	CHECK_EQ(run_faulting("\x0f\xc7\x1b", 3), EMU_OK);   /* xrstors [rbx] */
	CHECK_EQ(st.rip, CODE + 3);
	CHECK(!memcmp(st.xsave + 160, xmm, 256));
	st.cr4 &= ~X86_CR4_OSXSAVE;
}

int main(void)
{
	simd_setup();
	RUN(test_sse_unmasked_exception);
	RUN(test_sse_unmasked_overflow_precision);
	RUN(test_x87_pending_exception);
	RUN(test_device_not_available);
	RUN(test_not_in_model);
	RUN(test_prefix_ud);
	RUN(test_mmx_conversion_faults);
	RUN(test_crypto_faults);
	RUN(test_pinsrb_register);
	RUN(test_xinuse);
	RUN(test_xsave_compacted_round_trip);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
