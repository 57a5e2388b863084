/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoder tests.  The table (test_emu_decode_cases.inc) was generated once from GNU as 2.40 and
 * objdump 2.40 (each instruction assembled in its mode, the bytes and the
 * disassembly taken from objdump -d; see docs/emu.md), so every length here
 * is binutils' opinion, not the decoder's.
 */
#include <stdint.h>
#include <string.h>

#include "accel/emu/emu.h"
#include "test.h"

struct dcase {
	int mode;
	const char *hex;
};

static const struct dcase cases[] = {
#include "test_emu_decode_cases.inc"
};

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = v;
	}
	return n;
}

static int decode_ok(int r)
{
	return r == 0 || r == EMU_DECODE_INVALID;
}

static void test_lengths_match_objdump(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[32];
		size_t n = unhex(cases[i].hex, b);
		struct x86_insn in;
		int r = emu_decode(b, n, cases[i].mode, &in);

		if (!decode_ok(r) || in.len != n) {
			printf("  mode %d %s: r=%d len=%u\n", cases[i].mode, cases[i].hex, r, in.len);
			CHECK(decode_ok(r));
			CHECK_EQ(in.len, n);
		}
		/* One byte short must say so, never read past the end. */
		r = emu_decode(b, n - 1, cases[i].mode, &in);
		if (r != EMU_DECODE_TRUNCATED)
			printf("  mode %d %s short: r=%d\n", cases[i].mode, cases[i].hex, r);
		CHECK_EQ(r, EMU_DECODE_TRUNCATED);
	}
}

/* The common instructions must also decode valid (not just the right length). */
static void test_valid_common(void)
{
	static const struct dcase valid[] = {
		{ 64, "0f01ca" }, { 64, "0f01cb" }, { 64, "cc" }, { 64, "480fae2f" },
		{ 64, "f0480fc70f" }, { 64, "48cf" }, { 64, "0f01f8" }, { 64, "f390" },
		{ 64, "480fc76f40" }, { 64, "0fae6f40" }, { 16, "ea5be000f0" },
	};
	static const char *names[] = {
		"clac", "stac", "int3", "xrstor", "cmpxchg8b", "iret", "swapgs", "nop",
		"xsaves", "xrstor", "ljmp",
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		uint8_t b[16];
		size_t n = unhex(valid[i].hex, b);
		struct x86_insn in;

		CHECK_EQ(emu_decode(b, n, valid[i].mode, &in), 0);
		CHECK_EQ(in.len, n);
		CHECK(strcmp(in.name, names[i]) == 0);
	}
}

