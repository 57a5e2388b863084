/* SPDX-License-Identifier: Apache-2.0 */
/* Local APICs on one APIC bus: priorities, IPIs, INIT/SIPI, timer, x2APIC, MMIO. */
#include <string.h>
#include <time.h>

#include "hw/lapic.h"
#include "machine/bus.h"
#include "test.h"

#define ID      0x020
#define VER     0x030
#define TPR     0x080
#define PPR     0x0a0
#define EOI     0x0b0
#define LDR     0x0d0
#define DFR     0x0e0
#define SVR     0x0f0
#define ISR     0x100
#define TMR     0x180
#define IRR     0x200
#define ICR     0x300
#define ICR2    0x310
#define LVTT    0x320
#define LINT0   0x350
#define TMICT   0x380
#define TMCCT   0x390
#define TDCR    0x3e0

#define EN      (1ULL << 11)
#define EXTD    (1ULL << 10)

static struct lapic_bus *b;
static int wakes[64];
static int eois[256];

static void count_wake(void *opaque)
{
	wakes[(int *)opaque - wakes]++;
}

static void count_eoi(void *opaque, uint8_t vector)
{
	(void)opaque;
	eois[vector]++;
}

static struct lapic *L(int i)
{
	return lapic_bus_get(b, i);
}

static void setup(int n, int enable)
{
	memset(wakes, 0, sizeof(wakes));
	memset(eois, 0, sizeof(eois));
	b = lapic_bus_new(NULL, n);
	lapic_bus_set_eoi_hook(b, count_eoi, NULL);
	for (int i = 0; i < n; i++) {
		lapic_set_wake(L(i), count_wake, &wakes[i]);
		if (enable)
			lapic_write(L(i), SVR, 0x1ff);
	}
}

