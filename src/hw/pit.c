/* SPDX-License-Identifier: Apache-2.0 */
/* The 8254 interval timer: counters from the host clock, IRQ0 thread. */
#include "hw/pit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapshot/snap.h"
#include "util/log.h"

#define PIT_PORT      0x40
#define PORT61        0x61
#define NSEC          1000000000ULL
#define MIN_IRQ_TICKS 100          /* ~84 us: a guest cannot make us spin */
#define CH_BYTES      28           /* one channel in a snapshot */
#define MAX_TICKS     (1ULL << 53) /* ~240 years of counting */

enum { RW_LATCH, RW_LO, RW_HI, RW_LOHI };

struct pit_channel {
	uint8_t mode, rw, bcd;
	uint8_t loaded;            /* a count was written since the control word */
	uint8_t null_count;        /* written but not yet in the counting element */
	uint8_t write_hi;          /* RW_LOHI: the next write is the high byte */
	uint8_t read_hi;           /* RW_LOHI: the next read is the high byte */
	uint8_t latched;           /* bytes of latched count still to read: 0-2 */
	uint8_t status_latched;
	uint8_t status;
	uint16_t latch;
	uint8_t pending_lo;
	uint32_t reload;           /* 1..0x10000 */
	int gate;
	uint64_t start_ns;         /* when counting (re)started with the gate high */
	uint64_t ticks_before;     /* ticks counted before start_ns (gate pauses) */
};

struct pit {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int has_thread, stop;
	struct bus *pio;
	struct irq_line irq;
	struct pit_channel ch[3];
	uint8_t port61;            /* bits 0-3 as written */
	uint64_t irq_ticks;        /* channel 0: the tick of the last edge sent */
	int irq_level;             /* modes 0/4: output level sent */
	unsigned generation;       /* bumps on every reprogramming of channel 0 */
	unsigned gen_seen;         /* the generation the thread has acted on */
};

static uint64_t pit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NSEC * PIT_HZ + ns % NSEC * PIT_HZ / NSEC;
}

/* The host time at which ticks have elapsed since start (rounded up). */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks / PIT_HZ * NSEC + (ticks % PIT_HZ * NSEC + PIT_HZ - 1) / PIT_HZ;
}

static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	if (!c->loaded)
		return 0;
	if (!c->gate)
		return c->ticks_before;
	return c->ticks_before + ns_to_ticks(now > c->start_ns ? now - c->start_ns : 0);
}

static int periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

static uint16_t count_at(const struct pit_channel *c, uint64_t t)
{
	uint64_t r = c->reload, ph;

	if (!c->loaded)
		return 0;
	switch (c->mode) {
	case 2:
		return (uint16_t)(r - t % r);
	case 3:
		ph = t % r;
		/* Counts down by two, through each half period. */
		if (ph < (r + 1) / 2)
			return (uint16_t)((r - 2 * ph) & ~1ULL);
		return (uint16_t)((r - 2 * (ph - (r + 1) / 2)) & ~1ULL);
	default:                          /* 0, 1, 4, 5: wraps after terminal count */
		return (uint16_t)(r - t);
	}
}

static int out_at(const struct pit_channel *c, uint64_t t)
{
	uint64_t r = c->reload;

	if (!c->loaded)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
	case 1:
		return t >= r;
	case 2:
		return t % r != r - 1;
	case 3:
		return t % r < (r + 1) / 2;
	default:
		return t != r;
	}
}

static void load(struct pit_channel *c, uint32_t value, uint64_t now)
{
	c->reload = value ? value : 0x10000;
	c->loaded = 1;
	c->null_count = 0;
	c->ticks_before = 0;
	c->start_ns = now;
}

static void wake_thread(struct pit *p)
{
	p->generation++;
	pthread_cond_signal(&p->cond);
}

