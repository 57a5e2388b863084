/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pause/resume and snapshot save/load of the virtio devices, driven as a
 * guest drives them (virtio_rig.h): requests through a queue, a pause with
 * requests in flight, a save, guest RAM copied into a fresh machine of the
 * same configuration, a load, and the queue carrying on from the restored
 * indices; machines that differ are refused; hostile streams are refused
 * with an error and leave a device that still works (the ASan build checks
 * the "still works").
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "snap_harness.h"
#include "test.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/rng.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_pci.h"
#include "virtio_rig.h"

#define SECTOR       512u
#define DISK_SECTORS 16384u               /* 8 MiB */
#define T_IN         0u
#define T_OUT        1u
#define D_NEXT       1

static char disk_path[64] = "/tmp/vmon-test-vsnap-XXXXXX";

static uint8_t fill(uint64_t sector, unsigned gen, unsigned i)
{
	return (uint8_t)(sector * 7 + gen * 13 + i / 64);
}

/* Sector s of the raw disk at fd holds fill(s, 0, ...). */
static int disk_fill(int fd, unsigned sectors)
{
	uint8_t buf[SECTOR];
	int rc = 0;

	for (unsigned s = 0; s < sectors && !rc; s++) {
		for (unsigned i = 0; i < SECTOR; i++)
			buf[i] = fill(s, 0, i);
		rc = pwrite(fd, buf, SECTOR, (off_t)s * SECTOR) == SECTOR ? 0 : -1;
	}
	close(fd);
	return rc;
}

static int make_disk(char *path, unsigned sectors)
{
	int fd = mkstemp(path);

	return fd < 0 ? -1 : disk_fill(fd, sectors);
}

static struct machine_config *config(bool disk, bool rng, bool mmio)
{
	static struct machine_config c;

	memset(&c, 0, sizeof(c));
	if (disk) {
		c.ndisks = 1;
		snprintf(c.disk[0].path, sizeof(c.disk[0].path), "%s", disk_path);
		c.disk[0].format = "raw";
	}
	c.rng = rng;
	c.transport_mmio = mmio;
	return &c;
}

/* The same with every device offering packed rings. */
static struct machine_config *config_packed(bool disk, bool rng, bool mmio, bool packed)
{
	struct machine_config *c = config(disk, rng, mmio);

	c->disk[0].packed = packed;
	c->rng_packed = packed;
	return c;
}

/* Device index i as the guest finds it: PCI slot i + 1 or MMIO page i. */
static void attach(struct drv *d, struct rig *r, unsigned i, bool mmio)
{
	if (mmio)
		drv_attach_mmio(d, r, i);
	else
		drv_attach_pci(d, r, i + 1);
}

/* ---- virtio-blk requests: slot k has descriptors 3k..3k+2 (split), or
 * buffer ID 3k (packed) ---- */

static uint8_t *req_data(struct drv *d, unsigned k, uint32_t len)
{
	return rig_ptr(d->r, RIG_DATA + (uint64_t)k * RIG_DATA_SLOT, len);
}

static uint8_t req_status(struct drv *d, unsigned k)
{
	return *(volatile uint8_t *)rig_ptr(d->r, RIG_REQS + 32ULL * k + 16, 1);
}

static uint16_t req_make(struct drv *d, unsigned k, uint32_t type, uint64_t sector, uint32_t len)
{
	uint64_t hdr = RIG_REQS + 32ULL * k;
	uint8_t *h = rig_ptr(d->r, hdr, 17);
	uint16_t head = (uint16_t)(3 * k);
	const struct drv_seg seg[3] = {
		{ hdr, 16, 0 },
		{ RIG_DATA + (uint64_t)k * RIG_DATA_SLOT, len, type == T_IN ? D_WRITE : 0 },
		{ hdr + 16, 1, D_WRITE },
	};

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[16] = 0xff;
	drv_offer(d, 0, head, 3, seg);
	return head;
}

