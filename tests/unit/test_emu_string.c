/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REP MOVS and REP STOS move whole runs of elements when the TLB already
 * passed both pages (exec_string.c): every case here is checked against
 * the element-by-element result a CPU gives, and each first touches its
 * pages so that the runs, not only the element path, do the work.
 */
#include "test.h"
#include "emu_rig64.h"

#define SRC 0x60000
#define DST 0x68000
#define CODE2 0x12000

/* Runs the instruction at CODE to its end (a REP takes several steps), or to a fault's handler. */
static void run_insn(size_t len)
{
	for (int i = 0; i < 64 && st.rip == CODE; i++)
		emu_step(cpu);
	CHECK(st.rip == CODE + len || st.rip == HANDLER);
}

static void fill_pattern(uint64_t gpa, size_t n)
{
	uint8_t *p = guest_mem_ptr(&mem, gpa, n);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

/* The bytes a CPU leaves: elements of size bytes one after another. */
static void model_movs(uint8_t *m, uint64_t dst, uint64_t src, uint64_t count, unsigned size,
		       int down)
{
	for (uint64_t i = 0; i < count; i++) {
		uint8_t e[8];

		memcpy(e, m + src, size);
		memcpy(m + dst, e, size);
		src = down ? src - size : src + size;
		dst = down ? dst - size : dst + size;
	}
}

/* Touches a page for reading and for writing, as a first element would. */
static void touch(uint64_t gpa)
{
	uint64_t v;

	CHECK_EQ(emu_read_u(cpu, X86_DS, gpa, 1, &v), 0);
	CHECK_EQ(emu_write_u(cpu, X86_ES, gpa, 1, v), 0);
}

/* REP MOVS of count elements, checked against the model from DATA to 1 MiB (below: page tables' A bits). */
static void check_movs(const char *insn, size_t len, unsigned size, uint64_t src, uint64_t dst,
		       uint64_t count, int down)
{
	static uint8_t want[1 << 20];
	uint64_t bytes = count * size, sign = down ? -1ULL : 1;

	setup64();
	fill_pattern(SRC - 0x4000, 0x14000);
	for (uint64_t a = (SRC - 0x4000) & ~0xfffULL; a < DST + 0x5000; a += 0x1000)
		touch(a);
	put(CODE, insn, len);
	memcpy(want, mem.base, sizeof(want));
	model_movs(want, dst, src, count, size, down);
	st.gpr[X86_RSI] = src;
	st.gpr[X86_RDI] = dst;
	st.gpr[X86_RCX] = count;
	if (down)
		st.rflags |= X86_RFLAGS_DF;
	run_insn(len);
	CHECK_EQ(st.rip, CODE + len);
	CHECK_EQ(st.gpr[X86_RCX], 0);
	CHECK_EQ(st.gpr[X86_RSI], src + sign * bytes);
	CHECK_EQ(st.gpr[X86_RDI], dst + sign * bytes);
	CHECK(memcmp(want + DATA, mem.base + DATA, sizeof(want) - DATA) == 0);
}

static void test_movsb_crosses_pages(void)
{
	check_movs("\xf3\xa4", 2, 1, SRC + 0x123, DST + 0x456, 0x3800, 0);
}

static void test_movsq_crosses_pages(void)
{
	check_movs("\xf3\x48\xa5", 3, 8, SRC + 0x18, DST + 0xff8, 0x900, 0);
}

static void test_movsd_down(void)
{
	check_movs("\xf3\xa5", 2, 4, SRC + 0x2ffc, DST + 0x1ff0, 0x1000, 1);
}

/* Forward with the destination 3 bytes ahead: the first 3 bytes repeat. */
static void test_movsb_overlap_repeats(void)
{
	check_movs("\xf3\xa4", 2, 1, SRC + 0x10, SRC + 0x13, 0x2000, 0);
}

/* Ahead by less than an element: the element path. */
static void test_movsd_overlap_within_element(void)
{
	check_movs("\xf3\xa5", 2, 4, SRC + 0x10, SRC + 0x12, 0x800, 0);
}

static void test_movsw_overlap_down(void)
{
	check_movs("\xf3\x66\xa5", 3, 2, SRC + 0x1806, SRC + 0x1800, 0x900, 1);
}

/* Overlap the other way round: as a copy through a buffer. */
static void test_movsq_overlap_behind(void)
{
	check_movs("\xf3\x48\xa5", 3, 8, SRC + 0x108, SRC + 0x100, 0x400, 0);
}

/* 32-bit addresses in 64-bit mode: the registers stay 32-bit. */
static void test_movsb_addr32(void)
{
	check_movs("\xf3\x67\xa4", 3, 1, SRC + 0x800, DST + 0x10, 0x1000, 0);
	CHECK_EQ(st.gpr[X86_RSI] >> 32, 0);
}

/*
 * The destination's second page is not present: the first page is
 * copied, then #PF with CR2 there and the registers at that element.
 */
static void test_fault_on_second_page(void)
{
	uint64_t src = SRC + 0x200, dst = DST + 0xc00, count = 0x1000;

	setup64();
	fill_pattern(SRC, 0x2000);
	idt_gate(14, HANDLER, 0, 0);
	w64(PT + ((DST + 0x1000) >> 12) * 8, 0);
	touch(SRC);
	touch(SRC + 0x1000);
	touch(DST);
	put(CODE, "\xf3\xa4", 2);
	st.gpr[X86_RSI] = src;
	st.gpr[X86_RDI] = dst;
	st.gpr[X86_RCX] = count;
	run_insn(2);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.cr2, DST + 0x1000);
	CHECK_EQ(st.gpr[X86_RCX], count - 0x400);
	CHECK_EQ(st.gpr[X86_RSI], src + 0x400);
	CHECK_EQ(st.gpr[X86_RDI], DST + 0x1000);
	CHECK(memcmp(guest_mem_ptr(&mem, dst, 0x400), guest_mem_ptr(&mem, src, 0x400), 0x400) == 0);
	CHECK_EQ(r64(STACK - 40), CODE);            /* the REP restarts there */
}

