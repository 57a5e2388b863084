/* SPDX-License-Identifier: Apache-2.0 */
/* The I/O APIC: redirection table, edge and level pins, Remote IRR. */
#include "hw/ioapic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"
#include "util/log.h"

#define IOAPIC_SIZE    0x1000
#define REG_SEL        0x00
#define REG_WIN        0x10
#define IOAPIC_ID      0x00
#define IOAPIC_VER     0x01
#define IOAPIC_ARB     0x02
#define IOAPIC_REDIR   0x10
#define VERSION        (0x11u | ((IOAPIC_PINS - 1u) << 16))

#define RTE_REMOTE_IRR      (1ULL << 14)
#define RTE_LEVEL           (1ULL << 15)
#define RTE_MASKED          (1ULL << 16)
/* What the guest may write: vector, mode, dest mode, polarity, trigger, mask, dest. */
#define RTE_WRITABLE        (0xff000000000000ffULL | 0x7ULL << 8 | 1ULL << 11 | \
			     1ULL << 13 | RTE_LEVEL | RTE_MASKED)

struct ioapic {
	pthread_mutex_t lock;
	struct bus *mmio;
	uint64_t base;
	struct lapic_bus *lapics;
	uint32_t sel, id;
	uint32_t levels;            /* input pin levels */
	uint64_t rte[IOAPIC_PINS];
};

static void deliver_locked(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	struct lapic_msg msg = {
		.dest = (uint32_t)(e >> 56), .vector = (uint8_t)e,
		.delivery = (uint8_t)((e >> 8) & 7), .logical = !!(e & (1ULL << 11)),
		.level = 1, .trigger = !!(e & RTE_LEVEL),
	};

	if (e & RTE_LEVEL)
		io->rte[pin] |= RTE_REMOTE_IRR;
	lapic_bus_deliver(io->lapics, &msg, NULL);
}

