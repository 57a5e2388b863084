/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_VIRTIO_RIG_H
#define VMON_TESTS_VIRTIO_RIG_H

/*
 * A bench for the PCI host and the virtio devices: guest RAM, port and MMIO
 * buses, an interrupt recorder, and a small driver that does what a guest
 * does: PCI config through CF8/CFC, BARs and MSI-X, or virtio-mmio pages;
 * feature negotiation, queues in guest RAM, kicks, used-ring polling.
 * The devices come from machine_virtio_create (struct machine's cfg), or
 * are built directly on rig.pci_host when a test needs their pointers.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine/bus.h"
#include "machine/machine.h"
#include "machine/machine_virtio.h"
#include "pci/pci.h"

#define RIG_RAM        (40ULL << 20)
#define RIG_RINGS      0x100000ULL       /* device i's at + 0x40000 * i, 0x10000 a queue */
#define RIG_REQS       0x200000ULL       /* request headers and status bytes */
#define RIG_DATA       0x400000ULL       /* data buffers */
#define RIG_DATA_SLOT  (256u << 10)
#define RIG_MAX_EV     32
#define RIG_MSI_BASE   0x30              /* vector v sends data 0x30 + v */
#define RIG_MAX_BIND   64

/* An MSI source's binding as the recorder's fast path (KVM's irqfd) keeps it. */
struct rig_binding {
	bool armed;
	uint64_t addr;
	uint32_t data;
};

struct rig {
	struct irq_chip chip;            /* first: the recorder finds the rig from it */
	atomic_int level[24], rises[24];
	atomic_int msis;
	atomic_uint msi_data;
	atomic_ullong msi_addr;
	/* The MSI fast path: bindings made, sources bound and armed now, MSIs
	 * signalled through a binding, and any signalled while disarmed. */
	struct rig_binding bind[RIG_MAX_BIND];
	int nbind;
	atomic_int fast_msis, bad_signals;
	pthread_mutex_t ev_lock;
	int nev;                         /* ioeventfds bound now */
	uint64_t ev_addr[RIG_MAX_EV];
	struct machine m;
};

static inline void rig_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct rig *r = (struct rig *)chip;

	if (gsi >= 24)
		return;
	if (level && !atomic_load(&r->level[gsi]))
		atomic_fetch_add(&r->rises[gsi], 1);
	atomic_store(&r->level[gsi], level);
}

static inline void rig_send_msi(struct irq_chip *chip, uint64_t addr, uint32_t data)
{
	struct rig *r = (struct rig *)chip;

	atomic_store(&r->msi_addr, addr);
	atomic_store(&r->msi_data, data);
	atomic_fetch_add(&r->msis, 1);
}

/* Like KVM's irqfd: a binding keeps the message it was routed to, and
 * signals deliver that one, not whatever the table holds by then. */
static inline int rig_msi_bind(struct irq_chip *chip, struct irq_msi *src)
{
	struct rig *r = (struct rig *)chip;
	struct rig_binding *b = src->binding;

	pthread_mutex_lock(&r->ev_lock);
	if (!b && r->nbind < RIG_MAX_BIND)
		b = src->binding = &r->bind[r->nbind++];
	pthread_mutex_unlock(&r->ev_lock);
	if (!b)
		return -1;
	b->armed = src->armed;
	if (src->armed) {
		b->addr = src->addr;
		b->data = src->data;
	}
	return 0;
}

static inline void rig_msi_signal(struct irq_chip *chip, struct irq_msi *src)
{
	struct rig *r = (struct rig *)chip;
	const struct rig_binding *b = src->binding;

	if (!b->armed)
		atomic_fetch_add(&r->bad_signals, 1);
	atomic_fetch_add(&r->fast_msis, 1);
	rig_send_msi(chip, b->addr, b->data);
}

static inline void rig_msi_unbind(struct irq_chip *chip, struct irq_msi *src)
{
	(void)chip;
	((struct rig_binding *)src->binding)->armed = false;
}

/* How many bindings are armed now. */
static inline int rig_armed(struct rig *r)
{
	int n = 0;

	pthread_mutex_lock(&r->ev_lock);
	for (int i = 0; i < r->nbind; i++)
		n += r->bind[i].armed;
	pthread_mutex_unlock(&r->ev_lock);
	return n;
}

