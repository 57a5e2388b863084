/* SPDX-License-Identifier: Apache-2.0 */
/* The PCI host bridge, configuration space and BAR mapping. */
#include "pci/pci.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"
#include "util/log.h"

#define PCI_CF8_PORT   0xcf8
#define PCI_CFC_PORT   0xcfc
#define CF8_ENABLE     0x80000000u

#define HOST_VENDOR    0x8086       /* Q35's host bridge, as QEMU shows it */
#define HOST_DEVICE    0x29c0
#define CLASS_HOST     0x060000

#define PCI_SNAP_VERSION 1
#define SLOT_EMPTY     0xffffffffu

#define PCI_INTX_LINES 4

struct pci_host {
	pthread_mutex_t lock;       /* config accesses and BAR (un)mapping */
	struct irq_shared intx[PCI_INTX_LINES];   /* GSIs 16-19, a driver per slot */
	struct bus *pio, *mmio;
	struct irq_chip *irq;
	uint32_t cf8;
	struct pci_dev *dev[PCI_SLOTS];
	struct pci_dev bridge;      /* slot 0 */
	uint64_t next_mmio;
	uint32_t next_io;
};

void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->intx_lock, NULL);
	d->name = name;
	pci_cfg_set16(d, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(d, PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	d->cfg[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	d->cfg[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	/* Command: I/O, memory, bus master, INTx disable. */
	d->wmask[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	d->wmask[PCI_COMMAND + 1] = PCI_CMD_INTX_OFF >> 8;
	d->wmask[PCI_INT_LINE] = 0xff;
	d->next_cap = 0x40;
}

void pci_set_subsystem(struct pci_dev *d, uint16_t vendor, uint16_t id)
{
	pci_cfg_set16(d, PCI_SUBSYS_VENDOR, vendor);
	pci_cfg_set16(d, PCI_SUBSYS_ID, id);
}

void pci_add_bar(struct pci_dev *d, int n, enum pci_bar_kind kind, uint64_t size,
		 const struct bus_ops *ops, void *opaque)
{
	uint64_t mask = ~(size - 1);
	unsigned off = PCI_BAR0 + 4 * (unsigned)n;
	uint32_t flags = kind == PCI_BAR_IO ? 1 : kind == PCI_BAR_MEM64 ? 4 : 0;

	d->bar[n] = (struct pci_bar){ .kind = kind, .size = size, .ops = ops, .opaque = opaque };
	pci_cfg_set32(d, off, flags);
	mask &= kind == PCI_BAR_IO ? ~3ULL : ~15ULL;
	for (int i = 0; i < 4; i++)
		d->wmask[off + i] = (uint8_t)(mask >> (8 * i));
	if (kind == PCI_BAR_MEM64)
		for (int i = 0; i < 4; i++)
			d->wmask[off + 4 + i] = (uint8_t)(mask >> (32 + 8 * i));
}

uint8_t pci_add_cap(struct pci_dev *d, uint8_t id, uint8_t len)
{
	uint8_t off = d->next_cap, *link = &d->cfg[PCI_CAP_PTR];

	while (*link)
		link = &d->cfg[*link + 1];
	*link = off;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	d->next_cap = (uint8_t)((off + len + 3) & ~3);
	pci_cfg_set16(d, PCI_STATUS, pci_cfg_get16(d, PCI_STATUS) | PCI_STATUS_CAPS);
	return off;
}

static uint64_t bar_addr(const struct pci_dev *d, int n)
{
	unsigned off = PCI_BAR0 + 4 * (unsigned)n;
	uint64_t lo = (uint64_t)pci_cfg_get16(d, off) | (uint64_t)pci_cfg_get16(d, off + 2) << 16;

	if (d->bar[n].kind == PCI_BAR_IO)
		return lo & ~3ULL;
	lo &= ~15ULL;
	if (d->bar[n].kind == PCI_BAR_MEM64)
		lo |= ((uint64_t)pci_cfg_get16(d, off + 4) |
		       (uint64_t)pci_cfg_get16(d, off + 6) << 16) << 32;
	return lo;
}

/* Where BAR n decodes, if COMMAND lets it and the address is usable. */
static bool bar_on(const struct pci_dev *d, int n, uint64_t *addr)
{
	const struct pci_bar *b = &d->bar[n];
	bool io = b->kind == PCI_BAR_IO;
	uint16_t cmd = pci_cfg_get16(d, PCI_COMMAND);

	*addr = bar_addr(d, n);
	return b->kind != PCI_BAR_NONE && (cmd & (io ? PCI_CMD_IO : PCI_CMD_MEM)) && *addr &&
	       *addr + b->size > *addr && (!io || *addr + b->size <= PCI_IO_END);
}

/* Puts BAR n on its bus at addr (0: off the bus); -1 if addr is taken. */
static int bar_place(struct pci_host *h, struct pci_dev *d, int n, uint64_t addr)
{
	struct pci_bar *b = &d->bar[n];
	struct bus *bus = b->kind == PCI_BAR_IO ? h->pio : h->mmio;

	if (b->mapped == addr)
		return 0;
	if (b->mapped)
		bus_unregister(bus, b->mapped);
	b->mapped = 0;
	if (addr && bus_register(bus, addr, b->size, b->ops, b->opaque, d->name))
		return -1;
	b->mapped = addr;
	return 0;
}

/*
 * Puts each BAR where COMMAND and the BAR register say, or takes it off the
 * bus.  A BAR the guest put on top of something else stays unmapped (Linux
 * writes all ones while it sizes BARs, with decoding off, but not all guests do).
 */
static void pci_update_bars(struct pci_host *h, struct pci_dev *d)
{
	for (int n = 0; n < PCI_BARS; n++) {
		struct pci_bar *b = &d->bar[n];
		uint64_t addr;
		bool on = bar_on(d, n, &addr);

		if (b->kind == PCI_BAR_NONE || (on && b->mapped == addr) || (!on && !b->mapped))
			continue;
		if (bar_place(h, d, n, on ? addr : 0) && on)
			log_debug("pci: %s BAR%d at %#llx overlaps another range; unmapped",
				  d->name, n, (unsigned long long)addr);
		b->addr = addr;
	}
}

/* The INTx status bit and COMMAND's disable bit are single bytes of cfg,
 * read and written atomically, so I/O threads need not take the host lock. */
static void pci_update_intx_locked(struct pci_dev *d)
{
	uint8_t cmd_hi = __atomic_load_n(&d->cfg[PCI_COMMAND + 1], __ATOMIC_ACQUIRE);
	bool off = cmd_hi & (PCI_CMD_INTX_OFF >> 8);

	irq_line_set(&d->intx, d->intx_level && !off);
}

static void pci_update_intx(struct pci_dev *d)
{
	pthread_mutex_lock(&d->intx_lock);
	pci_update_intx_locked(d);
	pthread_mutex_unlock(&d->intx_lock);
}

void pci_set_intx(struct pci_dev *d, bool level)
{
	pthread_mutex_lock(&d->intx_lock);
	d->intx_level = level;
	if (level)
		__atomic_or_fetch(&d->cfg[PCI_STATUS], PCI_STATUS_INTX, __ATOMIC_ACQ_REL);
	else
		__atomic_and_fetch(&d->cfg[PCI_STATUS], (uint8_t)~PCI_STATUS_INTX, __ATOMIC_ACQ_REL);
	pci_update_intx_locked(d);
	pthread_mutex_unlock(&d->intx_lock);
}

static uint32_t cfg_read_locked(struct pci_dev *d, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)__atomic_load_n(&d->cfg[off + i], __ATOMIC_ACQUIRE) << (8 * i);
	return d->cfg_read ? d->cfg_read(d, off, size, v) : v;
}

static void cfg_write_locked(struct pci_host *h, struct pci_dev *d, uint32_t off,
			     unsigned size, uint32_t v)
{
	bool bars = false;

	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(v >> (8 * i));

		uint8_t old, now;

		bars |= o == PCI_COMMAND || o == PCI_COMMAND + 1 || (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_BARS);
		if (!d->wmask[o] && !d->w1c[o])
			continue;       /* read-only: I/O threads may be setting bits */
		old = __atomic_load_n(&d->cfg[o], __ATOMIC_ACQUIRE);
		now = (uint8_t)((old & ~d->wmask[o]) | (b & d->wmask[o]));
		__atomic_store_n(&d->cfg[o], (uint8_t)(now & ~(b & d->w1c[o])), __ATOMIC_RELEASE);
	}
	if (bars) {
		pci_update_bars(h, d);
		pci_update_intx(d);
	}
	if (d->cfg_written)
		d->cfg_written(d, off, size);
}

/* A config access to (slot, register); non-existent functions read all ones. */
static uint32_t pci_cfg_read(struct pci_host *h, unsigned slot, unsigned fn, uint32_t off,
			     unsigned size)
{
	struct pci_dev *d = slot < PCI_SLOTS ? h->dev[slot] : NULL;
	uint32_t v;

	if (!d || fn || off + size > PCI_CFG_SIZE || (off & (size - 1)))
		return size == 4 ? ~0u : (1u << (8 * size)) - 1;
	pthread_mutex_lock(&h->lock);
	v = cfg_read_locked(d, off, size);
	pthread_mutex_unlock(&h->lock);
	return v;
}

static void pci_cfg_write(struct pci_host *h, unsigned slot, unsigned fn, uint32_t off,
			  unsigned size, uint32_t v)
{
	struct pci_dev *d = slot < PCI_SLOTS ? h->dev[slot] : NULL;

	if (!d || fn || off + size > PCI_CFG_SIZE || (off & (size - 1)))
		return;
	pthread_mutex_lock(&h->lock);
	cfg_write_locked(h, d, off, size, v);
	pthread_mutex_unlock(&h->lock);
}

/* CONFIG_ADDRESS: enable, bus, device, function, register; bits 27:24 extend
 * the register number to 4 KiB, as on AMD's and QEMU's hosts. */
static bool cf8_decode(uint32_t cf8, unsigned port_off, unsigned *slot, unsigned *fn,
		       uint32_t *reg)
{
	if (!(cf8 & CF8_ENABLE) || ((cf8 >> 16) & 0xff))
		return false;
	*slot = (cf8 >> 11) & 0x1f;
	*fn = (cf8 >> 8) & 7;
	*reg = ((cf8 >> 16) & 0xf00) | (cf8 & 0xfc) | port_off;
	return true;
}

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_host *h = opaque;

	(void)off;
	return size == 4 ? __atomic_load_n(&h->cf8, __ATOMIC_ACQUIRE) : ~0ULL;
}

static void cf8_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct pci_host *h = opaque;

	(void)off;
	if (size == 4)
		__atomic_store_n(&h->cf8, (uint32_t)v, __ATOMIC_RELEASE);
}

