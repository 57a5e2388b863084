/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qcow2 header and what changes it: single fields, the dirty and
 * corrupt bits, the metadata-overlap check, the whole first cluster with
 * its extensions (create, change of backing file), and the size (resize).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2_int.h"

/* ---- the header ---- */

int qcow2_write_header_field(struct qcow2 *q, unsigned off, const void *data, size_t len)
{
	return file_pwrite(q->f, data, len, off);
}

static int write_incompat(struct qcow2 *q)
{
	uint8_t v[8];
	if (q->version < 3)
		return 0;
	put_be64(v, q->incompat);
	int ret = qcow2_write_header_field(q, 72, v, 8);
	return ret < 0 ? ret : file_flush(q->f);
}

int qcow2_mark_dirty(struct qcow2 *q)
{
	if (q->incompat & QCOW2_INCOMPAT_DIRTY)
		return 0;
	q->incompat |= QCOW2_INCOMPAT_DIRTY;
	return write_incompat(q);
}

int qcow2_mark_clean(struct qcow2 *q)
{
	if (!(q->incompat & QCOW2_INCOMPAT_DIRTY))
		return 0;
	int ret = qcow2_flush_caches(q, true);
	if (ret < 0)
		return ret;
	q->incompat &= ~QCOW2_INCOMPAT_DIRTY;
	q->lazy = false;
	return write_incompat(q);
}

int qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
{
	va_list ap;
	char msg[200];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	blk_set_error(q->b, "qcow2: image is corrupt: %s", msg);
	if (q->rw && !q->corrupt && q->version >= 3) {
		q->incompat |= QCOW2_INCOMPAT_CORRUPT;
		write_incompat(q);
	}
	q->corrupt = true;
	return -EIO;
}

static bool overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return al && bl && a < b + bl && b < a + al;
}

bool qcow2_overlaps_metadata(struct qcow2 *q, uint64_t off, uint64_t len)
{
	if (overlap(off, len, 0, q->cs) ||
	    overlap(off, len, q->l1_off, (uint64_t)q->l1_size * 8) ||
	    overlap(off, len, q->rt_off, (uint64_t)q->rt_clusters << q->cluster_bits) ||
	    overlap(off, len, q->snap_off, q->snap_size) ||
	    overlap(off, len, q->bm_dir_off, q->has_bitmaps ? q->bm_dir_size : 0))
		return true;
	for (uint64_t i = 0; i < q->rt_size; i++)
		if (overlap(off, len, q->rt[i] & REFT_OFFSET_MASK, (q->rt[i] & REFT_OFFSET_MASK) ? q->cs : 0))
			return true;
	for (uint32_t i = 0; i < q->l1_size; i++)
		if (overlap(off, len, q->l1[i] & L1E_OFFSET_MASK, (q->l1[i] & L1E_OFFSET_MASK) ? q->cs : 0))
			return true;
	for (int i = 0; i < q->nb_snaps; i++)
		if (overlap(off, len, q->snaps[i].l1_off, (uint64_t)q->snaps[i].l1_size * 8))
			return true;
	return false;
}

