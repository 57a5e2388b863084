/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring 3 from 64-bit guest code: a Linux-style GDT and STAR, an IRETQ to
 * user mode, then SYSCALL/SYSRETQ round trips and a user-mode page fault
 * handled by the kernel side.  Software KVMs that run user mode natively
 * (kvm_pvm) switch modes here, so each step reports on its own line.
 */
#include "guest.h"

#define NAME "usermode"
#define MSR_EFER   0xc0000080
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_FMASK  0xc0000084
#define EFER_SCE   (1ull << 0)
#define CR4_SMAP   (1u << 21)
#define ROUND_TRIPS 1000

/* Linux's layout: STAR's selectors must be the ones a native kernel uses. */
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER32_CS 0x23
#define USER_DS   0x2b
#define USER_CS   0x33
#define TSS_SEL   0x40

static uint64_t gdt64[10] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static uint64_t idt64[2 * 32] __attribute__((aligned(16)));
static uint8_t user_stack[8192] __attribute__((aligned(4096)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
volatile uint64_t syscalls, faults;
uint64_t kernel_rsp_saved;


static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void syscall_entry(void);
void pf_entry(void);
void pf_entry_smap(void);
void user_code(void);
void back_in_kernel(void);
void syscall_stayed_in_user_mode(void);

/* SYSCALL: RAX 1 counts and returns, RAX 0 ends user mode. */
__asm__(".text\n"
	".globl syscall_entry\n"
	"syscall_entry:\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	lock incq syscalls(%rip)\n"
	"	sysretq\n"
	"1:	movq kernel_rsp_saved(%rip), %rsp\n"
	"	jmp back_in_kernel\n"
	/*
	 * #PF, entered as Linux enters it (CLAC first, with SMAP).  A fault at
	 * LSTAR is a SYSCALL that reached the kernel's entry without leaving
	 * user mode; the expected one, a load from an unmapped page, is skipped.
	 */
	".globl pf_entry_smap\n"
	"pf_entry_smap:\n"
	"	clac\n"
	".globl pf_entry\n"
	"pf_entry:\n"
	"	leaq syscall_entry(%rip), %rax\n"
	"	cmpq %rax, 8(%rsp)\n"
	"	je 2f\n"
	"	lock incq faults(%rip)\n"
	"	addq $8, %rsp\n"            /* error code */
	"	addq $2, (%rsp)\n"
	"	iretq\n"
	"2:	movq kernel_rsp_saved(%rip), %rsp\n"
	"	jmp syscall_stayed_in_user_mode\n"
	/* User mode, in a page of its own: round trips, an unmapped load, out. */
	".section .user_code, \"ax\"\n"
	".balign 4096\n"
	".globl user_code\n"
	"user_code:\n"
	"	movl $1000, %ebx\n"
	"3:	movl $1, %eax\n"
	"	syscall\n"
	"	decl %ebx\n"
	"	jnz 3b\n"
	"	movabs $0x100000000000, %rsi\n"
	"	movb (%rsi), %al\n"          /* 8a 06: pf_entry skips 2 bytes */
	"	xorl %eax, %eax\n"
	"	syscall\n"
	".balign 4096\n"             /* nothing of the kernel's in this page */
	".text\n");

static void set_gate(int vec, void (*fn)(void))
{
	uint64_t a = (uint64_t)fn;

	idt64[2 * vec] = (a & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eull << 40) |
			 ((a >> 16) & 0xffff) << 48;
	idt64[2 * vec + 1] = a >> 32;
}

static void setup_descriptors(int smap)
{
	uint64_t t = (uint64_t)tss;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } g, i;

	gdt64[1] = 0x00cf9a000000ffffull;               /* 0x08 kernel 32-bit code */
	gdt64[2] = 0x00af9a000000ffffull;               /* 0x10 kernel code */
	gdt64[3] = 0x00cf92000000ffffull;               /* 0x18 kernel data */
	gdt64[4] = 0x00cffa000000ffffull;               /* 0x20 user 32-bit code */
	gdt64[5] = 0x00cff2000000ffffull;               /* 0x28 user data */
	gdt64[6] = 0x00affa000000ffffull;               /* 0x30 user code */
	gdt64[8] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) |
		   ((t >> 24) & 0xff) << 56;
	gdt64[9] = t >> 32;
	*(uint64_t *)(tss + 4) = (uint64_t)(kernel_stack + sizeof(kernel_stack));   /* RSP0 */
	set_gate(14, smap ? pf_entry_smap : pf_entry);
	g.limit = sizeof(gdt64) - 1;
	g.base = (uint64_t)gdt64;
	i.limit = sizeof(idt64) - 1;
	i.base = (uint64_t)idt64;
	__asm__ volatile("lgdt %0; lidt %1" : : "m"(g), "m"(i));
	__asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
			 : : "i"(KERNEL_CS) : "rax", "memory");
	__asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(KERNEL_DS));
	__asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

