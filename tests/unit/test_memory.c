/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <string.h>

#include "machine/memory.h"
#include "test.h"

static void test_small_layout(void)
{
	struct guest_mem m;

	CHECK(guest_mem_init(&m, 64ULL << 20) == 0);
	CHECK_EQ(m.nregions, 1);
	CHECK_EQ(guest_mem_low_end(&m), 64ULL << 20);
	CHECK(guest_mem_ptr(&m, 0, 1) == m.base);
	CHECK(guest_mem_ptr(&m, (64ULL << 20) - 1, 1) != NULL);
	CHECK(guest_mem_ptr(&m, (64ULL << 20) - 1, 2) == NULL);
	CHECK(guest_mem_ptr(&m, 64ULL << 20, 1) == NULL);
	CHECK(guest_mem_ptr(&m, ~0ULL, 2) == NULL);
	CHECK(guest_mem_ptr(&m, 16, ~0ULL) == NULL);
	guest_mem_destroy(&m);
}

static void test_split_around_hole(void)
{
	struct guest_mem m;
	uint32_t v = 0x12345678, r = 0;

	CHECK(guest_mem_init(&m, 5ULL << 30) == 0);
	CHECK_EQ(m.nregions, 2);
	CHECK_EQ(guest_mem_low_end(&m), MEM_HOLE_START);
	CHECK_EQ(m.region[1].gpa, MEM_HIGH_START);
	CHECK_EQ(m.region[1].size, (5ULL << 30) - MEM_HOLE_START);
	CHECK(guest_mem_ptr(&m, MEM_HOLE_START, 1) == NULL);
	CHECK(guest_mem_ptr(&m, MEM_HOLE_START - 2, 4) == NULL);
	CHECK(guest_mem_write(&m, MEM_HIGH_START + 100, &v, 4) == 0);
	CHECK(guest_mem_read(&m, MEM_HIGH_START + 100, &r, 4) == 0);
	CHECK_EQ(r, v);
	CHECK(m.base[MEM_HOLE_START + 100] == 0x78);
	CHECK(guest_mem_write(&m, 0xF0000000ULL, &v, 4) == -1);
	CHECK(guest_mem_read(&m, MEM_HIGH_START + m.region[1].size - 2, &r, 4) == -1);
	guest_mem_destroy(&m);
}

static void test_bad_sizes(void)
{
	struct guest_mem m;

	CHECK(guest_mem_init(&m, 0) == -1);
	CHECK(guest_mem_init(&m, 4096) == -1);
	CHECK(guest_mem_init(&m, (64ULL << 20) + 1) == -1);
	CHECK(guest_mem_init(&m, MEM_MAX_SIZE + 4096) == -1);
}

int main(void)
{
	RUN(test_small_layout);
	RUN(test_split_around_hole);
	RUN(test_bad_sizes);
	return TEST_EXIT();
}
