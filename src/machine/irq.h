/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_IRQ_H
#define VMON_MACHINE_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * How devices interrupt the guest, whoever models the interrupt controllers
 * (KVM's in-kernel irqchip, or vmon's own under the software CPU).
 * GSIs 0-15 are the ISA IRQs, routed to the PIC and the IOAPIC; 16-23 are
 * further IOAPIC pins (PCI INTx).
 */
struct irq_msi;

struct irq_chip {
	void (*set_level)(struct irq_chip *chip, unsigned gsi, int level);
	void (*send_msi)(struct irq_chip *chip, uint64_t addr, uint32_t data);
	/*
	 * Optional fast path for MSI sources (KVM: a GSI route and an irqfd).
	 * msi_bind makes the binding follow src's message and armed state;
	 * -1 when it cannot, and the source falls back to send_msi.
	 * msi_signal delivers through a binding msi_bind accepted while armed;
	 * msi_unbind releases it.  NULL hooks: every MSI goes to send_msi.
	 */
	int (*msi_bind)(struct irq_chip *chip, struct irq_msi *src);
	void (*msi_signal)(struct irq_chip *chip, struct irq_msi *src);
	void (*msi_unbind)(struct irq_chip *chip, struct irq_msi *src);
};

struct irq_line {
	struct irq_chip *chip;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *line, int level)
{
	if (line->chip)
		line->chip->set_level(line->chip, line->gsi, level);
}

/*
 * A GSI several devices share, wired-OR as on a real bus: up while any of
 * its drivers (up to 32) holds it up, so one device lowering its pin does
 * not hide another's interrupt.  It is an irq_chip whose "GSIs" are the
 * drivers: irq_shared_line() gives driver n its line.
 */
struct irq_shared {
	struct irq_chip chip;
	pthread_mutex_t lock;
	struct irq_chip *parent;
	unsigned gsi;
	uint32_t up;       /* drivers holding the line up, a bit each */
};

void irq_shared_init(struct irq_shared *s, struct irq_chip *parent, unsigned gsi);
void irq_shared_destroy(struct irq_shared *s);

static inline struct irq_line irq_shared_line(struct irq_shared *s, unsigned driver)
{
	return (struct irq_line){ &s->chip, driver };
}

/*
 * One MSI a device raises (an MSI-X vector): its message as the guest
 * programmed it, and whether it may fire now (enabled and unmasked).  The
 * owner serialises calls on one source (the MSI-X lock does).
 */
struct irq_msi {
	struct irq_chip *chip;
	uint64_t addr;
	uint32_t data;
	bool armed;
	bool slow;         /* the chip's fast path refused: send_msi */
	void *binding;     /* the chip's, made by msi_bind; NULL while none */
};

void irq_msi_init(struct irq_msi *src, struct irq_chip *chip);
/* The guest rewrote the message or the masking; cheap when nothing changed. */
void irq_msi_update(struct irq_msi *src, uint64_t addr, uint32_t data, bool armed);
/* Raises the message; the caller keeps masked sources pending instead. */
void irq_msi_fire(struct irq_msi *src);
void irq_msi_release(struct irq_msi *src);

#endif
