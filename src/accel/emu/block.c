/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoded blocks: straight runs of instructions within one code page,
 * decoded once, each with its fast form (fast.c), and run without looking
 * at the bytes again while their page's stamp (machine/mem_code.h) is the
 * one they were checked at: every writer of guest RAM bumps the stamp of a
 * page with code (emu's own stores and other vCPUs' through
 * emu_note_write, devices and loaders through guest_mem_write or a flush),
 * and a block whose stamp is old is compared with the bytes once, so a
 * write near code but not to it costs a compare, not a decode.  A block is
 * keyed by its linear address and code mode and remembers the host
 * address it was decoded from, so another mapping at the same address is
 * a miss too, and the fetch permission of its page is checked on every
 * entry.  A store into the running block's page ends the block after that
 * instruction (self-modifying code); so do every control transfer and
 * every instruction that can change the mode, the privilege level, the
 * interrupt flag or the interrupt shadow, so a block runs in one context
 * and the caller sees every interrupt window open at a block boundary.
 */
#include <stdlib.h>
#include <string.h>

#include "accel/emu/block_int.h"

void emu_blocks_free(struct emu_blocks *b)
{
	free(b);
}

static void blocks_clear(struct emu_blocks *bs)
{
	for (unsigned i = 0; i < BLOCKS; i++)
		bs->table[i].host = NULL;
	bs->last = &bs->table[0];
	bs->ninsns = bs->nbytes = 0;
	bs->clears++;
}

static struct emu_blocks *blocks_get(struct emu_cpu *c)
{
	if (!c->blocks) {
		c->blocks = calloc(1, sizeof(*c->blocks));   /* the counters start at 0 */
		if (c->blocks)
			blocks_clear(c->blocks);
	}
	return c->blocks;
}

/*
 * Instructions a block may go on after: they change no mode, privilege,
 * IF or shadow, and transfer no control (a fault ends the block anyway).
 * A REP string op re-executes itself, so it ends its block.
 */
static int block_goes_on(const struct x86_insn *in)
{
	unsigned op = in->op;

	if (op >= OP_MOVS && op <= OP_SCAS)
		return !in->rep;
	return (op >= OP_ADD && op <= OP_DEC) || (op >= OP_MOV && op <= OP_BSWAP) ||
	       (op >= OP_BT && op <= OP_SHRD) || (op >= OP_CBW && op <= OP_STD) ||
	       op == OP_PUSH || op == OP_POP || op == OP_PUSH_Z || op == OP_POP_Z ||
	       op == OP_PUSH_I || op == OP_PUSHF || op == OP_PUSHA || op == OP_POPA ||
	       op == OP_ENTER || op == OP_LEAVE || op == OP_SETCC || op == OP_CMOVCC ||
	       op == OP_NOP || op == OP_PAUSE || op == OP_SSE || op == OP_X87 ||
	       op == OP_FWAIT || op == OP_FENCE || op == OP_XLAT || op == OP_SALC;
}

void emu_code_written(struct emu_cpu *c, uint64_t page)
{
	mem_code_bump(c->code, page);
	if (page == c->code_page)
		c->smc = 1;
}

/*
 * Decodes a block from the bytes at p up to the end of its page (guest
 * RAM's mapping is page-aligned); NULL if none decodes.
 */
static struct block *block_build(struct emu_cpu *c, struct emu_blocks *bs, struct block *b,
				 int mode, const uint8_t *p, uint32_t page)
{
	uint8_t buf[BLOCK_BYTES];
	unsigned avail = 0x1000 - (unsigned)((uintptr_t)p & 0xfff);
	unsigned have = avail < sizeof(buf) ? avail : sizeof(buf), off = 0, n = 0;
	struct emu_block_insn *bi;
	uint64_t stamp;

	if (bs->ninsns + BLOCK_INSNS > ARENA_INSNS || bs->nbytes + BLOCK_BYTES > ARENA_BYTES)
		blocks_clear(bs);
	/* The stamp before the bytes: a write after it changes the stamp. */
	stamp = mem_code_mark(c->code, page);
	/* A copy: another vCPU may be writing the bytes as we decode. */
	memcpy(buf, p, have);
	bi = &bs->insns[bs->ninsns];
	while (n < BLOCK_INSNS && off < have) {
		if (emu_decode(buf + off, have - off, mode, &bi[n].in))
			break;      /* #UD, #GP, or across the page: emu_step's */
		bi[n].form = (uint16_t)emu_fast_select(&bi[n].in);
		off += bi[n].in.len;
		bi[n].end = (uint16_t)off;
		if (!block_goes_on(&bi[n++].in))
			break;
	}
	if (!n)
		return NULL;
	emu_fast_liveness(bi, n);
	bs->built++;
	*b = (struct block){ p, stamp, bs->ninsns, bs->nbytes, (uint16_t)off, 0, (uint8_t)n,
			     (uint8_t)mode };
	memcpy(bs->bytes + bs->nbytes, buf, off);
	bs->ninsns += n;
	bs->nbytes += off;
	return b;
}

/* A block decoded from p whose stamp is old: its bytes are compared once. */
static int block_recheck(struct emu_cpu *c, struct emu_blocks *bs, struct block *b,
			 uint64_t stamp)
{
	if (memcmp(bs->bytes + b->bytes, b->host, b->len))
		return 0;
	b->stamp = __atomic_load_n(&c->code->untracked, __ATOMIC_RELAXED) ? ~0ULL : stamp;
	return 1;
}

