/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_PCI_PCI_MSIX_H
#define VMON_PCI_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/irq.h"
#include "pci/pci.h"

/*
 * MSI-X for a PCI function: the capability, and a BAR of its own holding the
 * vector table and the pending-bit array.  Vectors may be raised from any
 * thread (device I/O threads do); masked vectors stay pending until unmasked.
 * Each vector is an irq_msi source: under KVM a GSI route and an irqfd,
 * attached only while the vector is enabled and unmasked.
 */
#define PCI_MSIX_MAX_VECTORS 128

struct pci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct pci_msix {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	struct irq_chip *irq;
	unsigned nvec;
	uint8_t cap;                 /* config offset of the capability */
	bool enabled, masked;        /* Message Control: enable, function mask */
	struct pci_msix_entry table[PCI_MSIX_MAX_VECTORS];
	uint64_t pending[PCI_MSIX_MAX_VECTORS / 64];
	struct irq_msi src[PCI_MSIX_MAX_VECTORS];   /* how each vector is raised */
};

/* Adds the capability and BAR bar; nvec 1..PCI_MSIX_MAX_VECTORS. */
void pci_msix_init(struct pci_msix *x, struct pci_dev *d, struct irq_chip *irq,
		   unsigned nvec, int bar);
void pci_msix_destroy(struct pci_msix *x);
/* The device's cfg_written hook passes config writes on to this. */
void pci_msix_cfg_written(struct pci_msix *x, uint32_t off, unsigned size);
bool pci_msix_enabled(struct pci_msix *x);
/* Raises vector vec; false when MSI-X is off (the caller falls back to INTx). */
bool pci_msix_notify(struct pci_msix *x, unsigned vec);

/* Snapshots: the vector table and pending bits, in the device's open section
 * ("msix.table", "msix.pba").  The enable and function-mask bits live in
 * config space: load after pci_dev_load.  Pending vectors that are no
 * longer masked fire, as they would on an unmask. */
struct snap_out;
struct snap_sec;
void pci_msix_save(struct pci_msix *x, struct snap_out *o);
int pci_msix_load(struct pci_msix *x, struct snap_sec *s);

#endif
