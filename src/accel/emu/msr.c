/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MSRs: the ones x86_cpu_state keeps in fields (EFER, APIC base, FS/GS
 * base, TSC) or in msrs[]; anything else goes to the environment's hooks.
 */
#include <time.h>

#include "accel/emu/emu_int.h"

#define MSR_IA32_XSS 0xda0
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_BIOS_SIGN_ID 0x8b     /* microcode revision, read after CPUID */
/*
 * emu executes nothing speculatively and has no fill buffers or caches to
 * leak from: RDCL_NO SKIP_L1DFL SSB_NO MDS_NO PSCHANGE_MC_NO TAA_NO
 * SBDR_SSDP_NO FBSDP_NO PSDP_NO BHI_NO PBRSB_NO GDS_NO RFDS_NO.
 */
#define ARCH_CAPS ((1ULL << 0) | (1ULL << 3) | (1ULL << 4) | (1ULL << 5) | (1ULL << 6) | \
		   (1ULL << 8) | (1ULL << 13) | (1ULL << 14) | (1ULL << 15) | (1ULL << 20) | \
		   (1ULL << 24) | (1ULL << 26) | (1ULL << 27))
#define EFER_VALID (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

/* MSRs that live in msrs[] and are created on first write. */
static const uint32_t kept[] = {
	X86_MSR_STAR, X86_MSR_LSTAR, X86_MSR_CSTAR, X86_MSR_SFMASK,
	X86_MSR_KERNEL_GS_BASE, X86_MSR_TSC_AUX, X86_MSR_SYSENTER_CS,
	X86_MSR_SYSENTER_ESP, X86_MSR_SYSENTER_EIP, X86_MSR_IA32_PAT,
	X86_MSR_IA32_MISC_ENABLE, MSR_IA32_XSS,
};

static uint64_t kept_default(uint32_t idx)
{
	if (idx == X86_MSR_IA32_PAT)
		return 0x0007040600070406ULL;
	if (idx == X86_MSR_IA32_MISC_ENABLE)
		return 1;    /* fast strings */
	return 0;
}

