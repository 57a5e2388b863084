/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qcow2 cluster mapping: L1/L2 lookup and allocation, the write path
 * (copy-on-write from the old cluster, a compressed cluster or the backing
 * file), zero clusters and discard, compressed clusters (zlib and zstd),
 * extended L2 entries, and block status.  The read path is qcow2_read.c.
 *
 * Write order for a new cluster: the data, then (in the L2 cache) the entry;
 * the cache writes that table only after the refcounts that count the
 * cluster (see qcow2_cache.c).  A new L2 table is written and its refcount
 * synced before the L1 entry (written through) points at it.  When an
 * entry drops a cluster, the table is written and synced before the
 * refcount goes down.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "block/qcow2_int.h"

uint64_t qcow2_l1_entries_for(const struct qcow2 *q, uint64_t size)
{
	uint64_t per_l1 = q->cs << q->l2_bits;
	return (size + per_l1 - 1) / per_l1;
}

/* The L2 table for voff, pinned in the cache, or *l2 = NULL when none. */
int qcow2_get_l2(struct qcow2 *q, uint64_t voff, uint8_t **l2)
{
	uint64_t l1i = voff >> (q->cluster_bits + q->l2_bits);

	*l2 = NULL;
	if (l1i >= q->l1_size)
		return 0;
	uint64_t off = q->l1[l1i] & L1E_OFFSET_MASK;
	if (!off)
		return 0;
	if (cl_off(q, off))
		return qcow2_signal_corruption(q, "L2 table offset %#llx unaligned (L1 index %llu)",
					       (unsigned long long)off, (unsigned long long)l1i);
	if (off < q->cs || off >= QCOW2_MAX_HOST_OFFSET)
		return qcow2_signal_corruption(q, "L2 table offset %#llx is invalid",
					       (unsigned long long)off);
	return qcache_get(q, &q->l2c, off, true, l2);
}

int qcow2_write_l1_entry(struct qcow2 *q, uint32_t idx)
{
	uint8_t v[8];
	put_be64(v, q->l1[idx]);
	return file_pwrite(q->f, v, 8, q->l1_off + (uint64_t)idx * 8);
}

/* An L2 table of our own (refcount 1) for voff, allocating or copying one. */
int qcow2_get_l2_alloc(struct qcow2 *q, uint64_t voff, uint8_t **l2)
{
	uint64_t l1i = voff >> (q->cluster_bits + q->l2_bits);
	int ret;

	*l2 = NULL;
	if (l1i >= q->l1_size && (ret = qcow2_grow_l1(q, l1i + 1)) < 0)
		return ret;
	uint64_t e = q->l1[l1i], old = e & L1E_OFFSET_MASK;
	if (old && (e & QCOW_OFLAG_COPIED))
		return qcow2_get_l2(q, voff, l2);
	if (old && cl_off(q, old))
		return qcow2_signal_corruption(q, "L2 table offset %#llx unaligned", (unsigned long long)old);
	int64_t n = qcow2_alloc_clusters(q, 1);
	if (n < 0)
		return (int)n;
	uint8_t *t;
	if ((ret = qcache_get(q, &q->l2c, (uint64_t)n, false, &t)) < 0)
		return ret;
	if (old) {
		uint8_t *o;
		if ((ret = qcache_get(q, &q->l2c, old, true, &o)) < 0) {
			qcache_put(&q->l2c, t, false);
			return ret;
		}
		memcpy(t, o, q->cs);
		qcache_put(&q->l2c, o, false);
	}
	/* The table, then its refcount, on disk before the L1 entry. */
	if ((ret = file_pwrite(q->f, t, q->cs, (uint64_t)n)) < 0 ||
	    (ret = qcache_writeback(q, &q->rbc)) < 0 ||
	    (!q->lazy && (ret = file_flush(q->f)) < 0)) {
		qcache_put(&q->l2c, t, false);
		return ret;
	}
	q->l1[l1i] = (uint64_t)n | QCOW_OFLAG_COPIED;
	if ((ret = qcow2_write_l1_entry(q, (uint32_t)l1i)) < 0) {
		qcache_put(&q->l2c, t, false);
		return ret;
	}
	if (old && (ret = qcow2_update_refcount(q, old >> q->cluster_bits, -1)) < 0) {
		qcache_put(&q->l2c, t, false);
		return ret;
	}
	*l2 = t;
	return 0;
}

int qcow2_grow_l1(struct qcow2 *q, uint64_t n)
{
	int ret;

	if (n <= q->l1_size)
		return 0;
	if (n * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	uint64_t bytes = n * 8, ncl = (bytes + q->cs - 1) >> q->cluster_bits;
	uint8_t *buf = calloc(1, ncl << q->cluster_bits);
	uint64_t *nl1 = calloc(n, 8);
	if (!buf || !nl1) {
		free(buf);
		free(nl1);
		return -ENOMEM;
	}
	memcpy(nl1, q->l1, (size_t)q->l1_size * 8);
	for (uint64_t i = 0; i < n; i++)
		put_be64(buf + i * 8, nl1[i]);
	int64_t off = qcow2_alloc_clusters(q, ncl);
	if (off < 0) {
		ret = (int)off;
		goto out;
	}
	if ((ret = file_pwrite(q->f, buf, ncl << q->cluster_bits, (uint64_t)off)) < 0 ||
	    (ret = qcache_writeback(q, &q->rbc)) < 0 || (ret = file_flush(q->f)) < 0)
		goto out;
	uint8_t hdr[12];
	put_be32(hdr, (uint32_t)n);
	put_be64(hdr + 4, (uint64_t)off);
	if ((ret = qcow2_write_header_field(q, 36, hdr, 12)) < 0 || (ret = file_flush(q->f)) < 0)
		goto out;
	uint64_t old_off = q->l1_off, old_bytes = (uint64_t)q->l1_size * 8;
	free(q->l1);
	q->l1 = nl1;
	nl1 = NULL;
	q->l1_size = (uint32_t)n;
	q->l1_off = (uint64_t)off;
	if (old_bytes && old_off)
		ret = qcow2_free_range(q, old_off, old_bytes);
out:
	free(buf);
	free(nl1);
	return ret;
}

/* ---- compression ---- */

int qcow2_decompress(struct qcow2 *q, uint64_t entry, uint8_t *out)
{
	uint64_t off, len;
	int ret;

	qcow2_compressed_range(q, entry, &off, &len);
	if (off >= QCOW2_MAX_HOST_OFFSET || len > 2 * q->cs + 512)
		return qcow2_signal_corruption(q, "compressed cluster at %#llx is invalid",
					       (unsigned long long)off);
	if ((ret = file_pread(q->f, q->cbuf, (size_t)len, off)) < 0)
		return ret;
	if (q->compression_type == 0) {
		z_stream s;
		memset(&s, 0, sizeof(s));
		if (inflateInit2(&s, -12) != Z_OK)
			return -ENOMEM;
		s.next_in = q->cbuf;
		s.avail_in = (uInt)len;
		s.next_out = out;
		s.avail_out = (uInt)q->cs;
		int zr = inflate(&s, Z_FINISH);
		inflateEnd(&s);
		if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || s.avail_out != 0)
			return -EIO;
		return 0;
	}
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return -ENOMEM;
	ZSTD_inBuffer in = { q->cbuf, (size_t)len, 0 };
	ZSTD_outBuffer o = { out, (size_t)q->cs, 0 };
	ret = 0;
	while (o.pos < o.size) {
		size_t zr = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(zr)) {
			ret = -EIO;
			break;
		}
		if (zr == 0 && o.pos < o.size && in.pos == in.size) {
			ret = -EIO;
			break;
		}
		if (in.pos == in.size && o.pos < o.size && zr != 0) {
			ret = -EIO;   /* truncated */
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return ret;
}

/* Compressed size, or 0 when it does not fit in less than a cluster. */
static size_t compress_cluster(const struct qcow2 *q, const uint8_t *in, uint8_t *out)
{
	size_t cap = (size_t)q->cs - 1;

	if (q->compression_type == 0) {
		z_stream s;
		memset(&s, 0, sizeof(s));
		if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
			return 0;
		s.next_in = (Bytef *)in;
		s.avail_in = (uInt)q->cs;
		s.next_out = out;
		s.avail_out = (uInt)cap;
		int zr = deflate(&s, Z_FINISH);
		size_t n = cap - s.avail_out;
		deflateEnd(&s);
		return zr == Z_STREAM_END ? n : 0;
	}
	size_t n = ZSTD_compress(out, cap, in, (size_t)q->cs, 3);
	return ZSTD_isError(n) ? 0 : n;
}

/* ---- writing ---- */

struct freelist {
	uint64_t *e;
	size_t n, cap;
};

static int fl_add(struct freelist *fl, uint64_t entry)
{
	if (fl->n == fl->cap) {
		size_t nc = fl->cap ? fl->cap * 2 : 64;
		uint64_t *ne = realloc(fl->e, nc * 8);
		if (!ne)
			return -ENOMEM;
		fl->e = ne;
		fl->cap = nc;
	}
	fl->e[fl->n++] = entry;
	return 0;
}

/* The old entries dropped from L2 tables still in the cache: write the
 * tables (after the refcounts they depend on), then drop the references. */
static int fl_release(struct qcow2 *q, struct freelist *fl)
{
	int ret = 0;

	if (fl->n) {
		ret = qcow2_flush_caches(q, !q->lazy);
		for (size_t i = 0; i < fl->n && ret >= 0; i++)
			ret = qcow2_free_l2_entry(q, fl->e[i]);
	}
	free(fl->e);
	memset(fl, 0, sizeof(*fl));
	return ret;
}

/* Whether the cluster behind entry e is ours to write in place. */
static bool in_place(const struct qcow2 *q, uint64_t e, uint64_t bm)
{
	if (!(e & QCOW_OFLAG_COPIED) || (e & QCOW_OFLAG_COMPRESSED) || !l2e_has_host(q, e))
		return false;
	if (q->ext_l2)
		return (uint32_t)bm == 0xffffffffu;
	return !(e & QCOW_OFLAG_ZERO) || q->version < 3;
}

/* Whether the old entry holds a reference that a new cluster replaces. */
static bool holds_ref(const struct qcow2 *q, uint64_t e)
{
	/* Data clusters in an external data file are not refcounted. */
	return (e & QCOW_OFLAG_COMPRESSED) || ((e & L2E_OFFSET_MASK) && !q->has_df);
}

static int write_range(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
	struct iovec sub[QCOW2_SLICE_MAX];
	struct freelist fl = { 0 };
	size_t pos = 0;
	int ret = 0;
	uint8_t *head = NULL, *tail = NULL;

	if (q->has_df && q->df_ro)
		return -EROFS;   /* the data file was opened read-only (image opened alone) */
	if (posix_memalign((void **)&head, 4096, q->cs) || posix_memalign((void **)&tail, 4096, q->cs)) {
		ret = -ENOMEM;
		goto done;
	}
	while (len) {
		uint8_t *l2;
		if ((ret = qcow2_get_l2_alloc(q, off, &l2)) < 0)
			goto done;
		uint64_t per_table = q->cs << q->l2_bits;
		uint64_t tab_end = (off / per_table + 1) * per_table;
		while (len && off < tab_end) {
			uint64_t i = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
			uint64_t e = qcow2_l2_get(q, l2, i), bm = qcow2_l2_bitmap(q, l2, i);
			uint64_t in = cl_off(q, off);
			if (in_place(q, e, bm)) {
				/* A run of our own clusters, contiguous on the host. */
				uint64_t host = e & L2E_OFFSET_MASK, run = 0, j = i;
				if ((ret = qcow2_check_host(q, host, off)) < 0)
					break;
				while (len - run && off + run < tab_end) {
					uint64_t ej = qcow2_l2_get(q, l2, j);
					if (!in_place(q, ej, qcow2_l2_bitmap(q, l2, j)) ||
					    (ej & L2E_OFFSET_MASK) != host + (j - i) * q->cs)
						break;
					uint64_t n = q->cs - cl_off(q, off + run);
					run += n < len - run ? n : len - run;
					j++;
				}
				uint64_t limit = q->file_end > (q->alloc_end << q->cluster_bits) ?
						 q->file_end : q->alloc_end << q->cluster_bits;
				if (q->has_df && host != off - in) {
					ret = qcow2_signal_corruption(q, "data cluster %#llx is not at its guest offset in the data file",
								      (unsigned long long)host);
					break;
				}
				if (!q->has_df && host + in + run > cl_round_up(q, limit)) {
					ret = qcow2_signal_corruption(q, "data cluster %#llx is past the end of the image file",
								      (unsigned long long)host);
					break;
				}
				if (!q->has_df && qcow2_overlaps_metadata(q, host + in, run)) {
					ret = qcow2_signal_corruption(q, "data write at %#llx would overwrite metadata",
								      (unsigned long long)(host + in));
					break;
				}
				int cnt = iov_slice(iov, iovcnt, pos, run, sub, QCOW2_SLICE_MAX);
				if (cnt < 0 || (ret = file_pwritev(dataf(q), sub, cnt, host + in)) < 0) {
					ret = cnt < 0 ? -EINVAL : ret;
					break;
				}
				if (q->version < 3 && (e & QCOW_OFLAG_ZERO)) {
					/* v2 has no zero flag: bit 0 is reserved; leave it. */
				}
				off += run;
				len -= run;
				pos += run;
				continue;
			}
			/* A run of clusters that need new ones: count it. */
			uint64_t k = 0, covered = 0;
			for (uint64_t j = i; off + covered < tab_end && covered < len; j++) {
				uint64_t ej = qcow2_l2_get(q, l2, j);
				if (j != i && in_place(q, ej, qcow2_l2_bitmap(q, l2, j)))
					break;
				uint64_t n = q->cs - cl_off(q, off + covered);
				covered += n < len - covered ? n : len - covered;
				k++;
			}
			/* In an external data file a cluster's place is its guest offset. */
			int64_t nh = q->has_df ? (int64_t)(off - in) : qcow2_alloc_clusters(q, k);
			if (nh < 0) {
				ret = (int)nh;
				break;
			}
			/* Copy-on-write for the partial clusters at either end. */
			uint64_t first_v = off - in;
			uint64_t end = off + covered, last_in = cl_off(q, end);
			int vn = 0;
			struct iovec wv[QCOW2_SLICE_MAX + 2];
			if (in) {
				if ((ret = qcow2_read_buf(q, head, first_v, in)) < 0)
					break;
				wv[vn++] = (struct iovec){ head, (size_t)in };
			}
			int cnt = iov_slice(iov, iovcnt, pos, covered, wv + vn, QCOW2_SLICE_MAX);
			if (cnt < 0) {
				ret = -EINVAL;
				break;
			}
			vn += cnt;
			if (last_in) {
				uint64_t tl = q->cs - last_in;
				if (end + tl > q->b->size)   /* past the disk: zeroes */
					memset(tail, 0, (size_t)tl);
				if (end < q->b->size &&
				    (ret = qcow2_read_buf(q, tail, end, (end + tl > q->b->size ? q->b->size - end : tl))) < 0)
					break;
				wv[vn++] = (struct iovec){ tail, (size_t)tl };
			}
			if ((ret = file_pwritev(dataf(q), wv, vn, (uint64_t)nh)) < 0)
				break;
			for (uint64_t j = 0; j < k; j++) {
				uint64_t old = qcow2_l2_get(q, l2, i + j);
				if (holds_ref(q, old) && (ret = fl_add(&fl, old)) < 0)
					break;
				if ((old & QCOW_OFLAG_COMPRESSED) && old == q->dbuf_entry)
					q->dbuf_entry = 0;
				qcow2_l2_set(q, l2, i + j, ((uint64_t)nh + j * q->cs) | QCOW_OFLAG_COPIED,
				       q->ext_l2 ? 0xffffffffu : 0);
			}
			if (ret < 0)
				break;
			off += covered;
			len -= covered;
			pos += covered;
		}
		qcache_put(&q->l2c, l2, true);
		if (ret < 0)
			break;
	}
done:
	free(head);
	free(tail);
	int r2 = fl_release(q, &fl);
	return ret < 0 ? ret : r2;
}

int qcow2_writev(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return write_range(q, iov, iovcnt, off, iov_size(iov, iovcnt));
}

static int write_zero_data(struct qcow2 *q, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];
	while (len) {
		uint64_t n = len < sizeof(zero) ? len : sizeof(zero);
		struct iovec v = { (void *)zero, (size_t)n };
		int ret = write_range(q, &v, 1, off, n);
		if (ret < 0)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* Whether the guest range inside one cluster reads as zeroes already. */
static int reads_zero(struct qcow2 *q, uint64_t off, uint64_t len, bool *zero)
{
	struct blk_status st;
	int ret = qcow2_status(q, off, len, &st);
	if (ret < 0)
		return ret;
	*zero = st.pnum >= len && ((st.flags & BLK_STATUS_ZERO) ||
				   (!(st.flags & BLK_STATUS_ALLOCATED) && !q->b->backing));
	return 0;
}

int qcow2_zero_range(struct qcow2 *q, uint64_t off, uint64_t len, bool unmap, int discard)
{
	struct freelist fl = { 0 };
	bool has_backing = q->b->backing_name != NULL;
	int ret = 0;

	/* Partial clusters at either end: zero data, unless discarding. */
	uint64_t end = off + len;
	uint64_t a = (off + q->cs - 1) & ~(q->cs - 1);
	uint64_t z = end == q->b->size ? cl_round_up(q, end) : end & ~(q->cs - 1);
	uint64_t parts[2][2] = { { 0, 0 }, { 0, 0 } };
	if (a >= z) {
		parts[0][0] = off;
		parts[0][1] = len;
		a = z = 0;
	} else {
		parts[0][0] = off;
		parts[0][1] = a - off;
		parts[1][0] = z;
		parts[1][1] = z < end ? end - z : 0;
	}
	for (int p = 0; p < 2 && !discard; p++) {
		for (uint64_t o = parts[p][0]; o < parts[p][0] + parts[p][1];) {
			uint64_t n = q->cs - cl_off(q, o);
			if (n > parts[p][0] + parts[p][1] - o)
				n = parts[p][0] + parts[p][1] - o;
			bool zero;
			if ((ret = reads_zero(q, o, n, &zero)) < 0)
				return ret;
			if (!zero && (ret = write_zero_data(q, o, n)) < 0)
				return ret;
			o += n;
		}
	}
	if (z <= a)
		return 0;
	if (q->df_raw) {
		/* The data file must stay a faithful raw image. */
		if (q->df_ro)
			return -EROFS;
		uint64_t zz = z > q->b->size ? q->b->size : z;
		if (zz > a && (ret = file_zero(&q->df, a, zz - a, unmap || discard)) < 0)
			return ret;
	}
	if (q->version < 3 && !discard) {
		/* No zero flag: leave what already reads as zeroes, write the rest. */
		for (uint64_t c = a; c < z; c += q->cs) {
			uint64_t n = c + q->cs > q->b->size ? q->b->size - c : q->cs;
			bool zero;
			if ((ret = reads_zero(q, c, n, &zero)) < 0)
				return ret;
			if (!zero && (ret = write_zero_data(q, c, n)) < 0)
				return ret;
		}
		return 0;
	}
	if (q->version < 3 && has_backing && discard == 1)
		return 0;   /* a discard would uncover the backing file: skip it */
	for (uint64_t c = a; c < z;) {
		uint8_t *l2;
		uint64_t l1i = c >> (q->cluster_bits + q->l2_bits);
		uint64_t per_table = q->cs << q->l2_bits;
		uint64_t tab_end = (c / per_table + 1) * per_table;
		if (tab_end > z)
			tab_end = z;
		bool need = has_backing && discard != 2;
		if (!need && (l1i >= q->l1_size || !(q->l1[l1i] & L1E_OFFSET_MASK))) {
			c = tab_end;   /* nothing allocated here and nothing beneath */
			continue;
		}
		if ((ret = qcow2_get_l2_alloc(q, c, &l2)) < 0)
			break;
		bool dirty = false;
		for (; c < tab_end; c += q->cs) {
			uint64_t i = (c >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
			uint64_t e = qcow2_l2_get(q, l2, i), bm = qcow2_l2_bitmap(q, l2, i), ne, nbm = 0;
			if (q->ext_l2) {
				ne = 0;
				nbm = (discard && (!has_backing || discard == 2)) ? 0 : 0xffffffff00000000ull;
			} else if (discard) {
				ne = (has_backing && discard == 1) ? QCOW_OFLAG_ZERO : 0;
			} else if (!unmap && (e & QCOW_OFLAG_COPIED) && !(e & QCOW_OFLAG_COMPRESSED) &&
				   l2e_has_host(q, e)) {
				ne = e | QCOW_OFLAG_ZERO;   /* keep the preallocation */
			} else {
				ne = QCOW_OFLAG_ZERO;
			}
			if (ne == e && nbm == bm)
				continue;
			if (!(ne & L2E_OFFSET_MASK) && holds_ref(q, e) && (ret = fl_add(&fl, e)) < 0)
				break;
			if (e == q->dbuf_entry)
				q->dbuf_entry = 0;
			qcow2_l2_set(q, l2, i, ne, nbm);
			dirty = true;
		}
		qcache_put(&q->l2c, l2, dirty);
		if (ret < 0)
			break;
	}
	int r2 = fl_release(q, &fl);
	return ret < 0 ? ret : r2;
}

size_t qcow2_compress(const struct qcow2 *q, const void *buf, size_t len, uint8_t *out)
{
	uint8_t *in = malloc(q->cs);
	if (!in)
		return 0;
	memcpy(in, buf, len);
	memset(in + len, 0, (size_t)(q->cs - len));
	size_t n = compress_cluster(q, in, out);
	free(in);
	return n;
}

int qcow2_write_compressed_data(struct qcow2 *q, uint64_t off, const void *cdata, size_t clen)
{
	int ret;

	if (cl_off(q, off) || !clen || clen >= q->cs)
		return -EINVAL;
	uint8_t *l2;
	if ((ret = qcow2_get_l2_alloc(q, off, &l2)) < 0)
		return ret;
	int64_t coff = qcow2_alloc_bytes(q, clen);
	if (coff < 0) {
		ret = (int)coff;
		goto out;
	}
	if ((ret = file_pwrite(q->f, cdata, clen, (uint64_t)coff)) < 0)
		goto out;
	unsigned shift = 62 - (q->cluster_bits - 8);
	uint64_t nsec = (((uint64_t)coff + clen - 1) >> 9) - ((uint64_t)coff >> 9);
	uint64_t i = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
	uint64_t old = qcow2_l2_get(q, l2, i);
	qcow2_l2_set(q, l2, i, QCOW_OFLAG_COMPRESSED | (nsec << shift) | (uint64_t)coff, 0);
	struct freelist fl = { 0 };
	if (holds_ref(q, old))
		ret = fl_add(&fl, old);
	if (old == q->dbuf_entry)
		q->dbuf_entry = 0;
	qcache_put(&q->l2c, l2, true);
	l2 = NULL;
	int r2 = fl_release(q, &fl);
	if (ret >= 0)
		ret = r2;
out:
	if (l2)
		qcache_put(&q->l2c, l2, false);
	return ret;
}

int qcow2_write_compressed_cluster(struct qcow2 *q, const void *buf, size_t len, uint64_t off)
{
	if (cl_off(q, off) || len > q->cs || (len < q->cs && off + len != q->b->size))
		return -EINVAL;
	uint8_t *out = malloc(q->cs);
	if (!out)
		return -ENOMEM;
	size_t clen = qcow2_compress(q, buf, len, out);
	int ret;
	if (!clen) {
		/* Does not compress: write it as it is. */
		struct iovec v = { (void *)buf, len };
		ret = write_range(q, &v, 1, off, len);
	} else {
		ret = qcow2_write_compressed_data(q, off, out, clen);
	}
	free(out);
	return ret;
}

/* ---- status ---- */

static void classify(const struct qcow2 *q, uint64_t e, uint64_t bm, unsigned sc,
		     unsigned *flags, uint64_t *host)
{
	uint64_t h = e & L2E_OFFSET_MASK;

	*host = 0;
	if (e & QCOW_OFLAG_COMPRESSED) {
		*flags = BLK_STATUS_ALLOCATED | BLK_STATUS_DATA | BLK_STATUS_COMPRESSED;
	} else if (q->ext_l2) {
		if (bm & (1ull << sc)) {
			*flags = BLK_STATUS_ALLOCATED | BLK_STATUS_DATA | BLK_STATUS_OFFSET_VALID;
			*host = h + sc * q->sc_size;
		} else if (bm & (1ull << (sc + 32))) {
			*flags = BLK_STATUS_ALLOCATED | BLK_STATUS_ZERO;
		} else {
			*flags = 0;
		}
	} else if (q->version >= 3 && (e & QCOW_OFLAG_ZERO)) {
		*flags = BLK_STATUS_ALLOCATED | BLK_STATUS_ZERO | (l2e_has_host(q, e) ? BLK_STATUS_OFFSET_VALID : 0);
		*host = h;
	} else if (l2e_has_host(q, e)) {
		*flags = BLK_STATUS_ALLOCATED | BLK_STATUS_DATA | BLK_STATUS_OFFSET_VALID;
		*host = h;
	} else {
		*flags = 0;
	}
}

int qcow2_status(struct qcow2 *q, uint64_t off, uint64_t len, struct blk_status *st)
{
	uint64_t gran = q->ext_l2 ? q->sc_size : q->cs;
	bool first = true;
	int ret;

	st->pnum = 0;
	while (len) {
		uint8_t *l2;
		if ((ret = qcow2_get_l2(q, off, &l2)) < 0)
			return ret;
		uint64_t per_table = q->cs << q->l2_bits;
		uint64_t tab_end = (off / per_table + 1) * per_table;
		bool stop = false;
		while (len && off < tab_end) {
			uint64_t i = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
			uint64_t e = l2 ? qcow2_l2_get(q, l2, i) : 0, bm = l2 ? qcow2_l2_bitmap(q, l2, i) : 0;
			unsigned sc = q->ext_l2 ? (unsigned)(cl_off(q, off) / q->sc_size) : 0;
			unsigned flags;
			uint64_t host;
			classify(q, e, bm, sc, &flags, &host);
			uint64_t inside = off & (gran - 1);
			uint64_t n = gran - inside < len ? gran - inside : len;
			if (host)
				host += inside;
			if (first) {
				st->flags = flags;
				st->host_offset = host;
				first = false;
			} else if (flags != st->flags || (flags & BLK_STATUS_COMPRESSED) ||
				   ((flags & BLK_STATUS_OFFSET_VALID) && host != st->host_offset + st->pnum)) {
				stop = true;
				break;
			}
			st->pnum += n;
			off += n;
			len -= n;
			if (flags & BLK_STATUS_COMPRESSED)   /* one compressed cluster at a time */
				len = 0;
		}
		if (l2)
			qcache_put(&q->l2c, l2, false);
		if (stop)
			break;
		if (!l2 && len) {
			/* Whole table missing: keep going without reading. */
		}
	}
	return 0;
}
