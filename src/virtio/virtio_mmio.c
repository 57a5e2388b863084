/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio over MMIO (virtio 1.x, "version 2" register layout): the microVM
 * transport.  Each device is a 4 KiB page of registers with one level
 * interrupt; ACPI describes them (_HID LNRO0005), so Linux finds them
 * without kernel parameters.
 */
#include "virtio/virtio_mmio.h"

#include <stdlib.h>

#include "snapshot/snap.h"

#include "util/log.h"

#define MMIO_MAGIC   0x74726976     /* "virt" */
#define MMIO_VERSION 2
#define MMIO_VENDOR  0x554d4551     /* "QEMU", as Linux's drivers expect to see somewhere */

enum {
	R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_VENDOR_ID = 0x00c,
	R_DF = 0x010, R_DF_SEL = 0x014, R_GF = 0x020, R_GF_SEL = 0x024,
	R_Q_SEL = 0x030, R_Q_NUM_MAX = 0x034, R_Q_NUM = 0x038, R_Q_READY = 0x044,
	R_Q_NOTIFY = 0x050, R_INT_STATUS = 0x060, R_INT_ACK = 0x064, R_STATUS = 0x070,
	R_Q_DESC_LO = 0x080, R_Q_DESC_HI = 0x084, R_Q_DRIVER_LO = 0x090,
	R_Q_DRIVER_HI = 0x094, R_Q_DEVICE_LO = 0x0a0, R_Q_DEVICE_HI = 0x0a4,
	R_CFG_GEN = 0x0fc, R_CONFIG = 0x100,
};

struct virtio_mmio {
	struct virtio_dev *vd;
	struct bus *mmio;
	uint64_t base;
	struct irq_line irq;
	pthread_mutex_t irq_lock;
	uint32_t df_sel, gf_sel, qsel;
};

static struct virtq *cur_queue(struct virtio_mmio *t)
{
	return t->qsel < t->vd->nqueues ? &t->vd->vq[t->qsel] : NULL;
}

/* The line follows InterruptStatus: up while any bit is set. */
static void update_irq(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->irq_lock);
	irq_line_set(&t->irq, __atomic_load_n(&t->vd->isr, __ATOMIC_ACQUIRE) != 0);
	pthread_mutex_unlock(&t->irq_lock);
}

static void mmio_notify(struct virtio_dev *vd, int q)
{
	struct virtio_mmio *t = vd->transport;

	__atomic_or_fetch(&vd->isr, q < 0 ? 2u : 1u, __ATOMIC_ACQ_REL);
	update_irq(t);
}

static const struct virtio_transport_ops mmio_tops = { .notify = mmio_notify };

static uint32_t reg_read_locked(struct virtio_mmio *t, uint32_t off)
{
	struct virtio_dev *vd = t->vd;
	struct virtq *q = cur_queue(t);

	switch (off) {
	case R_MAGIC: return MMIO_MAGIC;
	case R_VERSION: return MMIO_VERSION;
	case R_DEVICE_ID: return vd->id;
	case R_VENDOR_ID: return MMIO_VENDOR;
	case R_DF: return t->df_sel < 2 ? (uint32_t)(vd->features >> (32 * t->df_sel)) : 0;
	case R_Q_NUM_MAX: return q ? q->max_size : 0;
	case R_Q_READY: return q ? q->enabled : 0;
	case R_INT_STATUS: return __atomic_load_n(&vd->isr, __ATOMIC_ACQUIRE);
	case R_STATUS: return __atomic_load_n(&vd->status, __ATOMIC_ACQUIRE);
	case R_CFG_GEN: return __atomic_load_n(&vd->config_generation, __ATOMIC_ACQUIRE);
	}
	return 0;
}

static const struct { uint32_t off; enum virtio_qreg reg; } mmio_qregs[] = {
	{ R_Q_NUM, VIRTIO_Q_SIZE }, { R_Q_READY, VIRTIO_Q_ENABLE },
	{ R_Q_DESC_LO, VIRTIO_Q_DESC_LO }, { R_Q_DESC_HI, VIRTIO_Q_DESC_HI },
	{ R_Q_DRIVER_LO, VIRTIO_Q_AVAIL_LO }, { R_Q_DRIVER_HI, VIRTIO_Q_AVAIL_HI },
	{ R_Q_DEVICE_LO, VIRTIO_Q_USED_LO }, { R_Q_DEVICE_HI, VIRTIO_Q_USED_HI },
};

static void queue_write_locked(struct virtq *q, uint32_t off, uint32_t v)
{
	for (size_t i = 0; i < sizeof(mmio_qregs) / sizeof(mmio_qregs[0]); i++)
		if (mmio_qregs[i].off == off)
			virtio_queue_write_locked(q, mmio_qregs[i].reg, v);
}

