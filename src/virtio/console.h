/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_CONSOLE_H
#define VMON_VIRTIO_CONSOLE_H

#include "virtio/virtio.h"

struct chardev;

/* A single-port virtio-console on chr, which the caller keeps open until
 * after virtio_console_free(). */
struct virtio_dev *virtio_console_new(struct chardev *chr);
void virtio_console_free(struct virtio_dev *vd);

#endif
