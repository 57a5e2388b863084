/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software CPU's TLB: which writes drop which entries (global pages
 * under CR4.PGE survive a new CR3, nothing else does), the fast tags with
 * them, the cached D bit, and flushes over every slot.  A translation is
 * made, the page table is changed behind the TLB's back, and a translation
 * afterwards tells whether the entry survived.
 */
#include "emu_rig64.h"
#include "test.h"

#define OTHER (DATA + 0x10000)     /* the frame DATA is remapped to */
#define PTE_G 0x100ULL
#define PTE_D 0x40ULL
#define PT2 0x9000                  /* maps 2-4 MiB for test_flushes_cover_every_slot */
#define PTE_OF(lin) ((lin) < 0x200000 ? PT + ((lin) >> 12) * 8 : PT2 + (((lin) >> 12) - 512) * 8)

static uint64_t pa_of(uint64_t lin)
{
	uint64_t pa;

	return emu_translate(cpu, lin, ACC_READ, &pa) ? ~0ULL : pa;
}

/* DATA (global or not) read once, so in the TLB with a read tag, then moved to OTHER. */
static void cached_then_moved(uint64_t g)
{
	uint64_t v;

	w64(PTE_OF(DATA), DATA | 7 | g);
	emu_read_lin(cpu, DATA, &v, 8, ACC_READ | ACC_DATA);
	w64(PTE_OF(DATA), OTHER | 7 | g);
	cpu->fast_ctx = emu_tlb_ctx(cpu);
}

/* One instruction at CODE with RAX = rax. */
static enum emu_result run(const char *code, size_t n, uint64_t rax)
{
	st.rip = CODE;
	st.gpr[X86_RAX] = rax;
	put(CODE, code, n);
	return emu_step(cpu);
}

#define MOV_CR3_RAX "\x0f\x22\xd8"
#define MOV_CR4_RAX "\x0f\x22\xe0"
#define MOV_CR0_RAX "\x0f\x22\xc0"
#define INVLPG_RAX  "\x0f\x01\x38"

static void test_global_page_survives_cr3(void)
{
	struct emu_tlb_stats ts;

	setup64();
	st.cr4 |= X86_CR4_PGE;
	cached_then_moved(PTE_G);
	CHECK_EQ(run(MOV_CR3_RAX, 3, PML4), EMU_OK);
	CHECK_EQ(st.cr3, PML4);
	CHECK_EQ(pa_of(DATA), DATA);
	cpu->fast_ctx = emu_tlb_ctx(cpu);
	CHECK(emu_fast_ptr(cpu, DATA, 8, 0) == mem.base + DATA);
	emu_tlb_stats(cpu, &ts);
	CHECK_EQ(ts.cr3_flushes, 1);
}

static void test_local_page_dropped_by_cr3(void)
{
	setup64();
	st.cr4 |= X86_CR4_PGE;
	cached_then_moved(0);
	CHECK(emu_fast_ptr(cpu, DATA, 8, 0) == mem.base + DATA);
	CHECK_EQ(run(MOV_CR3_RAX, 3, PML4), EMU_OK);
	cpu->fast_ctx = emu_tlb_ctx(cpu);
	CHECK(emu_fast_ptr(cpu, DATA, 8, 0) == NULL);
	CHECK_EQ(pa_of(DATA), OTHER);
}

/* G counts only under CR4.PGE: without it a new CR3 drops the page. */
static void test_g_without_pge_is_not_global(void)
{
	setup64();
	cached_then_moved(PTE_G);
	CHECK_EQ(run(MOV_CR3_RAX, 3, PML4), EMU_OK);
	CHECK(emu_fast_ptr(cpu, DATA, 8, 0) == NULL);
	CHECK_EQ(pa_of(DATA), OTHER);
}

static void test_invlpg_drops_global_page(void)
{
	setup64();
	st.cr4 |= X86_CR4_PGE;
	cached_then_moved(PTE_G);
	CHECK_EQ(run(INVLPG_RAX, 3, DATA), EMU_OK);
	CHECK(emu_fast_ptr(cpu, DATA, 8, 0) == NULL);
	CHECK_EQ(pa_of(DATA), OTHER);
}

static void test_pge_clear_drops_global_page(void)
{
	setup64();
	st.cr4 |= X86_CR4_PGE;
	cached_then_moved(PTE_G);
	CHECK_EQ(run(MOV_CR4_RAX, 3, st.cr4 & ~X86_CR4_PGE), EMU_OK);
	CHECK(!(st.cr4 & X86_CR4_PGE));
	CHECK(emu_fast_ptr(cpu, DATA, 8, 0) == NULL);
	CHECK_EQ(pa_of(DATA), OTHER);
}

static void test_wp_change_drops_global_page(void)
{
	setup64();
	st.cr4 |= X86_CR4_PGE;
	cached_then_moved(PTE_G);
	CHECK_EQ(run(MOV_CR0_RAX, 3, st.cr0 & ~X86_CR0_WP), EMU_OK);
	CHECK(!(st.cr0 & X86_CR0_WP));
	CHECK_EQ(pa_of(DATA), OTHER);
}

