/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_VIRTIO_VTEST_H
#define GUEST_VIRTIO_VTEST_H

/* What the legitimate tests (virtio.c) share with the garbage (garbage.c). */
#include "vdev.h"

#define SECTOR 512u

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_WRITE_ZEROES = 13 };

/* How a request ended. */
enum outcome { O_OK, O_IOERR, O_UNSUPP, O_DROPPED, O_NEEDS_RESET, O_TIMEOUT, O_BAD, O_COUNT };
#define ANY_ERROR (1u << O_IOERR | 1u << O_UNSUPP | 1u << O_DROPPED | 1u << O_NEEDS_RESET)

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

/* A request's buffers: header, data, status byte. */
struct blk_bufs {
	struct blk_hdr hdr;
	uint8_t data[4096] __attribute__((aligned(16)));
	uint8_t status;
};

extern struct blk_bufs blk_io;
/* First byte past the RAM that holds us, and a megabyte below it nothing uses. */
extern uint64_t ram_end, spare_ram;
extern uint64_t disk_sectors;

const char *outcome_name(enum outcome o);
/* Header, data (if len), status as descriptors 0, 1, 2; nothing published. */
void blk_prepare(struct vdev *d, uint32_t type, uint64_t sector, uint32_t len,
		 uint16_t data_flags);
/* Waits for the request with this head and tells how it ended. */
enum outcome blk_result(struct vdev *d, uint16_t head);
/* How a request that came back with this used length ended (status byte). */
enum outcome blk_outcome(uint32_t used_len);
enum outcome rng_result(struct vdev *d, uint16_t head);
/* A legitimate request on a healthy device must work; fails the guest if not. */
void blk_alive(struct vdev *d);
void rng_alive(struct vdev *d);

/* garbage.c */
void blk_garbage(struct vdev *d);
void rng_garbage(struct vdev *d);
/* xorshift64 for the random rounds; the seed makes them reproducible. */
void rnd_seed(uint32_t seed);
uint64_t rnd(void);
void rng_hammer(struct vdev *d, unsigned rounds);

/* net.c: only if there is a virtio-net device. */
void net_tests(uint64_t features, struct vring_pages *ring);

/* packed.c: the same disk on a packed ring (packed=on), legitimately and
 * with garbage; d probed with VIRTIO_F_RING_PACKED wanted. */
void packed_tests(struct vdev *d, unsigned hammer_rounds);

/* msix.c: interrupts from the disk's queue 0; leaves MSI-X off. */
void msix_tests(struct vdev *d);
/* intx.c: the same disk's INTx through the IOAPIC; leaves the pin masked. */
void intx_tests(struct vdev *d);

/* pci_garbage.c: leaves every device in any state. */
void pci_hammer(const struct vdev *const *devs, unsigned ndevs, unsigned rounds);

#endif
