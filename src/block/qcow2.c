/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qcow2 driver: opening (versions 2 and 3) with every field checked,
 * lazy refcounts, and the block.h entry points (each under the image's
 * mutex).  Creating is in qcow2_create.c, the header and resizing in
 * qcow2_header.c, mapping in qcow2_cluster.c, refcounts in
 * qcow2_refcount.c, snapshots in qcow2_snapshot.c, persistent bitmaps in
 * qcow2_bitmap.c, the check in qcow2_check.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_int.h"

static int qcow2_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && be32_at(buf) == QCOW2_MAGIC ? 100 : 0;
}

/* ---- opening ---- */

static int read_exts(struct qcow2 *q, const uint8_t *hdr, size_t start, size_t end,
		     char *err, size_t errlen)
{
	struct blk *b = q->b;
	size_t pos = start;

	while (pos + 8 <= end) {
		uint32_t type = be32_at(hdr + pos), len = be32_at(hdr + pos + 4);
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > end - pos - 8) {
			errf(err, errlen, "%s: qcow2 header extension %#x is longer than the header cluster", b->filename, type);
			return -EINVAL;
		}
		const uint8_t *d = hdr + pos + 8;
		size_t next = pos + 8 + ((len + 7) & ~7u);
		switch (type) {
		case QCOW2_EXT_BACKING_FMT:
			free(b->backing_fmt);
			b->backing_fmt = strndup((const char *)d, len);
			if (!b->backing_fmt || strlen(b->backing_fmt) != len) {
				errf(err, errlen, "%s: invalid backing format header extension", b->filename);
				return -EINVAL;
			}
			break;
		case QCOW2_EXT_FEATURES:
			break;   /* we write our own */
		case QCOW2_EXT_CRYPTO:
			errf(err, errlen, "%s: encrypted qcow2 images are not supported", b->filename);
			return -ENOTSUP;
		case QCOW2_EXT_DATAFILE:
			free(q->df_name);
			q->df_name = strndup((const char *)d, len);
			if (!q->df_name || !len || strlen(q->df_name) != len) {
				errf(err, errlen, "%s: invalid data file name header extension", b->filename);
				return -EINVAL;
			}
			goto keep;
		case QCOW2_EXT_BITMAPS:
			if (len < 24) {
				errf(err, errlen, "%s: bitmaps header extension is too short", b->filename);
				return -EINVAL;
			}
			q->nb_bitmaps = be32_at(d);
			q->bm_dir_size = be64_at(d + 8);
			q->bm_dir_off = be64_at(d + 16);
			if (q->autoclear & QCOW2_AUTOCLEAR_BITMAPS) {
				if (!q->nb_bitmaps || q->nb_bitmaps > 65535 || cl_off(q, q->bm_dir_off) ||
				    q->bm_dir_size > (64u << 20) || q->bm_dir_off >= QCOW2_MAX_HOST_OFFSET) {
					errf(err, errlen, "%s: invalid bitmaps header extension", b->filename);
					return -EINVAL;
				}
				q->has_bitmaps = true;
			}
			__attribute__((fallthrough));   /* kept as it is */
		default:
keep: {
			size_t n = next - pos;
			if (next > end)
				n = end - pos;
			uint8_t *k = realloc(q->kept_exts, q->kept_exts_len + ((n + 7) & ~(size_t)7));
			if (!k)
				return -ENOMEM;
			q->kept_exts = k;
			memset(k + q->kept_exts_len, 0, (n + 7) & ~(size_t)7);
			memcpy(k + q->kept_exts_len, hdr + pos, n);
			q->kept_exts_len += (n + 7) & ~(size_t)7;
			break;
		}
		}
		pos = next;
	}
	return 0;
}

