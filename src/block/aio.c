/* SPDX-License-Identifier: Apache-2.0 */
/* Asynchronous block I/O: io_uring for raw files, a thread pool for the rest. */
#include "block/aio.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/iothread.h"
#include "util/iov.h"
#include "util/log.h"

#define POOL_THREADS 4

struct req_list {
	struct blk_aio_req *head, *tail;
};

struct blk_aio {
	char name[32];
	struct blk *blk;
	int efd;                       /* completions ready (both paths) */

	bool uring_ok;
	struct io_uring ring;
	unsigned uring_queued;         /* prepared, not yet submitted */
	unsigned uring_inflight;

	pthread_mutex_t lock;          /* the pool's lists */
	pthread_cond_t cond;
	struct req_list todo, done;
	bool stop;
	int nthreads;
	pthread_t thread[POOL_THREADS];
};

static void list_add(struct req_list *l, struct blk_aio_req *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
}

/* The synchronous call for what is left of r (uring may have done part). */
static int pool_exec(struct blk *b, struct blk_aio_req *r)
{
	struct iovec *iov;
	int n, rc;

	switch (r->op) {
	case BLK_AIO_FLUSH:
		return blk_flush(b);
	case BLK_AIO_DISCARD:
		return blk_discard(b, r->offset, r->len);
	case BLK_AIO_WRITE_ZEROES:
		return blk_write_zeroes(b, r->offset, r->len, r->unmap);
	default:
		break;
	}
	if (!r->done)
		return r->op == BLK_AIO_READ ? blk_preadv(b, r->iov, r->iovcnt, r->offset)
					     : blk_pwritev(b, r->iov, r->iovcnt, r->offset);
	iov = calloc((size_t)r->iovcnt, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	n = iov_sub(r->iov, (unsigned)r->iovcnt, r->done, r->len - r->done, iov,
		    (unsigned)r->iovcnt);
	rc = n < 0 ? -EINVAL
	     : r->op == BLK_AIO_READ ? blk_preadv(b, iov, n, r->offset + r->done)
				     : blk_pwritev(b, iov, n, r->offset + r->done);
	free(iov);
	return rc;
}

static void *pool_main(void *arg)
{
	struct blk_aio *a = arg;
	struct blk_aio_req *r;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->todo.head && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		r = a->todo.head;
		if (!r)
			break;
		a->todo.head = r->next;
		if (!a->todo.head)
			a->todo.tail = NULL;
		pthread_mutex_unlock(&a->lock);
		r->ret = pool_exec(a->blk, r);
		pthread_mutex_lock(&a->lock);
		list_add(&a->done, r);
		eventfd_signal(a->efd);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void pool_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	pthread_mutex_lock(&a->lock);
	list_add(&a->todo, r);
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static bool uring_can(const struct blk_aio *a, const struct blk_aio_req *r)
{
	return a->uring_ok && (r->op == BLK_AIO_READ || r->op == BLK_AIO_WRITE ||
			       r->op == BLK_AIO_FLUSH);
}

static void uring_prep(struct blk_aio *a, struct blk_aio_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);
	int fd = blk_direct_fd(a->blk);

	if (!sqe) {
		blk_aio_flush_submissions(a);
		sqe = io_uring_get_sqe(&a->ring);
	}
	if (!sqe) {
		pool_submit(a, r);
		return;
	}
	if (r->op == BLK_AIO_FLUSH)
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	else if (r->op == BLK_AIO_READ)
		io_uring_prep_readv(sqe, fd, r->iov, (unsigned)r->iovcnt, r->offset);
	else
		io_uring_prep_writev(sqe, fd, r->iov, (unsigned)r->iovcnt, r->offset);
	io_uring_sqe_set_data(sqe, r);
	a->uring_queued++;
	a->uring_inflight++;
}

void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	r->ret = 0;
	r->done = 0;
	if (r->op == BLK_AIO_READ || r->op == BLK_AIO_WRITE)
		r->len = 0;
	for (int i = 0; (r->op == BLK_AIO_READ || r->op == BLK_AIO_WRITE) && i < r->iovcnt; i++)
		r->len += r->iov[i].iov_len;
	if (uring_can(a, r))
		uring_prep(a, r);
	else
		pool_submit(a, r);
}

