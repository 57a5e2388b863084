/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_BLOCK_BLOCK_H
#define VMON_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * The block layer: one API for vmon's disks and for vmon-img.  A struct blk
 * is an open image (raw, qcow2, ...) with its backing chain.  Offsets and
 * lengths are in bytes of the virtual disk.
 *
 * Calls are synchronous and thread-safe: virtio-blk issues them from several
 * I/O threads at once, and a driver serialises internally what it must.
 * Errors are negative errno values; reads past the end of the disk are
 * -EINVAL, reads of unallocated areas return zeroes (or the backing file's data).
 */

enum blk_cache {
	BLK_CACHE_WRITEBACK,  /* the host page cache; flush = fdatasync */
	BLK_CACHE_NONE,       /* O_DIRECT; the layer bounces unaligned buffers */
};

struct blk_open_opts {
	const char *format;     /* "raw", "qcow2", or NULL to probe */
	bool readonly;
	enum blk_cache cache;
	bool no_backing;        /* open the image alone, not its backing chain */
	bool creating;          /* a driver's create opening its new image: alone, it
	                           still writes the files it made (a qcow2 data file) */
};

struct blk;

/* Opens path; NULL after writing a one-line reason to err. */
struct blk *blk_open(const char *path, const struct blk_open_opts *opts,
		     char *err, size_t errlen);
/* Flushes and closes; the chain too. */
void blk_close(struct blk *b);

uint64_t blk_size(const struct blk *b);
bool blk_readonly(const struct blk *b);
const char *blk_format(const struct blk *b);

int blk_preadv(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset);
int blk_pwritev(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset);
int blk_pread(struct blk *b, void *buf, size_t len, uint64_t offset);
int blk_pwrite(struct blk *b, const void *buf, size_t len, uint64_t offset);
/* Everything written so far is on stable storage when this returns 0. */
int blk_flush(struct blk *b);
/* The range may read back as zeroes or as its old data afterwards. */
int blk_discard(struct blk *b, uint64_t offset, uint64_t len);
/* The range reads back as zeroes; may_unmap lets the driver deallocate it. */
int blk_write_zeroes(struct blk *b, uint64_t offset, uint64_t len, bool may_unmap);

/*
 * For asynchronous I/O straight to the host file (io_uring): the file
 * descriptor when the virtual disk is the file byte for byte (a raw image),
 * else -1.  Whoever uses it keeps to blk_size() and blk_readonly().
 */
int blk_direct_fd(const struct blk *b);

#endif