static void write_counter(struct pit *p, int n, uint8_t v)
{
	struct pit_channel *c = &p->ch[n];
	uint64_t now = pit_now();

	switch (c->rw) {
	case RW_LO:
		load(c, v, now);
		break;
	case RW_HI:
		load(c, (uint32_t)v << 8, now);
		break;
	default:
		if (!c->write_hi) {
			c->pending_lo = v;
			c->write_hi = 1;
			c->null_count = 1;
			return;
		}
		c->write_hi = 0;
		load(c, c->pending_lo | (uint32_t)v << 8, now);
		break;
	}
	if (n == 0)
		wake_thread(p);
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->latched)
		return;
	c->latch = count_at(c, elapsed(c, now));
	c->latched = c->rw == RW_LOHI ? 2 : 1;
}

static void latch_status(struct pit_channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)(out_at(c, elapsed(c, now)) << 7 | c->null_count << 6 |
			      c->rw << 4 | c->mode << 1 | c->bcd);
	c->status_latched = 1;
}

static void write_control(struct pit *p, uint8_t v)
{
	int n = v >> 6;
	uint64_t now = pit_now();
	struct pit_channel *c;

	if (n == 3) {                               /* read-back */
		for (int i = 0; i < 3; i++) {
			if (!(v & (2 << i)))
				continue;
			if (!(v & 0x20))
				latch_count(&p->ch[i], now);
			if (!(v & 0x10))
				latch_status(&p->ch[i], now);
		}
		return;
	}
	c = &p->ch[n];
	if (((v >> 4) & 3) == RW_LATCH) {
		latch_count(c, now);
		return;
	}
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;                       /* 6 and 7 are 2 and 3 */
	c->bcd = v & 1;
	c->loaded = 0;
	c->null_count = 1;
	c->write_hi = c->read_hi = 0;
	c->latched = c->status_latched = 0;
	if (n == 0)
		wake_thread(p);
}

static uint8_t read_counter(struct pit_channel *c)
{
	uint16_t v;
	int hi;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->latched) {
		v = c->latch;
		hi = c->rw == RW_HI || (c->rw == RW_LOHI && c->latched == 1);
		c->latched--;
	} else {
		v = count_at(c, elapsed(c, pit_now()));
		hi = c->rw == RW_HI || (c->rw == RW_LOHI && c->read_hi);
		if (c->rw == RW_LOHI)
			c->read_hi ^= 1;
	}
	return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	uint8_t v = 0xff;

	(void)size;
	pthread_mutex_lock(&p->lock);
	if (offset < 3)
		v = read_counter(&p->ch[offset]);
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void pit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct pit *p = opaque;

	(void)size;
	pthread_mutex_lock(&p->lock);
	if (offset < 3)
		write_counter(p, (int)offset, (uint8_t)value);
	else
		write_control(p, (uint8_t)value);
	pthread_mutex_unlock(&p->lock);
}

/* Bit 4 toggles with the DRAM refresh (every 15 us); software times with it. */
static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	uint64_t now = pit_now();
	struct pit_channel *c = &p->ch[2];
	uint8_t v;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&p->lock);
	v = p->port61 & 0x0f;
	v |= (uint8_t)(((now / 15000) & 1) << 4);
	v |= (uint8_t)(out_at(c, elapsed(c, now)) << 5);
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void set_gate2(struct pit_channel *c, int gate, uint64_t now)
{
	if (gate == c->gate)
		return;
	if (!gate) {
		c->ticks_before = elapsed(c, now);
	} else if (c->mode == 1 || c->mode == 2 || c->mode == 3 || c->mode == 5) {
		c->ticks_before = 0;            /* a rising gate restarts these modes */
	}
	c->gate = gate;
	c->start_ns = now;
}

static void port61_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct pit *p = opaque;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&p->lock);
	p->port61 = (uint8_t)value & 0x0f;
	set_gate2(&p->ch[2], (int)(value & 1), pit_now());
	pthread_mutex_unlock(&p->lock);
}

/* ---- snapshots: counts as ticks elapsed, so they run on in any process ---- */

