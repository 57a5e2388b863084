/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call gates and task switches in 32-bit protected mode: a far CALL
 * through a call gate at the same level and from ring 3 into ring 0 (stack
 * switch from the TSS, two parameters copied, RETF 8 back to ring 3), the
 * #GP and #NP of gates ring 3 may not use; CALL and JMP to a TSS and
 * through a task gate (NT, the back link, busy bits, IRET back), a JMP to
 * the busy current task (#GP), an INT and a #GP through task gates in the
 * IDT, the error code on the handler task's stack.  Prints what it saw.
 * "only=gates" or "only=tasks" on the command line runs one half.
 */
#include "guest.h"
#include "idt.h"
#include "multiboot.h"

#define NAME "tasks"
#define SEL_TSS_MAIN 0x28
#define SEL_TSS_A 0x30
#define SEL_TSS_B 0x48
#define SEL_TSS_C 0x50
#define VEC_TASK_INT 0x31
#define EFLAGS_NT (1u << 14)
#define CR0_TS (1u << 3)

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
} __attribute__((packed));

/* Shared with tasks_asm.S. */
struct tss32 tss_main, tss_a, tss_b, tss_c;
uint32_t same_cs, same_ret_cs, inner_frame[6], inner_cs, inner_ss, inner_esp;
uint32_t kernel_esp, user_esp_after, user_cs_after;
uint32_t a_runs, a_eflags, a_tr, a_jmp_back, b_runs, b_eflags, c_runs, c_error;
extern char gate_same[], gate_inner[], gate_exit[], task_a[], task_b[], task_c[];
extern char user_gp_insn[], user_np_insn[];
void enter_user(void);

static uint64_t gdt[16] __attribute__((aligned(8)));
static uint8_t stack0[4096] __attribute__((aligned(16)));
static uint8_t stack_a[4096] __attribute__((aligned(16)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_c[4096] __attribute__((aligned(16)));
static uint32_t faults[2][2];     /* vector, error code of the last two faults from ring 3 */
static int nfaults;

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned type, unsigned dpl,
			  unsigned present, unsigned params)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
	       ((uint64_t)type << 40) | ((uint64_t)dpl << 45) | ((uint64_t)present << 47) |
	       ((uint64_t)(off >> 16) << 48);
}

static uint64_t tss_desc(struct tss32 *t)
{
	return seg_desc((uint32_t)(uintptr_t)t, sizeof(*t) - 1, 0x89, 0);
}

static void task_init(struct tss32 *t, void *eip, uint8_t *stack_top)
{
	*t = (struct tss32){
		.eip = (uint32_t)(uintptr_t)eip, .eflags = 0x2,
		.esp = (uint32_t)(uintptr_t)stack_top, .cs = 0x08,
		.ss = 0x10, .ds = 0x10, .es = 0x10, .fs = 0x10, .gs = 0x10,
		.iomap = sizeof(struct tss32),
	};
}

static void gdt_init(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) p = {
		sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };

	gdt[1] = seg_desc(0, 0xfffff, 0x9a, 0xc);                    /* 0x08 code, ring 0 */
	gdt[2] = seg_desc(0, 0xfffff, 0x92, 0xc);                    /* 0x10 data, ring 0 */
	gdt[3] = seg_desc(0, 0xfffff, 0xfa, 0xc);                    /* 0x18 code, ring 3 */
	gdt[4] = seg_desc(0, 0xfffff, 0xf2, 0xc);                    /* 0x20 data, ring 3 */
	gdt[5] = tss_desc(&tss_main);
	gdt[6] = tss_desc(&tss_a);
	gdt[7] = gate_desc(0x08, (uint32_t)(uintptr_t)gate_inner, 0xc, 3, 1, 2);
	gdt[8] = gate_desc(SEL_TSS_A, 0, 0x5, 3, 1, 0);              /* 0x40 task gate */
	gdt[9] = tss_desc(&tss_b);
	gdt[10] = tss_desc(&tss_c);
	gdt[11] = gate_desc(0x08, (uint32_t)(uintptr_t)gate_inner, 0xc, 0, 1, 2); /* 0x58 DPL 0 */
	gdt[12] = gate_desc(0x08, (uint32_t)(uintptr_t)gate_inner, 0xc, 3, 0, 2); /* 0x60 absent */
	gdt[13] = gate_desc(0x08, (uint32_t)(uintptr_t)gate_same, 0xc, 0, 1, 0);  /* 0x68 */
	gdt[15] = gate_desc(0x08, (uint32_t)(uintptr_t)gate_exit, 0xc, 3, 1, 0);  /* 0x78 */
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x08, $1f\n"
			 "1:\tmovl $0x10, %%eax\n\t"
			 "movl %%eax, %%ds\n\tmovl %%eax, %%es\n\tmovl %%eax, %%ss\n\t"
			 "movl %%eax, %%fs\n\tmovl %%eax, %%gs"
			 : : "m"(p) : "eax", "memory");
	tss_main = (struct tss32){ .ss0 = 0x10, .esp0 = (uint32_t)(uintptr_t)(stack0 + sizeof(stack0)),
				   .iomap = sizeof(struct tss32) };
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS_MAIN));
}

