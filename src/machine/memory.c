/* SPDX-License-Identifier: Apache-2.0 */
#include "machine/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int guest_mem_init(struct guest_mem *mem, uint64_t size)
{
	uint64_t low;

	memset(mem, 0, sizeof(*mem));
	mem->file_fd = -1;
	if (size < MEM_MIN_SIZE || size > MEM_MAX_SIZE || (size & 0xfff)) {
		errno = EINVAL;
		return -1;
	}
	mem->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem->base == MAP_FAILED) {
		mem->base = NULL;
		return -1;
	}
	/* Guest RAM is touched sparsely: huge pages only where the kernel likes. */
	madvise(mem->base, size, MADV_HUGEPAGE);
	mem->size = size;
	mem->code = mem_code_new(mem->base, size);
	if (!mem->code) {
		munmap(mem->base, size);
		mem->base = NULL;
		errno = ENOMEM;
		return -1;
	}
	low = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	mem->region[0] = (struct mem_region){ 0, low, mem->base };
	mem->nregions = 1;
	if (size > low) {
		mem->region[1] = (struct mem_region){ MEM_HIGH_START, size - low,
						      mem->base + low };
		mem->nregions = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->size);
	mem_code_free(mem->code);
	memset(mem, 0, sizeof(*mem));
	mem->file_fd = -1;
}

int guest_mem_map_file(struct guest_mem *mem, int fd, uint64_t off)
{
	void *p = mmap(mem->base, mem->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);

	if (p == MAP_FAILED)
		return -1;
	mem->file_fd = fd;
	mem_code_flush(mem->code);
	return 0;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->region[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -1;
	memcpy(p, src, len);
	mem_code_written(mem->code, p, len);
	return 0;
}

void guest_mem_written(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (p)
		mem_code_written(mem->code, p, len);
	else
		mem_code_flush(mem->code);
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->region[0].size;
}