/* One request, waited for: its status byte, or -1. */
static int req_do(struct drv *d, unsigned k, uint32_t type, uint64_t sector, uint32_t len)
{
	uint16_t head = req_make(d, k, type, sector, len);
	uint32_t id, n;

	drv_kick(d, 0);
	if (drv_wait(d, 0, &id, &n, 3000) || id != head)
		return -1;
	return req_status(d, k);
}

static int sector_write(struct drv *d, uint64_t sector, unsigned gen)
{
	uint8_t *p = req_data(d, 0, SECTOR);

	for (unsigned i = 0; i < SECTOR; i++)
		p[i] = fill(sector, gen, i);
	return req_do(d, 0, T_OUT, sector, SECTOR);
}

/* 0 if the sector reads back as fill(sector, gen). */
static int sector_check(struct drv *d, uint64_t sector, unsigned gen)
{
	uint8_t *p = req_data(d, 1, SECTOR);

	memset(p, 0, SECTOR);
	if (req_do(d, 1, T_IN, sector, SECTOR) != 0)
		return -1;
	for (unsigned i = 0; i < SECTOR; i++)
		if (p[i] != fill(sector, gen, i))
			return -1;
	return 0;
}

/* Event index, a packed ring if offered, and on PCI MSI-X: config
 * vector 0, queue vector 1. */
static int blk_setup(struct drv *d, uint16_t qsize)
{
	if (drv_negotiate(d, F_VERSION_1 | F_EVENT_IDX | F_RING_PACKED))
		return -1;
	if (!d->mmio) {
		drv_msix_on(d);
		wr(d, CC_MSIX, 2, 0);
	}
	drv_queue(d, 0, qsize, 1);
	drv_driver_ok(d);
	return drv_status(d) == 15 ? 0 : -1;
}

/* ---- every register a guest can read without side effects ---- */

struct dump {
	uint32_t v[512];
	int n;
};

static void put(struct dump *x, uint64_t v)
{
	if (x->n < 512)
		x->v[x->n++] = (uint32_t)v;
}

static void dump_mmio(struct drv *d, struct dump *x)
{
	for (uint64_t off = 0; off < R_CONFIG + 0x40; off += 4)
		if (off != R_INT_STATUS)        /* completions may still raise it */
			put(x, rd(d, off, 4));
	for (unsigned q = 0; q < 2; q++) {
		wr(d, R_Q_SEL, 4, q);
		put(x, rd(d, R_Q_NUM_MAX, 4));
		put(x, rd(d, R_Q_READY, 4));
	}
	wr(d, R_Q_SEL, 4, 0);               /* where the driver left it */
}

static void dump_pci(struct drv *d, struct dump *x)
{
	static const struct { uint32_t off; unsigned size; } cc[] = {
		{ CC_DFSELECT, 4 }, { CC_GFSELECT, 4 }, { CC_MSIX, 2 }, { CC_NUMQ, 2 },
		{ CC_STATUS, 1 }, { CC_CFGGEN, 1 }, { CC_Q_SELECT, 2 },
	};
	static const uint32_t qregs[] = {
		CC_Q_SIZE, CC_Q_MSIX, CC_Q_ENABLE, CC_Q_NOFF, CC_Q_DESCLO, CC_Q_DESCHI,
		CC_Q_AVAILLO, CC_Q_AVAILHI, CC_Q_USEDLO, CC_Q_USEDHI,
	};

	uint32_t dfsel = (uint32_t)rd(d, CC_DFSELECT, 4), gfsel = (uint32_t)rd(d, CC_GFSELECT, 4);
	uint16_t qsel = (uint16_t)rd(d, CC_Q_SELECT, 2);

	for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++)
		put(x, rd(d, cc[i].off, cc[i].size));
	for (unsigned sel = 0; sel < 2; sel++) {
		wr(d, CC_DFSELECT, 4, sel);
		put(x, rd(d, CC_DF, 4));
		wr(d, CC_GFSELECT, 4, sel);
		put(x, rd(d, CC_GF, 4));
	}
	for (unsigned q = 0; q < 2; q++) {
		wr(d, CC_Q_SELECT, 2, q);
		for (size_t i = 0; i < sizeof(qregs) / sizeof(qregs[0]); i++)
			put(x, rd(d, qregs[i], qregs[i] == CC_Q_DESCLO || qregs[i] >= CC_Q_DESCHI ? 4 : 2));
	}
	wr(d, CC_DFSELECT, 4, dfsel);
	wr(d, CC_GFSELECT, 4, gfsel);
	wr(d, CC_Q_SELECT, 2, qsel);
	for (uint32_t off = 0; off < 0x40; off += 4)
		put(x, rd(d, PCI_DEVCFG + off, 4));
	for (unsigned reg = 0; reg < 0x100; reg += 4)
		put(x, cfg_read(d->r, d->slot, reg, 4));
	for (uint64_t off = 0; d->msix_bar && off < 0x30; off += 4)
		put(x, bus_read(d->r->m.mmio, d->msix_bar + off, 4));
	if (d->msix_bar)
		put(x, bus_read(d->r->m.mmio, d->msix_bar + 0x800, 8));
}

