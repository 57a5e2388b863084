/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_PORT80_H
#define VMON_HW_PORT80_H

#include "machine/bus.h"

/*
 * The POST code port 0x80: writes are logged at debug level and otherwise
 * dropped (Linux also writes here as an I/O delay); reads return the last
 * byte written, as on many boards.
 */
#define PORT80_PORT 0x80

struct port80;

/* Creates and registers the port; NULL after one error line. */
struct port80 *port80_create(struct bus *pio);
/* Unregisters and frees. */
void port80_free(struct port80 *p);


#endif