static int in(struct lapic *l, uint32_t base, unsigned v)
{
	return !!(lapic_read(l, base + 0x10 * (v / 32)) & (1u << (v % 32)));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void send(int from, uint32_t dest, uint32_t icr)
{
	lapic_write(L(from), ICR2, dest << 24);
	lapic_write(L(from), ICR, icr);
}

static void test_reset_state(void)
{
	setup(2, 0);
	CHECK_EQ(lapic_read(L(1), ID), 1u << 24);
	CHECK_EQ(lapic_read(L(0), VER) & 0xff, 0x14);
	CHECK_EQ(lapic_read(L(0), SVR), 0xff);
	CHECK_EQ(lapic_read(L(0), DFR), 0xffffffffu);
	CHECK_EQ(lapic_read(L(0), LVTT), 0x10000);
	CHECK_EQ(lapic_read(L(0), LINT0), 0x700);       /* BSP: virtual wire */
	CHECK_EQ(lapic_read(L(1), LINT0), 0x10000);
	CHECK(lapic_accepts_pic(L(0)));
	CHECK(!lapic_accepts_pic(L(1)));
	/* Software-disabled: fixed interrupts are refused. */
	send(0, 1, 0x40);
	CHECK(!in(L(1), IRR, 0x40));
	CHECK_EQ(lapic_ack_interrupt(L(1)), (uint64_t)-1);
	lapic_bus_free(b);
}

static void test_priority_and_eoi(void)
{
	setup(1, 1);
	lapic_write(L(0), ICR, 0x40031);               /* self IPIs, shorthand */
	lapic_write(L(0), ICR, 0x40051);
	lapic_write(L(0), ICR, 0x40052);
	CHECK(in(L(0), IRR, 0x31) && in(L(0), IRR, 0x51) && in(L(0), IRR, 0x52));
	CHECK_EQ(lapic_ack_interrupt(L(0)), 0x52);
	CHECK(in(L(0), ISR, 0x52) && !in(L(0), IRR, 0x52));
	CHECK_EQ(lapic_read(L(0), PPR), 0x50);
	/* Same priority class as the one in service: held back. */
	CHECK(!lapic_has_interrupt(L(0)));
	lapic_write(L(0), EOI, 0);
	CHECK(!in(L(0), ISR, 0x52));
	CHECK_EQ(eois[0x52], 0);                        /* edge: no EOI broadcast */
	lapic_write(L(0), TPR, 0x60);
	CHECK(!lapic_has_interrupt(L(0)));
	CHECK_EQ(lapic_get_cr8(L(0)), 6);
	lapic_set_cr8(L(0), 0);
	CHECK_EQ(lapic_read(L(0), TPR), 0);
	CHECK_EQ(lapic_ack_interrupt(L(0)), 0x51);
	lapic_write(L(0), EOI, 0);
	CHECK_EQ(lapic_ack_interrupt(L(0)), 0x31);
	lapic_write(L(0), EOI, 0);
	CHECK_EQ(lapic_ack_interrupt(L(0)), (uint64_t)-1);
	lapic_bus_free(b);
}

static void test_ipi_destinations(void)
{
	setup(4, 1);
	send(0, 2, 0x41);                               /* physical */
	CHECK(in(L(2), IRR, 0x41) && !in(L(1), IRR, 0x41) && !in(L(0), IRR, 0x41));
	CHECK(wakes[2] == 1 && wakes[1] == 0);
	CHECK_EQ(lapic_read(L(0), ICR) & 0x1000, 0);    /* never pending */
	send(0, 0xff, 0x42);                            /* physical broadcast */
	for (int i = 0; i < 4; i++)
		CHECK(in(L(i), IRR, 0x42));
	send(1, 0, 0xc0043);                            /* all but self */
	CHECK(in(L(0), IRR, 0x43) && !in(L(1), IRR, 0x43) && in(L(3), IRR, 0x43));
	send(1, 0, 0x80044);                            /* all including self */
	CHECK(in(L(1), IRR, 0x44));
	/* Logical, flat model: LDR bit per CPU. */
	for (int i = 0; i < 4; i++)
		lapic_write(L(i), LDR, (1u << i) << 24);
	send(0, 0x0a, 0x845);
	CHECK(!in(L(0), IRR, 0x45) && in(L(1), IRR, 0x45) && !in(L(2), IRR, 0x45) &&
	      in(L(3), IRR, 0x45));
	/* Logical, cluster model: cluster in the high nibble. */
	for (int i = 0; i < 4; i++) {
		lapic_write(L(i), DFR, 0x0fffffff);
		lapic_write(L(i), LDR, ((i / 2) << 28 | (1u << (i % 2)) << 24));
	}
	send(0, 0x12, 0x846);                           /* cluster 1, member bit 1: CPU 3 */
	CHECK(!in(L(2), IRR, 0x46) && in(L(3), IRR, 0x46) && !in(L(1), IRR, 0x46));
	/* Lowest priority: exactly one of those named. */
	send(0, 0x13, 0x947);
	CHECK_EQ(in(L(2), IRR, 0x47) + in(L(3), IRR, 0x47), 1);
	lapic_bus_free(b);
}

static void test_init_sipi_nmi(void)
{
	uint8_t vec = 0;

	setup(2, 1);
	send(0, 1, 0xc500);                             /* INIT, level assert */
	CHECK(lapic_take_init(L(1)));
	CHECK(!lapic_take_init(L(1)));
	send(0, 1, 0x8500);                             /* INIT de-assert: ignored */
	CHECK(!lapic_take_init(L(1)));
	send(0, 1, 0x608);
	CHECK(lapic_take_sipi(L(1), &vec));
	CHECK_EQ(vec, 8);
	/* An INIT drops a SIPI sent before it. */
	send(0, 1, 0x609);
	send(0, 1, 0x4500);
	CHECK(lapic_take_init(L(1)));
	CHECK(!lapic_take_sipi(L(1), &vec));
	send(0, 1, 0x400);
	CHECK(lapic_take_nmi(L(1)));
	CHECK(!lapic_take_nmi(L(0)));
	/* INIT resets the LAPIC but for its ID. */
	lapic_write(L(1), TPR, 0x20);
	lapic_reset(L(1), 0);
	CHECK_EQ(lapic_read(L(1), TPR), 0);
	CHECK_EQ(lapic_read(L(1), SVR), 0xff);
	CHECK_EQ(lapic_read(L(1), ID), 1u << 24);
	lapic_bus_free(b);
}

static void test_level_eoi_broadcast(void)
{
	struct lapic_msg m = { .dest = 0, .vector = 0x61, .delivery = LAPIC_DM_FIXED,
			       .level = 1, .trigger = 1 };

	setup(1, 1);
	lapic_bus_deliver(b, &m, NULL);
	CHECK(in(L(0), TMR, 0x61));
	CHECK_EQ(lapic_ack_interrupt(L(0)), 0x61);
	lapic_write(L(0), EOI, 0);
	CHECK_EQ(eois[0x61], 1);
	lapic_bus_free(b);
}

static void test_timer_oneshot_periodic(void)
{
	uint64_t t0, next;
	uint32_t c1, c2;

	setup(1, 1);
	lapic_write(L(0), TDCR, 0xb);                   /* divide by 1 */
	lapic_write(L(0), LVTT, 0x50);                  /* one-shot, vector 0x50 */
	t0 = now_ns();
	lapic_write(L(0), TMICT, 50000000);             /* 50 ms */
	c1 = lapic_read(L(0), TMCCT);
	c2 = lapic_read(L(0), TMCCT);
	CHECK(c1 <= 50000000 && c1 > 0 && c2 <= c1);
	next = lapic_timer_poll(L(0), t0);
	CHECK(next >= t0 + 50000000 && next < t0 + 60000000);
	CHECK(!in(L(0), IRR, 0x50));
	CHECK_EQ(lapic_timer_poll(L(0), next), 0);      /* fired, not re-armed */
	CHECK(in(L(0), IRR, 0x50));
	CHECK_EQ(lapic_read(L(0), TMCCT), 0);
	lapic_ack_interrupt(L(0));
	lapic_write(L(0), EOI, 0);
	/* Periodic, divide by 2: 1000 counts are 2 us. */
	lapic_write(L(0), TDCR, 0x0);
	lapic_write(L(0), LVTT, 0x20051);
	t0 = now_ns();
	lapic_write(L(0), TMICT, 1000);
	next = lapic_timer_poll(L(0), t0 + 1000000);
	CHECK(in(L(0), IRR, 0x51));
	CHECK(next > t0 + 1000000);                     /* re-armed after "now" */
	/* Masked: counts, but raises nothing. */
	lapic_ack_interrupt(L(0));
	lapic_write(L(0), EOI, 0);
	lapic_write(L(0), LVTT, 0x30051);
	lapic_timer_poll(L(0), next + 1);
	CHECK(!in(L(0), IRR, 0x51));
	lapic_bus_free(b);
}

static void test_tsc_deadline(void)
{
	uint64_t v = 0;

	setup(1, 1);
	lapic_set_tsc_deadline(L(0), 1234, 1000);       /* not in TSC-deadline mode */
	CHECK_EQ(lapic_get_tsc_deadline(L(0)), 0);
	lapic_write(L(0), LVTT, 0x40052);
	lapic_set_tsc_deadline(L(0), 1234, 5000);
	CHECK_EQ(lapic_get_tsc_deadline(L(0)), 1234);
	CHECK_EQ(lapic_timer_poll(L(0), 4999), 5000);
	CHECK(!in(L(0), IRR, 0x52));
	CHECK_EQ(lapic_timer_poll(L(0), 5000), 0);
	CHECK(in(L(0), IRR, 0x52));
	CHECK_EQ(lapic_get_tsc_deadline(L(0)), 0);
	lapic_write(L(0), TMICT, 100);                  /* ignored in this mode */
	CHECK_EQ(lapic_timer_poll(L(0), 6000), 0);
	CHECK(lapic_rdmsr(L(0), 0x832, &v) == -1);      /* xAPIC mode: no MSRs */
	lapic_bus_free(b);
}

static void test_x2apic(void)
{
	uint64_t v = 0;

	setup(20, 1);
	lapic_set_apic_base(L(17), LAPIC_BASE | EN | EXTD);
	lapic_set_apic_base(L(3), LAPIC_BASE | EN | EXTD);
	CHECK(!lapic_rdmsr(L(17), 0x802, &v));
	CHECK_EQ(v, 17);
	CHECK(!lapic_rdmsr(L(17), 0x80d, &v));
	CHECK_EQ(v, (1u << 16) | (1u << 1));            /* cluster 1, bit 1 */
	CHECK(lapic_wrmsr(L(17), 0x80d, 0) == -1);       /* LDR read-only */
	CHECK(lapic_rdmsr(L(17), 0x80e, &v) == -1);      /* no DFR */
	CHECK(lapic_wrmsr(L(17), 0x808, 1ULL << 40) == -1);
	CHECK(!lapic_wrmsr(L(17), 0x80f, 0x1ff));
	/* 64-bit ICR: physical destination 3. */
	CHECK(!lapic_wrmsr(L(17), 0x830, (3ULL << 32) | 0x66));
	CHECK(in(L(3), IRR, 0x66));
	CHECK(!lapic_rdmsr(L(17), 0x830, &v));
	CHECK_EQ(v, (3ULL << 32) | 0x66);
	/* Logical x2APIC: cluster 0, bit 3. */
	CHECK(!lapic_wrmsr(L(17), 0x830, (0x00000008ULL << 32) | 0x867));
	CHECK(in(L(3), IRR, 0x67));
	/* Self IPI. */
	CHECK(!lapic_wrmsr(L(17), 0x83f, 0x68));
	CHECK(in(L(17), IRR, 0x68));
	CHECK(!lapic_rdmsr(L(17), 0x800 + (IRR >> 4) + 3, &v));
	CHECK(v & (1u << (0x68 - 96)));
	/* Back to xAPIC. */
	lapic_set_apic_base(L(17), LAPIC_BASE | EN);
	CHECK(lapic_rdmsr(L(17), 0x802, &v) == -1);
	lapic_bus_free(b);
}

static void test_mmio_and_msi(void)
{
	struct bus *mmio = bus_new("mmio");

	memset(wakes, 0, sizeof(wakes));
	b = lapic_bus_new(mmio, 2);
	CHECK(b != NULL);
	lapic_set_current(NULL);
	CHECK_EQ(bus_read(mmio, LAPIC_BASE + ID, 4), 0xffffffffu);
	lapic_set_current(L(1));
	CHECK_EQ(bus_read(mmio, LAPIC_BASE + ID, 4), 1u << 24);
	CHECK_EQ(bus_read(mmio, LAPIC_BASE + ID + 3, 1), 1);
	bus_write(mmio, LAPIC_BASE + SVR, 4, 0x1ff);
	CHECK_EQ(lapic_read(L(1), SVR), 0x1ff);
	bus_write(mmio, LAPIC_BASE + TPR, 1, 0x30);      /* not a dword: dropped */
	CHECK_EQ(lapic_read(L(1), TPR), 0);
	lapic_bus_msi(b, 0xfee01000, 0x45);             /* to APIC ID 1, fixed */
	CHECK(in(L(1), IRR, 0x45));
	lapic_bus_msi(b, 0xfed01000, 0x46);             /* not the APIC range */
	CHECK(!in(L(1), IRR, 0x46));
	lapic_set_apic_base(L(1), 0);                   /* hardware-disabled */
	CHECK_EQ(bus_read(mmio, LAPIC_BASE + ID, 4), 0xffffffffu);
	lapic_set_current(NULL);
	lapic_bus_free(b);
	CHECK(!bus_claimed(mmio, LAPIC_BASE));
	bus_free(mmio);
}

int main(void)
{
	RUN(test_reset_state);
	RUN(test_priority_and_eoi);
	RUN(test_ipi_destinations);
	RUN(test_init_sipi_nmi);
	RUN(test_level_eoi_broadcast);
	RUN(test_timer_oneshot_periodic);
	RUN(test_tsc_deadline);
	RUN(test_x2apic);
	RUN(test_mmio_and_msi);
	return TEST_EXIT();
}