static void dump(struct drv *d, struct dump *x)
{
	memset(x, 0, sizeof(*x));
	if (d->mmio)
		dump_mmio(d, x);
	else
		dump_pci(d, x);
}

static int pause_save(struct rig *r, struct saved *sv)
{
	struct snap_out *o;

	if (machine_virtio_pause(&r->m))
		return -1;
	o = snap_out_new();
	machine_virtio_save(&r->m, o);
	return saved_take(sv, o);
}

/* A fresh machine of configuration c with r's RAM and the saved state; r is freed. */
static struct rig *restore(struct rig *r, const struct machine_config *c, const struct saved *sv)
{
	struct rig *n = rig_new(c);
	struct snap_in *in = saved_parse(sv);

	if (n)
		memcpy(n->m.mem.base, r->m.mem.base, RIG_RAM);
	rig_free(r);
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

static struct saved sv;

/*
 * A disk and an rng: requests wrap the disk's 8-entry ring, the rng's
 * interrupt is left pending; a request kicked while paused waits for the
 * resume, or here for the load, and completes from the restored indices.
 * Packed: the disk's ring has 6 slots, so its chains of 3 go round in
 * laps and the wrap counters must come back as they were saved.
 */
static void roundtrip(bool mmio, bool packed)
{
	struct machine_config *c = config_packed(true, true, mmio, packed);
	struct rig *r = rig_new(c);
	struct drv b, g;
	struct dump before, after;
	unsigned gsi = mmio ? VIRTIO_MMIO_GSI(1) : PCI_INTX_GSI(2, 0), bgsi = VIRTIO_MMIO_GSI(0);
	uint32_t id, n, cf8;
	uint16_t head;

	CHECK(r);
	attach(&b, r, 0, mmio);
	attach(&g, r, 1, mmio);
	CHECK(blk_setup(&b, packed ? 6 : 8) == 0);
	CHECK(drv_rng_setup(&g, false) == 0);
	CHECK(drv_packed(&b) == packed && drv_packed(&g) == packed);
	for (unsigned s = 0; s < 6; s++) {
		CHECK(sector_write(&b, 100 + s, 1) == 0);
		CHECK(sector_check(&b, 100 + s, 1) == 0);
	}
	CHECK(drv_rng_read(&g) == 0);
	CHECK(rig_line_level(r, gsi, 1) == 1);
	CHECK(machine_virtio_pause(&r->m) == 0);
	memset(req_data(&b, 1, SECTOR), 0, SECTOR);
	head = req_make(&b, 1, T_IN, 102, SECTOR);
	/* No interrupt wanted for it: event-index bookkeeping must survive. */
	if (packed)
		drv_pevent(&b, 0, drv_pnext(&b, b.used_idx[0], 3), 2);
	else
		st16(drv_avail(&b, 0) + 4 + 2 * b.qsize, (uint16_t)(b.used_idx[0] + 4));
	drv_kick(&b, 0);
	rig_sleep_us(30000);
	CHECK(!drv_has_used(&b, 0));
	if (mmio)
		wr(&b, R_INT_ACK, 4, 3);
	dump(&b, &before);
	cf8 = (uint32_t)bus_read(r->m.pio, 0xcf8, 4);
	CHECK(pause_save(r, &sv) == 0);
	r = restore(r, c, &sv);
	CHECK(r);
	b.r = g.r = r;
	CHECK(bus_read(r->m.pio, 0xcf8, 4) == cf8);
	CHECK(drv_wait(&b, 0, &id, &n, 3000) == 0 && id == head && n == SECTOR + 1);
	CHECK(req_status(&b, 1) == 0 && req_data(&b, 1, SECTOR)[5] == fill(102, 1, 5));
	/* 13 requests: 39 descriptors, six and a half laps of 6 (wrap counter 1 again). */
	CHECK(packed ? b.used_idx[0] == (VIRTQ_PACKED_WRAP | 3) && !drv_has_used(&b, 0)
		     : drv_used_now(&b, 0) == 13);
	CHECK(atomic_load(&r->msis) == 0 && atomic_load(&r->level[bgsi]) == 0);
	dump(&b, &after);
	CHECK(before.n == after.n && !memcmp(before.v, after.v, sizeof(before.v)));
	if (mmio) {
		CHECK(rig_bound(r, 0xfe000000ULL + R_Q_NOTIFY) == 1);
		CHECK(atomic_load(&r->level[gsi]) == 1 && rd(&g, R_INT_STATUS, 4) == 1);
		wr(&g, R_INT_ACK, 4, 1);
	} else {
		CHECK(rig_bound(r, b.base + PCI_NOTIFY) == 1 && rig_bound(r, g.base + PCI_NOTIFY) == 1);
		CHECK(atomic_load(&r->level[gsi]) == 1 && rd(&g, PCI_ISR, 1) == 1);
	}
	CHECK(atomic_load(&r->level[gsi]) == 0);
	for (unsigned s = 0; s < 5; s++) {
		CHECK(sector_check(&b, 100 + s, 1) == 0);
		CHECK(sector_write(&b, 200 + s, 2) == 0);
		CHECK(sector_check(&b, 200 + s, 2) == 0);
	}
	if (mmio) {
		CHECK(atomic_load(&r->level[bgsi]) == 1);
	} else {
		CHECK(atomic_load(&r->msis) >= 15 && atomic_load(&r->msi_data) == RIG_MSI_BASE + 1);
		CHECK(atomic_load(&r->msi_addr) == 0xfee00000u);
	}
	CHECK(drv_rng_read(&g) == 0);
	CHECK(atomic_load(&r->level[gsi]) == 1);
	rig_free(r);
}

static void test_roundtrip_pci(void)
{
	roundtrip(false, false);
}

static void test_roundtrip_mmio(void)
{
	roundtrip(true, false);
}

static void test_roundtrip_packed_pci(void)
{
	roundtrip(false, true);
}

static void test_roundtrip_packed_mmio(void)
{
	roundtrip(true, true);
}

/* virtio-mmio devices 0 and 8 share GSI 16, wired-OR: the disk (device 0)
 * acknowledging its own interrupt leaves the line up while the rng
 * (device 8) still holds it, before and after a snapshot. */
static void test_mmio_shared_line(void)
{
	struct machine_config *c = config(true, true, true);
	unsigned gsi = VIRTIO_MMIO_GSI(8);
	struct drv disk, rng;
	struct rig *r;

	c->ndisks = 8;
	for (int i = 1; i < 8; i++)
		c->disk[i] = c->disk[0];
	r = rig_new(c);
	CHECK(r && gsi == VIRTIO_MMIO_GSI(0));
	attach(&disk, r, 0, true);
	attach(&rng, r, 8, true);
	CHECK(drv_rng_setup(&rng, false) == 0 && drv_rng_read(&rng) == 0);
	for (int t = 0; t < 10000 && !atomic_load(&r->level[gsi]); t++)
		rig_sleep_us(100);
	CHECK(atomic_load(&r->level[gsi]) == 1);
	wr(&disk, R_INT_ACK, 4, 3);
	CHECK(atomic_load(&r->level[gsi]) == 1);
	CHECK(pause_save(r, &sv) == 0);
	r = restore(r, c, &sv);
	CHECK(r);
	disk.r = rng.r = r;
	CHECK(atomic_load(&r->level[gsi]) == 1);
	wr(&disk, R_INT_ACK, 4, 3);
	CHECK(atomic_load(&r->level[gsi]) == 1);
	wr(&rng, R_INT_ACK, 4, 3);
	CHECK(atomic_load(&r->level[gsi]) == 0);
	rig_free(r);
}

/*
 * 32 writes of 256 KiB to an O_DIRECT disk, all taken by the device, then
 * a pause at once: every one must be in the used ring with its status, the
 * guest interrupted, the data in the file; a kick while paused waits for
 * the resume.  Repeated pauses cost little and change nothing.
 */
static void test_pause_in_flight(void)
{
	struct machine_config *c = config(true, false, false);
	const unsigned nreq = 32, chunk = RIG_DATA_SLOT;
	uint8_t *buf = malloc(chunk);
	uint64_t seen = 0;
	struct rig *r;
	struct drv b;
	uint32_t id, n;
	uint16_t head;
	int fd;

	c->disk[0].cache_none = true;
	r = rig_new(c);
	CHECK(r && buf);
	attach(&b, r, 0, false);
	CHECK(blk_setup(&b, 128) == 0);
	for (unsigned k = 0; k < nreq; k++) {
		memset(req_data(&b, k, chunk), 0x40 + (int)k, chunk);
		req_make(&b, k, T_OUT, (uint64_t)k * (chunk / SECTOR), chunk);
	}
	st16(drv_avail(&b, 0) + 4 + 2 * b.qsize, (uint16_t)(nreq - 1));   /* interrupt at the last */
	drv_kick(&b, 0);
	for (int t = 0; drv_avail_event(&b, 0) != nreq && t < 30000; t++)
		rig_sleep_us(100);
	CHECK(drv_avail_event(&b, 0) == nreq);
	CHECK(machine_virtio_pause(&r->m) == 0);
	CHECK(drv_used_now(&b, 0) == nreq);
	CHECK(atomic_load(&r->msis) >= 1 && atomic_load(&r->msi_data) == RIG_MSI_BASE + 1);
	fd = open(disk_path, O_RDONLY);
	CHECK(fd >= 0);
	for (unsigned k = 0; k < nreq; k++) {
		CHECK(drv_wait(&b, 0, &id, &n, 10) == 0 && id % 3 == 0 && id / 3 < nreq);
		seen |= 1ULL << (id / 3);
		CHECK(req_status(&b, k) == 0);
		CHECK(pread(fd, buf, chunk, (off_t)k * chunk) == (ssize_t)chunk);
		CHECK(buf[0] == 0x40 + k && buf[chunk - 1] == 0x40 + k);
	}
	CHECK(seen == (1ULL << nreq) - 1);
	close(fd);
	free(buf);
	for (int i = 0; i < 20; i++) {
		CHECK(machine_virtio_pause(&r->m) == 0);
		head = req_make(&b, 1, T_IN, (uint64_t)(i % 4) * (chunk / SECTOR), SECTOR);
		drv_kick(&b, 0);
		if (i == 0) {
			rig_sleep_us(20000);
			CHECK(drv_used_now(&b, 0) == b.used_idx[0]);
		}
		machine_virtio_resume(&r->m);
		machine_virtio_resume(&r->m);
		CHECK(drv_wait(&b, 0, &id, &n, 3000) == 0 && id == head && req_status(&b, 1) == 0);
		CHECK(req_data(&b, 1, SECTOR)[0] == 0x40 + i % 4);
	}
	rig_free(r);
	CHECK(disk_fill(open(disk_path, O_WRONLY), DISK_SECTORS) == 0);
}

/*
 * A device the guest broke (NEEDS_RESET) and one it never started pause,
 * resume, save and load as they are, and a reset brings both into use.
 */
static void unstarted_broken(bool mmio)
{
	struct machine_config *c = config(true, true, mmio);
	struct rig *r = rig_new(c);
	struct drv b, g;
	uint32_t id, n;

	CHECK(r);
	attach(&b, r, 0, mmio);
	attach(&g, r, 1, mmio);
	CHECK(blk_setup(&b, 8) == 0);
	drv_publish(&b, 0, 200);            /* a head beyond the queue */
	drv_kick(&b, 0);
	for (int t = 0; !(drv_status(&b) & 0x40) && t < 30000; t++)
		rig_sleep_us(100);
	CHECK(drv_status(&b) == (15 | 0x40));
	for (int i = 0; i < 3; i++) {
		CHECK(machine_virtio_pause(&r->m) == 0);
		machine_virtio_resume(&r->m);
	}
	CHECK(pause_save(r, &sv) == 0);
	r = restore(r, c, &sv);
	CHECK(r);
	b.r = g.r = r;
	CHECK(drv_status(&b) == (15 | 0x40) && drv_status(&g) == 0);
	req_make(&b, 0, T_IN, 1, SECTOR);
	drv_kick(&b, 0);
	CHECK(drv_wait(&b, 0, &id, &n, 30) == -1);
	CHECK(blk_setup(&b, 8) == 0);
	CHECK(sector_check(&b, 7, 0) == 0);
	CHECK(drv_rng_setup(&g, false) == 0 && drv_rng_read(&g) == 0);
	rig_free(r);
}

/* The broken device says so once per machine: expected here. */
static void test_unstarted_broken_pci(void)
{
	enum log_level level = log_get_level();

	log_set_level(LOG_ERROR);
	unstarted_broken(false);
	log_set_level(level);
}

static void test_unstarted_broken_mmio(void)
{
	enum log_level level = log_get_level();

	log_set_level(LOG_ERROR);
	unstarted_broken(true);
	log_set_level(level);
}

/* Loads sv into a fresh machine of configuration c; the error, "" if it loaded. */
static const char *load_into(const struct machine_config *c, struct snap_in **in)
{
	struct rig *r = rig_new(c);
	int rc;

	*in = saved_parse(&sv);
	if (!r || !*in)
		return "(no machine)";
	rc = machine_virtio_load(&r->m, *in);
	rig_free(r);
	return rc ? snap_in_error(*in) : "";
}

static int saved_of(const struct machine_config *c)
{
	struct rig *r = rig_new(c);
	int rc = r ? pause_save(r, &sv) : -1;

	rig_free(r);
	return rc;
}

/* Another device set, transport, disk size: refused, saying what differs. */
static void test_other_machine(void)
{
	static char small[64] = "/tmp/vmon-test-vsnap-XXXXXX";
	struct machine_config c;
	struct snap_in *in;

	CHECK(saved_of(config(true, true, false)) == 0);
	CHECK(strstr(load_into(config(false, true, false), &in), "slot 1 holds 1af4:1042"));
	snap_in_free(in);
	CHECK(strstr(load_into(config(true, true, true), &in), "slot 1"));
	snap_in_free(in);
	CHECK(saved_of(config(false, true, true)) == 0);
	CHECK(strstr(load_into(config(true, false, true), &in),
		     "virtio-rng.0: device 0 is a virtio-blk on this machine"));
	snap_in_free(in);
	CHECK(saved_of(config(true, true, true)) == 0);
	CHECK(strstr(load_into(config(true, false, true), &in), "more virtio devices"));
	snap_in_free(in);
	CHECK(saved_of(config(true, false, true)) == 0);
	CHECK(*load_into(config(true, false, true), &in) == 0);
	snap_in_free(in);
	CHECK(make_disk(small, 100) == 0);
	c = *config(true, false, true);
	snprintf(c.disk[0].path, sizeof(c.disk[0].path), "%s", small);
	CHECK(strstr(load_into(&c, &in), "the disk had 16384 sectors"));
	snap_in_free(in);
	unlink(small);
}

/* ---- hostile streams, one device built directly on a rig ---- */

struct bench {
	struct rig *r;
	struct pci_host *host;
	struct virtio_dev *vd;
	struct virtio_pci *p;
	struct virtio_mmio *t;
	struct chardev *chr;
	void (*free_dev)(struct virtio_dev *vd);
	const char *name;
};

enum kind { K_RNG, K_BLK, K_CON };
static bool bench_packed;                /* the device offers packed rings */

static struct bench *bench_new(enum kind k, bool mmio)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct virtio_blk_opts o = { .format = "raw" };

