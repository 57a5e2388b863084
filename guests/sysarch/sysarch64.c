/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 64-bit call gates in IA-32e mode: a far CALL through a gate at the same
 * level (CS and RIP pushed as quadwords, LRETQ back), and from ring 3 to
 * ring 0 (RSP0 from the 64-bit TSS, SS null at CPL 0, SS RSP CS RIP as
 * quadwords, no parameters, LRETQ back to ring 3), then out of ring 3
 * through another gate.  Prints what it saw.
 */
#include "guest.h"

#define NAME "sysarch64"
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS 0x1b
#define USER_CS 0x23
#define TSS_SEL 0x28
#define GATE_INNER 0x38     /* DPL 3, to gate_inner */
#define GATE_SAME 0x48      /* DPL 0, to gate_same */
#define GATE_EXIT 0x58      /* DPL 3, to gate_exit */

static uint64_t gdt64[14] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
uint8_t user_stack[4096] __attribute__((aligned(16)));

/* Shared with the assembly below. */
uint64_t kernel_rsp_saved, same_cs, same_frame[2], same_rsp, caller_rsp;
uint64_t inner_cs, inner_ss, inner_rsp, inner_frame[4], user_rsp_before, user_rsp_after;
uint64_t user_cs_after;
/* m16:32 far pointers (the offset is the gate's business). */
struct { uint32_t off; uint16_t sel; } __attribute__((packed))
	ptr_same = { 0, GATE_SAME }, ptr_inner = { 0, GATE_INNER | 3 }, ptr_exit = { 0, GATE_EXIT | 3 };

void gate_same(void);
void gate_inner(void);
void gate_exit(void);
void user_code(void);
void call_same(void);
void enter_user(void);

__asm__(".text\n"
	/* Same level: keep CS, the frame and RSP, return with LRETQ. */
	".globl gate_same\n"
	"gate_same:\n"
	"	movq %cs, %rax\n"
	"	movq %rax, same_cs(%rip)\n"
	"	movq (%rsp), %rax\n"
	"	movq %rax, same_frame(%rip)\n"
	"	movq 8(%rsp), %rax\n"
	"	movq %rax, same_frame+8(%rip)\n"
	"	movq %rsp, same_rsp(%rip)\n"
	"	lretq\n"
	".globl call_same\n"
	"call_same:\n"
	"	movq %rsp, caller_rsp(%rip)\n"
	"	lcall *ptr_same(%rip)\n"
	"	ret\n"
	/* From ring 3: keep CS, SS, RSP and the frame, LRETQ back to ring 3. */
	".globl gate_inner\n"
	"gate_inner:\n"
	"	movq %cs, %rax\n"
	"	movq %rax, inner_cs(%rip)\n"
	"	movq %ss, %rax\n"
	"	movq %rax, inner_ss(%rip)\n"
	"	movq %rsp, inner_rsp(%rip)\n"
	"	movq (%rsp), %rax\n"
	"	movq %rax, inner_frame(%rip)\n"
	"	movq 8(%rsp), %rax\n"
	"	movq %rax, inner_frame+8(%rip)\n"
	"	movq 16(%rsp), %rax\n"
	"	movq %rax, inner_frame+16(%rip)\n"
	"	movq 24(%rsp), %rax\n"
	"	movq %rax, inner_frame+24(%rip)\n"
	"	lretq\n"
	/* Out of ring 3: back where enter_user was called. */
	".globl gate_exit\n"
	"gate_exit:\n"
	"	movq kernel_rsp_saved(%rip), %rsp\n"
	"	movl $0x10, %eax\n"
	"	movl %eax, %ss\n"
	"	movl %eax, %ds\n"
	"	movl %eax, %es\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".globl enter_user\n"
	"enter_user:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	movq %rsp, kernel_rsp_saved(%rip)\n"
	"	pushq $0x1b\n"
	"	leaq user_stack+4096(%rip), %rax\n"
	"	pushq %rax\n"
	"	pushq $0x2\n"
	"	pushq $0x23\n"
	"	leaq user_code(%rip), %rax\n"
	"	pushq %rax\n"
	"	iretq\n"
	/* Ring 3: through the DPL-3 gate to ring 0 and back, then out. */
	".globl user_code\n"
	"user_code:\n"
	"	movq %rsp, user_rsp_before(%rip)\n"
	"	lcall *ptr_inner(%rip)\n"
	"	movq %rsp, user_rsp_after(%rip)\n"
	"	movq %cs, %rax\n"
	"	movq %rax, user_cs_after(%rip)\n"
	"	lcall *ptr_exit(%rip)\n"
	"	ud2\n");

