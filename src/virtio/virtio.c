/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-independent part of a virtio device: status, features, queues. */
#include "virtio/virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/iothread.h"
#include "util/log.h"

int virtio_dev_init(struct virtio_dev *vd, const char *name, uint32_t id,
		    uint64_t features, unsigned nqueues, uint16_t qsize,
		    const struct virtio_dev_ops *ops, void *opaque)
{
	memset(vd, 0, sizeof(*vd));
	vd->name = name;
	vd->id = id;
	vd->features = features | 1ULL << VIRTIO_F_VERSION_1 |
		       1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX;
	vd->ops = ops;
	vd->opaque = opaque;
	vd->nqueues = nqueues;
	pthread_mutex_init(&vd->lock, NULL);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vd->kick_fd[q] = -1;
	for (unsigned q = 0; q < nqueues; q++) {
		vd->vq[q].max_size = qsize;
		virtq_reset(&vd->vq[q]);
		vd->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->kick_fd[q] < 0) {
			log_err("%s: eventfd: %s", name, strerror(errno));
			virtio_dev_destroy(vd);
			return -1;
		}
	}
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
	if (vd->running && vd->ops->stop)
		vd->ops->stop(vd);
	vd->running = false;
	pthread_mutex_unlock(&vd->lock);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (vd->kick_fd[q] >= 0)
			close(vd->kick_fd[q]);
	pthread_mutex_destroy(&vd->lock);
}

static uint8_t status_get(struct virtio_dev *vd)
{
	return __atomic_load_n(&vd->status, __ATOMIC_ACQUIRE);
}

static void virtio_reset_locked(struct virtio_dev *vd)
{
	if (vd->running && vd->ops->stop)
		vd->ops->stop(vd);
	vd->running = false;
	for (unsigned q = 0; q < vd->nqueues; q++) {
		virtq_reset(&vd->vq[q]);
		eventfd_drain(vd->kick_fd[q]);
	}
	vd->driver_features = 0;
	__atomic_store_n(&vd->isr, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&vd->status, 0, __ATOMIC_RELEASE);
}

static int virtio_start_locked(struct virtio_dev *vd)
{
	for (unsigned q = 0; q < vd->nqueues; q++) {
		struct virtq *vq = &vd->vq[q];

		vq->event_idx = virtio_has(vd, VIRTIO_F_EVENT_IDX);
		if (vq->enabled && virtq_start(vq, vd->mem)) {
			log_warn("%s: queue %u is not in guest RAM or misaligned", vd->name, q);
			return -1;
		}
	}
	/* Paused (a reset and setup while the machine stands still): the
	 * threads come up at the resume. */
	if (!vd->paused && vd->ops->start && vd->ops->start(vd))
		return -1;
	vd->running = true;
	return 0;
}

void virtio_set_status_locked(struct virtio_dev *vd, uint8_t status)
{
	uint8_t old = status_get(vd);

	if (!status) {
		virtio_reset_locked(vd);
		return;
	}
	/* Undefined bits are not kept, so a snapshot holding one is refused. */
	status &= VIRTIO_STATUS_DEFINED;
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !virtio_features_ok(vd, vd->driver_features))
		status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	/* NEEDS_RESET is the device's to set; only a reset clears it. */
	status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	__atomic_store_n(&vd->status, status, __ATOMIC_RELEASE);
	/* The ring layout is known from here on: queue setup follows it. */
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK))
		for (unsigned q = 0; q < vd->nqueues; q++)
			vd->vq[q].packed = virtio_has(vd, VIRTIO_F_RING_PACKED);
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    !vd->running && virtio_start_locked(vd))
		virtio_broken(vd, "cannot start");
}

int virtio_dev_pause(struct virtio_dev *vd)
{
	int rc = 0;

	pthread_mutex_lock(&vd->lock);
	if (!vd->paused) {
		if (vd->ops->pause)
			rc = vd->ops->pause(vd);
		else if (vd->running && vd->ops->stop)
			vd->ops->stop(vd);
		vd->paused = true;
	}
	pthread_mutex_unlock(&vd->lock);
	return rc;
}

void virtio_dev_resume(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
	if (vd->paused) {
		vd->paused = false;
		if (vd->running && vd->ops->start && vd->ops->start(vd)) {
			vd->running = false;
			virtio_broken(vd, "cannot restart after a pause");
		}
	}
	pthread_mutex_unlock(&vd->lock);
}

void virtio_set_driver_features_locked(struct virtio_dev *vd, unsigned word, uint32_t v)
{
	if (word > 1 || (status_get(vd) & VIRTIO_STATUS_FEATURES_OK))
		return;
	vd->driver_features &= ~(0xffffffffULL << (32 * word));
	vd->driver_features |= (uint64_t)v << (32 * word);
}

uint32_t virtio_config_read_locked(struct virtio_dev *vd, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	if (off < vd->config_len && size <= vd->config_len - off)
		memcpy(&v, vd->config + off, size);
	return v;
}

void virtio_config_write_locked(struct virtio_dev *vd, uint32_t off, unsigned size, uint32_t v)
{
	if (off >= vd->config_writable || size > vd->config_writable - off)
		return;
	memcpy(vd->config + off, &v, size);
	if (vd->ops->config_written)
		vd->ops->config_written(vd, off, size);
}

static void set_half(uint64_t *v, bool hi, uint32_t val)
{
	*v = hi ? (*v & 0xffffffffULL) | (uint64_t)val << 32 : (*v & ~0xffffffffULL) | val;
}

void virtio_queue_write_locked(struct virtq *q, enum virtio_qreg reg, uint32_t v)
{
	/* Turning a queue off is allowed (virtio-mmio drivers do, on teardown);
	 * its I/O thread then sees no more buffers. */
	if (q->enabled && !(reg == VIRTIO_Q_ENABLE && v == 0))
		return;
	switch (reg) {
	case VIRTIO_Q_SIZE:
		if (v && (q->packed || !(v & (v - 1))) && v <= q->max_size)
			q->size = (uint16_t)v;
		break;
	case VIRTIO_Q_ENABLE:
		q->enabled = v == 1;
		break;
	case VIRTIO_Q_DESC_LO: case VIRTIO_Q_DESC_HI:
		set_half(&q->desc_gpa, reg == VIRTIO_Q_DESC_HI, v);
		break;
	case VIRTIO_Q_AVAIL_LO: case VIRTIO_Q_AVAIL_HI:
		set_half(&q->avail_gpa, reg == VIRTIO_Q_AVAIL_HI, v);
		break;
	case VIRTIO_Q_USED_LO: case VIRTIO_Q_USED_HI:
		set_half(&q->used_gpa, reg == VIRTIO_Q_USED_HI, v);
		break;
	}
}

void virtio_kick(struct virtio_dev *vd, unsigned q)
{
	if (q < vd->nqueues)
		eventfd_signal(vd->kick_fd[q]);
}

void virtio_queue_done(struct virtio_dev *vd, unsigned q)
{
	if (virtq_should_notify(&vd->vq[q]))
		vd->tops->notify(vd, (int)q);
}

void virtio_broken(struct virtio_dev *vd, const char *why)
{
	uint8_t old = __atomic_fetch_or(&vd->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_ACQ_REL);

	if (old & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("%s: %s; the device needs a reset", vd->name, why);
	virtio_config_changed(vd);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	__atomic_add_fetch(&vd->config_generation, 1, __ATOMIC_ACQ_REL);
	if (vd->tops)
		vd->tops->notify(vd, -1);
}
