/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Save/load of the software interrupt controllers (8259 pair, IOAPIC, the
 * irqchip's line levels): driven into interrupts pending and in service,
 * saved, loaded into fresh instances, and then acknowledged, EOId and
 * re-raised alike; hostile streams are refused with an error.
 */
#include <string.h>

#include "hw/ioapic.h"
#include "hw/irqchip.h"
#include "hw/lapic.h"
#include "hw/pic.h"
#include "machine/bus.h"
#include "snap_harness.h"
#include "test.h"

#define SVR 0x0f0
#define IRR 0x200

/* ---- 8259 pair ---- */

struct pic_board {
	struct bus *pio;
	struct pic *pic;
	int notified;
};

static void pic_notify(void *opaque)
{
	((struct pic_board *)opaque)->notified++;
}

static void *pic_board(void)
{
	struct pic_board *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->pio = bus_new("pio");
	b->pic = b->pio ? pic_new(b->pio, pic_notify, b) : NULL;
	if (!b->pic) {
		bus_free(b->pio);
		free(b);
		return NULL;
	}
	return b;
}

static void pic_board_free(void *p)
{
	struct pic_board *b = p;

	pic_free(b->pic);
	bus_free(b->pio);
	free(b);
}

static int pic_board_load(void *p, struct snap_in *in)
{
	return pic_load(((struct pic_board *)p)->pic, in);
}

static void pout(struct pic_board *b, uint16_t port, uint8_t v)
{
	bus_write(b->pio, port, 1, v);
}

static uint8_t pin8(struct pic_board *b, uint16_t port)
{
	return (uint8_t)bus_read(b->pio, port, 1);
}

static void pic_poke(void *p)
{
	struct pic_board *b = p;

	for (int i = 0; i < 10; i++) {
		pin8(b, 0x20);
		pin8(b, 0x21);
		pin8(b, 0xa0);
		pin8(b, 0xa1);
		pic_has_interrupt(b->pic);
		pic_ack(b->pic);
		pout(b, 0x20, 0x20);
		pout(b, 0xa0, 0x20);
	}
	bus_read(b->pio, 0x4d0, 2);
	pic_set_irq(b->pic, 11, 1);
	pic_ack(b->pic);
}

/*
 * Linux's setup, IRQ3 in service, IRQ1 pending, IRQ11 level-triggered and
 * held, IRQ4 masked but requested, the master in ISR-read mode.
 */
static void pic_drive(struct pic_board *b)
{
	static const uint8_t init[][2] = {
		{ 0x20, 0x11 }, { 0xa0, 0x11 }, { 0x21, 0x20 }, { 0xa1, 0x28 },
		{ 0x21, 0x04 }, { 0xa1, 0x02 }, { 0x21, 0x01 }, { 0xa1, 0x01 },
		{ 0x21, 0x10 }, { 0xa1, 0x00 }, { 0x20, 0x0b },
	};

	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		pout(b, init[i][0], init[i][1]);
	bus_write(b->pio, 0x4d1, 1, 0x08);
	pic_set_irq(b->pic, 3, 1);
	pic_ack(b->pic);                     /* IRQ3 in service */
	pic_set_irq(b->pic, 1, 1);
	pic_set_irq(b->pic, 11, 1);
	pic_set_irq(b->pic, 4, 1);
}

static void test_pic_round_trip(void)
{
	struct pic_board *a = pic_board(), *b = pic_board();
	struct snap_out *o = snap_out_new();
	static struct saved s, s2;
	struct snap_in *in;

	CHECK(a && b);
	pic_drive(a);
	pic_save(a->pic, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && pic_load(b->pic, in) == 0);
	snap_in_free(in);
	CHECK_EQ(b->notified, 1);            /* INTR is up: the CPU hears of it */
	o = snap_out_new();
	pic_save(b->pic, o);
	CHECK(!saved_take(&s2, o));
	CHECK(s2.len == s.len && !memcmp(s.buf, s2.buf, s.len));
	CHECK_EQ(pin8(b, 0x20), 0x08);       /* ISR: IRQ3 */
	CHECK_EQ(pin8(b, 0x21), 0x10);
	CHECK_EQ(bus_read(b->pio, 0x4d0, 2), 0x0800);
	/* IRQ1 still high: no new edge; IRQ11's level stays requested. */
	pic_set_irq(a->pic, 1, 1);
	pic_set_irq(b->pic, 1, 1);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(pic_has_interrupt(b->pic), pic_has_interrupt(a->pic));
		CHECK_EQ(pic_ack(b->pic), pic_ack(a->pic));
		pout(a, 0x20, 0x20);
		pout(b, 0x20, 0x20);
		pout(a, 0xa0, 0x20);
		pout(b, 0xa0, 0x20);
	}
	pic_set_irq(b->pic, 11, 0);
	pic_set_irq(a->pic, 11, 0);
	pic_set_irq(b->pic, 1, 0);
	pic_set_irq(b->pic, 1, 1);           /* a real edge now */
	CHECK_EQ(pic_ack(b->pic), 0x21);
	pic_board_free(a);
	pic_board_free(b);
}

