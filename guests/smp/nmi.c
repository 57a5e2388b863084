/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NMIs against the MOV SS interrupt shadow: the BSP loads SS over and over
 * while an AP sends it NMIs, one at a time, each once the last was taken.
 * None may be delivered between a MOV SS and the instruction after it
 * (SDM vol. 3 6.8.3: the shadow blocks NMIs too), so no NMI frame may
 * return to that instruction.
 */
#include "guest.h"
#include "idt.h"
#include "lapic.h"
#include "smp.h"

#define NMIS         50
#define ICR_NMI      0x00000400u
#define NMI_CYCLES   2000000000ull       /* give up on one NMI after this */

extern const char nmi_shadowed[];

static volatile uint32_t go, done, taken, in_shadow, lost;

static void on_nmi(struct idt_frame *f)
{
	if (f->eip == (uint32_t)nmi_shadowed)
		in_shadow++;
	taken++;
}

void nmi_shadow_sender(uint32_t bsp_apic_id)
{
	while (!go)
		cpu_relax();
	for (uint32_t i = 0; i < NMIS && !lost; i++) {
		uint64_t t0 = rdtsc();

		if (lapic_send_ipi(bsp_apic_id, ICR_NMI))
			lost = 1;
		while (taken <= i && !lost)
			if (rdtsc() - t0 > NMI_CYCLES)
				lost = 1;
	}
	done = 1;
}

/* noinline: the label must exist once. */
static __attribute__((noinline)) void load_ss_until_done(void)
{
	__asm__ volatile("1:	movw %%ss, %%ax\n"
			 "	movw %%ax, %%ss\n"
			 "	.globl nmi_shadowed\n"
			 "nmi_shadowed:\n"
			 "	nop\n"
			 "	cmpl $0, %0\n"
			 "	je 1b\n"
			 : : "m"(done) : "eax", "memory");
}

void nmi_shadow_test(void)
{
	idt_set_handler(2, on_nmi);
	go = 1;
	load_ss_until_done();
	if (lost)
		guest_fail(NAME, "NMI %u of %u never came", taken + 1, NMIS);
	if (in_shadow)
		guest_fail(NAME, "%u of %u NMIs came inside a MOV SS shadow", in_shadow, taken);
	gprintf(NAME ": %u NMIs, none inside a MOV SS shadow\n", taken);
}
