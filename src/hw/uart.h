/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_UART_H
#define VMON_HW_UART_H

#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"

/*
 * A 16550A UART (8 ports from base) with 16-byte FIFOs.  Transmission takes
 * no time: each byte written to THR reaches chr at once.  The interrupt
 * output reaches irq only while MCR OUT2 is set and loopback is off, as the
 * gate on a PC's serial port does.  chr may be NULL (output discarded).
 * The UART registers itself as chr's input consumer, so the input thread
 * must be gone before the UART is: chardev_close(chr) first (it stops the
 * thread and restores the terminal), or chardev_set_input(chr, NULL, NULL,
 * NULL) if chr lives on; then uart_free(), which never touches chr.
 */
struct uart;
struct chardev;

struct uart *uart_new(struct bus *pio, uint16_t base, struct irq_line irq, struct chardev *chr);
void uart_free(struct uart *u);

struct snap_out;
struct snap_in;
/* Section "uart": registers and the receive FIFO.  Load drives the IRQ line
 * to the restored state; -1 with the error recorded in in. */
void uart_save(struct uart *u, struct snap_out *o);
int uart_load(struct uart *u, struct snap_in *in);

#endif
