/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the virtqueue parsers, split (src/virtio/virtq.c) and
 * packed (src/virtio/virtq_packed.c), on guest RAM that the input fills, driven by a sequence of device operations
 * (pop, push, unpop, notification checks, reset) interleaved with guest
 * writes into the rings, as a guest racing the device would do.
 *
 * Guest RAM is two separately allocated regions, 32 KiB at GPA 0 and 4 KiB
 * at 4 GiB, so ASan sees any access past either.  Input layout:
 *
 *   0  u16 queue size (as the guest wrote it; virtq_start must judge it)
 *   2  u16 max size (reduced to 1..VIRTQ_MAX_SIZE)
 *   4  u8  flags: bit 0 event index, bit 1 packed ring
 *   5  u8  number of operations (up to MAX_OPS), 4 bytes each after the header
 *   8  u64 descriptor table/ring, avail ring/driver area, used ring/device
 *          area GPAs: bit 63 set = as is,
 *          else bit 62 picks the region and the rest an offset in (or just
 *          past) it
 *  32  operations, then the RAM image (low region first)
 *
 * Whatever the bytes, nothing may crash, hang or trip ASan/UBSan, and every
 * popped chain must satisfy the invariants below (abort on violation).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/memory.h"
#include "virtio/virtq.h"

#define LOW_SIZE  (32u << 10)
#define HIGH_SIZE (4u << 10)
#define HIGH_GPA  MEM_HIGH_START
#define HDR_LEN   32
#define MAX_OPS   64

enum op { OP_POP, OP_PUSH, OP_UNPOP, OP_NOTIFY, OP_ENABLE_KICKS, OP_DISABLE_KICKS,
	  OP_GUEST_WRITE, OP_RESET, OP_COUNT };

struct fuzz_q {
	struct guest_mem mem;
	struct virtq q;
	struct virtq_elem elem;
	uint16_t size, max_size;
	bool event_idx, packed;
	uint64_t desc, avail, used;
	uint32_t popped[VIRTQ_MAX_SIZE];   /* heads popped, not yet pushed, oldest first */
	unsigned npopped;
};

static uint8_t *low, *high;

static void fail(const char *why, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "fuzz_virtq: invariant broken: %s (%#llx, %#llx)\n", why, a, b);
	abort();
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Mostly addresses in or just past RAM, where the interesting checks are. */
static uint64_t ring_gpa(uint64_t raw)
{
	if (raw >> 63)
		return raw;
	if ((raw >> 62) & 1)
		return HIGH_GPA + raw % (HIGH_SIZE + 64);
	return raw % (LOW_SIZE + 64);
}

/* Our own idea of "inside guest RAM", independent of guest_mem_ptr(). */
static bool host_range_in_ram(const void *p, size_t len)
{
	const uint8_t *b = p;

	return (b >= low && b <= low + LOW_SIZE && len <= (size_t)(low + LOW_SIZE - b)) ||
	       (b >= high && b <= high + HIGH_SIZE && len <= (size_t)(high + HIGH_SIZE - b));
}

/* The bytes of each ring part as the layout has them. */
static void ring_lens(const struct fuzz_q *f, size_t n, size_t len[3])
{
	len[0] = 16 * n;
	len[1] = f->packed ? 4 : 6 + 2 * n;
	len[2] = f->packed ? 4 : 6 + 8 * n;
}

static int start(struct fuzz_q *f)
{
	struct virtq *q = &f->q;
	size_t n, len[3];

	q->max_size = f->max_size;
	virtq_reset(q);
	q->size = f->size;
	q->desc_gpa = f->desc;
	q->avail_gpa = f->avail;
	q->used_gpa = f->used;
	q->event_idx = f->event_idx;
	q->packed = f->packed;
	q->enabled = true;
	f->npopped = 0;
	if (virtq_start(q, &f->mem))
		return -1;
	n = q->size;
	if (!n || (!f->packed && (n & (n - 1))) || n > q->max_size)
		fail("virtq_start accepted a bad size", n, q->max_size);
	ring_lens(f, n, len);
	if (!host_range_in_ram(q->desc, len[0]) || !host_range_in_ram(q->avail, len[1]) ||
	    !host_range_in_ram(q->used, len[2]))
		fail("virtq_start accepted rings outside RAM", q->desc_gpa, q->used_gpa);
	if ((q->desc_gpa & 15) || (q->avail_gpa & (f->packed ? 3 : 1)) || (q->used_gpa & 3))
		fail("virtq_start accepted misaligned rings", q->desc_gpa, q->avail_gpa);
	return 0;
}

