/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qcow2 refcounts: the refcount table and blocks (1 to 64 bits an entry),
 * cluster and byte allocation, freeing, and growing the refcount table.
 * Ordering: a new refcount block is written and synced before the table
 * entry that points at it; a new refcount table (with the blocks that
 * count its own clusters) before the header that points at it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_int.h"

uint64_t rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
	switch (q->refcount_order) {
	case 0: return (blk[i / 8] >> (i % 8)) & 1;
	case 1: return (blk[i / 4] >> (2 * (i % 4))) & 3;
	case 2: return (blk[i / 2] >> (4 * (i % 2))) & 15;
	case 3: return blk[i];
	case 4: return be16_at(blk + 2 * i);
	case 5: return be32_at(blk + 4 * i);
	default: return be64_at(blk + 8 * i);
	}
}

void rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
	unsigned sh;

	switch (q->refcount_order) {
	case 0: sh = (unsigned)(i % 8); blk[i / 8] = (uint8_t)((blk[i / 8] & ~(1u << sh)) | ((v & 1) << sh)); break;
	case 1: sh = 2 * (unsigned)(i % 4); blk[i / 4] = (uint8_t)((blk[i / 4] & ~(3u << sh)) | ((v & 3) << sh)); break;
	case 2: sh = 4 * (unsigned)(i % 2); blk[i / 2] = (uint8_t)((blk[i / 2] & ~(15u << sh)) | ((v & 15) << sh)); break;
	case 3: blk[i] = (uint8_t)v; break;
	case 4: put_be16(blk + 2 * i, (uint16_t)v); break;
	case 5: put_be32(blk + 4 * i, (uint32_t)v); break;
	default: put_be64(blk + 8 * i, v); break;
	}
}

static int rt_block(struct qcow2 *q, uint64_t rti, uint64_t *off)
{
	*off = 0;
	if (rti >= q->rt_size)
		return 0;
	uint64_t e = q->rt[rti] & REFT_OFFSET_MASK;
	if (e && (cl_off(q, e) || e >= QCOW2_MAX_HOST_OFFSET))
		return qcow2_signal_corruption(q, "refcount block offset %#llx is invalid",
					       (unsigned long long)e);
	*off = e;
	return 0;
}

int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *rc)
{
	uint64_t off;
	uint8_t *blk;
	int ret = rt_block(q, cluster >> q->rb_bits, &off);

	*rc = 0;
	if (ret < 0 || !off)
		return ret;
	ret = qcache_get(q, &q->rbc, off, true, &blk);
	if (ret < 0)
		return ret;
	*rc = rb_get(q, blk, cluster & ((1ull << q->rb_bits) - 1));
	qcache_put(&q->rbc, blk, false);
	return 0;
}

static int64_t file_clusters(struct qcow2 *q)
{
	int64_t sz = file_size(q->f);
	if (sz < 0)
		return sz;
	return (int64_t)(((uint64_t)sz + q->cs - 1) >> q->cluster_bits);
}

static int write_rt_entry(struct qcow2 *q, uint64_t rti)
{
	uint8_t v[8];
	put_be64(v, q->rt[rti]);
	return file_pwrite(q->f, v, 8, q->rt_off + rti * 8);
}

/* A new, larger refcount table at the end of the image, together with the
 * refcount blocks that count its clusters and themselves. */
