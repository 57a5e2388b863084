/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console with one port (hvc0 in Linux), on a chardev.  Output goes
 * from the transmit queue to the chardev on the I/O thread; input from the
 * chardev's thread is buffered here and moved into the guest's receive
 * buffers by the I/O thread, so each queue has one owner.
 */
#include "virtio/console.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "snapshot/snap.h"
#include "util/iothread.h"
#include "util/iov.h"
#include "util/log.h"

#define VCON_QSIZE 64
#define RXQ 0
#define TXQ 1
#define INBUF 4096
#define CFG_LEN 12                    /* cols, rows, max_nr_ports, emerg_wr */

struct vcon {
	struct virtio_dev vd;
	struct chardev *chr;
	uint8_t config[CFG_LEN];
	int input_fd;                     /* eventfd: input waits in inbuf */

	pthread_mutex_t lock;             /* inbuf */
	uint8_t inbuf[INBUF];
	size_t in_len;

	struct iothread *io;
	struct virtq_elem elem;
};

static size_t con_can_rx(void *opaque)
{
	struct vcon *c = opaque;
	size_t room;

	pthread_mutex_lock(&c->lock);
	room = INBUF - c->in_len;
	pthread_mutex_unlock(&c->lock);
	return room;
}

static void con_rx(void *opaque, const uint8_t *buf, size_t n)
{
	struct vcon *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (n > INBUF - c->in_len)
		n = INBUF - c->in_len;
	memcpy(c->inbuf + c->in_len, buf, n);
	c->in_len += n;
	pthread_mutex_unlock(&c->lock);
	eventfd_signal(c->input_fd);
}

/* Moves buffered input into the guest's receive buffers. */
static void rx_run(struct vcon *c)
{
	struct virtq *q = &c->vd.vq[RXQ];
	bool pushed = false, freed = false;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	while (c->in_len && (rc = virtq_pop(q, &c->elem)) > 0) {
		size_t n = iov_copy_from_buf(c->elem.iov + c->elem.n_out, c->elem.n_in, 0,
					     c->inbuf, c->in_len);

		memmove(c->inbuf, c->inbuf + n, c->in_len - n);
		c->in_len -= n;
		virtq_push(q, c->elem.head, (uint32_t)n);
		pushed = true;
		freed |= n > 0;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		virtio_broken(&c->vd, "invalid receive descriptor chain");
	if (pushed)
		virtio_queue_done(&c->vd, RXQ);
	if (freed)
		chardev_rx_ready(c->chr);
}

static void tx_run(struct vcon *c)
{
	struct virtq *q = &c->vd.vq[TXQ];
	bool pushed = false;
	int rc;

	do {
		while ((rc = virtq_pop(q, &c->elem)) > 0) {
			for (unsigned i = 0; i < c->elem.n_out; i++)
				chardev_write(c->chr, c->elem.iov[i].iov_base, c->elem.iov[i].iov_len);
			virtq_push(q, c->elem.head, 0);
			pushed = true;
		}
		if (rc < 0) {
			virtio_broken(&c->vd, "invalid transmit descriptor chain");
			break;
		}
	} while (!virtq_enable_kicks(q));
	if (pushed)
		virtio_queue_done(&c->vd, TXQ);
}

static void on_rx(void *opaque, uint32_t events)
{
	struct vcon *c = opaque;

	(void)events;
	eventfd_drain(c->vd.kick_fd[RXQ]);
	eventfd_drain(c->input_fd);
	if (!virtio_is_broken(&c->vd))
		rx_run(c);
}

static void on_tx(void *opaque, uint32_t events)
{
	struct vcon *c = opaque;

	(void)events;
	eventfd_drain(c->vd.kick_fd[TXQ]);
	if (!virtio_is_broken(&c->vd))
		tx_run(c);
}

static void vcon_stop(struct virtio_dev *vd)
{
	struct vcon *c = vd->opaque;

	iothread_free(c->io);
	c->io = NULL;
}

static int vcon_start(struct virtio_dev *vd)
{
	struct vcon *c = vd->opaque;

	c->io = iothread_new(vd->name);
	if (!c->io || iothread_add(c->io, vd->kick_fd[RXQ], EPOLLIN, on_rx, c) ||
	    iothread_add(c->io, c->input_fd, EPOLLIN, on_rx, c) ||
	    iothread_add(c->io, vd->kick_fd[TXQ], EPOLLIN, on_tx, c) ||
	    iothread_start(c->io)) {
		vcon_stop(vd);
		return -1;
	}
	eventfd_signal(vd->kick_fd[TXQ]);
	eventfd_signal(c->input_fd);
	return 0;
}

/* Input typed before the snapshot that the guest has not taken yet. */
static void vcon_save(struct virtio_dev *vd, struct snap_out *o)
{
	struct vcon *c = vd->opaque;

	pthread_mutex_lock(&c->lock);
	snap_put(o, "con.input", c->inbuf, c->in_len);
	pthread_mutex_unlock(&c->lock);
}

static int vcon_load(struct virtio_dev *vd, struct snap_sec *s)
{
	struct vcon *c = vd->opaque;
	const void *p;
	size_t len;

	p = snap_get_var(s, "con.input", &len);
	if (!p)
		return -1;
	if (len > INBUF)
		return snap_fail(s, "%zu bytes of input; the buffer holds %d", len, INBUF);
	/* Before whatever the backend has typed since this vmon started. */
	pthread_mutex_lock(&c->lock);
	if (c->in_len > INBUF - len)
		c->in_len = INBUF - len;
	memmove(c->inbuf + len, c->inbuf, c->in_len);
	memcpy(c->inbuf, p, len);
	c->in_len += len;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static const struct virtio_dev_ops vcon_ops = {
	.start = vcon_start, .stop = vcon_stop, .save = vcon_save, .load = vcon_load,
};

struct virtio_dev *virtio_console_new(struct chardev *chr)
{
	struct vcon *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->chr = chr;
	pthread_mutex_init(&c->lock, NULL);
	c->input_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->input_fd < 0 ||
	    virtio_dev_init(&c->vd, "virtio-console", VIRTIO_ID_CONSOLE, 0, 2, VCON_QSIZE,
			    &vcon_ops, c)) {
		if (c->input_fd >= 0)
			close(c->input_fd);
		free(c);
		return NULL;
	}
	c->vd.config = c->config;
	c->vd.config_len = CFG_LEN;
	chardev_set_input(chr, con_can_rx, con_rx, c);
	return &c->vd;
}

void virtio_console_free(struct virtio_dev *vd)
{
	struct vcon *c;

	if (!vd)
		return;
	c = vd->opaque;
	chardev_set_input(c->chr, NULL, NULL, NULL);
	virtio_dev_destroy(vd);
	close(c->input_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
