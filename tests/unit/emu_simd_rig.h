/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_EMU_SIMD_RIG_H
#define VMON_TESTS_EMU_SIMD_RIG_H

/*
 * The software CPU the SIMD tests (test_emu_simd, test_emu_simd_faults)
 * run: 64-bit mode on flat segments without paging, FXSR and #XM enabled
 * by CR4, code at CODE and the memory operand at BUF (through rbx); and
 * the random numbers they fill registers and memory with, which reach the
 * corners of floats, doubles and integers.
 */
#include <stdint.h>
#include <string.h>

#include "accel/emu/emu_int.h"
#include "machine/memory.h"

#define CODE 0x1000
#define BUF 0x2000        /* the memory operand, addressed through rbx */

static struct guest_mem mem;
static struct x86_cpu_state st;
static struct emu_cpu *cpu;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Floats, doubles and integers that reach the interesting corners. */
static inline void fill(uint8_t *p, unsigned n)
{
	static const double dspecial[] = { 0.0, -0.0, 1.0, -1.5, 1e308, -1e-310, 3.0, 0.5,
		2147483647.0, -2147483649.0, 9.3e18, 1.0 / 3.0 };
	static const float fspecial[] = { 0.0f, -0.0f, 1.0f, -2.5f, 3e38f, 1e-40f, 7.0f, 0.1f,
		2147483520.0f, -1e10f };

	for (unsigned i = 0; i < n; i += 8) {
		uint64_t r = rnd(), v = rnd();
		double d;
		float f[2];

		switch (r & 7) {
		case 0:
			d = dspecial[(r >> 8) % (sizeof(dspecial) / sizeof(dspecial[0]))];
			memcpy(&v, &d, 8);
			break;
		case 1:
			d = (double)(int64_t)(rnd() >> (r >> 58)) / (double)((r >> 20 & 0xff) + 1);
			memcpy(&v, &d, 8);
			break;
		case 2:
			f[0] = fspecial[(r >> 8) % (sizeof(fspecial) / sizeof(fspecial[0]))];
			f[1] = (float)(int32_t)(rnd() >> 40) / 7.0f;
			memcpy(&v, f, 8);
			break;
		case 3:
			v = r & 0x00ff00ff7f80ff01ULL;
			break;
		case 4:
			if (r & 0x100)
				v = 0x7ff8000000000000ULL | (r >> 20);    /* a NaN */
			break;
		}
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Ring 0, 64-bit code on flat segments with CR0.PG clear (addresses are
 * guest-physical, no page tables to build), FXSR and #XM enabled. */
static inline void simd_setup(void)
{
	struct emu_env env = { .mem = &mem };

	guest_mem_init(&mem, 2 << 20);
	x86_cpu_state_reset(&st, 1);
	st.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_MP;
	st.cr4 = X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	st.efer = X86_EFER_LME | X86_EFER_LMA;
	for (int i = 0; i < 6; i++)
		x86_seg_flat(&st.seg[i], 0x10, 0, 64);
	x86_seg_flat(&st.seg[X86_CS], 0x08, 1, 64);
	cpu = emu_cpu_new(&st, &env);
}

#endif
