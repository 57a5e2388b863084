/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packed virtqueue parser (src/virtio/virtq_packed.c) driven as a
 * driver would drive it, in 2 MiB of guest RAM: single and chained
 * buffers, chains across the end of the ring (the wrap counter flips
 * inside them), indirect tables, used descriptors written in and out of
 * order and skipping each chain's slots, unpop, both event suppression
 * structures, a ring size that is not a power of two; then garbage: every
 * violation fails the pop (the device then asks for a reset) and nothing
 * outside guest RAM is touched.
 */
#include <string.h>

#include "machine/memory.h"
#include "test.h"
#include "virtio/virtq.h"

#define RAM     (2u << 20)
#define RING    0x1000u          /* descriptors */
#define DRV_EV  0x3000u          /* driver event suppression */
#define DEV_EV  0x3100u          /* device event suppression */
#define TABLE   0x4000u          /* indirect tables */
#define BUF     0x10000u         /* buffers */

#define F_NEXT     VIRTQ_DESC_F_NEXT
#define F_WRITE    VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT
#define F_AVAIL    (1u << 7)
#define F_USED     (1u << 15)

static struct guest_mem mem;
static struct virtq q;
static struct virtq_elem e;

/* The driver's side: next slot to fill and its wrap counter, next used
 * slot and its wrap counter, and each buffer ID's chain length. */
static struct {
	unsigned avail, used;
	bool avail_wrap, used_wrap;
	unsigned ndesc[VIRTQ_MAX_SIZE];
} drv;

static uint8_t *at(uint64_t gpa)
{
	return guest_mem_ptr(&mem, gpa, 1);
}

static void put_desc(uint64_t base, unsigned i, uint64_t addr, uint32_t len, uint16_t id,
		     uint16_t flags)
{
	uint8_t *p = at(base + 16ULL * i);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &id, 2);
	memcpy(p + 14, &flags, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, at(gpa), 2);
	return v;
}

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(at(gpa), &v, 2);
}

/* A fresh queue of size entries; the driver's counters start at 1. */
static void setup(uint16_t size, bool event_idx)
{
	memset(at(0), 0, RAM);
	q.max_size = VIRTQ_MAX_SIZE;
	virtq_reset(&q);
	q.packed = true;
	q.size = size;
	q.desc_gpa = RING;
	q.avail_gpa = DRV_EV;
	q.used_gpa = DEV_EV;
	q.event_idx = event_idx;
	q.enabled = true;
	memset(&drv, 0, sizeof(drv));
	drv.avail_wrap = drv.used_wrap = true;
}

