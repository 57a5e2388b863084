/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MACHINE_VIRTIO_H
#define VMON_MACHINE_MACHINE_VIRTIO_H

struct machine;
struct machine_config;

/* How many virtio devices the configuration asks for. */
int machine_virtio_count(const struct machine_config *cfg);
/* The PCI host bridge and the virtio devices the configuration asks for. */
int machine_virtio_create(struct machine *m);
/* Stops the devices' I/O (disks flushed) and frees them. */
void machine_virtio_destroy(struct machine *m);

#endif
