/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MSI-X on the first disk: a request's completion must interrupt the CPU
 * through the vector the table names; a masked vector (entry or function
 * mask) must set its pending bit instead and fire once unmasked; a new
 * message data must reach the new vector.  Under KVM vmon delivers these
 * through irqfds, which the test script checks with --stats.
 */
#include "guest.h"
#include "idt.h"
#include "lapic.h"
#include "pci.h"
#include "vtest.h"

#define PCI_CAP_MSIX      0x11
#define MSIX_CTRL_ENABLE  0x8000
#define MSIX_CTRL_MASK    0x4000
#define ENTRY_MASKED      1u
#define CC_Q_SELECT       0x16
#define CC_Q_MSIX         0x1a
#define NO_VECTOR         0xffff
#define VEC_A             0x30
#define VEC_B             0x31
/* PBA reads (an exit each) to wait for an interrupt, and to be sure none comes. */
#define WAIT_READS        400000
#define QUIET_READS       2000

struct msix {
	unsigned slot;
	uint8_t cap;
	uint64_t table, pba;
};

static volatile unsigned hits[2];

static void on_vector(struct idt_frame *f)
{
	hits[f->vector - VEC_A]++;
	lapic_eoi();
}

static void ignore_spurious(struct idt_frame *f)
{
	(void)f;
}

static uint64_t msix_bar_addr(unsigned slot, uint32_t reg)
{
	return pci_bar_addr(slot, reg & 7) + (reg & ~7u);
}

static void entry_write(const struct msix *x, unsigned word, uint32_t v)
{
	mmio_write32(x->table + word * 4u, v);
}

static void function_ctrl(const struct msix *x, uint16_t bits)
{
	uint16_t ctrl = pci_read16(x->slot, x->cap + 2u) & ~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASK);

	pci_write16(x->slot, x->cap + 2u, ctrl | bits);
}

static void set_queue_vector(const struct vdev *d, uint16_t vec)
{
	*(volatile uint16_t *)phys_ptr(d->common + CC_Q_SELECT) = 0;
	*(volatile uint16_t *)phys_ptr(d->common + CC_Q_MSIX) = vec;
	if (*(volatile uint16_t *)phys_ptr(d->common + CC_Q_MSIX) != vec)
		guest_fail(NAME, "%s: queue 0 MSI-X vector does not read back %#x", d->name, vec);
}

static int pba_bit0(const struct msix *x)
{
	return mmio_read32(x->pba) & 1;
}

/* Waits until hits[i] reaches want; fails the guest when it does not. */
static void wait_hits(const struct msix *x, unsigned i, unsigned want, const char *what)
{
	for (unsigned r = 0; r < WAIT_READS && hits[i] < want; r++)
		pba_bit0(x);
	if (hits[i] != want)
		guest_fail(NAME, "msix %s: vector %#x taken %u times, expected %u", what,
			   VEC_A + i, hits[i], want);
}

/* A completion while masked: the pending bit, and no interrupt. */
static void expect_pending(const struct msix *x, struct vdev *d, const char *what)
{
	unsigned before = hits[0] + hits[1];

	blk_alive(d);
	for (unsigned r = 0; r < WAIT_READS && !pba_bit0(x); r++)
		cpu_relax();
	for (unsigned r = 0; r < QUIET_READS; r++)
		pba_bit0(x);
	if (!pba_bit0(x) || hits[0] + hits[1] != before)
		guest_fail(NAME, "msix %s: pending bit %d, %u interrupts while masked", what,
			   pba_bit0(x), hits[0] + hits[1] - before);
}

static void msix_find(struct msix *x, const struct vdev *d)
{
	x->slot = d->slot;
	x->cap = pci_next_cap(d->slot, 0, PCI_CAP_MSIX);
	if (!x->cap)
		guest_fail(NAME, "%s: no MSI-X capability", d->name);
	x->table = msix_bar_addr(d->slot, pci_read32(d->slot, x->cap + 4u));
	x->pba = msix_bar_addr(d->slot, pci_read32(d->slot, x->cap + 8u));
}

void msix_tests(struct vdev *d)
{
	struct msix x;

	msix_find(&x, d);
	lapic_enable();
	idt_set_handler(VEC_A, on_vector);
	idt_set_handler(VEC_B, on_vector);
	idt_set_handler(LAPIC_SPURIOUS_VECTOR, ignore_spurious);
	entry_write(&x, 0, LAPIC_BASE | lapic_id() << 12);
	entry_write(&x, 1, 0);
	entry_write(&x, 2, VEC_A);
	set_queue_vector(d, 0);
	function_ctrl(&x, MSIX_CTRL_ENABLE);
	entry_write(&x, 3, 0);
	__asm__ volatile("sti" ::: "memory");

	blk_alive(d);
	wait_hits(&x, 0, 1, "completion");
	gprintf(NAME ": msix completion interrupt: ok\n");

	entry_write(&x, 3, ENTRY_MASKED);
	expect_pending(&x, d, "entry masked");
	entry_write(&x, 3, 0);
	wait_hits(&x, 0, 2, "entry unmasked");
	if (pba_bit0(&x))
		guest_fail(NAME, "msix: pending bit still set after the interrupt");
	gprintf(NAME ": msix masked entry pends, fires on unmask: ok\n");

	function_ctrl(&x, MSIX_CTRL_ENABLE | MSIX_CTRL_MASK);
	expect_pending(&x, d, "function masked");
	function_ctrl(&x, MSIX_CTRL_ENABLE);
	wait_hits(&x, 0, 3, "function unmasked");
	gprintf(NAME ": msix function mask pends, fires on unmask: ok\n");

	entry_write(&x, 3, ENTRY_MASKED);
	entry_write(&x, 2, VEC_B);
	entry_write(&x, 3, 0);
	blk_alive(d);
	wait_hits(&x, 1, 1, "new vector");
	if (hits[0] != 3)
		guest_fail(NAME, "msix: the old vector fired after the data changed");
	gprintf(NAME ": msix message rewritten: ok\n");

	/* Back to a polled device for the rest of the tests. */
	__asm__ volatile("cli" ::: "memory");
	set_queue_vector(d, NO_VECTOR);
	function_ctrl(&x, 0);
	entry_write(&x, 3, ENTRY_MASKED);
}
