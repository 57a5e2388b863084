/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call gates and task switches in 32-bit protected mode (no paging unless a
 * test turns it on): the faults guests/tasks does not reach, with their
 * error codes, and the cases emu gives up on leaving the state untouched.
 */
#include <string.h>

#include "accel/emu/emu_int.h"
#include "machine/memory.h"
#include "test.h"

#define GDT 0x1000
#define IDT 0x2000
#define TSS_OLD 0x3000
#define TSS_NEW 0x3100
#define CODE 0x10000
#define NEW_EIP 0x11000
#define HANDLER 0x20000
#define STACK 0x30000
#define STACK0 0x40000
#define NEW_STACK 0x50000
#define PD 0x60000

/* GDT selectors */
#define CS0 0x08
#define DS0 0x10
#define CS3 0x18
#define DS3 0x20
#define TSS_OLD_SEL 0x28
#define TSS_NEW_SEL 0x30
#define GATE_SEL 0x38
#define SPARE_SEL 0x40

static struct guest_mem mem;
static struct x86_cpu_state st;
static struct emu_cpu *cpu;

static void w16(uint64_t gpa, uint16_t v) { guest_mem_write(&mem, gpa, &v, 2); }
static void w32(uint64_t gpa, uint32_t v) { guest_mem_write(&mem, gpa, &v, 4); }
static void w64(uint64_t gpa, uint64_t v) { guest_mem_write(&mem, gpa, &v, 8); }
static uint32_t r32(uint64_t gpa) { uint32_t v = 0; guest_mem_read(&mem, gpa, &v, 4); return v; }
static uint64_t r64(uint64_t gpa) { uint64_t v = 0; guest_mem_read(&mem, gpa, &v, 8); return v; }
static void put(uint64_t gpa, const char *b, size_t n) { guest_mem_write(&mem, gpa, b, n); }

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned access, unsigned params)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
	       ((uint64_t)access << 40) | ((uint64_t)(off >> 16) << 48);
}

/* A 32-bit TSS at base: ring-0 flat segments, EIP, ESP, EFLAGS 2. */
static void tss_fill(uint64_t base, uint32_t eip, uint32_t esp)
{
	for (unsigned off = 0; off < 104; off += 4)
		w32(base + off, 0);
	w32(base + 4, STACK0);
	w32(base + 8, DS0);
	w32(base + 0x20, eip);
	w32(base + 0x24, 2);
	w32(base + 0x38, esp);
	for (int i = 0; i < 6; i++)
		w32(base + 0x48 + 4 * i, i == X86_CS ? CS0 : DS0);
}

static void setup(void)
{
	struct emu_env env = { .mem = &mem };

	if (!mem.base)
		guest_mem_init(&mem, 4 << 20);
	memset(mem.base, 0, mem.size);
	w64(GDT + CS0, seg_desc(0, 0xfffff, 0x9a, 0xc));
	w64(GDT + DS0, seg_desc(0, 0xfffff, 0x92, 0xc));
	w64(GDT + CS3, seg_desc(0, 0xfffff, 0xfa, 0xc));
	w64(GDT + DS3, seg_desc(0, 0xfffff, 0xf2, 0xc));
	w64(GDT + TSS_OLD_SEL, seg_desc(TSS_OLD, 0x67, 0x8b, 0));     /* busy: the current task */
	w64(GDT + TSS_NEW_SEL, seg_desc(TSS_NEW, 0x67, 0x89, 0));
	tss_fill(TSS_OLD, 0, 0);
	tss_fill(TSS_NEW, NEW_EIP, NEW_STACK);
	for (int v = 0; v < 32; v++)
		w64(IDT + 8 * v, gate_desc(CS0, HANDLER + v, 0x8e, 0));
	x86_cpu_state_reset(&st, 1);
	st.cr0 = X86_CR0_PE | X86_CR0_ET;
	for (int i = 0; i < 6; i++)
		emu_desc_to_seg(seg_desc(0, 0xfffff, i == X86_CS ? 0x9b : 0x93, 0xc), 0,
				i == X86_CS ? CS0 : DS0, &st.seg[i], 0);
	emu_desc_to_seg(seg_desc(TSS_OLD, 0x67, 0x8b, 0), 0, TSS_OLD_SEL, &st.seg[X86_TR], 0);
	st.gdt = (struct x86_dtable){ GDT, 0x47 };
	st.idt = (struct x86_dtable){ IDT, 32 * 8 - 1 };
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	st.rflags = X86_RFLAGS_FIXED;
	if (cpu)
		emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
}

static void to_ring3(void)
{
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0xfb, 0xc), 0, CS3 | 3, &st.seg[X86_CS], 0);
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0xf3, 0xc), 0, DS3 | 3, &st.seg[X86_SS], 0);
}

/* The exception the last step delivered: its vector (from the handler's address) and error code. */
static void check_fault(int vec, uint32_t err)
{
	CHECK_EQ(st.rip, HANDLER + vec);
	CHECK_EQ(r32(st.gpr[X86_RSP] & 0xffffffff), err);
}

static void test_16bit_tss_left_alone(void)
{
	struct x86_cpu_state before;

	setup();
	w64(GDT + TSS_NEW_SEL, seg_desc(TSS_NEW, 0x2b, 0x81, 0));     /* 16-bit available TSS */
	put(CODE, "\xea\x00\x00\x00\x00\x30\x00", 7);                   /* ljmp $0x30, $0 */
	memcpy(&before, &st, sizeof(st));
	CHECK_EQ(emu_step(cpu), EMU_UNIMPLEMENTED);
	CHECK(!memcmp(&before, &st, sizeof(st)));
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

int main(void)
{
	RUN(test_16bit_tss_left_alone);
	RUN(test_task_faults);
	RUN(test_task_switch_with_paging);
	RUN(test_exception_task_gate);
	RUN(test_call_gate_faults);
	RUN(test_call_gate_16bit);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
