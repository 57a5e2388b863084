/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qcow2 consistency check (qemu-img check): every reference from the
 * header, the L1/L2 trees (active and snapshots), the refcount structures
 * and the bitmaps is counted and compared with the stored refcounts.
 * More stored than counted is a leak; fewer, or a COPIED flag that
 * disagrees with the refcount, is a corruption.  Repair sets the stored
 * refcounts to the counted ones and the flags to match.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_int.h"

#define MAX_L1_WORK (64u << 20)   /* L1 entries over all trees: past this, give up */

struct ck {
	struct qcow2 *q;
	struct blk_check_result *r;
	uint32_t *refs;
	uint64_t nrefs, limit;
	uint64_t l1_work;
	uint64_t next_contig;
};

static void logf_(struct blk_check_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct blk_check_result *r, const char *fmt, ...)
{
	char line[300];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (r->log_len > (1u << 20))
		return;   /* enough said */
	char *nl = realloc(r->log, r->log_len + (size_t)n + 2);
	if (!nl)
		return;
	r->log = nl;
	memcpy(nl + r->log_len, line, (size_t)n);
	nl[r->log_len + (size_t)n] = '\n';
	nl[r->log_len + (size_t)n + 1] = 0;
	r->log_len += (size_t)n + 1;
}

/* Counts one reference to each cluster of [off, off+len). */
static int inc(struct ck *c, uint64_t off, uint64_t len, const char *what)
{
	struct qcow2 *q = c->q;

	if (!len)
		return 0;
	uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
	if (off >= QCOW2_MAX_HOST_OFFSET || last >= c->limit) {
		logf_(c->r, "ERROR %s at offset %#llx is beyond the end of the image file",
		      what, (unsigned long long)off);
		c->r->corruptions++;
		return 0;
	}
	if (last >= c->nrefs) {
		uint64_t n = last + 1 + (last >> 2);
		if (n > c->limit)
			n = c->limit;
		uint32_t *nr = realloc(c->refs, n * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		memset(nr + c->nrefs, 0, (n - c->nrefs) * sizeof(*nr));
		c->refs = nr;
		c->nrefs = n;
	}
	for (uint64_t i = first; i <= last; i++)
		if (c->refs[i] != UINT32_MAX)
			c->refs[i]++;
	return 0;
}

static int check_l2(struct ck *c, uint64_t l2off, bool active, uint64_t mult)
{
	struct qcow2 *q = c->q;
	uint8_t *l2;
	int ret = qcache_get(q, &q->l2c, l2off, true, &l2);

	if (ret < 0)
		return ret;
	c->next_contig = 0;   /* qemu counts fragments within each L2 table */
	uint64_t n = 1ull << q->l2_bits;
	for (uint64_t i = 0; i < n && ret >= 0; i++) {
		uint64_t e = be64_at(l2 + i * q->l2_entry_size);
		uint64_t bm = q->ext_l2 ? be64_at(l2 + i * 16 + 8) : 0;
		if (e & QCOW_OFLAG_COMPRESSED) {
			if (e & QCOW_OFLAG_COPIED) {
				logf_(c->r, "ERROR: coffset=%#llx: Compressed cluster has OFLAG_COPIED set",
				      (unsigned long long)(e & ~QCOW_OFLAG_COPIED));
				c->r->corruptions++;
			}
			uint64_t off, len;
			qcow2_compressed_range(q, e, &off, &len);
			uint64_t s = off & ~511ull;
			for (uint64_t m = 0; m < mult && ret >= 0; m++)
				ret = inc(c, s, off + len - s, "compressed cluster");
			if (active) {
				c->r->allocated_clusters++;
				c->r->compressed_clusters++;
				c->r->fragmented_clusters++;   /* by nature, as qemu counts */
			}
			continue;
		}
		uint64_t host = e & L2E_OFFSET_MASK;
		if (q->ext_l2 && ((uint32_t)bm & (uint32_t)(bm >> 32))) {
			logf_(c->r, "ERROR invalid cluster entry: %#llx %#llx (subcluster both allocated and zero)",
			      (unsigned long long)e, (unsigned long long)bm);
			c->r->corruptions++;
		}
		bool has = l2e_has_host(q, e);
		if (q->ext_l2 && (uint32_t)bm && !has) {
			logf_(c->r, "ERROR invalid cluster entry: %#llx (allocated subclusters, no host cluster)",
			      (unsigned long long)e);
			c->r->corruptions++;
		}
		if (!has)
			continue;
		if (cl_off(q, host)) {
			logf_(c->r, "ERROR offset=%llx: Cluster is not properly aligned; L2 entry corrupted.",
			      (unsigned long long)host);
			c->r->corruptions++;
			continue;
		}
		for (uint64_t m = 0; m < mult && ret >= 0 && !q->has_df; m++)
			ret = inc(c, host, q->cs, "data cluster");
		if (active) {
			c->r->allocated_clusters++;
			if (c->next_contig && host != c->next_contig)
				c->r->fragmented_clusters++;
			c->next_contig = host + q->cs;
		}
	}
	qcache_put(&q->l2c, l2, false);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int check_tree(struct ck *c, const uint64_t *l1, uint32_t l1_size, uint64_t l1_off, bool active)
{
	struct qcow2 *q = c->q;
	int ret;

	c->l1_work += l1_size;
	if (c->l1_work > MAX_L1_WORK) {
		logf_(c->r, "ERROR the L1 tables are too many to check");
		c->r->check_errors++;
		return 0;
	}
	if ((ret = inc(c, l1_off, (uint64_t)l1_size * 8, "L1 table")) < 0)
		return ret;
	if (active) {
		/* In guest order, for the fragmentation figures. */
		for (uint32_t i = 0; i < l1_size; i++) {
			uint64_t off = l1[i] & L1E_OFFSET_MASK;
			if (!off)
				continue;
			if (cl_off(q, off) || off < q->cs) {
				logf_(c->r, "ERROR l2_offset=%llx: Table is not cluster aligned; L1 entry corrupted",
				      (unsigned long long)off);
				c->r->corruptions++;
				continue;
			}
			if ((ret = inc(c, off, q->cs, "L2 table")) < 0)
				return ret;
			if (off >> q->cluster_bits < c->limit && (ret = check_l2(c, off, true, 1)) < 0)
				return ret;
		}
		return 0;
	}
	/* Inactive trees: each distinct L2 table once, counted as often as it appears. */
	uint64_t *offs = malloc((size_t)(l1_size ? l1_size : 1) * 8);
	if (!offs)
		return -ENOMEM;
	uint32_t n = 0;
	for (uint32_t i = 0; i < l1_size; i++) {
		uint64_t off = l1[i] & L1E_OFFSET_MASK;
		if (!off)
			continue;
		if (cl_off(q, off) || off < q->cs) {
			logf_(c->r, "ERROR l2_offset=%llx: Table is not cluster aligned; L1 entry corrupted",
			      (unsigned long long)off);
			c->r->corruptions++;
			continue;
		}
		offs[n++] = off;
	}
	qsort(offs, n, 8, cmp_u64);
	ret = 0;
	for (uint32_t i = 0; i < n && ret >= 0;) {
		uint32_t j = i;
		while (j < n && offs[j] == offs[i])
			j++;
		for (uint32_t k = i; k < j && ret >= 0; k++)
			ret = inc(c, offs[i], q->cs, "L2 table");
		if (ret >= 0 && offs[i] >> q->cluster_bits < c->limit)
			ret = check_l2(c, offs[i], false, j - i);
		i = j;
	}
	free(offs);
	return ret;
}

static int check_bitmaps(struct ck *c)
{
	struct qcow2 *q = c->q;
	int ret;

	if (!q->has_bitmaps)
		return 0;
	if ((ret = inc(c, q->bm_dir_off, q->bm_dir_size, "bitmap directory")) < 0)
		return ret;
	uint8_t *d = malloc(q->bm_dir_size ? q->bm_dir_size : 1);
	if (!d)
		return -ENOMEM;
	if ((ret = file_pread(q->f, d, q->bm_dir_size, q->bm_dir_off)) < 0) {
		free(d);
		return ret;
	}
	uint64_t pos = 0;
	for (uint32_t i = 0; i < q->nb_bitmaps && pos + 24 <= q->bm_dir_size && ret >= 0; i++) {
		uint64_t bt_off = be64_at(d + pos);
		uint32_t bt_size = be32_at(d + pos + 8);
		uint16_t nlen = be16_at(d + pos + 18);
		uint32_t extra = be32_at(d + pos + 20);
		pos += (24 + (uint64_t)extra + nlen + 7) & ~7ull;
		if (cl_off(q, bt_off) || (uint64_t)bt_size * 8 > (64u << 20)) {
			logf_(c->r, "ERROR bitmap table at %#llx is invalid", (unsigned long long)bt_off);
			c->r->corruptions++;
			continue;
		}
		if ((ret = inc(c, bt_off, (uint64_t)bt_size * 8, "bitmap table")) < 0)
			break;
		uint64_t *bt = malloc((size_t)(bt_size ? bt_size : 1) * 8);
		if (!bt) {
			ret = -ENOMEM;
			break;
		}
		if ((ret = file_pread(q->f, bt, (size_t)bt_size * 8, bt_off)) >= 0) {
			for (uint32_t j = 0; j < bt_size && ret >= 0; j++) {
				uint64_t e = be64toh(bt[j]) & L2E_OFFSET_MASK;
				if (e)
					ret = inc(c, e, q->cs, "bitmap data");
			}
		}
		free(bt);
	}
	free(d);
	return ret;
}

/* One pass: counts, compares, and (with fix) repairs. */
static int check_pass(struct qcow2 *q, int fix, struct blk_check_result *r)
{
	struct ck c = { .q = q, .r = r };
	int ret;
	int64_t fsz = file_size(q->f);

	if (fsz < 0)
		return (int)fsz;
	uint64_t file_cl = ((uint64_t)fsz + q->cs - 1) >> q->cluster_bits;
	if (file_cl > (1ull << 26)) {
		logf_(r, "ERROR the image file is too large to check (%llu clusters)", (unsigned long long)file_cl);
		r->check_errors++;
		return 0;
	}
	c.limit = file_cl + 1;
	c.nrefs = file_cl ? file_cl : 1;
	c.refs = calloc(c.nrefs, sizeof(*c.refs));
	if (!c.refs)
		return -ENOMEM;
	r->total_clusters = (q->b->size + q->cs - 1) >> q->cluster_bits;

	if ((ret = inc(&c, 0, q->cs, "header")) < 0)
		goto out;
	if ((ret = check_tree(&c, q->l1, q->l1_size, q->l1_off, true)) < 0)
		goto out;
	if ((ret = inc(&c, q->snap_off, q->snap_size, "snapshot table")) < 0)
		goto out;
	for (int i = 0; i < q->nb_snaps; i++) {
		struct qsnap *s = &q->snaps[i];
		uint64_t *l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
		if (!l1) {
			ret = -ENOMEM;
			goto out;
		}
		if ((ret = file_pread(q->f, l1, (size_t)s->l1_size * 8, s->l1_off)) >= 0) {
			for (uint32_t j = 0; j < s->l1_size; j++)
				l1[j] = be64toh(l1[j]);
			ret = check_tree(&c, l1, s->l1_size, s->l1_off, false);
		}
		free(l1);
		if (ret < 0)
			goto out;
	}
	if ((ret = inc(&c, q->rt_off, (uint64_t)q->rt_clusters << q->cluster_bits, "refcount table")) < 0)
		goto out;
	for (uint64_t i = 0; i < q->rt_size; i++) {
		uint64_t off = q->rt[i] & REFT_OFFSET_MASK;
		if (!off)
			continue;
		if (cl_off(q, off)) {
			logf_(r, "ERROR refcount block %llu is not cluster aligned; refcount table entry corrupted",
			      (unsigned long long)i);
			r->corruptions++;
			continue;
		}
		if (off >> q->cluster_bits >= file_cl) {
			logf_(r, "ERROR refcount block %llu is outside image", (unsigned long long)i);
			r->corruptions++;
			continue;
		}
		if ((ret = inc(&c, off, q->cs, "refcount block")) < 0)
			goto out;
	}
	if ((ret = check_bitmaps(&c)) < 0)
		goto out;

	/* Compare. */
	uint64_t n = c.nrefs > file_cl ? c.nrefs : file_cl;
	uint64_t per = 1ull << q->rb_bits;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t rc, ref = i < c.nrefs ? c.refs[i] : 0;
		uint64_t rti = i >> q->rb_bits;
		uint64_t boff = rti < q->rt_size ? q->rt[rti] & REFT_OFFSET_MASK : 0;
		bool broken = boff && (cl_off(q, boff) || boff >> q->cluster_bits >= file_cl);
		if ((!boff || broken) && i >= c.nrefs && !(i & (per - 1))) {
			i += per - 1;   /* nothing counted, nothing referenced: the whole block */
			continue;
		}
		if (broken) {
			rc = 0;   /* a broken block counts nothing */
		} else if ((ret = qcow2_get_refcount(q, i, &rc)) < 0) {
			goto out;
		}
		if (ref)
			r->image_end_offset = (i + 1) << q->cluster_bits;
		if (rc == ref)
			continue;
		bool leak = rc > ref;
		if (ref > q->refcount_max) {
			logf_(r, "ERROR cluster %llu refcount=%llu reference=%llu: refcount overflow",
			      (unsigned long long)i, (unsigned long long)rc, (unsigned long long)ref);
			r->corruptions++;
			continue;
		}
		logf_(r, "%s cluster %llu refcount=%llu reference=%llu",
		      leak ? (fix & BLK_FIX_LEAKS ? "Repairing" : "Leaked") : (fix & BLK_FIX_ERRORS ? "Repairing" : "ERROR"),
		      (unsigned long long)i, (unsigned long long)rc, (unsigned long long)ref);
		if (leak)
			r->leaks++;
		else
			r->corruptions++;
		if ((leak && (fix & BLK_FIX_LEAKS)) || (!leak && (fix & BLK_FIX_ERRORS))) {
			if ((ret = qcow2_refcount_set(q, i, ref)) < 0)
				goto out;
			if (leak)
				r->leaks_fixed++;
			else
				r->corruptions_fixed++;
		}
	}
	/* COPIED flags of the active tree. */
	bool l1_changed = false;
	for (uint32_t i = 0; i < q->l1_size; i++) {
		uint64_t off = q->l1[i] & L1E_OFFSET_MASK, rc;
		if (!off || cl_off(q, off) || off < q->cs || off >> q->cluster_bits >= file_cl)
			continue;
		if ((ret = qcow2_get_refcount(q, off >> q->cluster_bits, &rc)) < 0)
			goto out;
		if ((rc == 1) != !!(q->l1[i] & QCOW_OFLAG_COPIED)) {
			logf_(r, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%llx refcount=%llu",
			      fix & BLK_FIX_ERRORS ? "Repairing" : "ERROR", i,
			      (unsigned long long)q->l1[i], (unsigned long long)rc);
			r->corruptions++;
			if (fix & BLK_FIX_ERRORS) {
				q->l1[i] = rc == 1 ? q->l1[i] | QCOW_OFLAG_COPIED : q->l1[i] & ~QCOW_OFLAG_COPIED;
				l1_changed = true;
				r->corruptions_fixed++;
			}
		}
		uint8_t *l2;
		if ((ret = qcache_get(q, &q->l2c, off, true, &l2)) < 0)
			goto out;
		bool dirty = false;
		for (uint64_t j = 0; j < (1ull << q->l2_bits); j++) {
			uint8_t *ep = l2 + j * q->l2_entry_size;
			uint64_t e = be64_at(ep), h = e & L2E_OFFSET_MASK;
			if ((e & QCOW_OFLAG_COMPRESSED) || !h || cl_off(q, h) || h >> q->cluster_bits >= file_cl ||
			    q->has_df)
				continue;
			if ((ret = qcow2_get_refcount(q, h >> q->cluster_bits, &rc)) < 0)
				break;
			if ((rc == 1) != !!(e & QCOW_OFLAG_COPIED)) {
				logf_(r, "%s OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
				      fix & BLK_FIX_ERRORS ? "Repairing" : "ERROR",
				      (unsigned long long)e, (unsigned long long)rc);
				r->corruptions++;
				if (fix & BLK_FIX_ERRORS) {
					put_be64(ep, rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED);
					dirty = true;
					r->corruptions_fixed++;
				}
			}
		}
		qcache_put(&q->l2c, l2, dirty);
		if (ret < 0)
			goto out;
	}
	if (l1_changed) {
		for (uint32_t i = 0; i < q->l1_size && ret >= 0; i++)
			ret = qcow2_write_l1_entry(q, i);
		if (ret < 0)
			goto out;
	}
	if (fix)
		ret = qcow2_flush_caches(q, true);
out:
	free(c.refs);
	return ret;
}

int qcow2_check(struct qcow2 *q, int fix, struct blk_check_result *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->supported = true;
	if (q->rw && !q->corrupt && (ret = qcow2_flush_caches(q, true)) < 0)
		return ret;
	if (!q->rw)
		fix = 0;
	bool was_corrupt = q->corrupt;
	if (fix)
		q->corrupt = false;   /* repairing is the one write a corrupt image takes */
	ret = check_pass(q, fix, r);
	if (ret < 0) {
		r->check_errors++;
		return ret;
	}
	if (fix && (r->leaks_fixed || r->corruptions_fixed)) {
		/* Double check what the repair left, as qemu-img does. */
		struct blk_check_result again;
		memset(&again, 0, sizeof(again));
		ret = check_pass(q, 0, &again);
		int lf = r->leaks_fixed, cf = r->corruptions_fixed;
		char *log = r->log;
		size_t loglen = r->log_len;
		free(again.log);
		again.log = log;
		again.log_len = loglen;
		*r = again;
		r->supported = true;
		r->leaks_fixed = lf;
		r->corruptions_fixed = cf;
		if (ret < 0)
			return ret;
	}
	if (fix && !r->corruptions && !r->check_errors && q->version >= 3 &&
	    (q->incompat & (QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY)) && !q->lazy) {
		q->incompat &= ~(QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY);
		uint8_t v[8];
		put_be64(v, q->incompat);
		if ((ret = qcow2_write_header_field(q, 72, v, 8)) < 0 || (ret = file_flush(q->f)) < 0)
			return ret;
		was_corrupt = false;
	}
	q->corrupt = was_corrupt || (q->incompat & QCOW2_INCOMPAT_CORRUPT && q->rw);
	return 0;
}

int blk_check(struct blk *b, int fix, struct blk_check_result *r)
{
	memset(r, 0, sizeof(*r));
	if (b->drv != &blk_qcow2_driver)
		return 0;
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	int ret = qcow2_check(q, fix, r);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

void blk_check_result_free(struct blk_check_result *r)
{
	free(r->log);
	r->log = NULL;
	r->log_len = 0;
}
