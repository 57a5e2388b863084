/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/uart.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chardev/chardev.h"
#include "snapshot/snap.h"
#include "util/log.h"

enum uart_reg {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
	UART_NREGS = 8,
};

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IER_RLSI  0x04
#define IER_MSI   0x08

#define IIR_NONE  0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_CTI   0x0c
#define IIR_FIFO  0xc0

#define FCR_ENABLE   0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04
#define FCR_DMA      0x08
#define FCR_TRIGGER  0xc0

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_PE    0x04
#define LSR_FE    0x08
#define LSR_BI    0x10
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define MSR_DELTAS 0x0f

#define UART_FIFO_SIZE 16

struct uart {
	pthread_mutex_t lock;   /* vCPU threads and the console input thread */
	struct bus *pio;
	uint16_t base;
	struct irq_line irq;
	struct chardev *chr;

	uint16_t divisor;
	uint8_t ier, lcr, mcr, lsr_err, msr, scr, fcr;
	uint8_t rbr;            /* last byte read, what an empty RBR shows */
	int thr_ipending;       /* THR emptied and IIR has not reported it yet */
	int irq_level;
	int rx_blocked;         /* the input thread was told "no room" */

	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
};

static const uint8_t uart_trigger_levels[4] = { 1, 4, 8, 14 };

static int uart_fifo_on(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

/* In 16450 mode the FIFO shrinks to the single receive holding register. */
static unsigned uart_rx_capacity(const struct uart *u)
{
	return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_rx_trigger(const struct uart *u)
{
	return uart_fifo_on(u) ? uart_trigger_levels[u->fcr >> 6] : 1;
}

/*
 * Interrupt identification in priority order.  With a zero-length character
 * time the receiver line is always idle by the time the guest looks, so a
 * FIFO below its trigger level reports a character timeout at once.
 */
static uint8_t uart_iir_id(const struct uart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr_err & LSR_ERRORS))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count)
		return u->rx_count >= uart_rx_trigger(u) ? IIR_RDI : IIR_CTI;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

/*
 * On a PC the 8250's interrupt pin reaches the PIC through a buffer enabled
 * by OUT2, and loopback forces OUT2 inactive.  Linux sets OUT2 for ISA ports;
 * QEMU does not model the gate, real hardware does, and so does vmon.
 */
static int uart_irq_wanted(const struct uart *u)
{
	return uart_iir_id(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
}

static void uart_update_irq(struct uart *u)
{
	int level = uart_irq_wanted(u);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	irq_line_set(&u->irq, level);
}

static void uart_rx_reset(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* The byte beyond a full FIFO is lost and flags an overrun, as on the chip. */
static void uart_rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count >= uart_rx_capacity(u)) {
		u->lsr_err |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
	u->rx_count++;
}

/* Input waits in the console while the FIFO is full or loopback cuts the line off. */
static unsigned uart_rx_room(const struct uart *u)
{
	if (u->mcr & MCR_LOOP)
		return 0;
	return uart_rx_capacity(u) - u->rx_count;
}

static void uart_kick_input(struct uart *u)
{
	if (u->rx_blocked && u->chr && uart_rx_room(u)) {
		u->rx_blocked = 0;
		chardev_rx_ready(u->chr);
	}
}

static uint8_t uart_read_rbr(struct uart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
		uart_kick_input(u);
	}
	return u->rbr;
}

/* What the modem inputs are: the host side is always "connected". */
static uint8_t uart_modem_inputs(const struct uart *u)
{
	uint8_t in = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	if (u->mcr & MCR_RTS)
		in |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		in |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		in |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

static void uart_set_modem_inputs(struct uart *u, uint8_t in)
{
	uint8_t old = u->msr & 0xf0, delta = 0;

	if ((old ^ in) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ in) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(in & MSR_RI))
		delta |= MSR_TERI;
	if ((old ^ in) & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = (uint8_t)(in | (u->msr & MSR_DELTAS) | delta);
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	uint8_t v, id;

	switch (reg) {
	case UART_RBR_THR:
		return (u->lcr & LCR_DLAB) ? (uint8_t)u->divisor : uart_read_rbr(u);
	case UART_IER:
		return (u->lcr & LCR_DLAB) ? (uint8_t)(u->divisor >> 8) : u->ier;
	case UART_IIR_FCR:
		id = uart_iir_id(u);
		/* Reading IIR is what acknowledges a THRE interrupt. */
		if (id == IIR_THRI)
			u->thr_ipending = 0;
		return (uint8_t)(id | (uart_fifo_on(u) ? IIR_FIFO : 0));
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = (uint8_t)(u->lsr_err | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0));
		u->lsr_err = 0;
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTAS;
		return v;
	default:
		return u->scr;
	}
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
	/* Toggling the enable bit empties both FIFOs, as on the 16550A. */
	if ((v ^ u->fcr) & FCR_ENABLE)
		uart_rx_reset(u);
	if (!(v & FCR_ENABLE)) {
		u->fcr = 0;    /* the other bits only program with FCR0 set */
	} else {
		if (v & FCR_RX_RESET)
			uart_rx_reset(u);
		/* TX reset: the transmit FIFO is always already empty. */
		u->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
	}
	uart_kick_input(u);
}

