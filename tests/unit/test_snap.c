/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "snapshot/snap.h"
#include "test.h"

/* A stream with two sections, kept in buf. */
static size_t two_sections(unsigned char *buf, size_t cap)
{
	struct snap_out *o = snap_out_new();
	const void *d;
	size_t len = 0;
	uint8_t regs[5] = { 1, 2, 3, 4, 5 };

	snap_begin(o, "uart", 0, 1);
	snap_put_u8(o, "lcr", 0x83);
	snap_put(o, "regs", regs, sizeof(regs));
	snap_begin(o, "virtio-blk", 2, 3);
	snap_put_u64(o, "features", 0x123456789aULL);
	snap_put_u32(o, "status", 15);
	d = snap_out_data(o, &len);
	if (d && len <= cap)
		memcpy(buf, d, len);
	snap_out_free(o);
	return len;
}

static void test_round_trip(void)
{
	unsigned char buf[512], regs[5];
	size_t len = two_sections(buf, sizeof(buf));
	char err[256];
	struct snap_in *in = snap_in_parse(buf, len, err, sizeof(err));
	struct snap_sec *s;
	uint64_t f;
	uint32_t st, ver;
	uint8_t lcr;

	CHECK(in);
	s = snap_section(in, "virtio-blk", 2, 3, &ver);
	CHECK(s && ver == 3);
	CHECK(!snap_get_u64(s, "features", &f) && f == 0x123456789aULL);
	CHECK(!snap_get_u32(s, "status", &st) && st == 15);
	s = snap_section(in, "uart", 0, 1, NULL);
	CHECK(s);
	CHECK(!snap_get_u8(s, "lcr", &lcr) && lcr == 0x83);
	CHECK(!snap_get(s, "regs", regs, sizeof(regs)) && regs[4] == 5);
	CHECK(snap_in_error(in)[0] == 0);
	CHECK(snap_has(in, "uart", 0) && !snap_has(in, "uart", 1));
	snap_in_free(in);
}

static void test_errors_name_the_field(void)
{
	unsigned char buf[512];
	size_t len = two_sections(buf, sizeof(buf));
	char err[256];
	struct snap_in *in = snap_in_parse(buf, len, err, sizeof(err));
	struct snap_sec *s;
	uint32_t v32;

	CHECK(in);
	s = snap_section(in, "uart", 0, 1, NULL);
	CHECK(snap_get_u32(s, "lcr", &v32) == -1);
	CHECK(strstr(snap_in_error(in), "uart.0: field lcr has 1 bytes, expected 4"));
	snap_in_free(in);

	in = snap_in_parse(buf, len, err, sizeof(err));
	CHECK(!snap_section(in, "rtc", 0, 1, NULL));
	CHECK(strstr(snap_in_error(in), "rtc.0 missing"));
	snap_in_free(in);

	in = snap_in_parse(buf, len, err, sizeof(err));
	CHECK(!snap_section(in, "virtio-blk", 2, 2, NULL));
	CHECK(strstr(snap_in_error(in), "version 3"));
	snap_in_free(in);
}

/* Every truncation and every single-byte corruption parses or fails cleanly. */
static void test_hostile_streams(void)
{
	unsigned char buf[512], bad[512];
	size_t len = two_sections(buf, sizeof(buf));
	char err[256];

	for (size_t cut = 0; cut < len; cut++) {
		struct snap_in *in = snap_in_parse(buf, cut, err, sizeof(err));

		if (in) {
			uint64_t f;
			struct snap_sec *s = snap_section(in, "virtio-blk", 2, 3, NULL);

			CHECK(!s || snap_get_u64(s, "features", &f) == 0 || snap_in_error(in)[0]);
			snap_in_free(in);
		}
	}
	for (size_t i = 0; i < len; i++) {
		for (int v = 0; v < 256; v += 37) {
			struct snap_in *in;

			memcpy(bad, buf, len);
			bad[i] = (unsigned char)v;
			in = snap_in_parse(bad, len, err, sizeof(err));
			if (in) {
				uint8_t regs[5];
				struct snap_sec *s = snap_section(in, "uart", 0, 9, NULL);

				if (s)
					snap_get(s, "regs", regs, sizeof(regs));
				snap_in_free(in);
			} else {
				CHECK(err[0]);
			}
		}
	}
}

static void test_duplicate_section(void)
{
	struct snap_out *o = snap_out_new();
	const void *d;
	size_t len;
	char err[256];

	snap_begin(o, "pit", 0, 1);
	snap_put_u8(o, "mode", 2);
	snap_begin(o, "pit", 0, 1);
	d = snap_out_data(o, &len);
	CHECK(d);
	CHECK(!snap_in_parse(d, len, err, sizeof(err)));
	CHECK(strstr(err, "pit.0 appears twice"));
	snap_out_free(o);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_errors_name_the_field);
	RUN(test_hostile_streams);
	RUN(test_duplicate_section);
	return TEST_EXIT();
}
