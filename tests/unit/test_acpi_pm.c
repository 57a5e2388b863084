/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <time.h>

#include "arch/x86/acpi.h"
#include "hw/acpi_pm.h"
#include "machine/machine.h"
#include "test.h"

/* Records the SCI line as an interrupt controller would see it. */
struct sci_probe {
	struct irq_chip chip;
	int level, changes;
	unsigned gsi;
};

static void probe_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct sci_probe *p = (struct sci_probe *)chip;

	p->gsi = gsi;
	p->level = level;
	p->changes++;
}

static void probe_send_msi(struct irq_chip *chip, uint64_t addr, uint32_t data)
{
	(void)chip;
	(void)addr;
	(void)data;
}

static struct sci_probe sci = { .chip = { .set_level = probe_set_level, .send_msi = probe_send_msi } };
static struct machine m;
static struct bus *pio;
static struct acpi_pm *pm;

static void setup(void)
{
	memset(&m, 0, sizeof(m));
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	sci.level = sci.changes = 0;
	pio = bus_new("pio");
	pm = acpi_pm_new(pio, (struct irq_line){ &sci.chip, ACPI_SCI_IRQ }, &m);
}

static void teardown(void)
{
	acpi_pm_free(pm);
	bus_free(pio);
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
}

static void pm_reset_state(void)
{
	setup();
	CHECK(pm);
	CHECK_EQ(bus_read(pio, ACPI_PM1_CNT_BLK, 2) & 1, 1);      /* SCI_EN */
	CHECK_EQ(bus_read(pio, ACPI_PM1_EVT_BLK, 2), 0);
	CHECK_EQ(bus_read(pio, ACPI_PM1_EVT_BLK + 2, 2), 0);
	/* SCI_EN stays set whatever the guest writes. */
	bus_write(pio, ACPI_PM1_CNT_BLK, 2, 0);
	CHECK_EQ(bus_read(pio, ACPI_PM1_CNT_BLK, 2) & 1, 1);
	CHECK(!m.exit_requested);
	/* The ports are taken: a second device cannot register. */
	CHECK(acpi_pm_new(pio, (struct irq_line){ 0 }, &m) == NULL);
	teardown();
}

static void pm_timer_counts(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint32_t a, b;

	setup();
	a = (uint32_t)bus_read(pio, ACPI_PM_TMR_BLK, 4);
	nanosleep(&ts, NULL);
	b = (uint32_t)bus_read(pio, ACPI_PM_TMR_BLK, 4);
	CHECK(a < (1u << 24) && b < (1u << 24));
	/* 20 ms is 71591 ticks; allow for a slow, loaded machine. */
	CHECK(((b - a) & 0xffffff) >= 60000);
	CHECK(((b - a) & 0xffffff) < 3579545);
	teardown();
}

static void pm_power_button_sci(void)
{
	setup();
	acpi_pm_power_button(pm);
	CHECK_EQ(bus_read(pio, ACPI_PM1_EVT_BLK, 2) & 0x100, 0x100);
	CHECK_EQ(sci.level, 0);                                 /* not enabled */
	bus_write(pio, ACPI_PM1_EVT_BLK + 2, 2, 0x100);         /* PWRBTN_EN */
	CHECK_EQ(sci.level, 1);
	CHECK_EQ(sci.gsi, ACPI_SCI_IRQ);
	/* Writing 0 leaves status alone; writing 1 clears it. */
	bus_write(pio, ACPI_PM1_EVT_BLK, 2, 0);
	CHECK_EQ(sci.level, 1);
	bus_write(pio, ACPI_PM1_EVT_BLK, 2, 0x100);
	CHECK_EQ(bus_read(pio, ACPI_PM1_EVT_BLK, 2) & 0x100, 0);
	CHECK_EQ(sci.level, 0);
	/* A 32-bit access covers status and enable together. */
	acpi_pm_power_button(pm);
	CHECK_EQ(bus_read(pio, ACPI_PM1_EVT_BLK, 4) & 0x01000100, 0x01000100);
	teardown();
}

static void pm_sleep_types(void)
{
	setup();
	/* S1 (type 1) is not supported: ignored, the machine keeps running. */
	bus_write(pio, ACPI_PM1_CNT_BLK, 2, (1 << 10) | (1 << 13));
	CHECK(!m.exit_requested);
	/* SLP_TYP without SLP_EN does nothing either. */
	bus_write(pio, ACPI_PM1_CNT_BLK, 2, ACPI_SLP_TYP_S5 << 10);
	CHECK(!m.exit_requested);
	CHECK_EQ(bus_read(pio, ACPI_PM1_CNT_BLK, 2) & (1 << 13), 0);
	bus_write(pio, ACPI_PM1_CNT_BLK, 2, (ACPI_SLP_TYP_S5 << 10) | (1 << 13));
	CHECK(m.exit_requested);
	CHECK_EQ(m.exit_status, VMON_EXIT_OK);
	teardown();
}

static void pm_poweroff_bytewise(void)
{
	setup();
	/* The high byte alone holds SLP_TYP and SLP_EN. */
	bus_write(pio, ACPI_PM1_CNT_BLK + 1, 1, ((ACPI_SLP_TYP_S5 << 10) | (1 << 13)) >> 8);
	CHECK(m.exit_requested);
	teardown();
}

static void pm_reset_register(void)
{
	setup();
	bus_write(pio, ACPI_RESET_PORT, 1, 0x02);
	CHECK(!m.exit_requested);
	CHECK_EQ(bus_read(pio, ACPI_RESET_PORT, 1), 0x02);
	bus_write(pio, ACPI_RESET_PORT, 1, ACPI_RESET_VALUE);
	CHECK(m.exit_requested);
	CHECK_EQ(m.exit_status, VMON_EXIT_OK);
	teardown();
}

int main(void)
{
	RUN(pm_reset_state);
	RUN(pm_timer_counts);
	RUN(pm_power_button_sci);
	RUN(pm_sleep_types);
	RUN(pm_poweroff_bytewise);
	RUN(pm_reset_register);
	return TEST_EXIT();
}
