/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues, parsed defensively: the guest owns the rings. */
#include "virtio/virtq.h"

#include <string.h>

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY     1
#define DESC_SIZE            16

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Ring fields are read once each, as the guest may change them any time. */
static uint16_t load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

static struct desc desc_load(const uint8_t *table, unsigned i)
{
	struct desc d;

	memcpy(&d, table + (size_t)i * DESC_SIZE, sizeof(d));
	return d;
}

int virtq_map(struct virtq *q, const struct guest_mem *mem)
{
	size_t n = q->size;

	q->mem = mem;
	q->desc = q->avail = q->used = NULL;
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
	q->signalled_valid = false;
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

/* Appends one buffer; the writable ones must all come after the readable. */
static int elem_add(const struct virtq *q, struct virtq_elem *e, const struct desc *d)
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
		struct desc d;

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
		if (elem_add(q, e, &d))
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
	avail_idx = load16(q->avail + 2);
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return -1;
	head = load16(q->avail + 4 + 2 * (q->last_avail & (q->size - 1)));
	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	if (walk(q, e, q->desc, q->size, head, false))
		return -1;
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *ent = q->used + 4 + 8 * (q->used_idx & (q->size - 1));
	uint32_t id = head;

	memcpy(ent, &id, 4);
	memcpy(ent + 4, &len, 4);
	q->used_idx++;
	store16(q->used + 2, q->used_idx);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx, event;
	bool valid = q->signalled_valid;

	/* The used index must be visible before we read the guest's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(load16(q->avail) & AVAIL_F_NO_INTERRUPT);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!valid)
		return true;
	event = load16(q->avail + 4 + 2 * q->size);
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool virtq_enable_kicks(struct virtq *q)
{
	if (!q->enabled || !q->desc)
		return true;
	if (q->event_idx)
		store16(q->used + 4 + 8 * q->size, q->last_avail);
	else
		store16(q->used, 0);
	/* Publish the request before looking again, or a kick may be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(q->avail + 2) == q->last_avail;
}

void virtq_disable_kicks(struct virtq *q)
{
	if (q->enabled && q->desc && !q->event_idx)
		store16(q->used, USED_F_NO_NOTIFY);
}
