/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_RTC_H
#define VMON_HW_RTC_H

#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"

/*
 * MC146818 CMOS RTC at ports 0x70 (index; bit 7, the NMI mask, is ignored)
 * and 0x71 (data).  The clock starts at the host's UTC time and runs on the
 * host's monotonic clock; registers A-D, BCD or binary, 12 or 24 hours per
 * register B, the update-in-progress bit for the last 244 us of each second,
 * and periodic, alarm and update-ended interrupts on irq, level-triggered
 * until register C is read.  The century lives at 0x32, as on PCs.
 */
#define RTC_PORT 0x70
#define RTC_CMOS_SIZE 128

struct rtc;

/* NULL after one error line. */
struct rtc *rtc_new(struct bus *pio, struct irq_line irq);
/* Firmware-visible CMOS RAM (0x0e-0x7f but 0x32); the clock registers are not. */
void rtc_set_cmos(struct rtc *r, unsigned index, uint8_t value);
void rtc_free(struct rtc *r);

struct snap_out;
struct snap_in;
/* Section "rtc": the clock as RTC time (it runs on from there), CMOS RAM and
 * registers.  Load drives the IRQ line to register C; -1 with the error in in. */
void rtc_save(struct rtc *r, struct snap_out *o);
int rtc_load(struct rtc *r, struct snap_in *in);

#endif
