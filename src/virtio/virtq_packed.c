/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packed virtqueues (virtio 1.1+, 2.8), parsed as defensively as the split
 * ones: one ring of descriptors the driver marks available and the device
 * marks used, by flag bits compared with wrap counters, and two event
 * suppression structures in place of the avail ring's flags and event
 * indices.
 *
 * A chain is the descriptors from last_avail on, linked by NEXT in ring
 * order; every one must be available under the wrap counter of its slot
 * (the driver writes the first one's flags last), no more than the queue
 * holds.  An indirect descriptor stands alone (not in a chain, not with
 * NEXT) and points at a table read in order, where only WRITE counts.
 * Used descriptors are written where the device's used position is, in the
 * order chains complete, each skipping as many slots as its chain took.
 * The buffer ID is the last descriptor's and goes back unchecked: only the
 * driver gives it a meaning.
 */
#include "virtio/virtq_int.h"

#define F_AVAIL (1u << 7)
#define F_USED  (1u << 15)
#define WRAP    VIRTQ_PACKED_WRAP
#define POS     (WRAP - 1)

/* Event suppression: off_wrap, then flags. */
#define EV_ENABLE  0
#define EV_DISABLE 1
#define EV_DESC    2

/* Token virtq_push gets back: the buffer ID, and how many slots to skip. */
#define HEAD(id, ndesc) ((uint32_t)(id) | (uint32_t)(ndesc) << 16)

int virtq_packed_map(struct virtq *q)
{
	size_t n = q->size;

	if (!n || n > q->max_size || (q->desc_gpa & 15) || (q->avail_gpa & 3) ||
	    (q->used_gpa & 3))
		return -1;
	q->desc = guest_mem_ptr(q->mem, q->desc_gpa, n * VIRTQ_DESC_SIZE);
	q->avail = guest_mem_ptr(q->mem, q->avail_gpa, 4);
	q->used = guest_mem_ptr(q->mem, q->used_gpa, 4);
	if (q->desc && q->avail && q->used)
		return 0;
	q->desc = q->avail = q->used = NULL;
	return -1;
}

/* Both wrap counters start at 1. */
void virtq_packed_start(struct virtq *q)
{
	q->last_avail = WRAP;
	q->used_idx = WRAP;
}

/* Position and wrap counter v moved on by n <= size slots. */
static uint16_t advance(const struct virtq *q, uint16_t v, unsigned n)
{
	unsigned p = (v & POS) + n;
	uint16_t w = v & WRAP;

	if (p >= q->size) {
		p -= q->size;
		w ^= WRAP;
	}
	return (uint16_t)(w | p);
}

/* The flags of the descriptor at slot v (read once, before its other
 * fields); whether the driver made it available in v's lap. */
static bool available(const struct virtq *q, uint16_t v, uint16_t *flags)
{
	bool wrap = v & WRAP;

	*flags = virtq_load16(q->desc + (size_t)(v & POS) * VIRTQ_DESC_SIZE + 14);
	return !!(*flags & F_AVAIL) == wrap && !!(*flags & F_USED) != wrap;
}

/* addr, len, id of a packed descriptor; flags as given. */
static struct virtq_desc load(const uint8_t *table, unsigned i, uint16_t flags)
{
	const uint8_t *p = table + (size_t)i * VIRTQ_DESC_SIZE;
	struct virtq_desc d;

	memcpy(&d.addr, p, 8);
	memcpy(&d.len, p + 8, 4);
	memcpy(&d.next, p + 12, 2);          /* the buffer ID */
	d.flags = flags;
	return d;
}

/* The table an indirect descriptor points at, in order. */
static int walk_indirect(const struct virtq *q, struct virtq_elem *e, const struct virtq_desc *d)
{
	unsigned n = d->len / VIRTQ_DESC_SIZE;
	const uint8_t *t;

	if (!d->len || d->len % VIRTQ_DESC_SIZE || n > VIRTQ_MAX_SIZE)
		return -1;
	t = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!t)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint16_t flags;
		struct virtq_desc x;

		memcpy(&flags, t + (size_t)i * VIRTQ_DESC_SIZE + 14, 2);
		x = load(t, i, flags & VIRTQ_DESC_F_WRITE);
		if (virtq_elem_add(q, e, &x))
			return -1;
	}
	return 0;
}

