/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk: one request queue served by an I/O thread, requests carried
 * out asynchronously through the block layer (io_uring or its thread pool).
 */
#include "virtio/blk.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "block/aio.h"
#include "snapshot/snap.h"
#include "util/iothread.h"
#include "util/iov.h"
#include "util/log.h"

#define VBLK_QSIZE     256
#define VBLK_SEG_MAX   (VBLK_QSIZE - 2)
#define SECTOR         512ULL
#define MAX_ZERO_SECTORS (1u << 22)      /* 2 GiB at a time */

#define F_SEG_MAX      2
#define F_RO           5
#define F_BLK_SIZE     6
#define F_FLUSH        9
#define F_DISCARD      13
#define F_WRITE_ZEROES 14

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

/* struct virtio_blk_config, little-endian. */
enum {
	C_CAPACITY = 0, C_SEG_MAX = 12, C_BLK_SIZE = 20, C_MAX_DISCARD = 36,
	C_MAX_DISCARD_SEG = 40, C_DISCARD_ALIGN = 44, C_MAX_WZ = 48, C_MAX_WZ_SEG = 52,
	C_WZ_UNMAP = 56, C_LEN = 60,
};

struct vblk_req {
	struct blk_aio_req aio;
	struct virtq_elem elem;
	struct iovec data[VIRTQ_MAX_SIZE];
	uint8_t *status;
	uint32_t written;              /* bytes into guest buffers, status included */
	struct vblk_req *next_free;
};

struct vblk {
	struct virtio_dev vd;
	struct virtio_blk_opts opts;
	struct blk *blk;
	uint64_t sectors;
	uint8_t config[C_LEN];

