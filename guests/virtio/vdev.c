/* SPDX-License-Identifier: Apache-2.0 */
/* The guest side of virtio-pci (modern interface), polled, one queue. */
#include "vdev.h"

#include "guest.h"
#include "pci.h"

#define PCI_CAP_VENDOR 0x09
#define CAP_COMMON     1
#define CAP_NOTIFY     2
#define CAP_ISR        3
#define CAP_DEVICE     4
#define CAP_PCI_CFG    5

/* Common configuration registers (virtio 1.x, 4.1.4.3). */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_STATUS = 0x14, CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e, CC_Q_DESC = 0x20, CC_Q_AVAIL = 0x28, CC_Q_USED = 0x30,
};

/*
 * Long enough for a loaded host (each round is an MMIO exit of a few
 * microseconds); a device that neither answers nor asks for a reset by then
 * has hung.
 */
#define WAIT_ROUNDS 2000000

static uint8_t rd8(uint64_t a)
{
	return *(volatile uint8_t *)phys_ptr(a);
}

static uint16_t rd16(uint64_t a)
{
	return *(volatile uint16_t *)phys_ptr(a);
}

static void wr8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)phys_ptr(a) = v;
}

static void wr16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)phys_ptr(a) = v;
}

static void wr64(uint64_t a, uint64_t v)
{
	mmio_write32(a, (uint32_t)v);
	mmio_write32(a + 4, (uint32_t)(v >> 32));
}

/* Records where one vendor capability points; 0 for a type we do not use. */
static void map_cap(struct vdev *d, uint8_t cap, int *seen)
{
	uint8_t type = pci_read8(d->slot, cap + 3u), bar = pci_read8(d->slot, cap + 4u);
	uint64_t at;

	if (type < CAP_COMMON || type > CAP_PCI_CFG)
		return;
	*seen |= 1 << type;
	if (type == CAP_PCI_CFG)
		return;
	if (bar > 5)
		guest_fail(NAME, "%s: capability type %u names BAR %u", d->name, type, bar);
	at = pci_bar_addr(d->slot, bar) + pci_read32(d->slot, cap + 8u);
	switch (type) {
	case CAP_COMMON: d->common = at; break;
	case CAP_NOTIFY:
		d->notify = at;
		d->notify_mult = pci_read32(d->slot, cap + 16u);
		break;
	case CAP_ISR: d->isr = at; break;
	case CAP_DEVICE: d->devcfg = at; break;
	}
}

void vdev_probe(struct vdev *d, const char *name, uint16_t device, unsigned nth,
		uint64_t want, struct vring_pages *ring)
{
	int slot = pci_find(VIRTIO_VENDOR, device, nth), seen = 0;

	if (slot < 0)
		guest_fail(NAME, "no %s (PCI %04x:%04x #%u) on bus 0", name, VIRTIO_VENDOR,
			   device, nth);
	*d = (struct vdev){ .name = name, .slot = (unsigned)slot, .want = want, .ring = ring };
	d->bar0 = pci_bar_addr(d->slot, 0);
	pci_write16(d->slot, PCI_COMMAND,
		    pci_read16(d->slot, PCI_COMMAND) | PCI_CMD_MEM | PCI_CMD_MASTER);
	for (uint8_t c = pci_next_cap(d->slot, 0, PCI_CAP_VENDOR); c;
	     c = pci_next_cap(d->slot, c, PCI_CAP_VENDOR))
		map_cap(d, c, &seen);
	if (seen != 0x3e)
		guest_fail(NAME, "%s: vendor capabilities %#x, want types 1-5", name, seen);
	gprintf(NAME ": %s at slot %u: bar0 %#llx common %#llx notify %#llx*%u isr %#llx "
		"device %#llx\n", name, d->slot, (unsigned long long)d->bar0,
		(unsigned long long)d->common, (unsigned long long)d->notify, d->notify_mult,
		(unsigned long long)d->isr, (unsigned long long)d->devcfg);
}

uint8_t vdev_status(const struct vdev *d)
{
	return rd8(d->common + CC_STATUS);
}

static void set_status(const struct vdev *d, uint8_t bits)
{
	wr8(d->common + CC_STATUS, (uint8_t)(vdev_status(d) | bits));
}

