/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_PIT_H
#define VMON_HW_PIT_H

#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"

/*
 * The 8254 PIT at 0x40-0x43 and the channel 2 gate and output bits of port
 * 0x61 (NMI status and control, a.k.a. the speaker port).  1.193182 MHz
 * counted from the host's CLOCK_MONOTONIC: counter values are computed
 * from the time a count was loaded, never by ticking.  Modes 0-5 (1 and 5
 * as 0 and 4, their gate trigger aside), binary counting only (the BCD bit
 * is kept and reported, not honoured), counter latch, read-back, lobyte /
 * hibyte / both.  Channel 0's output drives irq0 from a thread: one pulse
 * per period in modes 2 and 3 (late ticks are dropped, not bunched), a
 * level that rises at terminal count in modes 0 and 4.
 */
#define PIT_HZ 1193182ULL

struct pit;

/* NULL after one error line. */
struct pit *pit_new(struct bus *pio, struct irq_line irq0);
void pit_free(struct pit *p);

struct snap_out;
struct snap_in;
/* Section "pit": counts as ticks elapsed, so they continue from where they
 * were; load sets irq0 to the level it had.  -1 with the error in in. */
void pit_save(struct pit *p, struct snap_out *o);
int pit_load(struct pit *p, struct snap_in *in);

#endif
