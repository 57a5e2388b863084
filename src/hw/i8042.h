/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_I8042_H
#define VMON_HW_I8042_H

#include "machine/bus.h"

/*
 * The PC's 8042 keyboard controller at ports 0x60/0x64, and System Control
 * Port A at 0x92, as far as an OS needs them without a keyboard or mouse:
 * controller command byte, self tests, output port with A20 and the reset
 * line, the 0xD2/0xD3 loop-back writes, and the status register.  Pulsing
 * the reset line (command 0xFE, an output port write with bit 0 clear, or bit
 * 0 of port 0x92) ends vmon with VMON_EXIT_OK.  Bytes sent to the absent
 * devices are dropped: they never answer.  Controller output raises GSI 1
 * (GSI 12 for aux data) through m->irq when the command byte enables it.
 */
struct i8042;
struct machine;

/* NULL after one error line. */
struct i8042 *i8042_new(struct bus *pio, struct machine *m);
void i8042_free(struct i8042 *k);

/* Whether the A20 gate is open: output port bit 1 or port 0x92 bit 1. */
int i8042_a20_enabled(struct i8042 *k);

struct snap_out;
struct snap_in;
/* Section "i8042": controller registers and the output queue.  Load drives
 * GSI 1 and 12 to the restored state; -1 with the error recorded in in. */
void i8042_save(struct i8042 *k, struct snap_out *o);
int i8042_load(struct i8042 *k, struct snap_in *in);

#endif