static void uart_write_mcr(struct uart *u, uint8_t v)
{
	u->mcr = v & MCR_MASK;
	uart_set_modem_inputs(u, uart_modem_inputs(u));
	uart_kick_input(u);
}

/* Returns 1 and sets *out when the byte goes to the console. */
static int uart_write_thr(struct uart *u, uint8_t v, uint8_t *out)
{
	int sent = 0;

	if (u->mcr & MCR_LOOP) {
		uart_rx_push(u, v);
	} else {
		*out = v;
		sent = 1;
	}
	/* Written and already transmitted: THR is empty again at once. */
	u->thr_ipending = 1;
	return sent;
}

static int uart_write_reg(struct uart *u, unsigned reg, uint8_t v, uint8_t *out)
{
	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
			return 0;
		}
		return uart_write_thr(u, v, out);
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | (v << 8));
			return 0;
		}
		/* Enabling THRE with the transmitter idle interrupts at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = 1;
		u->ier = v & 0x0f;
		return 0;
	case UART_IIR_FCR:
		uart_write_fcr(u, v);
		return 0;
	case UART_LCR:
		u->lcr = v;
		return 0;
	case UART_MCR:
		uart_write_mcr(u, v);
		return 0;
	case UART_SCR:
		u->scr = v;
		return 0;
	default:
		return 0;   /* LSR and MSR are read-only */
	}
}

/* Wider accesses are split into byte accesses, as an ISA bus does. */
static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uart *u = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t reg = offset + i;
		uint8_t b = reg < UART_NREGS ? uart_read_reg(u, (unsigned)reg) : 0xff;

		v |= (uint64_t)b << (8 * i);
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct uart *u = opaque;
	uint8_t out[8];
	size_t nout = 0;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < size && i < sizeof(out); i++) {
		uint64_t reg = offset + i;

		if (reg < UART_NREGS &&
		    uart_write_reg(u, (unsigned)reg, (uint8_t)(value >> (8 * i)), &out[nout]))
			nout++;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	/* Outside the lock: a stalled terminal must not stall input or other vCPUs. */
	if (nout && u->chr)
		chardev_write(u->chr, out, nout);
}

/* ---- snapshots ---- */

void uart_save(struct uart *u, struct snap_out *o)
{
	uint8_t rx[UART_FIFO_SIZE];

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < u->rx_count; i++)
		rx[i] = u->rx[(u->rx_head + i) % UART_FIFO_SIZE];
	snap_begin(o, "uart", 0, 1);
	snap_put_u32(o, "divisor", u->divisor);
	snap_put_u8(o, "ier", u->ier);
	snap_put_u8(o, "lcr", u->lcr);
	snap_put_u8(o, "mcr", u->mcr);
	snap_put_u8(o, "lsr_err", u->lsr_err);
	snap_put_u8(o, "msr", u->msr);
	snap_put_u8(o, "scr", u->scr);
	snap_put_u8(o, "fcr", u->fcr);
	snap_put_u8(o, "rbr", u->rbr);
	snap_put_u8(o, "thr_ipending", (uint8_t)u->thr_ipending);
	snap_put(o, "rx", rx, u->rx_count);
	pthread_mutex_unlock(&u->lock);
}