static uint16_t avail_flags(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

/*
 * Makes one buffer of n elements available (element k: BUF + id * 0x1000 +
 * k * 0x100, 0x100 bytes, writable from element nw on), the first
 * descriptor's flags last, as a driver must.
 */
static void offer(uint16_t id, unsigned n, unsigned nw)
{
	unsigned first = drv.avail;
	uint16_t first_flags = 0;

	for (unsigned k = 0; k < n; k++) {
		uint16_t flags = avail_flags(drv.avail_wrap) | (k + 1 < n ? F_NEXT : 0) |
				 (k >= nw ? F_WRITE : 0);

		put_desc(RING, drv.avail, BUF + id * 0x1000ULL + k * 0x100ULL, 0x100, id,
			 k ? flags : 0);
		if (!k)
			first_flags = flags;
		if (++drv.avail == q.size) {
			drv.avail = 0;
			drv.avail_wrap = !drv.avail_wrap;
		}
	}
	put16(RING + 16ULL * first + 14, first_flags);
	drv.ndesc[id] = n;
}

/* The next used descriptor, if there is one: its ID and length. */
static bool used(uint16_t *id, uint32_t *len)
{
	uint64_t d = RING + 16ULL * drv.used;
	uint16_t flags = get16(d + 14);

	if (!!(flags & F_USED) != drv.used_wrap || !!(flags & F_AVAIL) != drv.used_wrap)
		return false;
	*id = get16(d + 12);
	memcpy(len, at(d + 8), 4);
	if ((*len != 0) != !!(flags & F_WRITE))
		return false;
	drv.used += drv.ndesc[*id];
	if (drv.used >= q.size) {
		drv.used -= q.size;
		drv.used_wrap = !drv.used_wrap;
	}
	return true;
}

static void test_single_and_chain(void)
{
	uint16_t id;
	uint32_t len;

	setup(8, false);
	CHECK(virtq_start(&q, &mem) == 0);
	CHECK_EQ(q.last_avail, VIRTQ_PACKED_WRAP);
	CHECK_EQ(virtq_pop(&q, &e), 0);
	offer(5, 1, 1);
	offer(6, 3, 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(e.head & 0xffff, 5);
	CHECK(e.n_out == 1 && e.n_in == 0 && e.out_len == 0x100);
	CHECK(e.iov[0].iov_base == at(BUF + 5 * 0x1000));
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(e.head & 0xffff, 6);
	CHECK(e.n_out == 1 && e.n_in == 2 && e.in_len == 0x200);
	CHECK(e.iov[2].iov_base == at(BUF + 6 * 0x1000 + 0x200));
	CHECK_EQ(virtq_pop(&q, &e), 0);
	virtq_push(&q, 5 | 1u << 16, 0);
	CHECK(used(&id, &len) && id == 5 && len == 0);
	CHECK(!used(&id, &len));
	virtq_push(&q, e.head, 0x200);
	CHECK(used(&id, &len) && id == 6 && len == 0x200);
	/* The used position skipped the chain's three slots. */
	CHECK_EQ(q.used_idx, VIRTQ_PACKED_WRAP | 4);
	CHECK_EQ(q.last_avail, VIRTQ_PACKED_WRAP | 4);
}

/*
 * Chains complete out of order: used descriptors go where the used
 * position is, in completion order, and the driver finds every one by
 * skipping each ID's chain length.  Many laps of a ring of 7, chains
 * crossing its end; the device's wrap counter follows.
 */
static void test_out_of_order_laps(void)
{
	static const unsigned elems[3] = { 2, 1, 3 };
	uint32_t heads[3];
	uint16_t id;
	uint32_t len;

	setup(7, false);
	CHECK(virtq_start(&q, &mem) == 0);
	for (unsigned round = 0; round < 20; round++) {
		offer(1, 2, 1);
		offer(2, 1, 0);
		offer(3, 3, 2);
		for (unsigned k = 0; k < 3; k++) {
			CHECK_EQ(virtq_pop(&q, &e), 1);
			CHECK_EQ(e.head & 0xffff, k + 1);
			CHECK_EQ(e.n_out + e.n_in, elems[k]);
			heads[k] = e.head;
		}
		CHECK_EQ(virtq_pop(&q, &e), 0);
		virtq_push(&q, heads[2], 3);
		virtq_push(&q, heads[0], 1);
		virtq_push(&q, heads[1], 2);
		CHECK(used(&id, &len) && id == 3 && len == 3);
		CHECK(used(&id, &len) && id == 1 && len == 1);
		CHECK(used(&id, &len) && id == 2 && len == 2);
		CHECK(!used(&id, &len));
	}
	/* 120 descriptors through 7 slots: 17 laps and 1, wrap counter 0. */
	CHECK_EQ(q.used_idx, 120 % 7);
	CHECK_EQ(q.last_avail, q.used_idx);
}

/* Given back and popped again, also across the end of the ring. */
static void test_unpop(void)
{
	uint16_t id;
	uint32_t len;

	setup(4, false);
	CHECK(virtq_start(&q, &mem) == 0);
	offer(1, 3, 3);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	virtq_push(&q, e.head, 0);
	CHECK(used(&id, &len) && id == 1);
	offer(2, 2, 0);                 /* slots 3 and 0: across the end */
	offer(3, 1, 0);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(q.last_avail, 2);
	virtq_unpop(&q, 2);
	CHECK_EQ(q.last_avail, VIRTQ_PACKED_WRAP | 3);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(e.head, 2 | 2u << 16);
	virtq_unpop(&q, 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(e.head, 3 | 1u << 16);
	/* A request of two buffers: the first one's flags are written last. */
	{
		uint32_t hs[2] = { 2 | 2u << 16, 3 | 1u << 16 }, ls[2] = { 7, 9 };

		virtq_push_n(&q, hs, ls, 2);
	}
	CHECK(used(&id, &len) && id == 2 && len == 7);
	CHECK(used(&id, &len) && id == 3 && len == 9);
}

/* An indirect descriptor stands for its whole table; only WRITE counts there. */
static void test_indirect(void)
{
	uint16_t id;
	uint32_t len;

	setup(8, false);
	CHECK(virtq_start(&q, &mem) == 0);
	put_desc(TABLE, 0, BUF, 16, 0xdead, F_NEXT | F_INDIRECT);   /* reserved: ignored */
	put_desc(TABLE, 1, BUF + 0x100, 512, 0, 0);
	put_desc(TABLE, 2, BUF + 0x300, 1, 0, F_WRITE | F_AVAIL);
	put_desc(RING, 0, TABLE, 48, 9, avail_flags(true) | F_INDIRECT | F_WRITE);
	drv.avail = 1;
	drv.ndesc[9] = 1;
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(e.head, 9 | 1u << 16);
	CHECK(e.n_out == 2 && e.n_in == 1 && e.out_len == 528 && e.in_len == 1);
	virtq_push(&q, e.head, 1);
	CHECK(used(&id, &len) && id == 9 && len == 1);
	CHECK_EQ(q.used_idx, VIRTQ_PACKED_WRAP | 1);
}

/* Not a power of two, up to the maximum; misplaced rings refused. */
static void test_map(void)
{
	setup(5, false);
	CHECK(virtq_start(&q, &mem) == 0);
	q.size = 0;
	CHECK(virtq_start(&q, &mem) == -1);
	q.size = VIRTQ_MAX_SIZE + 1;
	CHECK(virtq_start(&q, &mem) == -1);
	setup(5, false);
	q.desc_gpa = RING + 8;
	CHECK(virtq_start(&q, &mem) == -1 && !q.desc);
	setup(5, false);
	q.avail_gpa = DRV_EV + 2;
	CHECK(virtq_start(&q, &mem) == -1);
	setup(5, false);
	q.used_gpa = RAM;
	CHECK(virtq_start(&q, &mem) == -1);
	setup(5, false);
	q.desc_gpa = RAM - 64;           /* 80 bytes of ring */
	CHECK(virtq_start(&q, &mem) == -1);
}

/* The driver's event suppression: off, on, or at a descriptor (event index). */
static void test_used_notifications(void)
{
	setup(8, false);
	CHECK(virtq_start(&q, &mem) == 0);
	offer(1, 1, 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	virtq_push(&q, e.head, 0);
	CHECK(virtq_should_notify(&q));
	put16(DRV_EV + 2, 1);            /* RING_EVENT_FLAGS_DISABLE */
	offer(1, 1, 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	virtq_push(&q, e.head, 0);
	CHECK(!virtq_should_notify(&q));

	setup(8, true);
	CHECK(virtq_start(&q, &mem) == 0);
	put16(DRV_EV + 2, 2);            /* RING_EVENT_FLAGS_DESC */
	put16(DRV_EV, 0x8000 | 3);       /* when slot 3 of this lap is used */
	for (unsigned k = 0; k < 6; k++) {
		offer((uint16_t)k, 1, 1);
		CHECK_EQ(virtq_pop(&q, &e), 1);
		virtq_push(&q, e.head, 0);
		/* The first check is unconditional; then only slot 3 counts. */
		CHECK_EQ(virtq_should_notify(&q), k == 0 || k == 3);
	}
	/* Several at once crossing the event; one past it, in the next lap. */
	put16(DRV_EV, 0x0000 | 1);
	for (unsigned k = 0; k < 4; k++) {
		offer((uint16_t)k, 1, 1);
		CHECK_EQ(virtq_pop(&q, &e), 1);
		virtq_push(&q, e.head, 0);
	}
	CHECK_EQ(q.used_idx, 2);
	CHECK(virtq_should_notify(&q));
	offer(0, 1, 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	virtq_push(&q, e.head, 0);
	CHECK(!virtq_should_notify(&q));
	/* An event in the lap before our used position is long past. */
	put16(DRV_EV, 0x8000 | 5);
	offer(0, 1, 1);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	virtq_push(&q, e.head, 0);
	CHECK(!virtq_should_notify(&q));
}

/* The device's event suppression: kicks off while busy, on (or at the next
 * descriptor) before sleeping, and a buffer that slipped in is seen. */
static void test_kick_suppression(void)
{
	setup(8, false);
	CHECK(virtq_start(&q, &mem) == 0);
	virtq_disable_kicks(&q);
	CHECK_EQ(get16(DEV_EV + 2), 1);
	CHECK(virtq_enable_kicks(&q));
	CHECK_EQ(get16(DEV_EV + 2), 0);
	offer(1, 2, 1);
	CHECK(!virtq_enable_kicks(&q));

	setup(8, true);
	CHECK(virtq_start(&q, &mem) == 0);
	for (uint16_t id = 1; id <= 3; id++) {
		offer(id, 3, 1);         /* the third: slots 6, 7 and 0 of the next lap */
		CHECK_EQ(virtq_pop(&q, &e), 1);
		virtq_push(&q, e.head, 0);
	}
	CHECK(virtq_enable_kicks(&q));
	CHECK_EQ(get16(DEV_EV + 2), 2);
	CHECK_EQ(get16(DEV_EV), 1);      /* slot 1, wrap counter 0 */
}

/* A pop that must fail, leaving the queue where it was. */
static int garbage_pop(void)
{
	uint16_t before = q.last_avail;
	int rc = virtq_pop(&q, &e);

	return rc == -1 && q.last_avail == before ? 0 : -1;
}

static void fresh(bool event_idx)
{
	setup(8, event_idx);
	if (virtq_start(&q, &mem))
		memset(&q, 0, sizeof(q));
}

static void test_garbage(void)
{
	/* Buffers outside RAM, wrapping 2^64, huge. */
	static const struct { uint64_t addr; uint32_t len; } bad[] = {
		{ RAM, 1 }, { RAM - 1, 2 }, { 1ULL << 32, 16 }, { ~0ULL - 7, 16 },
		{ 0xfee00000, 4 }, { BUF, 0xffffffff },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(false);
		put_desc(RING, 0, bad[i].addr, bad[i].len, 1, avail_flags(true) | F_WRITE);
		CHECK(garbage_pop() == 0);
	}
	/* Zero-length buffers are skipped. */
	fresh(false);
	put_desc(RING, 0, RAM + 4096, 0, 1, avail_flags(true) | F_WRITE);
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK(e.n_out == 0 && e.n_in == 0);

	/* Every slot chained, the last one too: longer than the ring. */
	fresh(false);
	for (unsigned i = 0; i < 8; i++)
		put_desc(RING, i, BUF, 1, 1, avail_flags(true) | F_NEXT);
	CHECK(garbage_pop() == 0);

	/* A chain whose second descriptor is not available (in this lap). */
	fresh(false);
	put_desc(RING, 1, BUF, 1, 1, avail_flags(false));
	put_desc(RING, 0, BUF, 1, 1, avail_flags(true) | F_NEXT);
	CHECK(garbage_pop() == 0);

	/* Readable after writable. */
	fresh(false);
	put_desc(RING, 1, BUF, 1, 1, avail_flags(true));
	put_desc(RING, 0, BUF, 1, 1, avail_flags(true) | F_NEXT | F_WRITE);
	CHECK(garbage_pop() == 0);

	/* Indirect: with NEXT, inside a chain, sizes 0, odd, huge, outside RAM,
	 * and a table holding readable after writable. */
	fresh(false);
	put_desc(RING, 0, TABLE, 32, 1, avail_flags(true) | F_INDIRECT | F_NEXT);
	put_desc(RING, 1, BUF, 1, 1, avail_flags(true));
	CHECK(garbage_pop() == 0);
	fresh(false);
	put_desc(RING, 1, TABLE, 32, 1, avail_flags(true) | F_INDIRECT);
	put_desc(RING, 0, BUF, 1, 1, avail_flags(true) | F_NEXT);
	CHECK(garbage_pop() == 0);
	{
		static const struct { uint64_t addr; uint32_t len; } ind[] = {
			{ TABLE, 0 }, { TABLE, 40 }, { TABLE, 0xfffffff0 }, { RAM - 16, 32 },
			{ TABLE, 16 * (VIRTQ_MAX_SIZE + 1) },
		};

		for (size_t i = 0; i < sizeof(ind) / sizeof(ind[0]); i++) {
			fresh(false);
			put_desc(RING, 0, ind[i].addr, ind[i].len, 1, avail_flags(true) | F_INDIRECT);
			CHECK(garbage_pop() == 0);
		}
	}
	fresh(false);
	put_desc(TABLE, 0, BUF, 8, 0, F_WRITE);
	put_desc(TABLE, 1, BUF, 8, 0, 0);
	put_desc(RING, 0, TABLE, 32, 1, avail_flags(true) | F_INDIRECT);
	CHECK(garbage_pop() == 0);

	/* Flags that do not say "available in this lap" are not a buffer:
	 * avail == used (a used descriptor), and the other lap's marking. */
	fresh(false);
	put_desc(RING, 0, BUF, 1, 1, F_AVAIL | F_USED);
	CHECK_EQ(virtq_pop(&q, &e), 0);
	put_desc(RING, 0, BUF, 1, 1, avail_flags(false));
	CHECK_EQ(virtq_pop(&q, &e), 0);
	put_desc(RING, 0, BUF, 1, 1, 0);
	CHECK_EQ(virtq_pop(&q, &e), 0);

	/* Any buffer ID goes back as it came. */
	fresh(false);
	put_desc(RING, 0, BUF, 1, 0xffff, avail_flags(true));
	CHECK_EQ(virtq_pop(&q, &e), 1);
	CHECK_EQ(e.head & 0xffff, 0xffff);
	virtq_push(&q, e.head, 0);
	CHECK_EQ(get16(RING + 12), 0xffff);
	CHECK_EQ(get16(RING + 14), F_AVAIL | F_USED);

	/* The event index asked for somewhere absurd: at worst one interrupt too many. */
	fresh(true);
	put16(DRV_EV + 2, 3);            /* reserved */
	put16(DRV_EV, 0x7fff);
	for (unsigned i = 0; i < 2; i++) {
		put_desc(RING, i, BUF, 1, 0, avail_flags(true));
		CHECK_EQ(virtq_pop(&q, &e), 1);
		virtq_push(&q, e.head, 0);
		CHECK(virtq_should_notify(&q));
	}
}

int main(void)
{
	if (guest_mem_init(&mem, RAM)) {
		printf("FAIL test_virtq_packed: no guest RAM\n");
		return 1;
	}
	RUN(test_single_and_chain);
	RUN(test_out_of_order_laps);
	RUN(test_unpop);
	RUN(test_indirect);
	RUN(test_map);
	RUN(test_used_notifications);
	RUN(test_kick_suppression);
	RUN(test_garbage);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
