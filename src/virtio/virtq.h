/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_VIRTQ_H
#define VMON_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "machine/memory.h"

/*
 * A split virtqueue (virtio 1.x, 2.7) as the device sees it, with indirect
 * descriptors and event-index notification suppression.  Everything in the
 * rings is the guest's and may be garbage at any moment: every index and
 * address is checked, chains are bounded by the queue size, and any
 * violation makes virtq_pop() fail so the device can ask for a reset.
 *
 * One thread at a time pops and pushes a queue (the device's I/O thread).
 */
#define VIRTQ_MAX_SIZE 1024

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq {
	const struct guest_mem *mem;
	/* Set by the transport, fixed while the queue is enabled. */
	uint16_t size;                 /* a power of two, <= max_size */
	uint16_t max_size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool enabled;
	bool event_idx;                /* VIRTIO_F_RING_EVENT_IDX negotiated */
	uint16_t msix_vector;

	/* Host views of the rings, from virtq_start(). */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail;           /* next avail entry to pop */
	uint16_t used_idx;             /* our copy of used->idx */
	uint16_t signalled_used;       /* used_idx when the guest was last interrupted */
	bool signalled_valid;
};

/* A popped descriptor chain: out (device-readable) segments, then in. */
struct virtq_elem {
	uint16_t head;
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
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
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
