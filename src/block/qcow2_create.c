/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Creating a qcow2 image (vmon-img create, blk_create): the options checked
 * as qemu-img checks them, the external data file made, the first three
 * clusters written (header, refcount table, one refcount block), then the
 * image opened through the driver to take its size and any preallocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2_int.h"

/* The options qemu-img refuses, with its messages; 0 or -EINVAL. */
static int create_check(const struct blk_create_opts *o, uint64_t cs, unsigned rbits, int version,
			char *err, size_t errlen)
{
	if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1))) {
		errf(err, errlen, "Cluster size must be a power of two between 512 and 2048k");
		return -EINVAL;
	}
	if (rbits > 64 || (rbits & (rbits - 1)) || !rbits) {
		errf(err, errlen, "Refcount width must be a power of two and may not exceed 64 bits");
		return -EINVAL;
	}
	if (version != 2 && version != 3) {
		errf(err, errlen, "Invalid compatibility level");
		return -EINVAL;
	}
	if (version == 2 && rbits != 16) {
		errf(err, errlen, "Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)");
		return -EINVAL;
	}
	if (version == 2 && (o->lazy_refcounts || o->extended_l2 || o->zstd)) {
		errf(err, errlen, "%s requires compat=1.1 or greater",
		     o->lazy_refcounts ? "Lazy refcounts" : o->extended_l2 ? "Extended L2 entries" : "Compression type zstd");
		return -EINVAL;
	}
	if (o->extended_l2 && cs < 16384) {
		errf(err, errlen, "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
		return -EINVAL;
	}
	if (o->backing && strlen(o->backing) > QCOW2_MAX_BACKING_NAME) {
		errf(err, errlen, "Backing file name too long");
		return -EINVAL;
	}
	if (o->data_file && version < 3) {
		errf(err, errlen, "External data files require compat=1.1 or greater");
		return -EINVAL;
	}
	if (o->data_file && o->backing && o->data_file_raw) {
		errf(err, errlen, "data_file_raw cannot be used with a backing file");
		return -EINVAL;
	}
	return 0;
}

/* The data file, created at the disk's size, and the header extension
 * naming it (q->kept_exts, which the caller frees). */
