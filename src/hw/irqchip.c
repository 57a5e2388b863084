/* SPDX-License-Identifier: Apache-2.0 */
/* GSI routing to the 8259 and the IOAPIC, MSIs to the LAPICs. */
#include "hw/irqchip.h"

#include <stddef.h>
#include <stdlib.h>

#include "snapshot/snap.h"

#define ISA_IRQS 16
#define PIT_GSI 0
#define PIT_IOAPIC_PIN 2
#define CASCADE_IRQ 2

static struct irqchip *irqchip_of(struct irq_chip *chip)
{
	return (struct irqchip *)((char *)chip - offsetof(struct irqchip, chip));
}

static void irqchip_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct irqchip *ic = irqchip_of(chip);

	if (gsi == CASCADE_IRQ || gsi >= IOAPIC_PINS)
		return;
	if (level)
		atomic_fetch_or(&ic->levels, 1u << gsi);
	else
		atomic_fetch_and(&ic->levels, ~(1u << gsi));
	if (gsi < ISA_IRQS && ic->pic)
		pic_set_irq(ic->pic, gsi, level);
	if (ic->ioapic)
		ioapic_set_irq(ic->ioapic, gsi == PIT_GSI ? PIT_IOAPIC_PIN : gsi, level);
}

static void irqchip_send_msi(struct irq_chip *chip, uint64_t addr, uint32_t data)
{
	lapic_bus_msi(irqchip_of(chip)->lapics, addr, data);
}

struct irqchip *irqchip_new(struct pic *pic, struct ioapic *ioapic, struct lapic_bus *lapics)
{
	struct irqchip *ic = calloc(1, sizeof(*ic));

	if (!ic)
		return NULL;
	ic->chip.set_level = irqchip_set_level;
	ic->chip.send_msi = irqchip_send_msi;
	ic->pic = pic;
	ic->ioapic = ioapic;
	ic->lapics = lapics;
	return ic;
}

void irqchip_save(struct irqchip *ic, struct snap_out *o)
{
	snap_begin(o, "irqchip", 0, 1);
	snap_put_u32(o, "levels", atomic_load(&ic->levels));
}

int irqchip_load(struct irqchip *ic, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "irqchip", 0, 1, NULL);
	uint32_t levels;

	if (!sec || snap_get_u32(sec, "levels", &levels))
		return -1;
	if (levels >> IOAPIC_PINS || (levels & (1u << CASCADE_IRQ)))
		return snap_fail(sec, "levels %#x name lines that do not exist", levels);
	atomic_store(&ic->levels, levels);
	return 0;
}

void irqchip_free(struct irqchip *ic)
{
	free(ic);
}