static void reg_write_locked(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	struct virtio_dev *vd = t->vd;
	struct virtq *q = cur_queue(t);

	switch (off) {
	case R_DF_SEL: t->df_sel = v; return;
	case R_GF_SEL: t->gf_sel = v; return;
	case R_GF: virtio_set_driver_features_locked(vd, t->gf_sel, v); return;
	case R_Q_SEL: t->qsel = v; return;
	case R_STATUS:
		virtio_set_status_locked(vd, (uint8_t)v);
		if (!v) {
			t->df_sel = t->gf_sel = t->qsel = 0;
			update_irq(t);
		}
		return;
	}
	if (q)
		queue_write_locked(q, off, v);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_mmio *t = opaque;
	struct virtio_dev *vd = t->vd;
	uint32_t v = 0;

	pthread_mutex_lock(&vd->lock);
	if (off >= R_CONFIG && size <= 4)
		v = virtio_config_read_locked(vd, (uint32_t)(off - R_CONFIG), size);
	else if (size == 4 && !(off & 3))
		v = reg_read_locked(t, (uint32_t)off);
	pthread_mutex_unlock(&vd->lock);
	return v;
}

static void mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct virtio_mmio *t = opaque;
	struct virtio_dev *vd = t->vd;

	if (off == R_Q_NOTIFY && size == 4) {
		virtio_kick(vd, (uint32_t)v);
		return;
	}
	if (off == R_INT_ACK && size == 4) {
		__atomic_and_fetch(&vd->isr, ~(uint32_t)v, __ATOMIC_ACQ_REL);
		update_irq(t);
		return;
	}
	pthread_mutex_lock(&vd->lock);
	if (off >= R_CONFIG && size <= 4)
		virtio_config_write_locked(vd, (uint32_t)(off - R_CONFIG), size, (uint32_t)v);
	else if (size == 4 && !(off & 3))
		reg_write_locked(t, (uint32_t)off, (uint32_t)v);
	pthread_mutex_unlock(&vd->lock);
}

static const struct bus_ops mmio_ops = { mmio_read, mmio_write };

struct virtio_mmio *virtio_mmio_new(struct bus *mmio, uint64_t base, struct irq_line irq,
				    struct virtio_dev *vd)
{
	struct virtio_mmio *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->vd = vd;
	t->mmio = mmio;
	t->base = base;
	t->irq = irq;
	pthread_mutex_init(&t->irq_lock, NULL);
	vd->transport = t;
	vd->tops = &mmio_tops;
	if (bus_register(mmio, base, VIRTIO_MMIO_SIZE, &mmio_ops, t, vd->name)) {
		log_err("%s: cannot register MMIO at %#llx", vd->name, (unsigned long long)base);
		free(t);
		return NULL;
	}
	/* Kicks caught in the kernel under KVM (ioeventfd on QueueNotify,
	 * matching the queue index written). */
	for (unsigned q = 0; q < vd->nqueues; q++)
		bus_eventfd(mmio, base + R_Q_NOTIFY, 4, q, vd->kick_fd[q], 1);
	return t;
}

void virtio_mmio_free(struct virtio_mmio *t)
{
	if (!t)
		return;
	for (unsigned q = 0; q < t->vd->nqueues; q++)
		bus_eventfd(t->mmio, t->base + R_Q_NOTIFY, 4, q, t->vd->kick_fd[q], 0);
	bus_unregister(t->mmio, t->base);
	pthread_mutex_destroy(&t->irq_lock);
	free(t);
}

void virtio_mmio_save(struct virtio_mmio *t, struct snap_out *o)
{
	struct virtio_dev *vd = t->vd;
	uint32_t df_sel, gf_sel, qsel;

	virtio_dev_save(vd, o);
	pthread_mutex_lock(&vd->lock);
	df_sel = t->df_sel;
	gf_sel = t->gf_sel;
	qsel = t->qsel;
	pthread_mutex_unlock(&vd->lock);
	snap_put_u64(o, "mmio.base", t->base);
	snap_put_u32(o, "mmio.df_sel", df_sel);
	snap_put_u32(o, "mmio.gf_sel", gf_sel);
	snap_put_u32(o, "mmio.qsel", qsel);
}

int virtio_mmio_load(struct virtio_mmio *t, struct snap_sec *s)
{
	struct virtio_dev *vd = t->vd;
	uint32_t df_sel, gf_sel, qsel;
	uint64_t base;

	if (snap_get_u64(s, "mmio.base", &base) || snap_get_u32(s, "mmio.df_sel", &df_sel) ||
	    snap_get_u32(s, "mmio.gf_sel", &gf_sel) || snap_get_u32(s, "mmio.qsel", &qsel))
		return -1;
	if (base != t->base)
		return snap_fail(s, "registers at %#llx in the snapshot, %#llx here",
				 (unsigned long long)base, (unsigned long long)t->base);
	if (virtio_dev_load(vd, s, 0))
		return -1;
	pthread_mutex_lock(&vd->lock);
	t->df_sel = df_sel;
	t->gf_sel = gf_sel;
	t->qsel = qsel;
	pthread_mutex_unlock(&vd->lock);
	update_irq(t);
	return virtio_dev_load_finish(vd, s);
}
