/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block layer's front: opening an image (probing its format, then its
 * backing chain with loops refused), bounds and read-only checks, and the
 * calls that every driver shares.  See docs/block.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"

static const struct blk_driver *drivers[] = { &blk_qcow2_driver, &blk_raw_driver };

static const struct blk_driver *find_driver(const char *name)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

void blk_set_error(struct blk *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->errmsg, sizeof(b->errmsg), fmt, ap);
	va_end(ap);
}

const char *blk_last_error(const struct blk *b)
{
	return b->errmsg;
}

/* The backing file name as a path: relative names are relative to the
 * directory of the image that names them (as QEMU resolves them). */
char *blk_resolve_relative(const char *image, const char *name)
{
	if (name[0] == '/' || !strchr(image, '/'))
		return strdup(name);
	const char *slash = strrchr(image, '/');
	size_t dl = (size_t)(slash - image) + 1;
	char *p = malloc(dl + strlen(name) + 1);
	if (!p)
		return NULL;
	memcpy(p, image, dl);
	strcpy(p + dl, name);
	return p;
}

struct chain_seen {
	dev_t dev;
	ino_t ino;
	const struct chain_seen *next;
};

static struct blk *open_one(const char *path, const struct blk_open_opts *opts,
			    const struct chain_seen *seen, char *err, size_t errlen)
{
	struct blk *b = calloc(1, sizeof(*b));
	struct stat st;
	uint8_t head[512];
	const struct blk_driver *drv = NULL;
	int ret;

	if (!b) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	b->filename = strdup(path);
	b->readonly = opts->readonly;
	b->cache = opts->cache;
	b->no_backing = opts->no_backing;
	b->creating = opts->creating;
	if (!b->filename)
		goto fail_nomem;
	if (opts->format && !(drv = find_driver(opts->format))) {
		errf(err, errlen, "Unknown driver '%s'", opts->format);
		free(b->filename);
		free(b);
		return NULL;
	}
	if (file_open(&b->file, path, !opts->readonly, opts->cache == BLK_CACHE_NONE, err, errlen) < 0) {
		free(b->filename);
		free(b);
		return NULL;
	}
	if (fstat(b->file.fd, &st) == 0) {
		for (const struct chain_seen *s = seen; s; s = s->next) {
			if (s->dev == st.st_dev && s->ino == st.st_ino) {
				errf(err, errlen, "%s: backing file loop: the image is its own backing file", path);
				goto fail;
			}
		}
	}
	if (!drv) {
		int best = -1;
		if (file_pread(&b->file, head, sizeof(head), 0) < 0) {
			errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
			int s = drivers[i]->probe(head, sizeof(head));
			if (s > best) {
				best = s;
				drv = drivers[i];
			}
		}
	}
	b->drv = drv;
	ret = drv->open(b, err, errlen);
	if (ret < 0) {
		b->drv = NULL;
		goto fail;
	}
	if (b->backing_name && !opts->no_backing) {
		struct chain_seen me = { st.st_dev, st.st_ino, seen };
		struct blk_open_opts bo = {
			.format = b->backing_fmt, .readonly = true, .cache = opts->cache,
		};
		char berr[768];
		if (!strncmp(b->backing_name, "json:", 5)) {
			errf(err, errlen, "%s: backing file '%s': json: file names are not supported", path, b->backing_name);
			goto fail;
		}
		b->backing_path = blk_resolve_relative(path, b->backing_name);
		if (!b->backing_path)
			goto fail_nomem;
		if (b->backing_fmt && !find_driver(b->backing_fmt)) {
			errf(err, errlen, "%s: backing format '%s' is not supported", path, b->backing_fmt);
			goto fail;
		}
		b->backing = open_one(b->backing_path, &bo, &me, berr, sizeof(berr));
		if (!b->backing) {
			if (!strncmp(berr, "Could not open backing file", 27) || strstr(berr, "backing file loop"))
				errf(err, errlen, "%s", berr);
			else
				errf(err, errlen, "Could not open backing file: %s", berr);
			goto fail;
		}
	}
	return b;
fail_nomem:
	errf(err, errlen, "out of memory");
fail:
	blk_close(b);
	return NULL;
}