	/* Data path, owned by the I/O thread while the device runs. */
	struct iothread *io;
	struct blk_aio *aio;
	struct vblk_req *reqs, *free_reqs;
	unsigned inflight;             /* requests handed to the block layer */
	bool notify;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void req_finish(struct vblk *b, struct vblk_req *r, uint8_t status)
{
	*r->status = status;
	virtq_push(&b->vd.vq[0], r->elem.head, r->written);
	b->notify = true;
	r->next_free = b->free_reqs;
	b->free_reqs = r;
}

/* [sector, +len) inside the disk. */
static bool in_range(const struct vblk *b, uint64_t sector, uint64_t len)
{
	return sector <= b->sectors && len <= (b->sectors - sector) * SECTOR;
}

static void req_submit(struct vblk *b, struct vblk_req *r, enum blk_aio_op op,
		       uint64_t offset, uint64_t len, int niov)
{
	r->aio = (struct blk_aio_req){ .op = op, .offset = offset, .len = len,
				       .iov = r->data, .iovcnt = niov, .opaque = r };
	b->inflight++;
	blk_aio_submit(b->aio, &r->aio);
}

/* DISCARD and WRITE_ZEROES carry one {sector, num_sectors, flags} segment. */
static uint8_t req_zero(struct vblk *b, struct vblk_req *r, uint32_t type, size_t hdr_skip)
{
	uint8_t seg[16];
	uint64_t sector;
	uint32_t num, flags;

	if (r->elem.out_len - hdr_skip != sizeof(seg) ||
	    iov_copy_to_buf(r->elem.iov, r->elem.n_out, hdr_skip, seg, sizeof(seg)) != sizeof(seg))
		return S_UNSUPP;
	sector = get_le64(seg);
	memcpy(&num, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	if ((type == T_DISCARD && flags) || (flags & ~1u))
		return S_UNSUPP;
	if (num > MAX_ZERO_SECTORS || !in_range(b, sector, (uint64_t)num * SECTOR))
		return S_IOERR;
	r->aio = (struct blk_aio_req){ .op = type == T_DISCARD ? BLK_AIO_DISCARD
							     : BLK_AIO_WRITE_ZEROES,
				       .offset = sector * SECTOR, .len = (uint64_t)num * SECTOR,
				       .unmap = flags & 1, .opaque = r };
	b->inflight++;
	blk_aio_submit(b->aio, &r->aio);
	return 0xff;
}

/* Starts one request; returns a status to finish it now, or 0xff if submitted. */
static uint8_t req_start(struct vblk *b, struct vblk_req *r)
{
	struct virtq_elem *e = &r->elem;
	uint8_t hdr[16];
	uint32_t type;
	uint64_t sector, len;
	int n;

	iov_copy_to_buf(e->iov, e->n_out, 0, hdr, sizeof(hdr));
	memcpy(&type, hdr, 4);
	sector = get_le64(hdr + 8);
	switch (type) {
	case T_IN:
		len = e->in_len - 1;
		n = iov_sub(e->iov + e->n_out, e->n_in, 0, len, r->data, VIRTQ_MAX_SIZE);
		if (n < 0 || len % SECTOR || !in_range(b, sector, len))
			return S_IOERR;
		r->written += (uint32_t)len;
		req_submit(b, r, BLK_AIO_READ, sector * SECTOR, len, n);
		return 0xff;
	case T_OUT:
		len = e->out_len - sizeof(hdr);
		n = iov_sub(e->iov, e->n_out, sizeof(hdr), len, r->data, VIRTQ_MAX_SIZE);
		if (b->opts.readonly || n < 0 || len % SECTOR || !in_range(b, sector, len))
			return S_IOERR;
		req_submit(b, r, BLK_AIO_WRITE, sector * SECTOR, len, n);
		return 0xff;
	case T_FLUSH:
		req_submit(b, r, BLK_AIO_FLUSH, 0, 0, 0);
		return 0xff;
	case T_GET_ID:
		len = e->in_len - 1 < VIRTIO_BLK_ID_BYTES ? e->in_len - 1 : VIRTIO_BLK_ID_BYTES;
		r->written += (uint32_t)iov_copy_from_buf(e->iov + e->n_out, e->n_in, 0,
							  b->opts.serial, len);
		return S_OK;
	case T_DISCARD:
	case T_WRITE_ZEROES:
		if (b->opts.readonly)
			return S_IOERR;
		return req_zero(b, r, type, sizeof(hdr));
	default:
		return S_UNSUPP;
	}
}

/* The status byte is the last byte the driver made writable. */
static uint8_t *status_byte(const struct virtq_elem *e)
{
	const struct iovec *last = &e->iov[e->n_out + e->n_in - 1];

	return (uint8_t *)last->iov_base + last->iov_len - 1;
}

static void vblk_pop_all(struct vblk *b)
{
	struct virtq *q = &b->vd.vq[0];
	int rc = 0;

	if (virtio_is_broken(&b->vd))
		return;
	do {
		virtq_disable_kicks(q);
		while (b->free_reqs) {
			struct vblk_req *r = b->free_reqs;
			uint8_t st;

			rc = virtq_pop(q, &r->elem);
			if (rc <= 0)
				break;
			b->free_reqs = r->next_free;
			if (r->elem.out_len < 16 || r->elem.in_len < 1) {
				/* Nowhere to put a status: hand the buffers back. */
				r->written = 0;
				virtq_push(q, r->elem.head, 0);
				b->notify = true;
				r->next_free = b->free_reqs;
				b->free_reqs = r;
				continue;
			}
			r->status = status_byte(&r->elem);
			r->written = 1;
			st = req_start(b, r);
			if (st != 0xff)
				req_finish(b, r, st);
		}
		if (rc < 0) {
			virtio_broken(&b->vd, "invalid descriptor chain");
			break;
		}
	} while (b->free_reqs && !virtq_enable_kicks(q));
	blk_aio_flush_submissions(b->aio);
}

static void vblk_flush_notify(struct vblk *b)
{
	if (b->notify)
		virtio_queue_done(&b->vd, 0);
	b->notify = false;
}

static void vblk_on_kick(void *opaque, uint32_t events)
{
	struct vblk *b = opaque;

	(void)events;
	eventfd_drain(b->vd.kick_fd[0]);
	vblk_pop_all(b);
	vblk_flush_notify(b);
}

/* Completes what the block layer has finished; how many. */
static int vblk_reap(struct vblk *b)
{
	struct blk_aio_req *done[64];
	int n = blk_aio_reap(b->aio, done, 64);

	for (int i = 0; i < n; i++) {
		struct vblk_req *r = done[i]->opaque;

		if (done[i]->ret < 0)
			log_debug("%s: request failed: %s", b->vd.name, strerror(-done[i]->ret));
		b->inflight--;
		req_finish(b, r, done[i]->ret < 0 ? S_IOERR : S_OK);
	}
	return n;
}

static void vblk_on_complete(void *opaque, uint32_t events)
{
	struct vblk *b = opaque;

	(void)events;
	if (vblk_reap(b))
		vblk_pop_all(b);    /* requests may have waited for a free slot */
	vblk_flush_notify(b);
}

static void vblk_stop(struct virtio_dev *vd)
{
	struct vblk *b = vd->opaque;

	/* The thread first, so nothing submits while in-flight requests finish. */
	iothread_free(b->io);
	blk_aio_free(b->aio);
	free(b->reqs);
	b->io = NULL;
	b->aio = NULL;
	b->reqs = b->free_reqs = NULL;
	b->inflight = 0;
}

/* With the I/O thread gone: every request in flight completes into the
 * used ring, none is started. */
static void vblk_drain(struct vblk *b)
{
	while (b->inflight) {
		struct pollfd p = { .fd = blk_aio_fd(b->aio), .events = POLLIN };

		blk_aio_flush_submissions(b->aio);
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			log_err("%s: waiting for requests: %s", b->vd.name, strerror(errno));
			return;
		}
		vblk_reap(b);
	}
}

/*
 * The guest may have been told a write is done that is only in the page
 * cache (or qcow2's caches): the flush makes it so on disk too, whether
 * or not the device runs now (a reset does not flush).
 */
static int vblk_pause(struct virtio_dev *vd)
{
	struct vblk *b = vd->opaque;
	int rc;

	if (b->io) {
		iothread_free(b->io);
		b->io = NULL;
		vblk_drain(b);
		vblk_flush_notify(b);
		vblk_stop(vd);
	}
	rc = blk_flush(b->blk);
	if (rc < 0) {
		log_err("%s: flushing %s: %s", vd->name, b->opts.path, strerror(-rc));
		return -1;
	}
	return 0;
}

static int vblk_start(struct virtio_dev *vd)
{
	struct vblk *b = vd->opaque;
	unsigned n = vd->vq[0].size;

	b->reqs = calloc(n, sizeof(*b->reqs));
	b->aio = blk_aio_new(b->blk, n, vd->name);
	b->io = iothread_new(vd->name);
	if (!b->reqs || !b->aio || !b->io ||
	    iothread_add(b->io, vd->kick_fd[0], EPOLLIN, vblk_on_kick, b) ||
	    iothread_add(b->io, blk_aio_fd(b->aio), EPOLLIN, vblk_on_complete, b)) {
		vblk_stop(vd);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		b->reqs[i].next_free = b->free_reqs;
		b->free_reqs = &b->reqs[i];
	}
	if (iothread_start(b->io)) {
		vblk_stop(vd);
		return -1;
	}
	eventfd_signal(vd->kick_fd[0]);     /* requests queued before DRIVER_OK */
	return 0;
}

/* The disk must be the one the guest knows, as large. */
static void vblk_save(struct virtio_dev *vd, struct snap_out *o)
{
	struct vblk *b = vd->opaque;

	snap_put_u64(o, "blk.sectors", b->sectors);
}

static int vblk_load(struct virtio_dev *vd, struct snap_sec *s)
{
	struct vblk *b = vd->opaque;
	uint64_t sectors;

	if (snap_get_u64(s, "blk.sectors", &sectors))
		return -1;
	if (sectors != b->sectors)
		return snap_fail(s, "the disk had %llu sectors, %s has %llu",
				 (unsigned long long)sectors, b->opts.path,
				 (unsigned long long)b->sectors);
	return 0;
}

static const struct virtio_dev_ops vblk_ops = {
	.start = vblk_start, .stop = vblk_stop, .pause = vblk_pause,
	.save = vblk_save, .load = vblk_load,
};

static void vblk_config(struct vblk *b)
{
	uint8_t *c = b->config;
	uint64_t cap = b->sectors;

	for (int i = 0; i < 8; i++)
		c[C_CAPACITY + i] = (uint8_t)(cap >> (8 * i));
	put_le32(c + C_SEG_MAX, VBLK_SEG_MAX);
	put_le32(c + C_BLK_SIZE, SECTOR);
	put_le32(c + C_MAX_DISCARD, MAX_ZERO_SECTORS);
	put_le32(c + C_MAX_DISCARD_SEG, 1);
	put_le32(c + C_DISCARD_ALIGN, 1);
	put_le32(c + C_MAX_WZ, MAX_ZERO_SECTORS);
	put_le32(c + C_MAX_WZ_SEG, 1);
	c[C_WZ_UNMAP] = 1;
}

struct virtio_dev *virtio_blk_new(const struct virtio_blk_opts *opts)
{
	struct blk_open_opts bo = { .format = opts->format, .readonly = opts->readonly,
				    .cache = opts->cache_none ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK };
	uint64_t features = 1ULL << F_SEG_MAX | 1ULL << F_BLK_SIZE | 1ULL << F_FLUSH;
	struct vblk *b = calloc(1, sizeof(*b));
	char err[256];

	if (!b)
		return NULL;
	b->opts = *opts;
	b->blk = blk_open(opts->path, &bo, err, sizeof(err));
	if (!b->blk) {
		log_err("--disk %s: %s", opts->path, err);
		free(b);
		return NULL;
	}
	b->sectors = blk_size(b->blk) / SECTOR;
	features |= opts->readonly ? 1ULL << F_RO
				   : 1ULL << F_DISCARD | 1ULL << F_WRITE_ZEROES;
	vblk_config(b);
	if (virtio_dev_init(&b->vd, "virtio-blk", VIRTIO_ID_BLOCK, features, 1, VBLK_QSIZE,
			    &vblk_ops, b)) {
		blk_close(b->blk);
		free(b);
		return NULL;
	}
	b->vd.config = b->config;
	b->vd.config_len = sizeof(b->config);
	return &b->vd;
}

void virtio_blk_free(struct virtio_dev *vd)
{
	struct vblk *b;

	if (!vd)
		return;
	b = vd->opaque;
	virtio_dev_destroy(vd);
	blk_close(b->blk);
	free(b);
}
