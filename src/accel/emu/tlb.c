/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software TLB's flushes (mmu.c fills it).  Two bitmaps say which
 * slots were filled since they were last emptied, and which of those hold
 * non-global entries, so that a flush, and above all the new CR3 of every
 * context switch, costs what was filled, not all 1024 slots.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

/* Empties the slots whose bits are set in map, and clears map. */
static void tlb_drop(struct emu_cpu *c, uint64_t *map)
{
	for (unsigned w = 0; w < EMU_TLB_WORDS; w++) {
		uint64_t bits = map[w];

		map[w] = 0;
		while (bits) {
			emu_tlb_empty(&c->tlb[w * 64 + (unsigned)__builtin_ctzll(bits)]);
			bits &= bits - 1;
		}
	}
	c->fetch_vpn = ~0ULL;
}

void emu_tlb_mark(struct emu_cpu *c, unsigned i, int global)
{
	uint64_t bit = 1ULL << (i % 64);

	c->tlb_used[i / 64] |= bit;
	if (global)
		c->tlb_local[i / 64] &= ~bit;
	else
		c->tlb_local[i / 64] |= bit;
}

void emu_tlb_flush(struct emu_cpu *c)
{
	c->tlb_stats.flushes++;
	tlb_drop(c, c->tlb_used);
	memset(c->tlb_local, 0, sizeof(c->tlb_local));
}

/* SDM vol. 3 4.10.4.1: a new CR3 leaves the global translations alone. */
void emu_tlb_flush_cr3(struct emu_cpu *c)
{
	if (!(c->s->cr4 & X86_CR4_PGE)) {
		emu_tlb_flush(c);
		return;
	}
	c->tlb_stats.cr3_flushes++;
	tlb_drop(c, c->tlb_local);
}

void emu_tlb_stats(const struct emu_cpu *c, struct emu_tlb_stats *out)
{
	*out = c->tlb_stats;
}

/* Every slot, whatever the maps say: the TLB may be new (calloc'd zeros). */
void emu_mmu_reset(struct emu_cpu *c)
{
	for (int i = 0; i < EMU_TLB_SIZE; i++)
		emu_tlb_empty(&c->tlb[i]);
	memset(c->tlb_used, 0, sizeof(c->tlb_used));
	memset(c->tlb_local, 0, sizeof(c->tlb_local));
	c->fetch_vpn = ~0ULL;
	c->pdpte_loaded = 0;
	c->paging_known = 0;
}

/* INVLPG: global or not, the page goes. */
void emu_tlb_flush_page(struct emu_cpu *c, uint64_t lin)
{
	struct emu_tlb_entry *e = &c->tlb[(lin >> 12) % EMU_TLB_SIZE];

	c->fetch_vpn = ~0ULL;
	if (e->vpn == lin >> 12)
		emu_tlb_empty(e);
}
