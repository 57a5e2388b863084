/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_NET_H
#define VMON_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

/* --net tap=NAME[,mac=MAC][,packed=on] */
struct virtio_net_opts {
	char tap[IFNAMSIZ];
	uint8_t mac[6];
	bool packed;                   /* offer VIRTIO_F_RING_PACKED */
};

/* Opens (creating when absent) the tap; NULL after an error line. */
struct virtio_dev *virtio_net_new(const struct virtio_net_opts *opts);
void virtio_net_free(struct virtio_dev *vd);
/* "52:54:00:12:34:56" (unicast only); -1 if malformed. */
int virtio_net_parse_mac(const char *s, uint8_t mac[6]);

#endif
