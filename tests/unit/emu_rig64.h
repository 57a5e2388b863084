/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_EMU_RIG64_H
#define VMON_TESTS_EMU_RIG64_H

/*
 * A software CPU in 64-bit long mode for unit tests: guest RAM with page
 * tables identity-mapping 0-2 MiB (4K pages, user, writable), a GDT with
 * kernel and user segments, an IDT and a TSS, RIP at CODE.
 */
#include <string.h>

#include "accel/emu/emu_int.h"
#include "machine/memory.h"

#define PML4 0x1000
#define PDPT 0x2000
#define PD   0x3000
#define PT   0x4000
#define GDT  0x5000
#define IDT  0x6000
#define TSS  0x7000
#define CODE 0x10000
#define HANDLER 0x20000
#define STACK 0x30000
#define RSP0 0x40000
#define IST1 0x48000
#define DATA 0x50000

static struct guest_mem mem;
static struct x86_cpu_state st;
static struct emu_cpu *cpu;

static inline void w64(uint64_t gpa, uint64_t v)
{
	guest_mem_write(&mem, gpa, &v, 8);
}

static inline uint64_t r64(uint64_t gpa)
{
	uint64_t v = 0;

	guest_mem_read(&mem, gpa, &v, 8);
	return v;
}

static inline void put(uint64_t gpa, const char *bytes, size_t n)
{
	guest_mem_write(&mem, gpa, bytes, n);
}

static inline uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned type, unsigned s,
				unsigned dpl, unsigned l, unsigned db, unsigned g)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)type << 40) |
	       ((uint64_t)s << 44) | ((uint64_t)dpl << 45) | (1ULL << 47) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)l << 53) |
	       ((uint64_t)db << 54) | ((uint64_t)g << 55) | ((uint64_t)(base >> 24) << 56);
}

static inline void idt_gate(int vec, uint64_t target, unsigned dpl, unsigned ist)
{
	uint64_t lo = (target & 0xffff) | (0x08ULL << 16) | ((uint64_t)ist << 32) |
		      (0xeULL << 40) | ((uint64_t)dpl << 45) | (1ULL << 47) |
		      ((target >> 16) & 0xffff) << 48;

	w64(IDT + vec * 16, lo);
	w64(IDT + vec * 16 + 8, target >> 32);
}

/* 64-bit long mode, identity mapped 0-2 MiB with 4K pages (user, writable). */
static inline void setup64(void)
{
	struct emu_env env = { .mem = &mem };

	if (!mem.base)
		guest_mem_init(&mem, 4 << 20);
	memset(mem.base, 0, mem.size);
	w64(PML4, PDPT | 7);
	w64(PDPT, PD | 7);
	w64(PD, PT | 7);
	for (int i = 0; i < 512; i++)
		w64(PT + i * 8, (uint64_t)i << 12 | 7);
	w64(GDT + 0x08, seg_desc(0, 0xfffff, 0xb, 1, 0, 1, 0, 1));
	w64(GDT + 0x10, seg_desc(0, 0xfffff, 0x3, 1, 0, 0, 1, 1));
	w64(GDT + 0x18, seg_desc(0, 0xfffff, 0x3, 1, 3, 0, 1, 1));   /* user data 0x1b */
	w64(GDT + 0x20, seg_desc(0, 0xfffff, 0xb, 1, 3, 1, 0, 1));   /* user code 0x23 */
	w64(GDT + 0x28, seg_desc(TSS, 0x67, 0x9, 0, 0, 0, 0, 0));
	w64(GDT + 0x30, 0);
	w64(TSS + 4, RSP0);
	w64(TSS + 36, IST1);

	x86_cpu_state_reset(&st, 1);
	st.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_WP;
	st.cr3 = PML4;
	st.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXSAVE;
	st.efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE | X86_EFER_SCE;
	for (int i = 0; i < 6; i++)
		x86_seg_flat(&st.seg[i], 0x10, 0, 64);
	x86_seg_flat(&st.seg[X86_CS], 0x08, 1, 64);
	st.seg[X86_SS].db = 1;
	emu_desc_to_seg(seg_desc(TSS, 0x67, 0xb, 0, 0, 0, 0, 0), 0, 0x28, &st.seg[X86_TR], 1);
	st.gdt = (struct x86_dtable){ GDT, 0x37 };
	st.idt = (struct x86_dtable){ IDT, 256 * 16 - 1 };
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	st.rflags = X86_RFLAGS_FIXED;
	st.xcr0 = 3;
	if (cpu)
		emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
}

#endif
