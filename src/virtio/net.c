/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net on a tap device: one receive and one transmit queue served by
 * an I/O thread.  Frames keep their virtio-net header across the tap
 * (IFF_VNET_HDR), so checksum offload and TSO cost nothing here; received
 * frames may spread over several buffers (mergeable receive buffers).
 */
#include "virtio/net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/tap.h"
#include "snapshot/snap.h"
#include "util/iothread.h"
#include "util/iov.h"
#include "util/log.h"

#define VNET_QSIZE   256
#define RXQ          0
#define TXQ          1
#define RX_BUF_LEN   (TAP_VNET_HDR_LEN + 65536)
#define NUM_BUFFERS_OFF 10            /* in virtio_net_hdr_v1 */
#define BATCH        256              /* frames per wakeup before yielding */

enum {
	F_CSUM = 0, F_GUEST_CSUM = 1, F_MAC = 5, F_GUEST_TSO4 = 7, F_GUEST_TSO6 = 8,
	F_GUEST_ECN = 9, F_HOST_TSO4 = 11, F_HOST_TSO6 = 12, F_HOST_ECN = 13,
	F_MRG_RXBUF = 15, F_STATUS = 16,
};

#define CFG_LEN 12
#define CFG_STATUS_OFF 6
#define LINK_UP 1

struct vnet {
	struct virtio_dev vd;
	struct virtio_net_opts opts;
	int tap;
	uint8_t config[CFG_LEN];

	/* Owned by the I/O thread while the device runs. */
	struct iothread *io;
	uint8_t *rx_buf;
	size_t rx_len;                   /* a frame read from the tap, not yet delivered */
	bool tap_polled;
	struct virtq_elem first, more;   /* chains of the frame being delivered */
};

static void tap_poll(struct vnet *n, bool on)
{
	if (n->tap_polled == on)
		return;
	n->tap_polled = on;
	iothread_modify(n->io, n->tap, on ? EPOLLIN : 0);
}

/*
 * Copies the pending frame into receive buffers: one chain, or with
 * mergeable buffers as many as it takes (num_buffers tells the guest).
 * false when the guest has not posted enough; nothing is consumed then and
 * kicks are on.  A frame the whole ring cannot hold is dropped.
 */
static bool rx_deliver(struct vnet *n)
{
	struct virtq *q = &n->vd.vq[RXQ];
	bool mrg = virtio_has(&n->vd, F_MRG_RXBUF);
	size_t done = 0, c;
	uint16_t nbuf = 0;
	uint32_t heads[VNET_QSIZE], lens[VNET_QSIZE];
	int rc;

	while (done < n->rx_len && nbuf < q->size) {
		struct virtq_elem *e = nbuf ? &n->more : &n->first;

		rc = virtq_pop(q, e);
		if (rc < 0) {
			virtio_broken(&n->vd, "invalid receive descriptor chain");
			return false;
		}
		if (rc == 0) {
			/*
			 * Kicks on before the buffers go back, so only a buffer
			 * past them wakes us: asked for after the unpop, the
			 * ones we just gave back would count as new, and the
			 * I/O thread would spin on them.
			 */
			if (!virtq_enable_kicks(q))
				continue;
			virtq_unpop(q, nbuf);
			return false;
		}
		if (!mrg && e->in_len < n->rx_len) {
			/* Too big for the guest's buffers: dropped, as a NIC would. */
			virtq_unpop(q, 1);
			return true;
		}
		if (!e->in_len) {
			virtq_unpop(q, (uint16_t)(nbuf + 1));
			virtio_broken(&n->vd, "receive buffer with no writable bytes");
			return false;
		}
		c = iov_copy_from_buf(e->iov + e->n_out, e->n_in, 0, n->rx_buf + done,
				      n->rx_len - done);
		heads[nbuf] = e->head;
		lens[nbuf++] = (uint32_t)c;
		done += c;
	}
	if (done < n->rx_len) {
		/* Every buffer the ring can hold is not enough: drop the frame. */
		virtq_unpop(q, nbuf);
		return true;
	}
	iov_copy_from_buf(n->first.iov + n->first.n_out, n->first.n_in, NUM_BUFFERS_OFF,
			  &nbuf, sizeof(nbuf));
	virtq_push_n(q, heads, lens, nbuf);
	return true;
}