	if (!b || !(b->r = rig_bare()))
		return NULL;
	b->host = pci_host_new(b->r->m.pio, b->r->m.mmio, &b->r->chip);
	snprintf(o.path, sizeof(o.path), "%s", disk_path);
	if (k == K_RNG)
		b->vd = virtio_rng_new(), b->free_dev = virtio_rng_free;
	else if (k == K_BLK)
		b->vd = virtio_blk_new(&o), b->free_dev = virtio_blk_free;
	else if ((b->chr = chardev_open("none", NULL, NULL)))
		b->vd = virtio_console_new(b->chr), b->free_dev = virtio_console_free;
	if (!b->host || !b->vd)
		return NULL;
	b->name = b->vd->name;
	b->vd->mem = &b->r->m.mem;
	if (bench_packed)
		b->vd->features |= 1ULL << VIRTIO_F_RING_PACKED;
	if (mmio)
		b->t = virtio_mmio_new(b->r->m.mmio, 0xfe000000ULL,
				       (struct irq_line){ &b->r->chip, 16 }, b->vd);
	else
		b->p = virtio_pci_new(b->host, b->r->m.mmio, &b->r->chip, b->vd);
	return b->p || b->t ? b : NULL;
}

static void bench_free(void *p)
{
	struct bench *b = p;

	virtio_dev_pause(b->vd);
	virtio_pci_free(b->p);
	virtio_mmio_free(b->t);
	b->free_dev(b->vd);
	pci_host_free(b->host);
	chardev_close(b->chr);
	rig_free(b->r);
	free(b);
}

