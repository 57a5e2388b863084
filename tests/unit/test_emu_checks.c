// SPDX-License-Identifier: Apache-2.0
/*
 * The checks emu makes on the way, in 32-bit protected mode (emu_task_rig.h)
 * unless a test says otherwise: BOUND's #BR, ARPL, RDPMC's #GP and the
 * counters a CPUID model offers.
 */
#include "emu_task_rig.h"

/* The EIP and EFLAGS a fault without an error code left on the ring-0 stack. */
static uint32_t frame_eip(void) { return r32(st.gpr[X86_RSP] & 0xffffffff); }

static void test_bound(void)
{
	setup();
	w32(0x8000, (uint32_t)-5);
	w32(0x8004, 100);
	put(CODE, "\x62\x05\x00\x80\x00\x00", 6);      /* bound eax, [0x8000] */
	st.gpr[X86_RAX] = (uint32_t)-5;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 6);
	st.rip = CODE;
	st.gpr[X86_RAX] = 100;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 6);
	/* Signed: -6 is below -5, 101 above 100; #BR names BOUND itself. */
	for (int k = 0; k < 2; k++) {
		st.rip = CODE;
		st.gpr[X86_RSP] = STACK;
		st.gpr[X86_RAX] = k ? 101 : (uint32_t)-6;
		CHECK_EQ(emu_step(cpu), EMU_OK);
		CHECK_EQ(st.rip, HANDLER + EXC_BR);
		CHECK_EQ(frame_eip(), CODE);
		CHECK_EQ(st.gpr[X86_RSP], STACK - 12);      /* no error code */
	}
	/* 16-bit operands: the bounds are words, the index is AX. */
	setup();
	w32(0x8000, 0x00100002);                        /* lower 2, upper 0x10 */
	put(CODE, "\x66\x62\x05\x00\x80\x00\x00", 7);
	st.gpr[X86_RAX] = 0xffff0010;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 7);
	st.rip = CODE;
	st.gpr[X86_RAX] = 0x00000001;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_BR);
	/* A register operand is #UD; so is 62 in 64-bit code (EVEX). */
	setup();
	put(CODE, "\x62\xc0", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
}

static void test_arpl(void)
{
	setup();
	put(CODE, "\x63\xc8", 2);                       /* arpl ax, cx */
	st.gpr[X86_RAX] = 0x12340010;
	st.gpr[X86_RCX] = 0x3;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0x12340013);
	CHECK(st.rflags & X86_RFLAGS_ZF);
	st.rip = CODE;
	st.gpr[X86_RCX] = 0x2;
	st.rflags |= X86_RFLAGS_CF;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0x12340013);
	CHECK(!(st.rflags & X86_RFLAGS_ZF));
	CHECK(st.rflags & X86_RFLAGS_CF);                /* only ZF changes */
	/* A memory destination, with 66 and without: always 16 bits. */
	w32(0x8000, 0xaaaa0020);
	put(CODE, "\x66\x63\x0d\x00\x80\x00\x00", 7);   /* arpl [0x8000], cx */
	st.rip = CODE;
	st.gpr[X86_RCX] = 1;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(r32(0x8000), 0xaaaa0021);
	CHECK(st.rflags & X86_RFLAGS_ZF);
	/* Not recognised in real mode. */
	setup();
	st.cr0 &= ~X86_CR0_PE;
	st.idt = (struct x86_dtable){ 0, 0x3ff };
	w32(EXC_UD * 4, 0x1000);                           /* #UD at 0000:1000 */
	x86_seg_real(&st.seg[X86_SS], 0, 0);
	x86_seg_real(&st.seg[X86_CS], CODE >> 4, 1);
	st.rip = 0;
	put(CODE, "\x63\xc8", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.seg[X86_CS].base, 0);
	CHECK_EQ(st.rip, 0x1000);
}

/* A CPUID model with architectural performance monitoring: 2 counters of
 * 48 bits, 3 fixed ones of 40. */
static void pmu_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)opaque;
	(void)sub;
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == 0)
		out[0] = 0xa;
	if (leaf == 0xa) {
		out[0] = 2 | 2 << 8 | 48 << 16;
		out[3] = 3 | 40 << 5;
	}
}

static uint32_t msr_read;

static int pmu_rdmsr(void *opaque, uint32_t idx, uint64_t *v)
{
	(void)opaque;
	msr_read = idx;
	*v = 0xfedcba9876543210ULL + idx;
	return 0;
}

static void test_rdpmc(void)
{
	struct emu_env env = { .mem = &mem, .cpuid = pmu_cpuid, .rdmsr = pmu_rdmsr };

	/* emu's model has no counters: #GP(0) even at CPL 0. */
	setup();
	put(CODE, "\x0f\x33", 2);
	st.gpr[X86_RCX] = 0;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_GP, 0);
	/* A model with counters: IA32_PMC1 and IA32_FIXED_CTR2, cut to their widths. */
	setup();
	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	put(CODE, "\x0f\x33", 2);
	st.gpr[X86_RCX] = 1;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(msr_read, 0xc2);
	CHECK_EQ(st.gpr[X86_RAX], 0x765432d2);
	CHECK_EQ(st.gpr[X86_RDX], 0xba98);
	st.rip = CODE;
	st.gpr[X86_RCX] = 0x40000002;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(msr_read, 0x30b);
	CHECK_EQ(st.gpr[X86_RDX], 0x98);
	/* Past the counts, or bit 31: #GP(0). */
	for (int k = 0; k < 3; k++) {
		st.rip = CODE;
		st.gpr[X86_RSP] = STACK;
		st.gpr[X86_RCX] = k == 0 ? 2 : k == 1 ? 0x40000003 : 0x80000000;
		CHECK_EQ(emu_step(cpu), EMU_OK);
		check_fault(EXC_GP, 0);
	}
	/* CPL 3: #GP(0) without CR4.PCE, allowed with it. */
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	st.gpr[X86_RCX] = 0;
	to_ring3();
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	to_ring3();
	st.rip = CODE;
	st.cr4 |= X86_CR4_PCE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(msr_read, 0xc1);
}

int main(void)
{
	RUN(test_bound);
	RUN(test_arpl);
	RUN(test_rdpmc);
	rig_free();
	return TEST_EXIT();
}