static void test_stos_down_crosses_pages(void)
{
	static uint8_t want[1 << 20];
	uint64_t dst = DST + 0x2ff0;

	setup64();
	for (uint64_t a = DST; a < DST + 0x3000; a += 0x1000)
		touch(a);
	put(CODE, "\xf3\xab", 2);
	memcpy(want, mem.base, sizeof(want));
	for (uint64_t i = 0; i < 0x900; i++)
		memcpy(want + dst - 4 * i, "\x44\x33\x22\x11", 4);
	st.gpr[X86_RAX] = 0x8811223344ULL;
	st.gpr[X86_RDI] = dst;
	st.gpr[X86_RCX] = 0x900;
	st.rflags |= X86_RFLAGS_DF;
	run_insn(2);
	CHECK_EQ(st.gpr[X86_RCX], 0);
	CHECK_EQ(st.gpr[X86_RDI], dst - 0x900 * 4);
	CHECK(memcmp(want + DATA, mem.base + DATA, sizeof(want) - DATA) == 0);
}

/* Runs the block at CODE2 ("mov eax, imm32; hlt"); EAX is what it loaded. */
static uint32_t run_code2(void)
{
	unsigned n = 0;

	st.rip = CODE2;
	st.gpr[X86_RAX] = 0;
	emu_run_block(cpu, &n);
	return (uint32_t)st.gpr[X86_RAX];
}

/* REP STOS into a page whose code was decoded: the block runs the new bytes. */
static void test_stos_into_decoded_code(void)
{
	uint64_t runs, built, clears;

	setup64();
	put(CODE2, "\xb8\x01\x00\x00\x00\xf4", 6);
	touch(CODE2 + 0x800);
	CHECK_EQ(run_code2(), 1);
	CHECK_EQ(run_code2(), 1);
	emu_block_stats(cpu, &runs, &built, &clears);
	CHECK_EQ(built, 1);                   /* the second run used the block */
	put(CODE, "\xf3\xaa", 2);
	st.rip = CODE;
	st.gpr[X86_RAX] = 7;
	st.gpr[X86_RDI] = CODE2 + 1;
	st.gpr[X86_RCX] = 4;
	run_insn(2);
	CHECK_EQ(st.gpr[X86_RDI], CODE2 + 5);
	CHECK_EQ(run_code2(), 0x07070707);
	emu_block_stats(cpu, &runs, &built, &clears);
	CHECK_EQ(built, 2);
}

