/* SPDX-License-Identifier: Apache-2.0 */
/* The 8259 pair through a real port bus: init, priorities, EOI modes, cascade, ELCR. */
#include "hw/pic.h"
#include "machine/bus.h"
#include "test.h"

static struct bus *pio;
static struct pic *pic;
static int notified;

static void notify(void *opaque)
{
	(void)opaque;
	notified++;
}

static void out(uint16_t port, uint8_t v)
{
	bus_write(pio, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)bus_read(pio, port, 1);
}

/* As Linux and the test guests program it: vectors 0x20/0x28, ICW4 as given. */
static void setup(uint8_t icw4)
{
	notified = 0;
	pio = bus_new("pio");
	pic = pic_new(pio, notify, NULL);
	out(0x20, 0x11);
	out(0xa0, 0x11);
	out(0x21, 0x20);
	out(0xa1, 0x28);
	out(0x21, 0x04);
	out(0xa1, 0x02);
	out(0x21, icw4);
	out(0xa1, icw4);
	out(0x21, 0x00);
	out(0xa1, 0x00);
}

static void teardown(void)
{
	pic_free(pic);
	bus_free(pio);
}

static uint8_t isr(uint16_t port)
{
	out(port, 0x0b);
	return inb(port);
}

static uint8_t irr(uint16_t port)
{
	out(port, 0x0a);
	return inb(port);
}

static void test_edge_and_eoi(void)
{
	setup(0x01);
	CHECK(!pic_has_interrupt(pic));
	pic_set_irq(pic, 4, 1);
	CHECK(notified > 0);
	CHECK(pic_has_interrupt(pic));
	CHECK_EQ(irr(0x20), 0x10);
	CHECK_EQ(pic_ack(pic), 0x24);
	CHECK_EQ(isr(0x20), 0x10);
	CHECK_EQ(irr(0x20), 0);                         /* edge: IRR cleared on ack */
	CHECK(!pic_has_interrupt(pic));
	out(0x20, 0x20);                                /* non-specific EOI */
	CHECK_EQ(isr(0x20), 0);
	pic_set_irq(pic, 4, 1);                         /* no new edge */
	CHECK(!pic_has_interrupt(pic));
	pic_set_irq(pic, 4, 0);
	pic_set_irq(pic, 4, 1);
	CHECK(pic_has_interrupt(pic));
	teardown();
}

static void test_mask_and_priority(void)
{
	setup(0x01);
	out(0x21, 0x08);                                /* mask IRQ3 */
	pic_set_irq(pic, 3, 1);
	CHECK(!pic_has_interrupt(pic));
	CHECK_EQ(inb(0x21), 0x08);
	pic_set_irq(pic, 5, 1);
	CHECK_EQ(pic_ack(pic), 0x25);
	out(0x21, 0x00);                                /* IRQ3 outranks IRQ5 in service */
	CHECK(pic_has_interrupt(pic));
	CHECK_EQ(pic_ack(pic), 0x23);
	pic_set_irq(pic, 6, 1);                         /* lower than both in service */
	CHECK(!pic_has_interrupt(pic));
	pic_set_irq(pic, 1, 1);                         /* higher: nests */
	CHECK_EQ(pic_ack(pic), 0x21);
	out(0x20, 0x61);                                /* specific EOI for IRQ1 */
	out(0x20, 0x20);                                /* ends IRQ3, the highest */
	CHECK_EQ(isr(0x20), 0x20);
	out(0x20, 0x20);
	CHECK_EQ(pic_ack(pic), 0x26);
	out(0x20, 0x20);
	/* Nothing pending: a spurious IRQ7. */
	CHECK_EQ(pic_ack(pic), 0x27);
	CHECK_EQ(isr(0x20), 0);
	teardown();
}

static void test_cascade(void)
{
	setup(0x01);
	pic_set_irq(pic, 10, 1);
	CHECK(pic_has_interrupt(pic));
	CHECK_EQ(pic_ack(pic), 0x2a);
	CHECK_EQ(isr(0xa0), 0x04);
	CHECK_EQ(isr(0x20), 0x04);
	pic_set_irq(pic, 9, 1);                         /* the cascade is in service */
	CHECK(!pic_has_interrupt(pic));
	out(0xa0, 0x20);
	out(0x20, 0x20);
	CHECK_EQ(pic_ack(pic), 0x29);
	out(0xa1, 0x02);                                /* mask IRQ9 at the slave */
	out(0xa0, 0x20);
	out(0x20, 0x20);
	pic_set_irq(pic, 9, 0);
	pic_set_irq(pic, 9, 1);
	CHECK(!pic_has_interrupt(pic));
	teardown();
}

static void test_level_elcr(void)
{
	setup(0x01);
	out(0xd0 + 0x400, 0xff);                        /* IRQ0-2 cannot be level */
	CHECK_EQ(inb(0x4d0), 0xf8);
	out(0x4d1, 0xff);
	CHECK_EQ(inb(0x4d1), 0xde);
	CHECK_EQ(bus_read(pio, 0x4d0, 2), 0xdef8);
	out(0x4d0, 0x00);
	out(0x4d1, 0x04);                               /* IRQ10 level */
	pic_set_irq(pic, 10, 1);
	CHECK_EQ(pic_ack(pic), 0x2a);
	CHECK_EQ(irr(0xa0), 0x04);                      /* level: stays requested */
	out(0xa0, 0x20);
	out(0x20, 0x20);
	CHECK(pic_has_interrupt(pic));                  /* still asserted: again */
	pic_set_irq(pic, 10, 0);
	CHECK(!pic_has_interrupt(pic));
	teardown();
}

static void test_auto_eoi_and_poll(void)
{
	setup(0x03);                                    /* 8086, auto-EOI */
	pic_set_irq(pic, 4, 1);
	CHECK_EQ(pic_ack(pic), 0x24);
	CHECK_EQ(isr(0x20), 0);
	pic_set_irq(pic, 4, 0);
	/* Poll mode: the read is the acknowledge. */
	pic_set_irq(pic, 6, 1);
	out(0x20, 0x0c);
	CHECK_EQ(inb(0x20), 0x86);
	out(0x20, 0x0c);
	CHECK_EQ(inb(0x20), 0x00);
	teardown();
}

static void test_rotation_and_special_mask(void)
{
	setup(0x01);
	out(0x20, 0xc4);                                /* IRQ4 lowest: IRQ5 highest */
	pic_set_irq(pic, 3, 1);
	pic_set_irq(pic, 5, 1);
	CHECK_EQ(pic_ack(pic), 0x25);
	out(0x20, 0x20);
	CHECK_EQ(pic_ack(pic), 0x23);
	/* Special mask: masking the one in service lets lower ones in. */
	pic_set_irq(pic, 4, 1);                         /* the lowest now */
	CHECK(!pic_has_interrupt(pic));
	out(0x21, 0x08);
	out(0x20, 0x68);                                /* OCW3: set special mask */
	CHECK(pic_has_interrupt(pic));
	CHECK_EQ(pic_ack(pic), 0x24);
	out(0x20, 0x48);                                /* clear special mask */
	teardown();
}

int main(void)
{
	RUN(test_edge_and_eoi);
	RUN(test_mask_and_priority);
	RUN(test_cascade);
	RUN(test_level_elcr);
	RUN(test_auto_eoi_and_poll);
	RUN(test_rotation_and_special_mask);
	return TEST_EXIT();
}