static void ch_pack(uint8_t *b, const struct pit_channel *c, uint64_t now)
{
	uint64_t t = elapsed(c, now);

	memset(b, 0, CH_BYTES);
	b[0] = c->mode;
	b[1] = c->rw;
	b[2] = c->bcd;
	b[3] = c->loaded;
	b[4] = c->null_count;
	b[5] = c->write_hi;
	b[6] = c->read_hi;
	b[7] = c->latched;
	b[8] = c->status_latched;
	b[9] = c->status;
	memcpy(b + 10, &c->latch, 2);
	b[12] = c->pending_lo;
	b[13] = (uint8_t)c->gate;
	memcpy(b + 16, &c->reload, 4);
	memcpy(b + 20, &t, 8);
}

static int ch_unpack(struct pit_channel *c, const uint8_t *b, int n, uint64_t now)
{
	uint64_t t;

	memset(c, 0, sizeof(*c));
	memcpy(&c->latch, b + 10, 2);
	memcpy(&c->reload, b + 16, 4);
	memcpy(&t, b + 20, 8);
	if (b[0] > 5 || b[1] > 3 || b[7] > 2 || (b[2] | b[3] | b[4] | b[5] | b[6] | b[8]) > 1 ||
	    b[13] > 1 || (n < 2 && !b[13]) || c->reload > 0x10000 || (b[3] && !c->reload) ||
	    t > MAX_TICKS)
		return -1;
	c->mode = b[0];
	c->rw = b[1];
	c->bcd = b[2];
	c->loaded = b[3];
	c->null_count = b[4];
	c->write_hi = b[5];
	c->read_hi = b[6];
	c->latched = b[7];
	c->status_latched = b[8];
	c->status = b[9];
	c->pending_lo = b[12];
	c->gate = b[13];
	c->ticks_before = c->loaded ? t : 0;
	c->start_ns = now;
	return 0;
}

void pit_save(struct pit *p, struct snap_out *o)
{
	static const char *const names[3] = { "ch0", "ch1", "ch2" };
	uint8_t b[3][CH_BYTES];
	uint64_t irq_ticks, now;
	uint8_t port61, level;

	pthread_mutex_lock(&p->lock);
	now = pit_now();
	for (int i = 0; i < 3; i++)
		ch_pack(b[i], &p->ch[i], now);
	irq_ticks = p->irq_ticks;
	level = (uint8_t)p->irq_level;
	/* Reprogrammed, and the thread has yet to drop the output: as if it had. */
	if (p->gen_seen != p->generation)
		irq_ticks = level = 0;
	port61 = p->port61;
	pthread_mutex_unlock(&p->lock);
	snap_begin(o, "pit", 0, 1);
	for (int i = 0; i < 3; i++)
		snap_put(o, names[i], b[i], CH_BYTES);
	snap_put_u8(o, "port61", port61);
	snap_put_u64(o, "irq_ticks", irq_ticks);
	snap_put_u8(o, "irq_level", level);
}

int pit_load(struct pit *p, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "pit", 0, 1, NULL);
	uint8_t b[3][CH_BYTES], port61, level;
	struct pit_channel ch[3];
	uint64_t irq_ticks, now;

	if (!sec || snap_get(sec, "ch0", b[0], CH_BYTES) || snap_get(sec, "ch1", b[1], CH_BYTES) ||
	    snap_get(sec, "ch2", b[2], CH_BYTES) || snap_get_u8(sec, "port61", &port61) ||
	    snap_get_u64(sec, "irq_ticks", &irq_ticks) || snap_get_u8(sec, "irq_level", &level))
		return -1;
	if (port61 > 0x0f || irq_ticks > MAX_TICKS || level > 1)
		return snap_fail(sec, "port61 %#x, irq_ticks or irq_level out of range", port61);
	now = pit_now();
	for (int i = 0; i < 3; i++)
		if (ch_unpack(&ch[i], b[i], i, now))
			return snap_fail(sec, "channel %d: a field is out of range", i);
	pthread_mutex_lock(&p->lock);
	memcpy(p->ch, ch, sizeof(ch));
	p->port61 = port61;
	p->irq_ticks = irq_ticks;
	p->irq_level = level;
	/* Not a reprogramming: the thread keeps the edges already sent. */
	p->gen_seen = p->generation;
	pthread_cond_signal(&p->cond);
	/*
	 * Under the lock, so the thread's next edge comes after this one; the
	 * irqchip never calls back into the PIT, so no lock order is at stake.
	 */
	irq_line_set(&p->irq, level);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static const struct bus_ops pit_ops = { .read = pit_read, .write = pit_write };