struct blk *blk_open(const char *path, const struct blk_open_opts *opts,
		     char *err, size_t errlen)
{
	static const struct blk_open_opts defaults;

	if (err && errlen)
		err[0] = 0;
	return open_one(path, opts ? opts : &defaults, NULL, err, errlen);
}

__thread bool blk_opening_for_check;

struct blk *blk_open_for_check(const char *path, const struct blk_open_opts *opts,
			       char *err, size_t errlen)
{
	blk_opening_for_check = true;
	struct blk *b = blk_open(path, opts, err, errlen);
	blk_opening_for_check = false;
	return b;
}

void blk_close(struct blk *b)
{
	if (!b)
		return;
	if (b->drv) {
		if (!b->readonly && b->drv->flush)
			b->drv->flush(b);
		b->drv->close(b);
	}
	blk_close(b->backing);
	file_close(&b->file);
	free(b->filename);
	free(b->backing_name);
	free(b->backing_fmt);
	free(b->backing_path);
	free(b);
}

uint64_t blk_size(const struct blk *b) { return b->size; }
bool blk_readonly(const struct blk *b) { return b->readonly; }
const char *blk_format(const struct blk *b) { return b->drv->name; }
struct blk *blk_backing(const struct blk *b) { return b->backing; }
const char *blk_filename(const struct blk *b) { return b->filename; }
const char *blk_backing_name(const struct blk *b) { return b->backing_name; }
const char *blk_backing_fmt(const struct blk *b) { return b->backing_fmt; }
const char *blk_backing_path(const struct blk *b) { return b->backing_path; }

void blk_set_cache_unsafe(struct blk *b, bool unsafe)
{
	b->file.unsafe = unsafe;
}

int blk_direct_fd(const struct blk *b)
{
	return b->drv == &blk_raw_driver ? b->file.fd : -1;
}

static int check_range(const struct blk *b, uint64_t off, uint64_t len)
{
	if (off > b->size || len > b->size - off)
		return -EINVAL;
	return 0;
}

int blk_preadv(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	if (iovcnt < 0)
		return -EINVAL;
	size_t len = iov_size(iov, iovcnt);
	int ret = check_range(b, offset, len);
	if (ret < 0 || !len)
		return ret;
	return b->drv->preadv(b, iov, iovcnt, offset);
}

int blk_pwritev(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	if (iovcnt < 0)
		return -EINVAL;
	size_t len = iov_size(iov, iovcnt);
	int ret = check_range(b, offset, len);
	if (ret < 0 || !len)
		return ret;
	if (b->readonly)
		return -EROFS;
	return b->drv->pwritev(b, iov, iovcnt, offset);
}

int blk_pread(struct blk *b, void *buf, size_t len, uint64_t offset)
{
	struct iovec v = { buf, len };
	return blk_preadv(b, &v, 1, offset);
}

int blk_pwrite(struct blk *b, const void *buf, size_t len, uint64_t offset)
{
	struct iovec v = { (void *)buf, len };
	return blk_pwritev(b, &v, 1, offset);
}

int blk_flush(struct blk *b)
{
	if (b->readonly)
		return 0;
	return b->drv->flush(b);
}

int blk_discard(struct blk *b, uint64_t offset, uint64_t len)
{
	int ret = check_range(b, offset, len);
	if (ret < 0 || !len)
		return ret;
	if (b->readonly)
		return -EROFS;
	return b->drv->discard ? b->drv->discard(b, offset, len) : 0;
}

int blk_write_zeroes(struct blk *b, uint64_t offset, uint64_t len, bool may_unmap)
{
	int ret = check_range(b, offset, len);
	if (ret < 0 || !len)
		return ret;
	if (b->readonly)
		return -EROFS;
	return b->drv->write_zeroes(b, offset, len, may_unmap);
}