static uint64_t cfc_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_host *h = opaque;
	unsigned slot, fn;
	uint32_t reg;

	if (!cf8_decode(__atomic_load_n(&h->cf8, __ATOMIC_ACQUIRE), (unsigned)off, &slot, &fn, &reg))
		return ~0ULL;
	return pci_cfg_read(h, slot, fn, reg, size);
}

static void cfc_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct pci_host *h = opaque;
	unsigned slot, fn;
	uint32_t reg;

	if (cf8_decode(__atomic_load_n(&h->cf8, __ATOMIC_ACQUIRE), (unsigned)off, &slot, &fn, &reg))
		pci_cfg_write(h, slot, fn, reg, size, (uint32_t)v);
}

/* ECAM: bus 0 only, so the offset is device << 15 | function << 12 | register. */
static uint64_t ecam_read(void *opaque, uint64_t off, unsigned size)
{
	if (size > 4)
		return ~0ULL;
	return pci_cfg_read(opaque, (unsigned)(off >> 15) & 0x1f, (unsigned)(off >> 12) & 7,
			    (uint32_t)off & 0xfff, size);
}

static void ecam_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	if (size <= 4)
		pci_cfg_write(opaque, (unsigned)(off >> 15) & 0x1f, (unsigned)(off >> 12) & 7,
			      (uint32_t)off & 0xfff, size, (uint32_t)v);
}