static int grow_rt(struct qcow2 *q, uint64_t min_entries)
{
	uint64_t per_cl = q->cs / 8, rb_cov = 1ull << q->rb_bits;
	int64_t fc = file_clusters(q);
	if (fc < 0)
		return (int)fc;
	uint64_t start = (uint64_t)fc;
	if (start < q->free_idx)
		start = q->free_idx;
	if (start < q->alloc_end)
		start = q->alloc_end;
	uint64_t nt = 0, m = 0, entries = 0;
	if (min_entries > QCOW2_MAX_RT_BYTES / 8 || (start >> q->rb_bits) > QCOW2_MAX_RT_BYTES / 8)
		return -EFBIG;
	for (int iter = 0;; iter++) {
		uint64_t end = start + nt + m;
		entries = q->rt_size + q->rt_size / 2 + per_cl;
		if (entries < min_entries)
			entries = min_entries;
		if (end > start && entries < (end - 1) / rb_cov + 1)
			entries = (end - 1) / rb_cov + 1;
		entries = (entries + per_cl - 1) / per_cl * per_cl;
		uint64_t nnt = entries / per_cl, nm = 0;
		for (uint64_t rti = start / rb_cov; rti <= (start + nnt + m - 1) / rb_cov; rti++)
			if (rti >= q->rt_size || !(q->rt[rti] & REFT_OFFSET_MASK))
				nm++;
		if (nnt == nt && nm == m)
			break;
		nt = nnt;
		m = nm;
		if (iter > 100)
			return -EIO;
	}
	if (entries * 8 > QCOW2_MAX_RT_BYTES)
		return -EFBIG;
	uint64_t *nrt = calloc(entries, 8);
	uint8_t *blk = malloc(q->cs);
	int ret = 0;
	if (!nrt || !blk) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(nrt, q->rt, q->rt_size * 8);
	/* New refcount blocks, right after the table. */
	uint64_t next_blk = start + nt;
	uint64_t end = start + nt + m;
	for (uint64_t rti = start / rb_cov; rti <= (end - 1) / rb_cov; rti++) {
		if (rti < q->rt_size && (q->rt[rti] & REFT_OFFSET_MASK))
			continue;
		nrt[rti] = next_blk << q->cluster_bits;
		next_blk++;
	}
	for (uint64_t rti = start / rb_cov; rti <= (end - 1) / rb_cov; rti++) {
		if (rti < q->rt_size && (q->rt[rti] & REFT_OFFSET_MASK)) {
			/* An existing block counts part of the new area. */
			for (uint64_t c = rti * rb_cov > start ? rti * rb_cov : start; c < end && c < (rti + 1) * rb_cov; c++)
				if ((ret = qcow2_update_refcount(q, c, 1)) < 0)
					goto out;
			continue;
		}
		memset(blk, 0, q->cs);
		for (uint64_t c = rti * rb_cov > start ? rti * rb_cov : start; c < end && c < (rti + 1) * rb_cov; c++)
			rb_set(q, blk, c % rb_cov, 1);
		if ((ret = file_pwrite(q->f, blk, q->cs, nrt[rti])) < 0)
			goto out;
	}
	/* The table on disk as big-endian. */
	for (uint64_t i = 0; i < entries; i++)
		put_be64(&nrt[i], nrt[i]);
	for (uint64_t i = 0; i < nt; i++)
		if ((ret = file_pwrite(q->f, (uint8_t *)nrt + i * q->cs, q->cs,
				       (start + i) << q->cluster_bits)) < 0)
			goto out;
	for (uint64_t i = 0; i < entries; i++)
		nrt[i] = be64toh(nrt[i]);
	if ((ret = qcache_writeback(q, &q->rbc)) < 0 || (ret = file_flush(q->f)) < 0)
		goto out;
	uint8_t hdr[12];
	put_be64(hdr, start << q->cluster_bits);
	put_be32(hdr + 8, (uint32_t)nt);
	if ((ret = qcow2_write_header_field(q, 48, hdr, 12)) < 0 || (ret = file_flush(q->f)) < 0)
		goto out;
	uint64_t old_off = q->rt_off, old_cl = q->rt_clusters;
	free(q->rt);
	q->rt = nrt;
	nrt = NULL;
	q->rt_off = start << q->cluster_bits;
	q->rt_clusters = (uint32_t)nt;
	q->rt_size = entries;
	if (q->alloc_end < end)
		q->alloc_end = end;
	ret = qcow2_free_range(q, old_off, old_cl << q->cluster_bits);
out:
	free(nrt);
	free(blk);
	return ret;
}

static int find_free(struct qcow2 *q, uint64_t n, uint64_t *out)
{
	uint64_t c = q->free_idx, run = 0, per = 1ull << q->rb_bits;

	for (;;) {
		if ((c + 1) >= (QCOW2_MAX_HOST_OFFSET >> q->cluster_bits))
			return -EFBIG;
		uint64_t off;
		int ret = rt_block(q, c >> q->rb_bits, &off);
		if (ret < 0)
			return ret;
		if (!off) {   /* a whole block's worth of free clusters */
			uint64_t left = per - (c & (per - 1));
			if (run + left >= n) {
				*out = c - run;
				return 0;
			}
			run += left;
			c += left;
			continue;
		}
		uint8_t *blk;
		if ((ret = qcache_get(q, &q->rbc, off, true, &blk)) < 0)
			return ret;
		for (uint64_t i = c & (per - 1); i < per; i++, c++) {
			if (rb_get(q, blk, i)) {
				run = 0;
				if (c == q->free_idx)
					q->free_idx = c + 1;
			} else if (++run == n) {
				qcache_put(&q->rbc, blk, false);
				*out = c + 1 - n;
				return 0;
			}
		}
		qcache_put(&q->rbc, blk, false);
	}
}

