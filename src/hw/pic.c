/* SPDX-License-Identifier: Apache-2.0 */
/* The 8259A pair: priorities, cascade, EOI modes, ELCR. */
#include "hw/pic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"
#include "util/log.h"

#define MASTER_PORT 0x20
#define SLAVE_PORT  0xa0
#define ELCR_PORT   0x4d0
#define CASCADE_IRQ 2
#define CHIP_BYTES  16             /* one 8259 in a snapshot */

struct i8259 {
	uint8_t irr, isr, imr;
	uint8_t last_level;        /* input levels, for edge detection */
	uint8_t elcr, elcr_mask;
	uint8_t base;              /* ICW2 vector base */
	uint8_t priority_add;      /* the IRQ with the lowest priority, plus one */
	uint8_t init_state;        /* 0 ready, 1-3 expecting ICW2-ICW4 */
	uint8_t icw4_needed, single;
	uint8_t auto_eoi, rotate_auto_eoi, special_mask, sfnm;
	uint8_t read_isr, poll;
};

struct pic {
	pthread_mutex_t lock;
	struct bus *pio;
	struct i8259 chip[2];      /* master, slave */
	void (*notify)(void *opaque);
	void *opaque;
};

/* 0 is the highest priority, 8 means none. */
static int priority_of(const struct i8259 *c, uint8_t mask)
{
	int p = 0;

	if (!mask)
		return 8;
	while (!(mask & (1u << ((p + c->priority_add) & 7))))
		p++;
	return p;
}

/* The IRQ this chip would present, or -1. */
static int chip_irq(const struct i8259 *c, int is_master)
{
	int p = priority_of(c, c->irr & ~c->imr), cur;
	uint8_t in_service = c->isr;

	if (p == 8)
		return -1;
	if (c->special_mask)
		in_service &= ~c->imr;
	/* Special fully nested: more slave IRQs while one is in service. */
	if (is_master && c->sfnm)
		in_service &= ~(1u << CASCADE_IRQ);
	cur = priority_of(c, in_service);
	return p < cur ? (p + c->priority_add) & 7 : -1;
}

static void chip_input(struct i8259 *c, unsigned irq, int level)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->elcr & bit) {
		c->irr = level ? c->irr | bit : c->irr & ~bit;
	} else if (level && !(c->last_level & bit)) {
		c->irr |= bit;
	}
	c->last_level = level ? c->last_level | bit : c->last_level & ~bit;
}

/*
 * The slave's INTR is the master's IRQ2 request, followed as a level: a
 * slave request that went away leaves no latched edge behind to turn into
 * a spurious IRQ15.  1 when the master's INTR is up.
 */
static int update_locked(struct pic *p)
{
	struct i8259 *m = &p->chip[0];
	uint8_t bit = 1u << CASCADE_IRQ;

	if (chip_irq(&p->chip[1], 0) >= 0)
		m->irr |= bit;
	else
		m->irr &= (uint8_t)~bit;
	return chip_irq(m, 1) >= 0;
}

static void finish(struct pic *p)
{
	int up = update_locked(p);

	pthread_mutex_unlock(&p->lock);
	if (up && p->notify)
		p->notify(p->opaque);
}

void pic_set_irq(struct pic *p, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	pthread_mutex_lock(&p->lock);
	chip_input(&p->chip[irq / 8], irq % 8, level);
	finish(p);
}

int pic_has_interrupt(struct pic *p)
{
	int up;

	pthread_mutex_lock(&p->lock);
	up = chip_irq(&p->chip[0], 1) >= 0;
	pthread_mutex_unlock(&p->lock);
	return up;
}

static void chip_ack(struct i8259 *c, int irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->auto_eoi) {
		if (c->rotate_auto_eoi)
			c->priority_add = (uint8_t)((irq + 1) & 7);
	} else {
		c->isr |= bit;
	}
	if (!(c->elcr & bit))
		c->irr &= ~bit;
}

uint8_t pic_ack(struct pic *p)
{
	int irq, irq2;
	uint8_t vec;

	pthread_mutex_lock(&p->lock);
	irq = chip_irq(&p->chip[0], 1);
	if (irq < 0) {
		vec = p->chip[0].base + 7;          /* spurious */
	} else {
		chip_ack(&p->chip[0], irq);
		if (irq == CASCADE_IRQ) {
			irq2 = chip_irq(&p->chip[1], 0);
			if (irq2 >= 0)
				chip_ack(&p->chip[1], irq2);
			else
				irq2 = 7;
			vec = (uint8_t)(p->chip[1].base + irq2);
		} else {
			vec = (uint8_t)(p->chip[0].base + irq);
		}
	}
	finish(p);
	return vec;
}

