/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_VIRTQ_INT_H
#define VMON_VIRTIO_VIRTQ_INT_H

/* What the split (virtq.c) and packed (virtq_packed.c) parsers share. */
#include <string.h>

#include "virtio/virtq.h"

#define VIRTQ_DESC_SIZE 16

/* One descriptor as read, whichever layout it came from (next: split only). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Ring fields are read once each, as the guest may change them any time. */
static inline uint16_t virtq_load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static inline void virtq_store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

/* The device wrote its part of the rings: for decoded code (mem_code.h). */
void virtq_ring_written(const struct virtq *q);

/* Starts an element: no segments yet. */
static inline void virtq_elem_clear(struct virtq_elem *e)
{
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
}

/* Appends one buffer wholly inside guest RAM (zero-length ones are
 * skipped); the writable ones must all come after the readable.  -1 if not. */
int virtq_elem_add(const struct virtq *q, struct virtq_elem *e, const struct virtq_desc *d);

/* virtq_packed.c: the same operations on a packed ring (q->packed). */
int virtq_packed_map(struct virtq *q);
void virtq_packed_start(struct virtq *q);
int virtq_packed_pop(struct virtq *q, struct virtq_elem *e);
void virtq_packed_unpop(struct virtq *q, uint16_t n);
void virtq_packed_push_n(struct virtq *q, const uint32_t *heads, const uint32_t *lens, unsigned n);
bool virtq_packed_should_notify(struct virtq *q);
bool virtq_packed_enable_kicks(struct virtq *q);
void virtq_packed_disable_kicks(struct virtq *q);

#endif
