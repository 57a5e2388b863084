/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

/* The 8259 pair as a PC wires it: the slave on the master's IRQ2. */
#include <stdint.h>

#define PIC_VECTOR_BASE 0x20    /* vectors 0x20-0x2f, off the exceptions */

/* Initialises both chips (edge, 8086 mode) and leaves the given masks. */
void pic_init(uint8_t master_mask, uint8_t slave_mask);

#endif
