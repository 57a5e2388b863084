/* SPDX-License-Identifier: Apache-2.0 */
/* The IOAPIC through a real MMIO bus, delivering to real LAPICs. */
#include <string.h>

#include "hw/ioapic.h"
#include "hw/lapic.h"
#include "machine/bus.h"
#include "test.h"

#define IRR 0x200
#define TMR 0x180
#define EOI 0x0b0
#define SVR 0x0f0
#define LDR 0x0d0

static struct bus *mmio;
static struct lapic_bus *lapics;
static struct ioapic *io;

static void setup(void)
{
	mmio = bus_new("mmio");
	lapics = lapic_bus_new(NULL, 2);
	io = ioapic_new(mmio, IOAPIC_BASE, lapics);
	lapic_bus_set_eoi_hook(lapics, ioapic_eoi, io);
	for (int i = 0; i < 2; i++)
		lapic_write(lapic_bus_get(lapics, i), SVR, 0x1ff);
}

static void teardown(void)
{
	ioapic_free(io);
	lapic_bus_free(lapics);
	bus_free(mmio);
}

static uint32_t reg_read(uint32_t r)
{
	bus_write(mmio, IOAPIC_BASE, 4, r);
	return (uint32_t)bus_read(mmio, IOAPIC_BASE + 0x10, 4);
}

static void reg_write(uint32_t r, uint32_t v)
{
	bus_write(mmio, IOAPIC_BASE, 4, r);
	bus_write(mmio, IOAPIC_BASE + 0x10, 4, v);
}

static void route(unsigned pin, uint32_t lo, uint8_t dest)
{
	reg_write(0x10 + 2 * pin + 1, (uint32_t)dest << 24);
	reg_write(0x10 + 2 * pin, lo);
}

static int in(int cpu, uint32_t base, unsigned v)
{
	return !!(lapic_read(lapic_bus_get(lapics, cpu), base + 0x10 * (v / 32)) &
		  (1u << (v % 32)));
}

/* The CPU takes the interrupt and ends it. */
static int take(int cpu)
{
	struct lapic *l = lapic_bus_get(lapics, cpu);
	int v = lapic_ack_interrupt(l);

	if (v >= 0)
		lapic_write(l, EOI, 0);
	return v;
}

static void test_registers(void)
{
	setup();
	CHECK_EQ(reg_read(1), 0x170011);                /* 24 pins, version 0x11 */
	reg_write(0, 0x0a000000);
	CHECK_EQ(reg_read(0), 0x0a000000);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		CHECK_EQ(reg_read(0x10 + 2 * pin) & 0x10000, 0x10000);   /* masked */
	/* Delivery status and Remote IRR are read-only. */
	reg_write(0x10 + 2 * 5, 0x15030);
	CHECK_EQ(reg_read(0x10 + 2 * 5), 0x10030);
	reg_write(0x10 + 2 * 5 + 1, 0xff000000);
	CHECK_EQ(reg_read(0x10 + 2 * 5 + 1), 0xff000000);
	CHECK_EQ(reg_read(0x10 + 2 * 24), 0);           /* past the last pin */
	teardown();
}

static void test_edge(void)
{
	setup();
	ioapic_set_irq(io, 4, 1);                       /* masked: nothing */
	ioapic_set_irq(io, 4, 0);
	route(4, 0x34, 1);
	CHECK(!in(1, IRR, 0x34));
	ioapic_set_irq(io, 4, 1);
	CHECK(in(1, IRR, 0x34) && !in(0, IRR, 0x34));
	CHECK(!in(1, TMR, 0x34));
	CHECK_EQ(take(1), 0x34);
	ioapic_set_irq(io, 4, 1);                       /* still high: no new edge */
	CHECK(!in(1, IRR, 0x34));
	ioapic_set_irq(io, 4, 0);
	ioapic_set_irq(io, 4, 1);
	CHECK(in(1, IRR, 0x34));
	teardown();
}

static void test_level_remote_irr(void)
{
	setup();
	route(10, 0x8000 | 0x3a, 0);                   /* level, vector 0x3a, CPU 0 */
	ioapic_set_irq(io, 10, 1);
	CHECK(in(0, IRR, 0x3a) && in(0, TMR, 0x3a));
	CHECK(reg_read(0x10 + 2 * 10) & 0x4000);        /* Remote IRR */
	CHECK_EQ(lapic_ack_interrupt(lapic_bus_get(lapics, 0)), 0x3a);
	ioapic_set_irq(io, 10, 1);                      /* in service: not again */
	CHECK(!in(0, IRR, 0x3a));
	/* EOI while the line is still asserted: delivered again. */
	lapic_write(lapic_bus_get(lapics, 0), EOI, 0);
	CHECK(in(0, IRR, 0x3a));
	CHECK_EQ(lapic_ack_interrupt(lapic_bus_get(lapics, 0)), 0x3a);
	ioapic_set_irq(io, 10, 0);
	lapic_write(lapic_bus_get(lapics, 0), EOI, 0);
	CHECK(!in(0, IRR, 0x3a));
	CHECK_EQ(reg_read(0x10 + 2 * 10) & 0x4000, 0);
	teardown();
}

static void test_unmask_asserted_level(void)
{
	setup();
	route(16, 0x18000 | 0x50, 1);                   /* level, masked */
	ioapic_set_irq(io, 16, 1);
	CHECK(!in(1, IRR, 0x50));
	route(16, 0x8000 | 0x50, 1);                    /* unmask */
	CHECK(in(1, IRR, 0x50));
	ioapic_set_irq(io, 23, 1);                      /* last pin, masked */
	ioapic_set_irq(io, 24, 1);                      /* no such pin: ignored */
	teardown();
}

static void test_logical_and_broadcast(void)
{
	setup();
	lapic_write(lapic_bus_get(lapics, 0), LDR, 0x01000000);
	lapic_write(lapic_bus_get(lapics, 1), LDR, 0x02000000);
	route(3, 0x800 | 0x33, 0x02);                   /* logical, CPU 1 */
	ioapic_set_irq(io, 3, 1);
	CHECK(!in(0, IRR, 0x33) && in(1, IRR, 0x33));
	route(7, 0x37, 0xff);                           /* physical broadcast */
	ioapic_set_irq(io, 7, 1);
	CHECK(in(0, IRR, 0x37) && in(1, IRR, 0x37));
	route(8, 0x400, 1);                             /* NMI */
	ioapic_set_irq(io, 8, 1);
	CHECK(lapic_take_nmi(lapic_bus_get(lapics, 1)));
	teardown();
}

int main(void)
{
	RUN(test_registers);
	RUN(test_edge);
	RUN(test_level_remote_irr);
	RUN(test_unmask_asserted_level);
	RUN(test_logical_and_broadcast);
	return TEST_EXIT();
}