static int create_data_file(struct qcow2 *q, const struct blk_create_opts *o, char *err, size_t errlen)
{
	size_t nl = strlen(o->data_file), pl = (nl + 7) & ~(size_t)7;

	q->incompat |= QCOW2_INCOMPAT_DATAFILE;
	q->autoclear |= o->data_file_raw ? QCOW2_AUTOCLEAR_DATA_RAW : 0;
	q->kept_exts = calloc(1, 8 + pl);
	if (!q->kept_exts)
		return -ENOMEM;
	put_be32(q->kept_exts, QCOW2_EXT_DATAFILE);
	put_be32(q->kept_exts + 4, (uint32_t)nl);
	memcpy(q->kept_exts + 8, o->data_file, nl);
	q->kept_exts_len = 8 + pl;
	char *dp = strdup(o->data_file);
	int dfd = dp ? open(dp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	if (dfd < 0 || ftruncate(dfd, (off_t)o->size) < 0) {
		errf(err, errlen, "%s: cannot create the data file: %s", dp ? dp : o->data_file, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		free(dp);
		return -EIO;
	}
	close(dfd);
	free(dp);
	return 0;
}

/* An empty image of size 0: header, refcount table (one block) and that
 * block, each cluster counted once. */
static int create_write_clusters(struct qcow2 *q, const char *path, const struct blk_create_opts *o,
				 char *err, size_t errlen)
{
	uint64_t cs = q->cs;
	int ret;

	q->rt_off = cs;
	q->rt_clusters = 1;
	q->l1_off = 0;
	q->l1_size = 0;

	uint8_t *buf = calloc(3, cs);
	if (!buf)
		return -ENOMEM;
	int hret = qcow2_build_header(q, 0, o->backing, o->backing ? o->backing_fmt : NULL, buf, cs);
	if (hret < 0) {
		errf(err, errlen, "The backing file name does not fit in the header cluster (cluster size %llu)",
		     (unsigned long long)cs);
		free(buf);
		return -ENOSPC;
	}
	put_be64(buf + cs, 2 * cs);   /* refcount table: one block */
	rb_set(q, buf + 2 * cs, 0, 1);
	rb_set(q, buf + 2 * cs, 1, 1);
	rb_set(q, buf + 2 * cs, 2, 1);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		return ret;
	}
	struct blk_file f = { .fd = fd, .align = 1 };
	ret = file_pwrite(&f, buf, 3 * cs, 0);
	close(fd);
	free(buf);
	if (ret < 0)
		errf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

/*
 * Every guest cluster allocated up front, in L2-table-sized runs.  In an
 * external data file a cluster's place is its guest offset, and the file
 * already has the disk's size: nothing there is refcounted or grown.
 */
static int create_preallocate(struct blk *b, const struct blk_create_opts *o)
{
	struct qcow2 *q = QS(b);
	struct blk_file *f = dataf(q);
	uint64_t per = q->cs << q->l2_bits;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	for (uint64_t v = 0; v < o->size && ret >= 0; v += per) {
		uint64_t n = (o->size - v < per ? o->size - v : per);
		uint64_t ncl = (n + q->cs - 1) >> q->cluster_bits;
		uint64_t len = q->has_df ? n : ncl << q->cluster_bits;
		uint8_t *l2;
		if ((ret = qcow2_get_l2_alloc(q, v, &l2)) < 0)
			break;
		int64_t h = q->has_df ? (int64_t)v : qcow2_alloc_clusters(q, ncl);
		if (h < 0) {
			ret = (int)h;
			qcache_put(&q->l2c, l2, false);
			break;
		}
		if (o->prealloc == BLK_PREALLOC_FALLOC)
			ret = posix_fallocate(f->fd, (off_t)h, (off_t)len) ? -EIO : 0;
		else if (o->prealloc == BLK_PREALLOC_FULL)
			ret = file_zero(f, (uint64_t)h, len, false);
		else if (!q->has_df)
			ret = file_truncate(f, (uint64_t)h + len);
		for (uint64_t j = 0; j < ncl && ret >= 0; j++)
			put_be64(l2 + j * q->l2_entry_size, ((uint64_t)h + (j << q->cluster_bits)) | QCOW_OFLAG_COPIED);
		if (q->ext_l2)
			for (uint64_t j = 0; j < ncl; j++)
				put_be64(l2 + j * 16 + 8, 0xffffffffu);
		qcache_put(&q->l2c, l2, true);
	}
	if (ret >= 0)
		ret = qcow2_flush_caches(q, true);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int qcow2_create(const char *path, const struct blk_create_opts *o, char *err, size_t errlen)
{
	struct qcow2 q;
	uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
	unsigned rbits = o->refcount_bits ? o->refcount_bits : 16;
	int version = o->version ? o->version : 3;
	int ret;

	memset(&q, 0, sizeof(q));
	if ((ret = create_check(o, cs, rbits, version, err, errlen)) < 0)
		return ret;
	q.version = (uint32_t)version;
	q.cluster_bits = (unsigned)__builtin_ctzll(cs);
	q.cs = cs;
	q.refcount_order = (unsigned)__builtin_ctz(rbits);
	q.refcount_bits = rbits;
	q.rb_bits = q.cluster_bits + 3 - q.refcount_order;
	q.header_length = version >= 3 ? 112 : 72;
	q.compression_type = o->zstd ? 1 : 0;
	q.incompat = (o->zstd ? QCOW2_INCOMPAT_COMPRESS : 0) | (o->extended_l2 ? QCOW2_INCOMPAT_EXTL2 : 0);
	q.compat = o->lazy_refcounts ? QCOW2_COMPAT_LAZY : 0;
	if (o->data_file)
		ret = create_data_file(&q, o, err, errlen);
	if (ret >= 0)
		ret = create_write_clusters(&q, path, o, err, errlen);
	free(q.kept_exts);
	if (ret < 0)
		return ret;
	/* Then the size, through the driver: opened alone, yet writing the
	 * data file it just made. */
	struct blk_open_opts oo = { .format = "qcow2", .no_backing = true, .creating = true };
	char e2[512];
	struct blk *b = blk_open(path, &oo, e2, sizeof(e2));
	if (!b) {
		errf(err, errlen, "%s", e2);
		return -EIO;
	}
	ret = blk_truncate(b, o->size, false, e2, sizeof(e2));
	if (ret < 0)
		errf(err, errlen, "%s: %s", path, e2);
	if (ret >= 0 && o->prealloc != BLK_PREALLOC_OFF && o->size) {
		ret = create_preallocate(b, o);
		if (ret < 0)
			errf(err, errlen, "%s: preallocation failed: %s", path, strerror(-ret));
	}
	blk_close(b);
	return ret;
}