static void unsupported_features(const uint8_t *hdr, size_t start, size_t end, uint64_t bits,
				 char *out, size_t outlen)
{
	size_t pos = start, o = 0;

	out[0] = 0;
	while (pos + 8 <= end) {
		uint32_t type = be32_at(hdr + pos), len = be32_at(hdr + pos + 4);
		if (type == QCOW2_EXT_END || len > end - pos - 8)
			break;
		if (type == QCOW2_EXT_FEATURES) {
			for (size_t i = 0; i + 48 <= len; i += 48) {
				const uint8_t *e = hdr + pos + 8 + i;
				if (e[0] == 0 && e[1] < 64 && (bits & (1ull << e[1]))) {
					bits &= ~(1ull << e[1]);
					o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0, "%s%.46s",
							      o ? ", " : "", (const char *)e + 2);
				}
			}
		}
		pos += 8 + ((len + 7) & ~7u);
	}
	for (int i = 0; i < 64; i++)
		if (bits & (1ull << i))
			o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0, "%sUnknown incompatible feature: %llx",
					      o ? ", " : "", 1ull << i);
}

static void qcow2_close(struct blk *b);

static int qcow2_open(struct blk *b, char *err, size_t errlen)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	uint8_t h[104];
	uint8_t *hdr = NULL;
	int ret;

	if (!q)
		return -ENOMEM;
	b->priv = q;
	q->b = b;
	q->f = &b->file;
	q->rw = !b->readonly;
	q->no_backing = b->no_backing;
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->rd_lock, NULL);
	pthread_cond_init(&q->rd_cond, NULL);
	memset(h, 0, sizeof(h));
	if ((ret = file_pread(q->f, h, sizeof(h), 0)) < 0) {
		errf(err, errlen, "%s: cannot read the header: %s", b->filename, strerror(-ret));
		goto fail;
	}
	ret = -EINVAL;
	if (be32_at(h) != QCOW2_MAGIC) {
		errf(err, errlen, "%s: not a qcow2 image", b->filename);
		goto fail;
	}
	q->version = be32_at(h + 4);
	if (q->version != 2 && q->version != 3) {
		errf(err, errlen, "%s: unsupported qcow2 version %u", b->filename, q->version);
		ret = -ENOTSUP;
		goto fail;
	}
	q->cluster_bits = be32_at(h + 20);
	if (q->cluster_bits < 9 || q->cluster_bits > 21) {
		errf(err, errlen, "%s: cluster size must be between 512 bytes and 2 MiB (cluster_bits %u)",
		     b->filename, q->cluster_bits);
		goto fail;
	}
	q->cs = 1ull << q->cluster_bits;
	b->size = be64_at(h + 24);
	if (be32_at(h + 32)) {
		errf(err, errlen, "%s: encrypted qcow2 images are not supported", b->filename);
		ret = -ENOTSUP;
		goto fail;
	}
	q->l1_size = be32_at(h + 36);
	q->l1_off = be64_at(h + 40);
	q->rt_off = be64_at(h + 48);
	q->rt_clusters = be32_at(h + 56);
	q->nb_snaps = (int)be32_at(h + 60);
	q->snap_off = be64_at(h + 64);
	if (q->version >= 3) {
		q->incompat = be64_at(h + 72);
		q->compat = be64_at(h + 80);
		q->autoclear = be64_at(h + 88);
		q->refcount_order = be32_at(h + 96);
		q->header_length = be32_at(h + 100);
		if (q->header_length < 104 || q->header_length % 8 || q->header_length > q->cs) {
			errf(err, errlen, "%s: invalid qcow2 header length %u", b->filename, q->header_length);
			goto fail;
		}
	} else {
		q->refcount_order = 4;
		q->header_length = 72;
	}
	hdr = calloc(1, q->cs);
	if (!hdr || (ret = file_pread(q->f, hdr, q->cs, 0)) < 0) {
		ret = hdr ? ret : -ENOMEM;
		errf(err, errlen, "%s: cannot read the header", b->filename);
		goto fail;
	}
	ret = -EINVAL;
	if (q->incompat & ~QCOW2_INCOMPAT_KNOWN) {
		char names[256];
		unsupported_features(hdr, q->header_length, q->cs, q->incompat & ~QCOW2_INCOMPAT_KNOWN,
				     names, sizeof(names));
		errf(err, errlen, "%s: Unsupported qcow2 feature(s): %s", b->filename, names);
		ret = -ENOTSUP;
		goto fail;
	}
	if (q->header_length > 104)
		q->compression_type = hdr[104];
	if (q->header_length > 105) {
		q->header_tail = malloc(q->header_length - 105);
		if (!q->header_tail)
			goto fail;
		memcpy(q->header_tail, hdr + 105, q->header_length - 105);
	}
	if (q->compression_type > 1 ||
	    (!!(q->incompat & QCOW2_INCOMPAT_COMPRESS) != (q->compression_type != 0))) {
		errf(err, errlen, "%s: invalid compression type %u", b->filename, q->compression_type);
		goto fail;
	}
	if (q->refcount_order > 6) {
		errf(err, errlen, "%s: refcount width may not exceed 64 bits (order %u)", b->filename, q->refcount_order);
		goto fail;
	}
	q->refcount_bits = 1u << q->refcount_order;
	q->refcount_max = q->refcount_bits == 64 ? UINT64_MAX : (1ull << q->refcount_bits) - 1;
	q->rb_bits = q->cluster_bits + 3 - q->refcount_order;
	q->ext_l2 = q->incompat & QCOW2_INCOMPAT_EXTL2;
	if (q->ext_l2 && q->cluster_bits < 14) {
		errf(err, errlen, "%s: extended L2 entries need clusters of at least 16 KiB", b->filename);
		goto fail;
	}
	q->l2_entry_size = q->ext_l2 ? 16 : 8;
	q->l2_bits = q->cluster_bits - (q->ext_l2 ? 4 : 3);
	q->sc_size = q->cs / 32;
	/* Metadata locations and sizes. */
	if (cl_off(q, q->l1_off) || cl_off(q, q->rt_off) || cl_off(q, q->snap_off)) {
		errf(err, errlen, "%s: qcow2 metadata offset not aligned to a cluster", b->filename);
		goto fail;
	}
	if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		errf(err, errlen, "%s: active L1 table too large (%u entries)", b->filename, q->l1_size);
		ret = -EFBIG;
		goto fail;
	}
	if (b->size > (UINT64_MAX >> 1) || qcow2_l1_entries_for(q, b->size) > q->l1_size) {
		errf(err, errlen, "%s: L1 table is too small for the disk size", b->filename);
		goto fail;
	}
	if (q->l1_size && (q->l1_off < q->cs || q->l1_off >= QCOW2_MAX_HOST_OFFSET)) {
		errf(err, errlen, "%s: invalid L1 table offset", b->filename);
		goto fail;
	}
	if (!q->rt_clusters || (uint64_t)q->rt_clusters << q->cluster_bits > QCOW2_MAX_RT_BYTES ||
	    q->rt_off < q->cs || q->rt_off >= QCOW2_MAX_HOST_OFFSET) {
		errf(err, errlen, "%s: invalid refcount table (offset %#llx, %u clusters)", b->filename,
		     (unsigned long long)q->rt_off, q->rt_clusters);
		goto fail;
	}
	if (q->nb_snaps < 0 || q->nb_snaps > QCOW2_MAX_SNAPSHOTS) {
		errf(err, errlen, "%s: too many snapshots", b->filename);
		goto fail;
	}
	if ((q->incompat & QCOW2_INCOMPAT_CORRUPT) && q->rw && !blk_opening_for_check) {
		errf(err, errlen, "%s: qcow2 image is corrupt; cannot be opened read/write (qemu-img check -r all repairs it)",
		     b->filename);
		ret = -EACCES;
		goto fail;
	}
	/* Extensions and the backing file name. */
	uint64_t boff = be64_at(h + 8);
	uint32_t bsize = be32_at(h + 16);
	size_t ext_end = q->cs;
	if (boff) {
		if (bsize > QCOW2_MAX_BACKING_NAME || boff >= q->cs || bsize > q->cs - boff || !bsize) {
			errf(err, errlen, "%s: invalid backing file name (offset %llu, length %u)", b->filename,
			     (unsigned long long)boff, bsize);
			goto fail;
		}
		if (boff < ext_end && boff >= q->header_length)
			ext_end = (size_t)boff;
		b->backing_name = strndup((const char *)hdr + boff, bsize);
		if (!b->backing_name || strlen(b->backing_name) != bsize) {
			errf(err, errlen, "%s: invalid backing file name", b->filename);
			goto fail;
		}
	}
	if ((ret = read_exts(q, hdr, q->header_length, ext_end, err, errlen)) < 0)
		goto fail;
	ret = -EINVAL;
	if (q->incompat & QCOW2_INCOMPAT_DATAFILE) {
		if (!q->df_name) {
			errf(err, errlen, "%s: the image needs an external data file but names none", b->filename);
			goto fail;
		}
		if (q->nb_snaps) {
			errf(err, errlen, "%s: internal snapshots with an external data file", b->filename);
			goto fail;
		}
		/* As QEMU does, the name is used as it is: relative to the
		 * working directory, not to the image's (unlike backing files). */
		char *dp = strdup(q->df_name);
		char e2[512];
		/* Opened alone (no_backing: vmon-img check, the fuzzer), the image
		 * never writes to another file: its data file is read-only then,
		 * except to qcow2_create, which made it. */
		q->df_ro = !q->rw || (q->no_backing && !b->creating);
		if (!dp || (ret = file_open(&q->df, dp, !q->df_ro, b->cache == BLK_CACHE_NONE, e2, sizeof(e2))) < 0) {
			errf(err, errlen, "%s: cannot open the data file: %s", b->filename, dp ? e2 : "out of memory");
			free(dp);
			ret = ret < 0 ? ret : -ENOMEM;
			goto fail;
		}
		free(dp);
		q->has_df = true;
		q->df_raw = q->autoclear & QCOW2_AUTOCLEAR_DATA_RAW;
		ret = -EINVAL;
	} else if (q->df_name) {
		free(q->df_name);   /* a name without the bit means nothing */
		q->df_name = NULL;
	}
	if (!(q->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
		q->has_bitmaps = false;
	if (q->rw) {
		/* Unknown autoclear bits go when we write. */
		q->autoclear &= QCOW2_AUTOCLEAR_BITMAPS | QCOW2_AUTOCLEAR_DATA_RAW;
	}
	/* L1 and refcount tables. */
	q->l1 = calloc(q->l1_size ? q->l1_size : 1, 8);
	q->rt_size = (uint64_t)q->rt_clusters << (q->cluster_bits - 3);
	q->rt = calloc(q->rt_size, 8);
	if (!q->l1 || !q->rt) {
		ret = -ENOMEM;
		goto fail;
	}
	if ((ret = file_pread(q->f, q->l1, (size_t)q->l1_size * 8, q->l1_off)) < 0 ||
	    (ret = file_pread(q->f, q->rt, q->rt_size * 8, q->rt_off)) < 0) {
		errf(err, errlen, "%s: cannot read the qcow2 tables: %s", b->filename, strerror(-ret));
		goto fail;
	}
	for (uint32_t i = 0; i < q->l1_size; i++)
		q->l1[i] = be64toh(q->l1[i]);
	for (uint64_t i = 0; i < q->rt_size; i++)
		q->rt[i] = be64toh(q->rt[i]);
	if ((ret = qcow2_read_snapshots(q, err, errlen)) < 0)
		goto fail;
	/* Caches: 4 MiB of L2 tables (at least 16), 1 MiB of refcount blocks. */
	int nl2 = (int)((4u << 20) >> q->cluster_bits), nrb = (int)((1u << 20) >> q->cluster_bits);
	if (nl2 < 16)
		nl2 = 16;
	if (nrb < 16)
		nrb = 16;
	if (nl2 > 1024)
		nl2 = 1024;
	if (nrb > 256)
		nrb = 256;
	if ((ret = qcache_init(&q->l2c, nl2, q->cs, true)) < 0 ||
	    (ret = qcache_init(&q->rbc, nrb, q->cs, false)) < 0)
		goto fail;
	if (posix_memalign((void **)&q->dbuf, 4096, q->cs) || posix_memalign((void **)&q->tmp, 4096, q->cs) ||
	    !(q->cbuf = malloc(2 * q->cs + 1024))) {
		ret = -ENOMEM;
		goto fail;
	}
	free(hdr);
	hdr = NULL;
	int64_t fsz = file_size(q->f);
	q->file_end = fsz > 0 ? (uint64_t)fsz : 0;
	if (q->rw && (q->incompat & QCOW2_INCOMPAT_DIRTY) && !blk_opening_for_check) {
		/* Killed with lazy refcounts: rebuild them before anything else. */
		struct blk_check_result r;
		memset(&r, 0, sizeof(r));
		ret = qcow2_check(q, BLK_FIX_LEAKS | BLK_FIX_ERRORS, &r);
		int bad = r.corruptions - r.corruptions_fixed;
		blk_check_result_free(&r);
		if (ret < 0 || bad > 0) {
			errf(err, errlen, "%s: could not repair the dirty qcow2 image", b->filename);
			ret = ret < 0 ? ret : -EIO;
			goto fail;
		}
		if ((ret = qcow2_mark_clean(q)) < 0)
			goto fail;
	}
	if (q->rw && q->autoclear != (q->version >= 3 ? be64_at(h + 88) : 0)) {
		uint8_t v[8];
		put_be64(v, q->autoclear);
		if ((ret = qcow2_write_header_field(q, 88, v, 8)) < 0)
			goto fail;
	}
	return 0;
fail:
	free(hdr);
	qcow2_close(b);
	b->priv = NULL;
	return ret < 0 ? ret : -EINVAL;
}

static void qcow2_close(struct blk *b)
{
	struct qcow2 *q = QS(b);

	if (!q)
		return;
	if (q->rw && q->l2c.e && !q->corrupt) {
		qcow2_flush_caches(q, true);
		if (q->lazy)
			qcow2_mark_clean(q);
	}
	qcache_free(&q->l2c);
	qcache_free(&q->rbc);
	if (q->has_df) {
		if (!q->df_ro)
			file_flush(&q->df);
		file_close(&q->df);
	}
	free(q->df_name);
	qcow2_free_snapshots(q);
	for (int i = 0; i < q->nbms; i++)
		free(q->bms[i].table);
	free(q->bms);
	free(q->l1);
	free(q->rt);
	free(q->kept_exts);
	free(q->header_tail);
	free(q->dbuf);
	free(q->cbuf);
	free(q->tmp);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->rd_lock);
	pthread_cond_destroy(&q->rd_cond);
	free(q);
	b->priv = NULL;
}

