/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential test of the x87, MMX, SSE (to SSE4.2) and crypto
 * instructions: each runs on the host CPU (a stub in an executable page,
 * FPU state loaded with FXRSTOR) and in the software CPU from the same
 * FXSAVE image, registers, flags and memory; the x87/MMX/XMM registers,
 * MXCSR, general registers, flags and memory must agree.  The faults are
 * test_emu_simd_faults.c's.
 */
#include <string.h>
#include <sys/mman.h>

#include "emu_simd_rig.h"
#include "test.h"

#define BUFSZ 64

struct scase {
	const char *bytes;
	unsigned len;
	const char *name;
};

#define C(b, n) { b, sizeof(b) - 1, n }
static const struct scase cases[] = {
#include "test_emu_simd_cases.inc"
};

/* regs: rax, rbx, rcx, rdx, rflags. Prologue/epilogue from GNU as (see the .inc). */
static const uint8_t prologue[] = {
	0x53, 0x55, 0x52, 0x48, 0x89, 0xf5, 0x48, 0x0f, 0xae, 0x02, 0x48, 0x0f, 0xae, 0x0f,
	0x48, 0x8b, 0x45, 0x00, 0x48, 0x8b, 0x5d, 0x08, 0x48, 0x8b, 0x4d, 0x10, 0x48, 0x8b,
	0x55, 0x18, 0xff, 0x75, 0x20, 0x9d,
};
static const uint8_t epilogue[] = {
	0x9c, 0x8f, 0x45, 0x20, 0x48, 0x89, 0x45, 0x00, 0x48, 0x89, 0x5d, 0x08, 0x48, 0x89,
	0x4d, 0x10, 0x48, 0x89, 0x55, 0x18, 0x48, 0x0f, 0xae, 0x07, 0x5a, 0x48, 0x0f, 0xae,
	0x0a, 0x5d, 0x5b, 0xc3,
};

static uint8_t *stub;

/* A random FXSAVE image whose exceptions are all masked (the host must not trap). */
static void random_image(uint8_t img[512])
{
	static const uint16_t fcw[] = { 0x037f, 0x037f, 0x027f, 0x0f7f, 0x077f, 0x007f | 0x3f };
	static const uint32_t mxcsr[] = { 0x1f80, 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0 };
	uint64_t r = rnd();
	uint16_t fsw = (uint16_t)((r & 7) << 11);

	memset(img, 0, 512);
	memcpy(img, &fcw[(r >> 3) % 6], 2);
	memcpy(img + 2, &fsw, 2);
	img[4] = (r >> 8) & 1 ? 0xff : (uint8_t)(r >> 16);
	memcpy(img + 24, &mxcsr[(r >> 24) % 6], 4);
	for (int i = 0; i < 8; i++) {
		long double v;
		double d;

		fill((uint8_t *)&d, 8);
		v = (r >> (32 + i)) & 1 ? (long double)d : (long double)(int64_t)rnd() / 3.0L;
		memcpy(img + 32 + 16 * i, &v, 10);
	}
	fill(img + 160, 256);
}

static void run_native(const struct scase *sc, uint8_t img[512], uint64_t regs[5])
{
	static uint8_t host[512] __attribute__((aligned(16)));
	size_t n = sizeof(prologue);

	memcpy(stub, prologue, n);
	memcpy(stub + n, sc->bytes, sc->len);
	memcpy(stub + n + sc->len, epilogue, sizeof(epilogue));
	__builtin___clear_cache((char *)stub, (char *)stub + 256);
	((void (*)(uint8_t *, uint64_t *, uint8_t *))(void *)stub)(img, regs, host);
}

static enum emu_result run_emu(const struct scase *sc, uint64_t regs[5])
{
	static const int map[4] = { X86_RAX, X86_RBX, X86_RCX, X86_RDX };
	enum emu_result r;

	for (int i = 0; i < 4; i++)
		st.gpr[map[i]] = regs[i];
	st.gpr[X86_RBX] = BUF;
	st.rflags = regs[4];
	st.rip = CODE;
	guest_mem_write(&mem, CODE, sc->bytes, sc->len);
	r = emu_step(cpu);
	for (int i = 0; i < 4; i++)
		regs[i] = st.gpr[map[i]];
	regs[4] = st.rflags;
	return r;
}