static int bench_load(void *p, struct snap_in *in)
{
	struct bench *b = p;
	struct snap_sec *s = snap_section(in, b->name, 0, 1, NULL);

	if (!s)
		return -1;
	return b->p ? virtio_pci_load(b->p, s) : virtio_mmio_load(b->t, s);
}

static void bench_save(struct bench *b, struct saved *out)
{
	struct snap_out *o = snap_out_new();

	snap_begin(o, b->name, 0, 1);
	if (b->p)
		virtio_pci_save(b->p, o);
	else
		virtio_mmio_save(b->t, o);
	saved_take(out, o);
}

/* Every register, then a reset and a fresh start, and a kick on each queue. */
static void bench_poke(void *p)
{
	struct bench *b = p;
	struct drv d;
	struct dump x;

	if (b->p)
		drv_attach_pci(&d, b->r, 1);
	else
		drv_attach_mmio(&d, b->r, 0);
	dump(&d, &x);
	rd(&d, d.mmio ? R_INT_STATUS : PCI_ISR, 1);
	for (unsigned q = 0; q < 3; q++)
		drv_kick(&d, q);
	if (drv_negotiate(&d, F_VERSION_1 | F_EVENT_IDX))
		return;
	drv_queue(&d, 0, 8, 0);
	drv_queue(&d, 1, 8, 0);
	drv_driver_ok(&d);
	for (unsigned q = 0; q < 2; q++)
		drv_kick(&d, q);
}