static int is_kept(uint32_t idx)
{
	for (unsigned i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (kept[i] == idx)
			return 1;
	return 0;
}

uint64_t *emu_msr_slot(struct emu_cpu *c, uint32_t idx, int create)
{
	struct x86_cpu_state *s = c->s;

	for (uint32_t i = 0; i < s->nmsrs && i < X86_MAX_MSRS; i++)
		if (s->msrs[i].index == idx)
			return &s->msrs[i].value;
	if (!create)
		return NULL;
	if (s->nmsrs >= X86_MAX_MSRS) {
		c->msr_scratch = 0;
		return &c->msr_scratch;
	}
	s->msrs[s->nmsrs] = (struct x86_msr){ idx, kept_default(idx) };
	return &s->msrs[s->nmsrs++].value;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t tsc_read(struct emu_cpu *c)
{
	if (c->env.tsc)
		return c->env.tsc(c->env.opaque);
	if (!c->tsc_ns0)
		c->tsc_ns0 = now_ns();
	/* s->tsc is the value at tsc_ns0; the guest sees a 1 GHz clock. */
	return c->s->tsc + (now_ns() - c->tsc_ns0);
}

int emu_rdmsr(struct emu_cpu *c, uint32_t idx, uint64_t *v)
{
	struct x86_cpu_state *s = c->s;
	uint64_t *slot;

	switch (idx) {
	case X86_MSR_EFER: *v = s->efer; return 0;
	case X86_MSR_IA32_APICBASE: *v = s->apic_base; return 0;
	case X86_MSR_FS_BASE: *v = s->seg[X86_FS].base; return 0;
	case X86_MSR_GS_BASE: *v = s->seg[X86_GS].base; return 0;
	case X86_MSR_IA32_TSC: *v = tsc_read(c); return 0;
	case MSR_IA32_ARCH_CAPABILITIES: *v = ARCH_CAPS; return 0;
	case MSR_IA32_BIOS_SIGN_ID: *v = 0; return 0;     /* no microcode */
	}
	slot = emu_msr_slot(c, idx, 0);
	if (slot) {
		*v = *slot;
		return 0;
	}
	if (c->env.rdmsr && !c->env.rdmsr(c->env.opaque, idx, v))
		return 0;
	if (is_kept(idx)) {
		*v = kept_default(idx);
		return 0;
	}
	return emu_gp(c, 0);
}

/*
 * RDPMC reads a counter CPUID leaf 0xA offers, through the MSR that holds
 * it: ECX[30] selects the fixed-function counters (IA32_FIXED_CTR0 + n,
 * version 2 and later), else the general-purpose ones (IA32_PMC0 + n);
 * other bits set, or an index past the count, is #GP(0), and so is CPL >
 * 0 in protected mode without CR4.PCE.  The value is cut to the counter's
 * width.  emu's own model has no counters (cpuid.c): every RDPMC is #GP.
 */
int emu_rdpmc(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	uint32_t ecx = (uint32_t)s->gpr[X86_RCX], idx = ecx & 0x3fffffff, a[4], count = 0, width = 0;
	uint32_t msr;
	uint64_t v;

	if (emu_protected(c) && emu_cpl(c) && !(s->cr4 & X86_CR4_PCE))
		return emu_gp(c, 0);
	emu_cpuid_model(c, 0, 0, a);
	if (a[0] >= 0xa) {
		emu_cpuid_model(c, 0xa, 0, a);
		if ((ecx & 0x40000000) && (a[0] & 0xff) >= 2) {
			count = a[3] & 0x1f;
			width = (a[3] >> 5) & 0xff;
		} else if (!(ecx & 0x40000000) && (a[0] & 0xff)) {
			count = (a[0] >> 8) & 0xff;
			width = (a[0] >> 16) & 0xff;
		}
	}
	if ((ecx >> 31) || idx >= count)
		return emu_gp(c, 0);
	msr = (ecx & 0x40000000) ? 0x309 + idx : 0xc1 + idx;
	if (emu_rdmsr(c, msr, &v))
		return -1;
	if (width < 64)
		v &= (1ULL << width) - 1;
	s->gpr[X86_RAX] = (uint32_t)v;
	s->gpr[X86_RDX] = (uint32_t)(v >> 32);
	return 0;
}

static int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static int write_efer(struct emu_cpu *c, uint64_t v)
{
	struct x86_cpu_state *s = c->s;

	if (v & ~EFER_VALID)
		return emu_gp(c, 0);
	/* LME cannot change while paging is on; LMA is the CPU's. */
	if ((s->cr0 & X86_CR0_PG) && ((v ^ s->efer) & X86_EFER_LME))
		return emu_gp(c, 0);
	s->efer = (v & ~X86_EFER_LMA) | (s->efer & X86_EFER_LMA);
	emu_tlb_flush(c);
	return 0;
}

int emu_wrmsr(struct emu_cpu *c, uint32_t idx, uint64_t v)
{
	struct x86_cpu_state *s = c->s;
	uint64_t *slot;

	switch (idx) {
	case X86_MSR_EFER:
		return write_efer(c, v);
	case X86_MSR_IA32_APICBASE:
		s->apic_base = v;
		return 0;
	case X86_MSR_FS_BASE:
	case X86_MSR_GS_BASE:
	case X86_MSR_KERNEL_GS_BASE:
	case X86_MSR_LSTAR:
	case X86_MSR_CSTAR:
	case X86_MSR_SYSENTER_ESP:
	case X86_MSR_SYSENTER_EIP:
		if (!canonical(v))
			return emu_gp(c, 0);
		if (idx == X86_MSR_FS_BASE || idx == X86_MSR_GS_BASE) {
			s->seg[idx == X86_MSR_FS_BASE ? X86_FS : X86_GS].base = v;
			return 0;
		}
		break;
	case X86_MSR_IA32_TSC:
		s->tsc = v;
		c->tsc_ns0 = now_ns();
		return 0;
	case MSR_IA32_BIOS_SIGN_ID:
		return 0;
	case MSR_IA32_XSS:
		if (v)    /* no supervisor state components in this model */
			return emu_gp(c, 0);
		break;
	}
	/* A kept MSR the hook refuses (emu's LAPIC hook) is created here. */
	slot = emu_msr_slot(c, idx, 0);
	if (!slot && c->env.wrmsr && !c->env.wrmsr(c->env.opaque, idx, v))
		return 0;
	if (!slot && !is_kept(idx))
		return emu_gp(c, 0);
	*emu_msr_slot(c, idx, 1) = v;
	return 0;
}