static int differs(const char *what, const char *name, const uint8_t *hw, const uint8_t *sw,
		   size_t n)
{
	if (!memcmp(hw, sw, n))
		return 0;
	printf("  %s: %s differs:\n   hw", name, what);
	for (size_t k = 0; k < n; k++)
		printf("%s%02x", k % 16 ? "" : " ", hw[k]);
	printf("\n   sw");
	for (size_t k = 0; k < n; k++)
		printf("%s%02x", k % 16 ? "" : " ", sw[k]);
	printf("\n");
	return 1;
}

/*
 * The string compares only show their lengths, matches and null elements
 * on short strings over a small alphabet: XMM registers, memory, and
 * EAX/EDX (the explicit lengths) from -20 to 20.
 */
static void small_alphabet(uint8_t img[512], uint8_t *buf, uint64_t regs[5])
{
	for (unsigned i = 0; i < 256 + BUFSZ; i++) {
		uint64_t r = rnd();
		uint8_t v = r % 6 == 0 ? 0 : (uint8_t)('a' + (r >> 8) % 4);

		if (i < 256)
			img[160 + i] = v;
		else
			buf[i - 256] = v;
	}
	regs[0] = (uint64_t)((int64_t)(rnd() % 41) - 20);
	regs[3] = (uint64_t)((int64_t)(rnd() % 41) - 20);
	if (rnd() & 1) {     /* 32-bit negative lengths with garbage above */
		regs[0] = (regs[0] & 0xffffffffULL) | (rnd() << 32);
		regs[3] = (regs[3] & 0xffffffffULL) | (rnd() << 32);
	}
}

/* Runs sc on the host and in emu from img, buf and regs (rax rbx rcx rdx rflags); both must agree. */
static void compare_with_host(const struct scase *sc, const uint8_t img[512],
			      const uint8_t buf[BUFSZ], const uint64_t regs[5])
{
	static uint8_t hwimg[512] __attribute__((aligned(16)));
	static uint8_t hwbuf[BUFSZ] __attribute__((aligned(16)));
	uint64_t hw[5], sw[5];
	uint8_t swbuf[BUFSZ];

	memcpy(hw, regs, sizeof(hw));
	memcpy(sw, regs, sizeof(sw));
	memcpy(hwimg, img, 512);
	memcpy(hwbuf, buf, BUFSZ);
	hw[1] = (uint64_t)(uintptr_t)hwbuf;
	run_native(sc, hwimg, hw);
	memcpy(st.xsave, img, 512);
	guest_mem_write(&mem, BUF, buf, BUFSZ);
	if (run_emu(sc, sw) != EMU_OK || st.rip != CODE + sc->len) {
		printf("  %s: emu did not execute it (rip %#llx)\n", sc->name,
		       (unsigned long long)st.rip);
		CHECK(0);
	}
	guest_mem_read(&mem, BUF, swbuf, BUFSZ);
	hw[1] = sw[1];
	if (differs("fcw/fsw/ftw", sc->name, hwimg, st.xsave, 6) ||
	    differs("mxcsr", sc->name, hwimg + 24, st.xsave + 24, 4) ||
	    differs("st/mm", sc->name, hwimg + 32, st.xsave + 32, 128) ||
	    differs("xmm", sc->name, hwimg + 160, st.xsave + 160, 256) ||
	    differs("memory", sc->name, hwbuf, swbuf, BUFSZ) ||
	    differs("rax rbx rcx rdx", sc->name, (uint8_t *)hw, (uint8_t *)sw, 32))
		CHECK(0);
	CHECK_EQ(sw[4] & EMU_FLAGS_ARITH, hw[4] & EMU_FLAGS_ARITH);
}

static void random_regs(uint64_t regs[5])
{
	for (int r = 0; r < 4; r++)
		regs[r] = rnd();
	regs[4] = (rnd() & EMU_FLAGS_ARITH) | X86_RFLAGS_FIXED;
}

static void test_against_host(void)
{
	static uint8_t img[512] __attribute__((aligned(16)));

	CHECK(stub != MAP_FAILED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int k = 0; k < 300; k++) {
			uint64_t regs[5];
			uint8_t buf[BUFSZ];

			random_image(img);
			fill(buf, BUFSZ);
			random_regs(regs);
			if (!strncmp(cases[i].name, "pcmp", 4) && (k & 1))
				small_alphabet(img, buf, regs);
			compare_with_host(&cases[i], img, buf, regs);
		}
	}
}

