/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CONTROL_QMP_H
#define VMON_CONTROL_QMP_H

/*
 * The QMP control socket (--qmp unix:PATH): QEMU's Machine Protocol on a
 * Unix socket, served by one thread, one client at a time (docs/qmp.md).
 *
 *   qmp_parse_spec   the --qmp argument, at option parsing
 *   qmp_open         binds the socket (before machine_create: a bad PATH
 *                    is a usage error, with nothing to tear down)
 *   qmp_start        after machine_create: hooks the machine's events and
 *                    starts serving
 *   qmp_stop         after machine_run: sends what is pending (the
 *                    SHUTDOWN event) and joins the thread
 *   qmp_close        after machine_destroy: closes and removes the socket
 */
#include <stddef.h>

struct machine;
struct qmp_server;

/* sizeof(sockaddr_un.sun_path): the longest socket path is one less. */
#define QMP_PATH_MAX 108

struct qmp_spec {
	char path[QMP_PATH_MAX];        /* "" when --qmp was not given */
};

/* "unix:PATH[,server[=on]][,wait=off|,nowait]" (",," is a comma in PATH);
 * 0, or -1 with a reason in err. */
int qmp_parse_spec(const char *arg, struct qmp_spec *spec, char *err, size_t errlen);

struct qmp_server *qmp_open(const struct qmp_spec *spec, char *err, size_t errlen);
int qmp_start(struct qmp_server *q, struct machine *m, char *err, size_t errlen);
void qmp_stop(struct qmp_server *q);
void qmp_close(struct qmp_server *q);

#endif
