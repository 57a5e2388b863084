/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/acpi_pm.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "arch/x86/acpi.h"
#include "machine/machine.h"
#include "snapshot/snap.h"
#include "util/log.h"

#define PM_TIMER_HZ   3579545ULL
#define PM_TIMER_BITS 24
#define PM_TICKS_MAX  (1ULL << 60)     /* ~10000 years: the start fits a time_t */

/* PM1 status / enable bits. */
#define PM1_TMR     (1u << 0)
#define PM1_GBL     (1u << 5)
#define PM1_PWRBTN  (1u << 8)
#define PM1_RTC     (1u << 10)
#define PM1_WAK_STS (1u << 15)
#define PM1_STS_MASK (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_RTC | PM1_WAK_STS)
#define PM1_EN_MASK  (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_RTC)

/* PM1 control bits. */
#define PM1_SCI_EN     (1u << 0)
#define PM1_BM_RLD     (1u << 1)
#define PM1_SLP_SHIFT  10
#define PM1_SLP_TYP    (7u << PM1_SLP_SHIFT)
#define PM1_SLP_EN     (1u << 13)
#define PM1_CNT_MASK   (PM1_SCI_EN | PM1_BM_RLD | PM1_SLP_TYP)

/* Reset control register (0xcf9). */
#define RST_SYS  (1u << 1)
#define RST_CPU  (1u << 2)
#define RST_FULL (1u << 3)

/* Register offsets inside the block at ACPI_PM_BASE. */
enum { PM_STS = 0, PM_EN = 2, PM_CNT = 4, PM_TMR = 8 };

enum pm_action { PM_NONE, PM_POWEROFF, PM_RESET };

struct acpi_pm {
	struct bus *pio;
	struct irq_line sci;
	struct machine *m;
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	uint8_t rst;
	int sci_level;
	struct timespec start;
	uint64_t last_ticks;          /* for TMR_STS: when bit 23 last flipped */
};

static uint64_t pm_ticks(const struct acpi_pm *pm)
{
	struct timespec now;
	uint64_t sec, nsec;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = (uint64_t)(now.tv_sec - pm->start.tv_sec);
	if (now.tv_nsec < pm->start.tv_nsec) {
		sec--;
		nsec = (uint64_t)(now.tv_nsec + 1000000000L - pm->start.tv_nsec);
	} else {
		nsec = (uint64_t)(now.tv_nsec - pm->start.tv_nsec);
	}
	/* Split so the product cannot overflow however long vmon runs. */
	return sec * PM_TIMER_HZ + nsec * PM_TIMER_HZ / 1000000000ULL;
}

/* The SCI follows the enabled status bits; called with the lock held. */
static void pm_update_sci(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en & PM1_EN_MASK) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

/* TMR_STS is set whenever the counter's top bit changed since last seen:
 * nothing watches the timer between guest accesses, which is enough for
 * the OSes that poll it.  Returns the current 24-bit count. */
static uint32_t pm_timer(struct acpi_pm *pm)
{
	uint64_t t = pm_ticks(pm);

	if (t >> (PM_TIMER_BITS - 1) != pm->last_ticks >> (PM_TIMER_BITS - 1))
		pm->sts |= PM1_TMR;
	pm->last_ticks = t;
	return (uint32_t)(t & ((1u << PM_TIMER_BITS) - 1));
}

static uint8_t pm_read_byte(struct acpi_pm *pm, uint64_t off, uint32_t tmr)
{
	unsigned shift = (off & 1) * 8;

	switch (off & ~1ULL) {
	case PM_STS:
		return (uint8_t)(pm->sts >> shift);
	case PM_EN:
		return (uint8_t)(pm->en >> shift);
	case PM_CNT:
		return (uint8_t)(pm->cnt >> shift);   /* SLP_EN is never stored */
	case PM_TMR:
	case PM_TMR + 2:
		return (uint8_t)(tmr >> ((off - PM_TMR) * 8));
	default:
		return 0;
	}
}

static enum pm_action pm_write_cnt(struct acpi_pm *pm, unsigned shift, uint8_t v)
{
	uint16_t bits = (uint16_t)(v << shift), mask = (uint16_t)(0xff << shift);
	unsigned typ;

	pm->cnt = (uint16_t)(((pm->cnt & ~mask) | (bits & PM1_CNT_MASK)) | PM1_SCI_EN);
	if (!(bits & PM1_SLP_EN))
		return PM_NONE;
	typ = (pm->cnt & PM1_SLP_TYP) >> PM1_SLP_SHIFT;
	if (typ == ACPI_SLP_TYP_S5)
		return PM_POWEROFF;
	log_warn("guest asked for sleep type %u, which vmon does not support; ignored", typ);
	return PM_NONE;
}

static enum pm_action pm_write_byte(struct acpi_pm *pm, uint64_t off, uint8_t v)
{
	unsigned shift = (off & 1) * 8;
	uint16_t mask = (uint16_t)(0xff << shift), bits = (uint16_t)(v << shift);

	switch (off & ~1ULL) {
	case PM_STS:
		pm->sts &= (uint16_t)~(bits & PM1_STS_MASK);
		break;
	case PM_EN:
		pm->en = (uint16_t)((pm->en & ~mask) | (bits & PM1_EN_MASK));
		break;
	case PM_CNT:
		return pm_write_cnt(pm, shift, v);
	}
	return PM_NONE;
}

