/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TSS I/O permission bitmap and virtual-8086 mode: which port
 * accesses the bitmap lets through at CPL > IOPL, and the fault paths
 * guests/sysarch does not reach.
 */
#include "emu_task_rig.h"

/* The current TSS grown to hold an I/O bitmap at 0x68 for ports 0..n*8-1, all denied. */
static void iomap(unsigned bytes)
{
	w16(TSS_OLD + 0x66, 0x68);
	for (unsigned i = 0; i < bytes; i++)
		put(TSS_OLD + 0x68 + i, "\xff", 1);
	st.seg[X86_TR].limit = 0x68 + bytes - 1;
}

static void allow_port(unsigned port)
{
	uint8_t b = 0;

	guest_mem_read(&mem, TSS_OLD + 0x68 + port / 8, &b, 1);
	b &= ~(1u << (port & 7));
	put(TSS_OLD + 0x68 + port / 8, (const char *)&b, 1);
}

/*
 * Runs one instruction at CODE: 1 when it faulted with #GP(0), 0 when it
 * ran, -1 otherwise.  The segments and flags are put back after a fault.
 */
static int io_faults(const char *code, size_t len)
{
	struct x86_segment seg[X86_NR_SEGS];
	uint64_t rflags = st.rflags;
	int r = -1;

	memcpy(seg, st.seg, sizeof(seg));
	put(CODE, code, len);
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	if (emu_step(cpu) != EMU_OK)
		return -1;
	if (st.rip == HANDLER + EXC_GP)
		r = r32(st.gpr[X86_RSP]) == 0 ? 1 : -1;
	else if (st.rip == CODE + len)
		r = 0;
	memcpy(st.seg, seg, sizeof(seg));
	st.rflags = rflags;
	return r;
}

static void test_iomap_ring3(void)
{
	setup();
	to_ring3();
	/* No bitmap (its base at the limit): CPL 3 > IOPL 0 is #GP. */
	w16(TSS_OLD + 0x66, 0x68);
	CHECK_EQ(io_faults("\xe4\x80", 2), 1);                   /* in $0x80, %al */
	/* IOPL 3: the bitmap is not consulted. */
	st.rflags |= X86_RFLAGS_IOPL;
	CHECK_EQ(io_faults("\xe4\x80", 2), 0);
	CHECK_EQ(st.gpr[X86_RAX] & 0xff, 0x80);
	st.rflags &= ~X86_RFLAGS_IOPL;

	iomap(0x2001);
	allow_port(0x80);
	allow_port(0x81);
	allow_port(0x3f8);
	CHECK_EQ(io_faults("\xe4\x80", 2), 0);
	CHECK_EQ(io_faults("\xe4\x82", 2), 1);
	CHECK_EQ(io_faults("\x66\xe5\x80", 3), 0);               /* in $0x80, %ax: 0x80 0x81 */
	CHECK_EQ(io_faults("\xe5\x80", 2), 1);                   /* in $0x80, %eax: 0x82 denied */
	CHECK_EQ(io_faults("\x66\xe5\x7f", 3), 1);               /* 0x7f denied */
	st.gpr[X86_RDX] = 0x3f8;
	st.gpr[X86_RAX] = 0x41;
	CHECK_EQ(io_faults("\xee", 1), 0);                       /* out %al, %dx */
	CHECK_EQ(port_last, 0x3f8);
	CHECK_EQ(port_value, 0x41);
	st.gpr[X86_RDX] = 0x3f9;
	CHECK_EQ(io_faults("\xee", 1), 1);
	CHECK_EQ(port_writes, 1);
	/* REP OUTSB to a denied port: #GP before anything is written, RCX kept. */
	st.gpr[X86_RCX] = 3;
	st.gpr[X86_RSI] = 0x8000;
	CHECK_EQ(io_faults("\xf3\x6e", 2), 1);
	CHECK_EQ(st.gpr[X86_RCX], 3);
	CHECK_EQ(port_writes, 1);
	st.gpr[X86_RDX] = 0x3f8;
	CHECK_EQ(io_faults("\xf3\x6e", 2), 0);
	CHECK_EQ(port_writes, 4);
	/* Port 0x8000's bit lies beyond the limit: #GP, as is a bitmap whose
	 * second byte would be read past the limit. */
	st.gpr[X86_RDX] = 0x8000;
	CHECK_EQ(io_faults("\xec", 1), 1);
	st.seg[X86_TR].limit = 0x68 + 0x10;                      /* bytes for ports 0..0x87 */
	CHECK_EQ(io_faults("\xe4\x80", 2), 1);                   /* needs byte 0x11 too */
	st.seg[X86_TR].limit = 0x68 + 0x11;
	CHECK_EQ(io_faults("\xe4\x80", 2), 0);
	/* A 16-bit TSS has no bitmap (its SS0:SP0 take the #GP). */
	st.seg[X86_TR].type = 3;
	w16(TSS_OLD + 2, 0xfff0);
	w16(TSS_OLD + 4, DS0);
	CHECK_EQ(io_faults("\xe4\x80", 2), 1);
	/* Ring 0 never looks. */
	setup();
	CHECK_EQ(io_faults("\xe4\x82", 2), 0);
}

int main(void)
{
	RUN(test_iomap_ring3);
	rig_free();
	return TEST_EXIT();
}
