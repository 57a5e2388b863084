/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MEMORY_H
#define VMON_MACHINE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "machine/mem_code.h"

/*
 * Guest RAM: one anonymous mapping, split around the 32-bit PCI/MMIO hole.
 * RAM below MEM_HOLE_START sits at GPA 0; whatever does not fit there is
 * mapped at 4 GiB, as on a PC.
 */
#define MEM_HOLE_START 0xC0000000ULL
#define MEM_HIGH_START 0x100000000ULL
#define MEM_MIN_SIZE   (2ULL << 20)
#define MEM_MAX_SIZE   (1ULL << 40)

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	uint8_t *base;     /* the whole mapping */
	uint64_t size;     /* bytes of RAM */
	struct mem_region region[2];
	int nregions;
	int file_fd;       /* RAM mapped from a snapshot file, or -1 */
	struct mem_code *code;   /* pages with decoded code (mem_code.h); NULL without memory for it */
};

/* Maps size bytes of RAM; -1 with errno on failure. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
void guest_mem_destroy(struct guest_mem *mem);
/*
 * Replaces the RAM's contents with the size bytes of fd at off, mapped
 * copy-on-write: pages load on first touch, writes stay private, the file
 * is never changed.  Before any slot or device uses the mapping; -1 with
 * errno.
 */
int guest_mem_map_file(struct guest_mem *mem, int fd, uint64_t off);

/*
 * Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in
 * one RAM region.  Every access a guest or a file steers goes through here.
 */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/*
 * Copies to/from guest RAM; -1 if any byte is outside RAM.  Writes through
 * guest_mem_ptr's pointer instead must tell mem_code (guest_mem_written,
 * or mem_code_flush where the bytes are not known) before the guest can
 * see them done: decoded code is not compared with RAM again.
 */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);

/* Host writes to [gpa, gpa+len) done through guest_mem_ptr's pointer. */
void guest_mem_written(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Highest RAM address below the hole, plus one. */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
