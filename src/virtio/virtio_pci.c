/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio over PCI, modern (1.x) interface only: vendor capabilities point
 * into BAR 0 for the common, ISR, device and notification areas; BAR 1
 * holds the MSI-X table.  Each queue has its own notification address, so
 * under KVM an ioeventfd catches kicks without a trip through vmon.
 */
#include "virtio/virtio_pci.h"

#include <stdlib.h>
#include <string.h>

#include "pci/pci.h"
#include "pci/pci_msix.h"
#include "snapshot/snap.h"
#include "util/iothread.h"
#include "util/log.h"

#define VIRTIO_PCI_VENDOR    0x1af4
#define VIRTIO_PCI_DEVICE    0x1040      /* + device ID */

#define CAP_COMMON  1
#define CAP_NOTIFY  2
#define CAP_ISR     3
#define CAP_DEVICE  4
#define CAP_PCI_CFG 5

#define BAR_SIZE        0x4000
#define COMMON_OFF      0x0000
#define COMMON_LEN      0x40
#define ISR_OFF         0x1000
#define DEVICE_OFF      0x2000
#define NOTIFY_OFF      0x3000
#define NOTIFY_MULT     4
#define AREA_LEN        0x1000
#define MSIX_BAR        1

/* Common configuration registers (virtio 1.x, 4.1.4.3). */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX = 0x10, CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15,
	CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e, CC_Q_DESCLO = 0x20, CC_Q_DESCHI = 0x24, CC_Q_AVAILLO = 0x28,
	CC_Q_AVAILHI = 0x2c, CC_Q_USEDLO = 0x30, CC_Q_USEDHI = 0x34,
};

struct virtio_pci {
	struct pci_dev pci;
	struct pci_msix msix;
	struct virtio_dev *vd;
	struct bus *mmio;
	uint32_t dfselect, gfselect;
	uint16_t msix_config, qsel;
	uint64_t notify_base;          /* where the ioeventfds sit; 0 = none */
	uint8_t cfg_cap;               /* the PCI_CFG capability's offset */
	/*
	 * Pairs the ISR bits with the INTx level: a completion's raise landing
	 * between an ISR read's clear and its lowering of the line would
	 * otherwise be lowered with it, and its interrupt lost.
	 */
	pthread_mutex_t isr_lock;
};

static struct virtq *cur_queue(struct virtio_pci *p)
{
	return p->qsel < p->vd->nqueues ? &p->vd->vq[p->qsel] : NULL;
}

static uint32_t common_read_locked(struct virtio_pci *p, uint32_t off)
{
	struct virtio_dev *vd = p->vd;
	struct virtq *q = cur_queue(p);

	switch (off) {
	case CC_DFSELECT: return p->dfselect;
	case CC_DF: return p->dfselect < 2 ? (uint32_t)(vd->features >> (32 * p->dfselect)) : 0;
	case CC_GFSELECT: return p->gfselect;
	case CC_GF: return p->gfselect < 2 ? (uint32_t)(vd->driver_features >> (32 * p->gfselect)) : 0;
	case CC_MSIX: return p->msix_config;
	case CC_NUMQ: return vd->nqueues;
	case CC_STATUS: return __atomic_load_n(&vd->status, __ATOMIC_ACQUIRE);
	case CC_CFGGEN: return __atomic_load_n(&vd->config_generation, __ATOMIC_ACQUIRE);
	case CC_Q_SELECT: return p->qsel;
	case CC_Q_NOFF: return p->qsel;
	}
	if (!q)
		return 0;
	switch (off) {
	case CC_Q_SIZE: return q->size;
	case CC_Q_MSIX: return q->msix_vector;
	case CC_Q_ENABLE: return q->enabled;
	case CC_Q_DESCLO: return (uint32_t)q->desc_gpa;
	case CC_Q_DESCHI: return (uint32_t)(q->desc_gpa >> 32);
	case CC_Q_AVAILLO: return (uint32_t)q->avail_gpa;
	case CC_Q_AVAILHI: return (uint32_t)(q->avail_gpa >> 32);
	case CC_Q_USEDLO: return (uint32_t)q->used_gpa;
	case CC_Q_USEDHI: return (uint32_t)(q->used_gpa >> 32);
	}
	return 0;
}