static void rx_run(struct vnet *n)
{
	unsigned frames = 0;

	if (virtio_is_broken(&n->vd))
		return;
	while (frames < BATCH) {
		if (!n->rx_len) {
			ssize_t r = read(n->tap, n->rx_buf, RX_BUF_LEN);

			if (r < 0 && errno != EAGAIN && errno != EINTR)
				log_warn("%s: tap read: %s", n->vd.name, strerror(errno));
			if (r <= TAP_VNET_HDR_LEN)
				break;
			n->rx_len = (size_t)r;
		}
		if (!rx_deliver(n)) {
			/* No room: wait for the guest to post buffers, not for the tap. */
			tap_poll(n, false);
			break;
		}
		n->rx_len = 0;
		frames++;
		tap_poll(n, true);
	}
	if (frames)
		virtio_queue_done(&n->vd, RXQ);
}

static void tx_run(struct vnet *n)
{
	struct virtq *q = &n->vd.vq[TXQ];
	struct virtq_elem *e = &n->more;
	unsigned frames = 0;
	int rc;

	if (virtio_is_broken(&n->vd))
		return;
	do {
		virtq_disable_kicks(q);
		while (frames < BATCH && (rc = virtq_pop(q, e)) > 0) {
			/* A full tap queue drops the frame, as a busy link would. */
			if (e->out_len > TAP_VNET_HDR_LEN &&
			    writev(n->tap, e->iov, (int)e->n_out) < 0 && errno != EAGAIN)
				log_debug("%s: tap write: %s", n->vd.name, strerror(errno));
			virtq_push(q, e->head, 0);
			frames++;
		}
		if (rc < 0) {
			virtio_broken(&n->vd, "invalid transmit descriptor chain");
			break;
		}
		if (frames >= BATCH) {
			eventfd_signal(n->vd.kick_fd[TXQ]);   /* more next round */
			break;
		}
	} while (!virtq_enable_kicks(q));
	if (frames)
		virtio_queue_done(&n->vd, TXQ);
}

static void on_tap(void *opaque, uint32_t events)
{
	(void)events;
	rx_run(opaque);
}

static void on_rx_kick(void *opaque, uint32_t events)
{
	struct vnet *n = opaque;

	(void)events;
	eventfd_drain(n->vd.kick_fd[RXQ]);
	rx_run(n);
}

static void on_tx_kick(void *opaque, uint32_t events)
{
	struct vnet *n = opaque;

	(void)events;
	eventfd_drain(n->vd.kick_fd[TXQ]);
	tx_run(n);
}

