/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_PCI_PCI_H
#define VMON_PCI_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"

/*
 * A PCI host bridge with one bus (bus 0), as on a PC: configuration space
 * through ports 0xCF8/0xCFC and through ECAM (MMIO, described by ACPI's MCFG),
 * memory BARs placed by vmon in the 32-bit window as firmware would, INTx
 * routed to IOAPIC pins 16-23 (ACPI _PRT), and MSI-X (pci_msix.h).
 *
 * The guest address map of everything PCI (inside the 3-4 GiB hole).
 */
#define PCI_MMIO_START   0xC0000000ULL    /* 32-bit memory BARs */
#define PCI_MMIO_END     0xE0000000ULL
#define PCI_ECAM_BASE    0xE0000000ULL    /* bus 0 only: 1 MiB */
#define PCI_ECAM_SIZE    0x00100000ULL
#define PCI_IO_START     0xC000           /* I/O BARs */
#define PCI_IO_END       0x10000
#define PCI_SLOTS        32
#define PCI_INTX_GSI(slot, pin) (16u + ((slot) + (pin)) % 4u)  /* pin 0 = INTA */

#define PCI_CFG_SIZE     4096
#define PCI_BARS         6

/* Standard configuration header offsets and bits. */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_CAP_PTR        0x34
#define PCI_INT_LINE       0x3c
#define PCI_INT_PIN        0x3d

#define PCI_CMD_IO         0x0001
#define PCI_CMD_MEM        0x0002
#define PCI_CMD_MASTER     0x0004
#define PCI_CMD_INTX_OFF   0x0400
#define PCI_STATUS_INTX    0x0008
#define PCI_STATUS_CAPS    0x0010

#define PCI_CAP_MSIX       0x11
#define PCI_CAP_VENDOR     0x09

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

struct pci_bar {
	enum pci_bar_kind kind;
	uint64_t size;                 /* a power of two */
	const struct bus_ops *ops;
	void *opaque;
	uint64_t addr;                 /* as the guest programmed it */
	uint64_t mapped;               /* where it is on the bus; 0 = not mapped */
};

struct pci_dev;

/*
 * A device may watch its own config writes (after the write took effect) and
 * answer reads itself.  Both run under the host's config lock: they must not
 * wait for a device's I/O threads.
 */
typedef void (*pci_cfg_hook)(struct pci_dev *d, uint32_t off, unsigned size);
typedef uint32_t (*pci_cfg_read_hook)(struct pci_dev *d, uint32_t off, unsigned size,
				      uint32_t value);

struct pci_dev {
	const char *name;
	struct pci_host *host;
	unsigned slot;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];   /* guest-writable bits */
	uint8_t w1c[PCI_CFG_SIZE];     /* write-one-to-clear bits */
	struct pci_bar bar[PCI_BARS];
	uint8_t next_cap;              /* where pci_add_cap puts the next one */
	pthread_mutex_t intx_lock;     /* INTx may change on I/O threads */
	struct irq_line intx;
	bool intx_level;
	pci_cfg_hook cfg_written;
	pci_cfg_read_hook cfg_read;
	void *opaque;                  /* the device model's */
};

struct pci_host;

struct pci_host *pci_host_new(struct bus *pio, struct bus *mmio, struct irq_chip *irq);
void pci_host_free(struct pci_host *h);

/*
 * Fills in a function's header; the caller then adds BARs and capabilities
 * and finally pci_register(), which gives it a slot and places its BARs.
 */
void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision);
void pci_set_subsystem(struct pci_dev *d, uint16_t vendor, uint16_t id);
void pci_add_bar(struct pci_dev *d, int n, enum pci_bar_kind kind, uint64_t size,
		 const struct bus_ops *ops, void *opaque);
/* Appends a capability of len bytes with the given ID; its config offset. */
uint8_t pci_add_cap(struct pci_dev *d, uint8_t id, uint8_t len);
int pci_register(struct pci_host *h, struct pci_dev *d);

/* INTx (pin A): level from the device's point of view; gated by COMMAND. */
void pci_set_intx(struct pci_dev *d, bool level);

/*
 * Snapshots.  The host's own section ("pci-host"): the CF8 latch, what each
 * slot holds (a load refuses another layout), the bridge's config space.
 * A function's config space and INTx level go into its device's section
 * (fields "pci.cfg", "pci.intx"); a load refuses bits the guest cannot
 * write that differ (another device), then maps the BARs as the restored
 * COMMAND and addresses say and drives INTx to the restored level.
 */
struct snap_out;
struct snap_in;
struct snap_sec;
void pci_host_save(struct pci_host *h, struct snap_out *o);
int pci_host_load(struct pci_host *h, struct snap_in *in);
void pci_dev_save(struct pci_dev *d, struct snap_out *o);
int pci_dev_load(struct pci_dev *d, struct snap_sec *s);

static inline uint16_t pci_cfg_get16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

static inline void pci_cfg_set16(struct pci_dev *d, unsigned off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void pci_cfg_set32(struct pci_dev *d, unsigned off, uint32_t v)
{
	pci_cfg_set16(d, off, (uint16_t)v);
	pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}

#endif