/* Where each queue register sits in the common configuration. */
static const struct { uint32_t off; enum virtio_qreg reg; } pci_qregs[] = {
	{ CC_Q_SIZE, VIRTIO_Q_SIZE }, { CC_Q_ENABLE, VIRTIO_Q_ENABLE },
	{ CC_Q_DESCLO, VIRTIO_Q_DESC_LO }, { CC_Q_DESCHI, VIRTIO_Q_DESC_HI },
	{ CC_Q_AVAILLO, VIRTIO_Q_AVAIL_LO }, { CC_Q_AVAILHI, VIRTIO_Q_AVAIL_HI },
	{ CC_Q_USEDLO, VIRTIO_Q_USED_LO }, { CC_Q_USEDHI, VIRTIO_Q_USED_HI },
};

static void queue_write_locked(struct virtio_pci *p, struct virtq *q, uint32_t off, uint32_t v)
{
	if (off == CC_Q_MSIX) {
		q->msix_vector = v < p->msix.nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
		return;
	}
	for (size_t i = 0; i < sizeof(pci_qregs) / sizeof(pci_qregs[0]); i++)
		if (pci_qregs[i].off == off)
			virtio_queue_write_locked(q, pci_qregs[i].reg, v);
}

static void common_write_locked(struct virtio_pci *p, uint32_t off, uint32_t v)
{
	struct virtio_dev *vd = p->vd;
	struct virtq *q = cur_queue(p);

	switch (off) {
	case CC_DFSELECT: p->dfselect = v; return;
	case CC_GFSELECT: p->gfselect = v; return;
	case CC_GF: virtio_set_driver_features_locked(vd, p->gfselect, v); return;
	case CC_MSIX:
		p->msix_config = v < p->msix.nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
		return;
	case CC_STATUS:
		virtio_set_status_locked(vd, (uint8_t)v);
		if (!v) {
			/* The reset cleared ISR: a line left up would find it 0 forever. */
			pthread_mutex_lock(&p->isr_lock);
			pci_set_intx(&p->pci, false);
			pthread_mutex_unlock(&p->isr_lock);
			p->msix_config = VIRTIO_NO_VECTOR;
			p->dfselect = p->gfselect = 0;
			p->qsel = 0;
		}
		return;
	case CC_Q_SELECT: p->qsel = (uint16_t)v; return;
	}
	if (q)
		queue_write_locked(p, q, off, v);
}

/* Registers are 1, 2 or 4 bytes wide and accessed at their natural size;
 * the 64-bit addresses are two 32-bit halves. */
static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *p = opaque;
	struct virtio_dev *vd = p->vd;
	uint64_t v = 0;

	if (off < COMMON_OFF + COMMON_LEN) {
		pthread_mutex_lock(&vd->lock);
		v = common_read_locked(p, (uint32_t)off);
		pthread_mutex_unlock(&vd->lock);
		return size >= 4 ? v : v & ((1ULL << (8 * size)) - 1);
	}
	if (off == ISR_OFF) {
		/* Reading ISR acknowledges the interrupt. */
		pthread_mutex_lock(&p->isr_lock);
		v = __atomic_exchange_n(&vd->isr, 0, __ATOMIC_ACQ_REL);
		pci_set_intx(&p->pci, false);
		pthread_mutex_unlock(&p->isr_lock);
		return v;
	}
	if (off >= DEVICE_OFF && off < DEVICE_OFF + AREA_LEN && size <= 4) {
		pthread_mutex_lock(&vd->lock);
		v = virtio_config_read_locked(vd, (uint32_t)(off - DEVICE_OFF), size);
		pthread_mutex_unlock(&vd->lock);
	}
	return v;
}

static void bar_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct virtio_pci *p = opaque;
	struct virtio_dev *vd = p->vd;

	if (off < COMMON_OFF + COMMON_LEN && size <= 4) {
		pthread_mutex_lock(&vd->lock);
		common_write_locked(p, (uint32_t)off, (uint32_t)v);
		pthread_mutex_unlock(&vd->lock);
	} else if (off >= DEVICE_OFF && off < DEVICE_OFF + AREA_LEN && size <= 4) {
		pthread_mutex_lock(&vd->lock);
		virtio_config_write_locked(vd, (uint32_t)(off - DEVICE_OFF), size, (uint32_t)v);
		pthread_mutex_unlock(&vd->lock);
	} else if (off >= NOTIFY_OFF && off < NOTIFY_OFF + AREA_LEN) {
		virtio_kick(vd, (unsigned)(off - NOTIFY_OFF) / NOTIFY_MULT);
	}
}