/* A level pin that is asserted, unmasked and not in service fires again. */
static void service_level_locked(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) &&
	    (io->levels & (1u << pin)))
		deliver_locked(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
	uint32_t bit = 1u << pin;
	int rising;

	if (pin >= IOAPIC_PINS)
		return;
	pthread_mutex_lock(&io->lock);
	rising = level && !(io->levels & bit);
	io->levels = level ? io->levels | bit : io->levels & ~bit;
	if (io->rte[pin] & RTE_LEVEL)
		service_level_locked(io, pin);
	else if (rising && !(io->rte[pin] & RTE_MASKED))
		deliver_locked(io, pin);
	pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
	struct ioapic *io = opaque;

	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];

		if ((uint8_t)e != vector || !(e & RTE_LEVEL) || !(e & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		service_level_locked(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
}

static uint32_t reg_read_locked(struct ioapic *io)
{
	uint32_t r = io->sel;

	switch (r) {
	case IOAPIC_ID:
	case IOAPIC_ARB:
		return io->id << 24;
	case IOAPIC_VER:
		return VERSION;
	}
	if (r >= IOAPIC_REDIR && r < IOAPIC_REDIR + 2 * IOAPIC_PINS) {
		uint64_t e = io->rte[(r - IOAPIC_REDIR) / 2];

		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void reg_write_locked(struct ioapic *io, uint32_t v)
{
	uint32_t r = io->sel;
	unsigned pin;
	uint64_t e;

	if (r == IOAPIC_ID) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < IOAPIC_REDIR || r >= IOAPIC_REDIR + 2 * IOAPIC_PINS)
		return;
	pin = (r - IOAPIC_REDIR) / 2;
	e = io->rte[pin];
	if (r & 1)
		e = (e & 0xffffffffULL) | (uint64_t)v << 32;
	else
		e = (e & ~0xffffffffULL) | v;
	io->rte[pin] = (io->rte[pin] & ~RTE_WRITABLE) | (e & RTE_WRITABLE);
	/* An edge entry never has Remote IRR; a level pin unmasked while
	 * asserted fires now. */
	if (!(io->rte[pin] & RTE_LEVEL))
		io->rte[pin] &= ~RTE_REMOTE_IRR;
	service_level_locked(io, pin);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ioapic *io = opaque;
	uint32_t v = 0;

	(void)size;
	pthread_mutex_lock(&io->lock);
	if (offset == REG_SEL)
		v = io->sel;
	else if (offset == REG_WIN)
		v = reg_read_locked(io);
	pthread_mutex_unlock(&io->lock);
	return v;
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct ioapic *io = opaque;

	(void)size;
	pthread_mutex_lock(&io->lock);
	if (offset == REG_SEL)
		io->sel = (uint32_t)value & 0xff;
	else if (offset == REG_WIN)
		reg_write_locked(io, (uint32_t)value);
	pthread_mutex_unlock(&io->lock);
}

/* ---- snapshots ---- */

void ioapic_save(struct ioapic *io, struct snap_out *o)
{
	uint64_t rte[IOAPIC_PINS];
	uint32_t sel, id, levels;

	pthread_mutex_lock(&io->lock);
	memcpy(rte, io->rte, sizeof(rte));
	sel = io->sel;
	id = io->id;
	levels = io->levels;
	pthread_mutex_unlock(&io->lock);
	snap_begin(o, "ioapic", 0, 1);
	snap_put_u32(o, "sel", sel);
	snap_put_u32(o, "id", id);
	snap_put_u32(o, "levels", levels);
	snap_put(o, "rte", rte, sizeof(rte));
}

static int rte_check(struct snap_sec *sec, const uint64_t *rte)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		if (rte[pin] & ~(RTE_WRITABLE | RTE_REMOTE_IRR))
			return snap_fail(sec, "pin %u: reserved bits set in %#llx", pin,
					 (unsigned long long)rte[pin]);
		if ((rte[pin] & RTE_REMOTE_IRR) && !(rte[pin] & RTE_LEVEL))
			return snap_fail(sec, "pin %u: Remote IRR on an edge pin", pin);
	}
	return 0;
}

int ioapic_load(struct ioapic *io, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "ioapic", 0, 1, NULL);
	uint64_t rte[IOAPIC_PINS];
	uint32_t sel, id, levels;

	if (!sec || snap_get_u32(sec, "sel", &sel) || snap_get_u32(sec, "id", &id) ||
	    snap_get_u32(sec, "levels", &levels) || snap_get(sec, "rte", rte, sizeof(rte)))
		return -1;
	if (sel > 0xff || id > 0xf || levels >> IOAPIC_PINS)
		return snap_fail(sec, "sel %#x, id %#x or levels %#x out of range", sel, id, levels);
	if (rte_check(sec, rte))
		return -1;
	pthread_mutex_lock(&io->lock);
	memcpy(io->rte, rte, sizeof(rte));
	io->sel = sel;
	io->id = id;
	io->levels = levels;
	/* As after an RTE write: an asserted level pin not yet in service fires. */
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		service_level_locked(io, pin);
	pthread_mutex_unlock(&io->lock);
	return 0;
}

static const struct bus_ops ioapic_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

struct ioapic *ioapic_new(struct bus *mmio, uint64_t base, struct lapic_bus *lapics)
{
	struct ioapic *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	pthread_mutex_init(&io->lock, NULL);
	io->lapics = lapics;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
	if (bus_register(mmio, base, IOAPIC_SIZE, &ioapic_ops, io, "ioapic")) {
		log_err("cannot register the IOAPIC at %#llx", (unsigned long long)base);
		pthread_mutex_destroy(&io->lock);
		free(io);
		return NULL;
	}
	io->mmio = mmio;
	io->base = base;
	return io;
}

void ioapic_free(struct ioapic *io)
{
	if (!io)
		return;
	bus_unregister(io->mmio, io->base);
	pthread_mutex_destroy(&io->lock);
	free(io);
}
