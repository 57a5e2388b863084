/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "machine/bus.h"
#include "test.h"

struct recorder {
	uint64_t last_off, last_val;
	unsigned last_size, writes;
	uint64_t reply;
};

static uint64_t rec_read(void *opaque, uint64_t off, unsigned size)
{
	struct recorder *r = opaque;

	r->last_off = off;
	r->last_size = size;
	return r->reply;
}

static void rec_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct recorder *r = opaque;

	r->last_off = off;
	r->last_size = size;
	r->last_val = val;
	r->writes++;
}

static const struct bus_ops rec_ops = { rec_read, rec_write };

static void test_dispatch_offsets(void)
{
	struct bus *b = bus_new("t");
	struct recorder a = { .reply = 0x11 }, c = { .reply = 0x22 };

	CHECK(b);
	CHECK(bus_register(b, 0x3f8, 8, &rec_ops, &a, "a") == 0);
	CHECK(bus_register(b, 0x60, 1, &rec_ops, &c, "c") == 0);
	CHECK_EQ(bus_read(b, 0x3fd, 1), 0x11);
	CHECK_EQ(a.last_off, 5);
	CHECK_EQ(bus_read(b, 0x60, 1), 0x22);
	bus_write(b, 0x3ff, 2, 0xbeef);
	CHECK_EQ(a.last_off, 7);
	CHECK_EQ(a.last_size, 2);
	CHECK_EQ(a.last_val, 0xbeef);
	bus_free(b);
}

static void test_unclaimed(void)
{
	struct bus *b = bus_new("t");
	struct recorder a = { 0 };

	CHECK(bus_register(b, 0x100, 0x10, &rec_ops, &a, "a") == 0);
	CHECK_EQ(bus_read(b, 0xff, 1), 0xff);
	CHECK_EQ(bus_read(b, 0x110, 2), 0xffff);
	CHECK_EQ(bus_read(b, 0x200, 4), 0xffffffffu);
	CHECK_EQ(bus_read(b, 0x200, 8), ~0ULL);
	bus_write(b, 0x110, 1, 1);
	CHECK_EQ(a.writes, 0);
	CHECK(!bus_claimed(b, 0x110));
	CHECK(bus_claimed(b, 0x10f));
	bus_free(b);
}

static void test_overlaps_refused(void)
{
	struct bus *b = bus_new("t");
	struct recorder a = { 0 };

	CHECK(bus_register(b, 0x100, 0x10, &rec_ops, &a, "a") == 0);
	CHECK(bus_register(b, 0x10f, 1, &rec_ops, &a, "x") == -1 && errno == EEXIST);
	CHECK(bus_register(b, 0xf0, 0x11, &rec_ops, &a, "x") == -1 && errno == EEXIST);
	CHECK(bus_register(b, 0x80, 0x100, &rec_ops, &a, "x") == -1 && errno == EEXIST);
	CHECK(bus_register(b, 0x104, 2, &rec_ops, &a, "x") == -1 && errno == EEXIST);
	CHECK(bus_register(b, 0xf0, 0x10, &rec_ops, &a, "ok") == 0);
	CHECK(bus_register(b, 0x110, 0x10, &rec_ops, &a, "ok") == 0);
	CHECK(bus_register(b, 0, 0, &rec_ops, &a, "empty") == -1 && errno == EINVAL);
	CHECK(bus_register(b, ~0ULL, 2, &rec_ops, &a, "wraps") == -1 && errno == EINVAL);
	bus_free(b);
}

static void test_unregister(void)
{
	struct bus *b = bus_new("t");
	struct recorder a = { .reply = 7 };

	CHECK(bus_register(b, 0x100, 4, &rec_ops, &a, "a") == 0);
	CHECK_EQ(bus_read(b, 0x101, 1), 7);
	CHECK(bus_unregister(b, 0x100) == 0);
	CHECK_EQ(bus_read(b, 0x101, 1), 0xff);
	CHECK(bus_unregister(b, 0x100) == -1 && errno == ENOENT);
	CHECK(bus_register(b, 0x100, 4, &rec_ops, &a, "again") == 0);
	bus_free(b);
}

static void test_many_ranges_sorted(void)
{
	struct bus *b = bus_new("t");
	struct recorder r[64];

	memset(r, 0, sizeof(r));
	/* Registered out of order; lookup must still find each one. */
	for (int i = 0; i < 64; i++) {
		int k = (i * 37) % 64;

		r[k].reply = (uint64_t)k;
		CHECK(bus_register(b, 0x1000 + (uint64_t)k * 0x10, 8, &rec_ops, &r[k], "r") == 0);
	}
	for (int k = 0; k < 64; k++) {
		CHECK_EQ(bus_read(b, 0x1000 + (uint64_t)k * 0x10 + 3, 1), (uint64_t)k);
		CHECK_EQ(bus_read(b, 0x1000 + (uint64_t)k * 0x10 + 8, 1), 0xff);
	}
	bus_free(b);
}

int main(void)
{
	RUN(test_dispatch_offsets);
	RUN(test_unclaimed);
	RUN(test_overlaps_refused);
	RUN(test_unregister);
	RUN(test_many_ranges_sorted);
	return TEST_EXIT();
}
