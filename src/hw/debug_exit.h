/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_DEBUG_EXIT_H
#define VMON_HW_DEBUG_EXIT_H

#include <stdint.h>

#include "machine/bus.h"

/*
 * QEMU's isa-debug-exit: 4 ports from port (0xf4 by convention).  A write of
 * v, as wide as the access, ends vmon with status (v << 1) | 1.  Reads are
 * unclaimed (all ones).  The device has no state beyond m, so nothing to free.
 */
#define DEBUG_EXIT_PORT 0xf4

struct machine;

/* 0, or -1 after one error line. */
int debug_exit_new(struct bus *pio, uint16_t port, struct machine *m);

#endif