static void chip_init(struct i8259 *c, uint8_t icw1)
{
	uint8_t elcr = c->elcr, mask = c->elcr_mask, irr = c->irr, level = c->last_level;

	memset(c, 0, sizeof(*c));
	c->elcr = elcr;
	c->elcr_mask = mask;
	/* Level inputs still asserted stay requested; edges must come again. */
	c->irr = irr & elcr;
	c->last_level = level;
	c->init_state = 1;
	c->icw4_needed = icw1 & 1;
	c->single = !!(icw1 & 2);
}

static void ocw2(struct i8259 *c, uint8_t v)
{
	int cmd = v >> 5, irq;

	switch (cmd) {
	case 0:           /* rotate in auto-EOI mode: clear / set */
	case 4:
		c->rotate_auto_eoi = cmd >> 2;
		break;
	case 1:           /* non-specific EOI, optionally rotating */
	case 5:
		irq = priority_of(c, c->isr);
		if (irq == 8)
			break;
		irq = (irq + c->priority_add) & 7;
		c->isr &= (uint8_t)~(1u << irq);
		if (cmd == 5)
			c->priority_add = (uint8_t)((irq + 1) & 7);
		break;
	case 3:           /* specific EOI, optionally rotating */
	case 7:
		irq = v & 7;
		c->isr &= (uint8_t)~(1u << irq);
		if (cmd == 7)
			c->priority_add = (uint8_t)((irq + 1) & 7);
		break;
	case 6:           /* set priority: v & 7 becomes the lowest */
		c->priority_add = (uint8_t)((v + 1) & 7);
		break;
	}
}

static void write_cmd(struct i8259 *c, uint8_t v)
{
	if (v & 0x10) {
		chip_init(c, v);
	} else if (v & 0x08) {                      /* OCW3 */
		if (v & 0x04)
			c->poll = 1;
		if (v & 0x02)
			c->read_isr = v & 1;
		if (v & 0x40)
			c->special_mask = (v >> 5) & 1;
	} else {
		ocw2(c, v);
	}
}

static void write_data(struct i8259 *c, uint8_t v)
{
	switch (c->init_state) {
	case 0:
		c->imr = v;                          /* OCW1 */
		break;
	case 1:
		c->base = v & 0xf8;                  /* ICW2 */
		c->init_state = c->single ? (c->icw4_needed ? 3 : 0) : 2;
		break;
	case 2:
		c->init_state = c->icw4_needed ? 3 : 0;   /* ICW3: wiring is fixed */
		break;
	case 3:
		c->sfnm = (v >> 4) & 1;              /* ICW4 */
		c->auto_eoi = (v >> 1) & 1;
		c->init_state = 0;
		break;
	}
}

/* Poll mode: the read is the acknowledge. */
static uint8_t poll_read(struct pic *p, int slave)
{
	struct i8259 *c = &p->chip[slave];
	int irq = chip_irq(c, !slave);

	c->poll = 0;
	if (irq < 0)
		return 0;
	chip_ack(c, irq);
	/* Polling the master for a slave IRQ leaves the cascade in service too. */
	return (uint8_t)(0x80 | irq);
}

static uint64_t pic_read(void *opaque, uint64_t offset, unsigned size, int slave)
{
	struct pic *p = opaque;
	struct i8259 *c = &p->chip[slave];
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&p->lock);
	if (c->poll)
		v = poll_read(p, slave);
	else if (offset == 0)
		v = c->read_isr ? c->isr : c->irr;
	else
		v = c->imr;
	finish(p);
	return v;
}

static void pic_write(void *opaque, uint64_t offset, uint64_t value, int slave)
{
	struct pic *p = opaque;
	struct i8259 *c = &p->chip[slave];

	pthread_mutex_lock(&p->lock);
	if (offset == 0)
		write_cmd(c, (uint8_t)value);
	else
		write_data(c, (uint8_t)value);
	finish(p);
}

static uint64_t master_read(void *o, uint64_t off, unsigned size)
{
	return pic_read(o, off, size, 0);
}

static uint64_t slave_read(void *o, uint64_t off, unsigned size)
{
	return pic_read(o, off, size, 1);
}

static void master_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	pic_write(o, off, v, 0);
}

