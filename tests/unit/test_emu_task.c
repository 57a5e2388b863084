/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call gates and task switches in 32-bit protected mode (no paging unless a
 * test turns it on), 16-bit TSSes, the T bit, and 64-bit call gates in
 * IA-32e mode: the faults the guests do not reach, with their error codes.
 */
#include "emu_task_rig.h"

static uint16_t r16(uint64_t gpa) { uint16_t v = 0; guest_mem_read(&mem, gpa, &v, 2); return v; }

/* TSS_NEW as a 16-bit TSS: IP 0x7000, AX 0x1234, SP 0x8000, ring-0 ES CS SS DS. */
static void tss16_new(void)
{
	static const uint16_t regs[] = { 0x7000, 2, 0x1234, 0, 0, 0, 0x8000, 0, 0, 0,
					 DS0, CS0, DS0, DS0, 0 };

	w64(GDT + TSS_NEW_SEL, seg_desc(TSS_NEW, 0x2b, 0x81, 0));
	for (unsigned i = 0; i < sizeof(regs) / 2; i++)
		w16(TSS_NEW + 0x0e + 2 * i, regs[i]);
}

static void test_16bit_tss(void)
{
	setup();
	tss16_new();
	st.gpr[X86_RAX] = 0xabcd5555;
	st.gpr[X86_RBX] = 0x77778888;
	put(CODE, "\x9a\x00\x00\x00\x00\x30\x00", 7);                   /* lcall $0x30, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x7000);
	CHECK_EQ(st.seg[X86_TR].selector, TSS_NEW_SEL);
	CHECK_EQ(st.seg[X86_TR].type, 3);
	CHECK_EQ((r64(GDT + TSS_NEW_SEL) >> 40) & 0xf, 3);
	CHECK_EQ(r16(TSS_NEW), TSS_OLD_SEL);                           /* back link */
	CHECK(st.rflags & X86_RFLAGS_NT);
	/* The upper halves stay, as QEMU keeps them; FS and GS are null. */
	CHECK_EQ(st.gpr[X86_RAX], 0xabcd1234);
	CHECK_EQ(st.gpr[X86_RBX], 0x77770000);
	CHECK_EQ(st.gpr[X86_RSP] & 0xffff, 0x8000);
	CHECK(st.seg[X86_FS].unusable && st.seg[X86_GS].unusable);
	CHECK_EQ(st.seg[X86_CS].selector, CS0);
	CHECK_EQ(r32(TSS_OLD + 0x20), CODE + 7);                       /* the 32-bit TSS saved */
	CHECK_EQ(r32(TSS_OLD + 0x34), 0x77778888);
	/* IRET back: the 16-bit TSS keeps IP, FLAGS (no NT), the registers. */
	st.gpr[X86_RBX] = 0x4444;
	put(0x7000, "\xcf", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 7);
	CHECK_EQ(st.gpr[X86_RBX], 0x77778888);
	CHECK_EQ(st.seg[X86_TR].selector, TSS_OLD_SEL);
	CHECK_EQ(r16(TSS_NEW + 0x0e), 0x7001);
	CHECK_EQ(r16(TSS_NEW + 0x10) & X86_RFLAGS_NT, 0);
	CHECK_EQ(r16(TSS_NEW + 0x12), 0x1234);                         /* AX */
	CHECK_EQ(r16(TSS_NEW + 0x18), 0x4444);                         /* BX */
	CHECK_EQ(r16(TSS_NEW + 0x24), CS0);
	CHECK_EQ((r64(GDT + TSS_NEW_SEL) >> 40) & 0xf, 1);
	/* A 16-bit TSS shorter than 44 bytes: #TS. */
	setup();
	tss16_new();
	w64(GDT + TSS_NEW_SEL, seg_desc(TSS_NEW, 0x2a, 0x81, 0));
	put(CODE, "\xea\x00\x00\x00\x00\x30\x00", 7);                   /* ljmp $0x30, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_TS, TSS_NEW_SEL);
	/* #GP through a task gate to a 16-bit TSS: the error code as a word. */
	setup();
	tss16_new();
	w64(IDT + 8 * EXC_GP, gate_desc(TSS_NEW_SEL, 0, 0x85, 0));
	put(CODE, "\x66\xb8\x00\x10\x8e\xd8", 6);                  /* mov $0x1000, %ax; mov %ax, %ds */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x7000);
	CHECK_EQ(st.gpr[X86_RSP], (STACK & ~0xffffu) + 0x8000 - 2);   /* ESP's upper half stays */
	CHECK_EQ(r32(st.gpr[X86_RSP]), 0x1000);
}