static void test_prefix_rules(void)
{
	uint8_t b[32];
	struct x86_insn in;

	/* 14 prefixes + nop = 15 bytes: fine; one more is #GP. */
	memset(b, 0x66, sizeof(b));
	b[14] = 0x90;
	CHECK_EQ(emu_decode(b, sizeof(b), 64, &in), 0);
	CHECK_EQ(in.len, 15);
	b[14] = 0x66;
	b[15] = 0x90;
	CHECK_EQ(emu_decode(b, sizeof(b), 64, &in), EMU_DECODE_TOO_LONG);
	/* Too long wins over truncated. */
	CHECK_EQ(emu_decode(b, 15, 64, &in), EMU_DECODE_TOO_LONG);

	/* REX followed by a legacy prefix is ignored: 48 66 89 c0 = mov %ax,%ax. */
	memcpy(b, "\x48\x66\x89\xc0", 4);
	CHECK_EQ(emu_decode(b, 4, 64, &in), 0);
	CHECK_EQ(in.opsize, 2);
	CHECK_EQ(in.rex, 0);
	/* 66 48: REX.W wins. */
	memcpy(b, "\x66\x48\x89\xc0", 4);
	CHECK_EQ(emu_decode(b, 4, 64, &in), 0);
	CHECK_EQ(in.opsize, 8);

	/* LOCK on a register destination, or on mov, is #UD with its length. */
	memcpy(b, "\xf0\x01\xc0", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), EMU_DECODE_INVALID);
	CHECK_EQ(in.len, 3);
	memcpy(b, "\xf0\x89\x00", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), EMU_DECODE_INVALID);

	/* Opcodes removed from long mode. */
	b[0] = 0x06;
	CHECK_EQ(emu_decode(b, 1, 64, &in), EMU_DECODE_INVALID);
	CHECK_EQ(emu_decode(b, 1, 32, &in), 0);
	/* 40 is inc in 32-bit mode, REX in 64-bit mode. */
	memcpy(b, "\x40\x90", 2);
	CHECK_EQ(emu_decode(b, 2, 32, &in), 0);
	CHECK_EQ(in.len, 1);
	CHECK_EQ(emu_decode(b, 2, 64, &in), 0);
	CHECK_EQ(in.len, 2);
	/* Segment overrides other than FS/GS are ignored in 64-bit mode. */
	memcpy(b, "\x26\x8b\x00", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), 0);
	CHECK_EQ((uint8_t)in.seg, (uint8_t)-1);
	CHECK_EQ(emu_decode(b, 3, 32, &in), 0);
	CHECK_EQ(in.seg, X86_ES);
	/* C4 in 32-bit mode is LES unless ModRM.mod is 3. */
	memcpy(b, "\xc4\x00", 2);
	CHECK_EQ(emu_decode(b, 2, 32, &in), 0);
	CHECK(strcmp(in.name, "les") == 0);
	/* MOV CR ignores mod: no displacement even with mod=0, rm=5. */
	memcpy(b, "\x0f\x20\x05", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), 0);
	CHECK_EQ(in.len, 3);
	/* RIP-relative vs absolute disp32. */
	memcpy(b, "\x8b\x05\x10\x00\x00\x00", 6);
	CHECK_EQ(emu_decode(b, 6, 64, &in), 0);
	CHECK(in.rip_relative);
	CHECK_EQ(in.disp, 0x10);
	CHECK_EQ(emu_decode(b, 6, 32, &in), 0);
	CHECK(!in.rip_relative);
	/* Immediates are sign-extended where the ISA says so. */
	memcpy(b, "\x48\x83\xc0\xff", 4);
	CHECK_EQ(emu_decode(b, 4, 64, &in), 0);
	CHECK_EQ(in.imm, ~0ULL);
	memcpy(b, "\x48\x05\x00\x00\x00\x80", 6);
	CHECK_EQ(emu_decode(b, 6, 64, &in), 0);
	CHECK_EQ(in.imm, 0xffffffff80000000ULL);
}

/* Random bytes: no crash, a sane length, and deterministic on re-decode. */
static void test_random_bytes(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 300000; i++) {
		uint8_t b[15];
		struct x86_insn in, in2;
		int mode = (int[]){ 16, 32, 64 }[i % 3], r, r2;

		for (int k = 0; k < 15; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[k] = x >> 24;
		}
		/* Bias towards prefixes and escapes, where the tricky paths are. */
		if (i & 4)
			b[0] = (uint8_t[]){ 0x0f, 0x66, 0xf3, 0x48, 0xc4, 0x62, 0x8f, 0xf0 }[i >> 3 & 7];
		r = emu_decode(b, sizeof(b), mode, &in);
		CHECK(r == 0 || r == EMU_DECODE_INVALID || r == EMU_DECODE_TOO_LONG);
		CHECK(in.len <= 15);
		if (r == EMU_DECODE_TOO_LONG)
			continue;
		r2 = emu_decode(b, in.len, mode, &in2);
		CHECK_EQ(r2, r);
		CHECK_EQ(in2.len, in.len);
		if (in.len > 1)
			CHECK_EQ(emu_decode(b, in.len - 1, mode, &in2), EMU_DECODE_TRUNCATED);
	}
}

int main(void)
{
	RUN(test_lengths_match_objdump);
	RUN(test_valid_common);
	RUN(test_prefix_rules);
	RUN(test_random_bytes);
	return TEST_EXIT();
}
