/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_BLK_H
#define VMON_VIRTIO_BLK_H

#include <limits.h>
#include <stdbool.h>

#include "virtio/virtio.h"

#define VIRTIO_BLK_ID_BYTES 20

/* --disk PATH[,format=raw|qcow2][,readonly=on][,cache=writeback|none][,serial=ID][,packed=on] */
struct virtio_blk_opts {
	char path[PATH_MAX];
	const char *format;            /* "raw", "qcow2", NULL: probe */
	bool readonly;
	bool cache_none;
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	bool packed;                   /* offer VIRTIO_F_RING_PACKED */
};

/* Opens the image; NULL after an error line. */
struct virtio_dev *virtio_blk_new(const struct virtio_blk_opts *opts);
void virtio_blk_free(struct virtio_dev *vd);

#endif
