/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Save/load of the platform devices (UART, i8042, RTC, ACPI PM, fw_cfg):
 * each driven through its ports into a non-trivial state, saved, loaded
 * into a fresh instance on its own bus, and then made to behave the same;
 * hostile streams are refused with an error and leave a working device.
 */
#include <endian.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "arch/x86/acpi.h"
#include "hw/acpi_pm.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "machine/bus.h"
#include "machine/machine.h"
#include "snap_harness.h"
#include "test.h"

/* One device on its own port bus, its interrupt lines recorded. */
struct board {
	struct irq_chip chip;       /* first: the recorder finds the board from it */
	atomic_int level[24], rises[24];
	struct bus *pio;
	struct machine m;
	struct guest_mem mem;
	void *dev;
};

static void rec_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct board *b = (struct board *)chip;

	if (gsi >= 24)
		return;
	if (level && !atomic_load(&b->level[gsi]))
		atomic_fetch_add(&b->rises[gsi], 1);
	atomic_store(&b->level[gsi], level);
}

static void rec_send_msi(struct irq_chip *chip, uint64_t addr, uint32_t data)
{
	(void)chip;
	(void)addr;
	(void)data;
}

static struct board *board_new(void)
{
	struct board *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->chip.set_level = rec_set_level;
	b->chip.send_msi = rec_send_msi;
	b->pio = bus_new("pio");
	pthread_mutex_init(&b->m.lock, NULL);
	pthread_cond_init(&b->m.cond, NULL);
	b->m.irq = &b->chip;
	b->m.pio = b->pio;
	if (!b->pio || guest_mem_init(&b->mem, 2 << 20)) {
		free(b);
		return NULL;
	}
	return b;
}

static void board_free(struct board *b)
{
	guest_mem_destroy(&b->mem);
	bus_free(b->pio);
	pthread_mutex_destroy(&b->m.lock);
	pthread_cond_destroy(&b->m.cond);
	free(b);
}

static uint8_t in8(struct board *b, uint16_t port)
{
	return (uint8_t)bus_read(b->pio, port, 1);
}

static void out8(struct board *b, uint16_t port, uint8_t v)
{
	bus_write(b->pio, port, 1, v);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- UART ---- */

#define COM1 0x3f8

static void *uart_board(void)
{
	struct board *b = board_new();

	if (b && !(b->dev = uart_new(b->pio, COM1, (struct irq_line){ &b->chip, 4 }, NULL))) {
		board_free(b);
		return NULL;
	}
	return b;
}

static void uart_board_free(void *p)
{
	struct board *b = p;

	uart_free(b->dev);
	board_free(b);
}

static int uart_board_load(void *p, struct snap_in *in)
{
	return uart_load(((struct board *)p)->dev, in);
}

static void uart_poke(void *p)
{
	struct board *b = p;

	for (int i = 0; i < 20; i++)
		for (uint16_t r = 0; r < 8; r++)
			in8(b, (uint16_t)(COM1 + r));
	out8(b, COM1 + 3, 0x03);
	out8(b, COM1, 'x');
	out8(b, COM1 + 2, 0x07);
}

/* Loopback fills the receive FIFO; OUT2 and IER make it interrupt. */
static void uart_drive(struct board *b)
{
	out8(b, COM1 + 3, 0x83);
	out8(b, COM1, 0x01);          /* 115200 baud */
	out8(b, COM1 + 1, 0x00);
	out8(b, COM1 + 3, 0x1b);      /* 8E1 */
	out8(b, COM1 + 7, 0x5a);
	out8(b, COM1 + 2, 0x81);      /* FIFO on, trigger at 8 */
	out8(b, COM1 + 4, 0x18);      /* loopback, OUT2 */
	for (int i = 0; i < 5; i++)
		out8(b, COM1, (uint8_t)('a' + i));
	in8(b, COM1);                 /* 'a' read: RBR keeps it */
	out8(b, COM1 + 4, 0x0b);      /* loopback off, OUT2, DTR, RTS */
	out8(b, COM1 + 1, 0x01);      /* RX data interrupt */
}

static void test_uart_round_trip(void)
{
	struct board *a = uart_board(), *b = uart_board();
	struct snap_out *o = snap_out_new();
	static struct saved s, s2;
	struct snap_in *in;

	CHECK(a && b);
	uart_drive(a);
	CHECK_EQ(atomic_load(&a->level[4]), 1);
	uart_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in);
	CHECK_EQ(uart_load(b->dev, in), 0);
	snap_in_free(in);
	CHECK_EQ(atomic_load(&b->level[4]), 1);
	o = snap_out_new();
	uart_save(b->dev, o);
	CHECK(!saved_take(&s2, o));
	CHECK(s2.len == s.len && !memcmp(s.buf, s2.buf, s.len));
	/* The same reads give the same bytes, side effects included. */
	for (int i = 0; i < 6; i++)
		for (uint16_t r = 0; r < 8; r++)
			CHECK_EQ(in8(b, (uint16_t)(COM1 + r)), in8(a, (uint16_t)(COM1 + r)));
	CHECK_EQ(atomic_load(&b->level[4]), atomic_load(&a->level[4]));
	CHECK_EQ(atomic_load(&b->level[4]), 0);    /* the FIFO is empty now */
	uart_board_free(a);
	uart_board_free(b);
}