/* The accelerator's ioeventfd hook: records what is bound where. */
static inline int rig_eventfd(void *opaque, uint64_t addr, unsigned len, int64_t datamatch,
			      int fd, int assign)
{
	struct rig *r = opaque;

	(void)len;
	(void)datamatch;
	(void)fd;
	pthread_mutex_lock(&r->ev_lock);
	if (assign && r->nev < RIG_MAX_EV) {
		r->ev_addr[r->nev++] = addr;
	} else if (!assign) {
		for (int i = 0; i < r->nev; i++)
			if (r->ev_addr[i] == addr) {
				r->ev_addr[i] = r->ev_addr[--r->nev];
				break;
			}
	}
	pthread_mutex_unlock(&r->ev_lock);
	return 0;
}

static inline int rig_bound(struct rig *r, uint64_t addr)
{
	int n = 0;

	pthread_mutex_lock(&r->ev_lock);
	for (int i = 0; i < r->nev; i++)
		n += r->ev_addr[i] == addr;
	pthread_mutex_unlock(&r->ev_lock);
	return n;
}

/* Buses, RAM and the recorder; no devices yet. */
static inline struct rig *rig_bare(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->chip.set_level = rig_set_level;
	r->chip.send_msi = rig_send_msi;
	r->chip.msi_bind = rig_msi_bind;
	r->chip.msi_signal = rig_msi_signal;
	r->chip.msi_unbind = rig_msi_unbind;
	pthread_mutex_init(&r->ev_lock, NULL);
	r->m.irq = &r->chip;
	r->m.pio = bus_new("pio");
	r->m.mmio = bus_new("mmio");
	if (!r->m.pio || !r->m.mmio || guest_mem_init(&r->m.mem, RIG_RAM)) {
		free(r);
		return NULL;
	}
	bus_set_eventfd_hook(r->m.mmio, rig_eventfd, r);
	return r;
}

/* A rig with the devices cfg asks for (disks, rng, transport). */
static inline struct rig *rig_new(const struct machine_config *cfg)
{
	struct rig *r = rig_bare();

	if (!r)
		return NULL;
	r->m.cfg = *cfg;
	if (machine_virtio_create(&r->m)) {
		machine_virtio_destroy(&r->m);
		guest_mem_destroy(&r->m.mem);
		free(r);
		return NULL;
	}
	return r;
}

static inline void rig_free(struct rig *r)
{
	if (!r)
		return;
	machine_virtio_destroy(&r->m);
	guest_mem_destroy(&r->m.mem);
	bus_free(r->m.pio);
	bus_free(r->m.mmio);
	pthread_mutex_destroy(&r->ev_lock);
	free(r);
}

static inline void *rig_ptr(struct rig *r, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&r->m.mem, gpa, len);
}

static inline void rig_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

/* The line's level once it is level, or what it is after a second. */
static inline int rig_line_level(struct rig *r, unsigned gsi, int level)
{
	for (int t = 0; t < 10000 && atomic_load(&r->level[gsi]) != level; t++)
		rig_sleep_us(100);
	return atomic_load(&r->level[gsi]);
}

/* ---- PCI configuration space, as a guest reaches it ---- */

