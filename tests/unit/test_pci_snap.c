/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PCI host in snapshots: BARs the guest moved, turned off or put on top
 * of each other are on the buses exactly as before; MSI-X pending bits and
 * masks, INTx levels (shared lines wired-OR) and the INTx disable bit,
 * the CF8 latch; a config space from another device is refused; hostile
 * pci-host sections are refused with an error and leave a host that still
 * works.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "snap_harness.h"
#include "test.h"
#include "virtio_rig.h"

#define MOVED   0xd0000000ULL

static char disk_path[64] = "/tmp/vmon-test-psnap-XXXXXX";

static int make_disk(void)
{
	int fd = mkstemp(disk_path), rc;

	if (fd < 0)
		return -1;
	rc = ftruncate(fd, 1 << 20);
	close(fd);
	return rc;
}

/* A disk (slot 1) if asked, and an rng (slot 1 or 2). */
static struct machine_config *config(bool disk)
{
	static struct machine_config c;

	memset(&c, 0, sizeof(c));
	if (disk) {
		c.ndisks = 1;
		snprintf(c.disk[0].path, sizeof(c.disk[0].path), "%s", disk_path);
		c.disk[0].format = "raw";
	}
	c.rng = 1;
	return &c;
}

static struct saved sv;

/* Paused, saved, and loaded into a fresh machine with r's RAM; r is freed. */
static struct rig *snapshot(struct rig *r, const struct machine_config *c)
{
	struct snap_out *o = snap_out_new();
	struct snap_in *in;
	struct rig *n;

	if (machine_virtio_pause(&r->m)) {
		snap_out_free(o);
		rig_free(r);
		return NULL;
	}
	machine_virtio_save(&r->m, o);
	n = rig_new(c);
	if (n)
		memcpy(n->m.mem.base, r->m.mem.base, RIG_RAM);
	rig_free(r);
	in = saved_take(&sv, o) ? NULL : saved_parse(&sv);
	if (!n || !in || machine_virtio_load(&n->m, in)) {
		if (in)
			printf("  load: %s\n", snap_in_error(in));
		snap_in_free(in);
		rig_free(n);
		return NULL;
	}
	snap_in_free(in);
	return n;
}

/* The rng moved to MOVED, the disk's decoding off, a CF8 latch left behind. */
static void test_bar_moved(void)
{
	struct machine_config *c = config(true);
	struct rig *r = rig_new(c);
	struct drv d;
	uint64_t old, blk_bar;

	CHECK(r);
	blk_bar = cfg_read(r, 1, PCI_BAR0, 4) & ~15ULL;
	drv_attach_pci(&d, r, 2);
	old = d.base;
	cfg_write(r, 2, PCI_BAR0, 4, (uint32_t)MOVED);
	d.base = MOVED;
	CHECK(!bus_claimed(r->m.mmio, old) && bus_claimed(r->m.mmio, MOVED));
	CHECK(!bus_claimed(r->m.mmio, blk_bar));
	CHECK(rig_bound(r, MOVED + PCI_NOTIFY) == 1 && rig_bound(r, old + PCI_NOTIFY) == 0);
	CHECK(drv_rng_setup(&d, true) == 0 && drv_rng_read(&d) == 0);
	bus_write(r->m.pio, 0xcf8, 4, 0x8000f8fcu);
	r = snapshot(r, c);
	CHECK(r);
	d.r = r;
	CHECK(bus_read(r->m.pio, 0xcf8, 4) == 0x8000f8fcu);
	CHECK(!bus_claimed(r->m.mmio, old) && bus_claimed(r->m.mmio, MOVED));
	CHECK(!bus_claimed(r->m.mmio, blk_bar));
	CHECK(rig_bound(r, MOVED + PCI_NOTIFY) == 1 && rig_bound(r, old + PCI_NOTIFY) == 0);
	CHECK(cfg_read(r, 2, PCI_BAR0, 4) == MOVED);
	CHECK(drv_rng_read(&d) == 0);
	/* The guest moves it back; the restored host follows. */
	cfg_write(r, 2, PCI_BAR0, 4, (uint32_t)old);
	d.base = old;
	CHECK(!bus_claimed(r->m.mmio, MOVED) && rig_bound(r, old + PCI_NOTIFY) == 1);
	CHECK(drv_rng_read(&d) == 0);
	rig_free(r);
}

/*
 * The rng decodes first; then the guest puts the disk's BAR 0 on the same
 * address, where it cannot go on the bus.  Loaded in slot order the disk
 * would win: the restored buses must still answer with the rng.
 */
