/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential test of the integer instructions: each instruction runs on
 * the host CPU (inside a small stub in an executable page) and in the
 * software CPU from the same registers and flags; results and the flags
 * the architecture defines must agree.
 */
#include <string.h>
#include <sys/mman.h>

#include "accel/emu/emu_int.h"
#include "machine/memory.h"
#include "test.h"

#define FL(x) X86_RFLAGS_##x
#define ARITH EMU_FLAGS_ARITH

enum { K_PLAIN, K_SHIFT, K_ROT, K_SHXD, K_DIV, K_IDIV, K_BSX, K_RCX };

struct icase {
	const char *bytes;   /* the instruction, using only rax/rbx/rcx/rdx */
	unsigned len;
	uint64_t undef;      /* flags the SDM leaves undefined */
	int kind;
	unsigned size;       /* operand size, for shift count masks */
};

#define I(b, u, k, s) { b, sizeof(b) - 1, u, k, s }
#define AF FL(AF)
#define MULU (FL(SF) | FL(ZF) | FL(AF) | FL(PF))

static const struct icase cases[] = {
	/* ALU, all sizes, both directions, immediates */
	I("\x48\x01\xd8", 0, 0, 8), I("\x01\xd8", 0, 0, 4), I("\x66\x01\xd8", 0, 0, 2),
	I("\x00\xd8", 0, 0, 1), I("\x00\xfc", 0, 0, 1), I("\x02\xe3", 0, 0, 1),
	I("\x48\x11\xd8", 0, 0, 8), I("\x11\xd8", 0, 0, 4), I("\x66\x11\xd8", 0, 0, 2), I("\x10\xd8", 0, 0, 1),
	I("\x48\x29\xd8", 0, 0, 8), I("\x29\xd8", 0, 0, 4), I("\x66\x2b\xc3", 0, 0, 2), I("\x28\xd8", 0, 0, 1),
	I("\x48\x19\xd8", 0, 0, 8), I("\x19\xd8", 0, 0, 4), I("\x66\x19\xd8", 0, 0, 2), I("\x18\xd8", 0, 0, 1),
	I("\x48\x39\xd8", 0, 0, 8), I("\x39\xd8", 0, 0, 4), I("\x38\xd8", 0, 0, 1),
	I("\x48\x21\xd8", AF, 0, 8), I("\x21\xd8", AF, 0, 4), I("\x20\xd8", AF, 0, 1),
	I("\x48\x09\xd8", AF, 0, 8), I("\x66\x09\xd8", AF, 0, 2), I("\x08\xd8", AF, 0, 1),
	I("\x48\x31\xd8", AF, 0, 8), I("\x31\xd8", AF, 0, 4), I("\x30\xf8", AF, 0, 1),
	I("\x48\x85\xd8", AF, 0, 8), I("\x84\xd8", AF, 0, 1),
	I("\x48\x83\xc0\x80", 0, 0, 8), I("\x48\x05\x00\x00\x00\x80", 0, 0, 8),
	I("\x83\xe8\x01", 0, 0, 4), I("\x66\x83\xd0\xff", 0, 0, 2), I("\x80\xd8\x7f", 0, 0, 1),
	I("\x48\x81\xfb\x78\x56\x34\x12", 0, 0, 8), I("\x34\x55", AF, 0, 1),
	/* INC/DEC/NEG/NOT */
	I("\x48\xff\xc0", 0, 0, 8), I("\xff\xc8", 0, 0, 4), I("\x66\xff\xc3", 0, 0, 2), I("\xfe\xc0", 0, 0, 1),
	I("\xfe\xcc", 0, 0, 1), I("\x48\xf7\xd8", 0, 0, 8), I("\xf7\xdb", 0, 0, 4), I("\xf6\xd8", 0, 0, 1),
	I("\x48\xf7\xd0", 0, 0, 8), I("\x66\xf7\xd0", 0, 0, 2),
	/* shifts and rotates by CL and by immediates */
	I("\x48\xd3\xe0", 0, K_SHIFT, 8), I("\xd3\xe0", 0, K_SHIFT, 4), I("\x66\xd3\xe0", 0, K_SHIFT, 2), I("\xd2\xe0", 0, K_SHIFT, 1),
	I("\x48\xd3\xe8", 0, K_SHIFT, 8), I("\xd3\xe8", 0, K_SHIFT, 4), I("\x66\xd3\xe8", 0, K_SHIFT, 2), I("\xd2\xe8", 0, K_SHIFT, 1),
	I("\x48\xd3\xf8", 0, K_SHIFT, 8), I("\xd3\xf8", 0, K_SHIFT, 4), I("\x66\xd3\xf8", 0, K_SHIFT, 2), I("\xd2\xf8", 0, K_SHIFT, 1),
	I("\x48\xd3\xc0", 0, K_ROT, 8), I("\xd3\xc0", 0, K_ROT, 4), I("\x66\xd3\xc0", 0, K_ROT, 2), I("\xd2\xc0", 0, K_ROT, 1),
	I("\x48\xd3\xc8", 0, K_ROT, 8), I("\xd3\xc8", 0, K_ROT, 4), I("\x66\xd3\xc8", 0, K_ROT, 2), I("\xd2\xc8", 0, K_ROT, 1),
	I("\x48\xd3\xd0", 0, K_ROT, 8), I("\xd3\xd0", 0, K_ROT, 4), I("\x66\xd3\xd0", 0, K_ROT, 2), I("\xd2\xd0", 0, K_ROT, 1),
	I("\x48\xd3\xd8", 0, K_ROT, 8), I("\xd3\xd8", 0, K_ROT, 4), I("\x66\xd3\xd8", 0, K_ROT, 2), I("\xd2\xd8", 0, K_ROT, 1),
	I("\x48\xd1\xe0", 0, 0, 8), I("\xd1\xf8", AF, 0, 4), I("\xd0\xe8", AF, 0, 1), I("\x48\xd1\xd0", 0, 0, 8),
	I("\x66\xd1\xd8", 0, 0, 2),
	/* SHLD/SHRD by CL */
	I("\x48\x0f\xa5\xd8", 0, K_SHXD, 8), I("\x0f\xa5\xd8", 0, K_SHXD, 4),
	I("\x48\x0f\xad\xd8", 0, K_SHXD, 8), I("\x0f\xad\xd8", 0, K_SHXD, 4),
	/* multiply and divide */
	I("\x48\xf7\xe3", MULU, 0, 8), I("\xf7\xe3", MULU, 0, 4), I("\x66\xf7\xe3", MULU, 0, 2), I("\xf6\xe3", MULU, 0, 1),
	I("\x48\xf7\xeb", MULU, 0, 8), I("\xf7\xeb", MULU, 0, 4), I("\x66\xf7\xeb", MULU, 0, 2), I("\xf6\xeb", MULU, 0, 1),
	I("\x48\x0f\xaf\xc3", MULU, 0, 8), I("\x0f\xaf\xc3", MULU, 0, 4), I("\x66\x0f\xaf\xc3", MULU, 0, 2),
	I("\x48\x6b\xc3\x85", MULU, 0, 8), I("\x69\xc3\x44\x33\x22\x91", MULU, 0, 4),
	I("\x48\xf7\xf1", ARITH, K_DIV, 8), I("\xf7\xf1", ARITH, K_DIV, 4), I("\x66\xf7\xf1", ARITH, K_DIV, 2), I("\xf6\xf1", ARITH, K_DIV, 1),
	I("\x48\xf7\xf9", ARITH, K_IDIV, 8), I("\xf7\xf9", ARITH, K_IDIV, 4), I("\x66\xf7\xf9", ARITH, K_IDIV, 2), I("\xf6\xf9", ARITH, K_IDIV, 1),
	/* bit operations and scans */
	I("\x48\x0f\xa3\xd8", ARITH & ~FL(CF), 0, 8), I("\x0f\xab\xd8", ARITH & ~FL(CF), 0, 4),
	I("\x48\x0f\xb3\xd8", ARITH & ~FL(CF), 0, 8), I("\x66\x0f\xbb\xd8", ARITH & ~FL(CF), 0, 2),
	I("\x48\x0f\xba\xe0\x3f", ARITH & ~FL(CF), 0, 8), I("\x0f\xba\xf8\x05", ARITH & ~FL(CF), 0, 4),
	I("\x48\x0f\xbc\xc3", ARITH & ~FL(ZF), K_BSX, 8), I("\x0f\xbd\xc3", ARITH & ~FL(ZF), K_BSX, 4),
	I("\xf3\x48\x0f\xbc\xc3", FL(OF) | FL(SF) | FL(PF) | AF, 0, 8),
	I("\xf3\x0f\xbd\xc3", FL(OF) | FL(SF) | FL(PF) | AF, 0, 4),
	I("\xf3\x66\x0f\xbd\xc3", FL(OF) | FL(SF) | FL(PF) | AF, 0, 2),
	I("\xf3\x48\x0f\xb8\xc3", 0, 0, 8), I("\xf3\x0f\xb8\xc3", 0, 0, 4),
	/* data movement */
	I("\x48\x0f\xb1\xd9", 0, 0, 8), I("\x0f\xb1\xd9", 0, 0, 4), I("\x0f\xb0\xd9", 0, 0, 1),
	I("\x48\x0f\xc1\xd8", 0, 0, 8), I("\x0f\xc0\xd8", 0, 0, 1),
	I("\x48\x0f\x44\xc3", 0, 0, 8), I("\x0f\x4f\xc3", 0, 0, 4), I("\x0f\x42\xc3", 0, 0, 4),
	I("\x0f\x94\xc0", 0, 0, 1), I("\x0f\x9c\xc3", 0, 0, 1), I("\x0f\x96\xc4", 0, 0, 1),
	I("\x48\x0f\xc8", 0, 0, 8), I("\x0f\xcb", 0, 0, 4), I("\x48\x98", 0, 0, 8), I("\x98", 0, 0, 4),
	I("\x66\x98", 0, 0, 2), I("\x48\x99", 0, 0, 8), I("\x99", 0, 0, 4), I("\x66\x99", 0, 0, 2),
	I("\x48\x0f\xbe\xc3", 0, 0, 8), I("\x0f\xb7\xc3", 0, 0, 4), I("\x48\x63\xc3", 0, 0, 8),
	I("\x48\x87\xd8", 0, 0, 8), I("\x86\xe3", 0, 0, 1), I("\x48\x8d\x04\x4b", 0, 0, 8),
	I("\x8d\x44\x1b\x07", 0, 0, 4), I("\x9f", 0, 0, 1), I("\x9e", 0, 0, 1), I("\xf5", 0, 0, 1),
};