/*
 * 8 bytes of the values where conversions between floats, doubles and
 * 32-bit integers round, saturate or are invalid: two floats, a double or
 * two integers.
 */
static void conversion_operand(uint8_t *p)
{
	static const uint32_t f[] = {
		0, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x3f000000, 0xbf000000,
		0x3fc00000, 0xbfc00000, 0x40200000, 0xc0200000, 0x3effffff, 0x3f000001,
		0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x7f800000, 0xff800000,
		0x7fc00000, 0x7fa00000, 0xffc00001, 0x501502f9, 0x4b000001,
	};
	static const uint64_t d[] = {
		0, 0x8000000000000000ULL, 1, 0x800fffffffffffffULL, 0x3fe0000000000000ULL,
		0xbfe0000000000000ULL, 0x3ff8000000000000ULL, 0x4004000000000000ULL,
		0xc004000000000000ULL, 0x41dfffffffc00000ULL /* 2^31 - 1 */,
		0x41dfffffffe00000ULL /* 2^31 - 0.5 */, 0x41e0000000000000ULL /* 2^31 */,
		0xc1e0000000000000ULL /* -2^31 */, 0xc1e0000000100000ULL /* -2^31 - 0.5 */,
		0xc1e0000000200000ULL /* -2^31 - 1 */, 0x41dfffffff800000ULL /* 2^31 - 2 */,
		0x41dfffffffa00000ULL /* 2^31 - 1.5 */, 0x7ff0000000000000ULL,
		0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0x7ff4000000000000ULL,
		0x7e37e43c8800759cULL, 0xbfdfffffffffffffULL,
	};
	static const uint32_t n[] = {
		0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x01000001, 0xfeffffff, 0x7fffffc0,
		0x7fffffbf, 0x00ffffff, 0x0000ffff,
	};
	uint64_t r = rnd();

	for (unsigned h = 0; h < 2; h++) {
		uint32_t v = (uint32_t)rnd();

		switch ((r >> (4 * h)) & 7) {
		case 0: case 1: case 2:
			v = f[(r >> (8 + 8 * h)) % (sizeof(f) / sizeof(f[0]))];
			break;
		case 3: case 4:
			v = n[(r >> (8 + 8 * h)) % (sizeof(n) / sizeof(n[0]))];
			break;
		case 5:
			if (!h) {
				memcpy(p, &d[(r >> 24) % (sizeof(d) / sizeof(d[0]))], 8);
				return;
			}
			break;
		}
		memcpy(p + 4 * h, &v, 4);
	}
}

/*
 * The MMX conversions (CVTPI2PS/PD, CVT(T)PS2PI, CVT(T)PD2PI) under each
 * rounding mode, with and without DAZ and FTZ, on NaNs, infinities,
 * denormals, halfway cases and values out of the integer range, in every
 * register and memory operand: against the host, x87 state (the MMX
 * transition or its absence) included.
 */
static void test_mmx_conversions(void)
{
	static uint8_t img[512] __attribute__((aligned(16)));
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strstr(cases[i].name, "pi ") && !strstr(cases[i].name, "pi2p"))
			continue;
		n++;
		for (unsigned mode = 0; mode < 16; mode++) {
			uint32_t mxcsr = 0x1f80 | (mode & 3) << 13 | ((mode & 4) ? 0x40 : 0) |
					 ((mode & 8) ? 0x8000 : 0);

			for (int k = 0; k < 100; k++) {
				uint64_t regs[5];
				uint8_t buf[BUFSZ];

				random_image(img);
				memcpy(img + 24, &mxcsr, 4);
				for (unsigned j = 0; j < 8; j++)        /* MM0-7 */
					conversion_operand(img + 32 + 16 * j);
				for (unsigned j = 0; j < 32; j++)       /* XMM0-15 */
					conversion_operand(img + 160 + 8 * j);
				for (unsigned j = 0; j < BUFSZ; j += 8)
					conversion_operand(buf + j);
				random_regs(regs);
				compare_with_host(&cases[i], img, buf, regs);
			}
		}
	}
	CHECK_EQ(n, 16);
}

int main(void)
{
	simd_setup();
	stub = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	RUN(test_against_host);
	RUN(test_mmx_conversions);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