/* Makes sure refcount block rti exists. */
static int ensure_refblock(struct qcow2 *q, uint64_t rti)
{
	uint64_t rb_cov = 1ull << q->rb_bits, off, c;
	int ret;

	for (;;) {
		if (rti >= q->rt_size && (ret = grow_rt(q, rti + 1)) < 0)
			return ret;
		if ((ret = rt_block(q, rti, &off)) < 0)
			return ret;
		if (off)
			return 0;
		if ((ret = find_free(q, 1, &c)) < 0)
			return ret;
		uint64_t crti = c / rb_cov;
		if (crti != rti) {
			if (crti >= q->rt_size || !(q->rt[crti] & REFT_OFFSET_MASK)) {
				if ((ret = ensure_refblock(q, crti)) < 0)
					return ret;
				continue;   /* look again: that may have taken c */
			}
		}
		uint8_t *blk;
		if ((ret = qcache_get(q, &q->rbc, c << q->cluster_bits, false, &blk)) < 0)
			return ret;
		if (crti == rti)
			rb_set(q, blk, c % rb_cov, 1);
		ret = file_pwrite(q->f, blk, q->cs, c << q->cluster_bits);
		qcache_put(&q->rbc, blk, false);
		if (ret < 0)
			return ret;
		if (crti != rti && (ret = qcow2_update_refcount(q, c, 1)) < 0)
			return ret;
		if (q->alloc_end <= c)
			q->alloc_end = c + 1;
		if ((ret = qcache_writeback(q, &q->rbc)) < 0)
			return ret;
		if (!q->lazy && (ret = file_flush(q->f)) < 0)
			return ret;
		q->rt[rti] = c << q->cluster_bits;
		return write_rt_entry(q, rti);
	}
}

int qcow2_update_refcount(struct qcow2 *q, uint64_t cluster, int64_t delta)
{
	uint64_t rti = cluster >> q->rb_bits, off;
	uint8_t *blk;
	int ret;

	if (!delta)
		return 0;
	if (delta < 0) {
		/* A read without the lock may still be using the cluster. */
		qcow2_drain_readers(q);
		if ((ret = rt_block(q, rti, &off)) < 0)
			return ret;
		if (!off)
			return qcow2_signal_corruption(q, "refcount of cluster %#llx would drop below zero",
						       (unsigned long long)cluster);
	}
	if ((ret = ensure_refblock(q, rti)) < 0)
		return ret;
	if ((ret = rt_block(q, rti, &off)) < 0)
		return ret;
	if ((ret = qcache_get(q, &q->rbc, off, true, &blk)) < 0)
		return ret;
	uint64_t i = cluster & ((1ull << q->rb_bits) - 1);
	uint64_t v = rb_get(q, blk, i);
	if ((delta < 0 && v < (uint64_t)-delta) ||
	    (delta > 0 && q->refcount_max - v < (uint64_t)delta)) {
		qcache_put(&q->rbc, blk, false);
		if (delta > 0)
			return -ERANGE;   /* refcount overflow: the caller refuses the operation */
		return qcow2_signal_corruption(q, "refcount of cluster %#llx would drop below zero",
					       (unsigned long long)cluster);
	}
	v += (uint64_t)delta;
	rb_set(q, blk, i, v);
	qcache_put(&q->rbc, blk, true);
	if (delta > 0) {
		q->l2_dep_rc = true;
	} else if (v == 0) {
		qcache_drop(&q->l2c, cluster << q->cluster_bits);
		if (cluster < q->free_idx)
			q->free_idx = cluster;
		if (q->free_byte_off >> q->cluster_bits == cluster)
			q->free_byte_off = 0;
	}
	return 0;
}

int qcow2_refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t value)
{
	uint64_t cur;
	int ret = qcow2_get_refcount(q, cluster, &cur);
	if (ret < 0)
		return ret;
	if (value > q->refcount_max)
		return -ERANGE;
	if (value == cur)
		return 0;
	if (value > cur)
		return qcow2_update_refcount(q, cluster, (int64_t)(value - cur));
	return qcow2_update_refcount(q, cluster, -(int64_t)(cur - value));
}

