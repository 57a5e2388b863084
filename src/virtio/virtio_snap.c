/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio device's transport-independent state in and out of a snapshot:
 * status, features, ISR, each queue's registers and the device's side of
 * its rings (next entry to pop, used index, event-index bookkeeping; for
 * packed rings the positions with their wrap counters in bit 15, see
 * virtq.h).  The
 * rings themselves are guest RAM and travel with it.  Nothing is in flight
 * when a paused device is saved, so the indices are the whole story.
 */
#include "virtio/virtio.h"

#include <string.h>

#include "snapshot/snap.h"
#include "util/log.h"

#define ISR_BITS 3u                 /* queue (1) and configuration (2) */

/* The per-queue fields: one array each, nqueues entries long. */
struct vq_fields {
	uint16_t size[VIRTIO_MAX_QUEUES], vector[VIRTIO_MAX_QUEUES];
	uint16_t last_avail[VIRTIO_MAX_QUEUES], used_idx[VIRTIO_MAX_QUEUES];
	uint16_t signalled[VIRTIO_MAX_QUEUES];
	uint8_t enabled[VIRTIO_MAX_QUEUES], sig_valid[VIRTIO_MAX_QUEUES];
	uint64_t desc[VIRTIO_MAX_QUEUES], avail[VIRTIO_MAX_QUEUES], used[VIRTIO_MAX_QUEUES];
};