int blk_read_backing(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	size_t len = iov_size(iov, iovcnt);
	struct blk *bk = b->backing;

	if (!bk || off >= bk->size) {
		iov_memset(iov, iovcnt, 0, 0, len);
		return 0;
	}
	if (len <= bk->size - off)
		return bk->drv->preadv(bk, iov, iovcnt, off);
	size_t in = (size_t)(bk->size - off);
	struct iovec sub[1024];
	int n = iov_slice(iov, iovcnt, 0, in, sub, 1024);
	if (n < 0)
		return -EINVAL;
	int ret = bk->drv->preadv(bk, sub, n, off);
	if (ret < 0)
		return ret;
	iov_memset(iov, iovcnt, in, 0, len - in);
	return 0;
}

/* ---- blk_admin.h ---- */

int blk_create(const char *path, const struct blk_create_opts *o, char *err, size_t errlen)
{
	const struct blk_driver *drv = find_driver(o->format ? o->format : "raw");

	if (!drv || !drv->create) {
		errf(err, errlen, "Unknown file format '%s'", o->format);
		return -EINVAL;
	}
	return drv->create(path, o, err, errlen);
}

int blk_block_status(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st)
{
	int ret = check_range(b, off, len);
	if (ret < 0)
		return ret;
	if (!len)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	ret = b->drv->block_status(b, off, len, st);
	if (ret >= 0 && (st->pnum == 0 || st->pnum > len))
		return -EIO;
	return ret;
}

int blk_block_status_chain(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st,
			   int *depth, struct blk **layer)
{
	uint64_t want = len;
	int d = 0;

	for (struct blk *cur = b; cur; cur = cur->backing, d++) {
		if (off >= cur->size) {
			/* Past the end of a shorter backing file: zeroes. */
			break;
		}
		uint64_t l = want < cur->size - off ? want : cur->size - off;
		int ret = blk_block_status(cur, off, l, st);
		if (ret < 0)
			return ret;
		if (st->flags & BLK_STATUS_ALLOCATED) {
			*depth = d;
			if (layer)
				*layer = cur;
			return 0;
		}
		want = st->pnum;   /* the next layer answers only for this much */
	}
	memset(st, 0, sizeof(*st));
	st->pnum = want;
	st->flags = BLK_STATUS_ZERO;
	*depth = -1;
	if (layer)
		*layer = NULL;
	return 0;
}

int blk_get_info(struct blk *b, struct blk_info *info)
{
	memset(info, 0, sizeof(*info));
	info->virtual_size = b->size;
	info->actual_size = file_allocated(&b->file);
	if (b->drv->info)
		return b->drv->info(b, info);
	return 0;
}

int blk_truncate(struct blk *b, uint64_t size, bool shrink, char *err, size_t errlen)
{
	if (b->readonly) {
		errf(err, errlen, "the image is open read-only");
		return -EROFS;
	}
	if (size < b->size && !shrink) {
		errf(err, errlen, "Use the --shrink option to perform a shrink operation.");
		return -EINVAL;
	}
	if (!b->drv->truncate) {
		errf(err, errlen, "Image format driver does not support resize");
		return -ENOTSUP;
	}
	return b->drv->truncate(b, size, shrink, err, errlen);
}

int blk_write_compressed(struct blk *b, const void *buf, size_t len, uint64_t off)
{
	int ret = check_range(b, off, len);
	if (ret < 0)
		return ret;
	if (b->readonly)
		return -EROFS;
	if (!b->drv->write_compressed)
		return -ENOTSUP;
	return b->drv->write_compressed(b, buf, len, off);
}

uint32_t blk_cluster_size(const struct blk *b)
{
	struct blk_info info;
	if (blk_get_info((struct blk *)b, &info) < 0)
		return 0;
	return info.cluster_size;
}

int blk_change_backing(struct blk *b, const char *name, const char *fmt)
{
	if (b->readonly)
		return -EROFS;
	if (!b->drv->change_backing)
		return -ENOTSUP;
	return b->drv->change_backing(b, name, fmt);
}

int blk_make_empty(struct blk *b)
{
	if (b->readonly)
		return -EROFS;
	if (!b->drv->make_empty)
		return -ENOTSUP;
	return b->drv->make_empty(b);
}
