/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qcow2 read path: a request is planned under the image's lock (which
 * host ranges, backing reads, zeroes and compressed clusters it needs) and
 * its plain host reads done after the lock is dropped, while writers that
 * would free or reuse those clusters wait for the readers to drain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_int.h"

/* ---- reading ---- */

enum { P_NONE, P_HOST, P_BACKING, P_ZERO };
struct pend {
	int kind;
	uint64_t host, voff, len;
	size_t pos;     /* offset in the caller's iov */
};

/* The reads a request still has to do once the lock is dropped. */
struct qcow2_plan {
	struct pend *ops;
	size_t n, cap;
};

static int pend_run(struct qcow2 *q, const struct pend *p, const struct iovec *iov, int iovcnt)
{
	struct iovec sub[QCOW2_SLICE_MAX];
	int n = iov_slice(iov, iovcnt, p->pos, p->len, sub, QCOW2_SLICE_MAX);
	if (n < 0)
		return -EINVAL;
	if (p->kind == P_HOST)
		return file_preadv(dataf(q), sub, n, p->host);
	return blk_read_backing(q->b, sub, n, p->voff);
}

static int pend_flush(struct qcow2 *q, struct pend *p, const struct iovec *iov, int iovcnt)
{
	struct iovec sub[QCOW2_SLICE_MAX];
	int ret = 0;

	if (p->kind == P_NONE || !p->len)
		goto done;
	if (p->kind == P_ZERO) {
		iov_memset(iov, iovcnt, p->pos, 0, p->len);
		goto done;
	}
	if (q->plan) {
		struct qcow2_plan *pl = q->plan;
		if (pl->n == pl->cap) {
			size_t nc = pl->cap ? pl->cap * 2 : 16;
			struct pend *no = realloc(pl->ops, nc * sizeof(*no));
			if (!no)
				return -ENOMEM;
			pl->ops = no;
			pl->cap = nc;
		}
		pl->ops[pl->n++] = *p;
		goto done;
	}
	int n = iov_slice(iov, iovcnt, p->pos, p->len, sub, QCOW2_SLICE_MAX);
	if (n < 0)
		return -EINVAL;
	if (p->kind == P_HOST)
		ret = file_preadv(dataf(q), sub, n, p->host);
	else
		ret = blk_read_backing(q->b, sub, n, p->voff);
done:
	p->kind = P_NONE;
	p->len = 0;
	return ret;
}

static int pend_add(struct qcow2 *q, struct pend *p, const struct iovec *iov, int iovcnt,
		    int kind, uint64_t host, uint64_t voff, uint64_t len, size_t pos)
{
	if (p->kind == kind && p->pos + p->len == pos &&
	    ((kind == P_HOST && p->host + p->len == host) ||
	     (kind == P_BACKING && p->voff + p->len == voff) || kind == P_ZERO)) {
		p->len += len;
		return 0;
	}
	int ret = pend_flush(q, p, iov, iovcnt);
	if (ret < 0)
		return ret;
	*p = (struct pend){ kind, host, voff, len, pos };
	return 0;
}

int qcow2_check_host(struct qcow2 *q, uint64_t host, uint64_t voff)
{
	if (cl_off(q, host) || host >= QCOW2_MAX_HOST_OFFSET)
		return qcow2_signal_corruption(q, "data cluster offset %#llx for guest offset %#llx is invalid",
					       (unsigned long long)host, (unsigned long long)voff);
	return 0;
}

