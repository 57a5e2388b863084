/* SPDX-License-Identifier: Apache-2.0 */
/* The 16550A through a real port bus, with a recording interrupt chip. */
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "hw/uart.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "test.h"

#define BASE 0x3f8
#define THR (BASE + 0)
#define RBR (BASE + 0)
#define DLL (BASE + 0)
#define IER (BASE + 1)
#define DLM (BASE + 1)
#define IIR (BASE + 2)
#define FCR (BASE + 2)
#define LCR (BASE + 3)
#define MCR (BASE + 4)
#define LSR (BASE + 5)
#define MSR (BASE + 6)
#define SCR (BASE + 7)

struct rec_chip {
	struct irq_chip chip;
	int level[24];
	int changes;
};

static void rec_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct rec_chip *r = (struct rec_chip *)chip;

	if (gsi < 24) {
		r->level[gsi] = level;
		r->changes++;
	}
}

static struct rec_chip rec;
static struct bus *pio;
static struct uart *uart;

static void setup(struct chardev *chr)
{
	memset(&rec, 0, sizeof(rec));
	rec.chip.set_level = rec_set_level;
	pio = bus_new("pio");
	uart = uart_new(pio, BASE, (struct irq_line){ &rec.chip, 4 }, chr);
}

static void teardown(void)
{
	uart_free(uart);
	bus_free(pio);
	uart = NULL;
	pio = NULL;
}

static uint8_t in8(uint16_t port)
{
	return (uint8_t)bus_read(pio, port, 1);
}

static void out8(uint16_t port, uint8_t v)
{
	bus_write(pio, port, 1, v);
}

static void test_reset_state(void)
{
	setup(NULL);
	CHECK(uart != NULL);
	CHECK_EQ(in8(IER), 0);
	CHECK_EQ(in8(IIR), 0x01);
	CHECK_EQ(in8(LCR), 0);
	CHECK_EQ(in8(MCR), 0);
	CHECK_EQ(in8(LSR), 0x60);
	CHECK_EQ(in8(MSR) & 0xf0, 0xb0);
	CHECK_EQ(rec.level[4], 0);
	teardown();
}

static void test_scratch_and_divisor(void)
{
	setup(NULL);
	out8(SCR, 0xa5);
	CHECK_EQ(in8(SCR), 0xa5);
	out8(IER, 0x05);
	out8(LCR, 0x83);
	out8(DLL, 0x01);
	out8(DLM, 0x02);
	CHECK_EQ(in8(DLL), 0x01);
	CHECK_EQ(in8(DLM), 0x02);
	CHECK_EQ(bus_read(pio, DLL, 2), 0x0201);
	out8(LCR, 0x03);
	CHECK_EQ(in8(LCR), 0x03);
	CHECK_EQ(in8(IER), 0x05);   /* DLM writes did not touch IER */
	out8(IER, 0xff);
	CHECK_EQ(in8(IER), 0x0f);   /* the upper IER bits do not exist on a 16550A */
	out8(LCR, 0x83);
	CHECK_EQ(in8(DLM), 0x02);
	teardown();
}

/* What Linux's 8250 autoconfig checks to find the port and call it a 16550A. */
static void test_linux_probe(void)
{
	setup(NULL);
	out8(MCR, 0x10 | 0x0a);
	CHECK_EQ(in8(MSR) & 0xf0, 0x90);
	out8(MCR, 0x1f);
	CHECK_EQ(in8(MSR) & 0xf0, 0xf0);
	out8(MCR, 0);
	out8(FCR, 0x01);
	CHECK_EQ(in8(IIR) & 0xc0, 0xc0);
	out8(LCR, 0xbf);
	CHECK(in8(IIR) != 0);        /* no EFR behind DLAB */
	out8(FCR, 0x21);
	CHECK_EQ(in8(IIR) >> 5, 6);  /* not a 16750 */
	out8(LCR, 0);
	out8(FCR, 0);
	CHECK_EQ(in8(IIR), 0x01);
	teardown();
}

static void test_msr_deltas(void)
{
	setup(NULL);
	in8(MSR);
	out8(MCR, 0x10 | 0x04);      /* loopback, OUT1 -> RI; CTS/DSR/DCD drop */
	CHECK_EQ(in8(MSR), 0x40 | 0x0b);
	CHECK_EQ(in8(MSR), 0x40);    /* reading cleared the deltas */
	out8(MCR, 0x10);             /* RI falls: trailing edge */
	CHECK_EQ(in8(MSR), 0x04);
	teardown();
}

