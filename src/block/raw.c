/* SPDX-License-Identifier: Apache-2.0 */
/* The raw driver: the virtual disk is the host file byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"

static int raw_probe(const uint8_t *buf, size_t len)
{
	(void)buf;
	(void)len;
	return 1;   /* anything is a raw image, but anything else wins */
}

static int raw_open(struct blk *b, char *err, size_t errlen)
{
	int64_t sz = file_size(&b->file);

	if (sz < 0) {
		errf(err, errlen, "%s: %s", b->filename, strerror((int)-sz));
		return (int)sz;
	}
	b->size = (uint64_t)sz;
	return 0;
}

static void raw_close(struct blk *b)
{
	(void)b;
}

static int raw_preadv(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return file_preadv(&b->file, iov, iovcnt, off);
}

static int raw_pwritev(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return file_pwritev(&b->file, iov, iovcnt, off);
}

static int raw_flush(struct blk *b)
{
	return file_flush(&b->file);
}

static int raw_discard(struct blk *b, uint64_t off, uint64_t len)
{
	int ret = file_punch(&b->file, off, len);
	return ret == -ENOTSUP ? 0 : ret;   /* discard is advisory */
}

static int raw_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	return file_zero(&b->file, off, len, may_unmap);
}

static int raw_block_status(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st)
{
	bool data;
	int ret = file_data_status(&b->file, off, len, &st->pnum, &data);

	if (ret < 0)
		return ret;
	st->flags = BLK_STATUS_ALLOCATED | BLK_STATUS_OFFSET_VALID |
		    (data ? BLK_STATUS_DATA : BLK_STATUS_ZERO);
	st->host_offset = off;
	return 0;
}

static int raw_truncate(struct blk *b, uint64_t size, bool shrink, char *err, size_t errlen)
{
	(void)shrink;
	int ret = file_truncate(&b->file, size);
	if (ret < 0) {
		errf(err, errlen, "%s: cannot resize: %s", b->filename, strerror(-ret));
		return ret;
	}
	b->size = size;
	return 0;
}

static int raw_create(const char *path, const struct blk_create_opts *o, char *err, size_t errlen)
{
	int ret = 0;

	if (o->backing) {
		errf(err, errlen, "Backing file not supported for file format 'raw'");
		return -EINVAL;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (ftruncate(fd, (off_t)o->size) < 0)
		ret = -errno;
	else if (o->prealloc == BLK_PREALLOC_FALLOC && o->size &&
		 (errno = posix_fallocate(fd, 0, (off_t)o->size)) != 0)
		ret = -errno;
	else if (o->prealloc == BLK_PREALLOC_FULL && o->size) {
		struct blk_file f = { .fd = fd, .align = 1 };
		ret = file_zero(&f, 0, o->size, false);
	}
	if (ret < 0)
		errf(err, errlen, "%s: %s", path, strerror(-ret));
	close(fd);
	return ret;
}

const struct blk_driver blk_raw_driver = {
	.name = "raw",
	.probe = raw_probe,
	.open = raw_open,
	.close = raw_close,
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.block_status = raw_block_status,
	.truncate = raw_truncate,
	.create = raw_create,
};
