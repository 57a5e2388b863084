/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "arch/x86/e820.h"
#include "pci/pci.h"
#include "test.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct e820_entry map[E820_MAX_ENTRIES + 2];
static int nmap;

static int build(uint64_t size)
{
	struct guest_mem mem;

	if (guest_mem_init(&mem, size))
		return -1;
	memset(map, 0xaa, sizeof(map));
	nmap = e820_build(&mem, map, E820_MAX_ENTRIES + 2);
	guest_mem_destroy(&mem);
	return 0;
}

static int has(uint64_t addr, uint64_t size, uint32_t type)
{
	for (int i = 0; i < nmap; i++)
		if (map[i].addr == addr && map[i].size == size && map[i].type == type)
			return 1;
	return 0;
}

/* Entries are sorted, never overlap, and no RAM sits in the PCI hole. */
static int sane(void)
{
	for (int i = 0; i < nmap; i++) {
		if (!map[i].size)
			return 0;
		if (i && map[i].addr < map[i - 1].addr + map[i - 1].size)
			return 0;
		if (map[i].type == E820_RAM && map[i].addr < MEM_HIGH_START &&
		    map[i].addr + map[i].size > MEM_HOLE_START)
			return 0;
	}
	return 1;
}


static void e820_128m(void)
{
	CHECK(build(128 * MiB) == 0);
	CHECK_EQ(nmap, 5);
	CHECK(sane());
	CHECK(has(0, 0x9fc00, E820_RAM));
	CHECK(has(0x9fc00, 0x400, E820_RESERVED));
	CHECK(has(0xe0000, 0x20000, E820_RESERVED));
	CHECK(has(MiB, 127 * MiB, E820_RAM));
	CHECK(has(PCI_ECAM_BASE, PCI_ECAM_SIZE, E820_RESERVED));
}

static void e820_3g(void)
{
	CHECK(build(3 * GiB) == 0);
	CHECK_EQ(nmap, 5);
	CHECK(sane());
	CHECK(has(MiB, 3 * GiB - MiB, E820_RAM));
}

static void e820_4g(void)
{
	CHECK(build(4 * GiB) == 0);
	CHECK_EQ(nmap, 6);
	CHECK(sane());
	CHECK(has(MiB, 3 * GiB - MiB, E820_RAM));
	CHECK(has(4 * GiB, GiB, E820_RAM));
}

static void e820_6g(void)
{
	uint64_t ram = 0;

	CHECK(build(6 * GiB) == 0);
	CHECK_EQ(nmap, 6);
	CHECK(sane());
	CHECK(has(4 * GiB, 3 * GiB, E820_RAM));
	for (int i = 0; i < nmap; i++)
		if (map[i].type == E820_RAM)
			ram += map[i].size;
	/* All RAM but the EBDA and the BIOS area is usable. */
	CHECK_EQ(ram, 6 * GiB - (MiB - 0x9fc00));
}

static void e820_truncates_to_max(void)
{
	struct guest_mem mem;
	struct e820_entry two[3];

	CHECK(guest_mem_init(&mem, 6 * GiB) == 0);
	memset(two, 0x55, sizeof(two));
	CHECK_EQ(e820_build(&mem, two, 2), 2);
	CHECK_EQ(two[2].addr, 0x5555555555555555ULL);
	CHECK_EQ(e820_build(&mem, two, 0), 0);
	guest_mem_destroy(&mem);
}

int main(void)
{
	RUN(e820_128m);
	RUN(e820_3g);
	RUN(e820_4g);
	RUN(e820_6g);
	RUN(e820_truncates_to_max);
	return TEST_EXIT();
}