/* 32-bit code (compatibility mode), as segment limits apply there. */
static void compat_mode(void)
{
	x86_seg_flat(&st.seg[X86_CS], 0x08, 1, 32);
	for (int i = X86_ES; i <= X86_GS; i++)
		if (i != X86_CS)
			x86_seg_flat(&st.seg[i], 0x10, 0, 32);
}

/* ES's limit ends in the middle of the second page: #GP(0) at the first element past it. */
static void test_limit_fault_midway(void)
{
	uint64_t count = 0x2000;

	setup64();
	fill_pattern(SRC, 0x2000);
	idt_gate(13, HANDLER, 0, 0);
	for (uint64_t a = 0; a < 0x2000; a += 0x1000) {
		touch(SRC + a);
		touch(DST + a);
	}
	compat_mode();
	st.seg[X86_ES].limit = DST + 0x17ff;
	put(CODE, "\xf3\xa4", 2);
	st.gpr[X86_RSI] = SRC;
	st.gpr[X86_RDI] = DST;
	st.gpr[X86_RCX] = count;
	run_insn(2);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.gpr[X86_RCX], count - 0x1800);
	CHECK_EQ(st.gpr[X86_RSI], SRC + 0x1800);
	CHECK_EQ(st.gpr[X86_RDI], DST + 0x1800);
	CHECK_EQ(r64(STACK - 48), 0);               /* #GP's error code */
	CHECK_EQ(r64(STACK - 40), CODE);
	CHECK(memcmp(guest_mem_ptr(&mem, DST, 0x1800), guest_mem_ptr(&mem, SRC, 0x1800), 0x1800) == 0);
	CHECK_EQ(*(uint8_t *)guest_mem_ptr(&mem, DST + 0x1800, 1), 0);
}

/*
 * 16-bit addresses wrap DI within ES (its base not page-aligned, so the
 * wrap is inside a page), and keep the registers' upper bits.
 */
static void test_addr16_wraps(void)
{
	static uint8_t want[1 << 20];
	const uint8_t *from;

	setup64();
	fill_pattern(SRC, 0x1000);
	from = guest_mem_ptr(&mem, SRC + 0x100, 0x20);
	touch(SRC);
	touch(DST);
	touch(DST + 0x10000);
	compat_mode();
	st.seg[X86_ES].base = DST + 0x800;
	st.seg[X86_DS].base = SRC;
	put(CODE, "\x67\xf3\xa4", 3);
	memcpy(want, mem.base, sizeof(want));
	for (unsigned i = 0; i < 0x20; i++)
		want[DST + 0x800 + ((0xfff8 + i) & 0xffff)] = from[i];
	st.gpr[X86_RSI] = 0x12340100;
	st.gpr[X86_RDI] = 0xabcd0000fff8ULL;
	st.gpr[X86_RCX] = 0x55550020;
	run_insn(3);
	CHECK_EQ(st.rip, CODE + 3);
	CHECK_EQ(st.gpr[X86_RCX], 0x55550000);
	CHECK_EQ(st.gpr[X86_RSI], 0x12340120);
	CHECK_EQ(st.gpr[X86_RDI], 0xabcd00000018ULL);
	CHECK(memcmp(want + DATA, mem.base + DATA, sizeof(want) - DATA) == 0);
}

int main(void)
{
	RUN(test_movsb_crosses_pages);
	RUN(test_movsq_crosses_pages);
	RUN(test_movsd_down);
	RUN(test_movsb_overlap_repeats);
	RUN(test_movsd_overlap_within_element);
	RUN(test_movsw_overlap_down);
	RUN(test_movsq_overlap_behind);
	RUN(test_movsb_addr32);
	RUN(test_fault_on_second_page);
	RUN(test_limit_fault_midway);
	RUN(test_addr16_wraps);
	RUN(test_stos_down_crosses_pages);
	RUN(test_stos_into_decoded_code);
	return TEST_EXIT();
}
