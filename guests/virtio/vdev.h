/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_VIRTIO_VDEV_H
#define GUEST_VIRTIO_VDEV_H

/*
 * A minimal virtio 1.x driver over PCI for one queue (queue 0), polled:
 * no interrupts.  It keeps the ring layout in the open so the tests can
 * write anything they like into it.
 */
#include <stdint.h>

#define NAME "virtio"

#define VIRTIO_VENDOR      0x1af4
#define VIRTIO_DEV_NET     0x1041
#define VIRTIO_DEV_BLK     0x1042
#define VIRTIO_DEV_RNG     0x1044

#define S_ACKNOWLEDGE      1
#define S_DRIVER           2
#define S_DRIVER_OK        4
#define S_FEATURES_OK      8
#define S_NEEDS_RESET      0x40

#define F_INDIRECT_DESC    28
#define F_EVENT_IDX        29
#define F_VERSION_1        32
#define F_RING_PACKED      34

#define VQ_SIZE            16
#define D_NEXT             1
#define D_WRITE            2
#define D_INDIRECT         4

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vused_elem {
	uint32_t id, len;
};

/* One page each, so every ring is naturally aligned. */
struct vring_pages {
	struct vdesc desc[4096 / sizeof(struct vdesc)];
	uint16_t avail[2048];          /* flags, idx, ring[], used_event */
	uint32_t used[1024];           /* flags | idx << 16, elems[], avail_event */
	uint8_t scratch[4096];         /* indirect tables */
} __attribute__((aligned(4096)));

struct vdev {
	const char *name;
	unsigned slot;
	uint64_t bar0;
	uint64_t common, isr, devcfg, notify;
	uint32_t notify_mult;
	uint64_t want;                 /* features we ask for */
	uint64_t features;             /* negotiated */
	struct vring_pages *ring;
	uint16_t avail_idx, used_idx;  /* the driver's copies */
};

enum vq_wait { W_USED, W_RESET, W_TIMEOUT };

/* Finds the nth function with this device ID and maps its capabilities;
 * fails the guest if it is missing or malformed. */
void vdev_probe(struct vdev *d, const char *name, uint16_t device, unsigned nth,
		uint64_t want, struct vring_pages *ring);
uint8_t vdev_status(const struct vdev *d);
/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK read back. */
void vdev_negotiate(struct vdev *d);
/* Queue 0 with VQ_SIZE (or n) entries at the given ring addresses, enabled. */
void vdev_set_queue(struct vdev *d, uint64_t desc, uint64_t avail, uint64_t used);
void vdev_set_queue_n(struct vdev *d, uint16_t n, uint64_t desc, uint64_t avail, uint64_t used);
void vdev_driver_ok(struct vdev *d);
/* All of the above with the rings in d->ring: a fresh, running device. */
void vdev_start(struct vdev *d);
uint32_t vdev_cfg32(const struct vdev *d, unsigned off);

/* Descriptor i of the main table. */
void vq_desc(struct vdev *d, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
	     uint16_t next);
/* Puts head in the next avail slot, then publishes idx (normally +1). */
void vq_publish_idx(struct vdev *d, uint16_t head, uint16_t idx);
void vq_publish(struct vdev *d, uint16_t head);
/* Notifies queue 0. */
void vq_kick(const struct vdev *d);
/* Polls for the next used element or DEVICE_NEEDS_RESET. */
enum vq_wait vq_wait(struct vdev *d, struct vused_elem *e);

static inline uint64_t ptr_gpa(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif
