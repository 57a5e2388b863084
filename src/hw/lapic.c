/* SPDX-License-Identifier: Apache-2.0 */
/* Local APICs for the software CPU: registers, priorities, timer, IPIs. */
#include "hw/lapic.h"
#include "hw/lapic_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define VERSION      0x00050014u   /* version 0x14, six LVT entries */
#define SVR_ENABLE   0x100u
#define LVT_MASKED   0x10000u
#define LVT_DM_SHIFT 8
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_LEVEL        (1u << 14)
#define ICR_TRIGGER      (1u << 15)
#define APIC_BASE_EXTD   (1ULL << 10)
#define APIC_BASE_EN     (1ULL << 11)
#define X2APIC_MSR_FIRST 0x800
#define X2APIC_MSR_LAST  0x8ff

/* Which vCPU's LAPIC an MMIO access reaches: the thread is the CPU. */
static __thread struct lapic *lapic_current;

static void vec_set(struct lapic *l, int base, unsigned v)
{
	l->reg[base + v / 32] |= 1u << (v % 32);
}

static void vec_clear(struct lapic *l, int base, unsigned v)
{
	l->reg[base + v / 32] &= ~(1u << (v % 32));
}

static int vec_test(const struct lapic *l, int base, unsigned v)
{
	return !!(l->reg[base + v / 32] & (1u << (v % 32)));
}

static int vec_highest(const struct lapic *l, int base)
{
	for (int i = 7; i >= 0; i--)
		if (l->reg[base + i])
			return 32 * i + 31 - __builtin_clz(l->reg[base + i]);
	return -1;
}

static uint32_t ppr(const struct lapic *l)
{
	uint32_t tpr = l->reg[R_TPR] & 0xff;
	int isrv = vec_highest(l, R_ISR);
	uint32_t isr = isrv < 0 ? 0 : (uint32_t)isrv;

	return (tpr & 0xf0) >= (isr & 0xf0) ? tpr : isr & 0xf0;
}

static int enabled(const struct lapic *l)
{
	return l->hw_enabled && (l->reg[R_SVR] & SVR_ENABLE);
}

static unsigned timer_divisor(const struct lapic *l)
{
	uint32_t v = (l->reg[R_TDCR] & 3) | ((l->reg[R_TDCR] >> 1) & 4);

	return v == 7 ? 1 : 2u << v;
}

static int has_interrupt_locked(const struct lapic *l)
{
	int irr;

	if (!enabled(l))
		return -1;
	irr = vec_highest(l, R_IRR);
	if (irr < 0 || ((uint32_t)irr & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return irr;
}

static void wake(struct lapic *l)
{
	if (l->wake)
		l->wake(l->wake_opaque);
}

/* Accepts one message; 1 when the vCPU must be woken. */
static int accept_locked(struct lapic *l, const struct lapic_msg *msg)
{
	switch (msg->delivery) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		if (!enabled(l) || msg->vector < 16)
			return 0;
		vec_set(l, R_IRR, msg->vector);
		if (msg->trigger)
			vec_set(l, R_TMR, msg->vector);
		else
			vec_clear(l, R_TMR, msg->vector);
		return 1;
	case LAPIC_DM_NMI:
		l->nmi_pending = 1;
		return 1;
	case LAPIC_DM_INIT:
		if (msg->trigger && !msg->level)
			return 0;        /* INIT level de-assert: no effect since P4 */
		l->init_pending = 1;
		l->sipi_pending = 0;
		return 1;
	case LAPIC_DM_SIPI:
		l->sipi_pending = 1;
		l->sipi_vector = msg->vector;
		return 1;
	default:                 /* SMI; ExtINT comes through LINT0 instead */
		return 0;
	}
}

static int dest_match_locked(const struct lapic *l, const struct lapic_msg *msg)
{
	uint32_t ldr = l->reg[R_LDR], dest = msg->dest;

	if (!msg->logical) {
		if (l->x2apic)
			return dest == 0xffffffffu || dest == l->id;
		return (dest & 0xff) == 0xff || (dest & 0xff) == l->id;
	}
	if (l->x2apic)
		return dest == 0xffffffffu ||
		       ((dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff));
	dest &= 0xff;
	ldr >>= 24;
	if (dest == 0xff)
		return 1;
	if ((l->reg[R_DFR] >> 28) == 0xf)       /* flat model */
		return !!(dest & ldr);
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);   /* cluster */
}