/* A FIFO beyond what the FCR gives, and the hostile variants. */
static void test_uart_hostile(void)
{
	static const char *const variable[] = { "rx", NULL };
	const struct harness_target t = { uart_board, uart_board_load, uart_poke,
					  uart_board_free, variable };
	struct board *a = uart_board();
	struct snap_out *o = snap_out_new();
	static struct harness_section sec;
	static struct saved s, bad;
	const struct harness_field *rx;
	uint8_t big[17] = { 0 }, zero = 0;
	const char *why;

	CHECK(a);
	uart_drive(a);
	uart_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	uart_board_free(a);
	why = harness_hostile(&t, &s, "uart", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
	CHECK(!harness_find(&s, "uart", 0, &sec));
	rx = harness_field(&sec, "rx");
	CHECK(rx && rx->len == 4);
	CHECK(!harness_encode(&sec, 1, -1, (int)(rx - sec.f), big, 17, &bad));
	CHECK_EQ(harness_try(&t, &bad), 0);
	/* FIFO off: room for one byte, and the stream holds four. */
	CHECK(!harness_encode(&sec, 1, -1, (int)(harness_field(&sec, "fcr") - sec.f), &zero, 1,
			      &bad));
	CHECK_EQ(harness_try(&t, &bad), 0);
}

/* ---- i8042 ---- */

static void *kbc_board(void)
{
	struct board *b = board_new();

	if (b && !(b->dev = i8042_new(b->pio, &b->m))) {
		board_free(b);
		return NULL;
	}
	return b;
}

static void kbc_board_free(void *p)
{
	struct board *b = p;

	i8042_free(b->dev);
	board_free(b);
}

static int kbc_board_load(void *p, struct snap_in *in)
{
	return i8042_load(((struct board *)p)->dev, in);
}

static void kbc_poke(void *p)
{
	struct board *b = p;

	out8(b, 0x60, 0x01);          /* to the loaded pending command, if any */
	for (int i = 0; i < 20; i++) {
		in8(b, 0x64);
		in8(b, 0x60);
	}
	in8(b, 0x92);
	out8(b, 0x64, 0x20);
	in8(b, 0x60);
}

static void kbc_drive(struct board *b)
{
	out8(b, 0x64, 0x60);          /* command byte: kbd and aux interrupts, SYS */
	out8(b, 0x60, 0x47);
	out8(b, 0x64, 0xd3);          /* aux loop-back byte first */
	out8(b, 0x60, 0x99);
	out8(b, 0x64, 0xd2);
	out8(b, 0x60, 0x12);
	out8(b, 0x64, 0xaa);          /* self test: 0x55 queued */
	out8(b, 0x92, 0x02);
	out8(b, 0x64, 0xd1);          /* waits for its data byte */
}

static void test_i8042_round_trip(void)
{
	struct board *a = kbc_board(), *b = kbc_board();
	static struct saved s, s2;
	struct snap_out *o = snap_out_new();
	struct snap_in *in;

	CHECK(a && b);
	kbc_drive(a);
	CHECK_EQ(atomic_load(&a->level[12]), 1);
	i8042_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && i8042_load(b->dev, in) == 0);
	snap_in_free(in);
	CHECK_EQ(atomic_load(&b->level[12]), 1);
	CHECK_EQ(atomic_load(&b->level[1]), 0);
	o = snap_out_new();
	i8042_save(b->dev, o);
	CHECK(!saved_take(&s2, o));
	CHECK(s2.len == s.len && !memcmp(s.buf, s2.buf, s.len));
	/* The pending 0xd1 takes its byte on both: A20 on, no reset. */
	out8(a, 0x60, 0x03);
	out8(b, 0x60, 0x03);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(in8(b, 0x64), in8(a, 0x64));
		CHECK_EQ(in8(b, 0x60), in8(a, 0x60));
		CHECK_EQ(atomic_load(&b->level[1]), atomic_load(&a->level[1]));
		CHECK_EQ(atomic_load(&b->level[12]), atomic_load(&a->level[12]));
	}
	CHECK_EQ(in8(b, 0x92), 0x02);
	CHECK(i8042_a20_enabled(b->dev));
	kbc_board_free(a);
	kbc_board_free(b);
}

