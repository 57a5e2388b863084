/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MACHINE_VIRTIO_H
#define VMON_MACHINE_MACHINE_VIRTIO_H

#include <stdint.h>

struct machine;
struct machine_config;

/* How many virtio devices the configuration asks for. */
int machine_virtio_count(const struct machine_config *cfg);
/* Which devices offer packed rings (packed=on): bit i for device i, in
 * the order they are created (disks, NICs, console, rng); and back. */
uint32_t machine_virtio_packed_mask(const struct machine_config *cfg);
void machine_virtio_set_packed(struct machine_config *cfg, uint32_t mask);
/* The PCI host bridge and the virtio devices the configuration asks for. */
int machine_virtio_create(struct machine *m);
/* Stops the devices' I/O (disks flushed) and frees them. */
void machine_virtio_destroy(struct machine *m);

/*
 * With every vCPU parked, from another thread: each device stops taking
 * work, completes what it took (used entries pushed, guest notified),
 * stops its I/O threads; disks are flushed.  -1 if a flush failed (all
 * paused anyway).  Resume restarts them; both may be repeated.
 */
int machine_virtio_pause(struct machine *m);
void machine_virtio_resume(struct machine *m);

struct snap_out;
struct snap_in;
/*
 * The PCI host ("pci-host") and one section per device, named by kind
 * ("virtio-blk", ...), instance = its index here.  Save: paused.  Load: on
 * a fresh machine of the same configuration before any vCPU runs; every
 * value checked, -1 with the error recorded in in.  Devices the snapshot
 * had running run again.
 */
void machine_virtio_save(struct machine *m, struct snap_out *o);
int machine_virtio_load(struct machine *m, struct snap_in *in);

#endif