/* What a load has read and checked, before any of it is applied. */
struct vd_image {
	uint8_t status, config_gen, isr;
	uint64_t driver_features;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

static void fields_from_queues(const struct virtio_dev *vd, struct vq_fields *f)
{
	for (unsigned q = 0; q < vd->nqueues; q++) {
		const struct virtq *v = &vd->vq[q];

		f->size[q] = v->size;
		f->vector[q] = v->msix_vector;
		f->last_avail[q] = v->last_avail;
		f->used_idx[q] = v->used_idx;
		f->signalled[q] = v->signalled_used;
		f->enabled[q] = v->enabled;
		f->sig_valid[q] = v->signalled_valid;
		f->desc[q] = v->desc_gpa;
		f->avail[q] = v->avail_gpa;
		f->used[q] = v->used_gpa;
	}
}

void virtio_dev_save(struct virtio_dev *vd, struct snap_out *o)
{
	struct vq_fields f;
	size_t n = vd->nqueues;

	memset(&f, 0, sizeof(f));
	pthread_mutex_lock(&vd->lock);
	if (vd->running && !vd->paused)
		log_warn("%s: saved while its I/O threads run; the queue state may be torn",
			 vd->name);
	fields_from_queues(vd, &f);
	snap_put_u32(o, "nqueues", vd->nqueues);
	snap_put_u8(o, "status", __atomic_load_n(&vd->status, __ATOMIC_ACQUIRE));
	snap_put_u64(o, "driver_features", vd->driver_features);
	snap_put_u8(o, "config_gen", __atomic_load_n(&vd->config_generation, __ATOMIC_ACQUIRE));
	snap_put_u8(o, "isr", (uint8_t)__atomic_load_n(&vd->isr, __ATOMIC_ACQUIRE));
	snap_put(o, "q.size", f.size, 2 * n);
	snap_put(o, "q.enabled", f.enabled, n);
	snap_put(o, "q.desc", f.desc, 8 * n);
	snap_put(o, "q.avail", f.avail, 8 * n);
	snap_put(o, "q.used", f.used, 8 * n);
	snap_put(o, "q.vector", f.vector, 2 * n);
	snap_put(o, "q.last_avail", f.last_avail, 2 * n);
	snap_put(o, "q.used_idx", f.used_idx, 2 * n);
	snap_put(o, "q.signalled", f.signalled, 2 * n);
	snap_put(o, "q.sig_valid", f.sig_valid, n);
	if (vd->ops->save)
		vd->ops->save(vd, o);
	pthread_mutex_unlock(&vd->lock);
}

static int read_fields(struct snap_sec *s, size_t n, struct vq_fields *f)
{
	return snap_get(s, "q.size", f->size, 2 * n) ||
	       snap_get(s, "q.enabled", f->enabled, n) ||
	       snap_get(s, "q.desc", f->desc, 8 * n) ||
	       snap_get(s, "q.avail", f->avail, 8 * n) ||
	       snap_get(s, "q.used", f->used, 8 * n) ||
	       snap_get(s, "q.vector", f->vector, 2 * n) ||
	       snap_get(s, "q.last_avail", f->last_avail, 2 * n) ||
	       snap_get(s, "q.used_idx", f->used_idx, 2 * n) ||
	       snap_get(s, "q.signalled", f->signalled, 2 * n) ||
	       snap_get(s, "q.sig_valid", f->sig_valid, n) ? -1 : 0;
}

/* How many descriptors a packed ring has handed out and not had back:
 * both positions below size, the used one at most a lap behind. */
static int packed_outstanding(uint16_t last_avail, uint16_t used_idx, unsigned size)
{
	unsigned a = last_avail & (VIRTQ_PACKED_WRAP - 1), u = used_idx & (VIRTQ_PACKED_WRAP - 1);
	int d;

	if (a >= size || u >= size)
		return -1;
	d = (int)a - (int)u;
	if ((last_avail ^ used_idx) & VIRTQ_PACKED_WRAP)
		d += (int)size;
	if (d < 0)
		d += 2 * (int)size;
	return d;
}

/* Queue q's values, each checked against what the device can hold. */
static int check_queue(struct virtio_dev *vd, struct snap_sec *s, const struct vq_fields *f,
		       unsigned q, unsigned nvec, bool packed)
{
	unsigned size = f->size[q], max = vd->vq[q].max_size;
	int out;

	if (!size || (!packed && (size & (size - 1))) || size > max)
		return snap_fail(s, "queue %u: size %u is not %s up to %u", q, size,
				 packed ? "a packed ring's size from 1" : "a power of two", max);
	if (f->enabled[q] > 1 || f->sig_valid[q] > 1)
		return snap_fail(s, "queue %u: a flag is neither 0 nor 1", q);
	if (f->vector[q] != VIRTIO_NO_VECTOR && f->vector[q] >= nvec)
		return snap_fail(s, "queue %u: MSI-X vector %u, the device has %u", q,
				 f->vector[q], nvec);
	/* Each chain popped and not yet used is one of the queue's entries. */
	out = packed ? packed_outstanding(f->last_avail[q], f->used_idx[q], size)
		     : (uint16_t)(f->last_avail[q] - f->used_idx[q]);
	if (out < 0)
		return snap_fail(s, "queue %u: packed ring positions %#x/%#x beyond its %u entries",
				 q, f->last_avail[q], f->used_idx[q], size);
	if ((unsigned)out > size)
		return snap_fail(s, "queue %u: %d chains outstanding, more than its %u entries", q,
				 out, size);
	return 0;
}

static void queue_from_fields(struct virtq *v, const struct vq_fields *f, unsigned q,
			      bool packed)
{
	virtq_reset(v);
	v->packed = packed;
	v->size = f->size[q];
	v->enabled = f->enabled[q];
	v->desc_gpa = f->desc[q];
	v->avail_gpa = f->avail[q];
	v->used_gpa = f->used[q];
	v->msix_vector = f->vector[q];
	v->last_avail = f->last_avail[q];
	v->used_idx = f->used_idx[q];
	v->signalled_used = f->signalled[q];
	v->signalled_valid = f->sig_valid[q];
}

/* A device the snapshot had running runs again: its enabled rings must be
 * where virtq_start would have accepted them. */
static bool will_run(uint8_t status)
{
	return (status & VIRTIO_STATUS_DRIVER_OK) && !(status & VIRTIO_STATUS_NEEDS_RESET);
}

static int load_queues(struct virtio_dev *vd, struct snap_sec *s, unsigned nvec,
		       struct vd_image *img)
{
	struct vq_fields f;
	bool run = will_run(img->status);
	/* The layout the driver accepted; a snapshot before that has none. */
	bool packed = (img->status & VIRTIO_STATUS_FEATURES_OK) &&
		      (img->driver_features & (1ULL << VIRTIO_F_RING_PACKED));

