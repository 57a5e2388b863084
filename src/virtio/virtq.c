/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues, parsed defensively: the guest owns the rings.  Packed
 * rings are in virtq_packed.c; the calls below hand them over. */
#include "virtio/virtq.h"

#include "virtio/virtq_int.h"

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY     1
#define DESC_SIZE            VIRTQ_DESC_SIZE

static struct virtq_desc desc_load(const uint8_t *table, unsigned i)
{
	struct virtq_desc d;

	memcpy(&d, table + (size_t)i * DESC_SIZE, sizeof(d));
	return d;
}

int virtq_map(struct virtq *q, const struct guest_mem *mem)
{
	size_t n = q->size;

	q->mem = mem;
	q->desc = q->avail = q->used = NULL;
	if (q->packed)
		return virtq_packed_map(q);
	if (!n || (n & (n - 1)) || n > q->max_size || (q->desc_gpa & 15) ||
	    (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -1;
	q->desc = guest_mem_ptr(mem, q->desc_gpa, n * DESC_SIZE);
	q->avail = guest_mem_ptr(mem, q->avail_gpa, 6 + 2 * n);
	q->used = guest_mem_ptr(mem, q->used_gpa, 6 + 8 * n);
	if (q->desc && q->avail && q->used)
		return 0;
	q->desc = q->avail = q->used = NULL;
	return -1;
}

int virtq_start(struct virtq *q, const struct guest_mem *mem)
{
	if (virtq_map(q, mem))
		return -1;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->pops = 0;
	if (q->packed)
		virtq_packed_start(q);
	return 0;
}

void virtq_reset(struct virtq *q)
{
	uint16_t max = q->max_size;

	memset(q, 0, sizeof(*q));
	q->max_size = max;
	q->size = max;
	q->msix_vector = 0xffff;
}

int virtq_elem_add(const struct virtq *q, struct virtq_elem *e, const struct virtq_desc *d)
{
	bool in = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (!in && e->n_in)
		return -1;
	if (!d->len)
		return 0;
	if (e->n_out + e->n_in == VIRTQ_MAX_SIZE)
		return -1;
	p = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!p)
		return -1;
	e->iov[e->n_out + e->n_in] = (struct iovec){ p, d->len };
	if (in) {
		e->n_in++;
		e->in_len += d->len;
	} else {
		e->n_out++;
		e->out_len += d->len;
	}
	return 0;
}

/* Walks one descriptor table from index i; at most max descriptors (loops). */
static int walk(const struct virtq *q, struct virtq_elem *e, const uint8_t *table,
		unsigned max, unsigned i, bool indirect)
{
	for (unsigned count = 0;; count++) {
		struct virtq_desc d;

		if (i >= max || count >= max)
			return -1;
		d = desc_load(table, i);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			const uint8_t *t;

			if (indirect || (d.flags & VIRTQ_DESC_F_NEXT) || !d.len ||
			    d.len % DESC_SIZE || d.len / DESC_SIZE > VIRTQ_MAX_SIZE)
				return -1;
			t = guest_mem_ptr(q->mem, d.addr, d.len);
			if (!t)
				return -1;
			return walk(q, e, t, d.len / DESC_SIZE, 0, true);
		}
		if (virtq_elem_add(q, e, &d))
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
	uint16_t avail_idx, head;

	if (!q->enabled || !q->desc)
		return 0;
	if (q->packed)
		return virtq_packed_pop(q, e);
	avail_idx = virtq_load16(q->avail + 2);
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return -1;
	head = virtq_load16(q->avail + 4 + 2 * (q->last_avail & (q->size - 1)));
	e->head = head;
	virtq_elem_clear(e);
	if (walk(q, e, q->desc, q->size, head, false))
		return -1;
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	if (q->packed)
		virtq_packed_unpop(q, n);
	else
		q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_push_n(struct virtq *q, const uint32_t *heads, const uint32_t *lens, unsigned n)
{
	/* The device wrote the chains through their iovecs: decoded code is
	 * checked again before the guest can see them done. */
	mem_code_flush(q->mem->code);
	if (q->packed) {
		virtq_packed_push_n(q, heads, lens, n);
		virtq_ring_written(q);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *ent = q->used + 4 + 8 * ((q->used_idx + i) & (q->size - 1));

		memcpy(ent, &heads[i], 4);
		memcpy(ent + 4, &lens[i], 4);
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	virtq_store16(q->used + 2, q->used_idx);
	virtq_ring_written(q);
}

void virtq_push(struct virtq *q, uint32_t head, uint32_t len)
{
	virtq_push_n(q, &head, &len, 1);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx, event;
	bool valid = q->signalled_valid;

	if (q->packed)
		return virtq_packed_should_notify(q);
	/* The used index must be visible before we read the guest's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(virtq_load16(q->avail) & AVAIL_F_NO_INTERRUPT);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!valid)
		return true;
	event = virtq_load16(q->avail + 4 + 2 * q->size);
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool virtq_enable_kicks(struct virtq *q)
{
	if (!q->enabled || !q->desc)
		return true;
	if (q->packed)
		return virtq_packed_enable_kicks(q);
	if (q->event_idx)
		virtq_store16(q->used + 4 + 8 * q->size, q->last_avail);
	else
		virtq_store16(q->used, 0);
	virtq_ring_written(q);
	/* Publish the request before looking again, or a kick may be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_load16(q->avail + 2) == q->last_avail;
}

void virtq_disable_kicks(struct virtq *q)
{
	if (!q->enabled || !q->desc)
		return;
	if (q->packed)
		virtq_packed_disable_kicks(q);
	else if (!q->event_idx)
		virtq_store16(q->used, USED_F_NO_NOTIFY);
	virtq_ring_written(q);
}

void virtq_ring_written(const struct virtq *q)
{
	struct mem_code *mc = q->mem->code;

	if (q->packed) {
		mem_code_written(mc, q->desc, (uint64_t)q->size * DESC_SIZE);
		mem_code_written(mc, q->used, 4);
	} else {
		mem_code_written(mc, q->used, 6 + 8 * (uint64_t)q->size);
	}
}