int64_t qcow2_alloc_clusters(struct qcow2 *q, uint64_t n)
{
	uint64_t start, rb_cov = 1ull << q->rb_bits;
	int ret;

	if (!n)
		return -EINVAL;
	for (;;) {
		if ((ret = find_free(q, n, &start)) < 0)
			return ret;
		/* Refcount blocks for the run first: they may land in it. */
		bool moved = false;
		for (uint64_t rti = start / rb_cov; rti <= (start + n - 1) / rb_cov; rti++) {
			uint64_t off;
			if ((ret = rt_block(q, rti, &off)) < 0)
				return ret;
			if (!off) {
				if ((ret = ensure_refblock(q, rti)) < 0)
					return ret;
				moved = true;
			}
		}
		if (moved) {
			uint64_t rc;
			bool still = true;
			for (uint64_t c = start; c < start + n && still; c++) {
				if ((ret = qcow2_get_refcount(q, c, &rc)) < 0)
					return ret;
				still = rc == 0;
			}
			if (!still)
				continue;
		}
		break;
	}
	for (uint64_t c = start; c < start + n; c++)
		if ((ret = qcow2_update_refcount(q, c, 1)) < 0)
			return ret;
	if (q->free_idx == start)
		q->free_idx = start + n;
	if (q->alloc_end < start + n)
		q->alloc_end = start + n;
	return (int64_t)(start << q->cluster_bits);
}

int64_t qcow2_alloc_bytes(struct qcow2 *q, uint64_t size)
{
	int ret;

	if (size > q->cs)
		return -EINVAL;
	uint64_t rc = 0;
	if (q->free_byte_off && cl_off(q, q->free_byte_off) &&
	    (ret = qcow2_get_refcount(q, q->free_byte_off >> q->cluster_bits, &rc)) < 0)
		return ret;
	if (q->free_byte_off && cl_off(q, q->free_byte_off) &&
	    cl_off(q, q->free_byte_off) + size <= q->cs && rc < q->refcount_max) {
		uint64_t off = q->free_byte_off;
		if ((ret = qcow2_update_refcount(q, off >> q->cluster_bits, 1)) < 0)
			return ret;
		q->free_byte_off = off + size;
		return (int64_t)off;
	}
	int64_t c = qcow2_alloc_clusters(q, 1);
	if (c < 0)
		return c;
	if (q->free_byte_off && cl_off(q, q->free_byte_off) && rc < q->refcount_max &&
	    (uint64_t)c == (q->free_byte_off & ~(q->cs - 1)) + q->cs) {
		/* The next cluster is ours too: continue into it. */
		uint64_t off = q->free_byte_off;
		if ((ret = qcow2_update_refcount(q, off >> q->cluster_bits, 1)) < 0)
			return ret;
		q->free_byte_off = off + size;
		return (int64_t)off;
	}
	q->free_byte_off = (uint64_t)c + size;
	return c;
}

int qcow2_free_range(struct qcow2 *q, uint64_t off, uint64_t len)
{
	for (uint64_t c = off >> q->cluster_bits; c < (off + len + q->cs - 1) >> q->cluster_bits; c++) {
		int ret = qcow2_update_refcount(q, c, -1);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void qcow2_compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len)
{
	unsigned shift = 62 - (q->cluster_bits - 8);
	uint64_t coff = entry & ((1ull << shift) - 1);
	uint64_t nsec = ((entry & ~QCOW_OFLAG_COMPRESSED & ~QCOW_OFLAG_COPIED) >> shift) + 1;
	*off = coff;
	*len = nsec * 512 - (coff & 511);
}

int qcow2_free_l2_entry(struct qcow2 *q, uint64_t entry)
{
	if (entry & QCOW_OFLAG_COMPRESSED) {
		uint64_t off, len;
		qcow2_compressed_range(q, entry, &off, &len);
		uint64_t s = off & ~511ull;
		return qcow2_free_range(q, s, (off + len) - s);
	}
	uint64_t host = entry & L2E_OFFSET_MASK;
	if (!host)
		return 0;
	return qcow2_update_refcount(q, host >> q->cluster_bits, -1);
}
