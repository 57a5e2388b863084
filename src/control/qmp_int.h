/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CONTROL_QMP_INT_H
#define VMON_CONTROL_QMP_INT_H

/* Shared by the QMP server's files: qmp.c (socket, thread, client I/O,
 * events), qmp_cmds.c (dispatch and commands), qmp_block.c (query-block). */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/qmp.h"
#include "control/qmp_frame.h"
#include "util/buf.h"

struct machine;
struct machine_config;

/* The QEMU release whose QMP dialect vmon speaks (greeting, query-version). */
#define QMP_QEMU_MAJOR 7
#define QMP_QEMU_MINOR 2
#define QMP_QEMU_MICRO 0

#define QMP_MSG_MAX      (1u << 20)     /* one JSON message */
#define QMP_DEPTH_MAX    1024           /* nesting, as QEMU's parser allows */
#define QMP_EVENTS_MAX   256            /* queued between two drains */
#define QMP_OUT_THROTTLE (1u << 20)     /* stop reading while replies pile up */
#define QMP_OUT_DROP     (16u << 20)    /* a client this far behind is dropped */

struct qmp_client {
	int fd;                 /* -1: nobody connected */
	int command_mode;       /* qmp_capabilities done */
	int eof;                /* the client shut its side: close once flushed */
	struct qmp_frame frame;
	struct buf out;         /* replies and events not yet sent */
};

enum qmp_mig_status { QMP_MIG_NONE, QMP_MIG_COMPLETED, QMP_MIG_FAILED };

struct qmp_migration {
	enum qmp_mig_status status;
	int64_t total_ms;
	char error[256];
};

struct qmp_server {
	struct qmp_spec spec;
	dev_t sock_dev;                 /* the socket file we made, to remove */
	ino_t sock_ino;                 /* only that one at the end */
	int listen_fd, wake_fd;
	struct machine *m;
	pthread_t thread;
	int thread_running;
	atomic_int stop;

	/* Events from any thread, as finished JSON lines, until the server
	 * thread hands them to the client (or drops them: nobody listening). */
	pthread_mutex_t ev_lock;
	char *ev[QMP_EVENTS_MAX];
	unsigned ev_head, ev_count;

	struct qmp_client client;
	struct qmp_migration mig;
	json_t *disks;                  /* per --disk facts for query-block */
};

struct qmp_error {
	const char *cls;                /* "GenericError", "CommandNotFound" */
	char desc[512];
};

/* qmp_cmds.c: the whole reply to one parsed message (id echoed). */
json_t *qmp_dispatch(struct qmp_server *q, struct qmp_client *c, json_t *req);
/* {"qemu": {...}, "package": ...}: query-version and the greeting. */
json_t *qmp_version_json(void);
/* A reply carrying only an error (for messages that did not parse). */
json_t *qmp_error_reply(const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* qmp.c: drops events queued so far (capabilities negotiation). */
void qmp_events_discard(struct qmp_server *q);

/* qmp_block.c: what query-block reports that does not change while vmon
 * runs, found by opening each --disk read-only; NULL with err. */
json_t *qmp_block_probe(const struct machine_config *cfg, char *err, size_t errlen);
json_t *qmp_block_query(json_t *disks, const struct machine_config *cfg);

#endif
