/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QMP server: the socket, its thread, the one client's input and
 * output, and the machine's events on their way to it.  One thread does
 * all the socket work and runs every command, so commands never overlap
 * and the client state needs no lock; only the event queue is shared, with
 * whichever thread the machine emits from.
 */
#include "control/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/qmp_int.h"
#include "machine/machine.h"
#include "util/log.h"

/* How long vmon's exit waits for a slow client to take the last events. */
#define QMP_FINAL_FLUSH_MS 2000

/* ---- --qmp unix:PATH[,option...] ---------------------------------------- */

static int spec_option(const char *opt, char *err, size_t errlen)
{
	if (!strcmp(opt, "server") || !strcmp(opt, "server=on") || !strcmp(opt, "nowait") ||
	    !strcmp(opt, "wait=off"))
		return 0;
	if (!strcmp(opt, "server=off") || !strcmp(opt, "noserver"))
		return log_to_buf(err, errlen, "--qmp: the QMP socket is always a server (no server=off)");
	if (!strcmp(opt, "wait") || !strcmp(opt, "wait=on"))
		return log_to_buf(err, errlen, "--qmp: wait=on is not supported: vmon starts the guest "
				  "without waiting for a client");
	return log_to_buf(err, errlen, "--qmp: unknown option '%s' (server=on and wait=off are accepted)",
			  opt);
}

