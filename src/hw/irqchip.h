/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_IRQCHIP_H
#define VMON_HW_IRQCHIP_H

#include <stdatomic.h>
#include <stdint.h>

#include "hw/ioapic.h"
#include "hw/lapic.h"
#include "hw/pic.h"
#include "machine/irq.h"

/*
 * The interrupt router of the user-space irqchip: a PC's wiring, the same
 * as the KVM backend's routing table.  ISA IRQs (GSI 0-15) reach both the
 * 8259 and the IOAPIC, except that GSI 0 (the PIT) is IOAPIC pin 2 and GSI
 * 2 (the cascade) reaches neither; GSIs 16-23 are IOAPIC pins only.  MSIs
 * go to the LAPICs.
 */
struct irqchip {
	struct irq_chip chip;      /* what devices get: &irqchip->chip */
	struct pic *pic;
	struct ioapic *ioapic;
	struct lapic_bus *lapics;
	_Atomic uint32_t levels;   /* GSI line levels as the devices drive them */
};

/* NULL on ENOMEM. */
struct irqchip *irqchip_new(struct pic *pic, struct ioapic *ioapic, struct lapic_bus *lapics);
void irqchip_free(struct irqchip *ic);

struct snap_out;
struct snap_in;
/*
 * Section "irqchip": the line levels.  They are the wires' record only: the
 * PIC and IOAPIC restore their own inputs, and devices re-drive their lines
 * after this (a level already up is no new edge).  -1 with the error in in.
 */
void irqchip_save(struct irqchip *ic, struct snap_out *o);
int irqchip_load(struct irqchip *ic, struct snap_in *in);

#endif