static const uint64_t specials[] = {
	0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
	0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 0x100, 0x10,
};

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t operand(void)
{
	uint64_t r = rnd();

	switch (r & 7) {
	case 0: case 1: return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))];
	case 2: return (r >> 8) & 0xff;
	case 3: return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))] + ((r >> 20) & 3) - 1;
	default: return rnd();
	}
}

/* regs[0..3] = rax, rbx, rcx, rdx; regs[4] = rflags. */
static const uint8_t prologue[] = {
	0x53, 0x48, 0x8b, 0x07, 0x48, 0x8b, 0x5f, 0x08, 0x48, 0x8b, 0x4f, 0x10,
	0x48, 0x8b, 0x57, 0x18, 0xff, 0x77, 0x20, 0x9d,
};
static const uint8_t epilogue[] = {
	0x9c, 0x8f, 0x47, 0x20, 0x48, 0x89, 0x07, 0x48, 0x89, 0x5f, 0x08, 0x48,
	0x89, 0x4f, 0x10, 0x48, 0x89, 0x57, 0x18, 0x5b, 0xc3,
};

static uint8_t *stub;

static void run_native(const struct icase *ic, uint64_t regs[5])
{
	size_t n = 0;

	memcpy(stub, prologue, sizeof(prologue));
	n = sizeof(prologue);
	memcpy(stub + n, ic->bytes, ic->len);
	n += ic->len;
	memcpy(stub + n, epilogue, sizeof(epilogue));
	__builtin___clear_cache((char *)stub, (char *)stub + 128);
	((void (*)(uint64_t *))(void *)stub)(regs);
}