static enum kind bench_kind;
static bool bench_mmio;

static void *bench_create(void)
{
	return bench_new(bench_kind, bench_mmio);
}

/* A device in use: queues set up, requests done, selectors moved. */
static int bench_good(struct bench *b, struct saved *out)
{
	struct drv d;
	uint32_t id, n;

	if (b->p)
		drv_attach_pci(&d, b->r, 1);
	else
		drv_attach_mmio(&d, b->r, 0);
	if (drv_negotiate(&d, F_VERSION_1 | F_EVENT_IDX | F_RING_PACKED) ||
	    drv_packed(&d) != bench_packed)
		return -1;
	if (b->p)
		drv_msix_on(&d), wr(&d, CC_MSIX, 2, 0);
	drv_queue(&d, 0, bench_packed ? 6 : 8, 1);
	if (b->vd->nqueues > 1)
		drv_queue(&d, 1, 8, 2);
	drv_driver_ok(&d);
	if (bench_kind == K_RNG)
		for (int i = 0; i < 3; i++)
			if (drv_rng_read(&d))
				return -1;
	if (bench_kind == K_BLK && (sector_check(&d, 3, 0) || sector_check(&d, 4, 0)))
		return -1;
	if (bench_kind == K_CON) {
		memcpy(rig_ptr(b->r, RIG_RNG_BUF, 5), "hello", 5);
		drv_desc(&d, 1, 0, RIG_RNG_BUF, 5, 0, 0);
		drv_publish(&d, 1, 0);
		drv_kick(&d, 1);
		if (drv_wait(&d, 1, &id, &n, 3000))
			return -1;
		drv_desc(&d, 0, 0, RIG_RNG_BUF + 64, 64, D_WRITE, 0);
		drv_publish(&d, 0, 0);        /* a receive buffer, for input */
		drv_kick(&d, 0);
	}
	if (!d.mmio)
		wr(&d, CC_Q_SELECT, 2, 1);
	if (virtio_dev_pause(b->vd))
		return -1;
	bench_save(b, out);
	return 0;
}

