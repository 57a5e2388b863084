/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_EMU_BLOCK_INT_H
#define VMON_ACCEL_EMU_BLOCK_INT_H

/*
 * Decoded blocks (block.c), and the lookup of the next one that the
 * runner (fast.c) does inline when a block ran whole.
 */
#include "accel/emu/emu_int.h"
#include "machine/mem_code.h"

#define BLOCK_INSNS 32         /* at most, per block */
#define BLOCKS 65536           /* direct-mapped by linear address */
#define ARENA_INSNS 262144     /* decoded instructions kept, all blocks */
#define ARENA_BYTES (ARENA_INSNS * 8)
#define BLOCK_BYTES (BLOCK_INSNS * 15)

/*
 * One block, 32 bytes: a table entry is one cache line's half.  It is
 * found by the host address of its first byte and its code mode, not by
 * its linear address: decoding depends on nothing else (branch targets
 * and RIP-relative operands are taken from RIP as it runs), so a block
 * serves every linear address that maps to its bytes.
 */
struct block {
	const uint8_t *host;   /* where it was decoded from in guest RAM; NULL: empty */
	uint64_t stamp;        /* its page's mem_code_stamp when its bytes were last seen */
	uint32_t first;        /* its first instruction in insns[] */
	uint32_t bytes;        /* its bytes in bytes[] */
	uint16_t len;          /* bytes */
	/*
	 * The table entry of the block that ran after it last time: fetched
	 * into the cache while this one runs (a boot's blocks do not fit in
	 * the cache, and the load of the next entry was most of block entry).
	 */
	uint16_t next;
	uint8_t n, mode;
};

_Static_assert(sizeof(struct block) == 32, "two blocks a cache line");
_Static_assert(BLOCKS <= 65536, "block.next is 16 bits");

struct emu_blocks {
	struct block table[BLOCKS] __attribute__((aligned(64)));
	struct block *last;          /* the last block run (after a clear, any entry: a hint only) */
	uint32_t ninsns, nbytes;     /* arena space used */
	uint64_t runs, built, clears;   /* for --stats */
	struct emu_block_insn insns[ARENA_INSNS];
	uint8_t bytes[ARENA_BYTES];
};

/* What a chain of blocks runs in: computed once by emu_run_blocks. */
struct chain {
	int mode;
	int paged, user;       /* CR0.PG, CPL 3: for the last code page (emu_fetch_ptr) */
	uint64_t rip_mask;
};

/* A chain's blocks and its invariants (emu_run.chain). */
struct chain_ctx {
	struct emu_blocks *bs;
	const struct chain *ch;
};

/* The table entry for code at lin (direct-mapped). */
static inline struct block *block_slot(struct emu_blocks *bs, uint64_t lin)
{
	return &bs->table[(lin ^ (lin >> 12)) % BLOCKS];
}

/* Whether lin is on the last code page that passed, at fetch_host (emu_fetch_ptr's test). */
static inline int chain_last_page(const struct emu_cpu *c, const struct chain *ch, uint64_t lin)
{
	return lin >> 12 == c->fetch_vpn && ch->user == c->fetch_user && ch->paged;
}

/*
 * Points run at block b, found at RIP rip on code page page: the next
 * entry is fetched into the cache, and b becomes the last block run.
 */
static inline __attribute__((always_inline)) void block_start(struct emu_cpu *c,
							      struct emu_blocks *bs,
							      struct block *b, uint64_t rip,
							      uint64_t page, struct emu_run *run)
{
	__builtin_prefetch(&bs->table[b->next]);
	bs->last->next = (uint16_t)(b - bs->table);
	bs->last = b;
	run->insns = &bs->insns[b->first];
	run->n = b->n;
	run->base = rip;
	bs->runs++;
	c->code_page = page;
}

/*
 * The block at RIP after one that ran whole, when it is found on the last
 * code page in 64-bit code: 1, and run is moved on to it.  Else 0, and the
 * caller's full lookup (block.c) does the rest, the decode included.
 */
static inline __attribute__((always_inline)) int emu_block_next(struct emu_cpu *c,
								 struct emu_run *run)
{
	const struct chain_ctx *x = run->chain;
	struct emu_blocks *bs = x->bs;
	uint64_t rip = c->s->rip, page;
	const uint8_t *p;
	struct block *b;

	if (x->ch->mode != 64 || !chain_last_page(c, x->ch, rip))
		return 0;       /* also a non-canonical RIP: never a fetch_vpn */
	p = c->fetch_host + (rip & 0xfff);
	b = block_slot(bs, rip);
	page = (uint64_t)(p - c->code_base) >> 12;
	if (b->host != p || b->mode != 64 || mem_code_stamp(c->code, page) != b->stamp)
		return 0;
	run->done += run->n;
	block_start(c, bs, b, rip, page, run);
	return 1;
}

#endif