static inline uint32_t cfg_read(struct rig *r, unsigned slot, unsigned reg, unsigned size)
{
	bus_write(r->m.pio, 0xcf8, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	return (uint32_t)bus_read(r->m.pio, 0xcfc + (reg & 3), size);
}

static inline void cfg_write(struct rig *r, unsigned slot, unsigned reg, unsigned size,
			     uint32_t v)
{
	bus_write(r->m.pio, 0xcf8, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	bus_write(r->m.pio, 0xcfc + (reg & 3), size, v);
}

static inline uint8_t cfg_find_cap(struct rig *r, unsigned slot, uint8_t id)
{
	uint8_t at = (uint8_t)cfg_read(r, slot, PCI_CAP_PTR, 1);

	for (int n = 0; at && n < 48; n++, at = (uint8_t)cfg_read(r, slot, at + 1u, 1))
		if (cfg_read(r, slot, at, 1) == id)
			return at;
	return 0;
}

/* ---- the driver ---- */

/* virtio-pci common configuration and virtio-mmio registers. */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c, CC_MSIX = 0x10,
	CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15, CC_Q_SELECT = 0x16,
	CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c, CC_Q_NOFF = 0x1e,
	CC_Q_DESCLO = 0x20, CC_Q_DESCHI = 0x24, CC_Q_AVAILLO = 0x28, CC_Q_AVAILHI = 0x2c,
	CC_Q_USEDLO = 0x30, CC_Q_USEDHI = 0x34,
	PCI_ISR = 0x1000, PCI_DEVCFG = 0x2000, PCI_NOTIFY = 0x3000,
};
enum {
	R_DF = 0x010, R_DF_SEL = 0x014, R_GF = 0x020, R_GF_SEL = 0x024, R_Q_SEL = 0x030,
	R_Q_NUM_MAX = 0x034, R_Q_NUM = 0x038, R_Q_READY = 0x044, R_Q_NOTIFY = 0x050,
	R_INT_STATUS = 0x060, R_INT_ACK = 0x064, R_STATUS = 0x070, R_Q_DESC_LO = 0x080,
	R_Q_DESC_HI = 0x084, R_Q_DRIVER_LO = 0x090, R_Q_DRIVER_HI = 0x094,
	R_Q_DEVICE_LO = 0x0a0, R_Q_DEVICE_HI = 0x0a4, R_CFG_GEN = 0x0fc, R_CONFIG = 0x100,
};

#define F_EVENT_IDX  (1ULL << 29)
#define F_VERSION_1  (1ULL << 32)
#define F_RING_PACKED (1ULL << 34)
#define D_WRITE      VIRTQ_DESC_F_WRITE
#define D_AVAIL      (1u << 7)            /* packed rings */
#define D_USED       (1u << 15)
#define RIG_MAX_ID   64                   /* packed buffer IDs the driver uses */

struct drv {
	struct rig *r;
	bool mmio;
	unsigned slot;                   /* PCI */
	uint64_t base;                   /* BAR 0, or the MMIO page */
	uint64_t msix_bar;               /* BAR 1 (0: MSI-X left off) */
	uint64_t rings;                  /* where its queues' rings are */
	unsigned nq;
	uint16_t qsize;
	uint64_t features;
	/* Split: the rings' indices.  Packed (features has F_RING_PACKED): the
	 * next slot to fill and to look for used, wrap counter in bit 15, and
	 * each buffer ID's chain length. */
	uint16_t avail_idx[2], used_idx[2];
	uint8_t ndesc[2][RIG_MAX_ID];
};

static inline bool drv_packed(const struct drv *d)
{
	return d->features & F_RING_PACKED;
}

static inline uint64_t rd(struct drv *d, uint64_t off, unsigned size)
{
	return bus_read(d->r->m.mmio, d->base + off, size);
}

static inline void wr(struct drv *d, uint64_t off, unsigned size, uint64_t v)
{
	bus_write(d->r->m.mmio, d->base + off, size, v);
}

static inline uint8_t drv_status(struct drv *d)
{
	return (uint8_t)(d->mmio ? rd(d, R_STATUS, 4) : rd(d, CC_STATUS, 1));
}

static inline void drv_set_status(struct drv *d, uint8_t s)
{
	if (d->mmio)
		wr(d, R_STATUS, 4, s);
	else
		wr(d, CC_STATUS, 1, s);
}

static inline uint64_t drv_ring(const struct drv *d, unsigned q)
{
	return d->rings + 0x10000ULL * q;
}

/* Rings of queue q: descriptors, then avail at +0x1000, used at +0x2000. */
static inline uint8_t *drv_avail(struct drv *d, unsigned q)
{
	return rig_ptr(d->r, drv_ring(d, q) + 0x1000, 0x1000);
}

static inline uint8_t *drv_used(struct drv *d, unsigned q)
{
	return rig_ptr(d->r, drv_ring(d, q) + 0x2000, 0x2000);
}

static inline uint16_t ld16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static inline void st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

/* PCI: the function in slot, memory decoding and bus mastering on. */
static inline void drv_attach_pci(struct drv *d, struct rig *r, unsigned slot)
{
	memset(d, 0, sizeof(*d));
	d->r = r;
	d->slot = slot;
	d->rings = RIG_RINGS + 0x40000ULL * (slot - 1);
	cfg_write(r, slot, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	d->base = cfg_read(r, slot, PCI_BAR0, 4) & ~15ULL;
	d->nq = (unsigned)rd(d, CC_NUMQ, 2);
}

static inline void drv_attach_mmio(struct drv *d, struct rig *r, unsigned index)
{
	memset(d, 0, sizeof(*d));
	d->r = r;
	d->mmio = true;
	d->rings = RIG_RINGS + 0x40000ULL * index;
	d->base = 0xfe000000ULL + 0x1000ULL * index;
}

/* MSI-X on, every vector unmasked and aimed at RIG_MSI_BASE + v. */
static inline void drv_msix_on(struct drv *d)
{
	uint8_t cap = cfg_find_cap(d->r, d->slot, PCI_CAP_MSIX);
	unsigned nvec = (cfg_read(d->r, d->slot, cap + 2u, 2) & 0x7ff) + 1;

	d->msix_bar = cfg_read(d->r, d->slot, PCI_BAR0 + 4, 4) & ~15ULL;
	for (unsigned v = 0; v < nvec; v++) {
		uint64_t e = d->msix_bar + 16ULL * v;

		bus_write(d->r->m.mmio, e, 4, 0xfee00000u);
		bus_write(d->r->m.mmio, e + 4, 4, 0);
		bus_write(d->r->m.mmio, e + 8, 4, RIG_MSI_BASE + v);
		bus_write(d->r->m.mmio, e + 12, 4, 0);
	}
	cfg_write(d->r, d->slot, cap + 3u, 1, 0x80);
}

/* Reset, ACKNOWLEDGE, DRIVER, features; 0 if FEATURES_OK stuck. */
static inline int drv_negotiate(struct drv *d, uint64_t want)
{
	uint64_t offered;

	drv_set_status(d, 0);
	drv_set_status(d, 1);
	drv_set_status(d, 3);
	if (d->mmio) {
		wr(d, R_DF_SEL, 4, 0);
		offered = rd(d, R_DF, 4);
		wr(d, R_DF_SEL, 4, 1);
		offered |= rd(d, R_DF, 4) << 32;
		d->features = offered & want;
		wr(d, R_GF_SEL, 4, 0);
		wr(d, R_GF, 4, (uint32_t)d->features);
		wr(d, R_GF_SEL, 4, 1);
		wr(d, R_GF, 4, (uint32_t)(d->features >> 32));
	} else {
		wr(d, CC_DFSELECT, 4, 0);
		offered = rd(d, CC_DF, 4);
		wr(d, CC_DFSELECT, 4, 1);
		offered |= rd(d, CC_DF, 4) << 32;
		d->features = offered & want;
		wr(d, CC_GFSELECT, 4, 0);
		wr(d, CC_GF, 4, (uint32_t)d->features);
		wr(d, CC_GFSELECT, 4, 1);
		wr(d, CC_GF, 4, (uint32_t)(d->features >> 32));
	}
	drv_set_status(d, 11);
	return drv_status(d) & 8 ? 0 : -1;
}

/* Queue q of size entries at drv_ring(d, q), interrupting on vector vec (PCI). */
static inline void drv_queue(struct drv *d, unsigned q, uint16_t size, uint16_t vec)
{
	uint64_t desc = drv_ring(d, q), avail = desc + 0x1000, used = desc + 0x2000;

	memset(rig_ptr(d->r, desc, 0x3000), 0, 0x3000);
	d->qsize = size;
	/* Packed rings' wrap counters start at 1. */
	d->avail_idx[q] = d->used_idx[q] = drv_packed(d) ? VIRTQ_PACKED_WRAP : 0;
	if (d->mmio) {
		wr(d, R_Q_SEL, 4, q);
		wr(d, R_Q_NUM, 4, size);
		wr(d, R_Q_DESC_LO, 4, (uint32_t)desc);
		wr(d, R_Q_DESC_HI, 4, 0);
		wr(d, R_Q_DRIVER_LO, 4, (uint32_t)avail);
		wr(d, R_Q_DRIVER_HI, 4, 0);
		wr(d, R_Q_DEVICE_LO, 4, (uint32_t)used);
		wr(d, R_Q_DEVICE_HI, 4, 0);
		wr(d, R_Q_READY, 4, 1);
		return;
	}
	wr(d, CC_Q_SELECT, 2, q);
	wr(d, CC_Q_SIZE, 2, size);
	wr(d, CC_Q_DESCLO, 4, (uint32_t)desc);
	wr(d, CC_Q_DESCHI, 4, 0);
	wr(d, CC_Q_AVAILLO, 4, (uint32_t)avail);
	wr(d, CC_Q_AVAILHI, 4, 0);
	wr(d, CC_Q_USEDLO, 4, (uint32_t)used);
	wr(d, CC_Q_USEDHI, 4, 0);
	wr(d, CC_Q_MSIX, 2, vec);
	wr(d, CC_Q_ENABLE, 2, 1);
}

static inline void drv_driver_ok(struct drv *d)
{
	drv_set_status(d, 15);
}

static inline void drv_desc(struct drv *d, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *p = rig_ptr(d->r, drv_ring(d, q) + 16ULL * i, 16);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Makes head available (no kick). */
static inline void drv_publish(struct drv *d, unsigned q, uint16_t head)
{
	uint8_t *a = drv_avail(d, q);

	st16(a + 4 + 2 * (d->avail_idx[q] % d->qsize), head);
	d->avail_idx[q]++;
	st16(a + 2, d->avail_idx[q]);
}

static inline void drv_kick(struct drv *d, unsigned q)
{
	if (d->mmio)
		wr(d, R_Q_NOTIFY, 4, q);
	else
		wr(d, PCI_NOTIFY + 4ULL * q, 2, q);
}

/* The device's used index and, with EVENT_IDX, how far it has popped. */
static inline uint16_t drv_used_now(struct drv *d, unsigned q)
{
	return ld16(drv_used(d, q) + 2);
}

static inline uint16_t drv_avail_event(struct drv *d, unsigned q)
{
	return ld16(drv_used(d, q) + 4 + 8 * d->qsize);
}

/* ---- packed rings: one ring of descriptors (at drv_ring), the driver's
 * event suppression at + 0x1000, the device's at + 0x2000 ---- */

static inline uint8_t *drv_pdesc(struct drv *d, unsigned q, uint16_t pos)
{
	return rig_ptr(d->r, drv_ring(d, q) + 16ULL * (pos & (VIRTQ_PACKED_WRAP - 1)), 16);
}

/* pos (with its wrap counter) n slots on. */
static inline uint16_t drv_pnext(const struct drv *d, uint16_t pos, unsigned n)
{
	unsigned p = (pos & (VIRTQ_PACKED_WRAP - 1)) + n;

	return p >= d->qsize ? (uint16_t)((pos & VIRTQ_PACKED_WRAP) ^ VIRTQ_PACKED_WRAP) | (uint16_t)(p - d->qsize)
			     : (uint16_t)((pos & VIRTQ_PACKED_WRAP) | p);
}

/* Used at pos: both flag bits equal to pos's wrap counter. */
static inline bool drv_pused(struct drv *d, unsigned q, uint16_t pos)
{
	uint16_t f = ld16(drv_pdesc(d, q, pos) + 14), w = pos & VIRTQ_PACKED_WRAP ? 1 : 0;

	return !!(f & D_USED) == w && !!(f & D_AVAIL) == w;
}

/* The driver's event suppression: an interrupt only once the used
 * position passes pos (EVENT_IDX), or flags as given. */
static inline void drv_pevent(struct drv *d, unsigned q, uint16_t off_wrap, uint16_t flags)
{
	uint8_t *ev = drv_avail(d, q);

	st16(ev, off_wrap);
	st16(ev + 2, flags);
}

/* Whether a used buffer waits for the driver. */
static inline bool drv_has_used(struct drv *d, unsigned q)
{
	return drv_packed(d) ? drv_pused(d, q, d->used_idx[q]) : drv_used_now(d, q) != d->used_idx[q];
}

/* One segment of a buffer. */
struct drv_seg {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;                  /* D_WRITE or 0 */
};

/*
 * Makes a buffer of n segments available, without a kick.  Split:
 * descriptors head..head+n-1 chained, head published.  Packed: the next n
 * slots with buffer ID head, the first one's flags written last.
 */
static inline void drv_offer(struct drv *d, unsigned q, uint16_t head, unsigned n,
			     const struct drv_seg *seg)
{
	uint16_t pos = d->avail_idx[q], first_flags = 0;

	if (!drv_packed(d)) {
		for (unsigned k = 0; k < n; k++)
			drv_desc(d, q, (uint16_t)(head + k), seg[k].addr, seg[k].len,
				 (uint16_t)(seg[k].flags | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				 (uint16_t)(head + k + 1));
		drv_publish(d, q, head);
		return;
	}
	for (unsigned k = 0; k < n; k++, pos = drv_pnext(d, pos, 1)) {
		uint8_t *p = drv_pdesc(d, q, pos);
		uint16_t f = (uint16_t)(seg[k].flags | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
					(pos & VIRTQ_PACKED_WRAP ? D_AVAIL : D_USED));

		memcpy(p, &seg[k].addr, 8);
		memcpy(p + 8, &seg[k].len, 4);
		memcpy(p + 12, &head, 2);
		if (k)
			st16(p + 14, f);
		else
			first_flags = f;
	}
	st16(drv_pdesc(d, q, d->avail_idx[q]) + 14, first_flags);
	d->ndesc[q][head % RIG_MAX_ID] = (uint8_t)n;
	d->avail_idx[q] = pos;
}

/* The next used buffer, if any; with EVENT_IDX asks for an interrupt on
 * the one after (used_event, or the driver's event suppression). */
static inline bool drv_take(struct drv *d, unsigned q, uint32_t *id, uint32_t *len)
{
	uint8_t *u = drv_used(d, q);

	if (drv_packed(d)) {
		uint8_t *p = drv_pdesc(d, q, d->used_idx[q]);
		uint16_t i = 0;

		if (!drv_pused(d, q, d->used_idx[q]))
			return false;
		memcpy(&i, p + 12, 2);
		memcpy(len, p + 8, 4);
		*id = i;
		d->used_idx[q] = drv_pnext(d, d->used_idx[q], d->ndesc[q][i % RIG_MAX_ID]);
		if (d->features & F_EVENT_IDX)
			drv_pevent(d, q, d->used_idx[q], 2);
		return true;
	}
	if (drv_used_now(d, q) == d->used_idx[q])
		return false;
	memcpy(id, u + 4 + 8 * (d->used_idx[q] % d->qsize), 4);
	memcpy(len, u + 8 + 8 * (d->used_idx[q] % d->qsize), 4);
	d->used_idx[q]++;
	st16(drv_avail(d, q) + 4 + 2 * d->qsize, d->used_idx[q]);
	return true;
}

/* The next used entry; -1 after ms milliseconds without one.  Asks for an
 * interrupt on the following one (EVENT_IDX's used_event). */
static inline int drv_wait(struct drv *d, unsigned q, uint32_t *id, uint32_t *len, int ms)
{
	*id = *len = 0;
	for (int t = 0; !drv_take(d, q, id, len); t++) {
		if (t >= ms * 10)
			return -1;
		rig_sleep_us(100);
	}
	return 0;
}

/* virtio-rng: one 64-byte buffer at RIG_RNG_BUF, queue 0 of 8 entries. */
#define RIG_RNG_BUF (RIG_DATA - 0x1000)

static inline int drv_rng_setup(struct drv *d, bool msix)
{
	/* A packed ring when the device offers one (packed=on). */
	if (drv_negotiate(d, F_VERSION_1 | F_RING_PACKED))
		return -1;
	if (msix)
		drv_msix_on(d);
	drv_queue(d, 0, 8, msix ? 1 : 0xffff);
	drv_driver_ok(d);
	return drv_status(d) == 15 ? 0 : -1;
}

/* One request: 64 bytes back in descriptor 0. */
static inline int drv_rng_read(struct drv *d)
{
	uint32_t id, n;

	drv_offer(d, 0, 0, 1, &(struct drv_seg){ RIG_RNG_BUF, 64, D_WRITE });
	drv_kick(d, 0);
	return drv_wait(d, 0, &id, &n, 3000) || id != 0 || n != 64 ? -1 : 0;
}

#endif