static const struct bus_ops cf8_ops = { cf8_read, cf8_write };
static const struct bus_ops cfc_ops = { cfc_read, cfc_write };
static const struct bus_ops ecam_ops = { ecam_read, ecam_write };

/* Firmware's job: each BAR gets a naturally aligned place in its window. */
static int pci_place_bars(struct pci_host *h, struct pci_dev *d)
{
	for (int n = 0; n < PCI_BARS; n++) {
		struct pci_bar *b = &d->bar[n];
		unsigned off = PCI_BAR0 + 4 * (unsigned)n;
		uint64_t addr;

		if (b->kind == PCI_BAR_NONE)
			continue;
		if (b->kind == PCI_BAR_IO) {
			addr = (h->next_io + b->size - 1) & ~(b->size - 1);
			if (addr + b->size > PCI_IO_END)
				return -1;
			h->next_io = (uint32_t)(addr + b->size);
		} else {
			addr = (h->next_mmio + b->size - 1) & ~(b->size - 1);
			if (addr + b->size > PCI_MMIO_END)
				return -1;
			h->next_mmio = addr + b->size;
		}
		pci_cfg_set32(d, off, (uint32_t)addr | (d->cfg[off] & 0xf));
		if (b->kind == PCI_BAR_MEM64)
			pci_cfg_set32(d, off + 4, (uint32_t)(addr >> 32));
	}
	return 0;
}

