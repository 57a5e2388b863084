/* SPDX-License-Identifier: Apache-2.0 */
/* The i8042, port 0x92, debug-exit and port 0x80 through a real port bus and a real machine. */
#include <string.h>

#include "hw/debug_exit.h"
#include "hw/i8042.h"
#include "hw/port80.h"
#include "machine/bus.h"
#include "machine/machine.h"
#include "test.h"

struct rec_chip {
	struct irq_chip chip;
	int level[24];
};

static void rec_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct rec_chip *r = (struct rec_chip *)chip;

	if (gsi < 24)
		r->level[gsi] = level;
}

static struct rec_chip rec;
static struct machine m;
static struct bus *pio;
static struct i8042 *kbc;

static int setup(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.chip.set_level = rec_set_level;
	memset(&m, 0, sizeof(m));
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	m.irq = &rec.chip;
	pio = bus_new("pio");
	m.pio = pio;
	kbc = pio ? i8042_new(pio, &m) : NULL;
	return kbc ? 0 : -1;
}

static void teardown(void)
{
	i8042_free(kbc);
	bus_free(pio);
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
	kbc = NULL;
}

static uint8_t in8(uint16_t port)
{
	return (uint8_t)bus_read(pio, port, 1);
}

static void out8(uint16_t port, uint8_t v)
{
	bus_write(pio, port, 1, v);
}

static int exit_requested(int *status)
{
	int r;

	pthread_mutex_lock(&m.lock);
	r = m.exit_requested;
	*status = m.exit_status;
	pthread_mutex_unlock(&m.lock);
	return r;
}

static void test_self_test_and_status(void)
{
	CHECK(setup() == 0);
	CHECK_EQ(in8(0x64) & 0x01, 0);
	out8(0x64, 0xaa);
	CHECK_EQ(in8(0x64) & 0x0d, 0x0d);       /* OBF, SYS, last write a command */
	CHECK_EQ(rec.level[1], 1);              /* command byte has KBD_INT on */
	CHECK_EQ(in8(0x60), 0x55);
	CHECK_EQ(in8(0x64) & 0x01, 0);
	CHECK_EQ(rec.level[1], 0);
	CHECK_EQ(in8(0x60), 0x55);              /* nothing queued: the last value */
	out8(0x64, 0xab);
	CHECK_EQ(in8(0x60), 0x00);
	out8(0x64, 0xa9);
	CHECK_EQ(in8(0x60), 0x00);
	teardown();
}

static void test_command_byte(void)
{
	CHECK(setup() == 0);
	out8(0x64, 0x60);
	out8(0x60, 0x00);                       /* interrupts off, SYS clear */
	CHECK_EQ(in8(0x64) & 0x0c, 0x00);       /* last write was data */
	out8(0x64, 0x20);
	CHECK_EQ(rec.level[1], 0);
	CHECK_EQ(in8(0x64) & 0x01, 0x01);
	CHECK_EQ(in8(0x60), 0x00);
	out8(0x64, 0x60);
	out8(0x60, 0x47);
	CHECK_EQ(in8(0x64) & 0x04, 0x04);
	out8(0x64, 0xa7);
	out8(0x64, 0xad);
	out8(0x64, 0x20);
	CHECK_EQ(in8(0x60), 0x77);
	out8(0x64, 0xa8);
	out8(0x64, 0xae);
	out8(0x64, 0x20);
	CHECK_EQ(in8(0x60), 0x47);
	teardown();
}

/* Linux's AUX loop test: 0xD3 makes a byte appear as if from the mouse. */
static void test_loopback_writes(void)
{
	CHECK(setup() == 0);
	out8(0x64, 0xd3);
	out8(0x60, 0x5a);
	CHECK_EQ(in8(0x64) & 0x21, 0x21);
	CHECK_EQ(rec.level[12], 1);
	CHECK_EQ(rec.level[1], 0);
	CHECK_EQ(in8(0x60), 0x5a);
	CHECK_EQ(rec.level[12], 0);
	out8(0x64, 0xd2);
	out8(0x60, 0xa5);
	CHECK_EQ(in8(0x64) & 0x21, 0x01);
	CHECK_EQ(rec.level[1], 1);
	CHECK_EQ(in8(0x60), 0xa5);
	/* Bytes for the absent keyboard and mouse get no answer. */
	out8(0x60, 0xff);
	out8(0x64, 0xd4);
	out8(0x60, 0xf4);
	CHECK_EQ(in8(0x64) & 0x01, 0);
	teardown();
}