static uint32_t read_eflags(void)
{
	uint32_t v;

	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static uint32_t read_cr0(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}

static uint16_t read_tr(void)
{
	uint16_t v;

	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

static uint32_t tss_type(uint16_t sel)
{
	return (gdt[sel >> 3] >> 40) & 0xf;
}

/* #GP and #NP from ring 3: note them and skip the 7-byte far call. */
static void ring3_fault(struct idt_frame *f)
{
	uint32_t want = nfaults == 0 ? (uint32_t)(uintptr_t)user_gp_insn :
			(uint32_t)(uintptr_t)user_np_insn;

	if (nfaults >= 2 || f->eip != want)
		guest_fail(NAME, "vector %u error %#x at %x", f->vector, f->error, f->eip);
	faults[nfaults][0] = f->vector;
	faults[nfaults][1] = f->error;
	nfaults++;
	f->eip += 7;
}

/* A busy TSS as JMP target: #GP; skip the 7-byte far jump. */
static uint32_t busy_error = ~0u;

static void busy_fault(struct idt_frame *f)
{
	busy_error = f->error;
	f->eip += 7;
}

static void call_gates(void)
{
	__asm__ volatile("lcall $0x68, $0" : : : "memory");
	gprintf(NAME ": same-level call gate: cs=%#x, return cs %#x on the stack\n", same_cs,
		same_ret_cs);
	idt_set_handler(13, ring3_fault);
	idt_set_handler(11, ring3_fault);
	enter_user();
	idt_set_handler(13, NULL);
	idt_set_handler(11, NULL);
	gprintf(NAME ": ring 3 -> 0 call gate: cs=%#x ss=%#x esp=%s\n", inner_cs, inner_ss,
		inner_esp + 12 + 24 == tss_main.esp0 ? "esp0-24" : "WRONG");
	gprintf(NAME ": frame eip=%s cs=%#x params %#x %#x ss=%#x esp=%s\n",
		inner_frame[0] ? "set" : "0", inner_frame[1], inner_frame[2], inner_frame[3],
		inner_frame[5], inner_frame[4] == user_esp_after - 8 ? "before-params" : "WRONG");
	gprintf(NAME ": back in ring 3 with cs=%#x after retf 8\n", user_cs_after);
	for (int i = 0; i < nfaults; i++)
		gprintf(NAME ": ring 3 fault: vector %u error %#x\n", faults[i][0], faults[i][1]);
}

static void report_task(const char *how)
{
	uint32_t cr0 = read_cr0();

	gprintf(NAME ": %s: A ran %u times, its NT=%u TR=%#x link=%#x; back: TR=%#x NT=%u TS=%u A type %#x\n",
		how, a_runs, !!(a_eflags & EFLAGS_NT), a_tr, tss_a.link, read_tr(),
		!!(read_eflags() & EFLAGS_NT), !!(cr0 & CR0_TS), tss_type(SEL_TSS_A));
	__asm__ volatile("clts");
}

static void task_switches(void)
{
	uint64_t *gp = idt_entry(13), saved_gp = *gp;
	volatile uint32_t ds_after;

	task_init(&tss_a, task_a, stack_a + sizeof(stack_a));
	task_init(&tss_b, task_b, stack_b + sizeof(stack_b));
	task_init(&tss_c, task_c, stack_c + sizeof(stack_c));
	__asm__ volatile("lcall $0x30, $0" : : : "memory");
	report_task("call tss");
	__asm__ volatile("lcall $0x43, $0" : : : "memory");
	report_task("call task gate");
	a_jmp_back = 1;
	tss_a.link = 0;
	__asm__ volatile("ljmp $0x30, $0" : : : "memory");
	report_task("jmp tss");
	idt_set_handler(13, busy_fault);
	__asm__ volatile("ljmp $0x28, $0" : : : "memory");
	idt_set_handler(13, NULL);
	gprintf(NAME ": jmp to the busy current task: #GP error %#x\n", busy_error);

	*idt_entry(VEC_TASK_INT) = gate_desc(SEL_TSS_B, 0, 0x5, 0, 1, 0);
	__asm__ volatile("int $0x31" : : : "memory");
	gprintf(NAME ": int through a task gate: B ran %u times, NT=%u link=%#x\n", b_runs,
		!!(b_eflags & EFLAGS_NT), tss_b.link);
	__asm__ volatile("clts");

	*gp = gate_desc(SEL_TSS_C, 0, 0x5, 0, 1, 0);
	__asm__ volatile("movw $0x1000, %%ax\n\tmovw %%ax, %%ds\n\tmovl %%ds, %0"
			 : "=r"(ds_after) : : "eax", "memory");
	*gp = saved_gp;
	gprintf(NAME ": #GP through a task gate: C ran %u times, error %#x, ds still %#x\n",
		c_runs, c_error, ds_after);
	__asm__ volatile("clts");
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const char *only = cmdline_value(mb_cmdline(magic, mbi_addr), "only");

	gdt_init();
	if (!only || !strncmp(only, "gates", 5))
		call_gates();
	if (!only || !strncmp(only, "tasks", 5))
		task_switches();
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