	if (read_fields(s, vd->nqueues, &f))
		return -1;
	for (unsigned q = 0; q < vd->nqueues; q++) {
		struct virtq *v = &img->vq[q];

		if (check_queue(vd, s, &f, q, nvec, packed))
			return -1;
		v->max_size = vd->vq[q].max_size;
		queue_from_fields(v, &f, q, packed);
		v->mem = vd->mem;
		v->event_idx = (img->status & VIRTIO_STATUS_DRIVER_OK) &&
			       (img->driver_features & (1ULL << VIRTIO_F_EVENT_IDX));
		if (run && v->enabled && virtq_map(v, vd->mem))
			return snap_fail(s, "queue %u: rings at %#llx/%#llx/%#llx are not in guest "
					 "RAM or misaligned", q, (unsigned long long)v->desc_gpa,
					 (unsigned long long)v->avail_gpa,
					 (unsigned long long)v->used_gpa);
	}
	return 0;
}

static int check_status(struct virtio_dev *vd, struct snap_sec *s, const struct vd_image *img)
{
	uint64_t drv = img->driver_features;

	if (img->status & ~VIRTIO_STATUS_DEFINED)
		return snap_fail(s, "status %#x has undefined bits", img->status);
	/* Before FEATURES_OK the driver may still be writing anything. */
	if ((img->status & VIRTIO_STATUS_FEATURES_OK) && !virtio_features_ok(vd, drv))
		return snap_fail(s, "features %#llx accepted, but the device offers %#llx",
				 (unsigned long long)drv, (unsigned long long)vd->features);
	if ((img->status & VIRTIO_STATUS_DRIVER_OK) && (drv & ~vd->features))
		return snap_fail(s, "features %#llx in use, but the device offers %#llx",
				 (unsigned long long)drv, (unsigned long long)vd->features);
	if (img->isr & ~ISR_BITS)
		return snap_fail(s, "ISR %#x has undefined bits", img->isr);
	return 0;
}

static int read_image(struct virtio_dev *vd, struct snap_sec *s, unsigned nvec,
		      struct vd_image *img)
{
	uint32_t nq;

	if (snap_get_u32(s, "nqueues", &nq) || snap_get_u8(s, "status", &img->status) ||
	    snap_get_u64(s, "driver_features", &img->driver_features) ||
	    snap_get_u8(s, "config_gen", &img->config_gen) || snap_get_u8(s, "isr", &img->isr))
		return -1;
	if (nq != vd->nqueues)
		return snap_fail(s, "%u queues in the snapshot, %u on this %s", nq, vd->nqueues,
				 vd->name);
	if (check_status(vd, s, img))
		return -1;
	return load_queues(vd, s, nvec, img);
}

int virtio_dev_load(struct virtio_dev *vd, struct snap_sec *s, unsigned nvec)
{
	struct vd_image img;
	int rc = -1;

	memset(&img, 0, sizeof(img));
	pthread_mutex_lock(&vd->lock);
	if (read_image(vd, s, nvec, &img))
		goto out;
	if (vd->running && vd->ops->stop)
		vd->ops->stop(vd);
	vd->running = false;
	if (vd->ops->load && vd->ops->load(vd, s))
		goto out;
	__atomic_store_n(&vd->status, img.status, __ATOMIC_RELEASE);
	vd->driver_features = img.driver_features;
	__atomic_store_n(&vd->config_generation, img.config_gen, __ATOMIC_RELEASE);
	__atomic_store_n(&vd->isr, img.isr, __ATOMIC_RELEASE);
	memcpy(vd->vq, img.vq, vd->nqueues * sizeof(vd->vq[0]));
	rc = 0;
out:
	pthread_mutex_unlock(&vd->lock);
	return rc;
}

int virtio_dev_load_finish(struct virtio_dev *vd, struct snap_sec *s)
{
	int rc = 0;

	pthread_mutex_lock(&vd->lock);
	if (will_run(__atomic_load_n(&vd->status, __ATOMIC_ACQUIRE))) {
		vd->running = true;
		if (!vd->paused && vd->ops->start && vd->ops->start(vd)) {
			vd->running = false;
			rc = snap_fail(s, "cannot start %s", vd->name);
		}
	}
	pthread_mutex_unlock(&vd->lock);
	return rc;
}
