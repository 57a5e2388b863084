/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Garbage on the PCI side, last because it leaves the devices in any state:
 * random accesses of every size to the virtio BARs (common, ISR, device and
 * notification areas, MSI-X table), then random writes all over the
 * configuration space of every function on bus 0, BARs and the virtio
 * PCI_CFG window included.  vmon must stay up: afterwards every function
 * still answers with its vendor and device ID.
 *
 * MSI-X vector control words are left alone: an unmasked entry with a
 * random address and data could send the guest an NMI or INIT, which is
 * the guest's own doing, not a fault of vmon's.
 */
#include "guest.h"
#include "pci.h"
#include "vtest.h"

#define BAR0_SIZE     0x4000
#define MSIX_BAR_SIZE 0x1000

static uint32_t rnd32(void)
{
	return (uint32_t)rnd();
}

/* 1, 2 or 4 bytes, naturally aligned. */
static unsigned rnd_size(uint32_t *off)
{
	unsigned size = 1u << (rnd32() % 3);

	*off &= ~(size - 1);
	return size;
}

static void mmio_access(uint64_t base, uint32_t off, int write)
{
	unsigned size = rnd_size(&off);
	volatile void *p = phys_ptr(base + off);
	uint32_t v = rnd32();

	switch (size | (unsigned)!!write << 4) {
	case 1: (void)*(volatile uint8_t *)p; break;
	case 2: (void)*(volatile uint16_t *)p; break;
	case 4: (void)*(volatile uint32_t *)p; break;
	case 0x11: *(volatile uint8_t *)p = (uint8_t)v; break;
	case 0x12: *(volatile uint16_t *)p = (uint16_t)v; break;
	case 0x14: *(volatile uint32_t *)p = v; break;
	}
}

static void hammer_bars(const struct vdev *d, unsigned rounds)
{
	uint64_t msix = pci_bar_addr(d->slot, 1);

	for (unsigned i = 0; i < rounds; i++) {
		uint32_t r = rnd32(), off;

		if (r & 1) {
			mmio_access(d->bar0, (r >> 8) % BAR0_SIZE, r & 2);
			continue;
		}
		off = (r >> 8) % MSIX_BAR_SIZE;
		mmio_access(msix, off, (r & 2) && (off & 0xc) != 0xc);
	}
}

static void hammer_config(unsigned slot, unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		uint32_t off = rnd32() % 0x100, v = rnd32();
		unsigned size = rnd_size(&off);

		if (rnd32() & 1) {
			(void)pci_read32(slot, off & ~3u);
			continue;
		}
		if (size == 4)
			pci_write32(slot, off, v);
		else if (size == 2)
			pci_write16(slot, off, (uint16_t)v);
		else
			pci_write8(slot, off, (uint8_t)v);
	}
}

void pci_hammer(const struct vdev *const *devs, unsigned ndevs, unsigned rounds)
{
	uint32_t ids[PCI_SLOTS];

	for (unsigned s = 0; s < PCI_SLOTS; s++)
		ids[s] = pci_read32(s, 0);
	for (unsigned i = 0; i < ndevs; i++)
		hammer_bars(devs[i], rounds);
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (ids[s] != 0xffffffff)
			hammer_config(s, rounds);
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (pci_read32(s, 0) != ids[s])
			guest_fail(NAME, "slot %u: ID %#x after the PCI hammer, was %#x", s,
				   pci_read32(s, 0), ids[s]);
	gprintf(NAME ": pci hammer: %u accesses per BAR pair and per function\n", rounds);
}
