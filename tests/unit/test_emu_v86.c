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

#define V86_CS 0x1000
#define V86_SS 0x2000
#define V86_IP 0x100
#define V86_CODE ((V86_CS << 4) + V86_IP)
#define VEC_INT 0x21

/* Ring 0 IRETs into virtual-8086 mode at V86_CS:V86_IP with the given IOPL (IF set). */
static void enter_v86(unsigned iopl)
{
	uint32_t frame[9] = { V86_IP, V86_CS, 0x20202 | iopl << 12, 0xfffe, V86_SS,
			      0x3000, 0x4000, 0x5000, 0x6000 };

	for (int i = 0; i < 9; i++)
		w32(STACK - 36 + 4 * i, frame[i]);
	st.gpr[X86_RSP] = STACK - 36;
	st.idt.limit = 0x40 * 8 - 1;
	put(CODE, "\xcf", 1);
	st.rip = CODE;
}

/* The frame a ring-0 handler got from virtual-8086 mode: EIP CS EFLAGS ESP SS ES DS FS GS. */
static int v86_frame_ok(uint32_t esp, uint32_t eip)
{
	return r32(esp) == eip && r32(esp + 4) == V86_CS && (r32(esp + 8) & 0x20000) &&
	       r32(esp + 12) == 0xfffe && r32(esp + 16) == V86_SS && r32(esp + 20) == 0x3000 &&
	       r32(esp + 24) == 0x4000 && r32(esp + 28) == 0x5000 && r32(esp + 32) == 0x6000;
}

static void test_v86_enter_and_fault(void)
{
	setup();
	enter_v86(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_VM);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(emu_code_mode(cpu), 16);
	CHECK_EQ(st.rip, V86_IP);
	CHECK_EQ(st.seg[X86_CS].base, V86_CS << 4);
	CHECK_EQ(st.seg[X86_SS].base, V86_SS << 4);
	CHECK_EQ(st.seg[X86_DS].base, 0x40000);
	CHECK_EQ(st.seg[X86_GS].selector, 0x6000);
	CHECK_EQ(st.seg[X86_SS].dpl, 3);
	CHECK_EQ(st.gpr[X86_RSP], 0xfffe);
	/* CLI at IOPL 0: #GP(0) to the ring-0 handler on the TSS stack, with
	 * GS FS DS ES above SS:ESP, the data segments null, VM clear. */
	put(V86_CODE, "\xfa", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(st.gpr[X86_RSP], STACK0 - 40);
	CHECK_EQ(r32(STACK0 - 40), 0);
	CHECK(v86_frame_ok(STACK0 - 36, V86_IP));
	CHECK(!(st.rflags & X86_RFLAGS_VM));
	CHECK_EQ(emu_cpl(cpu), 0);
	CHECK_EQ(st.seg[X86_SS].selector, DS0);
	CHECK_EQ(st.seg[X86_CS].selector, CS0);
	CHECK(st.seg[X86_DS].unusable && st.seg[X86_ES].unusable);
	CHECK(st.seg[X86_FS].unusable && st.seg[X86_GS].unusable);
	CHECK_EQ(st.seg[X86_DS].selector, 0);
	/* The handler skips the CLI and IRETs back into virtual-8086 mode. */
	w32(STACK0 - 36, V86_IP + 1);
	put(HANDLER + EXC_GP, "\x83\xc4\x04\xcf", 4);              /* add $4, %esp; iret */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_VM);
	CHECK_EQ(st.rip, V86_IP + 1);
	CHECK_EQ(st.seg[X86_DS].base, 0x40000);
	CHECK_EQ(st.gpr[X86_RSP], 0xfffe);
}

