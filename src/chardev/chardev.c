/* SPDX-License-Identifier: Apache-2.0 */
#include "chardev/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "chardev/term.h"
#include "util/log.h"

#define CHARDEV_ESCAPE 0x01   /* Ctrl-A */
#define CHARDEV_PENDING 4096

enum chardev_kind { CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_NONE };

struct chardev {
	enum chardev_kind kind;
	int in_fd;          /* -1: no input */
	int out_fd;         /* -1: output discarded */
	int owns_out;
	int in_tty;
	int raw;
	int wake_fd;        /* eventfd: rx_ready and close wake the input thread */
	pthread_t thread;
	int has_thread;
	atomic_int stop;

	pthread_mutex_t lock;       /* guards the consumer below */
	pthread_cond_t idle;        /* signalled when a callback returns */
	int in_callback;
	size_t (*can_rx)(void *opaque);
	void (*rx)(void *opaque, const uint8_t *buf, size_t n);
	void *opaque;

	void (*on_quit)(void *opaque);
	void *quit_opaque;

	pthread_mutex_t write_lock;
	int write_failed;

	/* Owned by the input thread. */
	int escape;
	int in_eof;
	int warned_drop;
	size_t start, len;
	uint8_t pending[CHARDEV_PENDING];
};

static void chardev_wake(struct chardev *c)
{
	uint64_t one = 1;
	ssize_t r;

	if (c->wake_fd < 0)
		return;
	/* The counter cannot realistically saturate; a failed write still leaves it readable. */
	r = write(c->wake_fd, &one, sizeof(one));
	(void)r;
}

static void chardev_drain_wake(struct chardev *c)
{
	uint64_t v;
	ssize_t r = read(c->wake_fd, &v, sizeof(v));

	(void)r;
}

static void chardev_callback_done(struct chardev *c)
{
	pthread_mutex_lock(&c->lock);
	c->in_callback = 0;
	pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
}

/* Hands pending input to the consumer for as long as it takes some. */
static void chardev_deliver(struct chardev *c)
{
	while (c->len) {
		size_t (*can_rx)(void *);
		void (*rx)(void *, const uint8_t *, size_t);
		void *opaque;
		size_t room, n;

		pthread_mutex_lock(&c->lock);
		can_rx = c->can_rx;
		rx = c->rx;
		opaque = c->opaque;
		c->in_callback = can_rx && rx;
		pthread_mutex_unlock(&c->lock);
		if (!can_rx || !rx)
			return;
		/* No chardev lock held here: the consumer takes its own. */
		room = can_rx(opaque);
		n = room < c->len ? room : c->len;
		if (n)
			rx(opaque, c->pending + c->start, n);
		chardev_callback_done(c);
		if (!n)
			return;
		c->start += n;
		c->len -= n;
	}
	c->start = 0;
}

static void chardev_push(struct chardev *c, uint8_t b)
{
	if (c->len == CHARDEV_PENDING) {
		if (!c->warned_drop)
			log_warn("console input dropped: the guest is not reading it");
		c->warned_drop = 1;
		return;
	}
	if (c->start + c->len == CHARDEV_PENDING) {
		memmove(c->pending, c->pending + c->start, c->len);
		c->start = 0;
	}
	c->pending[c->start + c->len++] = b;
}

static void chardev_help(void)
{
	static const char help[] =
		"\r\nC-a x    exit vmon\r\nC-a C-a  send C-a\r\nC-a h    this help\r\n";
	ssize_t r = write(STDERR_FILENO, help, sizeof(help) - 1);

	(void)r;
}

/* The QEMU escape: Ctrl-A then a command letter; only on stdio. */
static void chardev_input_byte(struct chardev *c, uint8_t b)
{
	if (c->kind != CHARDEV_STDIO) {
		chardev_push(c, b);
		return;
	}
	if (!c->escape) {
		if (b == CHARDEV_ESCAPE)
			c->escape = 1;
		else
			chardev_push(c, b);
		return;
	}
	c->escape = 0;
	if (b == CHARDEV_ESCAPE)
		chardev_push(c, b);
	else if ((b == 'x' || b == 'X') && c->on_quit)
		c->on_quit(c->quit_opaque);
	else if (b == 'h' || b == '?')
		chardev_help();
	/* Anything else after the escape is swallowed, as QEMU does. */
}

