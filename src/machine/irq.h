/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_IRQ_H
#define VMON_MACHINE_IRQ_H

#include <stdint.h>

/*
 * How devices interrupt the guest, whoever models the interrupt controllers
 * (KVM's in-kernel irqchip, or vmon's own under the software CPU).
 * GSIs 0-15 are the ISA IRQs, routed to the PIC and the IOAPIC; 16-23 are
 * further IOAPIC pins (PCI INTx).
 */
struct irq_chip {
	void (*set_level)(struct irq_chip *chip, unsigned gsi, int level);
	void (*send_msi)(struct irq_chip *chip, uint64_t addr, uint32_t data);
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

#endif
