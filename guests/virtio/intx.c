/* SPDX-License-Identifier: Apache-2.0 */
/*
 * INTx on the first disk (MSI-X off), through the IOAPIC pin its config
 * space names, level-triggered: a completion interrupts; a handler that
 * ends the interrupt without reading ISR leaves the line up, so the
 * interrupt must come again (under KVM with resampling irqfds, vmon raises
 * the line again when KVM says the EOI happened); one that reads ISR
 * lowers it, and no more come but a few spurious ones.
 */
#include "acpi.h"
#include "guest.h"
#include "idt.h"
#include "lapic.h"
#include "pci.h"
#include "vtest.h"

#define VEC_INTX        0x32
#define PCI_INT_LINE    0x3c
#define IOAPIC_DEFAULT  0xfec00000u
#define RTE_LEVEL       (1u << 15)
#define RTE_ACTIVE_LOW  (1u << 13)      /* as ACPI has it for PCI INTx */
#define RTE_MASKED      (1u << 16)
#define WAIT_READS      400000
#define QUIET_READS     2000
#define SPARE           3               /* interrupts that find ISR 0 */

static volatile unsigned hits, isr_bits, leave_next;
static uint64_t isr_addr;

static void on_intx(struct idt_frame *f)
{
	(void)f;
	hits++;
	if (leave_next)
		leave_next = 0;         /* the line stays up */
	else
		isr_bits |= *(volatile uint8_t *)phys_ptr(isr_addr);
	lapic_eoi();
}

static void ioapic_write(uint32_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base, reg);
	mmio_write32(base + 0x10, v);
}

static void ioapic_route(uint32_t base, uint32_t gsi, uint32_t low)
{
	ioapic_write(base, 0x10 + 2 * gsi + 1, lapic_id() << 24);
	ioapic_write(base, 0x10 + 2 * gsi, low);
}

/* Waits, an exit at a time, until hits reaches want or reads run out. */
static void wait_hits(const struct vdev *d, unsigned want, unsigned reads)
{
	for (unsigned r = 0; r < reads && hits < want; r++)
		(void)mmio_read32(d->common);
}

void intx_tests(struct vdev *d)
{
	const struct acpi_sdt *madt = acpi_find_table("APIC");
	uint32_t base = madt ? acpi_madt_ioapic(madt) : 0;
	uint32_t gsi = pci_read8(d->slot, PCI_INT_LINE);

	if (!base)
		base = IOAPIC_DEFAULT;
	if (gsi < 16 || gsi > 23)
		guest_fail(NAME, "%s: INTx line %u, expected an IOAPIC pin 16-23", d->name, gsi);
	isr_addr = d->isr;
	(void)*(volatile uint8_t *)phys_ptr(isr_addr);     /* down before we listen */
	idt_set_handler(VEC_INTX, on_intx);
	ioapic_route(base, gsi, VEC_INTX | RTE_LEVEL | RTE_ACTIVE_LOW);
	__asm__ volatile("sti" ::: "memory");
	/* Anything left over from the polled tests comes (and goes) now. */
	wait_hits(d, ~0u, QUIET_READS);
	hits = isr_bits = 0;

	/*
	 * A level line may interrupt more than needed: under KVM a raise can
	 * reach the IOAPIC after the EOI it was meant for (KVM injects
	 * resampling irqfds from a work queue, and vmon answers resamples on a
	 * thread of its own), and the handler then finds ISR 0.  A few spare
	 * interrupts are allowed; a storm, or none where one is owed, is not.
	 */
	leave_next = 1;
	blk_alive(d);
	wait_hits(d, 2, WAIT_READS);
	if (hits < 2 || !(isr_bits & 1))
		guest_fail(NAME, "intx: %u interrupts (ISR %#x); a line left up at the EOI must "
			   "interrupt again", hits, isr_bits);
	wait_hits(d, ~0u, QUIET_READS);
	if (hits > 2 + SPARE)
		guest_fail(NAME, "intx: %u interrupts after ISR was read, expected 2", hits);
	gprintf(NAME ": intx: line left up at the EOI interrupts again: ok (%u interrupts)\n",
		hits);

	hits = isr_bits = 0;
	blk_alive(d);
	wait_hits(d, 1, WAIT_READS);
	wait_hits(d, ~0u, QUIET_READS);
	if (!hits || hits > 1 + SPARE || !(isr_bits & 1))
		guest_fail(NAME, "intx: %u interrupts for one completion (ISR %#x)", hits, isr_bits);
	gprintf(NAME ": intx: a completion interrupts, reading ISR ends it: ok (%u interrupts)\n",
		hits);

	__asm__ volatile("cli" ::: "memory");
	ioapic_route(base, gsi, VEC_INTX | RTE_LEVEL | RTE_MASKED);
	(void)*(volatile uint8_t *)phys_ptr(isr_addr);
}
