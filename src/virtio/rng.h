/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_RNG_H
#define VMON_VIRTIO_RNG_H

#include "virtio/virtio.h"

/* virtio-rng (entropy) fed from the host's getrandom(). */
struct virtio_dev *virtio_rng_new(void);
void virtio_rng_free(struct virtio_dev *vd);

#endif