static int targets(const struct lapic *l, const struct lapic_msg *msg, const struct lapic *src)
{
	switch (msg->shorthand) {
	case LAPIC_SH_SELF:
		return l == src;
	case LAPIC_SH_ALL:
		return 1;
	case LAPIC_SH_OTHERS:
		return l != src;
	default:
		return dest_match_locked(l, msg);
	}
}

void lapic_bus_deliver(struct lapic_bus *b, const struct lapic_msg *msg, struct lapic *src)
{
	for (int i = 0; i < b->n; i++) {
		struct lapic *l = &b->l[i];
		int hit = 0, woken = 0;

		pthread_mutex_lock(&l->lock);
		if (l->hw_enabled && targets(l, msg, src)) {
			hit = 1;
			woken = accept_locked(l, msg);
		}
		pthread_mutex_unlock(&l->lock);
		if (woken)
			wake(l);
		/* Lowest priority: the first CPU named takes it. */
		if (hit && msg->delivery == LAPIC_DM_LOWEST && msg->shorthand == LAPIC_SH_NONE)
			return;
	}
}

void lapic_bus_msi(struct lapic_bus *b, uint64_t addr, uint32_t data)
{
	struct lapic_msg msg = {
		.dest = (uint32_t)(addr >> 12) & 0xff,
		.vector = (uint8_t)data,
		.delivery = (uint8_t)((data >> 8) & 7),
		.logical = !!(addr & 4),
		.level = !!(data & (1u << 14)),
		.trigger = !!(data & (1u << 15)),
	};

	if ((addr >> 20) != 0xfee) {
		log_debug("MSI to %#llx dropped: not the APIC range", (unsigned long long)addr);
		return;
	}
	lapic_bus_deliver(b, &msg, NULL);
}

static void timer_fire_locked(struct lapic *l)
{
	uint32_t lvt = l->reg[R_LVT_TIMER];

	if ((lvt & LVT_MASKED) || !enabled(l))
		return;
	vec_set(l, R_IRR, lvt & 0xff);
	vec_clear(l, R_TMR, lvt & 0xff);
}

static void timer_start_locked(struct lapic *l, uint32_t count)
{
	l->reg[R_TMICT] = count;
	if (!count) {
		l->timer_deadline = 0;
		return;
	}
	l->timer_period = (uint64_t)count * timer_divisor(l);
	l->timer_deadline = lapic_now() + l->timer_period;
}

static uint32_t timer_current_locked(const struct lapic *l)
{
	uint64_t now, left;

	if (TIMER_MODE(l->reg[R_LVT_TIMER]) == TIMER_TSC_DEADLINE || !l->timer_deadline)
		return 0;
	now = lapic_now();
	if (now < l->timer_deadline)
		left = l->timer_deadline - now;
	else if (TIMER_MODE(l->reg[R_LVT_TIMER]) == TIMER_PERIODIC && l->timer_period)
		left = l->timer_period - (now - l->timer_deadline) % l->timer_period;
	else
		return 0;
	left /= timer_divisor(l);
	return left > 0xffffffffu ? 0xffffffffu : (uint32_t)left;
}

uint64_t lapic_timer_poll(struct lapic *l, uint64_t now_ns)
{
	uint64_t next;

	pthread_mutex_lock(&l->lock);
	if (l->timer_deadline && now_ns >= l->timer_deadline) {
		timer_fire_locked(l);
		if (TIMER_MODE(l->reg[R_LVT_TIMER]) == TIMER_PERIODIC && l->timer_period) {
			l->timer_deadline += l->timer_period;
			if (l->timer_deadline <= now_ns)     /* ticks missed: no burst */
				l->timer_deadline = now_ns + l->timer_period;
		} else {
			l->timer_deadline = 0;
			l->tsc_deadline = 0;
		}
	}
	next = l->timer_deadline;
	pthread_mutex_unlock(&l->lock);
	return next;
}

