/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_NET_TAP_H
#define VMON_NET_TAP_H

#include <stddef.h>

/*
 * A Linux tap device carrying frames with a 12-byte virtio-net header in
 * front (IFF_VNET_HDR), so checksum and segmentation offloads pass straight
 * between the guest and the host kernel.  The tap is created when it does
 * not exist (which needs CAP_NET_ADMIN) and brought up.
 */
#define TAP_VNET_HDR_LEN 12

/* Non-blocking fd, or -1 after writing the reason to err. */
int tap_open(const char *name, char *err, size_t errlen);
/* Offloads the host may send up: TUN_F_* bits. */
int tap_set_offload(int fd, unsigned flags);

#endif