static const char *hostile(enum kind k, bool mmio, const char *const *variable)
{
	static struct saved good;
	struct harness_target t = { bench_create, bench_load, bench_poke, bench_free, variable };
	struct bench *b;
	const char *why;

	enum log_level level = log_get_level();

	/* Garbage makes the devices complain at every turn. */
	log_set_level(LOG_ERROR);
	bench_kind = k;
	bench_mmio = mmio;
	b = bench_new(k, mmio);
	if (!b || bench_good(b, &good)) {
		if (b)
			bench_free(b);
		return "cannot build the good stream";
	}
	why = harness_hostile(&t, &good, b->name, 0);
	bench_free(b);
	log_set_level(level);
	return why;
}

static void test_hostile_rng_pci(void)
{
	const char *why = hostile(K_RNG, false, NULL);

	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

static void test_hostile_rng_mmio(void)
{
	const char *why = hostile(K_RNG, true, NULL);

	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

static void test_hostile_blk_pci(void)
{
	const char *why = hostile(K_BLK, false, NULL);

	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

/* Packed: the ring positions with their wrap counters, a size that is
 * not a power of two (6), chains that went round the ring. */
static void test_hostile_blk_packed_pci(void)
{
	const char *why;

	bench_packed = true;
	why = hostile(K_BLK, false, NULL);
	bench_packed = false;
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

static void test_hostile_console_pci(void)
{
	static const char *const variable[] = { "con.input", NULL };
	const char *why = hostile(K_CON, false, variable);

	if (why)
		printf("  %s\n", why);
	CHECK(!why);
}

int main(void)
{
	if (make_disk(disk_path, DISK_SECTORS)) {
		printf("FAIL setup: cannot make %s\n", disk_path);
		return 1;
	}
	RUN(test_roundtrip_pci);
	RUN(test_roundtrip_mmio);
	RUN(test_roundtrip_packed_pci);
	RUN(test_roundtrip_packed_mmio);
	RUN(test_mmio_shared_line);
	RUN(test_pause_in_flight);
	RUN(test_unstarted_broken_pci);
	RUN(test_unstarted_broken_mmio);
	RUN(test_other_machine);
	RUN(test_hostile_rng_pci);
	RUN(test_hostile_rng_mmio);
	RUN(test_hostile_blk_pci);
	RUN(test_hostile_blk_packed_pci);
	RUN(test_hostile_console_pci);
	unlink(disk_path);
	return TEST_EXIT();
}
