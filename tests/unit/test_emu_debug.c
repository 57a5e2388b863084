/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debug exceptions in 32-bit protected mode (emu_task_rig.h): DR7.GD's
 * general detect fault on a MOV to or from a debug register, and the #DB
 * a MOV SS or POP SS causes, held until the next instruction is done.
 */
#include "emu_task_rig.h"

#define DR7_GD (1ULL << 13)
#define DR6_BD (1ULL << 13)
#define DR6_BS (1ULL << 14)

/* The EIP a #DB (no error code) left on the ring-0 stack. */
static uint32_t frame_eip(void) { return r32(st.gpr[X86_RSP] & 0xffffffff); }

static enum emu_result step_at(const char *code, unsigned len)
{
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	put(CODE, code, len);
	return emu_step(cpu);
}

/*
 * With GD set a MOV DR is a #DB fault before it: EIP at the MOV, DR6.BD
 * set (B0-B3 cleared), GD cleared on entry so the handler can use the
 * debug registers.  #UD (DR4 with CR4.DE) and #GP (CPL 3) come first.
 */
static void test_general_detect(void)
{
	setup();
	st.dr[6] = 0xffff0ff1;
	st.dr[7] = DR7_GD | 0x400;
	st.gpr[X86_RAX] = 0x1234;
	CHECK_EQ(step_at("\x0f\x23\xc0", 3), EMU_OK);            /* mov dr0, eax */
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(frame_eip(), CODE);
	CHECK_EQ(st.dr[0], 0);
	CHECK_EQ(st.dr[6], 0xffff2ff0);
	CHECK_EQ(st.dr[7], 0x400);
	CHECK_EQ(step_at("\x0f\x23\xc0", 3), EMU_OK);            /* GD clear: it runs */
	CHECK_EQ(st.rip, CODE + 3);
	CHECK_EQ(st.dr[0], 0x1234);

	/* A read too, with RAX untouched; single-step does not add BS to a fault. */
	st.dr[6] = 0xffff0ff0;
	st.dr[7] = DR7_GD | 0x400;
	st.rflags |= X86_RFLAGS_TF;
	CHECK_EQ(step_at("\x0f\x21\xf8", 3), EMU_OK);            /* mov eax, dr7 */
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(frame_eip(), CODE);
	CHECK_EQ(st.gpr[X86_RAX], 0x1234);
	CHECK_EQ(st.dr[6], 0xffff2ff0);
	st.rflags &= ~X86_RFLAGS_TF;

	/* DR4 with CR4.DE is #UD, GD or not; at CPL 3 any MOV DR is #GP(0). */
	st.dr[6] = 0xffff0ff0;
	st.dr[7] = DR7_GD | 0x400;
	st.cr4 |= X86_CR4_DE;
	CHECK_EQ(step_at("\x0f\x21\xe0", 3), EMU_OK);            /* mov eax, dr4 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK_EQ(st.dr[7], DR7_GD | 0x400);
	st.cr4 &= ~X86_CR4_DE;
	to_ring3();
	CHECK_EQ(step_at("\x0f\x23\xc0", 3), EMU_OK);
	check_fault(EXC_GP, 0);
	CHECK_EQ(st.dr[6], 0xffff0ff0);
	CHECK_EQ(st.dr[7], DR7_GD | 0x400);
}

/* DR7 for breakpoint n: enabled (L), with R/W rw and LEN len (3: 4 bytes). */
static uint64_t dr7_bp(unsigned n, unsigned rw, unsigned len)
{
	return (1ULL << (2 * n)) | (uint64_t)(rw | len << 2) << (16 + 4 * n);
}

/*
 * Single-step over MOV SS: no #DB after it, one after the next
 * instruction (BS, EIP past both, one frame).  STI has no such delay.
 */
static void test_mov_ss_single_step(void)
{
	setup();
	st.gpr[X86_RCX] = DS0;
	st.rflags |= X86_RFLAGS_TF;
	CHECK_EQ(step_at("\x8e\xd1\x40\x40", 4), EMU_OK);        /* mov ss, cx; inc eax; inc eax */
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(frame_eip(), CODE + 3);
	CHECK_EQ(st.gpr[X86_RSP], STACK - 12);
	CHECK_EQ(st.gpr[X86_RAX], 1);
	CHECK(st.dr[6] & DR6_BS);

	setup();
	st.rflags |= X86_RFLAGS_TF;
	CHECK_EQ(step_at("\xfb\x40", 2), EMU_OK);                /* sti; inc eax */
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(frame_eip(), CODE + 1);
}

/* POP SS meeting a data breakpoint: the trap after the next instruction, with B0. */
static void test_pop_ss_data_breakpoint(void)
{
	setup();
	w32(STACK, DS0);
	st.dr[0] = STACK;
	st.dr[6] = 0xffff0ff0;
	st.dr[7] = dr7_bp(0, 3, 3);                              /* read or write, 4 bytes */
	CHECK_EQ(step_at("\x17\x40", 2), EMU_OK);                /* pop ss; inc eax */
	CHECK_EQ(st.rip, CODE + 1);
	CHECK_EQ(st.dr[6], 0xffff0ff0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(frame_eip(), CODE + 2);
	CHECK_EQ(st.dr[6], 0xffff0ff1);
	CHECK_EQ(st.gpr[X86_RAX], 1);
}

/*
 * The next instruction delivers an event (INT3) or faults (UD2): its
 * handler is entered, then the held #DB comes before the handler's
 * first instruction, its frame's EIP that handler.
 */
static void test_mov_ss_then_event(void)
{
	static const struct { const char *b; int vec; } next[] = {
		{ "\x8e\xd1\xcc", EXC_BP }, { "\x8e\xd1\x0f\x0b", EXC_UD },
	};

	for (unsigned i = 0; i < 2; i++) {
		setup();
		st.gpr[X86_RCX] = DS0;
		st.rflags |= X86_RFLAGS_TF;
		st.dr[6] = 0xffff0ff0;
		CHECK_EQ(step_at(next[i].b, 4), EMU_OK);
		CHECK_EQ(st.rip, CODE + 2);
		CHECK_EQ(emu_step(cpu), EMU_OK);
		CHECK_EQ(st.rip, HANDLER + EXC_DB);
		CHECK_EQ(frame_eip(), HANDLER + next[i].vec);
		CHECK_EQ(st.dr[6], 0xffff0ff0 | DR6_BS);
		CHECK_EQ(st.gpr[X86_RSP], STACK - 24);              /* two frames */
	}
}

int main(void)
{
	RUN(test_general_detect);
	RUN(test_mov_ss_single_step);
	RUN(test_pop_ss_data_breakpoint);
	RUN(test_mov_ss_then_event);
	rig_free();
	return TEST_EXIT();
}