/* The registers as the guest can have left them, nothing a write would mask off. */
static int uart_snap_check(struct snap_sec *sec, const struct uart *v, size_t rx_len)
{
	if (v->ier & ~0x0f || v->mcr & ~MCR_MASK ||
	    v->lsr_err & ~LSR_ERRORS || v->thr_ipending > 1 ||
	    v->fcr & ~(FCR_ENABLE | FCR_DMA | FCR_TRIGGER) ||
	    (!(v->fcr & FCR_ENABLE) && v->fcr))
		return snap_fail(sec, "a register holds a value the 16550A cannot");
	if (rx_len > uart_rx_capacity(v))
		return snap_fail(sec, "%zu bytes in a receive FIFO of %u", rx_len,
				 uart_rx_capacity(v));
	return 0;
}

/*
 * The console is read from the UART's creation on: what was typed before
 * the load is newer than the restored FIFO and goes after it.
 */
static void uart_load_rx(struct uart *u, const uint8_t *rx, unsigned n)
{
	uint8_t early[UART_FIFO_SIZE];
	unsigned nearly = u->rx_count;

	for (unsigned i = 0; i < nearly; i++)
		early[i] = u->rx[(u->rx_head + i) % UART_FIFO_SIZE];
	memcpy(u->rx, rx, n);
	u->rx_head = 0;
	u->rx_count = n;
	for (unsigned i = 0; i < nearly; i++)
		uart_rx_push(u, early[i]);
}

int uart_load(struct uart *u, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "uart", 0, 1, NULL);
	struct uart v = { 0 };
	const uint8_t *rx;
	uint32_t divisor;
	uint8_t thr;
	size_t rx_len;

	if (!sec || snap_get_u32(sec, "divisor", &divisor) || snap_get_u8(sec, "ier", &v.ier) ||
	    snap_get_u8(sec, "lcr", &v.lcr) || snap_get_u8(sec, "mcr", &v.mcr) ||
	    snap_get_u8(sec, "lsr_err", &v.lsr_err) || snap_get_u8(sec, "msr", &v.msr) ||
	    snap_get_u8(sec, "scr", &v.scr) || snap_get_u8(sec, "fcr", &v.fcr) ||
	    snap_get_u8(sec, "rbr", &v.rbr) || snap_get_u8(sec, "thr_ipending", &thr) ||
	    !(rx = snap_get_var(sec, "rx", &rx_len)))
		return -1;
	if (divisor > 0xffff)
		return snap_fail(sec, "divisor %u above 0xffff", divisor);
	v.divisor = (uint16_t)divisor;
	v.thr_ipending = thr;
	if (uart_snap_check(sec, &v, rx_len))
		return -1;
	pthread_mutex_lock(&u->lock);
	u->divisor = v.divisor;
	u->ier = v.ier;
	u->lcr = v.lcr;
	u->mcr = v.mcr;
	u->lsr_err = v.lsr_err;
	u->msr = v.msr;
	u->scr = v.scr;
	u->fcr = v.fcr;
	u->rbr = v.rbr;
	u->thr_ipending = v.thr_ipending;
	uart_load_rx(u, rx, (unsigned)rx_len);
	/* The line is driven to what the state says, whatever it was before. */
	u->irq_level = !uart_irq_wanted(u);
	uart_update_irq(u);
	uart_kick_input(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static const struct bus_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
};

static size_t uart_can_rx(void *opaque)
{
	struct uart *u = opaque;
	unsigned room;

	pthread_mutex_lock(&u->lock);
	room = uart_rx_room(u);
	if (!room)
		u->rx_blocked = 1;
	pthread_mutex_unlock(&u->lock);
	return room;
}

static void uart_rx(void *opaque, const uint8_t *buf, size_t n)
{
	struct uart *u = opaque;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < n; i++)
		uart_rx_push(u, buf[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

struct uart *uart_new(struct bus *pio, uint16_t base, struct irq_line irq, struct chardev *chr)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u) {
		log_err("out of memory for the UART at %#x", base);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->pio = pio;
	u->base = base;
	u->irq = irq;
	u->chr = chr;
	u->divisor = 12;   /* 9600 baud, what firmware usually leaves */
	u->msr = uart_modem_inputs(u);
	if (bus_register(pio, base, UART_NREGS, &uart_ops, u, "uart")) {
		log_err("cannot register the UART at ports %#x-%#x", base, base + UART_NREGS - 1);
		pthread_mutex_destroy(&u->lock);
		free(u);
		return NULL;
	}
	if (chr)
		chardev_set_input(chr, uart_can_rx, uart_rx, u);
	return u;
}

void uart_free(struct uart *u)
{
	if (!u)
		return;
	/* chr may already be closed (see uart.h): it is not touched here. */
	bus_unregister(u->pio, u->base);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