static void test_loopback_fifo(void)
{
	setup(NULL);
	out8(MCR, 0x10);
	out8(THR, 'a');
	CHECK_EQ(in8(LSR), 0x61);
	out8(THR, 'b');              /* 16450 mode: one byte of room, overrun */
	CHECK_EQ(in8(LSR), 0x63);
	CHECK_EQ(in8(LSR), 0x61);    /* OE is cleared by reading LSR */
	CHECK_EQ(in8(RBR), 'a');
	CHECK_EQ(in8(LSR), 0x60);
	CHECK_EQ(in8(RBR), 'a');     /* an empty RBR shows the last byte */

	out8(FCR, 0x01);
	for (int i = 0; i < 16; i++)
		out8(THR, (uint8_t)('A' + i));
	CHECK_EQ(in8(LSR), 0x61);
	out8(THR, 'z');
	CHECK_EQ(in8(LSR), 0x63);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(in8(RBR), 'A' + i);
	CHECK_EQ(in8(LSR), 0x60);

	out8(THR, 'x');
	out8(FCR, 0x03);             /* RX reset */
	CHECK_EQ(in8(LSR), 0x60);
	out8(THR, 'y');
	out8(FCR, 0x00);             /* leaving FIFO mode empties it */
	CHECK_EQ(in8(LSR), 0x60);
	teardown();
}

static void test_trigger_levels(void)
{
	static const uint8_t fcr[4] = { 0x01, 0x41, 0x81, 0xc1 };
	static const int level[4] = { 1, 4, 8, 14 };

	setup(NULL);
	out8(MCR, 0x10);
	out8(IER, 0x01);
	for (int t = 0; t < 4; t++) {
		out8(FCR, fcr[t] | 0x02);
		for (int i = 0; i < level[t] - 1; i++)
			out8(THR, 0x55);
		if (level[t] > 1)
			CHECK_EQ(in8(IIR), 0xcc);   /* below the trigger: character timeout */
		out8(THR, 0x55);
		CHECK_EQ(in8(IIR), 0xc4);
		in8(RBR);
		if (level[t] > 1)
			CHECK_EQ(in8(IIR), 0xcc);
	}
	teardown();
}

static void test_iir_priorities(void)
{
	setup(NULL);
	out8(MCR, 0x10);
	out8(FCR, 0x01);
	in8(MSR);
	for (int i = 0; i < 17; i++)
		out8(THR, (uint8_t)i);      /* 16 in the FIFO and an overrun */
	out8(MCR, 0x12);                     /* RTS -> CTS: a modem status change */
	out8(IER, 0x0f);                     /* all four sources; THRE re-armed */
	CHECK_EQ(in8(IIR), 0xc6);            /* line status first */
	CHECK_EQ(in8(LSR), 0x63);
	CHECK_EQ(in8(IIR), 0xc4);            /* then received data */
	for (int i = 0; i < 16; i++)
		in8(RBR);
	CHECK_EQ(in8(IIR), 0xc2);            /* then THR empty, cleared by this read */
	CHECK_EQ(in8(IIR), 0xc0);            /* then modem status */
	CHECK_EQ(in8(MSR) & 0x0f, 0x01);
	CHECK_EQ(in8(IIR), 0xc1);
	teardown();
}

/* The 8250 driver's check that THRE comes back whenever it is re-enabled. */
static void test_thre_semantics(void)
{
	setup(NULL);
	out8(IER, 0x02);
	CHECK_EQ(in8(IIR), 0x02);
	CHECK_EQ(in8(IIR), 0x01);
	out8(IER, 0x00);
	out8(IER, 0x02);
	CHECK_EQ(in8(IIR), 0x02);
	CHECK_EQ(in8(IIR), 0x01);
	out8(THR, 'q');                      /* sent at once: THR empty again */
	CHECK_EQ(in8(IIR), 0x02);
	out8(IER, 0);
	CHECK_EQ(in8(IIR), 0x01);
	teardown();
}

static void test_irq_line_out2(void)
{
	setup(NULL);
	out8(IER, 0x02);
	CHECK_EQ(rec.level[4], 0);           /* pending, but OUT2 gates it */
	out8(MCR, 0x08);
	CHECK_EQ(rec.level[4], 1);
	in8(IIR);
	CHECK_EQ(rec.level[4], 0);
	out8(THR, 'x');
	CHECK_EQ(rec.level[4], 1);
	out8(MCR, 0x18);                     /* loopback: no interrupt reaches the PIC */
	CHECK_EQ(rec.level[4], 0);
	out8(MCR, 0x08);
	CHECK_EQ(rec.level[4], 1);
	out8(IER, 0);
	CHECK_EQ(rec.level[4], 0);
	teardown();
}

