/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/e820.h"

#include "pci/pci.h"

static int e820_add(struct e820_entry *out, int n, int max,
		    uint64_t addr, uint64_t end, uint32_t type)
{
	if (n >= max || end <= addr)
		return n;
	out[n] = (struct e820_entry){ .addr = addr, .size = end - addr, .type = type };
	return n + 1;
}

int e820_build(const struct guest_mem *mem, struct e820_entry *out, int max)
{
	uint64_t low_end = guest_mem_low_end(mem);
	uint64_t conv_end = low_end < E820_EBDA_START ? low_end : E820_EBDA_START;
	int n = 0;

	n = e820_add(out, n, max, 0, conv_end, E820_RAM);
	/* The EBDA and BIOS area are reserved whether or not RAM backs them:
	 * guests scan them for the RSDP and must not allocate there. */
	n = e820_add(out, n, max, E820_EBDA_START, 0xa0000, E820_RESERVED);
	n = e820_add(out, n, max, E820_BIOS_START, E820_HIGH_START, E820_RESERVED);
	n = e820_add(out, n, max, E820_HIGH_START, low_end, E820_RAM);
	/* PCI's ECAM window: Linux uses MMCONFIG only where firmware reserved it. */
	n = e820_add(out, n, max, PCI_ECAM_BASE, PCI_ECAM_BASE + PCI_ECAM_SIZE, E820_RESERVED);
	for (int i = 1; i < mem->nregions; i++)
		n = e820_add(out, n, max, mem->region[i].gpa,
			     mem->region[i].gpa + mem->region[i].size, E820_RAM);
	return n;
}
