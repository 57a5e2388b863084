/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

/* PCI configuration space of bus 0 through ports 0xCF8/0xCFC. */
#include <stdint.h>

#define PCI_SLOTS        32
#define PCI_COMMAND      0x04
#define PCI_STATUS       0x06
#define PCI_BAR0         0x10
#define PCI_CAP_PTR      0x34
#define PCI_CMD_MEM      0x0002
#define PCI_CMD_MASTER   0x0004
#define PCI_STATUS_CAPS  0x0010

uint32_t pci_read32(unsigned slot, unsigned off);
uint16_t pci_read16(unsigned slot, unsigned off);
uint8_t pci_read8(unsigned slot, unsigned off);
void pci_write8(unsigned slot, unsigned off, uint8_t v);
void pci_write16(unsigned slot, unsigned off, uint16_t v);
void pci_write32(unsigned slot, unsigned off, uint32_t v);

/* The slot of the nth function (from 0) with this vendor and device, or -1. */
int pci_find(uint16_t vendor, uint16_t device, unsigned nth);
/* The capability with this ID after offset prev (0: from the start), or 0. */
uint8_t pci_next_cap(unsigned slot, uint8_t prev, uint8_t id);
/* A memory BAR's address as programmed (64-bit BARs take two registers). */
uint64_t pci_bar_addr(unsigned slot, unsigned bar);

#endif
