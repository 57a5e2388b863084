/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_BLOCK_AIO_H
#define VMON_BLOCK_AIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/block.h"

/*
 * Asynchronous block I/O for one user thread (a device's I/O thread):
 * requests go to io_uring when the disk is a host file byte for byte
 * (blk_direct_fd), otherwise, and when io_uring is unavailable, to a small
 * pool of threads making the synchronous blk_* calls.  Completions are
 * collected by the same user thread when blk_aio_fd() becomes readable.
 */
enum blk_aio_op {
	BLK_AIO_READ, BLK_AIO_WRITE, BLK_AIO_FLUSH, BLK_AIO_DISCARD, BLK_AIO_WRITE_ZEROES,
};

struct blk_aio_req {
	enum blk_aio_op op;
	uint64_t offset, len;          /* bytes; len is implied by iov for I/O */
	struct iovec *iov;
	int iovcnt;
	bool unmap;                    /* WRITE_ZEROES may deallocate */
	int ret;                       /* on completion: 0 or -errno */
	void *opaque;                  /* the caller's */
	/* Internal. */
	uint64_t done;
	struct blk_aio_req *next;
};

struct blk_aio;

/* depth: the most requests in flight at once.  NULL after an error line. */
struct blk_aio *blk_aio_new(struct blk *b, unsigned depth, const char *name);
/* Waits for every request in flight, then frees. */
void blk_aio_free(struct blk_aio *a);
/* Readable when completions wait to be reaped. */
int blk_aio_fd(const struct blk_aio *a);
/* Queues r; errors come back as completions.  Submission happens at
 * blk_aio_flush_submissions(), once per batch. */
void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r);
void blk_aio_flush_submissions(struct blk_aio *a);
/* Completed requests, up to max; returns how many. */
int blk_aio_reap(struct blk_aio *a, struct blk_aio_req **out, int max);

#endif
