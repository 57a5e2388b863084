/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng: every writable buffer the guest offers is filled from getrandom(). */
#include "virtio/rng.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "util/iothread.h"
#include "util/log.h"

#define VRNG_QSIZE 64
/* Per request, so one guest cannot make the host thread spin for long. */
#define VRNG_MAX_BYTES (64u << 10)

struct vrng {
	struct virtio_dev vd;
	struct iothread *io;
	struct virtq_elem elem;
};

static uint32_t fill(const struct virtq_elem *e)
{
	uint32_t done = 0;

	for (unsigned i = e->n_out; i < e->n_out + e->n_in && done < VRNG_MAX_BYTES; i++) {
		size_t want = e->iov[i].iov_len;
		ssize_t n;

		if (want > VRNG_MAX_BYTES - done)
			want = VRNG_MAX_BYTES - done;
		n = getrandom(e->iov[i].iov_base, want, 0);
		if (n < 0) {
			log_warn("virtio-rng: getrandom: %s", strerror(errno));
			break;
		}
		done += (uint32_t)n;
		if ((size_t)n < want)
			break;
	}
	return done;
}

static void vrng_on_kick(void *opaque, uint32_t events)
{
	struct vrng *r = opaque;
	struct virtq *q = &r->vd.vq[0];
	bool pushed = false;
	int rc;

	(void)events;
	eventfd_drain(r->vd.kick_fd[0]);
	if (virtio_is_broken(&r->vd))
		return;
	do {
		while ((rc = virtq_pop(q, &r->elem)) > 0) {
			virtq_push(q, r->elem.head, fill(&r->elem));
			pushed = true;
		}
		if (rc < 0) {
			virtio_broken(&r->vd, "invalid descriptor chain");
			break;
		}
	} while (!virtq_enable_kicks(q));
	if (pushed)
		virtio_queue_done(&r->vd, 0);
}

static void vrng_stop(struct virtio_dev *vd)
{
	struct vrng *r = vd->opaque;

	iothread_free(r->io);
	r->io = NULL;
}

static int vrng_start(struct virtio_dev *vd)
{
	struct vrng *r = vd->opaque;

	r->io = iothread_new(vd->name);
	if (!r->io || iothread_add(r->io, vd->kick_fd[0], EPOLLIN, vrng_on_kick, r) ||
	    iothread_start(r->io)) {
		vrng_stop(vd);
		return -1;
	}
	eventfd_signal(vd->kick_fd[0]);
	return 0;
}

static const struct virtio_dev_ops vrng_ops = { .start = vrng_start, .stop = vrng_stop };

struct virtio_dev *virtio_rng_new(void)
{
	struct vrng *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (virtio_dev_init(&r->vd, "virtio-rng", VIRTIO_ID_RNG, 0, 1, VRNG_QSIZE, &vrng_ops, r)) {
		free(r);
		return NULL;
	}
	return &r->vd;
}

void virtio_rng_free(struct virtio_dev *vd)
{
	if (!vd)
		return;
	virtio_dev_destroy(vd);
	free(vd->opaque);
}