int qmp_parse_spec(const char *arg, struct qmp_spec *spec, char *err, size_t errlen)
{
	const char *p;
	size_t n = 0;

	*spec = (struct qmp_spec){ 0 };
	if (strncmp(arg, "unix:", 5))
		return log_to_buf(err, errlen, "--qmp wants unix:PATH[,server=on][,wait=off] "
				  "(QMP on a Unix socket only)");
	/* The path runs to the first lone comma; ",," is a comma in it (QEMU's rule). */
	for (p = arg + 5; *p && !(p[0] == ',' && p[1] != ','); p++) {
		if (*p == ',')
			p++;
		if (n + 1 >= sizeof(spec->path))
			return log_to_buf(err, errlen, "--qmp: the socket path is longer than %d bytes",
					  QMP_PATH_MAX - 1);
		spec->path[n++] = *p;
	}
	if (!n)
		return log_to_buf(err, errlen, "--qmp wants a socket path after unix:");
	while (*p == ',') {
		const char *end = strchr(++p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char opt[32];

		/* Too long for opt: cut short, it matches nothing and is reported. */
		snprintf(opt, sizeof(opt), "%.*s", (int)len, p);
		if (spec_option(opt, err, errlen))
			return -1;
		p += len;
	}
	return 0;
}

/* ---- the socket file ---------------------------------------------------- */

static void unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

/* A socket file nobody serves is left over from an earlier run: removed. */
static int remove_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, busy;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : log_to_buf(err, errlen, "--qmp: %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return log_to_buf(err, errlen, "--qmp: %s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_to_buf(err, errlen, "--qmp: socket: %s", strerror(errno));
	unix_addr(path, &sa);
	busy = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (!busy && errno != ECONNREFUSED) {
		log_to_buf(err, errlen, "--qmp: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (busy)
		return log_to_buf(err, errlen, "--qmp: %s: another process is serving this socket", path);
	if (unlink(path) && errno != ENOENT)
		return log_to_buf(err, errlen, "--qmp: cannot remove the stale socket %s: %s", path,
				  strerror(errno));
	return 0;
}

static int listen_on(struct qmp_server *q, char *err, size_t errlen)
{
	const char *path = q->spec.path;
	struct sockaddr_un sa;
	struct stat st;

	if (remove_stale(path, err, errlen))
		return -1;
	q->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->listen_fd < 0)
		return log_to_buf(err, errlen, "--qmp: socket: %s", strerror(errno));
	unix_addr(path, &sa);
	if (bind(q->listen_fd, (struct sockaddr *)&sa, sizeof(sa)))
		return log_to_buf(err, errlen, "--qmp: %s: %s", path, strerror(errno));
	if (lstat(path, &st) || listen(q->listen_fd, 4)) {
		log_to_buf(err, errlen, "--qmp: %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	q->sock_dev = st.st_dev;
	q->sock_ino = st.st_ino;
	return 0;
}

struct qmp_server *qmp_open(const struct qmp_spec *spec, char *err, size_t errlen)
{
	struct qmp_server *q = calloc(1, sizeof(*q));

	if (!q) {
		log_to_buf(err, errlen, "--qmp: out of memory");
		return NULL;
	}
	q->spec = *spec;
	q->client.fd = -1;
	q->listen_fd = -1;
	q->wake_fd = -1;
	qmp_frame_init(&q->client.frame, QMP_MSG_MAX, QMP_DEPTH_MAX);
	pthread_mutex_init(&q->ev_lock, NULL);
	if (listen_on(q, err, errlen)) {
		qmp_close(q);
		return NULL;
	}
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->wake_fd < 0) {
		log_to_buf(err, errlen, "--qmp: eventfd: %s", strerror(errno));
		qmp_close(q);
		return NULL;
	}
	return q;
}

/* ---- events ------------------------------------------------------------- */

static const char *const event_names[] = {
	[MACHINE_EV_STOP] = "STOP", [MACHINE_EV_RESUME] = "RESUME",
	[MACHINE_EV_SHUTDOWN] = "SHUTDOWN", [MACHINE_EV_POWERDOWN] = "POWERDOWN",
	[MACHINE_EV_RESET] = "RESET",
};

/* QEMU's shutdown_caused_by_guest(): the causes from guest-shutdown on. */
static int caused_by_guest(const char *reason)
{
	return !strncmp(reason, "guest-", 6) || !strcmp(reason, "subsystem-reset") ||
	       !strcmp(reason, "snapshot-load");
}

/* The event as the line the client will read, or NULL (out of memory). */
static char *event_line(enum machine_event ev, const char *reason)
{
	struct timespec ts;
	json_t *e;
	char *line;

	clock_gettime(CLOCK_REALTIME, &ts);
	e = json_pack("{s:{s:I,s:I},s:s}", "timestamp", "seconds", (json_int_t)ts.tv_sec,
		      "microseconds", (json_int_t)(ts.tv_nsec / 1000), "event", event_names[ev]);
	if (e && (ev == MACHINE_EV_SHUTDOWN || ev == MACHINE_EV_RESET)) {
		reason = reason ? reason : "none";
		json_object_set_new(e, "data", json_pack("{s:b,s:s}", "guest", caused_by_guest(reason),
							 "reason", reason));
	}
	line = e ? json_dumps(e, JSON_ENSURE_ASCII) : NULL;
	json_decref(e);
	return line;
}

static void wake(struct qmp_server *q)
{
	uint64_t one = 1;

	if (write(q->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("qmp: eventfd: %s", strerror(errno));
}

/* The machine's hook: any thread, so it only queues and wakes the server. */
static void qmp_on_event(void *opaque, enum machine_event ev, const char *reason)
{
	struct qmp_server *q = opaque;
	char *line = event_line(ev, reason), *dropped = NULL;

	if (!line)
		return;
	pthread_mutex_lock(&q->ev_lock);
	if (q->ev_count == QMP_EVENTS_MAX) {
		dropped = q->ev[q->ev_head];
		q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
		q->ev_count--;
	}
	q->ev[(q->ev_head + q->ev_count) % QMP_EVENTS_MAX] = line;
	q->ev_count++;
	pthread_mutex_unlock(&q->ev_lock);
	free(dropped);
	wake(q);
}

/* Takes the queued events out; *n of them. */
static unsigned take_events(struct qmp_server *q, char **out)
{
	unsigned n;

	pthread_mutex_lock(&q->ev_lock);
	n = q->ev_count;
	for (unsigned i = 0; i < n; i++)
		out[i] = q->ev[(q->ev_head + i) % QMP_EVENTS_MAX];
	q->ev_head = 0;
	q->ev_count = 0;
	pthread_mutex_unlock(&q->ev_lock);
	return n;
}

void qmp_events_discard(struct qmp_server *q)
{
	char *ev[QMP_EVENTS_MAX];
	unsigned n = take_events(q, ev);

	for (unsigned i = 0; i < n; i++)
		free(ev[i]);
}

/* ---- the client's output ------------------------------------------------ */

static void out_append(struct qmp_client *c, const char *s, size_t n)
{
	if (buf_append(&c->out, s, n)) {
		log_warn("qmp: out of memory for the client's output; disconnecting it");
		c->eof = 1;
		c->out.len = 0;
	}
}

/* QEMU ends every message with CRLF. */
static void send_line(struct qmp_client *c, const char *line)
{
	out_append(c, line, strlen(line));
	out_append(c, "\r\n", 2);
}

static void send_json(struct qmp_client *c, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_ENSURE_ASCII) : NULL;

	if (s)
		send_line(c, s);
	else
		send_line(c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"out of memory\"}}");
	free(s);
}

/* Hands queued events to a client past negotiation; drops them otherwise,
 * as QEMU sends no event before qmp_capabilities. */
static void drain_events(struct qmp_server *q)
{
	struct qmp_client *c = &q->client;
	char *ev[QMP_EVENTS_MAX];
	unsigned n = take_events(q, ev);

	for (unsigned i = 0; i < n; i++) {
		if (c->fd >= 0 && c->command_mode)
			send_line(c, ev[i]);
		free(ev[i]);
	}
}

/* Sends what the socket takes now; -1 when the client is gone. */
static int client_write(struct qmp_client *c)
{
	size_t done = 0;
	int rc = 0;

	while (done < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + done, c->out.len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
			break;
		}
		done += (size_t)n;
	}
	memmove(c->out.data, c->out.data + done, c->out.len - done);
	c->out.len -= done;
	return rc;
}

/* ---- the client's input ------------------------------------------------- */

static json_t *parse_message(struct qmp_server *q, const char *msg, size_t len)
{
	json_error_t je;
	json_t *req = json_loadb(msg, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je), *rsp;

	if (!req)
		return qmp_error_reply("GenericError", "JSON parse error, %s", je.text);
	rsp = qmp_dispatch(q, &q->client, req);
	json_decref(req);
	return rsp;
}

static void on_message(void *opaque, enum qmp_frame_kind kind, const char *msg, size_t len)
{
	struct qmp_server *q = opaque;
	json_t *rsp;

	if (q->client.fd < 0)
		return;
	if (kind == QMP_FRAME_TOO_LONG)
		rsp = qmp_error_reply("GenericError", "JSON parse error, message longer than %u bytes "
				      "(skipped to the end of the line)", QMP_MSG_MAX);
	else if (kind == QMP_FRAME_TOO_DEEP)
		rsp = qmp_error_reply("GenericError", "JSON parse error, nesting deeper than %d "
				      "(skipped to the end of the line)", QMP_DEPTH_MAX);
	else
		rsp = parse_message(q, msg, len);
	/* What the command made happen is told before its reply, as QEMU does. */
	drain_events(q);
	send_json(&q->client, rsp);
	json_decref(rsp);
}

static void client_read(struct qmp_server *q)
{
	struct qmp_client *c = &q->client;
	char buf[65536];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		c->eof = 1;             /* a partial message dies with the connection */
		return;
	}
	if (qmp_frame_feed(&c->frame, buf, (size_t)n, on_message, q)) {
		log_warn("qmp: out of memory for the client's input; disconnecting it");
		c->eof = 1;
		c->out.len = 0;
	}
}

/* ---- connections -------------------------------------------------------- */

static void client_close(struct qmp_server *q)
{
	struct qmp_client *c = &q->client;

	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->out.len = 0;
	qmp_frame_reset(&c->frame);
	log_debug("qmp: client disconnected");
}

static void client_accept(struct qmp_server *q)
{
	struct qmp_client *c = &q->client;
	int fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	json_t *greeting;

	if (fd < 0) {
		/* Out of descriptors: the backlog stays readable, so do not spin. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn("qmp: accept: %s", strerror(errno));
			nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
		}
		return;
	}
	c->fd = fd;
	c->command_mode = 0;
	c->eof = 0;
	c->out.len = 0;
	qmp_frame_reset(&c->frame);
	greeting = json_pack("{s:{s:o,s:[]}}", "QMP", "version", qmp_version_json(), "capabilities");
	send_json(c, greeting);
	json_decref(greeting);
	log_debug("qmp: client connected");
}

/* One round of the server loop: waits for the socket, the client or an event. */
static void serve_once(struct qmp_server *q)
{
	struct qmp_client *c = &q->client;
	struct pollfd p[2] = { { .fd = q->wake_fd, .events = POLLIN } };
	uint64_t v;

	if (c->fd >= 0) {
		p[1].fd = c->fd;
		/* A client that does not read its replies is not read either. */
		p[1].events = (c->eof || c->out.len >= QMP_OUT_THROTTLE ? 0 : POLLIN) |
			      (c->out.len ? POLLOUT : 0);
	} else {
		p[1].fd = q->listen_fd;
		p[1].events = POLLIN;
	}
	if (poll(p, 2, -1) < 0)
		return;
	if (p[0].revents && read(q->wake_fd, &v, sizeof(v)) >= 0)
		drain_events(q);
	if (c->fd < 0) {
		if (p[1].revents)
			client_accept(q);
		return;
	}
	if (p[1].revents & POLLIN)
		client_read(q);
	else if ((p[1].revents & (POLLHUP | POLLERR)) && !c->out.len)
		c->eof = 1;
	if (client_write(c)) {
		c->out.len = 0;         /* gone: nobody to send the rest to */
		c->eof = 1;
	}
	if (c->out.len > QMP_OUT_DROP) {
		log_warn("qmp: the client reads nothing of %zu bytes of replies and events; "
			 "disconnecting it", c->out.len);
		c->out.len = 0;
		c->eof = 1;
	}
	if (c->eof && !c->out.len)
		client_close(q);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* At vmon's exit: the SHUTDOWN event and any last replies, if the client
 * takes them in time. */
static void final_flush(struct qmp_server *q)
{
	struct qmp_client *c = &q->client;
	int64_t end = now_ms() + QMP_FINAL_FLUSH_MS;

	drain_events(q);
	while (c->fd >= 0 && c->out.len && !client_write(c) && c->out.len) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		int64_t left = end - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
	}
	client_close(q);
}

static void *qmp_thread(void *arg)
{
	struct qmp_server *q = arg;

	while (!atomic_load(&q->stop))
		serve_once(q);
	final_flush(q);
	return NULL;
}

int qmp_start(struct qmp_server *q, struct machine *m, char *err, size_t errlen)
{
	int rc;

	q->m = m;
	q->disks = qmp_block_probe(&m->cfg, err, errlen);
	if (!q->disks)
		return -1;
	machine_set_event_hook(m, qmp_on_event, q);
	rc = pthread_create(&q->thread, NULL, qmp_thread, q);
	if (rc) {
		machine_set_event_hook(m, NULL, NULL);
		return log_to_buf(err, errlen, "--qmp: cannot start the server thread: %s", strerror(rc));
	}
	q->thread_running = 1;
	log_debug("qmp: serving unix:%s", q->spec.path);
	return 0;
}

void qmp_stop(struct qmp_server *q)
{
	if (!q || !q->thread_running)
		return;
	atomic_store(&q->stop, 1);
	wake(q);
	pthread_join(q->thread, NULL);
	q->thread_running = 0;
}

/* Removes the socket file only if it is still the one this vmon made. */
static void remove_socket(struct qmp_server *q)
{
	struct stat st;

	if (q->sock_ino && !lstat(q->spec.path, &st) && st.st_dev == q->sock_dev &&
	    st.st_ino == q->sock_ino)
		unlink(q->spec.path);
}

void qmp_close(struct qmp_server *q)
{
	if (!q)
		return;
	qmp_stop(q);
	if (q->listen_fd >= 0)
		close(q->listen_fd);
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	remove_socket(q);
	qmp_events_discard(q);
	qmp_frame_free(&q->client.frame);
	buf_free(&q->client.out);
	json_decref(q->disks);
	pthread_mutex_destroy(&q->ev_lock);
	free(q);
}
