/* SPDX-License-Identifier: Apache-2.0 */
/* MSI-X: capability, vector table, pending bits. */
#include "pci/pci_msix.h"

#include <string.h>

#include "snapshot/snap.h"

#define MSIX_CAP_LEN      12
#define MSIX_CTRL_ENABLE  0x8000
#define MSIX_CTRL_MASK    0x4000
#define MSIX_ENTRY_MASKED 1u
#define MSIX_BAR_SIZE     0x1000
#define MSIX_PBA_OFFSET   0x800

static void msix_fire_locked(struct pci_msix *x, unsigned vec)
{
	irq_msi_fire(&x->src[vec]);
}

/*
 * Each vector's source follows its table entry and whether it may fire, so
 * that under KVM a masked vector has no irqfd attached and an unmasked one
 * is routed to the message the guest last wrote.
 */
static void msix_sync_sources_locked(struct pci_msix *x)
{
	for (unsigned v = 0; v < x->nvec; v++) {
		const struct pci_msix_entry *e = &x->table[v];
		bool armed = x->enabled && !x->masked && !(e->ctrl & MSIX_ENTRY_MASKED);

		irq_msi_update(&x->src[v], (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data,
			       armed);
	}
}

/* The sources catch up with the table, then pending vectors whose mask
 * just went away fire. */
static void msix_flush_pending_locked(struct pci_msix *x)
{
	msix_sync_sources_locked(x);
	if (!x->enabled || x->masked)
		return;
	for (unsigned v = 0; v < x->nvec; v++) {
		uint64_t bit = 1ULL << (v % 64);

		if ((x->pending[v / 64] & bit) && !(x->table[v].ctrl & MSIX_ENTRY_MASKED)) {
			x->pending[v / 64] &= ~bit;
			msix_fire_locked(x, v);
		}
	}
}

bool pci_msix_notify(struct pci_msix *x, unsigned vec)
{
	bool on;

	pthread_mutex_lock(&x->lock);
	on = x->enabled;
	if (on && vec < x->nvec) {
		if (x->masked || (x->table[vec].ctrl & MSIX_ENTRY_MASKED))
			x->pending[vec / 64] |= 1ULL << (vec % 64);
		else
			msix_fire_locked(x, vec);
	}
	pthread_mutex_unlock(&x->lock);
	return on;
}

bool pci_msix_enabled(struct pci_msix *x)
{
	bool on;

	pthread_mutex_lock(&x->lock);
	on = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return on;
}

/* Message Control, as the guest last wrote it, takes effect. */
static void msix_sync_ctrl(struct pci_msix *x)
{
	uint16_t ctrl = pci_cfg_get16(x->dev, x->cap + 2u);

	pthread_mutex_lock(&x->lock);
	x->enabled = ctrl & MSIX_CTRL_ENABLE;
	x->masked = ctrl & MSIX_CTRL_MASK;
	msix_flush_pending_locked(x);
	pthread_mutex_unlock(&x->lock);
}

void pci_msix_cfg_written(struct pci_msix *x, uint32_t off, unsigned size)
{
	if (off + size <= x->cap + 2u || off >= x->cap + 4u)
		return;
	msix_sync_ctrl(x);
}

/* The table takes 4- and 8-byte accesses; the PBA is read-only. */
static uint64_t msix_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_msix *x = opaque;
	uint64_t v = 0;
	uint8_t *src;
	size_t limit;

	pthread_mutex_lock(&x->lock);
	if (off >= MSIX_PBA_OFFSET) {
		src = (uint8_t *)x->pending;
		off -= MSIX_PBA_OFFSET;
		limit = sizeof(x->pending);
	} else {
		src = (uint8_t *)x->table;
		limit = x->nvec * sizeof(x->table[0]);
	}
	if (off + size <= limit)
		memcpy(&v, src + off, size);
	pthread_mutex_unlock(&x->lock);
	return v;
}

static void msix_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct pci_msix *x = opaque;

	if (off >= MSIX_PBA_OFFSET || off + size > x->nvec * sizeof(x->table[0]) ||
	    (size != 4 && size != 8))
		return;
	pthread_mutex_lock(&x->lock);
	memcpy((uint8_t *)x->table + off, &v, size);
	msix_flush_pending_locked(x);
	pthread_mutex_unlock(&x->lock);
}

static const struct bus_ops msix_ops = { msix_read, msix_write };

void pci_msix_init(struct pci_msix *x, struct pci_dev *d, struct irq_chip *irq,
		   unsigned nvec, int bar)
{
	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	x->dev = d;
	x->irq = irq;
	x->nvec = nvec;
	for (unsigned v = 0; v < nvec; v++) {
		x->table[v].ctrl = MSIX_ENTRY_MASKED;
		irq_msi_init(&x->src[v], irq);
	}
	x->cap = pci_add_cap(d, PCI_CAP_MSIX, MSIX_CAP_LEN);
	pci_cfg_set16(d, x->cap + 2u, (uint16_t)(nvec - 1));
	d->wmask[x->cap + 3u] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASK) >> 8;
	pci_cfg_set32(d, x->cap + 4u, (uint32_t)bar);
	pci_cfg_set32(d, x->cap + 8u, MSIX_PBA_OFFSET | (uint32_t)bar);
	pci_add_bar(d, bar, PCI_BAR_MEM32, MSIX_BAR_SIZE, &msix_ops, x);
}

void pci_msix_destroy(struct pci_msix *x)
{
	for (unsigned v = 0; v < x->nvec; v++)
		irq_msi_release(&x->src[v]);
	pthread_mutex_destroy(&x->lock);
}

void pci_msix_save(struct pci_msix *x, struct snap_out *o)
{
	pthread_mutex_lock(&x->lock);
	snap_put(o, "msix.table", x->table, x->nvec * sizeof(x->table[0]));
	snap_put(o, "msix.pba", x->pending, sizeof(x->pending));
	pthread_mutex_unlock(&x->lock);
}

int pci_msix_load(struct pci_msix *x, struct snap_sec *s)
{
	struct pci_msix_entry table[PCI_MSIX_MAX_VECTORS];
	uint64_t pending[PCI_MSIX_MAX_VECTORS / 64];

	if (snap_get(s, "msix.table", table, x->nvec * sizeof(table[0])) ||
	    snap_get(s, "msix.pba", pending, sizeof(pending)))
		return -1;
	for (unsigned v = x->nvec; v < PCI_MSIX_MAX_VECTORS; v++)
		if (pending[v / 64] & (1ULL << (v % 64)))
			return snap_fail(s, "MSI-X vector %u pending; the function has %u", v, x->nvec);
	pthread_mutex_lock(&x->lock);
	memcpy(x->table, table, x->nvec * sizeof(table[0]));
	memcpy(x->pending, pending, sizeof(pending));
	pthread_mutex_unlock(&x->lock);
	msix_sync_ctrl(x);
	return 0;
}