static struct guest_mem mem;
static struct x86_cpu_state st;
static struct emu_cpu *cpu;

static int run_emu(const struct icase *ic, uint64_t regs[5])
{
	static const int map[4] = { X86_RAX, X86_RBX, X86_RCX, X86_RDX };

	for (int i = 0; i < 4; i++)
		st.gpr[map[i]] = regs[i];
	st.rflags = regs[4];
	st.rip = 0x1000;
	guest_mem_write(&mem, 0x1000, ic->bytes, ic->len);
	if (emu_step(cpu) != EMU_OK || st.rip != 0x1000 + ic->len)
		return -1;
	for (int i = 0; i < 4; i++)
		regs[i] = st.gpr[map[i]];
	regs[4] = st.rflags;
	return 0;
}

static void setup(void)
{
	struct emu_env env = { .mem = &mem };

	guest_mem_init(&mem, 2 << 20);
	x86_cpu_state_reset(&st, 1);
	/* Long mode flags without paging: emu only looks at LMA and CS.L. */
	st.cr0 = X86_CR0_PE | X86_CR0_ET;
	st.efer = X86_EFER_LME | X86_EFER_LMA;
	for (int i = 0; i < 6; i++)
		x86_seg_flat(&st.seg[i], 0x10, 0, 64);
	x86_seg_flat(&st.seg[X86_CS], 0x08, 1, 64);
	cpu = emu_cpu_new(&st, &env);
	stub = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static uint64_t undefined_flags(const struct icase *ic, const uint64_t in[5])
{
	unsigned mask = ic->size == 8 ? 63 : 31;
	unsigned cnt = (in[2] & 0xff) & mask;

	switch (ic->kind) {
	case K_SHIFT:
		return cnt ? AF | (cnt > 1 ? FL(OF) : 0) : 0;
	case K_ROT:
		return cnt > 1 ? FL(OF) : 0;
	case K_SHXD:
		return cnt ? AF | (cnt > 1 ? FL(OF) : 0) : 0;
	default:
		return ic->undef;
	}
}

/* Make the operands legal for the instruction (no #DE on the host). */
static void fix_inputs(const struct icase *ic, uint64_t in[5])
{
	uint64_t m = emu_mask(ic->size);

	if (ic->kind == K_DIV || ic->kind == K_IDIV) {
		if (!(in[2] & m))
			in[2] |= 3;
		if ((in[2] & m) == m && ic->kind == K_IDIV)
			in[2] = 7;
		/* Dividend high half 0 (DIV) or the sign of the low half (IDIV). */
		if (ic->size == 1) {
			in[0] &= ~0xff00ULL;
			if (ic->kind == K_IDIV && (in[0] & 0x80))
				in[0] |= 0xff00;
		} else {
			in[3] &= ~m;
			if (ic->kind == K_IDIV && ((in[0] >> (ic->size * 8 - 1)) & 1))
				in[3] |= m;
		}
	}
	if (ic->kind == K_BSX && !(in[1] & m))
		in[1] |= 1;    /* destination undefined for 0 on Intel */
	if (ic->kind == K_SHXD && ic->size == 2 && (in[2] & 31) > 16)
		in[2] &= ~16ULL;
}

static void test_against_host(void)
{
	const uint64_t flag_in = ARITH | FL(DF);

	CHECK(stub != MAP_FAILED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct icase *ic = &cases[i];

		for (int k = 0; k < 400; k++) {
			uint64_t in[5], hw[5], sw[5], undef;

			for (int r = 0; r < 4; r++)
				in[r] = operand();
			if (k & 1)
				in[2] = rnd() % 70;        /* shift counts around the widths */
			in[4] = (rnd() & flag_in) | X86_RFLAGS_FIXED;
			fix_inputs(ic, in);
			memcpy(hw, in, sizeof(hw));
			memcpy(sw, in, sizeof(sw));
			run_native(ic, hw);
			if (run_emu(ic, sw)) {
				printf("  case %zu: emu did not execute it\n", i);
				CHECK(0);
			}
			undef = undefined_flags(ic, in);
			for (int r = 0; r < 4; r++) {
				if (hw[r] != sw[r]) {
					printf("  case %zu reg %d: in %#llx %#llx %#llx %#llx fl %#llx: hw %#llx emu %#llx\n",
					       i, r, (unsigned long long)in[0], (unsigned long long)in[1],
					       (unsigned long long)in[2], (unsigned long long)in[3],
					       (unsigned long long)in[4], (unsigned long long)hw[r],
					       (unsigned long long)sw[r]);
					CHECK_EQ(sw[r], hw[r]);
				}
			}
			if ((hw[4] ^ sw[4]) & (ARITH | FL(DF)) & ~undef) {
				printf("  case %zu flags: in %#llx %#llx %#llx fl %#llx: hw %#llx emu %#llx\n",
				       i, (unsigned long long)in[0], (unsigned long long)in[1],
				       (unsigned long long)in[2], (unsigned long long)in[4],
				       (unsigned long long)hw[4], (unsigned long long)sw[4]);
				CHECK_EQ(sw[4] & ~undef & ARITH, hw[4] & ~undef & ARITH);
			}
		}
	}
}

/* #DE is delivered, not executed: the divide leaves registers untouched. */
static void test_divide_error(void)
{
	static const struct icase div0 = I("\xf7\xf1", 0, 0, 4);
	uint64_t regs[5] = { 5, 0, 0, 0, X86_RFLAGS_FIXED };

	st.idt = (struct x86_dtable){ 0, 0 };    /* no IDT: #DE -> #GP -> #DF -> shutdown */
	for (int i = 0; i < 4; i++)
		st.gpr[(int[]){ X86_RAX, X86_RBX, X86_RCX, X86_RDX }[i]] = regs[i];
	st.rip = 0x1000;
	guest_mem_write(&mem, 0x1000, div0.bytes, div0.len);
	CHECK_EQ(emu_step(cpu), EMU_TRIPLE_FAULT);
	CHECK_EQ(st.gpr[X86_RAX], 5);
}

int main(void)
{
	setup();
	RUN(test_against_host);
	RUN(test_divide_error);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
