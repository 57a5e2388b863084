/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_CPU_STATE_H
#define VMON_ARCH_X86_CPU_STATE_H

#include <stdint.h>

/*
 * The architectural state of one x86-64 vCPU, independent of who runs it.
 * Both accelerators fill and consume this; loaders describe the boot state
 * in it; snapshots, migration and the gdbstub read it.
 */

/* General registers in encoding order (ModRM reg/rm with REX). */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_NR_GPRS
};

/* Segment registers in encoding order, then the system segments. */
enum x86_seg {
	X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_TR, X86_LDTR,
	X86_NR_SEGS
};

struct x86_segment {
	uint64_t base;
	uint32_t limit;     /* byte granular, as expanded by the G bit */
	uint16_t selector;
	uint8_t type;       /* 4-bit type field */
	uint8_t s, dpl, present, avl, l, db, g;
	uint8_t unusable;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

#define X86_MAX_MSRS 64
#define X86_XSAVE_SIZE 4096
#define X86_LAPIC_SIZE 1024

struct x86_msr {
	uint32_t index;
	uint64_t value;
};

/* Events not yet delivered; mirrors what both accelerators must keep. */
struct x86_events {
	uint8_t exception_injected, exception_nr, exception_has_error;
	uint32_t exception_error;
	uint8_t interrupt_injected, interrupt_nr, interrupt_soft;
	uint8_t nmi_injected, nmi_pending, nmi_masked;
	uint8_t interrupt_shadow;
	uint32_t sipi_vector;
};

enum x86_mp_state {
	X86_MP_RUNNABLE, X86_MP_UNINITIALIZED, X86_MP_INIT_RECEIVED,
	X86_MP_HALTED, X86_MP_SIPI_RECEIVED,
};

struct x86_cpu_state {
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rip, rflags;
	struct x86_segment seg[X86_NR_SEGS];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer, apic_base;
	uint64_t xcr0;
	uint64_t dr[8];               /* dr4/dr5 unused */
	uint64_t tsc;
	uint32_t nmsrs;
	struct x86_msr msrs[X86_MAX_MSRS];
	/* XSAVE layout: legacy FXSAVE region, header, then extended states. */
	uint8_t xsave[X86_XSAVE_SIZE] __attribute__((aligned(64)));
	uint8_t lapic[X86_LAPIC_SIZE];    /* the xAPIC register page */
	struct x86_events events;
	uint32_t mp_state;            /* enum x86_mp_state */
};

/* Architectural constants both accelerators and the loaders use. */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_MP (1ULL << 1)
#define X86_CR0_EM (1ULL << 2)
#define X86_CR0_TS (1ULL << 3)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_NE (1ULL << 5)
#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_AM (1ULL << 18)
#define X86_CR0_NW (1ULL << 29)
#define X86_CR0_CD (1ULL << 30)
#define X86_CR0_PG (1ULL << 31)

#define X86_CR4_VME (1ULL << 0)
#define X86_CR4_PVI (1ULL << 1)
#define X86_CR4_TSD (1ULL << 2)
#define X86_CR4_DE  (1ULL << 3)
#define X86_CR4_PSE (1ULL << 4)
#define X86_CR4_PAE (1ULL << 5)
#define X86_CR4_MCE (1ULL << 6)
#define X86_CR4_PGE (1ULL << 7)
#define X86_CR4_PCE (1ULL << 8)
#define X86_CR4_OSFXSR (1ULL << 9)
#define X86_CR4_OSXMMEXCPT (1ULL << 10)
#define X86_CR4_UMIP (1ULL << 11)
#define X86_CR4_LA57 (1ULL << 12)
#define X86_CR4_FSGSBASE (1ULL << 16)
#define X86_CR4_PCIDE (1ULL << 17)
#define X86_CR4_OSXSAVE (1ULL << 18)
#define X86_CR4_SMEP (1ULL << 20)
#define X86_CR4_SMAP (1ULL << 21)
#define X86_CR4_PKE (1ULL << 22)

#define X86_EFER_SCE (1ULL << 0)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)
#define X86_EFER_NXE (1ULL << 11)

#define X86_RFLAGS_CF (1ULL << 0)
#define X86_RFLAGS_FIXED (1ULL << 1)
#define X86_RFLAGS_PF (1ULL << 2)
#define X86_RFLAGS_AF (1ULL << 4)
#define X86_RFLAGS_ZF (1ULL << 6)
#define X86_RFLAGS_SF (1ULL << 7)
#define X86_RFLAGS_TF (1ULL << 8)
#define X86_RFLAGS_IF (1ULL << 9)
#define X86_RFLAGS_DF (1ULL << 10)
#define X86_RFLAGS_OF (1ULL << 11)
#define X86_RFLAGS_IOPL (3ULL << 12)
#define X86_RFLAGS_NT (1ULL << 14)
#define X86_RFLAGS_RF (1ULL << 16)
#define X86_RFLAGS_VM (1ULL << 17)
#define X86_RFLAGS_AC (1ULL << 18)
#define X86_RFLAGS_VIF (1ULL << 19)
#define X86_RFLAGS_VIP (1ULL << 20)
#define X86_RFLAGS_ID (1ULL << 21)

#define X86_MSR_IA32_APICBASE 0x1b
#define X86_MSR_EFER          0xc0000080
#define X86_MSR_STAR          0xc0000081
#define X86_MSR_LSTAR         0xc0000082
#define X86_MSR_CSTAR         0xc0000083
#define X86_MSR_SFMASK        0xc0000084
#define X86_MSR_FS_BASE       0xc0000100
#define X86_MSR_GS_BASE       0xc0000101
#define X86_MSR_KERNEL_GS_BASE 0xc0000102
#define X86_MSR_TSC_AUX       0xc0000103
#define X86_MSR_IA32_TSC      0x10
#define X86_MSR_SYSENTER_CS   0x174
#define X86_MSR_SYSENTER_ESP  0x175
#define X86_MSR_SYSENTER_EIP  0x176
#define X86_MSR_IA32_MISC_ENABLE 0x1a0
#define X86_MSR_IA32_PAT      0x277

#define X86_APIC_DEFAULT_BASE 0xfee00000ULL
#define X86_APIC_BASE_BSP     (1ULL << 8)
#define X86_APIC_BASE_ENABLE  (1ULL << 11)

/* Fills s with the architectural state after RESET/INIT (real mode at
 * F000:FFF0).  bsp selects the BSP flag in IA32_APIC_BASE. */
void x86_cpu_state_reset(struct x86_cpu_state *s, int bsp);

/* Sets a segment to a flat code or data descriptor for the given mode. */
void x86_seg_flat(struct x86_segment *seg, uint16_t selector, int code, int bits);
/* Sets a segment as real mode loads it from a selector. */
void x86_seg_real(struct x86_segment *seg, uint16_t selector, int code);

/* The register dump of an unhandled exit: error lines on stderr. */
void x86_cpu_state_log(const struct x86_cpu_state *s);
/* "code at rip: xx xx ..." for up to 16 bytes (n <= 0: unavailable). */
void x86_code_log(const uint8_t *bytes, int n);

#endif