/* The block for the code at p (lin's host address), decoded if need be; *page is p's page. */
static struct block *block_find(struct emu_cpu *c, struct emu_blocks *bs, uint64_t lin, int mode,
				const uint8_t *p, uint64_t *page_out)
{
	struct block *b = block_slot(bs, lin);
	uint64_t page = (uint64_t)(p - c->code_base) >> 12, stamp;

	*page_out = page;
	if (b->host == p && b->mode == mode) {
		stamp = mem_code_stamp(c->code, page);
		if (stamp == b->stamp || block_recheck(c, bs, b, stamp))
			return b;
	}
	if (page >= c->code_pages)
		return NULL;
	return block_build(c, bs, b, mode, p, (uint32_t)page);
}

void emu_block_stats(const struct emu_cpu *c, uint64_t *runs, uint64_t *built, uint64_t *clears)
{
	const struct emu_blocks *bs = c->blocks;

	*runs = bs ? bs->runs : 0;
	*built = bs ? bs->built : 0;
	*clears = bs ? bs->clears - 1 : 0;    /* the first is the set-up */
}

/*
 * The host address of the code at lin, as emu_fetch_ptr, with the chain's
 * privilege; NULL for a fault or MMIO (the general path's).
 */
static const uint8_t *chain_fetch(struct emu_cpu *c, const struct chain *ch, uint64_t lin)
{
	const uint8_t *p;
	unsigned avail;

	if (chain_last_page(c, ch, lin))
		return c->fetch_host + (lin & 0xfff);
	return emu_fetch_page(c, lin, &p, &avail) ? NULL : p;
}

/*
 * Runs the block at RIP, and the ones after it that the runner finds
 * (emu_block_next) while only fast forms run and budget allows: -1 when
 * there is none (the caller steps), 0 when fast forms did all of it
 * (nothing that can change the mode, the privilege level, IF or the TLB
 * context ran), 1 otherwise.
 */
static int block_run(struct emu_cpu *c, struct emu_blocks *bs, const struct chain *ch,
		     unsigned budget, unsigned *count, enum emu_result *res)
{
	struct x86_cpu_state *s = c->s;
	struct chain_ctx x = { bs, ch };
	struct emu_run run = { .budget = budget, .chain = &x };
	struct block *b;
	const uint8_t *p;
	unsigned i;
	uint64_t rip = s->rip & ch->rip_mask, lin, page;
	int general = 0;

	if (ch->mode == 64) {
		if ((uint64_t)((int64_t)(rip << 16) >> 16) != rip)
			return -1;      /* #GP */
		lin = rip;
	} else {
		lin = (s->seg[X86_CS].base + rip) & 0xffffffffULL;
	}
	p = chain_fetch(c, ch, lin);
	if (!p)
		return -1;          /* faults and MMIO: the general path */
	b = block_find(c, bs, lin, ch->mode, p, &page);
	if (!b)
		return -1;
	/* No RIP in a block wraps around: each one's next is rip plus its end. */
	if (ch->mode != 64 && (rip + b->len - 1 > s->seg[X86_CS].limit ||
			       rip + b->len > (ch->mode == 32 ? 0xffffffffULL : 0xffffULL)))
		return -1;
	block_start(c, bs, b, rip, page, &run);
	c->smc = 0;
	*res = EMU_OK;
	for (i = 0;;) {
		const struct emu_block_insn *bi;
		uint64_t next;

		i = emu_fast_run(c, &run, i);
		if (i == run.n || c->smc)
			break;
		/* No fast form, or it could not: the general executor, exactly. */
		bi = &run.insns[i++];
		next = run.base + bi->end;
		general = 1;
		run.budget = 0;         /* no block after it in this call */
		*res = emu_exec_decoded(c, &bi->in, next);
		if (*res != EMU_OK || s->rip != next || c->delivered || c->smc)
			break;
		c->fast_ctx = emu_tlb_ctx(c);
	}
	c->code_page = ~0ULL;
	*count = run.done + i;
	return general || c->smc;
}

/* Whether blocks may run now: not while the general path tracks single-steps or breakpoints. */
static struct emu_blocks *blocks_usable(struct emu_cpu *c)
{
	const struct x86_cpu_state *s = c->s;

	if ((s->rflags & (X86_RFLAGS_TF | X86_RFLAGS_RF)) || emu_dr7_armed(s) ||
	    c->env.general_only || !c->code)
		return NULL;
	return blocks_get(c);
}

enum emu_result emu_run_block(struct emu_cpu *c, unsigned *count)
{
	return emu_run_blocks(c, 1, count);    /* every block runs at least one instruction */
}

enum emu_result emu_run_blocks(struct emu_cpu *c, unsigned max, unsigned *count)
{
	struct emu_blocks *bs = blocks_usable(c);
	int shadow = c->s->events.interrupt_shadow, k;
	struct chain ch;
	enum emu_result r = EMU_OK;
	unsigned n;

	*count = 1;
	if (!bs)
		return emu_step(c);
	ch.mode = emu_code_mode(c);
	ch.rip_mask = ch.mode == 64 ? ~0ULL : 0xffffffffULL;
	ch.paged = !!(c->s->cr0 & X86_CR0_PG);
	ch.user = emu_cpl(c) == 3;
	c->fast_ctx = emu_tlb_ctx(c);
	*count = 0;
	/*
	 * Only fast forms ran in a block that gives 0: the mode and the TLB
	 * context are still those computed here, IF did not change, and the
	 * shadow (if one was up) is over after the first block.
	 */
	do {
		k = block_run(c, bs, &ch, shadow ? 0 : max - *count, &n, &r);
		if (k < 0)
			break;
		*count += n;
	} while (!k && r == EMU_OK && !shadow && *count < max);
	if (k < 0 && !*count) {
		*count = 1;
		return emu_step(c);
	}
	return r;
}