static void test_output_to_file(void)
{
	char path[] = "/tmp/vmon-uart-XXXXXX";
	int fd = mkstemp(path);
	char buf[16] = { 0 };
	struct chardev *chr;

	CHECK(fd >= 0);
	chr = chardev_open("none", NULL, NULL);
	CHECK(chr != NULL);
	chardev_write(chr, (const uint8_t *)"lost", 4);
	chardev_close(chr);
	{
		char spec[64];

		snprintf(spec, sizeof(spec), "file:%s", path);
		chr = chardev_open(spec, NULL, NULL);
	}
	CHECK(chr != NULL);
	setup(chr);
	out8(THR, 'h');
	bus_write(pio, THR, 1, 'i');
	out8(MCR, 0x10);
	out8(THR, 'X');                      /* looped back, not sent */
	out8(MCR, 0x00);
	out8(THR, '\n');
	chardev_close(chr);
	teardown();
	CHECK_EQ(read(fd, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "hi\n", 3));
	close(fd);
	unlink(path);
}

static atomic_int quit_called;

static void on_quit(void *opaque)
{
	(void)opaque;
	atomic_store(&quit_called, 1);
}

/* Polls LSR.DR for up to two seconds: the input thread runs on its own. */
static int wait_data(void)
{
	for (int i = 0; i < 2000; i++) {
		if (in8(LSR) & 0x01)
			return 1;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return 0;
}

/* Stdin replaced by a pipe: escapes, flow control and the IRQ from input. */
static void test_stdio_input(void)
{
	int p[2], saved = dup(0);
	struct chardev *chr;
	uint8_t got[32];
	int n = 0;
	ssize_t w;

	CHECK(saved >= 0 && pipe(p) == 0);
	dup2(p[0], 0);
	close(p[0]);
	chr = chardev_open("stdio", on_quit, NULL);
	CHECK(chr != NULL);
	setup(chr);
	out8(IER, 0x01);
	out8(MCR, 0x08);
	w = write(p[1], "ab\x01\x01" "c\x01q" "d", 8);
	CHECK_EQ(w, 8);
	while (n < 5 && wait_data())
		got[n++] = in8(RBR);
	CHECK_EQ(n, 5);
	CHECK(!memcmp(got, "ab\x01" "cd", 5));
	CHECK(!atomic_load(&quit_called));

	/* 40 bytes into a 16-byte FIFO: nothing lost, the rest waits. */
	out8(FCR, 0x01);
	for (int i = 0; i < 40; i++)
		CHECK_EQ(write(p[1], &(uint8_t){ (uint8_t)('0' + i) }, 1), 1);
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	CHECK(wait_data());
	CHECK_EQ(rec.level[4], 1);
	for (n = 0; n < 40 && wait_data(); n++)
		CHECK_EQ(in8(RBR), '0' + n);
	CHECK_EQ(n, 40);
	CHECK_EQ(rec.level[4], 0);

	CHECK_EQ(write(p[1], "\x01x", 2), 2);
	for (int i = 0; i < 2000 && !atomic_load(&quit_called); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	CHECK(atomic_load(&quit_called));
	chardev_close(chr);    /* the input thread goes before the UART */
	teardown();
	close(p[1]);
	dup2(saved, 0);
	close(saved);
}

static void test_bad_specs(void)
{
	CHECK(chardev_open("tcp:1234", NULL, NULL) == NULL);
	CHECK(chardev_open("file:", NULL, NULL) == NULL);
	CHECK(chardev_open("file:/nonexistent-dir/x", NULL, NULL) == NULL);
}

int main(void)
{
	RUN(test_reset_state);
	RUN(test_scratch_and_divisor);
	RUN(test_linux_probe);
	RUN(test_msr_deltas);
	RUN(test_loopback_fifo);
	RUN(test_trigger_levels);
	RUN(test_iir_priorities);
	RUN(test_thre_semantics);
	RUN(test_irq_line_out2);
	RUN(test_output_to_file);
	RUN(test_stdio_input);
	RUN(test_bad_specs);
	return TEST_EXIT();
}
