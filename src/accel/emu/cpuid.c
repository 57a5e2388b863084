/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPUID model of the software CPU when the environment gives none.  It
 * advertises only what emu executes: no AVX, no x87 beyond FXSAVE state.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define XCR0_SUPPORTED 0x3ULL    /* x87 | SSE */

/*
 * "GenuineIntel", as QEMU's TCG models do with Intel CPU types.  An unknown
 * vendor would be truthful, but glibc (2.36) then never reads leaf 1, finds
 * no SSE2, and refuses to start any program ("CPU ISA level is lower than
 * required"); Linux warns that the system may be unstable.
 */
static void vendor(uint32_t out[4])
{
	memcpy(&out[1], "Genu", 4);
	memcpy(&out[3], "ineI", 4);
	memcpy(&out[2], "ntel", 4);
}

/* The LAPIC ID, from the xAPIC register page the accelerator keeps current. */
static uint32_t apic_id(const struct emu_cpu *c)
{
	uint32_t id;

	memcpy(&id, &c->s->lapic[0x20], 4);
	return id >> 24;
}

static void leaf_1(struct emu_cpu *c, uint32_t out[4])
{
	out[0] = 0x000606a0;     /* family 6 */
	out[1] = 0x00000800 | apic_id(c) << 24;     /* CLFLUSH line 64, APIC ID */
	/* SSE3 PCLMULQDQ SSSE3 CX16 SSE4.1 SSE4.2 x2APIC MOVBE POPCNT TSC-deadline AES
	 * XSAVE RDRAND HV */
	out[2] = (1u << 0) | (1u << 1) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) |
		 (1u << 21) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26) |
		 (1u << 30) | (1u << 31);
	if (c->s->cr4 & X86_CR4_OSXSAVE)
		out[2] |= 1u << 27;
	out[3] = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
		 (1u << 9) | (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) |
		 (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);
	/* FPU TSC MSR PAE CX8 APIC SEP PGE CMOV PAT CLFSH MMX FXSR SSE SSE2 (and DE PSE):
	 * glibc refuses to run on an x86-64 without MMX ("ISA level is lower"). */
	out[3] |= (1u << 2) | (1u << 3);
	out[3] |= 1u << 1;      /* VME, with PVI: virtual interrupt flags, INT redirection */
}

/* Topology: one thread per core, up to 64 cores in the package. */
static void leaf_b(struct emu_cpu *c, uint32_t sub, uint32_t out[4])
{
	out[3] = apic_id(c);
	out[2] = sub & 0xff;
	if (sub == 0) {
		out[1] = 1;
		out[2] |= 1u << 8;          /* SMT level: x2APIC ID shift 0 */
	} else if (sub == 1) {
		out[0] = 6;
		out[1] = 64;
		out[2] |= 2u << 8;          /* core level */
	}
}

static void leaf_d(struct emu_cpu *c, uint32_t sub, uint32_t out[4])
{
	memset(out, 0, 16);
	if (sub == 0) {
		out[0] = XCR0_SUPPORTED;
		out[1] = 512 + 64;        /* size for the XCR0 enabled now */
		out[2] = 512 + 64;
		(void)c;
	} else if (sub == 1) {
		out[0] = (1u << 0) | (1u << 1) | (1u << 3);   /* XSAVEOPT XSAVEC XSAVES */
		out[1] = 512 + 64;
	}
}

void emu_cpuid_model(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	if (c->env.cpuid) {
		c->env.cpuid(c->env.opaque, leaf, sub, out);
		return;
	}
	memset(out, 0, 16);
	switch (leaf) {
	case 0:
		out[0] = 0xd;
		vendor(out);
		break;
	case 1:
		leaf_1(c, out);
		break;
	case 6:
		out[0] = 1u << 2;     /* ARAT: the LAPIC timer never stops (no C-states) */
		break;
	case 0xa:
		/* Architectural performance monitoring version 0: no counters,
		 * so RDPMC is #GP(0) for every index (emu_rdpmc). */
		break;
	case 7:
		if (sub == 0) {
			/* SMEP, FCS/FDS deprecated (zero in FNSTENV), RDSEED, SMAP,
			 * CLFLUSHOPT, CLWB, SHA */
			out[1] = (1u << 7) | (1u << 13) | (1u << 18) | (1u << 20) | (1u << 23) |
				 (1u << 24) | (1u << 29);
			out[2] = 1u << 22;                 /* RDPID */
			out[3] = 1u << 29;                 /* IA32_ARCH_CAPABILITIES */
		}
		break;
	case 0xb:
		leaf_b(c, sub, out);
		break;
	case 0xd:
		leaf_d(c, sub, out);
		break;
	case 0x80000000:
		out[0] = 0x80000008;
		break;
	case 0x80000001:
		out[2] = (1u << 0) | (1u << 5);          /* LAHF_LM ABM(LZCNT) */
		out[3] = (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29); /* SYSCALL NX RDTSCP LM */
		break;
	case 0x80000008:
		out[0] = 0x3028;                         /* 40-bit physical, 48-bit linear */
		break;
	}
}