/* A CR0 or CR4 write that changes nothing paging depends on keeps every entry. */
static void test_unrelated_cr_writes_keep_entries(void)
{
	setup64();
	cached_then_moved(0);
	CHECK_EQ(run(MOV_CR4_RAX, 3, st.cr4 ^ X86_CR4_OSXMMEXCPT), EMU_OK);
	CHECK_EQ(run(MOV_CR0_RAX, 3, st.cr0 ^ X86_CR0_TS), EMU_OK);
	CHECK_EQ(pa_of(DATA), DATA);
	CHECK_EQ(run(MOV_CR4_RAX, 3, st.cr4 | X86_CR4_SMEP), EMU_OK);
	CHECK_EQ(pa_of(DATA), OTHER);
}

/* A page read while its D was set takes a write without a second walk; a clean one walks again and gets D. */
static void test_dirty_bit_cached(void)
{
	struct emu_tlb_stats a, b;
	uint64_t pa;

	setup64();
	w64(PTE_OF(DATA), DATA | 7 | PTE_D);
	w64(PTE_OF(DATA + 0x1000), (DATA + 0x1000) | 7);
	CHECK_EQ(pa_of(DATA), DATA);
	CHECK_EQ(pa_of(DATA + 0x1000), DATA + 0x1000);
	emu_tlb_stats(cpu, &a);
	CHECK_EQ(emu_translate(cpu, DATA, ACC_WRITE, &pa), 0);
	emu_tlb_stats(cpu, &b);
	CHECK_EQ(b.walks, a.walks);
	CHECK_EQ(emu_translate(cpu, DATA + 0x1000, ACC_WRITE, &pa), 0);
	emu_tlb_stats(cpu, &b);
	CHECK_EQ(b.walks, a.walks + 1);
	CHECK(r64(PTE_OF(DATA + 0x1000)) & PTE_D);
}

/*
 * A refused access walks again before it faults, as a #PF drops the
 * entry: a page made writable without a flush (Linux does so) takes the
 * write, even with its D bit cached.
 */
static void test_refused_access_walks_again(void)
{
	uint64_t pa;

	setup64();
	w64(PTE_OF(DATA), DATA | 5 | PTE_D);
	CHECK_EQ(pa_of(DATA), DATA);
	w64(PTE_OF(DATA), DATA | 7 | PTE_D);
	CHECK_EQ(emu_translate(cpu, DATA, ACC_WRITE, &pa), 0);
	CHECK_EQ(pa, DATA);
	w64(PTE_OF(DATA), DATA | 5 | PTE_D);
	emu_tlb_flush(cpu);
	CHECK_EQ(emu_translate(cpu, DATA, ACC_WRITE, &pa), -1);
	CHECK_EQ(cpu->fault, EXC_PF);
}

/* A read whose fast tag matches still meets an armed data breakpoint. */
static void test_tag_hit_meets_data_breakpoint(void)
{
	uint64_t v;

	setup64();
	CHECK_EQ(emu_read_lin(cpu, DATA, &v, 8, ACC_READ | ACC_DATA), 0);
	CHECK_EQ(emu_read_lin(cpu, DATA, &v, 8, ACC_READ | ACC_DATA), 0);
	CHECK_EQ(cpu->db_hits, 0);
	st.dr[0] = DATA;
	st.dr[7] = 1 | (3ULL << 16) | (3ULL << 18);    /* L0, read/write, 4 bytes */
	CHECK_EQ(emu_read_lin(cpu, DATA, &v, 8, ACC_READ | ACC_DATA), 0);
	CHECK_EQ(cpu->db_hits, 1);
}

/*
 * 768 pages in slots 256-1023: a new CR3 drops exactly the non-global
 * ones, a full flush the rest.
 */
static void test_flushes_cover_every_slot(void)
{
	const uint64_t first = 0x100000, n = 768;

	setup64();
	w64(PD + 8, PT2 | 7);
	st.cr4 |= X86_CR4_PGE;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t lin = first + (i << 12);

		w64(PTE_OF(lin), lin | 7 | (i % 3 ? 0 : PTE_G));
		CHECK_EQ(pa_of(lin), lin);
		w64(PTE_OF(lin), (lin ^ 0x1000) | 7 | (i % 3 ? 0 : PTE_G));
	}
	emu_tlb_flush_cr3(cpu);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t lin = first + (i << 12);

		CHECK_EQ(pa_of(lin), i % 3 ? lin ^ 0x1000 : lin);
		w64(PTE_OF(lin), lin | 7);
	}
	emu_tlb_flush(cpu);
	for (uint64_t i = 0; i < n; i++)
		CHECK_EQ(pa_of(first + (i << 12)), first + (i << 12));
}

int main(void)
{
	RUN(test_global_page_survives_cr3);
	RUN(test_local_page_dropped_by_cr3);
	RUN(test_g_without_pge_is_not_global);
	RUN(test_invlpg_drops_global_page);
	RUN(test_pge_clear_drops_global_page);
	RUN(test_wp_change_drops_global_page);
	RUN(test_unrelated_cr_writes_keep_entries);
	RUN(test_dirty_bit_cached);
	RUN(test_refused_access_walks_again);
	RUN(test_tag_hit_meets_data_breakpoint);
	RUN(test_flushes_cover_every_slot);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
