/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pause/resume and snapshot save/load of the virtio devices, driven as a
 * guest drives them (virtio_rig.h): requests through a queue, a pause with
 * requests in flight, a save, guest RAM copied into a fresh machine of the
 * same configuration, a load, and the queue carrying on from the restored
 * indices; machines that differ are refused.  Hostile streams are
 * test_virtio_snap_hostile.c's.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "snap_harness.h"
#include "test.h"
#include "util/log.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_pci.h"
#include "virtio_rig.h"
#include "virtio_snap_rig.h"

static char disk_path[64] = "/tmp/vmon-test-vsnap-XXXXXX";

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

static int sector_write(struct drv *d, uint64_t sector, unsigned gen)
{
	uint8_t *p = req_data(d, 0, SECTOR);

	for (unsigned i = 0; i < SECTOR; i++)
		p[i] = fill(sector, gen, i);
	return req_do(d, 0, T_OUT, sector, SECTOR);
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
	unlink(disk_path);
	return TEST_EXIT();
}