static void test_i8042_hostile(void)
{
	static const char *const variable[] = { "queue", NULL };
	const struct harness_target t = { kbc_board, kbc_board_load, kbc_poke, kbc_board_free,
					  variable };
	struct board *a = kbc_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	const char *why;

	CHECK(a);
	kbc_drive(a);
	i8042_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	kbc_board_free(a);
	why = harness_hostile(&t, &s, "i8042", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

/* ---- RTC ---- */

static void *rtc_board(void)
{
	struct board *b = board_new();

	if (b && !(b->dev = rtc_new(b->pio, (struct irq_line){ &b->chip, 8 }))) {
		board_free(b);
		return NULL;
	}
	return b;
}

static void rtc_board_free(void *p)
{
	struct board *b = p;

	rtc_free(b->dev);
	board_free(b);
}

static int rtc_board_load(void *p, struct snap_in *in)
{
	return rtc_load(((struct board *)p)->dev, in);
}

static uint8_t cmos(struct board *b, uint8_t idx)
{
	out8(b, 0x70, idx);
	return in8(b, 0x71);
}

static void cmos_set(struct board *b, uint8_t idx, uint8_t v)
{
	out8(b, 0x70, idx);
	out8(b, 0x71, v);
}

static void rtc_poke(void *p)
{
	struct board *b = p;

	in8(b, 0x71);                 /* at the loaded index first */
	out8(b, 0x71, 0x5a);
	for (uint8_t i = 0; i < 0x80; i++)
		cmos(b, i);
	cmos_set(b, 0x0b, 0x02);
	cmos(b, 0x0c);
}

/* The clock held by SET at 2031-07-04 12:34:56, alarm bytes, CMOS RAM, PIE. */
static void rtc_drive(struct board *b)
{
	cmos_set(b, 0x0b, 0x82);
	cmos_set(b, 0x09, 0x31);
	cmos_set(b, 0x08, 0x07);
	cmos_set(b, 0x07, 0x04);
	cmos_set(b, 0x04, 0x12);
	cmos_set(b, 0x02, 0x34);
	cmos_set(b, 0x00, 0x56);
	cmos_set(b, 0x01, 0xc0);
	cmos_set(b, 0x40, 0xab);
	cmos_set(b, 0x0a, 0x2f);      /* 2 Hz periodic */
	cmos_set(b, 0x0b, 0xc2);      /* still held; PIE */
	out8(b, 0x70, 0x40);          /* the index stays on 0x40 */
}

static int64_t stream_time(const struct saved *s)
{
	static struct harness_section sec;
	const struct harness_field *f;
	int64_t t;

	if (harness_find(s, "rtc", 0, &sec) || !(f = harness_field(&sec, "time_ns")))
		return -1;
	memcpy(&t, f->data, 8);
	return t;
}

static void test_rtc_round_trip(void)
{
	struct board *a = rtc_board(), *b = rtc_board();
	static struct saved s, s2;
	struct snap_out *o = snap_out_new();
	struct snap_in *in;
	uint64_t t0;

	CHECK(a && b);
	rtc_drive(a);
	t0 = now_ms();
	while (!atomic_load(&a->level[8]) && now_ms() - t0 < 2000)
		sleep_ms(5);
	CHECK_EQ(atomic_load(&a->level[8]), 1);       /* PF with PIE */
	rtc_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && rtc_load(b->dev, in) == 0);
	snap_in_free(in);
	CHECK_EQ(atomic_load(&b->level[8]), 1);
	CHECK_EQ(in8(b, 0x71), 0xab);                /* the index came along */
	for (uint8_t i = 0; i < 0x80; i++)
		if (i != 0x0a && i != 0x0c)
			CHECK_EQ(cmos(b, i), cmos(a, i));
	CHECK_EQ(cmos(b, 0x0c) & 0xc0, 0xc0);
	CHECK_EQ(atomic_load(&b->level[8]), 0);       /* reading C drops it */
	/* Released on both: the clock runs from the held time. */
	cmos_set(a, 0x0b, 0x02);
	cmos_set(b, 0x0b, 0x02);
	CHECK_EQ(cmos(b, 0x09), 0x31);
	CHECK_EQ(cmos(b, 0x04), 0x12);
	CHECK_EQ(cmos(b, 0x02), 0x34);
	/* A running clock continues from the save, however long the load waits. */
	o = snap_out_new();
	rtc_save(b->dev, o);
	CHECK(!saved_take(&s, o));
	sleep_ms(300);
	in = saved_parse(&s);
	CHECK(in && rtc_load(a->dev, in) == 0);
	snap_in_free(in);
	o = snap_out_new();
	rtc_save(a->dev, o);
	CHECK(!saved_take(&s2, o));
	CHECK(stream_time(&s2) >= stream_time(&s));
	CHECK(stream_time(&s2) - stream_time(&s) < 150 * 1000000LL);
	rtc_board_free(a);
	rtc_board_free(b);
}

static void test_rtc_hostile(void)
{
	const struct harness_target t = { rtc_board, rtc_board_load, rtc_poke, rtc_board_free,
					  NULL };
	struct board *a = rtc_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	const char *why;

	CHECK(a);
	rtc_drive(a);
	rtc_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	rtc_board_free(a);
	why = harness_hostile(&t, &s, "rtc", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

/* ---- ACPI PM ---- */

static void *pm_board(void)
{
	struct board *b = board_new();

	if (b && !(b->dev = acpi_pm_new(b->pio, (struct irq_line){ &b->chip, ACPI_SCI_IRQ },
					&b->m))) {
		board_free(b);
		return NULL;
	}
	return b;
}

static void pm_board_free(void *p)
{
	struct board *b = p;

	acpi_pm_free(b->dev);
	board_free(b);
}

static int pm_board_load(void *p, struct snap_in *in)
{
	return acpi_pm_load(((struct board *)p)->dev, in);
}

static uint32_t pm_timer(struct board *b)
{
	return (uint32_t)bus_read(b->pio, ACPI_PM_BASE + 8, 4);
}

static void pm_poke(void *p)
{
	struct board *b = p;

	for (uint16_t i = 0; i < ACPI_PM_LEN; i += 2)
		bus_read(b->pio, (uint16_t)(ACPI_PM_BASE + i), 2);
	bus_read(b->pio, ACPI_RESET_PORT, 1);
	pm_timer(b);
}

static void pm_drive(struct board *b)
{
	bus_write(b->pio, ACPI_PM_BASE + 2, 2, 1u << 8);   /* PWRBTN_EN */
	acpi_pm_power_button(b->dev);
	bus_write(b->pio, ACPI_RESET_PORT, 1, 0x02);
	sleep_ms(20);
	pm_timer(b);
}

static void test_acpi_pm_round_trip(void)
{
	struct board *a = pm_board(), *b = pm_board();
	static struct saved s;
	struct snap_out *o = snap_out_new();
	struct snap_in *in;
	uint32_t before, after;

	CHECK(a && b);
	pm_drive(a);
	CHECK_EQ(atomic_load(&a->level[ACPI_SCI_IRQ]), 1);
	before = pm_timer(a);
	acpi_pm_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	sleep_ms(100);
	in = saved_parse(&s);
	CHECK(in && acpi_pm_load(b->dev, in) == 0);
	snap_in_free(in);
	after = pm_timer(b);
	/* On from the count saved: neither back nor 100 ms ahead (358 thousand ticks). */
	CHECK(((after - before) & 0xffffff) < 3579545 / 20);
	CHECK_EQ(atomic_load(&b->level[ACPI_SCI_IRQ]), 1);
	/* TMR_STS aside: A's timer ran 100 ms longer and may have flipped bit 23. */
	CHECK_EQ(bus_read(b->pio, ACPI_PM_BASE, 2) & ~1u, bus_read(a->pio, ACPI_PM_BASE, 2) & ~1u);
	CHECK_EQ(bus_read(b->pio, ACPI_PM_BASE + 2, 2), 1u << 8);
	CHECK_EQ(bus_read(b->pio, ACPI_PM_BASE + 4, 2), bus_read(a->pio, ACPI_PM_BASE + 4, 2));
	CHECK_EQ(bus_read(b->pio, ACPI_RESET_PORT, 1), 0x02);
	bus_write(b->pio, ACPI_PM_BASE, 2, 1u << 8);       /* clear PWRBTN_STS */
	CHECK_EQ(atomic_load(&b->level[ACPI_SCI_IRQ]), 0);
	pm_board_free(a);
	pm_board_free(b);
}

static void test_acpi_pm_hostile(void)
{
	const struct harness_target t = { pm_board, pm_board_load, pm_poke, pm_board_free, NULL };
	struct board *a = pm_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	const char *why;

	CHECK(a);
	pm_drive(a);
	acpi_pm_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	pm_board_free(a);
	why = harness_hostile(&t, &s, "acpi_pm", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

/* ---- fw_cfg ---- */

/* What machine_create adds, the same on both sides of a restore. */
static void *fw_board_sized(size_t cmdline_len)
{
	static const char cmdline[] = "console=ttyS0 root=/dev/vda rw quiet";
	struct board *b = board_new();

	if (!b)
		return NULL;
	b->dev = fw_cfg_new(b->pio, &b->mem);
	if (!b->dev || fw_cfg_add(b->dev, FW_CFG_CMDLINE_DATA, cmdline, cmdline_len) ||
	    fw_cfg_add_file(b->dev, "etc/vmon", "abcdefgh", 8)) {
		if (b->dev)
			fw_cfg_free(b->dev);
		board_free(b);
		return NULL;
	}
	return b;
}

static void *fw_board(void)
{
	return fw_board_sized(37);
}

static void fw_board_free(void *p)
{
	struct board *b = p;

	fw_cfg_free(b->dev);
	board_free(b);
}

static int fw_board_load(void *p, struct snap_in *in)
{
	return fw_cfg_load(((struct board *)p)->dev, in);
}

static void fw_poke(void *p)
{
	struct board *b = p;

	for (int i = 0; i < 64; i++)
		in8(b, FW_CFG_PORT_DATA);
}

/* Half-way through the command line, the DMA address's high half written. */
static void fw_drive(struct board *b)
{
	bus_write(b->pio, FW_CFG_PORT_SEL, 2, FW_CFG_CMDLINE_DATA);
	for (int i = 0; i < 8; i++)
		in8(b, FW_CFG_PORT_DATA);
	bus_write(b->pio, FW_CFG_PORT_DMA, 4, htobe32(1)); /* high half: 4 GiB up */
}

static void test_fw_cfg_round_trip(void)
{
	struct board *a = fw_board(), *b = fw_board(), *c = fw_board_sized(20);
	static struct saved s, s2;
	struct snap_out *o = snap_out_new();
	struct snap_in *in;
	uint32_t desc[4] = { 0 };

	CHECK(a && b && c);
	fw_drive(a);
	fw_cfg_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && fw_cfg_load(b->dev, in) == 0);
	snap_in_free(in);
	o = snap_out_new();
	fw_cfg_save(b->dev, o);                           /* the DMA high half included */
	CHECK(!saved_take(&s2, o));
	CHECK(s2.len == s.len && !memcmp(s.buf, s2.buf, s.len));
	for (int i = 0; i < 40; i++)
		CHECK_EQ(in8(b, FW_CFG_PORT_DATA), in8(a, FW_CFG_PORT_DATA));
	/* DMA still works after the load: select FILE_DIR. */
	desc[0] = htobe32(FW_CFG_DMA_CTL_SELECT | (uint32_t)FW_CFG_FILE_DIR << 16);
	guest_mem_write(&b->mem, 0x1000, desc, sizeof(desc));
	bus_write(b->pio, FW_CFG_PORT_DMA, 4, 0);
	bus_write(b->pio, FW_CFG_PORT_DMA + 4, 4, htobe32(0x1000));
	guest_mem_read(&b->mem, 0x1000, desc, 4);
	CHECK_EQ(desc[0], 0);
	CHECK_EQ(in8(b, FW_CFG_PORT_DATA), 0);           /* BE32 count of one file */
	CHECK_EQ(in8(b, FW_CFG_PORT_DATA), 0);
	CHECK_EQ(in8(b, FW_CFG_PORT_DATA), 0);
	CHECK_EQ(in8(b, FW_CFG_PORT_DATA), 1);
	/* Built from another configuration: the selected item does not match. */
	in = saved_parse(&s);
	CHECK(in && fw_cfg_load(c->dev, in) == -1);
	CHECK(strstr(snap_in_error(in), "has 20 bytes here, 37 in the snapshot"));
	snap_in_free(in);
	fw_board_free(a);
	fw_board_free(b);
	fw_board_free(c);
}

static void test_fw_cfg_hostile(void)
{
	const struct harness_target t = { fw_board, fw_board_load, fw_poke, fw_board_free, NULL };
	struct board *a = fw_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	const char *why;

	CHECK(a);
	fw_drive(a);
	fw_cfg_save(a->dev, o);
	CHECK(!saved_take(&s, o));
	fw_board_free(a);
	why = harness_hostile(&t, &s, "fw_cfg", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

int main(void)
{
	RUN(test_uart_round_trip);
	RUN(test_uart_hostile);
	RUN(test_i8042_round_trip);
	RUN(test_i8042_hostile);
	RUN(test_rtc_round_trip);
	RUN(test_rtc_hostile);
	RUN(test_acpi_pm_round_trip);
	RUN(test_acpi_pm_hostile);
	RUN(test_fw_cfg_round_trip);
	RUN(test_fw_cfg_hostile);
	return TEST_EXIT();
}