static const struct bus_ops port61_ops = { .read = port61_read, .write = port61_write };

/*
 * Channel 0: when its output next rises (0 if never), and whether that is
 * a pulse (periodic modes) or a level.  Called with the lock held.
 */
static uint64_t next_edge(struct pit *p, uint64_t now, int *pulse, uint64_t *tick)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t t = elapsed(c, now), period;

	*pulse = 0;
	if (!c->loaded || !c->gate)
		return 0;
	if (periodic(c)) {
		period = c->reload < MIN_IRQ_TICKS ? MIN_IRQ_TICKS : c->reload;
		*pulse = 1;
		*tick = (t / period + 1) * period;
		if (p->irq_ticks < t / period * period && t >= period)
			*tick = t / period * period;        /* one edge is due now */
	} else if (c->mode == 0 || c->mode == 4) {
		if (p->irq_level || c->reload > 0xffff + 1ULL)
			return 0;
		*tick = c->reload;
	} else {
		return 0;
	}
	return c->start_ns + ticks_to_ns(*tick - c->ticks_before);
}

static void timed_wait(struct pit *p, uint64_t when)
{
	struct timespec ts = { (time_t)(when / NSEC), (long)(when % NSEC) };

	if (!when)
		pthread_cond_wait(&p->cond, &p->lock);
	else
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
}

static void *pit_thread(void *arg)
{
	struct pit *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		uint64_t now = pit_now(), tick = 0, when;
		int pulse, lower = 0, raise = 0;

		if (p->gen_seen != p->generation) {
			/* Reprogrammed: the output drops, edges count afresh. */
			p->gen_seen = p->generation;
			p->irq_ticks = 0;
			lower = p->irq_level;
			p->irq_level = 0;
		}
		when = next_edge(p, now, &pulse, &tick);
		if (when && when <= now) {
			p->irq_ticks = tick;
			raise = 1;
			if (!pulse)
				p->irq_level = 1;
		}
		if (lower || raise) {
			pthread_mutex_unlock(&p->lock);
			if (lower)
				irq_line_set(&p->irq, 0);
			if (raise) {
				irq_line_set(&p->irq, 1);
				if (pulse)
					irq_line_set(&p->irq, 0);
			}
			pthread_mutex_lock(&p->lock);
			continue;
		}
		timed_wait(p, when);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pit *pit_new(struct bus *pio, struct irq_line irq0)
{
	struct pit *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &attr);
	pthread_condattr_destroy(&attr);
	p->irq = irq0;
	p->ch[0].gate = p->ch[1].gate = 1;
	for (int i = 0; i < 3; i++)
		p->ch[i].mode = 3;
	if (bus_register(pio, PIT_PORT, 4, &pit_ops, p, "pit")) {
		log_err("cannot register the PIT");
		goto fail;
	}
	if (bus_register(pio, PORT61, 1, &port61_ops, p, "port61")) {
		log_err("cannot register port 0x61");
		bus_unregister(pio, PIT_PORT);
		goto fail;
	}
	p->pio = pio;
	if (pthread_create(&p->thread, NULL, pit_thread, p)) {
		log_err("cannot start the PIT thread");
		pit_free(p);
		return NULL;
	}
	p->has_thread = 1;
	return p;
fail:
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}

void pit_free(struct pit *p)
{
	if (!p)
		return;
	if (p->has_thread) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	if (p->pio) {
		bus_unregister(p->pio, PIT_PORT);
		bus_unregister(p->pio, PORT61);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