/*
 * Kernel pages supervisor-only as in Linux (a SYSCALL left in user mode then
 * faults at LSTAR), the user code and stack pages user-accessible, and
 * nothing mapped at 16 TiB.
 */
static uint64_t pt0[512] __attribute__((aligned(4096)));

static void split_user_pages(void)
{
	uint64_t *pml4, *pdpt, *pd;

	for (int i = 0; i < 512; i++)
		pt0[i] = ((uint64_t)i << 12) | 3;
	pt0[(uint64_t)user_code >> 12] |= 4;
	for (uint64_t a = (uint64_t)user_stack; a < (uint64_t)user_stack + sizeof(user_stack);
	     a += 4096)
		pt0[a >> 12] |= 4;
	__asm__ volatile("mov %%cr3, %0" : "=r"(pml4));
	pml4[0] |= 4;
	pdpt = (uint64_t *)(pml4[0] & ~0xfffull);
	pdpt[0] |= 4;
	pd = (uint64_t *)(pdpt[0] & ~0xfffull);
	pd[0] = (uint64_t)pt0 | 7;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

static void enter_user(void)
{
	__asm__ volatile("movq %%rsp, kernel_rsp_saved(%%rip)\n"
			 "pushq %0\n pushq %1\n pushq $0x2\n pushq %2\n pushq %3\n iretq"
			 : : "i"(USER_DS), "r"((uint64_t)(user_stack + sizeof(user_stack))),
			     "i"(USER_CS), "r"((uint64_t)user_code) : "memory");
}

void syscall_stayed_in_user_mode(void)
{
	__asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(KERNEL_DS));
	guest_fail(NAME, "syscall %llu reached LSTAR in user mode (#PF there)",
		   (unsigned long long)syscalls + 1);
}

void back_in_kernel(void)
{
	__asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(KERNEL_DS));
	if (syscalls != ROUND_TRIPS)
		guest_fail(NAME, "%llu syscalls came back, want %d",
			   (unsigned long long)syscalls, ROUND_TRIPS);
	if (faults != 1)
		guest_fail(NAME, "%llu user page faults, want 1", (unsigned long long)faults);
	gprintf(NAME ": %d syscalls and a page fault from ring 3\n", ROUND_TRIPS);
	gprintf(NAME ": ok\n");
	guest_exit(GUEST_PASS);
}

/* With SMAP the #PF handler starts as Linux's does, with CLAC. */
static int cpu_has_smap(void)
{
	uint32_t a = 7, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (b >> 20) & 1;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	(void)magic;
	(void)mbi_addr;
	int smap = cpu_has_smap();

	setup_descriptors(smap);
	split_user_pages();
	if (smap)
		__asm__ volatile("mov %%cr4, %%rax; or %0, %%rax; mov %%rax, %%cr4"
				 : : "i"(CR4_SMAP) : "rax");
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, ((uint64_t)USER32_CS << 48) | ((uint64_t)KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x200);
	gprintf(NAME ": entering ring 3\n");
	enter_user();
	guest_fail(NAME, "returned from ring 3");
	return GUEST_FAIL;
}