static void pm_act(struct acpi_pm *pm, enum pm_action act)
{
	if (act == PM_NONE)
		return;
	log_info("%s", act == PM_POWEROFF ? "guest powered off" : "guest requested reset");
	machine_request_exit(pm->m, VMON_EXIT_OK);
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint64_t v = 0;
	uint32_t tmr;

	pthread_mutex_lock(&pm->lock);
	tmr = pm_timer(pm);
	for (unsigned i = 0; i < size && off + i < ACPI_PM_LEN; i++)
		v |= (uint64_t)pm_read_byte(pm, off + i, tmr) << (8 * i);
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void pm_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct acpi_pm *pm = opaque;
	enum pm_action act = PM_NONE;

	pthread_mutex_lock(&pm->lock);
	pm_timer(pm);
	for (unsigned i = 0; i < size && off + i < ACPI_PM_LEN; i++) {
		enum pm_action a = pm_write_byte(pm, off + i, (uint8_t)(value >> (8 * i)));

		if (a != PM_NONE)
			act = a;
	}
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	/* Outside the lock: ending the machine kicks every vCPU. */
	pm_act(pm, act);
}

static uint64_t rst_read(void *opaque, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint8_t v;

	(void)off;
	(void)size;
	pthread_mutex_lock(&pm->lock);
	v = pm->rst;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void rst_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct acpi_pm *pm = opaque;

	(void)off;
	(void)size;
	pthread_mutex_lock(&pm->lock);
	pm->rst = (uint8_t)(value & (RST_SYS | RST_FULL));
	pthread_mutex_unlock(&pm->lock);
	if (value & RST_CPU)
		pm_act(pm, PM_RESET);
}

/* ---- snapshots: the timer as ticks counted, so it runs on in any process ---- */

void acpi_pm_save(struct acpi_pm *pm, struct snap_out *o)
{
	pthread_mutex_lock(&pm->lock);
	snap_begin(o, "acpi_pm", 0, 1);
	snap_put_u32(o, "sts", pm->sts);
	snap_put_u32(o, "en", pm->en);
	snap_put_u32(o, "cnt", pm->cnt);
	snap_put_u8(o, "rst", pm->rst);
	snap_put_u64(o, "ticks", pm_ticks(pm));
	snap_put_u64(o, "last_ticks", pm->last_ticks);
	pthread_mutex_unlock(&pm->lock);
}

/* Moves the start back so that the timer reads ticks now (rounded up to the ns). */
static void pm_set_ticks(struct acpi_pm *pm, uint64_t ticks)
{
	uint64_t ns = (ticks % PM_TIMER_HZ * 1000000000ULL + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pm->start.tv_sec = now.tv_sec - (time_t)(ticks / PM_TIMER_HZ);
	pm->start.tv_nsec = now.tv_nsec - (long)ns;
	if (pm->start.tv_nsec < 0) {
		pm->start.tv_sec--;
		pm->start.tv_nsec += 1000000000L;
	}
}

int acpi_pm_load(struct acpi_pm *pm, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "acpi_pm", 0, 1, NULL);
	uint32_t sts, en, cnt;
	uint64_t ticks, last;
	uint8_t rst;

	if (!sec || snap_get_u32(sec, "sts", &sts) || snap_get_u32(sec, "en", &en) ||
	    snap_get_u32(sec, "cnt", &cnt) || snap_get_u8(sec, "rst", &rst) ||
	    snap_get_u64(sec, "ticks", &ticks) || snap_get_u64(sec, "last_ticks", &last))
		return -1;
	if ((sts & ~PM1_STS_MASK) || (en & ~PM1_EN_MASK) || (cnt & ~PM1_CNT_MASK) ||
	    !(cnt & PM1_SCI_EN) || (rst & ~(RST_SYS | RST_FULL)))
		return snap_fail(sec, "sts %#x, en %#x, cnt %#x or rst %#x impossible", sts, en, cnt,
				 rst);
	if (ticks > PM_TICKS_MAX || last > ticks)
		return snap_fail(sec, "timer at %llu ticks, last seen at %llu",
				 (unsigned long long)ticks, (unsigned long long)last);
	pthread_mutex_lock(&pm->lock);
	pm->sts = (uint16_t)sts;
	pm->en = (uint16_t)en;
	pm->cnt = (uint16_t)cnt;
	pm->rst = rst;
	pm_set_ticks(pm, ticks);
	pm->last_ticks = last;
	/* Unknown level: the SCI is driven to what the status says. */
	pm->sci_level = -1;
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static const struct bus_ops pm_ops = { .read = pm_read, .write = pm_write };
static const struct bus_ops rst_ops = { .read = rst_read, .write = rst_write };

struct acpi_pm *acpi_pm_new(struct bus *pio, struct irq_line sci, struct machine *m)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm) {
		log_err("acpi_pm: out of memory");
		return NULL;
	}
	*pm = (struct acpi_pm){ .pio = pio, .sci = sci, .m = m, .cnt = PM1_SCI_EN };
	pthread_mutex_init(&pm->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
	if (bus_register(pio, ACPI_PM_BASE, ACPI_PM_LEN, &pm_ops, pm, "acpi-pm")) {
		log_err("acpi_pm: I/O ports %#x-%#x are taken", ACPI_PM_BASE,
			ACPI_PM_BASE + ACPI_PM_LEN - 1);
		goto fail;
	}
	if (bus_register(pio, ACPI_RESET_PORT, 1, &rst_ops, pm, "reset-control")) {
		log_err("acpi_pm: I/O port %#x is taken", ACPI_RESET_PORT);
		bus_unregister(pio, ACPI_PM_BASE);
		goto fail;
	}
	return pm;
fail:
	pthread_mutex_destroy(&pm->lock);
	free(pm);
	return NULL;
}

void acpi_pm_free(struct acpi_pm *pm)
{
	if (!pm)
		return;
	bus_unregister(pm->pio, ACPI_RESET_PORT);
	bus_unregister(pm->pio, ACPI_PM_BASE);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_PWRBTN;
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}