static void chardev_read_input(struct chardev *c)
{
	uint8_t buf[256];
	ssize_t n = read(c->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->in_eof = 1;   /* EOF, hangup or a dead fd: stop polling it */
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		chardev_input_byte(c, buf[i]);
}

/*
 * A pipe is flow-controlled: while the pending buffer is full, stdin is not
 * read.  A terminal is always read so that Ctrl-A x works even when the
 * guest ignores its console; bytes beyond the buffer are then dropped, as a
 * real serial line would overrun.
 */
static void *chardev_input_thread(void *arg)
{
	struct chardev *c = arg;

	while (!atomic_load(&c->stop)) {
		struct pollfd fds[2];
		int want_in, nfds = 1;

		chardev_deliver(c);
		fds[0] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
		want_in = !c->in_eof && (c->len < CHARDEV_PENDING || c->in_tty);
		if (want_in) {
			fds[1] = (struct pollfd){ .fd = c->in_fd, .events = POLLIN };
			nfds = 2;
		}
		if (poll(fds, (nfds_t)nfds, -1) < 0)
			continue;
		if (fds[0].revents)
			chardev_drain_wake(c);
		if (want_in && fds[1].revents)
			chardev_read_input(c);
	}
	return NULL;
}

/* Signals belong to the main and vCPU threads, never to the input thread. */
static int chardev_start_thread(struct chardev *c)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&c->thread, NULL, chardev_input_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_err("cannot start the console input thread: %s", strerror(err));
		return -1;
	}
	c->has_thread = 1;
	return 0;
}

static struct chardev *chardev_alloc(enum chardev_kind kind)
{
	struct chardev *c = calloc(1, sizeof(*c));

	if (!c) {
		log_err("out of memory for the console");
		return NULL;
	}
	c->kind = kind;
	c->in_fd = -1;
	c->out_fd = -1;
	c->wake_fd = -1;
	atomic_init(&c->stop, 0);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_mutex_init(&c->write_lock, NULL);
	return c;
}

static int chardev_open_stdio(struct chardev *c)
{
	int raw;

	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0) {
		log_err("cannot create the console eventfd: %s", strerror(errno));
		return -1;
	}
	raw = term_raw_enter(STDIN_FILENO);
	if (raw < 0)
		return -1;
	c->raw = raw;
	c->in_tty = raw;
	return chardev_start_thread(c);
}

static int chardev_open_file(struct chardev *c, const char *path)
{
	if (!*path) {
		log_err("--serial file: needs a path");
		return -1;
	}
	c->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (c->out_fd < 0) {
		log_err("cannot open serial output %s: %s", path, strerror(errno));
		return -1;
	}
	c->owns_out = 1;
	return 0;
}

struct chardev *chardev_open(const char *spec, void (*on_quit)(void *), void *quit_opaque)
{
	struct chardev *c;
	int err;

	if (!spec)
		spec = "none";
	if (!strcmp(spec, "stdio"))
		c = chardev_alloc(CHARDEV_STDIO);
	else if (!strncmp(spec, "file:", 5))
		c = chardev_alloc(CHARDEV_FILE);
	else if (!strcmp(spec, "none"))
		c = chardev_alloc(CHARDEV_NONE);
	else {
		log_err("unknown serial backend '%s' (stdio, file:PATH or none)", spec);
		return NULL;
	}
	if (!c)
		return NULL;
	c->on_quit = on_quit;
	c->quit_opaque = quit_opaque;
	err = 0;
	if (c->kind == CHARDEV_STDIO)
		err = chardev_open_stdio(c);
	else if (c->kind == CHARDEV_FILE)
		err = chardev_open_file(c, spec + 5);
	if (err) {
		chardev_close(c);
		return NULL;
	}
	return c;
}

void chardev_set_input(struct chardev *c, size_t (*can_rx)(void *opaque),
		       void (*rx)(void *opaque, const uint8_t *buf, size_t n), void *opaque)
{
	pthread_mutex_lock(&c->lock);
	/*
	 * A consumer that goes away must not be called afterwards: wait out a
	 * callback in flight, unless this is that callback.
	 */
	if (!(c->has_thread && pthread_equal(pthread_self(), c->thread)))
		while (c->in_callback)
			pthread_cond_wait(&c->idle, &c->lock);
	c->can_rx = can_rx;
	c->rx = rx;
	c->opaque = opaque;
	pthread_mutex_unlock(&c->lock);
	chardev_wake(c);
}

void chardev_rx_ready(struct chardev *c)
{
	chardev_wake(c);
}

/* 0 when fd can take more, -1 when it never will. */
static int chardev_wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	return (p.revents & (POLLERR | POLLNVAL)) ? -1 : 0;
}

void chardev_write(struct chardev *c, const uint8_t *buf, size_t n)
{
	if (c->out_fd < 0)
		return;
	pthread_mutex_lock(&c->write_lock);
	while (n && !c->write_failed) {
		ssize_t w = write(c->out_fd, buf, n);

		if (w > 0) {
			buf += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			if (chardev_wait_writable(c->out_fd))
				c->write_failed = 1;
		} else {
			log_warn("serial output lost: %s", w < 0 ? strerror(errno) : "short write");
			c->write_failed = 1;
		}
	}
	pthread_mutex_unlock(&c->write_lock);
}

void chardev_close(struct chardev *c)
{
	if (!c)
		return;
	if (c->has_thread) {
		atomic_store(&c->stop, 1);
		chardev_wake(c);
		pthread_join(c->thread, NULL);
	}
	if (c->raw)
		term_raw_leave();
	if (c->owns_out)
		close(c->out_fd);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->write_lock);
	free(c);
}