static void test_pic_hostile(void)
{
	const struct harness_target t = { pic_board, pic_board_load, pic_poke, pic_board_free,
					  NULL };
	struct pic_board *a = pic_board();
	struct snap_out *o = snap_out_new();
	static struct harness_section sec;
	static struct saved s, bad;
	uint8_t chip[16];
	const char *why;

	CHECK(a);
	pic_drive(a);
	pic_save(a->pic, o);
	CHECK(!saved_take(&s, o));
	pic_board_free(a);
	why = harness_hostile(&t, &s, "pic", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
	/* IRQ0 cannot be level-triggered on a PC (the ELCR mask). */
	CHECK(!harness_find(&s, "pic", 0, &sec));
	memcpy(chip, harness_field(&sec, "master")->data, 16);
	chip[4] = 0x01;
	CHECK(!harness_encode(&sec, 1, -1, (int)(harness_field(&sec, "master") - sec.f), chip, 16,
			      &bad));
	CHECK_EQ(harness_try(&t, &bad), 0);
}

/* ---- IOAPIC ---- */

struct io_board {
	struct bus *mmio;
	struct lapic_bus *lapics;
	struct ioapic *io;
};

static void *io_board(void)
{
	struct io_board *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->mmio = bus_new("mmio");
	b->lapics = lapic_bus_new(NULL, 2);
	b->io = b->mmio && b->lapics ? ioapic_new(b->mmio, IOAPIC_BASE, b->lapics) : NULL;
	if (!b->io) {
		lapic_bus_free(b->lapics);
		bus_free(b->mmio);
		free(b);
		return NULL;
	}
	lapic_bus_set_eoi_hook(b->lapics, ioapic_eoi, b->io);
	for (int i = 0; i < 2; i++)
		lapic_write(lapic_bus_get(b->lapics, i), SVR, 0x1ff);
	return b;
}

static void io_board_free(void *p)
{
	struct io_board *b = p;

	ioapic_free(b->io);
	lapic_bus_free(b->lapics);
	bus_free(b->mmio);
	free(b);
}

static int io_board_load(void *p, struct snap_in *in)
{
	return ioapic_load(((struct io_board *)p)->io, in);
}

static uint32_t io_read(struct io_board *b, uint32_t r)
{
	bus_write(b->mmio, IOAPIC_BASE, 4, r);
	return (uint32_t)bus_read(b->mmio, IOAPIC_BASE + 0x10, 4);
}

static void io_write(struct io_board *b, uint32_t r, uint32_t v)
{
	bus_write(b->mmio, IOAPIC_BASE, 4, r);
	bus_write(b->mmio, IOAPIC_BASE + 0x10, 4, v);
}

static int io_pending(struct io_board *b, int cpu, unsigned v)
{
	return !!(lapic_read(lapic_bus_get(b->lapics, cpu), IRR + 0x10 * (v / 32)) &
		  (1u << (v % 32)));
}

static void io_poke(void *p)
{
	struct io_board *b = p;

	bus_read(b->mmio, IOAPIC_BASE + 0x10, 4);   /* at the loaded selector */
	for (uint32_t r = 0; r < 0x40; r++)
		io_read(b, r);
	for (int v = 0; v < 256; v++)
		ioapic_eoi(b->io, (uint8_t)v);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		ioapic_set_irq(b->io, pin, 1);
}

/*
 * Pin 5 level to CPU 1 and in service; pin 6 level, masked, asserted;
 * pin 3 edge to CPU 0, asserted; the ID set, the selector left on pin 5.
 */
static void io_drive(struct io_board *b)
{
	io_write(b, 0x00, 0x05000000);
	io_write(b, 0x10 + 2 * 5 + 1, 1u << 24);
	io_write(b, 0x10 + 2 * 5, 0x8035);
	io_write(b, 0x10 + 2 * 6, 0x18036);
	io_write(b, 0x10 + 2 * 3, 0x0033);
	ioapic_set_irq(b->io, 5, 1);
	ioapic_set_irq(b->io, 6, 1);
	ioapic_set_irq(b->io, 3, 1);
	bus_write(b->mmio, IOAPIC_BASE, 4, 0x10 + 2 * 5);
}

static void test_ioapic_round_trip(void)
{
	struct io_board *a = io_board(), *b = io_board();
	struct snap_out *o = snap_out_new();
	static struct saved s, s2;
	struct snap_in *in;

	CHECK(a && b);
	io_drive(a);
	CHECK(io_pending(a, 1, 0x35) && io_pending(a, 0, 0x33));
	ioapic_save(a->io, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && ioapic_load(b->io, in) == 0);
	snap_in_free(in);
	/* In service: the load does not deliver it again. */
	CHECK(!io_pending(b, 1, 0x35));
	CHECK_EQ(bus_read(b->mmio, IOAPIC_BASE + 0x10, 4), 0xc035);   /* Remote IRR */
	o = snap_out_new();
	ioapic_save(b->io, o);
	CHECK(!saved_take(&s2, o));
	CHECK(s2.len == s.len && !memcmp(s.buf, s2.buf, s.len));
	for (uint32_t r = 0; r < 0x40; r++)
		CHECK_EQ(io_read(b, r), io_read(a, r));
	/* The EOI with pin 5 still asserted delivers again, on both. */
	ioapic_eoi(a->io, 0x35);
	ioapic_eoi(b->io, 0x35);
	CHECK(io_pending(b, 1, 0x35));
	CHECK_EQ(io_read(b, 0x10 + 2 * 5), io_read(a, 0x10 + 2 * 5));
	/* Pin 3's line was already high: no edge.  Pin 6 fires when unmasked. */
	ioapic_set_irq(b->io, 3, 1);
	CHECK(!io_pending(b, 0, 0x33));
	io_write(b, 0x10 + 2 * 6, 0x8036);
	CHECK(io_pending(b, 0, 0x36));
	io_board_free(a);
	io_board_free(b);
}

static void test_ioapic_hostile(void)
{
	const struct harness_target t = { io_board, io_board_load, io_poke, io_board_free, NULL };
	struct io_board *a = io_board(), *b = io_board();
	struct snap_out *o = snap_out_new();
	static struct harness_section sec;
	static struct saved s, bad;
	uint64_t rte[IOAPIC_PINS];
	struct snap_in *in;
	const char *why;

	CHECK(a && b);
	io_drive(a);
	ioapic_save(a->io, o);
	CHECK(!saved_take(&s, o));
	io_board_free(a);
	why = harness_hostile(&t, &s, "ioapic", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
	/* Remote IRR on an edge pin cannot happen. */
	CHECK(!harness_find(&s, "ioapic", 0, &sec));
	memcpy(rte, harness_field(&sec, "rte")->data, sizeof(rte));
	rte[3] |= 1ULL << 14;
	CHECK(!harness_encode(&sec, 1, -1, (int)(harness_field(&sec, "rte") - sec.f),
			      (const uint8_t *)rte, sizeof(rte), &bad));
	in = saved_parse(&bad);
	CHECK(in && ioapic_load(b->io, in) == -1);
	CHECK(strstr(snap_in_error(in), "pin 3: Remote IRR on an edge pin"));
	snap_in_free(in);
	io_board_free(b);
}

/* ---- irqchip line levels ---- */

static void *chip_new(void)
{
	return irqchip_new(NULL, NULL, NULL);
}

static int chip_load(void *p, struct snap_in *in)
{
	return irqchip_load(p, in);
}

static void chip_poke(void *p)
{
	struct irqchip *ic = p;

	ic->chip.set_level(&ic->chip, 9, 1);
	ic->chip.set_level(&ic->chip, 9, 0);
}

static void chip_free(void *p)
{
	irqchip_free(p);
}

static void test_irqchip_levels(void)
{
	const struct harness_target t = { chip_new, chip_load, chip_poke, chip_free, NULL };
	struct irqchip *a = chip_new(), *b = chip_new();
	struct snap_out *o = snap_out_new();
	static struct harness_section sec;
	static struct saved s, bad;
	uint32_t levels = 1u << 2;
	const char *why;
	struct snap_in *in;

	CHECK(a && b);
	a->chip.set_level(&a->chip, 1, 1);
	a->chip.set_level(&a->chip, 4, 1);
	a->chip.set_level(&a->chip, 17, 1);
	a->chip.set_level(&a->chip, 4, 0);
	a->chip.set_level(&a->chip, 2, 1);      /* the cascade is no line */
	irqchip_save(a, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && irqchip_load(b, in) == 0);
	snap_in_free(in);
	CHECK_EQ(atomic_load(&b->levels), (1u << 1) | (1u << 17));
	why = harness_hostile(&t, &s, "irqchip", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
	CHECK(!harness_find(&s, "irqchip", 0, &sec));
	CHECK(!harness_encode(&sec, 1, -1, 0, (const uint8_t *)&levels, 4, &bad));
	CHECK_EQ(harness_try(&t, &bad), 0);
	levels = 1u << 24;
	CHECK(!harness_encode(&sec, 1, -1, 0, (const uint8_t *)&levels, 4, &bad));
	CHECK_EQ(harness_try(&t, &bad), 0);
	irqchip_free(a);
	irqchip_free(b);
}

int main(void)
{
	RUN(test_pic_round_trip);
	RUN(test_pic_hostile);
	RUN(test_ioapic_round_trip);
	RUN(test_ioapic_hostile);
	RUN(test_irqchip_levels);
	return TEST_EXIT();
}
