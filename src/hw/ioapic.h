/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_IOAPIC_H
#define VMON_HW_IOAPIC_H

#include <stdint.h>

#include "hw/lapic.h"
#include "machine/bus.h"

/*
 * An 82093AA-style I/O APIC (version 0x11) with 24 pins at base on the MMIO
 * bus: IOREGSEL at +0x00, IOWIN at +0x10.  Edge pins deliver on a rising
 * edge; level pins deliver while asserted and set Remote IRR until the
 * LAPIC broadcasts the vector's EOI (ioapic_eoi).  Messages go to the
 * LAPICs on lapics.  Pin levels are "asserted", whatever the polarity bit
 * says, as KVM's IOAPIC treats them.
 */
#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_PINS 24

struct ioapic;

/* NULL after one error line. */
struct ioapic *ioapic_new(struct bus *mmio, uint64_t base, struct lapic_bus *lapics);
void ioapic_free(struct ioapic *io);
/* Any thread: the level of one input pin. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
/* The EOI broadcast for vector (lapic_bus_set_eoi_hook's shape). */
void ioapic_eoi(void *io, uint8_t vector);

struct snap_out;
struct snap_in;
/* Section "ioapic": selector, ID, pin levels, redirection table.  Load fires
 * asserted level pins not in service; -1 with the error recorded in in. */
void ioapic_save(struct ioapic *io, struct snap_out *o);
int ioapic_load(struct ioapic *io, struct snap_in *in);

#endif