static const struct bus_ops bar_ops = { bar_read, bar_write };

/* MSI-X when the driver turned it on, else INTx with the ISR bits. */
static void pci_notify(struct virtio_dev *vd, int q)
{
	struct virtio_pci *p = vd->transport;
	uint16_t vec = q < 0 ? __atomic_load_n(&p->msix_config, __ATOMIC_ACQUIRE)
			     : vd->vq[q].msix_vector;

	if (pci_msix_enabled(&p->msix)) {
		if (vec != VIRTIO_NO_VECTOR)
			pci_msix_notify(&p->msix, vec);
		return;
	}
	pthread_mutex_lock(&p->isr_lock);
	__atomic_or_fetch(&vd->isr, q < 0 ? 2u : 1u, __ATOMIC_ACQ_REL);
	pci_set_intx(&p->pci, true);
	pthread_mutex_unlock(&p->isr_lock);
}

static const struct virtio_transport_ops pci_tops = { .notify = pci_notify };

/* Keeps the ioeventfds on the notification addresses wherever BAR 0 is. */
static void update_ioeventfds(struct virtio_pci *p)
{
	uint64_t base = p->pci.bar[0].mapped;
	struct virtio_dev *vd = p->vd;

	if (base == p->notify_base)
		return;
	for (unsigned q = 0; p->notify_base && q < vd->nqueues; q++)
		bus_eventfd(p->mmio, p->notify_base + NOTIFY_OFF + q * NOTIFY_MULT, 0, -1,
			    vd->kick_fd[q], 0);
	p->notify_base = 0;
	for (unsigned q = 0; base && q < vd->nqueues; q++)
		if (bus_eventfd(p->mmio, base + NOTIFY_OFF + q * NOTIFY_MULT, 0, -1, vd->kick_fd[q], 1))
			return;         /* no fast path: the BAR handler kicks */
	p->notify_base = base;
}

/* The PCI_CFG capability: a window into the BARs through config space. */
static uint64_t cfg_window(struct virtio_pci *p, uint32_t *len)
{
	const uint8_t *c = &p->pci.cfg[p->cfg_cap];
	uint32_t off, n;

	memcpy(&off, c + 8, 4);
	memcpy(&n, c + 12, 4);
	*len = n;
	if (c[4] != 0 || (n != 1 && n != 2 && n != 4) || off >= BAR_SIZE || (off & (n - 1)))
		return UINT64_MAX;
	return off;
}

static void pci_cfg_written(struct pci_dev *d, uint32_t off, unsigned size)
{
	struct virtio_pci *p = d->opaque;
	uint32_t len, v;
	uint64_t at;

	pci_msix_cfg_written(&p->msix, off, size);
	update_ioeventfds(p);
	if (off < p->cfg_cap + 16u || off >= p->cfg_cap + 20u)
		return;
	at = cfg_window(p, &len);
	memcpy(&v, &d->cfg[p->cfg_cap + 16], 4);
	if (at != UINT64_MAX)
		bar_write(p, at, len, v);
}

static uint32_t pci_cfg_read(struct pci_dev *d, uint32_t off, unsigned size, uint32_t v)
{
	struct virtio_pci *p = d->opaque;
	uint32_t len;
	uint64_t at;

	if (off != p->cfg_cap + 16u || size != 4)
		return v;
	at = cfg_window(p, &len);
	return at == UINT64_MAX ? v : (uint32_t)bar_read(p, at, len);
}

static void add_cap(struct virtio_pci *p, uint8_t type, uint32_t off, uint32_t len,
		    uint8_t caplen)
{
	struct pci_dev *d = &p->pci;
	uint8_t c = pci_add_cap(d, PCI_CAP_VENDOR, caplen);

	d->cfg[c + 2] = caplen;
	d->cfg[c + 3] = type;
	d->cfg[c + 4] = 0;              /* BAR 0 */
	pci_cfg_set32(d, c + 8u, off);
	pci_cfg_set32(d, c + 12u, len);
	if (type == CAP_NOTIFY)
		pci_cfg_set32(d, c + 16u, NOTIFY_MULT);
	if (type == CAP_PCI_CFG) {
		p->cfg_cap = c;
		memset(&d->wmask[c + 4], 0xff, 1);
		memset(&d->wmask[c + 8], 0xff, 12);
	}
}

