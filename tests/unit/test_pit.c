/* SPDX-License-Identifier: Apache-2.0 */
/* The 8254 through a real port bus, against the host clock; IRQ0 recorded. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "hw/pit.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "test.h"

struct rec_chip {
	struct irq_chip chip;
	atomic_int level, rises;
};

static struct rec_chip rec;
static struct bus *pio;
static struct pit *pit;

static void rec_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct rec_chip *r = (struct rec_chip *)chip;

	if (gsi != 0)
		return;
	if (level && !atomic_load(&r->level))
		atomic_fetch_add(&r->rises, 1);
	atomic_store(&r->level, level);
}

static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.chip.set_level = rec_set_level;
	pio = bus_new("pio");
	pit = pit_new(pio, (struct irq_line){ &rec.chip, 0 });
}

static void teardown(void)
{
	pit_free(pit);
	bus_free(pio);
}

static void out(uint16_t port, uint8_t v)
{
	bus_write(pio, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)bus_read(pio, port, 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint16_t read16(uint16_t port)
{
	uint16_t lo = inb(port);

	return (uint16_t)(lo | inb(port) << 8);
}

static void test_channel2_mode0_gate(void)
{
	uint16_t a, b;

	setup();
	out(0x61, 0x00);                                /* gate low */
	out(0x43, 0xb0);                                /* ch2, lo/hi, mode 0 */
	out(0x42, 0x9b);                                /* 1193: 1 ms */
	out(0x42, 0x04);
	CHECK_EQ(inb(0x61) & 0x20, 0);                  /* OUT2 low while counting */
	sleep_ms(3);
	out(0x43, 0x80);                                /* latch: gate low, no counting */
	CHECK_EQ(read16(0x42), 1179);
	out(0x61, 0x01);                                /* gate high: counts */
	a = (out(0x43, 0x80), read16(0x42));
	CHECK(a <= 1179);
	sleep_ms(3);
	CHECK(inb(0x61) & 0x20);                        /* terminal count reached */
	b = (out(0x43, 0x80), read16(0x42));
	CHECK(b > 1179);                                /* wrapped past 0 to 0xffff.. */
	CHECK_EQ(rec.rises, 0);                         /* channel 2 has no IRQ */
	teardown();
}

static void test_latch_holds(void)
{
	uint16_t a, b;

	setup();
	out(0x43, 0x34);                                /* ch0, lo/hi, mode 2 */
	out(0x40, 0x00);
	out(0x40, 0x00);                                /* 65536: 55 ms period */
	sleep_ms(1);                                    /* off the initial 0 (65536) */
	out(0x43, 0x00);                                /* latch channel 0 */
	sleep_ms(2);
	a = read16(0x40);
	b = read16(0x40);                               /* live now */
	CHECK(a > b);
	CHECK(a - b >= 2000);                           /* 2 ms is 2386 ticks */
	teardown();
}

static void test_readback_status(void)
{
	uint8_t st;

	setup();
	out(0x43, 0x96);                                /* ch2, lobyte, mode 3 */
	out(0x43, 0xe8);                                /* read-back status of ch2 */
	st = inb(0x42);
	CHECK_EQ(st & 0x7f, 0x40 | 0x10 | 0x06);        /* null count, lobyte, mode 3 */
	out(0x42, 100);
	out(0x43, 0xe8);
	CHECK_EQ(inb(0x42) & 0x40, 0);                  /* count loaded */
	/* Read-back of count and status: status first, then the count. */
	out(0x43, 0xc8);
	CHECK_EQ(inb(0x42) & 0x3f, 0x16);
	st = inb(0x42);
	CHECK(st <= 100 && !(st & 1));                  /* mode 3 counts by two */
	out(0x43, 0xa6);                                /* hibyte only */
	out(0x42, 0x12);
	CHECK_EQ(inb(0x42) <= 0x12, 1);
	teardown();
}

static void test_irq0_periodic(void)
{
	int n;

	setup();
	out(0x43, 0x34);                                /* ch0, lo/hi, mode 2 */
	out(0x40, 0xa9);
	out(0x40, 0x04);                                /* 1193: 1 kHz */
	sleep_ms(100);
	n = rec.rises;
	/* About 100; a loaded host drops late ticks rather than bunching them. */
	CHECK(n >= 20 && n <= 110);
	out(0x43, 0x30);                                /* mode 0, not loaded: quiet */
	sleep_ms(10);
	n = rec.rises;
	sleep_ms(20);
	CHECK_EQ(rec.rises, n);
	teardown();
}

static void test_irq0_mode0_once(void)
{
	setup();
	out(0x43, 0x30);                                /* ch0, lo/hi, mode 0 */
	out(0x40, 0xa9);
	out(0x40, 0x04);                                /* 1 ms */
	CHECK_EQ(rec.level, 0);
	sleep_ms(30);
	CHECK_EQ(rec.rises, 1);
	CHECK_EQ(rec.level, 1);                         /* OUT stays high */
	out(0x43, 0x30);                                /* reprogramming drops it */
	sleep_ms(10);
	CHECK_EQ(rec.level, 0);
	teardown();
}

int main(void)
{
	RUN(test_channel2_mode0_gate);
	RUN(test_latch_holds);
	RUN(test_readback_status);
	RUN(test_irq0_periodic);
	RUN(test_irq0_mode0_once);
	return TEST_EXIT();
}