int pci_register(struct pci_host *h, struct pci_dev *d)
{
	unsigned slot;

	for (slot = 0; slot < PCI_SLOTS && h->dev[slot]; slot++)
		;
	if (slot == PCI_SLOTS) {
		log_err("pci: no free slot for %s", d->name);
		return -1;
	}
	d->host = h;
	d->slot = slot;
	if (pci_place_bars(h, d)) {
		log_err("pci: no room for %s's BARs", d->name);
		return -1;
	}
	if (d->cfg[PCI_INT_PIN]) {
		/* Slots share the four INTx GSIs, wired-OR. */
		unsigned gsi = PCI_INTX_GSI(slot, d->cfg[PCI_INT_PIN] - 1u);

		d->intx = irq_shared_line(&h->intx[gsi - PCI_INTX_GSI(0, 0)], slot);
		d->cfg[PCI_INT_LINE] = (uint8_t)gsi;
	}
	pthread_mutex_lock(&h->lock);
	h->dev[slot] = d;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

struct pci_host *pci_host_new(struct bus *pio, struct bus *mmio, struct irq_chip *irq)
{
	struct pci_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	for (unsigned i = 0; i < PCI_INTX_LINES; i++)
		irq_shared_init(&h->intx[i], irq, PCI_INTX_GSI(0, 0) + i);
	h->pio = pio;
	h->mmio = mmio;
	h->irq = irq;
	h->next_mmio = PCI_MMIO_START;
	h->next_io = PCI_IO_START;
	pci_dev_init(&h->bridge, "pci-host", HOST_VENDOR, HOST_DEVICE, CLASS_HOST, 0);
	if (pci_register(h, &h->bridge) ||
	    bus_register(pio, PCI_CF8_PORT, 1, &cf8_ops, h, "pci-cf8") ||
	    bus_register(pio, PCI_CFC_PORT, 4, &cfc_ops, h, "pci-cfc") ||
	    bus_register(mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam_ops, h, "pci-ecam")) {
		log_err("pci: cannot register the host bridge's ranges");
		pci_host_free(h);
		return NULL;
	}
	return h;
}

void pci_host_free(struct pci_host *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	for (unsigned i = 0; i < PCI_INTX_LINES; i++)
		irq_shared_destroy(&h->intx[i]);
	free(h);
}

/* ---- snapshots ---- */

void pci_dev_save(struct pci_dev *d, struct snap_out *o)
{
	uint8_t intx;

	uint64_t mapped[PCI_BARS];

	pthread_mutex_lock(&d->host->lock);
	snap_put(o, "pci.cfg", d->cfg, sizeof(d->cfg));
	for (int n = 0; n < PCI_BARS; n++)
		mapped[n] = d->bar[n].mapped;
	pthread_mutex_unlock(&d->host->lock);
	snap_put(o, "pci.bars", mapped, sizeof(mapped));
	pthread_mutex_lock(&d->intx_lock);
	intx = d->intx_level;
	pthread_mutex_unlock(&d->intx_lock);
	snap_put_u8(o, "pci.intx", intx);
}

/* The bits of config byte off a snapshot gives: what the guest may change.
 * The INTx status bit follows pci.intx instead. */
static uint8_t restorable(const struct pci_dev *d, unsigned off)
{
	return d->wmask[off] | d->w1c[off];
}

static uint8_t compared(const struct pci_dev *d, unsigned off)
{
	uint8_t skip = off == PCI_STATUS ? PCI_STATUS_INTX : 0;

	return (uint8_t)~(restorable(d, off) | skip);
}

/*
 * Each BAR where the snapshot had it: on the bus exactly when it was there
 * (of two BARs the guest put on one address, the one mapped first won),
 * and only where the restored COMMAND and BAR register put it.
 */
static int bars_load(struct pci_dev *d, struct snap_sec *s, const uint64_t mapped[PCI_BARS])
{
	for (int n = 0; n < PCI_BARS; n++) {
		uint64_t addr;
		bool on = bar_on(d, n, &addr);

		if (mapped[n] && (!on || mapped[n] != addr))
			return snap_fail(s, "BAR%d mapped at %#llx, which its register and COMMAND "
					 "do not say", n, (unsigned long long)mapped[n]);
		d->bar[n].addr = addr;
		if (d->bar[n].kind != PCI_BAR_NONE && bar_place(d->host, d, n, mapped[n]))
			return snap_fail(s, "BAR%d at %#llx overlaps another range here", n,
					 (unsigned long long)mapped[n]);
	}
	return 0;
}

int pci_dev_load(struct pci_dev *d, struct snap_sec *s)
{
	uint8_t cfg[PCI_CFG_SIZE], intx;
	uint64_t mapped[PCI_BARS];
	int rc;

	if (snap_get(s, "pci.cfg", cfg, sizeof(cfg)) || snap_get_u8(s, "pci.intx", &intx) ||
	    snap_get(s, "pci.bars", mapped, sizeof(mapped)))
		return -1;
	if (intx > 1)
		return snap_fail(s, "INTx level %u", intx);
	for (unsigned off = 0; off < PCI_CFG_SIZE; off++)
		if ((cfg[off] ^ d->cfg[off]) & compared(d, off))
			return snap_fail(s, "config byte %#x is %#x, %#x on this %s: another device",
					 off, cfg[off], d->cfg[off], d->name);
	pthread_mutex_lock(&d->host->lock);
	for (unsigned off = 0; off < PCI_CFG_SIZE; off++) {
		uint8_t m = restorable(d, off);

		__atomic_store_n(&d->cfg[off], (uint8_t)((d->cfg[off] & ~m) | (cfg[off] & m)),
				 __ATOMIC_RELEASE);
	}
	rc = bars_load(d, s, mapped);
	pthread_mutex_unlock(&d->host->lock);
	pci_set_intx(d, intx);
	return rc;
}

static void slot_ids(struct pci_host *h, uint32_t ids[PCI_SLOTS])
{
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < PCI_SLOTS; i++) {
		const struct pci_dev *d = h->dev[i];

		ids[i] = d ? (uint32_t)pci_cfg_get16(d, PCI_VENDOR_ID) |
			     (uint32_t)pci_cfg_get16(d, PCI_DEVICE_ID) << 16 : SLOT_EMPTY;
	}
	pthread_mutex_unlock(&h->lock);
}

