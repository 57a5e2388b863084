/* SPDX-License-Identifier: Apache-2.0 */
#include "pci.h"

#include "guest.h"

#define CF8 0xcf8
#define CFC 0xcfc

static void select_reg(unsigned slot, unsigned off)
{
	outl(CF8, 0x80000000u | slot << 11 | (off & 0xfc));
}

uint32_t pci_read32(unsigned slot, unsigned off)
{
	select_reg(slot, off);
	return inl(CFC);
}

uint16_t pci_read16(unsigned slot, unsigned off)
{
	select_reg(slot, off);
	return inw((uint16_t)(CFC + (off & 2)));
}

uint8_t pci_read8(unsigned slot, unsigned off)
{
	select_reg(slot, off);
	return inb((uint16_t)(CFC + (off & 3)));
}

void pci_write8(unsigned slot, unsigned off, uint8_t v)
{
	select_reg(slot, off);
	outb((uint16_t)(CFC + (off & 3)), v);
}

void pci_write16(unsigned slot, unsigned off, uint16_t v)
{
	select_reg(slot, off);
	outw((uint16_t)(CFC + (off & 2)), v);
}

void pci_write32(unsigned slot, unsigned off, uint32_t v)
{
	select_reg(slot, off);
	outl(CFC, v);
}

int pci_find(uint16_t vendor, uint16_t device, unsigned nth)
{
	uint32_t want = (uint32_t)device << 16 | vendor;

	for (unsigned slot = 0; slot < PCI_SLOTS; slot++)
		if (pci_read32(slot, 0) == want && nth-- == 0)
			return (int)slot;
	return -1;
}

uint8_t pci_next_cap(unsigned slot, uint8_t prev, uint8_t id)
{
	uint8_t off;

	if (!(pci_read16(slot, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	off = prev ? pci_read8(slot, prev + 1u) : pci_read8(slot, PCI_CAP_PTR);
	/* 48 hops at most: a looping list must not hang the guest either. */
	for (int n = 0; off && n < 48; n++) {
		off &= 0xfc;
		if (pci_read8(slot, off) == id)
			return off;
		off = pci_read8(slot, off + 1u);
	}
	return 0;
}

uint64_t pci_bar_addr(unsigned slot, unsigned bar)
{
	uint32_t lo = pci_read32(slot, PCI_BAR0 + 4 * bar);
	uint64_t addr = lo & ~15u;

	if ((lo & 6) == 4)
		addr |= (uint64_t)pci_read32(slot, PCI_BAR0 + 4 * (bar + 1)) << 32;
	return addr;
}
