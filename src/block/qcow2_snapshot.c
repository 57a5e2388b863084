/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qcow2 internal snapshots: the snapshot table, and create, apply, delete
 * and list.  A snapshot is a copy of the L1 table; creating one adds a
 * reference to every L2 table and cluster the active tree reaches (so the
 * next write to them copies), deleting drops them.  The COPIED flags of
 * the active tree follow the refcounts afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/qcow2_int.h"

#define SNAP_EXTRA_MAX 1024

void qcow2_free_snapshots(struct qcow2 *q)
{
	for (int i = 0; i < q->nb_snaps && q->snaps; i++) {
		free(q->snaps[i].id);
		free(q->snaps[i].name);
		free(q->snaps[i].extra);
	}
	free(q->snaps);
	q->snaps = NULL;
}

int qcow2_read_snapshots(struct qcow2 *q, char *err, size_t errlen)
{
	const char *fn = q->b->filename;
	uint64_t pos = q->snap_off;
	uint8_t h[40];
	int ret;

	q->snap_size = 0;
	if (!q->nb_snaps)
		return 0;
	if (q->snap_off < q->cs || q->snap_off >= QCOW2_MAX_HOST_OFFSET) {
		errf(err, errlen, "%s: invalid snapshot table offset", fn);
		return -EINVAL;
	}
	q->snaps = calloc((size_t)q->nb_snaps, sizeof(*q->snaps));
	if (!q->snaps)
		return -ENOMEM;
	for (int i = 0; i < q->nb_snaps; i++) {
		struct qsnap *s = &q->snaps[i];
		if ((ret = file_pread(q->f, h, 40, pos)) < 0)
			goto io;
		s->l1_off = be64_at(h);
		s->l1_size = be32_at(h + 8);
		uint16_t idlen = be16_at(h + 12), nlen = be16_at(h + 14);
		s->date_sec = be32_at(h + 16);
		s->date_nsec = be32_at(h + 20);
		s->vm_clock_nsec = be64_at(h + 24);
		s->vm_state_size = be32_at(h + 32);
		s->extra_size = be32_at(h + 36);
		s->icount = UINT64_MAX;
		s->disk_size = q->b->size;
		if (s->extra_size > SNAP_EXTRA_MAX) {
			errf(err, errlen, "%s: snapshot %d: too much extra data", fn, i);
			return -EFBIG;
		}
		if (cl_off(q, s->l1_off) || (uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
		    (s->l1_size && (s->l1_off < q->cs || s->l1_off >= QCOW2_MAX_HOST_OFFSET))) {
			errf(err, errlen, "%s: snapshot %d: invalid L1 table", fn, i);
			return -EINVAL;
		}
		uint8_t extra[SNAP_EXTRA_MAX];
		if ((ret = file_pread(q->f, extra, s->extra_size, pos + 40)) < 0)
			goto io;
		if (s->extra_size >= 8)
			s->vm_state_size = be64_at(extra);
		if (s->extra_size >= 16)
			s->disk_size = be64_at(extra + 8);
		if (s->extra_size >= 24)
			s->icount = be64_at(extra + 16);
		if (s->extra_size > 24) {
			s->extra = malloc(s->extra_size - 24);
			if (!s->extra)
				return -ENOMEM;
			memcpy(s->extra, extra + 24, s->extra_size - 24);
		}
		s->id = calloc(1, (size_t)idlen + 1);
		s->name = calloc(1, (size_t)nlen + 1);
		if (!s->id || !s->name)
			return -ENOMEM;
		uint64_t p2 = pos + 40 + s->extra_size;
		if ((ret = file_pread(q->f, s->id, idlen, p2)) < 0 ||
		    (ret = file_pread(q->f, s->name, nlen, p2 + idlen)) < 0)
			goto io;
		pos = (p2 + idlen + nlen + 7) & ~7ull;
		if (pos - q->snap_off > QCOW2_MAX_SNAPTAB) {
			errf(err, errlen, "%s: snapshot table too large", fn);
			return -EFBIG;
		}
	}
	q->snap_size = pos - q->snap_off;
	return 0;
io:
	errf(err, errlen, "%s: cannot read the snapshot table: %s", fn, strerror(-ret));
	return ret;
}

/* The table as bytes (v3: extra data through icount). */
static uint8_t *serialize(struct qcow2 *q, const struct qsnap *sn, int n, uint64_t *len)
{
	uint64_t total = 0;
	for (int i = 0; i < n; i++) {
		uint32_t ex = sn[i].extra_size > 24 ? sn[i].extra_size : 24;
		total += (40 + ex + strlen(sn[i].id) + strlen(sn[i].name) + 7) & ~7ull;
	}
	uint8_t *buf = calloc(1, total ? total : 1);
	if (!buf)
		return NULL;
	uint64_t pos = 0;
	for (int i = 0; i < n; i++) {
		const struct qsnap *s = &sn[i];
		uint32_t ex = s->extra_size > 24 ? s->extra_size : 24;
		size_t idl = strlen(s->id), nl = strlen(s->name);
		uint8_t *p = buf + pos;
		put_be64(p, s->l1_off);
		put_be32(p + 8, s->l1_size);
		put_be16(p + 12, (uint16_t)idl);
		put_be16(p + 14, (uint16_t)nl);
		put_be32(p + 16, s->date_sec);
		put_be32(p + 20, s->date_nsec);
		put_be64(p + 24, s->vm_clock_nsec);
		put_be32(p + 32, s->vm_state_size > UINT32_MAX ? 0 : (uint32_t)s->vm_state_size);
		put_be32(p + 36, ex);
		put_be64(p + 40, s->vm_state_size);
		put_be64(p + 48, s->disk_size);
		put_be64(p + 56, s->icount);
		if (ex > 24 && s->extra)
			memcpy(p + 64, s->extra, ex - 24);
		memcpy(p + 40 + ex, s->id, idl);
		memcpy(p + 40 + ex + idl, s->name, nl);
		pos += (40 + ex + idl + nl + 7) & ~7ull;
	}
	(void)q;
	*len = total;
	return buf;
}

/* Writes a new table, points the header at it, frees the old one. */
static int write_table(struct qcow2 *q, struct qsnap *sn, int n)
{
	uint64_t len = 0;
	int64_t off = 0;
	int ret;
	uint8_t *buf = serialize(q, sn, n, &len);

	if (!buf)
		return -ENOMEM;
	if (len) {
		off = qcow2_alloc_clusters(q, (len + q->cs - 1) >> q->cluster_bits);
		if (off < 0) {
			free(buf);
			return (int)off;
		}
		if ((ret = file_pwrite(q->f, buf, len, (uint64_t)off)) < 0) {
			free(buf);
			return ret;
		}
	}
	free(buf);
	if ((ret = qcow2_flush_caches(q, true)) < 0)
		return ret;
	uint8_t h[12];
	put_be32(h, (uint32_t)n);
	put_be64(h + 4, (uint64_t)off);
	if ((ret = qcow2_write_header_field(q, 60, h, 12)) < 0 || (ret = file_flush(q->f)) < 0)
		return ret;
	uint64_t old_off = q->snap_off, old_len = q->snap_size;
	q->snap_off = (uint64_t)off;
	q->snap_size = len;
	if (old_len)
		return qcow2_free_range(q, old_off, old_len);
	return 0;
}

static int read_l1(struct qcow2 *q, uint64_t off, uint32_t n, uint64_t **out)
{
	uint64_t *l1 = calloc(n ? n : 1, 8);
	if (!l1)
		return -ENOMEM;
	int ret = file_pread(q->f, l1, (size_t)n * 8, off);
	if (ret < 0) {
		free(l1);
		return ret;
	}
	for (uint32_t i = 0; i < n; i++)
		l1[i] = be64toh(l1[i]);
	*out = l1;
	return 0;
}

static int write_l1(struct qcow2 *q, const uint64_t *l1, uint32_t n, uint64_t off)
{
	uint64_t *be = malloc((size_t)(n ? n : 1) * 8);
	if (!be)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		be[i] = htobe64(l1[i]);
	int ret = file_pwrite(q->f, be, (size_t)n * 8, off);
	free(be);
	return ret;
}

int qcow2_update_tree_refcounts(struct qcow2 *q, uint64_t *l1, uint32_t l1_size, int addend, bool active)
{
	int ret = 0;
	uint64_t rc;

	for (uint32_t i = 0; i < l1_size; i++) {
		uint64_t l2off = l1[i] & L1E_OFFSET_MASK;
		if (!l2off)
			continue;
		if (cl_off(q, l2off) || l2off < q->cs)
			return qcow2_signal_corruption(q, "L2 table offset %#llx is invalid", (unsigned long long)l2off);
		uint8_t *l2;
		if ((ret = qcache_get(q, &q->l2c, l2off, true, &l2)) < 0)
			return ret;
		bool dirty = false;
		uint64_t entries = 1ull << q->l2_bits;
		for (uint64_t j = 0; j < entries && ret >= 0; j++) {
			uint8_t *ep = l2 + j * q->l2_entry_size;
			uint64_t e = be64_at(ep), ne = e;
			if (e & QCOW_OFLAG_COMPRESSED) {
				if (addend) {
					uint64_t off, len;
					qcow2_compressed_range(q, e, &off, &len);
					uint64_t s = off & ~511ull;
					for (uint64_t c = s >> q->cluster_bits;
					     c < (off + len + q->cs - 1) >> q->cluster_bits && ret >= 0; c++)
						ret = qcow2_update_refcount(q, c, addend);
				}
				ne = e & ~QCOW_OFLAG_COPIED;
			} else if (e & L2E_OFFSET_MASK) {
				uint64_t c = (e & L2E_OFFSET_MASK) >> q->cluster_bits;
				if (addend)
					ret = qcow2_update_refcount(q, c, addend);
				if (ret >= 0 && (ret = qcow2_get_refcount(q, c, &rc)) >= 0)
					ne = rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED;
			}
			if (ne != e) {
				put_be64(ep, ne);
				dirty = true;
			}
		}
		qcache_put(&q->l2c, l2, dirty);
		if (ret < 0)
			return ret;
		if (addend && (ret = qcow2_update_refcount(q, l2off >> q->cluster_bits, addend)) < 0)
			return ret;
		if ((ret = qcow2_get_refcount(q, l2off >> q->cluster_bits, &rc)) < 0)
			return ret;
		l1[i] = rc == 1 ? l1[i] | QCOW_OFLAG_COPIED : l1[i] & ~QCOW_OFLAG_COPIED;
	}
	if (active)
		ret = write_l1(q, l1, l1_size, q->l1_off);
	return ret;
}

static int find_snap(struct qcow2 *q, const char *name)
{
	for (int i = 0; i < q->nb_snaps; i++)
		if (!strcmp(q->snaps[i].id, name))
			return i;
	for (int i = 0; i < q->nb_snaps; i++)
		if (!strcmp(q->snaps[i].name, name))
			return i;
	return -1;
}

static struct qcow2 *lock_qcow2(struct blk *b)
{
	if (b->drv != &blk_qcow2_driver)
		return NULL;
	struct qcow2 *q = QS(b);
	pthread_mutex_lock(&q->lock);
	return q;
}

int blk_snapshot_list(struct blk *b, struct blk_snapshot **out)
{
	*out = NULL;
	struct qcow2 *q = lock_qcow2(b);
	if (!q)
		return 0;
	struct blk_snapshot *l = calloc((size_t)(q->nb_snaps ? q->nb_snaps : 1), sizeof(*l));
	if (!l) {
		pthread_mutex_unlock(&q->lock);
		return -ENOMEM;
	}
	for (int i = 0; i < q->nb_snaps; i++) {
		struct qsnap *s = &q->snaps[i];
		snprintf(l[i].id, sizeof(l[i].id), "%s", s->id);
		snprintf(l[i].name, sizeof(l[i].name), "%s", s->name);
		l[i].vm_state_size = s->vm_state_size;
		l[i].date_sec = s->date_sec;
		l[i].date_nsec = s->date_nsec;
		l[i].vm_clock_nsec = s->vm_clock_nsec;
		l[i].disk_size = s->disk_size;
		l[i].icount = s->icount;
	}
	int n = q->nb_snaps;
	pthread_mutex_unlock(&q->lock);
	*out = l;
	return n;
}

int blk_snapshot_create(struct blk *b, const char *name, char *err, size_t errlen)
{
	struct qcow2 *q = lock_qcow2(b);
	int ret;

	if (!q) {
		errf(err, errlen, "Snapshots are not supported by the format '%s'", b->drv->name);
		return -ENOTSUP;
	}
	if (b->readonly || q->corrupt) {
		errf(err, errlen, "the image is %s", q->corrupt ? "corrupt" : "read-only");
		ret = -EROFS;
		goto out;
	}
	if (q->has_df) {
		errf(err, errlen, "Could not create snapshot '%s': internal snapshots are not supported with an external data file", name);
		ret = -ENOTSUP;
		goto out;
	}
	if (strlen(name) > 65535 || q->nb_snaps >= QCOW2_MAX_SNAPSHOTS) {
		errf(err, errlen, "Too many snapshots or name too long");
		ret = -EFBIG;
		goto out;
	}
	/* A new id: one past the largest numeric one. */
	unsigned long maxid = 0;
	for (int i = 0; i < q->nb_snaps; i++) {
		unsigned long v = strtoul(q->snaps[i].id, NULL, 10);
		if (v > maxid)
			maxid = v;
	}
	if ((ret = qcow2_flush_caches(q, true)) < 0)
		goto io;
	/* The copy of the active L1 table. */
	int64_t l1off = 0;
	if (q->l1_size) {
		l1off = qcow2_alloc_clusters(q, (((uint64_t)q->l1_size * 8) + q->cs - 1) >> q->cluster_bits);
		if (l1off < 0) {
			ret = (int)l1off;
			goto io;
		}
	}
	/* References first (a crash now leaks), then the copy and the table. */
	if ((ret = qcow2_update_tree_refcounts(q, q->l1, q->l1_size, 1, true)) < 0)
		goto io;
	if (q->l1_size && (ret = write_l1(q, q->l1, q->l1_size, (uint64_t)l1off)) < 0)
		goto io;
	struct qsnap *ns = realloc(q->snaps, sizeof(*ns) * (size_t)(q->nb_snaps + 1));
	if (!ns) {
		ret = -ENOMEM;
		goto io;
	}
	q->snaps = ns;
	struct qsnap *s = &ns[q->nb_snaps];
	memset(s, 0, sizeof(*s));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char idbuf[32];
	snprintf(idbuf, sizeof(idbuf), "%lu", maxid + 1);
	s->id = strdup(idbuf);
	s->name = strdup(name);
	s->l1_off = (uint64_t)l1off;
	s->l1_size = q->l1_size;
	s->date_sec = (uint32_t)now.tv_sec;
	s->date_nsec = (uint32_t)now.tv_nsec;
	s->disk_size = b->size;
	s->icount = UINT64_MAX;
	s->extra_size = 24;
	if (!s->id || !s->name) {
		free(s->id);
		free(s->name);
		ret = -ENOMEM;
		goto io;
	}
	if ((ret = write_table(q, ns, q->nb_snaps + 1)) < 0) {
		free(s->id);
		free(s->name);
		goto io;
	}
	q->nb_snaps++;
	ret = qcow2_flush_caches(q, true);
io:
	if (ret < 0)
		errf(err, errlen, "Could not create snapshot '%s': %s", name, strerror(-ret));
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int blk_snapshot_apply(struct blk *b, const char *name, char *err, size_t errlen)
{
	struct qcow2 *q = lock_qcow2(b);
	uint64_t *sl1 = NULL, *old = NULL;
	int ret;

	if (!q) {
		errf(err, errlen, "Snapshots are not supported by the format '%s'", b->drv->name);
		return -ENOTSUP;
	}
	int i = find_snap(q, name);
	if (i < 0) {
		errf(err, errlen, "Could not apply snapshot '%s': snapshot not found", name);
		ret = -ENOENT;
		goto out;
	}
	if (b->readonly || q->corrupt) {
		errf(err, errlen, "the image is %s", q->corrupt ? "corrupt" : "read-only");
		ret = -EROFS;
		goto out;
	}
	struct qsnap *s = &q->snaps[i];
	/* Switching snapshots changes the whole disk, for the bitmaps. */
	if ((ret = qcow2_bitmaps_prepare(q)) < 0 ||
	    (ret = qcow2_bitmaps_mark(q, 0, b->size)) < 0)
		goto io;
	if ((ret = qcow2_flush_caches(q, true)) < 0)
		goto io;
	uint64_t need = qcow2_l1_entries_for(q, s->disk_size);
	if (need < s->l1_size)
		need = s->l1_size;
	if ((ret = qcow2_grow_l1(q, need)) < 0)
		goto io;
	if ((ret = read_l1(q, s->l1_off, s->l1_size, &sl1)) < 0)
		goto io;
	/* The snapshot's tree gains the active reference... */
	if ((ret = qcow2_update_tree_refcounts(q, sl1, s->l1_size, 1, false)) < 0)
		goto io;
	if ((ret = qcow2_flush_caches(q, true)) < 0)
		goto io;
	old = malloc((size_t)q->l1_size * 8);
	if (!old) {
		ret = -ENOMEM;
		goto io;
	}
	memcpy(old, q->l1, (size_t)q->l1_size * 8);
	memset(q->l1, 0, (size_t)q->l1_size * 8);
	memcpy(q->l1, sl1, (size_t)s->l1_size * 8);
	if ((ret = write_l1(q, q->l1, q->l1_size, q->l1_off)) < 0 || (ret = file_flush(q->f)) < 0)
		goto io;
	/* ...the old active tree loses it... */
	if ((ret = qcow2_update_tree_refcounts(q, old, q->l1_size, -1, false)) < 0)
		goto io;
	/* ...and the COPIED flags follow. */
	if ((ret = qcow2_update_tree_refcounts(q, q->l1, q->l1_size, 0, true)) < 0)
		goto io;
	q->dbuf_entry = 0;
	if (s->disk_size != b->size) {
		uint8_t v[8];
		put_be64(v, s->disk_size);
		if ((ret = qcow2_write_header_field(q, 24, v, 8)) < 0)
			goto io;
		b->size = s->disk_size;
	}
	ret = qcow2_flush_caches(q, true);
io:
	if (ret < 0)
		errf(err, errlen, "Could not apply snapshot '%s': %s", name, strerror(-ret));
out:
	free(sl1);
	free(old);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int blk_snapshot_delete(struct blk *b, const char *name, char *err, size_t errlen)
{
	struct qcow2 *q = lock_qcow2(b);
	uint64_t *sl1 = NULL;
	int ret;

	if (!q) {
		errf(err, errlen, "Snapshots are not supported by the format '%s'", b->drv->name);
		return -ENOTSUP;
	}
	int i = find_snap(q, name);
	if (i < 0) {
		errf(err, errlen, "Could not delete snapshot '%s': snapshot not found", name);
		ret = -ENOENT;
		goto out;
	}
	if (b->readonly || q->corrupt) {
		errf(err, errlen, "the image is %s", q->corrupt ? "corrupt" : "read-only");
		ret = -EROFS;
		goto out;
	}
	struct qsnap gone = q->snaps[i];
	if ((ret = qcow2_flush_caches(q, true)) < 0)
		goto io;
	if ((ret = read_l1(q, gone.l1_off, gone.l1_size, &sl1)) < 0)
		goto io;
	/* The table without it first; then its references go. */
	memmove(&q->snaps[i], &q->snaps[i + 1], sizeof(*q->snaps) * (size_t)(q->nb_snaps - i - 1));
	q->nb_snaps--;
	if ((ret = write_table(q, q->snaps, q->nb_snaps)) < 0) {
		memmove(&q->snaps[i + 1], &q->snaps[i], sizeof(*q->snaps) * (size_t)(q->nb_snaps - i));
		q->snaps[i] = gone;
		q->nb_snaps++;
		goto io;
	}
	if ((ret = qcow2_update_tree_refcounts(q, sl1, gone.l1_size, -1, false)) < 0)
		goto freed;
	if (gone.l1_size && (ret = qcow2_free_range(q, gone.l1_off, (uint64_t)gone.l1_size * 8)) < 0)
		goto freed;
	ret = qcow2_update_tree_refcounts(q, q->l1, q->l1_size, 0, true);
	if (ret >= 0)
		ret = qcow2_flush_caches(q, true);
freed:
	free(gone.id);
	free(gone.name);
	free(gone.extra);
io:
	if (ret < 0)
		errf(err, errlen, "Could not delete snapshot '%s': %s", name, strerror(-ret));
out:
	free(sl1);
	pthread_mutex_unlock(&q->lock);
	return ret;
}