void pci_host_save(struct pci_host *h, struct snap_out *o)
{
	uint32_t ids[PCI_SLOTS];

	slot_ids(h, ids);
	snap_begin(o, "pci-host", 0, PCI_SNAP_VERSION);
	snap_put_u32(o, "cf8", __atomic_load_n(&h->cf8, __ATOMIC_ACQUIRE));
	snap_put(o, "slots", ids, sizeof(ids));
	pci_dev_save(&h->bridge, o);
}

int pci_host_load(struct pci_host *h, struct snap_in *in)
{
	struct snap_sec *s = snap_section(in, "pci-host", 0, PCI_SNAP_VERSION, NULL);
	uint32_t cf8, ids[PCI_SLOTS], mine[PCI_SLOTS];

	if (!s || snap_get_u32(s, "cf8", &cf8) || snap_get(s, "slots", ids, sizeof(ids)))
		return -1;
	slot_ids(h, mine);
	for (unsigned i = 0; i < PCI_SLOTS; i++)
		if (ids[i] != mine[i])
			return snap_fail(s, "slot %u holds %04x:%04x in the snapshot, %04x:%04x here "
					 "(ffff:ffff: nothing)", i, ids[i] & 0xffff, ids[i] >> 16,
					 mine[i] & 0xffff, mine[i] >> 16);
	if (pci_dev_load(&h->bridge, s))
		return -1;
	__atomic_store_n(&h->cf8, cf8, __ATOMIC_RELEASE);
	return 0;
}