/* A 64-bit call gate: 16 bytes, the upper half's type 0. */
static void gate64(unsigned sel, void (*fn)(void), unsigned dpl)
{
	uint64_t a = (uint64_t)fn;

	gdt64[sel / 8] = (a & 0xffff) | ((uint64_t)KERNEL_CS << 16) | ((0x8cull | dpl << 5) << 40) |
			 ((a >> 16) & 0xffff) << 48;
	gdt64[sel / 8 + 1] = a >> 32;
}

static void setup(void)
{
	uint64_t t = (uint64_t)tss, *pml4, *pdpt, *pd;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } g;

	gdt64[1] = 0x00af9a000000ffffull;               /* 0x08 kernel code */
	gdt64[2] = 0x00cf92000000ffffull;               /* 0x10 kernel data */
	gdt64[3] = 0x00cff2000000ffffull;               /* 0x18 user data */
	gdt64[4] = 0x00affa000000ffffull;               /* 0x20 user code */
	gdt64[5] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) |
		   ((t >> 24) & 0xff) << 56;
	gdt64[6] = t >> 32;
	gate64(GATE_INNER, gate_inner, 3);
	gate64(GATE_SAME, gate_same, 0);
	gate64(GATE_EXIT, gate_exit, 3);
	*(uint64_t *)(tss + 4) = (uint64_t)(kernel_stack + sizeof(kernel_stack));   /* RSP0 */
	g.limit = sizeof(gdt64) - 1;
	g.base = (uint64_t)gdt64;
	__asm__ volatile("lgdt %0" : : "m"(g));
	__asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
			 : : "i"(KERNEL_CS) : "rax", "memory");
	__asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(KERNEL_DS));
	__asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
	/* The first 2 MiB, where the guest is, user-accessible (no SMEP, no SMAP). */
	__asm__ volatile("mov %%cr3, %0" : "=r"(pml4));
	pml4[0] |= 4;
	pdpt = (uint64_t *)(pml4[0] & ~0xfffull);
	pdpt[0] |= 4;
	pd = (uint64_t *)(pdpt[0] & ~0xfffull);
	pd[0] |= 4;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	uint64_t rsp0 = (uint64_t)(kernel_stack + sizeof(kernel_stack));

	(void)magic;
	(void)mbi_addr;
	setup();
	call_same();
	gprintf(NAME ": same-level 64-bit call gate: cs=%#llx, frame cs=%#llx rip=%s, rsp=caller-%llu\n",
		(unsigned long long)same_cs, (unsigned long long)same_frame[1],
		same_frame[0] > (uint64_t)call_same && same_frame[0] < (uint64_t)gate_inner ?
		"after the call" : "WRONG", (unsigned long long)(caller_rsp - same_rsp));
	enter_user();
	gprintf(NAME ": ring 3 -> 0 64-bit call gate: cs=%#llx ss=%#llx rsp=rsp0-%llu\n",
		(unsigned long long)inner_cs, (unsigned long long)inner_ss,
		(unsigned long long)(rsp0 - inner_rsp));
	gprintf(NAME ": frame rip=%s cs=%#llx rsp=%s ss=%#llx\n",
		inner_frame[0] > (uint64_t)user_code && inner_frame[0] < (uint64_t)user_code + 32 ?
		"after the call" : "WRONG", (unsigned long long)inner_frame[1],
		inner_frame[2] == user_rsp_before ? "from the caller" : "WRONG",
		(unsigned long long)inner_frame[3]);
	gprintf(NAME ": back in ring 3 with cs=%#llx, rsp %s after lretq\n",
		(unsigned long long)user_cs_after,
		user_rsp_after == user_rsp_before ? "restored" : "WRONG");
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