/* Each IOPL-sensitive instruction at IOPL 0 is #GP(0); INT3 is not. */
static void test_v86_iopl0(void)
{
	static const char *const insns[] = { "\xfa", "\xfb", "\x9c", "\x9d", "\xcd\x21", "\xcf",
					     "\x66\x9c", "\xf4" };

	for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		setup();
		w64(IDT + 8 * VEC_INT, gate_desc(CS0, HANDLER + VEC_INT, 0xee, 0));
		enter_v86(0);
		CHECK_EQ(emu_step(cpu), EMU_OK);
		put(V86_CODE, insns[i], strlen(insns[i]));
		CHECK_EQ(emu_step(cpu), EMU_OK);
		CHECK_EQ(st.rip, HANDLER + EXC_GP);
		CHECK_EQ(r32(STACK0 - 40), 0);
		CHECK(v86_frame_ok(STACK0 - 36, V86_IP));
	}
	/* INT3 goes through its gate whatever IOPL is: a DPL-3 gate takes it
	 * (EIP after it), a DPL-0 one is #GP(vector * 8 + 2). */
	setup();
	w64(IDT + 8 * EXC_BP, gate_desc(CS0, HANDLER + EXC_BP, 0xee, 0));
	enter_v86(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	put(V86_CODE, "\xcc", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_BP);
	CHECK(v86_frame_ok(STACK0 - 36, V86_IP + 1));
	setup();
	enter_v86(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	put(V86_CODE, "\xcc", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(r32(STACK0 - 40), EXC_BP * 8 + 2);
}

static void test_v86_iopl3(void)
{
	setup();
	w64(IDT + 8 * VEC_INT, gate_desc(CS0, HANDLER + VEC_INT, 0xee, 0));
	enter_v86(3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	/* cli; pushf; sti; popf: IF follows, the 16-bit image has IOPL 3, no VM. */
	put(V86_CODE, "\xfa\x9c\xfb\x9d", 4);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(!(st.rflags & X86_RFLAGS_IF));
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(r32((V86_SS << 4) + 0xfffc) & 0xffff, 0x3002);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_IF);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(!(st.rflags & X86_RFLAGS_IF));
	CHECK(st.rflags & X86_RFLAGS_VM);
	CHECK_EQ(st.gpr[X86_RSP], 0xfffe);
	/* POPF cannot change IOPL there; INT n through a DPL-3 gate. */
	put(V86_CODE + 4, "\x6a\x00\x9d\xcd\x21", 5);              /* push $0; popf; int $0x21 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ((st.rflags >> 12) & 3, 3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + VEC_INT);
	CHECK_EQ(st.gpr[X86_RSP], STACK0 - 36);
	CHECK(v86_frame_ok(STACK0 - 36, V86_IP + 9));
	/* Back by IRET, then a real-mode IRET inside virtual-8086 mode. */
	put(HANDLER + VEC_INT, "\xcf", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, V86_IP + 9);
	w16((V86_SS << 4) + 0xfff8, 0x200);                         /* IP */
	w16((V86_SS << 4) + 0xfffa, 0x1234);                        /* CS */
	w16((V86_SS << 4) + 0xfffc, 0x0202);                        /* FLAGS: IOPL 0 */
	st.gpr[X86_RSP] = 0xfff8;
	put(V86_CODE + 9, "\xcf", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x200);
	CHECK_EQ(st.seg[X86_CS].base, 0x12340);
	CHECK_EQ(st.seg[X86_CS].dpl, 3);
	CHECK_EQ((st.rflags >> 12) & 3, 3);
	CHECK(st.rflags & X86_RFLAGS_VM);
	/* I/O still goes by the bitmap at IOPL 3: none here, #GP. */
	w16(TSS_OLD + 0x66, 0x68);
	put(0x12540, "\xe4\x80", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(r32(STACK0 - 40), 0);
}

static void test_v86_gate_faults(void)
{
	/* INT n to a DPL-0 gate at IOPL 3: #GP(vector * 8 + 2). */
	setup();
	w64(IDT + 8 * VEC_INT, gate_desc(CS0, HANDLER + VEC_INT, 0x8e, 0));
	enter_v86(3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	put(V86_CODE, "\xcd\x21", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(r32(STACK0 - 40), VEC_INT * 8 + 2);
	/* A handler that is not ring 0: #GP(its selector). */
	setup();
	w64(IDT + 8 * VEC_INT, gate_desc(CS3, HANDLER + VEC_INT, 0xee, 0));
	enter_v86(3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	put(V86_CODE, "\xcd\x21", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(r32(STACK0 - 40), CS3);
	/* An external interrupt: no gate DPL check, the same frame. */
	setup();
	w64(IDT + 8 * 0x30, gate_desc(CS0, HANDLER + 0x30, 0x8e, 0));
	enter_v86(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(emu_interrupt(cpu, 0x30), 0);
	CHECK_EQ(st.rip, HANDLER + 0x30);
	CHECK(v86_frame_ok(STACK0 - 36, V86_IP));
	CHECK(!(st.rflags & X86_RFLAGS_IF));
}

/* A CALL to a TSS whose EFLAGS has VM: the task starts in virtual-8086 mode. */
static void test_v86_task(void)
{
	setup();
	w32(TSS_NEW + 0x20, V86_IP);
	w32(TSS_NEW + 0x24, 0x20002);
	w32(TSS_NEW + 0x38, 0xfffe);
	for (int i = 0; i < 6; i++)
		w32(TSS_NEW + 0x48 + 4 * i, i == X86_CS ? V86_CS : i == X86_SS ? V86_SS : 0x3000 + i);
	put(CODE, "\x9a\x00\x00\x00\x00\x30\x00", 7);                   /* lcall $0x30, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_VM);
	CHECK(st.rflags & X86_RFLAGS_NT);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(st.rip, V86_IP);
	CHECK_EQ(st.seg[X86_CS].base, V86_CS << 4);
	CHECK_EQ(st.seg[X86_FS].base, (0x3000 + X86_FS) << 4);
	/* Its #GP goes to ring 0 on the new TSS's stack. */
	put(V86_CODE, "\xfa", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(st.gpr[X86_RSP], STACK0 - 40);
	CHECK_EQ(r32(STACK0 - 4), 0x3000 + X86_GS);
}

/*
 * CR4.VME: the TSS gets an interrupt redirection bitmap at 0x68 (INT 0x21
 * redirected, INT 0x22 not) below an I/O map base of 0x88; the 8086
 * program's IVT sends INT 0x21 to 0x1234:0x0010.
 */
static void enter_vme(unsigned iopl)
{
	enter_v86(iopl);
	st.cr4 |= X86_CR4_VME;
	w16(TSS_OLD + 0x66, 0x88);
	for (unsigned i = 0; i < 32; i++)
		put(TSS_OLD + 0x68 + i, "\xff", 1);
	put(TSS_OLD + 0x68 + 0x21 / 8, "\xfd", 1);
	st.seg[X86_TR].limit = 0x88;
	w32(0x21 * 4, 0x12340010);
}

static uint16_t r16(uint64_t gpa) { uint16_t v = 0; guest_mem_read(&mem, gpa, &v, 2); return v; }

/* Runs the 8086 bytes at V86_CODE: 1 when they were #GP(0), 0 when they ran. */
static int v86_faults(const char *code, size_t len)
{
	put(V86_CODE, code, len);
	st.rip = V86_IP;
	if (emu_step(cpu) != EMU_OK)
		return -1;
	if (st.rip == HANDLER + EXC_GP)
		return r32(st.gpr[X86_RSP]) == 0 ? 1 : -1;
	return st.rflags & X86_RFLAGS_VM ? 0 : -1;
}

static void test_vme(void)
{
	setup();
	st.gpr[X86_RAX] = 1;
	put(CODE, "\x0f\xa2", 2);                                    /* cpuid */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.gpr[X86_RDX] & 2);
	/* CLI and STI move VIF at IOPL 0; STI with VIP set is #GP. */
	setup();
	enter_vme(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	st.rflags |= X86_RFLAGS_VIF;
	CHECK_EQ(v86_faults("\xfa", 1), 0);
	CHECK(!(st.rflags & X86_RFLAGS_VIF));
	CHECK(st.rflags & X86_RFLAGS_IF);
	CHECK_EQ(v86_faults("\xfb", 1), 0);
	CHECK(st.rflags & X86_RFLAGS_VIF);
	st.rflags |= X86_RFLAGS_VIP;
	CHECK_EQ(v86_faults("\xfb", 1), 1);
	/* PUSHF shows VIF as IF and IOPL 3; PUSHFD is #GP. */
	setup();
	enter_vme(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	st.rflags &= ~X86_RFLAGS_VIF;
	CHECK_EQ(v86_faults("\x9c", 1), 0);
	CHECK_EQ(r16((V86_SS << 4) + 0xfffc), 0x3002);
	st.gpr[X86_RSP] = 0xfffe;
	CHECK_EQ(v86_faults("\x66\x9c", 2), 1);
	/* POPF puts IF in VIF, keeps IF and IOPL; TF, or IF while VIP, is #GP. */
	setup();
	enter_vme(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	w16((V86_SS << 4) + 0xfffc, 0x3200 | 0x80);
	st.gpr[X86_RSP] = 0xfffc;
	CHECK_EQ(v86_faults("\x9d", 1), 0);
	CHECK(st.rflags & X86_RFLAGS_VIF);
	CHECK(st.rflags & X86_RFLAGS_IF);
	CHECK(st.rflags & X86_RFLAGS_SF);
	CHECK_EQ((st.rflags >> 12) & 3, 0);
	w16((V86_SS << 4) + 0xfffc, 0x0100);
	st.gpr[X86_RSP] = 0xfffc;
	CHECK_EQ(v86_faults("\x9d", 1), 1);
	setup();
	enter_vme(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	st.rflags |= X86_RFLAGS_VIP;
	w16((V86_SS << 4) + 0xfffc, 0x0200);
	st.gpr[X86_RSP] = 0xfffc;
	CHECK_EQ(v86_faults("\x9d", 1), 1);
	/* INT 0x21, redirected: the 8086 IVT, FLAGS with VIF as IF and IOPL 3, VIF cleared. */
	setup();
	enter_vme(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	st.rflags |= X86_RFLAGS_VIF;
	CHECK_EQ(v86_faults("\xcd\x21", 2), 0);
	CHECK_EQ(st.rip, 0x10);
	CHECK_EQ(st.seg[X86_CS].base, 0x12340);
	CHECK_EQ(st.gpr[X86_RSP], 0xfffe - 6);
	CHECK_EQ(r16((V86_SS << 4) + 0xfff8), V86_IP + 2);
	CHECK_EQ(r16((V86_SS << 4) + 0xfffa), V86_CS);
	CHECK_EQ(r16((V86_SS << 4) + 0xfffc), 0x3202);
	CHECK(!(st.rflags & X86_RFLAGS_VIF));
	CHECK(st.rflags & X86_RFLAGS_IF);
	/* ... and IRET back: IF from the image goes to VIF. */
	put(0x12350, "\xcf", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, V86_IP + 2);
	CHECK_EQ(st.seg[X86_CS].base, V86_CS << 4);
	CHECK(st.rflags & X86_RFLAGS_VIF);
	CHECK_EQ((st.rflags >> 12) & 3, 0);
	/* INT 0x22, not redirected: #GP below IOPL 3, the IDT at IOPL 3. */
	setup();
	enter_vme(0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(v86_faults("\xcd\x22", 2), 1);
	setup();
	w64(IDT + 8 * 0x22, gate_desc(CS0, HANDLER + 0x22, 0xee, 0));
	enter_vme(3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	put(V86_CODE, "\xcd\x22", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x22);
	/* INT 0x21 at IOPL 3 is redirected too, and clears IF itself. */
	setup();
	enter_vme(3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(v86_faults("\xcd\x21", 2), 0);
	CHECK_EQ(st.rip, 0x10);
	CHECK(!(st.rflags & X86_RFLAGS_IF));
	CHECK_EQ(r16((V86_SS << 4) + 0xfffc) & 0x3200, 0x3200);
}

/* CR4.PVI: CLI and STI at CPL 3 below IOPL 3 move VIF; without it they are #GP. */
static void test_pvi(void)
{
	setup();
	to_ring3();
	st.cr4 = X86_CR4_PVI;
	st.rflags |= X86_RFLAGS_IF | X86_RFLAGS_VIF;
	put(CODE, "\xfa\xfb", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 1);
	CHECK(!(st.rflags & X86_RFLAGS_VIF));
	CHECK(st.rflags & X86_RFLAGS_IF);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_VIF);
	st.cr4 = 0;
	st.rip = CODE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
}

int main(void)
{
	RUN(test_iomap_ring3);
	RUN(test_v86_enter_and_fault);
	RUN(test_v86_iopl0);
	RUN(test_v86_iopl3);
	RUN(test_v86_gate_faults);
	RUN(test_v86_task);
	RUN(test_vme);
	RUN(test_pvi);
	rig_free();
	return TEST_EXIT();
}
