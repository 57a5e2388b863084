/* SPDX-License-Identifier: Apache-2.0 */
#include "util/parse.h"
#include "test.h"

static void test_sizes(void)
{
	uint64_t v;

	CHECK(parse_size("256M", &v) && v == 256ULL << 20);
	CHECK(parse_size("2G", &v) && v == 2ULL << 30);
	CHECK(parse_size("2g", &v) && v == 2ULL << 30);
	CHECK(parse_size("512k", &v) && v == 512ULL << 10);
	CHECK(parse_size("1T", &v) && v == 1ULL << 40);
	CHECK(parse_size("4096", &v) && v == 4096);
	CHECK(parse_size("64MiB", &v) && v == 64ULL << 20);
	CHECK(parse_size("64MB", &v) && v == 64ULL << 20);
}

static void test_bad_sizes(void)
{
	uint64_t v;

	CHECK(!parse_size("", &v));
	CHECK(!parse_size("M", &v));
	CHECK(!parse_size("-1G", &v));
	CHECK(!parse_size("1X", &v));
	CHECK(!parse_size("1GG", &v));
	CHECK(!parse_size("99999999999999999999", &v));
	CHECK(!parse_size("17179869184G", &v));
	CHECK(!parse_size(" 1G", &v));
}

static void test_numbers(void)
{
	uint64_t v;

	CHECK(parse_u64("64", &v) && v == 64);
	CHECK(parse_u64("0x7c00", &v) && v == 0x7c00);
	CHECK(!parse_u64("", &v));
	CHECK(!parse_u64("-3", &v));
	CHECK(!parse_u64("3x", &v));
	CHECK(!parse_u64("18446744073709551616", &v));
}

int main(void)
{
	RUN(test_sizes);
	RUN(test_bad_sizes);
	RUN(test_numbers);
	return TEST_EXIT();
}
