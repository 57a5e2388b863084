/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

/* Multiboot 0.6.96: what the loader hands the guest in EBX. */
#include <stdint.h>

#include "guest.h"

#define MB_BOOT_MAGIC 0x2BADB002

#define MB_INFO_MEM      (1u << 0)
#define MB_INFO_CMDLINE  (1u << 2)
#define MB_INFO_MODS     (1u << 3)
#define MB_INFO_MMAP     (1u << 6)
#define MB_INFO_LOADER   (1u << 9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

struct mb_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
};

/* size does not count itself: the next entry is at (char *)e + e->size + 4. */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t base;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

/* The command line the loader passed in the boot information, or "". */
static inline const char *mb_cmdline(uint32_t magic, uint32_t mbi_addr)
{
	const struct mb_info *mbi = phys_ptr(mbi_addr);

	if (magic != MB_BOOT_MAGIC || !(mbi->flags & MB_INFO_CMDLINE))
		return "";
	return phys_ptr(mbi->cmdline);
}

#endif