int virtq_packed_pop(struct virtq *q, struct virtq_elem *e)
{
	uint16_t at = q->last_avail, flags, id = 0;
	unsigned n;

	if (!available(q, at, &flags))
		return 0;
	virtq_elem_clear(e);
	for (n = 0;; ) {
		struct virtq_desc d;

		if (n && !available(q, at, &flags))
			return -1;           /* a chain made available only in part */
		d = load(q->desc, at & POS, flags);
		id = d.next;
		n++;
		at = advance(q, at, 1);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (n > 1 || (flags & VIRTQ_DESC_F_NEXT) || walk_indirect(q, e, &d))
				return -1;
			break;
		}
		if (virtq_elem_add(q, e, &d))
			return -1;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		if (n == q->size)
			return -1;           /* longer than the ring: it would lap itself */
	}
	e->head = HEAD(id, n);
	q->pop_start[q->pops++ % VIRTQ_MAX_SIZE] = q->last_avail;
	q->last_avail = at;
	return 1;
}

void virtq_packed_unpop(struct virtq *q, uint16_t n)
{
	if (!n)
		return;
	q->pops = (uint16_t)(q->pops - n);
	q->last_avail = q->pop_start[q->pops % VIRTQ_MAX_SIZE];
}

void virtq_packed_push_n(struct virtq *q, const uint32_t *heads, const uint32_t *lens, unsigned n)
{
	uint8_t *first = NULL;
	uint16_t first_flags = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = q->desc + (size_t)(q->used_idx & POS) * VIRTQ_DESC_SIZE;
		uint16_t id = (uint16_t)heads[i], flags = q->used_idx & WRAP ? F_AVAIL | F_USED : 0;
		unsigned skip = heads[i] >> 16;

		if (lens[i])
			flags |= VIRTQ_DESC_F_WRITE;
		memcpy(d + 8, &lens[i], 4);
		memcpy(d + 12, &id, 2);
		/* The first descriptor last: the driver sees the request whole. */
		if (i) {
			virtq_store16(d + 14, flags);
		} else {
			first = d;
			first_flags = flags;
		}
		if (!skip || skip > q->size)
			skip = 1;            /* not from virtq_pop: keep the ring sane */
		q->used_idx = advance(q, q->used_idx, skip);
		q->signalled_used = q->signalled_used > 0xffff - skip ? 0xffff
				    : (uint16_t)(q->signalled_used + skip);
	}
	if (first)
		virtq_store16(first + 14, first_flags);
}

/*
 * The driver's event suppression structure: off, enabled, or (with the
 * event index) only once the used position passes a descriptor.  As in
 * split rings' vring_need_event: did the descriptors used since the last
 * check (signalled_used of them) cross the event slot?  An event in the
 * other lap than our used position is taken as the lap before.
 */
bool virtq_packed_should_notify(struct virtq *q)
{
	uint16_t since = q->signalled_used, off_wrap, flags;
	bool valid = q->signalled_valid;
	int event;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	off_wrap = virtq_load16(q->avail);
	flags = virtq_load16(q->avail + 2) & 3;
	q->signalled_used = 0;
	q->signalled_valid = true;
	if (flags == EV_DISABLE)
		return false;
	if (!q->event_idx || flags != EV_DESC || !valid)
		return true;
	event = off_wrap & POS;
	if ((off_wrap & WRAP) != (q->used_idx & WRAP))
		event -= q->size;
	return (uint16_t)((q->used_idx & POS) - event - 1) < since;
}

/* The device's event suppression structure: a kick for the next
 * descriptor (event index), or for any. */
bool virtq_packed_enable_kicks(struct virtq *q)
{
	uint16_t flags;

	if (q->event_idx) {
		virtq_store16(q->used, q->last_avail);
		virtq_store16(q->used + 2, EV_DESC);
	} else {
		virtq_store16(q->used + 2, EV_ENABLE);
	}
	virtq_ring_written(q);
	/* Publish the request before looking again, or a kick may be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !available(q, q->last_avail, &flags);
}

void virtq_packed_disable_kicks(struct virtq *q)
{
	virtq_store16(q->used + 2, EV_DISABLE);
}