static void check_elem(const struct fuzz_q *f)
{
	const struct virtq_elem *e = &f->elem;
	uint64_t out = 0, in = 0;

	/* Packed: the buffer ID is the guest's, the slots taken ours. */
	if (f->packed ? !(e->head >> 16) || e->head >> 16 > f->q.size : e->head >= f->q.size)
		fail("head beyond the queue", e->head, f->q.size);
	if (e->n_out > VIRTQ_MAX_SIZE || e->n_in > VIRTQ_MAX_SIZE - e->n_out)
		fail("too many segments", e->n_out, e->n_in);
	for (unsigned i = 0; i < e->n_out + e->n_in; i++) {
		const struct iovec *v = &e->iov[i];

		if (!v->iov_len || !host_range_in_ram(v->iov_base, v->iov_len))
			fail("segment outside guest RAM or empty", (uintptr_t)v->iov_base, v->iov_len);
		if (i < e->n_out)
			out += v->iov_len;
		else
			in += v->iov_len;
	}
	if (out != e->out_len || in != e->in_len)
		fail("lengths do not add up", out, in);
}

/* A guest store into one of its rings, between two device operations. */
static void guest_write(struct fuzz_q *f, const uint8_t *arg)
{
	size_t off = (size_t)(arg[0] >> 2 | arg[1] << 6), len[3];
	uint8_t *ring[3] = { f->q.desc, f->q.avail, f->q.used };
	unsigned which = arg[0] & 3;

	ring_lens(f, f->q.size, len);

	if (which == 3)
		which = 1;                         /* the avail ring twice as often */
	ring[which][off % len[which]] = arg[2];
}

/* One device (or guest) step; false once the queue is broken or gone. */
static bool step(struct fuzz_q *f, const uint8_t *op)
{
	int rc;

	switch (op[0] % OP_COUNT) {
	case OP_POP:
		/* Like a device, only as many chains in flight as it has slots. */
		if (f->npopped == f->q.size)
			return true;
		rc = virtq_pop(&f->q, &f->elem);
		if (rc < 0)
			return false;              /* a device asks for a reset here */
		if (rc > 0) {
			check_elem(f);
			f->popped[f->npopped++] = f->elem.head;
		}
		return true;
	case OP_PUSH:
		if (f->npopped) {
			virtq_push(&f->q, f->popped[0], get16(op + 1));
			memmove(f->popped, f->popped + 1, --f->npopped * sizeof(f->popped[0]));
		}
		if (f->packed && (f->q.used_idx & (VIRTQ_PACKED_WRAP - 1)) >= f->q.size)
			fail("packed used position beyond the ring", f->q.used_idx, f->q.size);
		return true;
	case OP_UNPOP: {
		uint16_t k = (uint16_t)(op[1] % (f->npopped + 1));

		virtq_unpop(&f->q, k);
		f->npopped -= k;
		if (f->packed && (f->q.last_avail & (VIRTQ_PACKED_WRAP - 1)) >= f->q.size)
			fail("packed avail position beyond the ring", f->q.last_avail, f->q.size);
		return true;
	}
	case OP_NOTIFY:
		(void)virtq_should_notify(&f->q);
		return true;
	case OP_ENABLE_KICKS:
		(void)virtq_enable_kicks(&f->q);
		return true;
	case OP_DISABLE_KICKS:
		virtq_disable_kicks(&f->q);
		return true;
	case OP_GUEST_WRITE:
		guest_write(f, op + 1);
		return true;
	default:
		return start(f) == 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_q f;
	size_t nops, img;

	if (size < HDR_LEN)
		return 0;
	if (!low) {
		low = malloc(LOW_SIZE);
		high = malloc(HIGH_SIZE);
		if (!low || !high)
			abort();
		f.mem.region[0] = (struct mem_region){ 0, LOW_SIZE, low };
		f.mem.region[1] = (struct mem_region){ HIGH_GPA, HIGH_SIZE, high };
		f.mem.nregions = 2;
		f.mem.size = LOW_SIZE + HIGH_SIZE;
	}
	f.size = get16(data);
	f.max_size = (uint16_t)(get16(data + 2) % VIRTQ_MAX_SIZE + 1);
	f.event_idx = data[4] & 1;
	f.packed = data[4] & 2;
	nops = data[5] % (MAX_OPS + 1);
	f.desc = ring_gpa(get64(data + 8));
	f.avail = ring_gpa(get64(data + 16));
	f.used = ring_gpa(get64(data + 24));
	data += HDR_LEN;
	size -= HDR_LEN;
	if (nops > size / 4)
		nops = size / 4;
	img = size - 4 * nops;
	memset(low, 0, LOW_SIZE);
	memset(high, 0, HIGH_SIZE);
	memcpy(low, data + 4 * nops, img < LOW_SIZE ? img : LOW_SIZE);
	if (img > LOW_SIZE)
		memcpy(high, data + 4 * nops + LOW_SIZE,
		       img - LOW_SIZE < HIGH_SIZE ? img - LOW_SIZE : HIGH_SIZE);
	if (start(&f))
		return 0;
	if (nops) {
		for (size_t i = 0; i < nops && step(&f, data + 4 * i); i++)
			;
		return 0;
	}
	/* Without operations, pop everything there is: the common path. */
	for (unsigned before = 0; step(&f, (const uint8_t[4]){ OP_POP }) &&
	     f.npopped != before; before = f.npopped)
		;
	return 0;
}
