/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_E820_H
#define VMON_ARCH_X86_E820_H

#include <stdint.h>

#include "machine/memory.h"

/* The guest physical memory map, as the BIOS INT 15h E820 call reports it. */
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };

/* The fixed holes below 1 MiB every guest type sees. */
#define E820_EBDA_START 0x9fc00ULL     /* top of conventional RAM */
#define E820_BIOS_START 0xe0000ULL     /* ACPI tables, RSDP */
#define E820_HIGH_START 0x100000ULL

/* Most entries e820_build() can produce. */
#define E820_MAX_ENTRIES 6

/*
 * Writes the map of mem into out (at most max entries, in address order) and
 * returns how many it wrote.  The PCI hole below 4 GiB is simply left out.
 */
int e820_build(const struct guest_mem *mem, struct e820_entry *out, int max);

#endif