/* Reads [off, off+len) of the guest into iov at pos. */
static int read_range(struct qcow2 *q, const struct iovec *iov, int iovcnt, size_t pos,
		      uint64_t off, uint64_t len)
{
	struct pend p = { P_NONE, 0, 0, 0, 0 };
	int ret = 0;

	while (len) {
		uint8_t *l2;
		if ((ret = qcow2_get_l2(q, off, &l2)) < 0)
			return ret;
		uint64_t per_table = q->cs << q->l2_bits;
		uint64_t tab_end = (off / per_table + 1) * per_table;
		while (len && off < tab_end) {
			uint64_t in = cl_off(q, off);
			uint64_t n = q->cs - in < len ? q->cs - in : len;
			uint64_t i = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
			uint64_t e = l2 ? qcow2_l2_get(q, l2, i) : 0;
			uint64_t host = e & L2E_OFFSET_MASK;
			bool has = l2e_has_host(q, e);
			if (e & QCOW_OFLAG_COMPRESSED) {
				if (q->dbuf_entry != e) {
					q->dbuf_entry = 0;
					if ((ret = qcow2_decompress(q, e, q->dbuf)) < 0)
						goto out;
					q->dbuf_entry = e;
				}
				if ((ret = pend_flush(q, &p, iov, iovcnt)) < 0)
					goto out;
				iov_from_buf(iov, iovcnt, pos, q->dbuf + in, n);
			} else if (q->ext_l2 && l2) {
				uint64_t bm = qcow2_l2_bitmap(q, l2, i);
				if (has && (ret = qcow2_check_host(q, host, off)) < 0)
					goto out;
				for (uint64_t s = in; s < in + n;) {
					unsigned sc = (unsigned)(s / q->sc_size);
					uint64_t sn = (sc + 1) * q->sc_size - s;
					if (sn > in + n - s)
						sn = in + n - s;
					size_t ppos = pos + (size_t)(s - in);
					uint64_t vo = off - in + s;
					if (bm & (1ull << sc)) {
						if (!has) {
							ret = qcow2_signal_corruption(q, "allocated subcluster without a host cluster");
							goto out;
						}
						ret = pend_add(q, &p, iov, iovcnt, P_HOST, host + s, vo, sn, ppos);
					} else if (bm & (1ull << (sc + 32))) {
						ret = pend_add(q, &p, iov, iovcnt, P_ZERO, 0, vo, sn, ppos);
					} else {
						ret = pend_add(q, &p, iov, iovcnt, P_BACKING, 0, vo, sn, ppos);
					}
					if (ret < 0)
						goto out;
					s += sn;
				}
			} else if (q->version >= 3 && (e & QCOW_OFLAG_ZERO)) {
				ret = pend_add(q, &p, iov, iovcnt, P_ZERO, 0, off, n, pos);
			} else if (has) {
				if ((ret = qcow2_check_host(q, host, off)) < 0)
					goto out;
				ret = pend_add(q, &p, iov, iovcnt, P_HOST, host + in, off, n, pos);
			} else {
				ret = pend_add(q, &p, iov, iovcnt, P_BACKING, 0, off, n, pos);
			}
			if (ret < 0)
				goto out;
			off += n;
			len -= n;
			pos += (size_t)n;
		}
		/* Read before the table can leave the cache. */
		ret = pend_flush(q, &p, iov, iovcnt);
out:
		if (l2)
			qcache_put(&q->l2c, l2, false);
		if (ret < 0)
			return ret;
	}
	return pend_flush(q, &p, iov, iovcnt);
}

int qcow2_readv(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return read_range(q, iov, iovcnt, 0, off, iov_size(iov, iovcnt));
}

/*
 * A guest read in two halves: under q->lock the mapping is resolved (zeroes
 * and compressed clusters are filled in there and then), and the reads of
 * host clusters and of the backing file are noted; then, without the lock,
 * they are done, so reads of several threads overlap.  The reader is
 * counted (q->readers) before the lock goes: nothing frees a cluster while
 * a read may still be using it (qcow2_drain_readers, called before any
 * refcount goes down).
 */
int qcow2_readv_unlocked(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qcow2_plan plan = { 0 };

	pthread_mutex_lock(&q->lock);
	q->plan = &plan;
	int ret = read_range(q, iov, iovcnt, 0, off, iov_size(iov, iovcnt));
	q->plan = NULL;
	if (ret >= 0) {
		pthread_mutex_lock(&q->rd_lock);
		q->readers++;
		pthread_mutex_unlock(&q->rd_lock);
	}
	pthread_mutex_unlock(&q->lock);
	if (ret >= 0) {
		for (size_t i = 0; i < plan.n && ret >= 0; i++)
			ret = pend_run(q, &plan.ops[i], iov, iovcnt);
		pthread_mutex_lock(&q->rd_lock);
		if (--q->readers == 0)
			pthread_cond_broadcast(&q->rd_cond);
		pthread_mutex_unlock(&q->rd_lock);
	}
	free(plan.ops);
	return ret;
}

void qcow2_drain_readers(struct qcow2 *q)
{
	pthread_mutex_lock(&q->rd_lock);
	while (q->readers)
		pthread_cond_wait(&q->rd_cond, &q->rd_lock);
	pthread_mutex_unlock(&q->rd_lock);
}

int qcow2_read_buf(struct qcow2 *q, void *buf, uint64_t off, uint64_t len)
{
	struct iovec v = { buf, (size_t)len };
	return read_range(q, &v, 1, 0, off, len);
}