/* A TSS with its T bit set: #DB (DR6.BT) before the new task's first instruction. */
static void test_tss_trap_bit(void)
{
	setup();
	w16(TSS_NEW + 0x64, 1);
	st.dr[6] = 0xffff0ff0;
	put(CODE, "\xea\x00\x00\x00\x00\x30\x00", 7);                   /* ljmp $0x30, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(st.seg[X86_TR].selector, TSS_NEW_SEL);
	CHECK_EQ(st.gpr[X86_RSP], NEW_STACK - 12);
	CHECK_EQ(r32(NEW_STACK - 12), NEW_EIP);
	CHECK(st.dr[6] & (1u << 15));
	CHECK(!(st.dr[6] & (1u << 14)));
	/* The same through an IDT task gate (INT 0x10), and not without T. */
	setup();
	w16(TSS_NEW + 0x64, 1);
	w64(IDT + 8 * 0x10, gate_desc(TSS_NEW_SEL, 0, 0x85, 0));
	put(CODE, "\xcd\x10", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(r32(NEW_STACK - 12), NEW_EIP);
	CHECK(st.dr[6] & (1u << 15));
	setup();
	st.dr[6] = 0xffff0ff0;
	put(CODE, "\xea\x00\x00\x00\x00\x30\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, NEW_EIP);
	CHECK(!(st.dr[6] & (1u << 15)));
}

static void test_task_faults(void)
{
	setup();
	w64(GDT + TSS_NEW_SEL, seg_desc(TSS_NEW, 0x60, 0x89, 0));     /* limit below 0x67 */
	put(CODE, "\xea\x00\x00\x00\x00\x30\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_TS, TSS_NEW_SEL);
	/* A data selector as the new task's CS: #TS(CS), and nothing switched. */
	setup();
	w32(TSS_NEW + 0x4c, DS0);
	put(CODE, "\x9a\x00\x00\x00\x00\x30\x00", 7);                   /* lcall $0x30, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_TS, DS0);
	CHECK_EQ(st.seg[X86_TR].selector, TSS_OLD_SEL);
	CHECK_EQ((r64(GDT + TSS_NEW_SEL) >> 40) & 0xf, 9);
	/* A not-present SS in the new task: #SS(SS). */
	setup();
	w64(GDT + SPARE_SEL, seg_desc(0, 0xfffff, 0x12, 0xc));
	st.gdt.limit = 0x47;
	w32(TSS_NEW + 0x50, SPARE_SEL);
	put(CODE, "\xea\x00\x00\x00\x00\x30\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_SS, SPARE_SEL);
	/* IRET with NT to a back link that is not busy: #TS(link). */
	setup();
	w16(TSS_OLD, TSS_NEW_SEL);
	st.rflags |= X86_RFLAGS_NT;
	put(CODE, "\xcf", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_TS, TSS_NEW_SEL);
}

static void test_task_switch_with_paging(void)
{
	setup();
	/* Identity-mapped 4 MiB pages; the new task's CR3 is a copy of the directory. */
	w32(PD, 0x83);
	w32(PD + 0x1000, 0x83);
	st.cr4 = X86_CR4_PSE;
	st.cr3 = PD;
	st.cr0 |= X86_CR0_PG;
	w32(TSS_NEW + 0x1c, PD + 0x1000);
	w32(TSS_OLD + 0x1c, PD);                /* the CPU never saves CR3 */
	w32(TSS_NEW + 0x28, 0x1234);            /* EAX */
	st.gpr[X86_RBX] = 0x5678;
	put(CODE, "\x9a\x00\x00\x00\x00\x30\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, NEW_EIP);
	CHECK_EQ(st.cr3, PD + 0x1000);
	CHECK(st.cr0 & X86_CR0_TS);
	CHECK(st.rflags & X86_RFLAGS_NT);
	CHECK_EQ(st.gpr[X86_RAX], 0x1234);
	CHECK_EQ(st.gpr[X86_RSP], NEW_STACK);
	CHECK_EQ(r32(TSS_NEW) & 0xffff, TSS_OLD_SEL);               /* back link */
	CHECK_EQ(r32(TSS_OLD + 0x34), 0x5678);                      /* old EBX saved */
	CHECK_EQ(r32(TSS_OLD + 0x20), CODE + 7);                    /* old EIP: after the call */
	CHECK_EQ((r64(GDT + TSS_NEW_SEL) >> 40) & 0xf, 0xb);
	put(NEW_EIP, "\xcf", 1);                                     /* iret: back */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 7);
	CHECK_EQ(st.cr3, PD);
	CHECK_EQ(st.gpr[X86_RBX], 0x5678);
	CHECK(!(st.rflags & X86_RFLAGS_NT));
	CHECK_EQ((r64(GDT + TSS_NEW_SEL) >> 40) & 0xf, 9);
	CHECK_EQ((r64(GDT + TSS_OLD_SEL) >> 40) & 0xf, 0xb);
}

/* #GP through a task gate: the error code on the new task's stack. */
static void test_exception_task_gate(void)
{
	setup();
	w64(IDT + 8 * EXC_GP, gate_desc(TSS_NEW_SEL, 0, 0x85, 0));
	put(CODE, "\x66\xb8\x00\x10\x8e\xd8", 6);                  /* mov $0x1000, %ax; mov %ax, %ds */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, NEW_EIP);
	CHECK_EQ(st.gpr[X86_RSP], NEW_STACK - 4);
	CHECK_EQ(r32(NEW_STACK - 4), 0x1000);
	CHECK_EQ(r32(TSS_OLD + 0x20), CODE + 4);                    /* the faulting MOV */
	CHECK_EQ(st.seg[X86_TR].selector, TSS_NEW_SEL);
}

static void test_call_gate_faults(void)
{
	/* To ring 1, whose stack in the TSS is a ring-3 segment: #TS(SS1). */
	setup();
	w64(GDT + SPARE_SEL, seg_desc(0, 0xfffff, 0xba, 0xc));        /* code, DPL 1 */
	w64(GDT + GATE_SEL, gate_desc(SPARE_SEL, 0x4000, 0xec, 1));
	w32(TSS_OLD + 0x0c, STACK0 - 0x1000);
	w32(TSS_OLD + 0x10, DS3 | 3);
	to_ring3();
	put(CODE, "\x9a\x00\x00\x00\x00\x3b\x00", 7);                   /* lcall $0x3b, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_TS);
	CHECK_EQ(r32(STACK0 - 4 * 6), DS3);    /* error code below EIP CS EFLAGS ESP SS */
	/* A gate to a data segment: #GP(target). */
	setup();
	w64(GDT + GATE_SEL, gate_desc(DS0, 0, 0xec, 0));
	put(CODE, "\x9a\x00\x00\x00\x00\x38\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_GP, DS0);
	/* JMP through a gate to a more privileged segment: #GP(target). */
	setup();
	w64(GDT + GATE_SEL, gate_desc(CS0, HANDLER + 0x40, 0xec, 0));
	to_ring3();
	put(CODE, "\xea\x00\x00\x00\x00\x3b\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(r32(STACK0 - 4 * 6), CS0);
	/* A gate whose DPL is below CPL: #GP(gate). */
	setup();
	w64(GDT + GATE_SEL, gate_desc(CS0, HANDLER + 0x40, 0x8c, 0));
	to_ring3();
	put(CODE, "\x9a\x00\x00\x00\x00\x3b\x00", 7);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	CHECK_EQ(r32(STACK0 - 4 * 6), GATE_SEL);
}

/* A 16-bit gate from ring 3: 2-byte slots, two parameters copied. */
static void test_call_gate_16bit(void)
{
	setup();
	w64(GDT + GATE_SEL, gate_desc(CS0, 0x4000, 0xe4, 2));
	to_ring3();
	w16(STACK - 4, 0xaaaa);
	w16(STACK - 2, 0xbbbb);
	st.gpr[X86_RSP] = STACK - 4;
	st.rip = 0x8000;
	put(0x8000, "\x66\x9a\x00\x00\x3b\x00", 6);                       /* lcallw $0x3b, $0 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x4000);
	CHECK_EQ(st.seg[X86_CS].selector, CS0);
	CHECK_EQ(emu_cpl(cpu), 0);
	CHECK_EQ(st.gpr[X86_RSP], STACK0 - 12);
	CHECK_EQ(r32(STACK0 - 12), (uint32_t)(CS3 | 3) << 16 | 0x8006);
	CHECK_EQ(r32(STACK0 - 8), 0xbbbbaaaa);
	CHECK_EQ(r32(STACK0 - 4), (uint32_t)(DS3 | 3) << 16 | ((STACK - 4) & 0xffff));
	/* RETF 4 back to ring 3 with a 16-bit operand size. */
	put(0x4000, "\x66\xca\x04\x00", 4);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x8006);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(st.seg[X86_CS].selector, CS3 | 3);
	CHECK_EQ(st.gpr[X86_RSP] & 0xffff, STACK & 0xffff);
}

/*
 * IA-32e mode on the same machine: 2 MiB pages for the first 4 MiB (user
 * accessible), 64-bit code segments at 0x08 and 0x18, the current TSS a
 * 64-bit one with RSP0 = STACK0, a 64-bit IDT whose vector v runs at
 * HANDLER + v.  The 64-bit gate at GATE_SEL fills the slots 0x38 and 0x40.
 */
static void to_long_mode(void)
{
	w64(PD, (PD + 0x1000) | 7);
	w64(PD + 0x1000, (PD + 0x2000) | 7);
	w64(PD + 0x2000, 0x87);
	w64(PD + 0x2008, 0x200000 | 0x87);
	st.cr3 = PD;
	st.cr4 = X86_CR4_PAE;
	st.cr0 |= X86_CR0_PG;
	st.efer = X86_EFER_LME | X86_EFER_LMA;
	w64(GDT + CS0, seg_desc(0, 0xfffff, 0x9a, 0xa));
	w64(GDT + CS3, seg_desc(0, 0xfffff, 0xfa, 0xa));
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0x9b, 0xa), 0, CS0, &st.seg[X86_CS], 1);
	w64(GDT + TSS_NEW_SEL, 0);                  /* the TSS descriptor's upper half */
	w64(TSS_OLD + 4, STACK0);
	for (int v = 0; v < 32; v++) {
		w64(IDT + 16 * v, gate_desc(CS0, HANDLER + v, 0x8e, 0));
		w64(IDT + 16 * v + 8, 0);
	}
	st.idt.limit = 32 * 16 - 1;
	emu_cpu_flush_tlb(cpu);
}

/* A 64-bit call gate at GATE_SEL to sel:off with the given access byte. */
static void gate64(uint16_t sel, uint64_t off, unsigned access)
{
	w64(GDT + GATE_SEL, gate_desc(sel, (uint32_t)off, access, 0));
	w64(GDT + GATE_SEL + 8, off >> 32);
}

#define FAR_PTR 0x8000     /* m16:32 of the far CALL/JMP: offset 0, GATE_SEL | 3 */

static void far_via_gate(int call)
{
	w32(FAR_PTR, 0);
	w16(FAR_PTR + 4, GATE_SEL | 3);
	st.gpr[X86_RAX] = FAR_PTR;
	put(CODE, call ? "\xff\x18" : "\xff\x28", 2);              /* lcall/ljmp *(%rax) */
	st.rip = CODE;
}

/* The exception the last step delivered in IA-32e mode, with its error code. */
static void check_fault64(int vec, uint32_t err)
{
	CHECK_EQ(st.rip, HANDLER + vec);
	CHECK_EQ(r64(st.gpr[X86_RSP]), err);
}

static void test_call_gate64(void)
{
	const uint64_t target = 0xffff800000004000ULL;

	/* From ring 3 to ring 0: RSP0, a null SS, SS RSP CS RIP as quadwords. */
	setup();
	to_long_mode();
	gate64(CS0, target, 0xec);
	to_ring3();
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0xfb, 0xa), 0, CS3 | 3, &st.seg[X86_CS], 1);
	st.gpr[X86_RSP] = STACK;
	far_via_gate(1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, target);
	CHECK_EQ(emu_cpl(cpu), 0);
	CHECK_EQ(st.seg[X86_CS].selector, CS0);
	CHECK(st.seg[X86_CS].l);
	CHECK_EQ(st.seg[X86_SS].selector, 0);
	CHECK_EQ(st.gpr[X86_RSP], STACK0 - 32);
	CHECK_EQ(r64(STACK0 - 32), CODE + 2);
	CHECK_EQ(r64(STACK0 - 24), CS3 | 3);
	CHECK_EQ(r64(STACK0 - 16), STACK);
	CHECK_EQ(r64(STACK0 - 8), DS3 | 3);
	/* LRETQ back to ring 3. */
	st.rip = 0x9000;
	put(0x9000, "\x48\xcb", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(st.seg[X86_CS].selector, CS3 | 3);
	CHECK_EQ(st.seg[X86_SS].selector, DS3 | 3);
	CHECK_EQ(st.gpr[X86_RSP], STACK);

	/* At the same level: CS and RIP pushed as quadwords on the same stack. */
	setup();
	to_long_mode();
	gate64(CS0, target, 0xec);
	far_via_gate(1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, target);
	CHECK_EQ(st.gpr[X86_RSP], STACK - 16);
	CHECK_EQ(r64(STACK - 16), CODE + 2);
	CHECK_EQ(r64(STACK - 8), CS0);
	CHECK_EQ(st.seg[X86_SS].selector, DS0);
}

static void test_call_gate64_faults(void)
{
	static const struct {
		unsigned access, gdt_limit;
		uint64_t hi, target_desc, rsp0;
		int call, ring3, vec;
		uint32_t err;
	} cases[] = {
		/* The upper half's type must be 0. */
		{ 0xec, 0x47, 0x0c0000000000ULL, 0, STACK0, 1, 0, EXC_GP, GATE_SEL },
		/* The 16-byte gate must fit in the GDT. */
		{ 0xec, 0x3f, 0, 0, STACK0, 1, 0, EXC_GP, GATE_SEL },
		/* DPL 0 from ring 3. */
		{ 0x8c, 0x47, 0, 0, STACK0, 1, 1, EXC_GP, GATE_SEL },
		/* Not present. */
		{ 0x6c, 0x47, 0, 0, STACK0, 1, 0, EXC_NP, GATE_SEL },
		/* To 32-bit code (at 0x48). */
		{ 0xec, 0x4f, 0, 0x00cf9a000000ffffULL, STACK0, 1, 0, EXC_GP, 0x48 },
		/* A JMP to a more privileged level. */
		{ 0xec, 0x47, 0, 0, STACK0, 0, 1, EXC_GP, CS0 },
		/* A non-canonical target. */
		{ 0xec, 0x47, 0x8000, 0, STACK0, 1, 0, EXC_GP, 0 },
		/* A non-canonical RSP0. */
		{ 0xec, 0x47, 0, 0, 0x800000000000ULL, 1, 1, EXC_SS, 0 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup();
		to_long_mode();
		gate64(cases[i].target_desc ? 0x48 : CS0, 0x4000, cases[i].access);
		w64(GDT + GATE_SEL + 8, r64(GDT + GATE_SEL + 8) | cases[i].hi);
		w64(GDT + 0x48, cases[i].target_desc);
		st.gdt.limit = cases[i].gdt_limit;
		if (cases[i].ring3) {
			to_ring3();
			emu_desc_to_seg(seg_desc(0, 0xfffff, 0xfb, 0xa), 0, CS3 | 3, &st.seg[X86_CS], 1);
		}
		far_via_gate(cases[i].call);
		if (cases[i].rsp0 != STACK0) {
			/* The #SS itself goes to IST1, RSP0 being no good. */
			w64(TSS_OLD + 4, cases[i].rsp0);
			w64(TSS_OLD + 0x24, STACK0 - 0x800);
			w64(IDT + 16 * EXC_SS, gate_desc(CS0, HANDLER + EXC_SS, 0x8e, 1));
		}
		CHECK_EQ(emu_step(cpu), EMU_OK);
		check_fault64(cases[i].vec, cases[i].err);
	}
}

int main(void)
{
	RUN(test_16bit_tss);
	RUN(test_tss_trap_bit);
	RUN(test_task_faults);
	RUN(test_task_switch_with_paging);
	RUN(test_exception_task_gate);
	RUN(test_call_gate_faults);
	RUN(test_call_gate_16bit);
	RUN(test_call_gate64);
	RUN(test_call_gate64_faults);
	rig_free();
	return TEST_EXIT();
}
