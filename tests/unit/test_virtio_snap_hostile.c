/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile snapshot streams for the virtio devices: one device (rng, blk,
 * console) built directly on a rig, on PCI or virtio-mmio, is put to use
 * and saved, and the saved section is rewritten field by field
 * (snap_harness.h).  Each variant is refused with an error or taken, and
 * the device still works after it (the ASan build checks the "still works").
 */
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
#include "virtio_snap_rig.h"

static char disk_path[64] = "/tmp/vmon-test-vsnap-XXXXXX";

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
	RUN(test_hostile_rng_pci);
	RUN(test_hostile_rng_mmio);
	RUN(test_hostile_blk_pci);
	RUN(test_hostile_blk_packed_pci);
	RUN(test_hostile_console_pci);
	unlink(disk_path);
	return TEST_EXIT();
}