/* ---- entry points ---- */

static int qcow2_preadv(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return qcow2_readv_unlocked(QS(b), iov, iovcnt, off);
}

static int qcow2_pwritev(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_prepare_write(q);
	if (ret >= 0)
		ret = qcow2_bitmaps_mark(q, off, iov_size(iov, iovcnt));
	if (ret >= 0)
		ret = qcow2_writev(q, iov, iovcnt, off);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_flush(struct blk *b)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = q->corrupt ? -EIO : 0;
	if (!ret && q->has_df && !q->df_ro)
		ret = file_flush(&q->df);
	if (!ret)
		ret = qcow2_flush_caches(q, true);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_discard(struct blk *b, uint64_t off, uint64_t len)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_prepare_write(q);
	if (ret >= 0)
		ret = qcow2_bitmaps_mark(q, off, len);
	if (ret >= 0)
		ret = qcow2_zero_range(q, off, len, true, 1);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_prepare_write(q);
	if (ret >= 0)
		ret = qcow2_bitmaps_mark(q, off, len);
	if (ret >= 0)
		ret = qcow2_zero_range(q, off, len, may_unmap, 0);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_block_status(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_status(q, off, len, st);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_write_compressed(struct blk *b, const void *buf, size_t len, uint64_t off)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = q->has_df ? -ENOTSUP : qcow2_prepare_write(q);
	if (ret >= 0)
		ret = qcow2_bitmaps_mark(q, off, len);
	if (ret >= 0)
		ret = qcow2_write_compressed_cluster(q, buf, len, off);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int blk_compress(struct blk *b, const void *in, size_t len, void *out, size_t *clen)
{
	*clen = 0;
	if (b->drv != &blk_qcow2_driver)
		return -ENOTSUP;
	struct qcow2 *q = QS(b);
	if (len > q->cs)
		return -EINVAL;
	if (q->has_df)
		return 0;   /* no compressed clusters in an external data file: write it plain */
	*clen = qcow2_compress(q, in, len, out);
	return 0;
}

int blk_write_compressed_data(struct blk *b, uint64_t off, const void *cdata, size_t clen)
{
	if (b->drv != &blk_qcow2_driver)
		return -ENOTSUP;
	if (b->readonly)
		return -EROFS;
	if (off >= b->size)
		return -EINVAL;
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_prepare_write(q);
	if (ret >= 0)
		ret = qcow2_bitmaps_mark(q, off, q->cs < b->size - off ? q->cs : b->size - off);
	if (ret >= 0)
		ret = qcow2_write_compressed_data(q, off, cdata, clen);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_change_backing(struct blk *b, const char *name, const char *fmt)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = q->corrupt ? -EIO : 0;
	if (!ret && name && strlen(name) > QCOW2_MAX_BACKING_NAME)
		ret = -ENAMETOOLONG;
	if (!ret)
		ret = qcow2_flush_caches(q, true);
	if (!ret)
		ret = qcow2_rewrite_header(q, name, name ? fmt : NULL);
	if (!ret) {
		free(b->backing_name);
		free(b->backing_fmt);
		b->backing_name = name ? strdup(name) : NULL;
		b->backing_fmt = name && fmt ? strdup(fmt) : NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_make_empty(struct blk *b)
{
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_prepare_write(q);
	if (ret >= 0)
		ret = qcow2_bitmaps_mark(q, 0, b->size);
	if (ret >= 0 && b->size)
		ret = qcow2_zero_range(q, 0, b->size, true, 2);
	if (ret >= 0)
		ret = qcow2_flush_caches(q, true);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_info(struct blk *b, struct blk_info *info)
{
	struct qcow2 *q = QS(b);
	info->cluster_size = (uint32_t)q->cs;
	info->version = (int)q->version;
	info->refcount_bits = q->refcount_bits;
	info->lazy_refcounts = q->compat & QCOW2_COMPAT_LAZY;
	info->corrupt = q->incompat & QCOW2_INCOMPAT_CORRUPT;
	info->dirty = q->incompat & QCOW2_INCOMPAT_DIRTY;
	info->extended_l2 = q->ext_l2;
	info->zstd = q->compression_type == 1;
	info->has_bitmaps = q->has_bitmaps;
	info->nb_bitmaps = q->has_bitmaps ? (int)q->nb_bitmaps : 0;
	info->nb_snapshots = q->nb_snaps;
	info->data_file = q->has_df ? q->df_name : NULL;
	info->data_file_raw = q->df_raw;
	return 0;
}

const struct blk_driver blk_qcow2_driver = {
	.name = "qcow2",
	.probe = qcow2_probe,
	.open = qcow2_open,
	.close = qcow2_close,
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.block_status = qcow2_block_status,
	.truncate = qcow2_truncate,
	.create = qcow2_create,
	.write_compressed = qcow2_write_compressed,
	.change_backing = qcow2_change_backing,
	.make_empty = qcow2_make_empty,
	.info = qcow2_info,
};