static void test_a20(void)
{
	CHECK(setup() == 0);
	CHECK(i8042_a20_enabled(kbc));
	out8(0x64, 0xdd);
	CHECK(!i8042_a20_enabled(kbc));
	out8(0x64, 0xd0);
	CHECK_EQ(in8(0x60) & 0x03, 0x01);
	out8(0x64, 0xdf);
	CHECK(i8042_a20_enabled(kbc));
	out8(0x64, 0xd0);
	CHECK_EQ(in8(0x60) & 0x13, 0x03);        /* OBF reflected as bit 4 is read out */
	out8(0x64, 0xd1);
	out8(0x60, 0xdd);                        /* the classic "A20 off" output port */
	CHECK(!i8042_a20_enabled(kbc));
	out8(0x92, 0x02);                        /* fast A20 */
	CHECK(i8042_a20_enabled(kbc));
	CHECK_EQ(in8(0x92), 0x02);
	out8(0x92, 0x00);
	CHECK(!i8042_a20_enabled(kbc));
	out8(0x64, 0xd1);
	out8(0x60, 0xdf);
	CHECK(i8042_a20_enabled(kbc));
	teardown();
}

static void test_reset_paths(void)
{
	int st = -1;

	CHECK(setup() == 0);
	out8(0x64, 0xff);                        /* pulse nothing */
	CHECK(!exit_requested(&st));
	out8(0x64, 0xfe);
	CHECK(exit_requested(&st));
	CHECK_EQ(st, VMON_EXIT_OK);
	teardown();

	CHECK(setup() == 0);
	out8(0x64, 0xd1);
	out8(0x60, 0xfe);                        /* output port, reset bit low */
	CHECK(exit_requested(&st));
	teardown();

	CHECK(setup() == 0);
	out8(0x92, 0x01);
	CHECK(exit_requested(&st));
	CHECK_EQ(in8(0x92) & 0x01, 0);
	teardown();
}

static void test_debug_exit(void)
{
	int st = -1;

	CHECK(setup() == 0);
	CHECK(debug_exit_new(pio, 0xf4, &m) == 0);
	CHECK(debug_exit_new(pio, 0xf4, &m) < 0);  /* the ports are taken */
	CHECK(!exit_requested(&st));
	bus_write(pio, 0xf4, 1, 0x1234);           /* truncated to the access size */
	CHECK(exit_requested(&st));
	CHECK_EQ(st, (0x34 << 1) | 1);
	teardown();

	CHECK(setup() == 0);
	CHECK(debug_exit_new(pio, 0xf4, &m) == 0);
	bus_write(pio, 0xf6, 2, 0);
	CHECK(exit_requested(&st));
	CHECK_EQ(st, 1);
	teardown();
}

static void test_port80(void)
{
	struct port80 *p;

	CHECK(setup() == 0);
	p = port80_create(pio);
	CHECK(p != NULL);
	CHECK(port80_create(pio) == NULL);
	CHECK_EQ(in8(0x80), 0);
	out8(0x80, 0x42);
	CHECK_EQ(in8(0x80), 0x42);
	bus_write(pio, 0x80, 4, 0x11223399);
	CHECK_EQ(in8(0x80), 0x99);
	port80_free(p);
	CHECK(!bus_claimed(pio, 0x80));
	teardown();
}

int main(void)
{
	RUN(test_self_test_and_status);
	RUN(test_command_byte);
	RUN(test_loopback_writes);
	RUN(test_a20);
	RUN(test_reset_paths);
	RUN(test_debug_exit);
	RUN(test_port80);
	return TEST_EXIT();
}
