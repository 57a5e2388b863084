/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 64-bit C code after the entry code switched to long mode: reads back
 * CR0, CR4 and EFER, checks that paging, PAE, LME and LMA are on and that
 * the CPU really executes 64-bit instructions.
 */
#include "guest.h"
#include "multiboot.h"

#define NAME "longmode"
#define MSR_EFER 0xc0000080
#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* A shift by 40 survives only in 64-bit registers. */
static int wide_registers_work(void)
{
	volatile uint64_t one = 1;
	uint64_t v = one << 40;

	return (v >> 40) == 1 && (uint32_t)v == 0;
}

/* RIP-relative addressing and a 64-bit push/pop: only in 64-bit mode. */
static int rip_relative_works(void)
{
	static volatile uint64_t marker = 0x0123456789abcdefull;
	uint64_t v;

	__asm__ volatile("pushq %1; popq %0" : "=r"(v) : "m"(marker));
	return v == 0x0123456789abcdefull;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

	(void)mbi_addr;
	if (magic != MB_BOOT_MAGIC)
		guest_fail(NAME, "EAX was %#x, not 0x2badb002", magic);
	if (!(cr0 & CR0_PE) || !(cr0 & CR0_PG) || !(cr4 & CR4_PAE))
		guest_fail(NAME, "cr0=%#llx cr4=%#llx: paging or PAE off",
			   (unsigned long long)cr0, (unsigned long long)cr4);
	if (!(efer & EFER_LME) || !(efer & EFER_LMA))
		guest_fail(NAME, "efer=%#llx: long mode not active", (unsigned long long)efer);
	if (!wide_registers_work() || !rip_relative_works())
		guest_fail(NAME, "64-bit arithmetic or RIP-relative load broken");
	gprintf(NAME ": ok cr0=%#llx cr4=%#llx efer=%#llx\n", (unsigned long long)cr0,
		(unsigned long long)cr4, (unsigned long long)efer);
	return GUEST_PASS;
}
