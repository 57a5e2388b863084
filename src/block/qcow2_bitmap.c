/* SPDX-License-Identifier: Apache-2.0 */
/* Persistent dirty bitmaps (qcow2 header extension 0x23852875). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2_int.h"

/* ---- bitmaps ---- */

/*
 * Persistent dirty bitmaps follow the guest's writes: before a write,
 * zeroing or discard changes the disk, the bits of the range are set in
 * every enabled ("auto") bitmap on disk, so that a bitmap is at worst a
 * superset of what changed, even after a crash.  A bitmap data cluster that
 * is all zeroes (table entry 0) is allocated on the first bit, its refcount
 * on disk before the table entry points at it.  Bitmaps we cannot follow
 * (unknown type or extra data, odd granularity, a table of the wrong size)
 * are flagged in_use instead, as QEMU flags an inconsistent one.
 */
int qcow2_bitmaps_prepare(struct qcow2 *q)
{
	if (!q->has_bitmaps || q->bitmaps_marked)
		return 0;
	q->bitmaps_marked = true;
	uint8_t *d = malloc(q->bm_dir_size ? q->bm_dir_size : 1);
	if (!d)
		return -ENOMEM;
	int ret = file_pread(q->f, d, q->bm_dir_size, q->bm_dir_off);
	bool changed = false;
	for (uint32_t n = 0, pos = 0; ret >= 0 && n < q->nb_bitmaps && pos + 24 <= q->bm_dir_size; n++) {
		uint64_t toff = be64_at(d + pos);
		uint32_t tsize = be32_at(d + pos + 8);
		uint32_t flags = be32_at(d + pos + 12);
		uint8_t type = d[pos + 16], gbits = d[pos + 17];
		uint16_t nlen = be16_at(d + pos + 18);
		uint32_t extra = be32_at(d + pos + 20);
		uint32_t here = pos;
		pos = (uint32_t)((pos + 24 + (uint64_t)extra + nlen + 7) & ~7ull);
		if (!(flags & 2) || (flags & 1))
			continue;   /* disabled, or already inconsistent */
		uint64_t bits = gbits >= 9 && gbits <= 31 ? (q->b->size + (1ull << gbits) - 1) >> gbits : 0;
		uint64_t want = ((bits + 7) / 8 + q->cs - 1) >> q->cluster_bits;
		bool ok = type == 1 && bits && (!extra || (flags & 4)) && !cl_off(q, toff) && toff >= q->cs &&
			  toff < QCOW2_MAX_HOST_OFFSET && tsize == want && (uint64_t)tsize * 8 <= (64u << 20);
		struct qbitmap bm = { toff, tsize, gbits, NULL };
		if (ok && !(bm.table = malloc((size_t)(tsize ? tsize : 1) * 8)))
			ok = false;
		if (ok && file_pread(q->f, bm.table, (size_t)tsize * 8, toff) < 0)
			ok = false;
		if (ok) {
			struct qbitmap *nb = realloc(q->bms, sizeof(*nb) * (size_t)(q->nbms + 1));
			ok = nb != NULL;
			if (ok) {
				for (uint32_t i = 0; i < tsize; i++)
					bm.table[i] = be64toh(bm.table[i]);
				q->bms = nb;
				q->bms[q->nbms++] = bm;
			}
		}
		if (!ok) {
			free(bm.table);
			put_be32(d + here + 12, flags | 1);
			changed = true;
		}
	}
	if (ret >= 0 && changed) {
		ret = file_pwrite(q->f, d, q->bm_dir_size, q->bm_dir_off);
		if (ret >= 0)
			ret = file_flush(q->f);
	}
	free(d);
	return ret;
}

static void set_bits(uint8_t *buf, uint64_t from, uint64_t to)   /* [from, to] */
{
	while (from <= to && (from & 7)) {
		buf[from / 8] |= (uint8_t)(1u << (from & 7));
		from++;
	}
	if (from + 8 <= to + 1) {
		uint64_t bytes = (to + 1 - from) / 8;
		memset(buf + from / 8, 0xff, bytes);
		from += bytes * 8;
	}
	for (; from <= to; from++)
		buf[from / 8] |= (uint8_t)(1u << (from & 7));
}