void lapic_set_tsc_deadline(struct lapic *l, uint64_t tsc, uint64_t host_ns)
{
	pthread_mutex_lock(&l->lock);
	if (TIMER_MODE(l->reg[R_LVT_TIMER]) == TIMER_TSC_DEADLINE) {
		l->tsc_deadline = tsc;
		l->timer_deadline = tsc ? (host_ns ? host_ns : 1) : 0;
	}
	pthread_mutex_unlock(&l->lock);
}

uint64_t lapic_get_tsc_deadline(struct lapic *l)
{
	uint64_t v;

	pthread_mutex_lock(&l->lock);
	v = TIMER_MODE(l->reg[R_LVT_TIMER]) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
	pthread_mutex_unlock(&l->lock);
	return v;
}

static void lvt_timer_write_locked(struct lapic *l, uint32_t v)
{
	uint32_t old = l->reg[R_LVT_TIMER];

	l->reg[R_LVT_TIMER] = v & 0x700ff;
	if (TIMER_MODE(old) != TIMER_MODE(v)) {
		l->timer_deadline = 0;
		l->tsc_deadline = 0;
		l->reg[R_TMICT] = 0;
	}
}

static void mask_all_lvts(struct lapic *l)
{
	static const int lvts[] = { R_CMCI, R_LVT_TIMER, R_LVT_THERM, R_LVT_PERF,
				    R_LINT0, R_LINT1, R_LVT_ERR };

	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		l->reg[lvts[i]] |= LVT_MASKED;
}

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

void lapic_reset(struct lapic *l, int bsp)
{
	pthread_mutex_lock(&l->lock);
	memset(l->reg, 0, sizeof(l->reg));
	l->reg[R_ID] = l->id << 24;
	l->reg[R_VER] = VERSION;
	l->reg[R_DFR] = 0xffffffffu;
	l->reg[R_SVR] = 0xff;
	mask_all_lvts(l);
	/* Firmware leaves the BSP in virtual-wire mode: the 8259 through LINT0. */
	if (bsp)
		l->reg[R_LINT0] = LAPIC_DM_EXTINT << LVT_DM_SHIFT;
	if (l->x2apic)
		l->reg[R_LDR] = x2apic_ldr(l->id);
	l->nmi_pending = 0;
	l->timer_deadline = l->tsc_deadline = 0;
	pthread_mutex_unlock(&l->lock);
}

void lapic_set_apic_base(struct lapic *l, uint64_t apic_base)
{
	pthread_mutex_lock(&l->lock);
	l->hw_enabled = !!(apic_base & APIC_BASE_EN);
	if ((apic_base & APIC_BASE_EXTD) && l->hw_enabled && !l->x2apic)
		l->reg[R_LDR] = x2apic_ldr(l->id);
	l->x2apic = l->hw_enabled && (apic_base & APIC_BASE_EXTD);
	pthread_mutex_unlock(&l->lock);
}

uint32_t lapic_id(const struct lapic *l)
{
	return l->id;
}

static uint32_t read_locked(struct lapic *l, unsigned r)
{
	switch (r) {
	case R_PPR:
		return ppr(l);
	case R_TMCCT:
		return timer_current_locked(l);
	case R_ICR:
		return l->reg[R_ICR] & ~(1u << 12);   /* delivery is instant: never pending */
	case R_EOI:
	case R_SELF_IPI:
		return 0;
	default:
		return r < R_COUNT ? l->reg[r] : 0;
	}
}

/* What a register write asks for once the lock is dropped. */
struct lapic_action {
	int eoi;                   /* vector of a level-triggered EOI, or -1 */
	int wake;                  /* an interrupt became deliverable */
	int send;
	struct lapic_msg msg;
};

static void icr_msg(const struct lapic *l, uint32_t lo, uint32_t dest, struct lapic_action *a)
{
	(void)l;
	a->send = 1;
	a->msg = (struct lapic_msg){
		.dest = dest, .vector = (uint8_t)lo, .delivery = (uint8_t)((lo >> 8) & 7),
		.logical = !!(lo & ICR_DEST_LOGICAL), .level = !!(lo & ICR_LEVEL),
		.trigger = !!(lo & ICR_TRIGGER), .shorthand = (uint8_t)((lo >> 18) & 3),
	};
}