/* What the host kernel may hand us: only what the guest can take. */
static unsigned tap_offloads(const struct virtio_dev *vd)
{
	unsigned f = 0;

	if (!virtio_has(vd, F_GUEST_CSUM))
		return 0;
	f |= TUN_F_CSUM;
	if (virtio_has(vd, F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (virtio_has(vd, F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if ((f & (TUN_F_TSO4 | TUN_F_TSO6)) && virtio_has(vd, F_GUEST_ECN))
		f |= TUN_F_TSO_ECN;
	return f;
}

/* A frame read from the tap but not delivered waits for the resume. */
static int vnet_pause(struct virtio_dev *vd)
{
	struct vnet *n = vd->opaque;

	iothread_free(n->io);
	n->io = NULL;
	return 0;
}

static void vnet_stop(struct virtio_dev *vd)
{
	struct vnet *n = vd->opaque;

	vnet_pause(vd);
	n->rx_len = 0;
}

static int vnet_start(struct virtio_dev *vd)
{
	struct vnet *n = vd->opaque;

	if (tap_set_offload(n->tap, tap_offloads(vd)) < 0)
		log_warn("%s: TUNSETOFFLOAD: %s", vd->name, strerror(errno));
	n->tap_polled = true;
	n->io = iothread_new(vd->name);
	if (!n->io || iothread_add(n->io, n->tap, EPOLLIN, on_tap, n) ||
	    iothread_add(n->io, vd->kick_fd[RXQ], EPOLLIN, on_rx_kick, n) ||
	    iothread_add(n->io, vd->kick_fd[TXQ], EPOLLIN, on_tx_kick, n) ||
	    iothread_start(n->io)) {
		vnet_stop(vd);
		return -1;
	}
	/* Frames queued before the threads came up, and one held over a pause. */
	eventfd_signal(vd->kick_fd[TXQ]);
	eventfd_signal(vd->kick_fd[RXQ]);
	return 0;
}

/* The MAC and link status the guest has read; a restored NIC keeps them. */
static void vnet_save(struct virtio_dev *vd, struct snap_out *o)
{
	struct vnet *n = vd->opaque;

	snap_put(o, "net.mac", n->config, 6);
	snap_put_u8(o, "net.status", n->config[CFG_STATUS_OFF]);
}

static int vnet_load(struct virtio_dev *vd, struct snap_sec *s)
{
	struct vnet *n = vd->opaque;
	uint8_t mac[6], status;

	if (snap_get(s, "net.mac", mac, 6) || snap_get_u8(s, "net.status", &status))
		return -1;
	if (mac[0] & 1)
		return snap_fail(s, "MAC %02x:%02x:%02x:%02x:%02x:%02x is not unicast", mac[0],
				 mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (status & ~LINK_UP)
		return snap_fail(s, "link status %#x has undefined bits", status);
	memcpy(n->config, mac, 6);
	memcpy(n->opts.mac, mac, 6);
	n->config[CFG_STATUS_OFF] = status;
	return 0;
}

static const struct virtio_dev_ops vnet_ops = {
	.start = vnet_start, .stop = vnet_stop, .pause = vnet_pause,
	.save = vnet_save, .load = vnet_load,
};

struct virtio_dev *virtio_net_new(const struct virtio_net_opts *opts)
{
	uint64_t features = 1ULL << F_CSUM | 1ULL << F_GUEST_CSUM | 1ULL << F_MAC |
			    1ULL << F_GUEST_TSO4 | 1ULL << F_GUEST_TSO6 | 1ULL << F_GUEST_ECN |
			    1ULL << F_HOST_TSO4 | 1ULL << F_HOST_TSO6 | 1ULL << F_HOST_ECN |
			    1ULL << F_MRG_RXBUF | 1ULL << F_STATUS;
	struct vnet *n = calloc(1, sizeof(*n));
	char err[256];

	if (!n)
		return NULL;
	n->opts = *opts;
	n->rx_buf = malloc(RX_BUF_LEN);
	n->tap = tap_open(opts->tap, err, sizeof(err));
	if (n->tap < 0 || !n->rx_buf) {
		log_err("--net tap=%s: %s", opts->tap, n->rx_buf ? err : "out of memory");
		goto fail;
	}
	memcpy(n->config, opts->mac, 6);
	n->config[CFG_STATUS_OFF] = LINK_UP;
	if (virtio_dev_init(&n->vd, "virtio-net", VIRTIO_ID_NET, features, 2, VNET_QSIZE,
			    &vnet_ops, n))
		goto fail;
	n->vd.config = n->config;
	n->vd.config_len = CFG_LEN;
	return &n->vd;
fail:
	if (n->tap >= 0)
		close(n->tap);
	free(n->rx_buf);
	free(n);
	return NULL;
}

void virtio_net_free(struct virtio_dev *vd)
{
	struct vnet *n;

	if (!vd)
		return;
	n = vd->opaque;
	virtio_dev_destroy(vd);
	close(n->tap);
	free(n->rx_buf);
	free(n);
}

int virtio_net_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || (b[0] & 1))
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}