static uint64_t device_features(const struct vdev *d)
{
	uint64_t f;

	mmio_write32(d->common + CC_DFSELECT, 0);
	f = mmio_read32(d->common + CC_DF);
	mmio_write32(d->common + CC_DFSELECT, 1);
	return f | (uint64_t)mmio_read32(d->common + CC_DF) << 32;
}

void vdev_negotiate(struct vdev *d)
{
	wr8(d->common + CC_STATUS, 0);
	if (vdev_status(d))
		guest_fail(NAME, "%s: status %#x after reset", d->name, vdev_status(d));
	d->avail_idx = d->used_idx = 0;
	set_status(d, S_ACKNOWLEDGE);
	set_status(d, S_DRIVER);
	d->features = device_features(d) & d->want;
	if (!(d->features & (1ULL << F_VERSION_1)))
		guest_fail(NAME, "%s: no VERSION_1", d->name);
	mmio_write32(d->common + CC_GFSELECT, 0);
	mmio_write32(d->common + CC_GF, (uint32_t)d->features);
	mmio_write32(d->common + CC_GFSELECT, 1);
	mmio_write32(d->common + CC_GF, (uint32_t)(d->features >> 32));
	set_status(d, S_FEATURES_OK);
	if (!(vdev_status(d) & S_FEATURES_OK))
		guest_fail(NAME, "%s: FEATURES_OK did not stick", d->name);
}

void vdev_set_queue(struct vdev *d, uint64_t desc, uint64_t avail, uint64_t used)
{
	vdev_set_queue_n(d, VQ_SIZE, desc, avail, used);
}

void vdev_set_queue_n(struct vdev *d, uint16_t n, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr16(d->common + CC_Q_SELECT, 0);
	if (rd16(d->common + CC_Q_SIZE) < n)
		guest_fail(NAME, "%s: queue 0 is smaller than %u", d->name, n);
	wr16(d->common + CC_Q_SIZE, n);
	wr64(d->common + CC_Q_DESC, desc);
	wr64(d->common + CC_Q_AVAIL, avail);
	wr64(d->common + CC_Q_USED, used);
	wr16(d->common + CC_Q_ENABLE, 1);
}

void vdev_driver_ok(struct vdev *d)
{
	set_status(d, S_DRIVER_OK);
}

void vdev_start(struct vdev *d)
{
	struct vring_pages *r = d->ring;

	vdev_negotiate(d);
	/* Only the indices matter; the rest is rewritten before it is read. */
	r->avail[0] = r->avail[1] = 0;
	r->used[0] = 0;
	vdev_set_queue(d, ptr_gpa(r->desc), ptr_gpa(r->avail), ptr_gpa(r->used));
	vdev_driver_ok(d);
	if (vdev_status(d) != (S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		guest_fail(NAME, "%s: status %#x after DRIVER_OK", d->name, vdev_status(d));
}

uint32_t vdev_cfg32(const struct vdev *d, unsigned off)
{
	return mmio_read32(d->devcfg + off);
}

void vq_desc(struct vdev *d, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
	     uint16_t next)
{
	volatile struct vdesc *v = &d->ring->desc[i];

	v->addr = addr;
	v->len = len;
	v->flags = flags;
	v->next = next;
}

void vq_kick(const struct vdev *d)
{
	wr16(d->notify + rd16(d->common + CC_Q_NOFF) * d->notify_mult, 0);
}

void vq_publish_idx(struct vdev *d, uint16_t head, uint16_t idx)
{
	volatile uint16_t *avail = d->ring->avail;

	avail[2 + d->avail_idx % VQ_SIZE] = head;
	barrier();
	avail[1] = idx;
	d->avail_idx = idx;
	vq_kick(d);
}

void vq_publish(struct vdev *d, uint16_t head)
{
	vq_publish_idx(d, head, (uint16_t)(d->avail_idx + 1));
}

enum vq_wait vq_wait(struct vdev *d, struct vused_elem *e)
{
	volatile uint32_t *used = d->ring->used;

	for (unsigned n = 0; n < WAIT_ROUNDS; n++) {
		if ((uint16_t)(used[0] >> 16) != d->used_idx) {
			barrier();
			e->id = used[1 + 2 * (d->used_idx % VQ_SIZE)];
			e->len = used[2 + 2 * (d->used_idx % VQ_SIZE)];
			d->used_idx++;
			return W_USED;
		}
		if (vdev_status(d) & S_NEEDS_RESET)
			return W_RESET;
		cpu_relax();
	}
	return W_TIMEOUT;
}