static void eoi_locked(struct lapic *l, struct lapic_action *a)
{
	int v = vec_highest(l, R_ISR);

	if (v < 0)
		return;
	vec_clear(l, R_ISR, (unsigned)v);
	if (vec_test(l, R_TMR, (unsigned)v))
		a->eoi = v;
}

static void write_lvt_locked(struct lapic *l, unsigned r, uint32_t v, uint32_t mask)
{
	if (!(l->reg[R_SVR] & SVR_ENABLE))
		v |= LVT_MASKED;
	l->reg[r] = v & mask;
}

/* 0, or -1 for a register this mode cannot write (x2APIC: #GP). */
static int write_locked(struct lapic *l, unsigned r, uint32_t v, struct lapic_action *a)
{
	switch (r) {
	case R_TPR:
		l->reg[R_TPR] = v & 0xff;
		a->wake = has_interrupt_locked(l) >= 0;
		return 0;
	case R_EOI:
		eoi_locked(l, a);
		a->wake = has_interrupt_locked(l) >= 0;
		return 0;
	case R_LDR:
		if (l->x2apic)
			return -1;
		l->reg[R_LDR] = v & 0xff000000u;
		return 0;
	case R_DFR:
		if (l->x2apic)
			return -1;
		l->reg[R_DFR] = v | 0x0fffffffu;
		return 0;
	case R_SVR:
		l->reg[R_SVR] = v & 0x13ff;
		if (!(v & SVR_ENABLE))
			mask_all_lvts(l);
		return 0;
	case R_ESR:
		l->reg[R_ESR] = 0;
		return 0;
	case R_ICR:
		l->reg[R_ICR] = v & 0x000cdfff;
		icr_msg(l, l->reg[R_ICR], l->x2apic ? l->reg[R_ICR2] : l->reg[R_ICR2] >> 24, a);
		return 0;
	case R_ICR2:
		if (l->x2apic)
			return -1;
		l->reg[R_ICR2] = v & 0xff000000u;
		return 0;
	case R_LVT_TIMER:
		if (!(l->reg[R_SVR] & SVR_ENABLE))
			v |= LVT_MASKED;
		lvt_timer_write_locked(l, v);
		return 0;
	case R_LINT0:
	case R_LINT1:
		write_lvt_locked(l, r, v, 0x1a7ff);
		return 0;
	case R_LVT_THERM:
	case R_LVT_PERF:
	case R_CMCI:
		write_lvt_locked(l, r, v, 0x107ff);
		return 0;
	case R_LVT_ERR:
		write_lvt_locked(l, r, v, 0x100ff);
		return 0;
	case R_TMICT:
		if (TIMER_MODE(l->reg[R_LVT_TIMER]) != TIMER_TSC_DEADLINE)
			timer_start_locked(l, v);
		return 0;
	case R_TDCR:
		l->reg[R_TDCR] = v & 0xb;
		return 0;
	case R_SELF_IPI:
		if (!l->x2apic)
			return 0;
		icr_msg(l, v & 0xff, 0, a);
		a->msg.shorthand = LAPIC_SH_SELF;
		return 0;
	default:              /* ID, version, PPR, ISR/TMR/IRR, CCR: read-only */
		return l->x2apic ? -1 : 0;
	}
}

static void act(struct lapic *l, const struct lapic_action *a)
{
	if (a->eoi >= 0 && l->bus->eoi)
		l->bus->eoi(l->bus->eoi_opaque, (uint8_t)a->eoi);
	if (a->send)
		lapic_bus_deliver(l->bus, &a->msg, l);
	if (a->wake)
		wake(l);
}

uint32_t lapic_read(struct lapic *l, uint32_t offset)
{
	uint32_t v;

	if (offset >= LAPIC_PAGE)
		return 0;
	pthread_mutex_lock(&l->lock);
	v = read_locked(l, offset >> 4);
	pthread_mutex_unlock(&l->lock);
	return v;
}

