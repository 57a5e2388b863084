/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_PVPANIC_H
#define VMON_HW_PVPANIC_H

#include <stdint.h>

#include "machine/bus.h"

/*
 * QEMU's ISA pvpanic device (docs/specs/pvpanic.rst): one I/O port, 0x505 by
 * convention.  Reads return the events the device knows; a write reports
 * events.  PANICKED ends vmon with VMON_EXIT_CRASH; CRASH_LOADED (the guest
 * boots its own crash kernel) is only logged and the guest goes on.  Unknown
 * bits are ignored, as the spec asks.  The device has no state beyond m, so
 * nothing to free.
 */
#define PVPANIC_PORT 0x505

#define PVPANIC_PANICKED     (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)
#define PVPANIC_EVENTS       (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

struct machine;

/* 0, or -1 after one error line. */
int pvpanic_new(struct bus *pio, uint16_t port, struct machine *m);

#endif
