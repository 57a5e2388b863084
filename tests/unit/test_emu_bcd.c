/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BCD adjustments on emu, in real mode, against the worked examples of
 * the SDM and the rules of its pseudocode; #DE for AAM 0, #UD in 64-bit mode.
 */
#include <string.h>

#include "accel/emu/emu_int.h"
#include "machine/memory.h"
#include "test.h"

#define FL(x) X86_RFLAGS_##x
#define CODE 0x10000

static struct guest_mem mem;
static struct x86_cpu_state st;

/* Runs one instruction in real mode from AX and the flags given. */
static int run(const char *code, size_t n, uint16_t ax, uint64_t flags)
{
	struct emu_env env = { .mem = &mem };
	struct emu_cpu *cpu;
	int r;

	memset(mem.base + CODE, 0, 16);
	x86_cpu_state_reset(&st, 1);
	x86_seg_real(&st.seg[X86_CS], CODE >> 4, 1);
	x86_seg_real(&st.seg[X86_SS], 0, 0);
	st.rip = 0;
	st.gpr[X86_RSP] = 0x8000;
	st.idt = (struct x86_dtable){ 0, 0x3ff };
	st.gpr[X86_RAX] = 0xdead0000u | ax;
	st.rflags = X86_RFLAGS_FIXED | flags;
	guest_mem_write(&mem, CODE, code, n);
	cpu = emu_cpu_new(&st, &env);
	r = emu_step(cpu);
	emu_cpu_free(cpu);
	return r;
}

#define ARITH (FL(CF) | FL(PF) | FL(AF) | FL(ZF) | FL(SF) | FL(OF))
#define AX() ((uint16_t)st.gpr[X86_RAX])
#define F() (st.rflags & ARITH)

static void test_daa_das(void)
{
	/* SDM: ADD AL, BL with 79h + 35h = AEh, then DAA: 14h, CF and AF. */
	CHECK_EQ(run("\x27", 1, 0x00ae, 0), EMU_OK);
	CHECK_EQ(AX(), 0x0014);
	CHECK_EQ(F(), FL(CF) | FL(AF) | FL(PF));
	/* SDM: SUB AL, BL with 35h - 47h = EEh (CF, AF), then DAS: 88h, CF and AF. */
	CHECK_EQ(run("\x2f", 1, 0x00ee, FL(CF) | FL(AF)), EMU_OK);
	CHECK_EQ(AX(), 0x0088);
	CHECK_EQ(F(), FL(CF) | FL(AF) | FL(SF) | FL(PF));
	/* Nothing to adjust: 0x42 stays, CF and AF clear; the upper RAX is kept. */
	CHECK_EQ(run("\x27", 1, 0x1242, FL(OF)), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0xdead1242u);
	CHECK_EQ(F(), FL(PF));
	/* DAS keeps the low step's CF when the high step does not run: 06h - 6 with AF. */
	CHECK_EQ(run("\x2f", 1, 0x0006, FL(AF)), EMU_OK);
	CHECK_EQ(AX(), 0x0000);
	CHECK_EQ(F(), FL(AF) | FL(ZF) | FL(PF));
	/* A borrow in the low step sets CF though old AL and CF skip the high one. */
	CHECK_EQ(run("\x2f", 1, 0x0003, FL(AF)), EMU_OK);
	CHECK_EQ(AX(), 0x00fd);
	CHECK_EQ(F() & (FL(CF) | FL(AF)), FL(CF) | FL(AF));
}

static void test_aaa_aas(void)
{
	/* 08h + 07h = 0Fh, AAA: AX + 106h, low nibble: 0105h, CF and AF. */
	CHECK_EQ(run("\x37", 1, 0x000f, 0), EMU_OK);
	CHECK_EQ(AX(), 0x0105);
	CHECK_EQ(F() & (FL(CF) | FL(AF)), FL(CF) | FL(AF));
	/* AL = 0FAh (a carry out of AL): AX + 106h carries into AH twice. */
	CHECK_EQ(run("\x37", 1, 0x01fa, 0), EMU_OK);
	CHECK_EQ(AX(), 0x0300);
	/* No adjustment: only AL's high nibble goes. */
	CHECK_EQ(run("\x37", 1, 0x0234, FL(CF)), EMU_OK);
	CHECK_EQ(AX(), 0x0204);
	CHECK_EQ(F() & (FL(CF) | FL(AF)), 0);
	/* 03h - 08h = FBh with AF, AAS: AX - 106h, low nibble: FF05h, CF and AF. */
	CHECK_EQ(run("\x3f", 1, 0x00fb, FL(AF) | FL(CF)), EMU_OK);
	CHECK_EQ(AX(), 0xff05);
	CHECK_EQ(F() & (FL(CF) | FL(AF)), FL(CF) | FL(AF));
}

static void test_aam_aad(void)
{
	CHECK_EQ(run("\xd4\x0a", 2, 0x003f, FL(CF)), EMU_OK);         /* 63 */
	CHECK_EQ(AX(), 0x0603);
	CHECK_EQ(F(), FL(PF));
	CHECK_EQ(run("\xd5\x0a", 2, 0x0603, 0), EMU_OK);
	CHECK_EQ(AX(), 0x003f);
	CHECK_EQ(F(), FL(PF));
	/* Other bases, as the imm8 allows: AAM 16 splits nibbles, AAD 16 joins them. */
	CHECK_EQ(run("\xd4\x10", 2, 0x00a7, 0), EMU_OK);
	CHECK_EQ(AX(), 0x0a07);
	CHECK_EQ(run("\xd5\x10", 2, 0x0a07, 0), EMU_OK);
	CHECK_EQ(AX(), 0x00a7);
	CHECK_EQ(F(), FL(SF));
	CHECK_EQ(run("\xd5\x0a", 2, 0x1a06, 0), EMU_OK);       /* 26 * 10 + 6 = 266: 0Ah */
	CHECK_EQ(AX(), 0x000a);
}

/* AAM 0 divides by zero: #DE through the real-mode IVT, AX untouched. */
static void test_aam_zero(void)
{
	guest_mem_write(&mem, 0, "\x00\x10\x00\x20", 4);   /* IVT[0] = 2000:1000 */
	CHECK_EQ(run("\xd4\x00", 2, 0x1234, 0), EMU_OK);
	CHECK_EQ(AX(), 0x1234);
	CHECK_EQ(st.seg[X86_CS].base, 0x20000);
	CHECK_EQ(st.rip, 0x1000);
}

int main(void)
{
	if (guest_mem_init(&mem, 2 << 20)) {
		printf("FAIL bcd: no guest memory\n");
		return 1;
	}
	RUN(test_daa_das);
	RUN(test_aaa_aas);
	RUN(test_aam_aad);
	RUN(test_aam_zero);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