void lapic_write(struct lapic *l, uint32_t offset, uint32_t value)
{
	struct lapic_action a = { .eoi = -1 };

	if (offset >= LAPIC_PAGE)
		return;
	pthread_mutex_lock(&l->lock);
	write_locked(l, offset >> 4, value, &a);
	pthread_mutex_unlock(&l->lock);
	act(l, &a);
}

static int x2apic_reg(struct lapic *l, uint32_t index, unsigned *r)
{
	if (index < X2APIC_MSR_FIRST || index > X2APIC_MSR_LAST || !l->x2apic)
		return -1;
	*r = index - X2APIC_MSR_FIRST;
	return *r == R_DFR || *r == R_ICR2 || *r >= R_COUNT ? -1 : 0;
}

int lapic_rdmsr(struct lapic *l, uint32_t index, uint64_t *value)
{
	unsigned r;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	if (x2apic_reg(l, index, &r) || r == R_EOI || r == R_SELF_IPI) {
		rc = -1;
	} else if (r == R_ID) {
		*value = l->id;
	} else if (r == R_ICR) {
		*value = read_locked(l, R_ICR) | (uint64_t)l->reg[R_ICR2] << 32;
	} else {
		*value = read_locked(l, r);
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

int lapic_wrmsr(struct lapic *l, uint32_t index, uint64_t value)
{
	struct lapic_action a = { .eoi = -1 };
	unsigned r;
	int rc = -1;

	pthread_mutex_lock(&l->lock);
	if (!x2apic_reg(l, index, &r) && !(value >> 32 && r != R_ICR)) {
		if (r == R_ICR)
			l->reg[R_ICR2] = (uint32_t)(value >> 32);
		rc = write_locked(l, r, (uint32_t)value, &a);
	}
	pthread_mutex_unlock(&l->lock);
	if (!rc)
		act(l, &a);
	return rc;
}

uint8_t lapic_get_cr8(struct lapic *l)
{
	uint8_t v;

	pthread_mutex_lock(&l->lock);
	v = (uint8_t)((l->reg[R_TPR] >> 4) & 0xf);
	pthread_mutex_unlock(&l->lock);
	return v;
}

void lapic_set_cr8(struct lapic *l, uint8_t cr8)
{
	pthread_mutex_lock(&l->lock);
	l->reg[R_TPR] = (uint32_t)(cr8 & 0xf) << 4;
	pthread_mutex_unlock(&l->lock);
}

int lapic_ack_interrupt(struct lapic *l)
{
	int v;

	pthread_mutex_lock(&l->lock);
	v = has_interrupt_locked(l);
	if (v >= 0) {
		vec_clear(l, R_IRR, (unsigned)v);
		vec_set(l, R_ISR, (unsigned)v);
	}
	pthread_mutex_unlock(&l->lock);
	return v;
}

int lapic_has_interrupt(struct lapic *l)
{
	int v;

	pthread_mutex_lock(&l->lock);
	v = has_interrupt_locked(l);
	pthread_mutex_unlock(&l->lock);
	return v >= 0;
}

int lapic_accepts_pic(struct lapic *l)
{
	uint32_t lint0;
	int r;

	pthread_mutex_lock(&l->lock);
	lint0 = l->reg[R_LINT0];
	r = !l->hw_enabled ||
	    (!(lint0 & LVT_MASKED) && ((lint0 >> LVT_DM_SHIFT) & 7) == LAPIC_DM_EXTINT);
	pthread_mutex_unlock(&l->lock);
	return r;
}

static int take(struct lapic *l, int *flag)
{
	int v;

	pthread_mutex_lock(&l->lock);
	v = *flag;
	*flag = 0;
	pthread_mutex_unlock(&l->lock);
	return v;
}

int lapic_take_nmi(struct lapic *l)
{
	return take(l, &l->nmi_pending);
}

int lapic_take_init(struct lapic *l)
{
	return take(l, &l->init_pending);
}

int lapic_take_sipi(struct lapic *l, uint8_t *vector)
{
	int v;

	pthread_mutex_lock(&l->lock);
	v = l->sipi_pending;
	l->sipi_pending = 0;
	*vector = l->sipi_vector;
	pthread_mutex_unlock(&l->lock);
	return v;
}

void lapic_save(struct lapic *l, uint8_t page[LAPIC_PAGE])
{
	pthread_mutex_lock(&l->lock);
	memset(page, 0, LAPIC_PAGE);
	for (unsigned r = 0; r < R_COUNT; r++) {
		uint32_t v = read_locked(l, r);

		memcpy(page + r * 16, &v, 4);
	}
	pthread_mutex_unlock(&l->lock);
}

void lapic_load(struct lapic *l, const uint8_t page[LAPIC_PAGE])
{
	uint32_t count;

	pthread_mutex_lock(&l->lock);
	for (unsigned r = 0; r < R_COUNT; r++)
		memcpy(&l->reg[r], page + r * 16, 4);
	l->reg[R_ID] = l->id << 24;          /* the ID is the vCPU's, fixed */
	l->reg[R_VER] = VERSION;
	count = l->reg[R_TMCCT];
	l->reg[R_TMCCT] = 0;
	l->timer_deadline = 0;
	if (TIMER_MODE(l->reg[R_LVT_TIMER]) != TIMER_TSC_DEADLINE && count) {
		uint32_t initial = l->reg[R_TMICT];

		timer_start_locked(l, count);
		l->reg[R_TMICT] = initial;
		l->timer_period = (uint64_t)(initial ? initial : count) * timer_divisor(l);
	}
	pthread_mutex_unlock(&l->lock);
}

void lapic_set_wake(struct lapic *l, void (*fn)(void *opaque), void *opaque)
{
	pthread_mutex_lock(&l->lock);
	l->wake = fn;
	l->wake_opaque = opaque;
	pthread_mutex_unlock(&l->lock);
}

void lapic_set_current(struct lapic *l)
{
	lapic_current = l;
}

static uint64_t lapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct lapic *l = lapic_current;
	uint32_t v;

	(void)opaque;
	if (!l || l->x2apic || !l->hw_enabled)
		return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	v = lapic_read(l, (uint32_t)offset & ~0xfu);
	v >>= (offset & 3) * 8;
	return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void lapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct lapic *l = lapic_current;

	(void)opaque;
	/* Registers are written as aligned dwords; anything else is dropped. */
	if (!l || l->x2apic || !l->hw_enabled || size < 4 || (offset & 0xf))
		return;
	lapic_write(l, (uint32_t)offset, (uint32_t)value);
}

static const struct bus_ops lapic_mmio_ops = {
	.read = lapic_mmio_read,
	.write = lapic_mmio_write,
};

struct lapic_bus *lapic_bus_new(struct bus *mmio, int ncpus)
{
	struct lapic_bus *b = calloc(1, sizeof(*b));

	if (!b || ncpus < 1 || !(b->l = calloc((size_t)ncpus, sizeof(*b->l)))) {
		free(b);
		return NULL;
	}
	b->n = ncpus;
	for (int i = 0; i < ncpus; i++) {
		struct lapic *l = &b->l[i];

		pthread_mutex_init(&l->lock, NULL);
		l->bus = b;
		l->id = (uint32_t)i;
		l->hw_enabled = 1;
		lapic_reset(l, i == 0);
	}
	if (mmio && bus_register(mmio, LAPIC_BASE, LAPIC_SIZE, &lapic_mmio_ops, b, "lapic")) {
		log_err("cannot register the local APIC at %#llx", LAPIC_BASE);
		lapic_bus_free(b);
		return NULL;
	}
	b->mmio = mmio;
	return b;
}

void lapic_bus_free(struct lapic_bus *b)
{
	if (!b)
		return;
	if (b->mmio)
		bus_unregister(b->mmio, LAPIC_BASE);
	for (int i = 0; i < b->n; i++)
		pthread_mutex_destroy(&b->l[i].lock);
	free(b->l);
	free(b);
}

struct lapic *lapic_bus_get(struct lapic_bus *b, int index)
{
	return index >= 0 && index < b->n ? &b->l[index] : NULL;
}

void lapic_bus_set_eoi_hook(struct lapic_bus *b, void (*eoi)(void *opaque, uint8_t vector),
			    void *opaque)
{
	b->eoi = eoi;
	b->eoi_opaque = opaque;
}