static uint32_t class_of(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_BLOCK: return 0x018000;
	case VIRTIO_ID_NET: return 0x020000;
	case VIRTIO_ID_CONSOLE: return 0x078000;
	default: return 0x00ff00;
	}
}

struct virtio_pci *virtio_pci_new(struct pci_host *host, struct bus *mmio,
				  struct irq_chip *irq, struct virtio_dev *vd)
{
	struct virtio_pci *p = calloc(1, sizeof(*p));
	struct pci_dev *d;

	if (!p)
		return NULL;
	d = &p->pci;
	p->vd = vd;
	p->mmio = mmio;
	p->msix_config = VIRTIO_NO_VECTOR;
	pthread_mutex_init(&p->isr_lock, NULL);
	vd->transport = p;
	vd->tops = &pci_tops;
	pci_dev_init(d, vd->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE + vd->id),
		     class_of(vd->id), 1);
	pci_set_subsystem(d, VIRTIO_PCI_VENDOR, 0x40);
	d->cfg[PCI_INT_PIN] = 1;
	d->opaque = p;
	d->cfg_written = pci_cfg_written;
	d->cfg_read = pci_cfg_read;
	pci_add_bar(d, 0, PCI_BAR_MEM32, BAR_SIZE, &bar_ops, p);
	add_cap(p, CAP_COMMON, COMMON_OFF, COMMON_LEN, 16);
	add_cap(p, CAP_ISR, ISR_OFF, 1, 16);
	add_cap(p, CAP_DEVICE, DEVICE_OFF, vd->config_len ? vd->config_len : 1, 16);
	add_cap(p, CAP_NOTIFY, NOTIFY_OFF, vd->nqueues * NOTIFY_MULT, 20);
	add_cap(p, CAP_PCI_CFG, 0, 0, 20);
	pci_msix_init(&p->msix, d, irq, vd->nqueues + 1, MSIX_BAR);
	if (pci_register(host, d)) {
		virtio_pci_free(p);
		return NULL;
	}
	return p;
}

void virtio_pci_free(struct virtio_pci *p)
{
	if (!p)
		return;
	pci_msix_destroy(&p->msix);
	pthread_mutex_destroy(&p->isr_lock);
	free(p);
}

void virtio_pci_save(struct virtio_pci *p, struct snap_out *o)
{
	struct virtio_dev *vd = p->vd;
	uint16_t msix_config, qsel;
	uint32_t dfselect, gfselect;

	virtio_dev_save(vd, o);
	pthread_mutex_lock(&vd->lock);
	dfselect = p->dfselect;
	gfselect = p->gfselect;
	msix_config = p->msix_config;
	qsel = p->qsel;
	pthread_mutex_unlock(&vd->lock);
	snap_put_u32(o, "vpci.dfselect", dfselect);
	snap_put_u32(o, "vpci.gfselect", gfselect);
	snap_put(o, "vpci.msix_config", &msix_config, 2);
	snap_put(o, "vpci.qsel", &qsel, 2);
	pci_dev_save(&p->pci, o);
	pci_msix_save(&p->msix, o);
}

int virtio_pci_load(struct virtio_pci *p, struct snap_sec *s)
{
	struct virtio_dev *vd = p->vd;
	uint16_t msix_config, qsel;
	uint32_t dfselect, gfselect;

	if (snap_get_u32(s, "vpci.dfselect", &dfselect) ||
	    snap_get_u32(s, "vpci.gfselect", &gfselect) ||
	    snap_get(s, "vpci.msix_config", &msix_config, 2) || snap_get(s, "vpci.qsel", &qsel, 2))
		return -1;
	if (msix_config != VIRTIO_NO_VECTOR && msix_config >= p->msix.nvec)
		return snap_fail(s, "configuration MSI-X vector %u, the device has %u", msix_config,
				 p->msix.nvec);
	if (virtio_dev_load(vd, s, p->msix.nvec) || pci_dev_load(&p->pci, s) ||
	    pci_msix_load(&p->msix, s))
		return -1;
	pthread_mutex_lock(&vd->lock);
	p->dfselect = dfselect;
	p->gfselect = gfselect;
	__atomic_store_n(&p->msix_config, msix_config, __ATOMIC_RELEASE);
	p->qsel = qsel;
	pthread_mutex_unlock(&vd->lock);
	update_ioeventfds(p);
	return virtio_dev_load_finish(vd, s);
}
