/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_VIRTQ_H
#define VMON_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "machine/memory.h"

/*
 * A virtqueue as the device sees it: split (virtio 1.x, 2.7) or packed
 * (VIRTIO_F_RING_PACKED, 2.8; virtq_packed.c), with indirect descriptors
 * and event-index notification suppression.  Everything in the rings is
 * the guest's and may be garbage at any moment: every index and address is
 * checked, chains are bounded by the queue size, and any violation makes
 * virtq_pop() fail so the device can ask for a reset.  The devices see the
 * same calls whichever layout the driver chose.
 *
 * One thread at a time pops and pushes a queue (the device's I/O thread).
 */
#define VIRTQ_MAX_SIZE 1024

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* Packed rings keep a ring position and its wrap counter in one u16, the
 * counter in bit 15 (as the event suppression structures do). */
#define VIRTQ_PACKED_WRAP     0x8000

struct virtq {
	const struct guest_mem *mem;
	/* Set by the transport, fixed while the queue is enabled. */
	uint16_t size;                 /* <= max_size; a power of two unless packed */
	uint16_t max_size;
	/* Split: descriptor table, avail ring, used ring.  Packed: descriptor
	 * ring, driver and device event suppression structures. */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool enabled;
	bool packed;                   /* VIRTIO_F_RING_PACKED negotiated (FEATURES_OK) */
	bool event_idx;                /* VIRTIO_F_RING_EVENT_IDX negotiated */
	uint16_t msix_vector;

	/* Host views of the rings, from virtq_start(). */
	uint8_t *desc, *avail, *used;
	/* Split: next avail entry to pop.  Packed: next descriptor to read,
	 * with the driver's wrap counter (VIRTQ_PACKED_WRAP). */
	uint16_t last_avail;
	/* Split: our copy of used->idx.  Packed: where the next used
	 * descriptor goes, with the device's wrap counter. */
	uint16_t used_idx;
	/* Split: used_idx when the guest was last interrupted.  Packed:
	 * descriptors used since the last notification check (at most 0xffff). */
	uint16_t signalled_used;
	bool signalled_valid;

	/* Packed: where each of the last chains popped began (virtq_unpop),
	 * by pop count; nothing a snapshot needs, as nothing is in flight then. */
	uint16_t pops;
	uint16_t pop_start[VIRTQ_MAX_SIZE];
};

/* A popped descriptor chain: out (device-readable) segments, then in. */
struct virtq_elem {
	uint32_t head;                 /* what virtq_push wants back for it */
	unsigned n_out, n_in;
	uint64_t out_len, in_len;      /* bytes in each direction */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Resolves the rings once the queue is enabled and starts the indices at 0;
 * -1 if they are not in RAM or misaligned. */
int virtq_start(struct virtq *q, const struct guest_mem *mem);
/* The same without touching the indices (a restored queue); on failure no
 * ring pointer is left set. */
int virtq_map(struct virtq *q, const struct guest_mem *mem);
void virtq_reset(struct virtq *q);

/* 1: a chain in elem; 0: nothing available; -1: the guest broke the rules. */
int virtq_pop(struct virtq *q, struct virtq_elem *elem);
/* Gives back the last n chains popped but not pushed: the device could not
 * use them yet and will pop them again. */
void virtq_unpop(struct virtq *q, uint16_t n);
/* Returns a chain to the guest with the number of bytes written into it. */
void virtq_push(struct virtq *q, uint32_t head, uint32_t len);
/* n chains that make one request (a frame in mergeable receive buffers):
 * the guest sees none of them before it can see them all. */
void virtq_push_n(struct virtq *q, const uint32_t *heads, const uint32_t *lens, unsigned n);
/* After pushes: whether the guest wants an interrupt now. */
bool virtq_should_notify(struct virtq *q);
/*
 * Before sleeping: asks the guest to kick for anything new; false if
 * something arrived meanwhile, so the caller must pop again.
 */
bool virtq_enable_kicks(struct virtq *q);
/* While busy: tells the guest kicks are not needed (no event index only). */
void virtq_disable_kicks(struct virtq *q);

#endif