int qcow2_bitmaps_mark(struct qcow2 *q, uint64_t off, uint64_t len)
{
	int ret = 0;

	if (!len)
		return 0;
	for (int k = 0; k < q->nbms && ret >= 0; k++) {
		struct qbitmap *bm = &q->bms[k];
		uint64_t first = off >> bm->gran_bits, last = (off + len - 1) >> bm->gran_bits;
		uint64_t bits_per_cl = q->cs * 8;
		for (uint64_t ci = first / bits_per_cl; ci <= last / bits_per_cl && ret >= 0; ci++) {
			if (ci >= bm->table_size)
				break;
			uint64_t e = bm->table[ci], host = e & L2E_OFFSET_MASK;
			if (!host && (e & 1))
				continue;   /* all ones already */
			uint64_t b0 = ci * bits_per_cl;
			uint64_t from = first > b0 ? first - b0 : 0;
			uint64_t to = last - b0 < bits_per_cl - 1 ? last - b0 : bits_per_cl - 1;
			if (!host) {
				/* All zeroes so far: a cluster of its own now. */
				int64_t h = qcow2_alloc_clusters(q, 1);
				if (h < 0)
					return (int)h;
				memset(q->tmp, 0, q->cs);
				set_bits(q->tmp, from, to);
				if ((ret = file_pwrite(q->f, q->tmp, q->cs, (uint64_t)h)) < 0 ||
				    (ret = qcache_writeback(q, &q->rbc)) < 0 ||
				    (!q->lazy && (ret = file_flush(q->f)) < 0))
					return ret;
				bm->table[ci] = (uint64_t)h;
				uint8_t v[8];
				put_be64(v, (uint64_t)h);
				ret = file_pwrite(q->f, v, 8, bm->table_off + ci * 8);
				continue;
			}
			uint64_t limit = q->file_end > (q->alloc_end << q->cluster_bits) ?
					 q->file_end : q->alloc_end << q->cluster_bits;
			if (cl_off(q, host) || host + q->cs > cl_round_up(q, limit) ||
			    qcow2_overlaps_metadata(q, host, q->cs))
				return qcow2_signal_corruption(q, "bitmap data cluster %#llx is invalid",
							       (unsigned long long)host);
			/* Read, set, write back the bytes that change. */
			uint64_t bf = from / 8, bt = to / 8;
			uint8_t *buf = q->tmp;
			if ((ret = file_pread(q->f, buf + bf, bt - bf + 1, host + bf)) < 0)
				return ret;
			set_bits(buf, from, to);
			ret = file_pwrite(q->f, buf + bf, bt - bf + 1, host + bf);
		}
	}
	return ret;
}

int blk_bitmap_list(struct blk *b, struct blk_bitmap **out)
{
	*out = NULL;
	if (b->drv != &blk_qcow2_driver)
		return 0;
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int n = 0, ret = 0;
	uint8_t *d = NULL;
	struct blk_bitmap *l = NULL;
	if (!q->has_bitmaps)
		goto out;
	d = malloc(q->bm_dir_size ? q->bm_dir_size : 1);
	l = calloc(q->nb_bitmaps, sizeof(*l));
	if (!d || !l) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = file_pread(q->f, d, q->bm_dir_size, q->bm_dir_off)) < 0)
		goto out;
	for (uint64_t pos = 0; n < (int)q->nb_bitmaps && pos + 24 <= q->bm_dir_size; n++) {
		uint16_t nlen = be16_at(d + pos + 18);
		uint32_t extra = be32_at(d + pos + 20);
		uint64_t name_at = pos + 24 + extra;
		if (name_at + nlen > q->bm_dir_size)
			break;
		l[n].flags = be32_at(d + pos + 12);
		l[n].granularity_bits = d[pos + 17];
		snprintf(l[n].name, sizeof(l[n].name), "%.*s", (int)nlen, (const char *)d + name_at);
		pos = (name_at + nlen + 7) & ~7ull;
	}
out:
	pthread_mutex_unlock(&q->lock);
	free(d);
	if (ret < 0 || !n) {
		free(l);
		return ret;
	}
	*out = l;
	return n;
}