static void slave_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	pic_write(o, off, v, 1);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pic *p = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < size && offset + i < 2; i++)
		v |= (uint64_t)p->chip[offset + i].elcr << (8 * i);
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void elcr_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct pic *p = opaque;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < size && offset + i < 2; i++) {
		struct i8259 *c = &p->chip[offset + i];

		c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
	}
	finish(p);
}

/* ---- snapshots: each chip as CHIP_BYTES in a fixed order ---- */

static void chip_pack(uint8_t *b, const struct i8259 *c)
{
	const uint8_t v[CHIP_BYTES] = {
		c->irr, c->isr, c->imr, c->last_level, c->elcr, c->base, c->priority_add,
		c->init_state, c->icw4_needed, c->single, c->auto_eoi, c->rotate_auto_eoi,
		c->special_mask, c->sfnm, c->read_isr, c->poll,
	};

	memcpy(b, v, CHIP_BYTES);
}

/* The ELCR mask is the board's wiring, not state: it stays as created. */
static int chip_unpack(struct i8259 *c, const uint8_t *b)
{
	for (int i = 8; i < CHIP_BYTES; i++)
		if (b[i] > 1)
			return -1;
	if ((b[4] & ~c->elcr_mask) || (b[5] & 7) || b[6] > 7 || b[7] > 3)
		return -1;
	*c = (struct i8259){
		.irr = b[0], .isr = b[1], .imr = b[2], .last_level = b[3], .elcr = b[4],
		.elcr_mask = c->elcr_mask, .base = b[5], .priority_add = b[6], .init_state = b[7],
		.icw4_needed = b[8], .single = b[9], .auto_eoi = b[10], .rotate_auto_eoi = b[11],
		.special_mask = b[12], .sfnm = b[13], .read_isr = b[14], .poll = b[15],
	};
	return 0;
}

void pic_save(struct pic *p, struct snap_out *o)
{
	uint8_t b[2][CHIP_BYTES];

	pthread_mutex_lock(&p->lock);
	chip_pack(b[0], &p->chip[0]);
	chip_pack(b[1], &p->chip[1]);
	pthread_mutex_unlock(&p->lock);
	snap_begin(o, "pic", 0, 1);
	snap_put(o, "master", b[0], CHIP_BYTES);
	snap_put(o, "slave", b[1], CHIP_BYTES);
}

int pic_load(struct pic *p, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "pic", 0, 1, NULL);
	uint8_t b[2][CHIP_BYTES];
	struct i8259 c[2];

	if (!sec || snap_get(sec, "master", b[0], CHIP_BYTES) ||
	    snap_get(sec, "slave", b[1], CHIP_BYTES))
		return -1;
	pthread_mutex_lock(&p->lock);
	memcpy(c, p->chip, sizeof(c));
	for (int i = 0; i < 2; i++) {
		if (chip_unpack(&c[i], b[i])) {
			pthread_mutex_unlock(&p->lock);
			return snap_fail(sec, "%s: a register is out of range", i ? "slave" : "master");
		}
	}
	memcpy(p->chip, c, sizeof(c));
	/* An interrupt the restored chips hold up reaches the CPU again. */
	finish(p);
	return 0;
}

static const struct bus_ops master_ops = { .read = master_read, .write = master_write };
static const struct bus_ops slave_ops = { .read = slave_read, .write = slave_write };
static const struct bus_ops elcr_ops = { .read = elcr_read, .write = elcr_write };

struct pic *pic_new(struct bus *pio, void (*notify)(void *opaque), void *opaque)
{
	struct pic *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->notify = notify;
	p->opaque = opaque;
	/* IRQ0-2 (timer, keyboard, cascade), IRQ8 and IRQ13 are edge only. */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
	if (bus_register(pio, MASTER_PORT, 2, &master_ops, p, "pic-master") ||
	    bus_register(pio, SLAVE_PORT, 2, &slave_ops, p, "pic-slave") ||
	    bus_register(pio, ELCR_PORT, 2, &elcr_ops, p, "elcr")) {
		log_err("cannot register the 8259 PIC");
		bus_unregister(pio, MASTER_PORT);
		bus_unregister(pio, SLAVE_PORT);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	p->pio = pio;
	return p;
}

void pic_free(struct pic *p)
{
	if (!p)
		return;
	bus_unregister(p->pio, MASTER_PORT);
	bus_unregister(p->pio, SLAVE_PORT);
	bus_unregister(p->pio, ELCR_PORT);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