void blk_aio_flush_submissions(struct blk_aio *a)
{
	int rc;

	if (!a->uring_queued)
		return;
	rc = io_uring_submit(&a->ring);
	if (rc < 0)
		log_warn("%s: io_uring_submit: %s", a->name, strerror(-rc));
	else
		a->uring_queued -= (unsigned)rc < a->uring_queued ? (unsigned)rc : a->uring_queued;
}

/*
 * One io_uring completion: finished, or handed to the pool for the rest
 * (a short transfer) or for all of it (O_DIRECT refusing an unaligned buffer,
 * which the synchronous path bounces).
 */
static bool uring_complete(struct blk_aio *a, struct blk_aio_req *r, int res)
{
	a->uring_inflight--;
	if (res < 0) {
		if ((res == -EINVAL || res == -EAGAIN) && r->op != BLK_AIO_FLUSH) {
			pool_submit(a, r);
			return false;
		}
		r->ret = res;
		return true;
	}
	if (r->op == BLK_AIO_FLUSH)
		return true;
	r->done += (uint64_t)res;
	if (r->done < r->len) {
		pool_submit(a, r);
		return false;
	}
	return true;
}

int blk_aio_reap(struct blk_aio *a, struct blk_aio_req **out, int max)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	eventfd_drain(a->efd);
	while (a->uring_ok && n < max && io_uring_peek_cqe(&a->ring, &cqe) == 0) {
		struct blk_aio_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&a->ring, cqe);
		if (uring_complete(a, r, res))
			out[n++] = r;
	}
	pthread_mutex_lock(&a->lock);
	while (n < max && a->done.head) {
		out[n++] = a->done.head;
		a->done.head = a->done.head->next;
	}
	if (!a->done.head)
		a->done.tail = NULL;
	pthread_mutex_unlock(&a->lock);
	/* Whatever is left over must wake the caller again. */
	if (n == max)
		eventfd_signal(a->efd);
	return n;
}

int blk_aio_fd(const struct blk_aio *a)
{
	return a->efd;
}

static void uring_init(struct blk_aio *a, unsigned depth)
{
	int rc;

	if (blk_direct_fd(a->blk) < 0)
		return;
	rc = io_uring_queue_init(depth, &a->ring, 0);
	if (rc < 0) {
		log_info("%s: io_uring unavailable (%s); using a thread pool", a->name,
			 strerror(-rc));
		return;
	}
	if (io_uring_register_eventfd(&a->ring, a->efd) < 0) {
		io_uring_queue_exit(&a->ring);
		return;
	}
	a->uring_ok = true;
}

static int pool_start(struct blk_aio *a)
{
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; a->nthreads < POOL_THREADS && !rc; a->nthreads++)
		rc = pthread_create(&a->thread[a->nthreads], NULL, pool_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		a->nthreads--;
		log_err("%s: cannot start I/O workers: %s", a->name, strerror(rc));
		return -1;
	}
	return 0;
}

struct blk_aio *blk_aio_new(struct blk *b, unsigned depth, const char *name)
{
	struct blk_aio *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->blk = b;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		log_err("%s: eventfd: %s", name, strerror(errno));
		free(a);
		return NULL;
	}
	uring_init(a, depth);
	if (pool_start(a)) {
		blk_aio_free(a);
		return NULL;
	}
	return a;
}

void blk_aio_free(struct blk_aio *a)
{
	struct io_uring_cqe *cqe;

	if (!a)
		return;
	blk_aio_flush_submissions(a);
	while (a->uring_ok && a->uring_inflight && io_uring_wait_cqe(&a->ring, &cqe) == 0) {
		struct blk_aio_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&a->ring, cqe);
		uring_complete(a, r, res);
	}
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	for (int i = 0; i < a->nthreads; i++)
		pthread_join(a->thread[i], NULL);
	if (a->uring_ok)
		io_uring_queue_exit(&a->ring);
	close(a->efd);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
