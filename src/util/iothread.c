/* SPDX-License-Identifier: Apache-2.0 */
#include "util/iothread.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

#define IOTHREAD_MAX_FDS 16

struct iothread_src {
	int fd;
	iothread_fn fn;
	void *opaque;
};

struct iothread {
	char name[16];
	int epfd, stopfd;
	pthread_t thread;
	int started;
	int nsrc;
	struct iothread_src src[IOTHREAD_MAX_FDS];
};

uint64_t eventfd_drain(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

void eventfd_signal(int fd)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is about to overflow: still signalled. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("eventfd write: %s", strerror(errno));
}

struct iothread *iothread_new(const char *name)
{
	struct iothread *t = calloc(1, sizeof(*t));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->epfd < 0 || t->stopfd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stopfd, &ev)) {
		log_err("%s: cannot set up an I/O thread: %s", name, strerror(errno));
		iothread_free(t);
		return NULL;
	}
	return t;
}

int iothread_add(struct iothread *t, int fd, uint32_t events, iothread_fn fn, void *opaque)
{
	struct iothread_src *s;
	struct epoll_event ev = { .events = events };

	if (t->nsrc == IOTHREAD_MAX_FDS)
		return -1;
	s = &t->src[t->nsrc];
	*s = (struct iothread_src){ fd, fn, opaque };
	ev.data.ptr = s;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		log_err("%s: epoll_ctl: %s", t->name, strerror(errno));
		return -1;
	}
	t->nsrc++;
	return 0;
}

int iothread_modify(struct iothread *t, int fd, uint32_t events)
{
	for (int i = 0; i < t->nsrc; i++) {
		struct epoll_event ev = { .events = events, .data.ptr = &t->src[i] };

		if (t->src[i].fd == fd)
			return epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &ev);
	}
	return -1;
}

static void *iothread_main(void *arg)
{
	struct iothread *t = arg;
	struct epoll_event ev[IOTHREAD_MAX_FDS + 1];

	for (;;) {
		int n = epoll_wait(t->epfd, ev, IOTHREAD_MAX_FDS + 1, -1);

		if (n < 0 && errno != EINTR) {
			log_err("%s: epoll_wait: %s", t->name, strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct iothread_src *s = ev[i].data.ptr;

			if (!s)
				return NULL;    /* the stop eventfd */
			s->fn(s->opaque, ev[i].events);
		}
	}
}

int iothread_start(struct iothread *t)
{
	sigset_t all, old;
	int rc;

	/* Signals are for the main and vCPU threads: the I/O thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->thread, NULL, iothread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (rc) {
		log_err("%s: cannot start its I/O thread: %s", t->name, strerror(rc));
		return -1;
	}
	pthread_setname_np(t->thread, t->name);
	t->started = 1;
	return 0;
}

void iothread_free(struct iothread *t)
{
	if (!t)
		return;
	if (t->started) {
		eventfd_signal(t->stopfd);
		pthread_join(t->thread, NULL);
	}
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->stopfd >= 0)
		close(t->stopfd);
	free(t);
}
