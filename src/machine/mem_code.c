/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Page generations of guest RAM for decoded code (mem_code.h).  The one
 * subtle part is the first decode from a page: a writer that does not yet
 * see has[page] set must have its bytes seen by the decoder.  Writers by
 * range fence between their bytes and their look at has[]; the decoder
 * fences between setting it and reading the bytes (Dekker).  emu's plain
 * stores cannot fence, so with several emu threads the decoder makes
 * every thread fence (membarrier) instead, once per page.
 */
#include "machine/mem_code.h"

#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *zeroed(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct mem_code *mem_code_new(uint8_t *base, uint64_t size)
{
	struct mem_code *mc = calloc(1, sizeof(*mc));

	if (!mc)
		return NULL;
	mc->base = base;
	mc->pages = size >> 12;
	mc->has = zeroed(mc->pages);
	mc->gen = zeroed(mc->pages * sizeof(uint64_t));
	if (!mc->has || !mc->gen) {
		mem_code_free(mc);
		return NULL;
	}
	return mc;
}

void mem_code_free(struct mem_code *mc)
{
	if (!mc)
		return;
	if (mc->has)
		munmap(mc->has, mc->pages);
	if (mc->gen)
		munmap(mc->gen, mc->pages * sizeof(uint64_t));
	free(mc);
}

static long membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

void mem_code_set_shared(struct mem_code *mc)
{
	if (mc->shared || mc->untracked)
		return;
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		mc->untracked = 1;
	else
		mc->shared = 1;
}

uint64_t mem_code_mark(struct mem_code *mc, uint64_t page)
{
	if (!__atomic_load_n(&mc->has[page], __ATOMIC_RELAXED)) {
		__atomic_store_n(&mc->has[page], 1, __ATOMIC_SEQ_CST);
		if (mc->shared && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
			__atomic_store_n(&mc->untracked, 1, __ATOMIC_SEQ_CST);
			mem_code_flush(mc);    /* the stamps taken so far go too */
		}
	}
	if (__atomic_load_n(&mc->untracked, __ATOMIC_RELAXED))
		return ~0ULL;
	return mem_code_stamp(mc, page);
}

void mem_code_written(struct mem_code *mc, const void *p, uint64_t len)
{
	uint64_t first, last;

	if (!mc || !len || (const uint8_t *)p < mc->base)
		return;
	first = (uint64_t)((const uint8_t *)p - mc->base) >> 12;
	last = (uint64_t)((const uint8_t *)p + len - 1 - mc->base) >> 12;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (uint64_t i = first; i <= last && i < mc->pages; i++)
		if (__atomic_load_n(&mc->has[i], __ATOMIC_RELAXED))
			mem_code_bump(mc, i);
}

void mem_code_flush(struct mem_code *mc)
{
	if (mc)
		__atomic_fetch_add(&mc->epoch, 1, __ATOMIC_SEQ_CST);
}