static void test_bar_overlap(void)
{
	struct machine_config *c = config(true);
	struct rig *r = rig_new(c);
	struct drv blk, rng;
	uint64_t at, blk_old;
	uint32_t rng_df;

	CHECK(r);
	drv_attach_pci(&rng, r, 2);
	at = rng.base;
	blk_old = cfg_read(r, 1, PCI_BAR0, 4) & ~15ULL;
	cfg_write(r, 1, PCI_BAR0, 4, (uint32_t)at);
	drv_attach_pci(&blk, r, 1);
	CHECK(blk.base == at && !bus_claimed(r->m.mmio, blk_old));
	rng_df = (uint32_t)rd(&rng, CC_DF, 4);
	CHECK(rng_df == 0x30000000u);
	r = snapshot(r, c);
	CHECK(r);
	rng.r = r;
	CHECK(rd(&rng, CC_DF, 4) == rng_df && !bus_claimed(r->m.mmio, blk_old));
	CHECK(drv_rng_setup(&rng, false) == 0 && drv_rng_read(&rng) == 0);
	/* Once the rng moves away the disk's BAR is free to decode there. */
	cfg_write(r, 2, PCI_BAR0, 4, (uint32_t)MOVED);
	cfg_write(r, 1, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	CHECK(rd(&rng, CC_DF, 4) != rng_df && bus_claimed(r->m.mmio, MOVED));
	rig_free(r);
}

/* A vector raised under the function mask stays pending over the snapshot
 * and fires when the restored guest unmasks. */
static void test_msix_pending(void)
{
	struct machine_config *c = config(false);
	struct rig *r = rig_new(c);
	struct drv d;
	uint8_t cap;

	CHECK(r);
	drv_attach_pci(&d, r, 1);
	CHECK(drv_rng_setup(&d, true) == 0);
	cap = cfg_find_cap(r, 1, PCI_CAP_MSIX);
	cfg_write(r, 1, cap + 3u, 1, 0xc0);
	CHECK(drv_rng_read(&d) == 0);
	CHECK(atomic_load(&r->msis) == 0);
	CHECK(bus_read(r->m.mmio, d.msix_bar + 0x800, 8) == 2);
	r = snapshot(r, c);
	CHECK(r);
	d.r = r;
	CHECK(atomic_load(&r->msis) == 0 && bus_read(r->m.mmio, d.msix_bar + 0x800, 8) == 2);
	CHECK(cfg_read(r, 1, cap + 3u, 1) == 0xc0);
	cfg_write(r, 1, cap + 3u, 1, 0x80);
	CHECK(atomic_load(&r->msis) == 1 && atomic_load(&r->msi_data) == RIG_MSI_BASE + 1);
	CHECK(bus_read(r->m.mmio, d.msix_bar + 0x800, 8) == 0);
	CHECK(drv_rng_read(&d) == 0 && atomic_load(&r->msis) == 2);
	rig_free(r);
}

/* Until the fast path has signalled n MSIs (the I/O thread raises them
 * after it fills the used ring); the count then. */
static int fast_msis(struct rig *r, int n)
{
	for (int t = 0; t < 10000 && atomic_load(&r->fast_msis) < n; t++)
		rig_sleep_us(100);
	return atomic_load(&r->fast_msis);
}

/*
 * Each vector is an irq_msi source on the accelerator's fast path (KVM's
 * irqfd): armed only while MSI-X is on and the entry and function are
 * unmasked, raised with the message it was last routed to, never signalled
 * while disarmed, and after a restore armed again from the restored table
 * before the guest writes anything.
 */
static void test_msix_sources(void)
{
	struct machine_config *c = config(false);
	struct rig *r = rig_new(c);
	struct drv d;
	uint64_t e1;
	uint8_t cap;

	CHECK(r);
	drv_attach_pci(&d, r, 1);
	CHECK(rig_armed(r) == 0);
	CHECK(drv_rng_setup(&d, true) == 0);
	cap = cfg_find_cap(r, 1, PCI_CAP_MSIX);
	e1 = d.msix_bar + 16;                   /* vector 1: queue 0's */
	CHECK(rig_armed(r) == 2);
	CHECK(drv_rng_read(&d) == 0 && fast_msis(r, 1) == 1);
	CHECK(atomic_load(&r->msi_data) == RIG_MSI_BASE + 1);
	bus_write(r->m.mmio, e1 + 12, 4, 1);
	CHECK(rig_armed(r) == 1);
	bus_write(r->m.mmio, e1 + 8, 4, 0x44);
	CHECK(drv_rng_read(&d) == 0);
	rig_sleep_us(20000);
	CHECK(atomic_load(&r->fast_msis) == 1 && bus_read(r->m.mmio, d.msix_bar + 0x800, 8) == 2);
	bus_write(r->m.mmio, e1 + 12, 4, 0);
	CHECK(rig_armed(r) == 2 && atomic_load(&r->fast_msis) == 2);
	CHECK(atomic_load(&r->msi_data) == 0x44 && bus_read(r->m.mmio, d.msix_bar + 0x800, 8) == 0);
	r = snapshot(r, c);
	CHECK(r);
	d.r = r;
	CHECK(rig_armed(r) == 2);
	CHECK(drv_rng_read(&d) == 0 && fast_msis(r, 1) == 1 && atomic_load(&r->msi_data) == 0x44);
	cfg_write(r, 1, cap + 3u, 1, 0xc0);
	CHECK(rig_armed(r) == 0);
	cfg_write(r, 1, cap + 3u, 1, 0x80);
	CHECK(rig_armed(r) == 2);
	cfg_write(r, 1, cap + 3u, 1, 0);
	CHECK(rig_armed(r) == 0 && atomic_load(&r->bad_signals) == 0);
	CHECK(atomic_load(&r->msis) == atomic_load(&r->fast_msis));
	rig_free(r);
}

/* INTx raised, then disabled in COMMAND: low line, status bit set, both
 * restored; enabling it again raises the line. */
static void test_intx(void)
{
	struct machine_config *c = config(false);
	struct rig *r = rig_new(c);
	unsigned gsi = PCI_INTX_GSI(1, 0);
	struct drv d;

	CHECK(r);
	drv_attach_pci(&d, r, 1);
	CHECK(drv_rng_setup(&d, false) == 0 && drv_rng_read(&d) == 0);
	/* The used entry shows before the I/O thread raises the line. */
	CHECK(rig_line_level(r, gsi, 1) == 1);
	cfg_write(r, 1, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
	CHECK(atomic_load(&r->level[gsi]) == 0);
	r = snapshot(r, c);
	CHECK(r);
	d.r = r;
	CHECK(atomic_load(&r->level[gsi]) == 0);
	CHECK(cfg_read(r, 1, PCI_STATUS, 2) & PCI_STATUS_INTX);
	cfg_write(r, 1, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	CHECK(atomic_load(&r->level[gsi]) == 1);
	CHECK(rd(&d, PCI_ISR, 1) == 1 && atomic_load(&r->level[gsi]) == 0);
	CHECK(!(cfg_read(r, 1, PCI_STATUS, 2) & PCI_STATUS_INTX));
	rig_free(r);
}

/* Until the line is at level, up to a second; the level then. */
/* Slots 1 and 5 share INTA's GSI: the line stays up while the rng (slot 5)
 * drives it, whatever the disk (slot 1) does with its own pin, and the
 * snapshot keeps it so. */
static void test_intx_shared(void)
{
	struct machine_config *c = config(true);
	unsigned gsi = PCI_INTX_GSI(5, 0);
	struct drv rng, disk;
	struct rig *r;

	c->ndisks = 4;
	for (int i = 1; i < 4; i++)
		c->disk[i] = c->disk[0];
	r = rig_new(c);
	CHECK(r && gsi == PCI_INTX_GSI(1, 0));
	drv_attach_pci(&rng, r, 5);
	drv_attach_pci(&disk, r, 1);
	CHECK(drv_rng_setup(&rng, false) == 0 && drv_rng_read(&rng) == 0);
	CHECK(rig_line_level(r, gsi, 1) == 1);
	CHECK(rd(&disk, PCI_ISR, 1) == 0 && atomic_load(&r->level[gsi]) == 1);
	cfg_write(r, 1, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
	CHECK(atomic_load(&r->level[gsi]) == 1);
	r = snapshot(r, c);
	CHECK(r);
	rng.r = disk.r = r;
	CHECK(atomic_load(&r->level[gsi]) == 1);
	CHECK(rd(&disk, PCI_ISR, 1) == 0 && atomic_load(&r->level[gsi]) == 1);
	CHECK(rd(&rng, PCI_ISR, 1) == 1 && atomic_load(&r->level[gsi]) == 0);
	rig_free(r);
}

/* Loads sv with byte off of section name's field pci.cfg changed. */
static const char *load_edited(const char *name, unsigned off, uint8_t v)
{
	static struct saved a, b;
	static char err[256];
	static struct harness_section host, dev;
	bool in_host = !strcmp(name, "pci-host");
	struct harness_section *sec = in_host ? &host : &dev;
	const struct harness_field *f;
	uint8_t cfg[PCI_CFG_SIZE];
	struct snap_in *in;
	struct rig *r;
	int idx;

	if (harness_find(&sv, "pci-host", 0, &host) || harness_find(&sv, "virtio-rng", 0, &dev))
		return "(no section)";
	f = harness_field(sec, "pci.cfg");
	if (!f || f->len != sizeof(cfg))
		return "(no pci.cfg)";
	memcpy(cfg, f->data, sizeof(cfg));
	cfg[off] = v;
	idx = (int)(f - sec->f);
	if (harness_encode(&host, host.version, -1, in_host ? idx : -1, cfg, sizeof(cfg), &a) ||
	    harness_encode(&dev, dev.version, -1, in_host ? -1 : idx, cfg, sizeof(cfg), &b))
		return "(encode)";
	if (a.len + b.len > sizeof(a.buf))
		return "(too long)";
	memcpy(a.buf + a.len, b.buf, b.len);
	a.len += b.len;
	in = saved_parse(&a);
	r = rig_new(config(false));
	if (!in || !r)
		return "(setup)";
	snprintf(err, sizeof(err), "%s", machine_virtio_load(&r->m, in) ? snap_in_error(in) : "");
	snap_in_free(in);
	rig_free(r);
	return err;
}

static void test_other_config(void)
{
	struct rig *r = rig_new(config(false));
	struct snap_out *o = snap_out_new();

	CHECK(r);
	machine_virtio_save(&r->m, o);
	rig_free(r);
	CHECK(saved_take(&sv, o) == 0);
	CHECK(*load_edited("virtio-rng", PCI_INT_LINE, 0x55) == 0);
	CHECK(strstr(load_edited("virtio-rng", PCI_DEVICE_ID, 0x41),
		     "config byte 0x2 is 0x41, 0x44 on this virtio-rng: another device"));
	CHECK(strstr(load_edited("virtio-rng", 0x40, PCI_CAP_MSIX), "another device"));
	CHECK(strstr(load_edited("pci-host", PCI_VENDOR_ID, 0), "another device"));
	CHECK(*load_edited("pci-host", PCI_COMMAND, PCI_CMD_MEM) == 0);
}

/* ---- hostile pci-host sections ---- */

static void *host_create(void)
{
	return rig_new(config(true));
}

static int host_load(void *p, struct snap_in *in)
{
	return pci_host_load(((struct rig *)p)->m.pci, in);
}

static void host_poke(void *p)
{
	struct rig *r = p;

	for (unsigned slot = 0; slot < 4; slot++)
		for (unsigned reg = 0; reg < 0x100; reg += 4) {
			cfg_read(r, slot, reg, 4);
			cfg_read(r, slot, reg + 2, 2);
		}
	cfg_write(r, 0, PCI_COMMAND, 2, 0xffff);
	for (uint64_t off = 0; off < 0x10000; off += 0x1000)
		bus_read(r->m.mmio, PCI_ECAM_BASE + off, 4);
	bus_read(r->m.pio, 0xcf8, 4);
	bus_read(r->m.pio, 0xcfc, 4);
	cfg_write(r, 1, PCI_COMMAND, 2, PCI_CMD_MEM);
}

static void host_free(void *p)
{
	rig_free(p);
}

static void test_hostile_host(void)
{
	struct harness_target t = { host_create, host_load, host_poke, host_free, NULL };
	struct rig *r = rig_new(config(true));
	struct snap_out *o = snap_out_new();
	const char *why;

	CHECK(r);
	cfg_write(r, 0, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	bus_write(r->m.pio, 0xcf8, 4, 0x80000810u);
	machine_virtio_save(&r->m, o);
	rig_free(r);
	CHECK(saved_take(&sv, o) == 0);
	why = harness_hostile(&t, &sv, "pci-host", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

int main(void)
{
	if (make_disk()) {
		printf("FAIL setup: cannot make %s\n", disk_path);
		return 1;
	}
	RUN(test_bar_moved);
	RUN(test_bar_overlap);
	RUN(test_msix_pending);
	RUN(test_msix_sources);
	RUN(test_intx);
	RUN(test_intx_shared);
	RUN(test_other_config);
	RUN(test_hostile_host);
	unlink(disk_path);
	return TEST_EXIT();
}
