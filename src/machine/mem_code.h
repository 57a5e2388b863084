/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MEM_CODE_H
#define VMON_MACHINE_MEM_CODE_H

#include <stdint.h>

/*
 * Which pages of guest RAM the software CPU decoded code from, and a write
 * generation per page, shared by every vCPU of the machine: a decoded
 * block stays valid while its page's stamp (mem_code_stamp) is the one it
 * was checked at, so block entry needs no compare of its bytes
 * (docs/emu-speed.md, step 3).  Every write to guest RAM must reach here:
 * emu's own stores by page (emu_note_write), other writers by range
 * (guest_mem_write, mem_code_written) or, when they cannot say what they
 * wrote (a device's DMA through its iovecs, a native run of the guest),
 * by mem_code_flush before the guest can see that they are done.
 */
struct mem_code {
	uint8_t *base;        /* guest RAM's host mapping */
	uint64_t pages;       /* 4 KiB pages covered from base */
	uint8_t *has;         /* per page: 1 once code was decoded from it */
	uint64_t *gen;        /* per page: bumped by each write once has is 1 */
	uint64_t epoch;       /* bumped by mem_code_flush */
	int shared;           /* several threads run emu stores (SMP): see mem_code_mark */
	int untracked;        /* a write may escape: no stamp can be trusted */
};

/* For size bytes of RAM at base; NULL when out of memory. */
struct mem_code *mem_code_new(uint8_t *base, uint64_t size);
void mem_code_free(struct mem_code *mc);

/*
 * Several emu vCPU threads may store to RAM from now on.  Their plain
 * stores do not fence, so mem_code_mark waits for them (membarrier); where
 * the host cannot, stamps stop being trusted (blocks compare bytes).
 */
void mem_code_set_shared(struct mem_code *mc);

/*
 * The stamp of page: its generation plus the epoch, both only growing, so
 * any write since a block was checked changes it.  Acquire: the bytes
 * read after it are at least as new.
 */
static inline uint64_t mem_code_stamp(const struct mem_code *mc, uint64_t page)
{
	return __atomic_load_n(&mc->gen[page], __ATOMIC_ACQUIRE) +
	       __atomic_load_n(&mc->epoch, __ATOMIC_ACQUIRE);
}

/*
 * Before code is decoded from page: from then on writers bump its
 * generation.  Returns the stamp to record, taken before the bytes are
 * read, or ~0 (never matches) when stamps cannot be trusted.
 */
uint64_t mem_code_mark(struct mem_code *mc, uint64_t page);

/* A write to a page with code (the caller checked has[page]), after its bytes. */
static inline void mem_code_bump(struct mem_code *mc, uint64_t page)
{
	__atomic_fetch_add(&mc->gen[page], 1, __ATOMIC_SEQ_CST);
}

/* len bytes at host address p were written (after the write). */
void mem_code_written(struct mem_code *mc, const void *p, uint64_t len);

/* Anything may have been written: every stamp changes. */
void mem_code_flush(struct mem_code *mc);

#endif