static const struct { uint8_t type, bit; const char *name; } features[] = {
	{ 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" }, { 0, 2, "external data file" },
	{ 0, 3, "compression type" }, { 0, 4, "extended L2 entries" },
	{ 1, 0, "lazy refcounts" }, { 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
};

static size_t ext_put(uint8_t *buf, size_t pos, size_t cap, uint32_t type, const void *data, size_t len)
{
	size_t padded = (len + 7) & ~(size_t)7;
	if (pos + 8 + padded > cap)
		return 0;
	put_be32(buf + pos, type);
	put_be32(buf + pos + 4, (uint32_t)len);
	memcpy(buf + pos + 8, data, len);
	memset(buf + pos + 8 + len, 0, padded - len);
	return pos + 8 + padded;
}

/* The first cluster: header, extensions, backing file name. */
int qcow2_build_header(struct qcow2 *q, uint64_t size, const char *bname, const char *bfmt,
		       uint8_t *buf, size_t cap)
{
	size_t pos;

	memset(buf, 0, cap);
	put_be32(buf, QCOW2_MAGIC);
	put_be32(buf + 4, q->version);
	put_be32(buf + 20, q->cluster_bits);
	put_be64(buf + 24, size);
	put_be32(buf + 36, q->l1_size);
	put_be64(buf + 40, q->l1_off);
	put_be64(buf + 48, q->rt_off);
	put_be32(buf + 56, q->rt_clusters);
	put_be32(buf + 60, (uint32_t)q->nb_snaps);
	put_be64(buf + 64, q->snap_off);
	if (q->version >= 3) {
		put_be64(buf + 72, q->incompat);
		put_be64(buf + 80, q->compat);
		put_be64(buf + 88, q->autoclear);
		put_be32(buf + 96, q->refcount_order);
		put_be32(buf + 100, q->header_length);
		if (q->header_length > 104) {
			buf[104] = q->compression_type;
			if (q->header_tail)
				memcpy(buf + 105, q->header_tail, q->header_length - 105);
		}
		pos = q->header_length;
	} else {
		pos = 72;
	}
	if (bfmt && !(pos = ext_put(buf, pos, cap, QCOW2_EXT_BACKING_FMT, bfmt, strlen(bfmt))))
		return -ENOSPC;
	size_t blen = bname ? strlen(bname) : 0;
	if (q->version >= 3) {
		uint8_t ft[sizeof(features) / sizeof(features[0]) * 48];
		memset(ft, 0, sizeof(ft));
		for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
			ft[i * 48] = features[i].type;
			ft[i * 48 + 1] = features[i].bit;
			memcpy(ft + i * 48 + 2, features[i].name, strlen(features[i].name));
		}
		/* Only when it leaves room for the rest. */
		if (pos + 8 + sizeof(ft) + q->kept_exts_len + 8 + blen <= cap)
			pos = ext_put(buf, pos, cap, QCOW2_EXT_FEATURES, ft, sizeof(ft));
	}
	if (pos + q->kept_exts_len + 8 + blen > cap)
		return -ENOSPC;
	if (q->kept_exts_len)
		memcpy(buf + pos, q->kept_exts, q->kept_exts_len);
	pos += q->kept_exts_len;
	pos += 8;   /* the end marker: zeroes */
	if (bname) {
		put_be64(buf + 8, pos);
		put_be32(buf + 16, (uint32_t)blen);
		memcpy(buf + pos, bname, blen);
	}
	return 0;
}

int qcow2_rewrite_header(struct qcow2 *q, const char *bname, const char *bfmt)
{
	uint8_t *buf = malloc(q->cs);
	if (!buf)
		return -ENOMEM;
	int ret = qcow2_build_header(q, q->b->size, bname, bfmt, buf, q->cs);
	if (ret == 0)
		ret = file_pwrite(q->f, buf, q->cs, 0);
	if (ret == 0)
		ret = file_flush(q->f);
	free(buf);
	return ret;
}

/* Before any change: the dirty bit under lazy refcounts, the bitmaps. */
int qcow2_prepare_write(struct qcow2 *q)
{
	int ret;

	if (q->corrupt)
		return -EIO;
	if ((q->compat & QCOW2_COMPAT_LAZY) && !q->lazy) {
		if ((ret = qcow2_mark_dirty(q)) < 0)
			return ret;
		q->lazy = true;
	}
	return qcow2_bitmaps_prepare(q);
}

static int write_size(struct qcow2 *q, uint64_t size)
{
	uint8_t v[8];
	put_be64(v, size);
	int ret = qcow2_write_header_field(q, 24, v, 8);
	return ret < 0 ? ret : file_flush(q->f);
}

int qcow2_truncate(struct blk *b, uint64_t size, bool shrink, char *err, size_t errlen)
{
	struct qcow2 *q = QS(b);
	int ret;

	(void)shrink;
	pthread_mutex_lock(&q->lock);
	if ((ret = qcow2_prepare_write(q)) < 0) {
		errf(err, errlen, "the image is corrupt");
		goto out;
	}
	if (q->has_bitmaps) {
		errf(err, errlen, "Can't resize an image which has bitmaps");
		ret = -ENOTSUP;
		goto out;
	}
	if (size > (1ull << 62)) {
		errf(err, errlen, "Image size too large");
		ret = -EFBIG;
		goto out;
	}
	if (size < b->size) {
		if (q->nb_snaps) {
			errf(err, errlen, "Can't shrink an image which has snapshots");
			ret = -ENOTSUP;
			goto out;
		}
		/* Drop everything past the new end, then the size. */
		uint64_t from = cl_round_up(q, size);
		if (from < b->size && (ret = qcow2_zero_range(q, from, b->size - from, true, 2)) < 0) {
			errf(err, errlen, "cannot free the clusters past the new end: %s", strerror(-ret));
			goto out;
		}
		if ((ret = qcow2_flush_caches(q, true)) < 0 || (ret = write_size(q, size)) < 0) {
			errf(err, errlen, "cannot write the new size: %s", strerror(-ret));
			goto out;
		}
		b->size = size;
		goto out;
	}
	uint64_t old = b->size;
	if ((ret = qcow2_grow_l1(q, qcow2_l1_entries_for(q, size))) < 0) {
		errf(err, errlen, "cannot grow the L1 table: %s", ret == -EFBIG ? "the disk would be too large for this cluster size" : strerror(-ret));
		goto out;
	}
	if (q->has_df && (ret = q->df_ro ? -EROFS : file_truncate(&q->df, size)) < 0) {
		errf(err, errlen, "cannot resize the data file: %s", strerror(-ret));
		goto out;
	}
	if ((ret = qcow2_flush_caches(q, true)) < 0 || (ret = write_size(q, size)) < 0) {
		errf(err, errlen, "cannot write the new size: %s", strerror(-ret));
		goto out;
	}
	b->size = size;
	/* What an earlier shrink left in the last cluster must read as zeroes. */
	if (cl_off(q, old)) {
		uint64_t n = cl_round_up(q, old) - old;
		if (n > size - old)
			n = size - old;
		if (n && (ret = qcow2_zero_range(q, old, n, false, 0)) < 0)
			errf(err, errlen, "cannot zero the old tail: %s", strerror(-ret));
	}
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

