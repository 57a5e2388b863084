/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_VIRTIO_MMIO_H
#define VMON_VIRTIO_VIRTIO_MMIO_H

#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"
#include "virtio/virtio.h"

/* Where vmon puts virtio-mmio devices: page i at VIRTIO_MMIO_BASE + i pages,
 * interrupt GSI VIRTIO_MMIO_GSI(i) (level, shared). */
#define VIRTIO_MMIO_BASE    0xfe000000ULL
#define VIRTIO_MMIO_SIZE    0x1000ULL
#define VIRTIO_MMIO_MAX     32
#define VIRTIO_MMIO_GSI(i)  (16u + (unsigned)(i) % 8u)

struct virtio_mmio;

struct virtio_mmio *virtio_mmio_new(struct bus *mmio, uint64_t base, struct irq_line irq,
				    struct virtio_dev *vd);
void virtio_mmio_free(struct virtio_mmio *t);

/* The whole device in and out of its open snapshot section (the virtio
 * core, the device model, the selectors); a load checks the device sits
 * at the same address, drives the interrupt line to the restored
 * InterruptStatus and starts a device the snapshot had running. */
struct snap_out;
struct snap_sec;
void virtio_mmio_save(struct virtio_mmio *t, struct snap_out *o);
int virtio_mmio_load(struct virtio_mmio *t, struct snap_sec *s);

#endif
