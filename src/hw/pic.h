/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_PIC_H
#define VMON_HW_PIC_H

#include <stdint.h>

#include "machine/bus.h"

/*
 * The two cascaded 8259A PICs of a PC: master at 0x20/0x21 (slave on IRQ2),
 * slave at 0xa0/0xa1, and the edge/level control registers (ELCR) at
 * 0x4d0/0x4d1.  ICW1-4, OCW1-3 (specific and non-specific EOI, rotation,
 * priority, special mask, IRR/ISR read, poll), auto-EOI and special fully
 * nested mode.  notify is called (no lock held) whenever the INTR output may
 * have risen; the CPU then takes the vector with pic_ack.
 */
struct pic;

/* NULL after one error line. */
struct pic *pic_new(struct bus *pio, void (*notify)(void *opaque), void *opaque);
void pic_free(struct pic *p);
/* Any thread: the level of ISA IRQ 0-15 (edge or level per the ELCR). */
void pic_set_irq(struct pic *p, unsigned irq, int level);
/* Whether INTR is asserted. */
int pic_has_interrupt(struct pic *p);
/* The interrupt acknowledge cycle: the vector (spurious IRQ7/15 if none). */
uint8_t pic_ack(struct pic *p);

struct snap_out;
struct snap_in;
/* Section "pic": both chips.  Load raises INTR if the state holds it up; -1
 * with the error recorded in in. */
void pic_save(struct pic *p, struct snap_out *o);
int pic_load(struct pic *p, struct snap_in *in);

#endif
