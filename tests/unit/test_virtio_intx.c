/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci INTx against a driver that reads ISR while a completion
 * lands, as an interrupt handler does when a second completion comes
 * during it: afterwards the line must be as ISR says.  A completion whose
 * raise fell between an ISR read's clear and its lowering of the line was
 * lost (ISR 1, line down: the guest waits forever), and one the read had
 * already taken could raise the line after it (an interrupt that finds
 * ISR 0).  A thread notifies once a round while this one reads ISR.
 * A device reset clears ISR, so it must lower the line too.
 */
#include <pthread.h>

#include "test.h"
#include "virtio/rng.h"
#include "virtio/virtio_pci.h"
#include "virtio_rig.h"

#define ROUNDS  20000
#define SLOT    1

struct race {
	struct virtio_dev *vd;
	atomic_int go, done;             /* round numbers; go -1 ends the thread */
};

static void *notifier(void *opaque)
{
	struct race *x = opaque;

	for (int last = 0, g;; last = g) {
		while ((g = atomic_load(&x->go)) == last)
			;
		if (g < 0)
			return NULL;
		x->vd->tops->notify(x->vd, 0);
		atomic_store(&x->done, g);
	}
}

/* 0, or what went wrong in one round. */
static const char *round_check(struct race *x, struct drv *d, struct rig *r, int i)
{
	unsigned gsi = PCI_INTX_GSI(SLOT, 0), seen = 0;

	atomic_store(&x->go, i);
	while (atomic_load(&x->done) != i)
		seen |= (unsigned)rd(d, PCI_ISR, 1);
	if (seen)
		return atomic_load(&r->level[gsi]) ? "line up after ISR was read" : NULL;
	if (!atomic_load(&r->level[gsi]))
		return "ISR set and the line down: the interrupt is lost";
	return rd(d, PCI_ISR, 1) == 1 && !atomic_load(&r->level[gsi]) ? NULL
		: "reading ISR did not lower the line";
}

/* An rng on virtio-pci in SLOT, INTx only (no MSI-X), on a bare rig. */
struct bench {
	struct rig *r;
	struct pci_host *host;
	struct virtio_dev *vd;
	struct virtio_pci *p;
	struct drv d;
};

static int bench_up(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	b->r = rig_bare();
	b->host = b->r ? pci_host_new(b->r->m.pio, b->r->m.mmio, &b->r->chip) : NULL;
	b->vd = virtio_rng_new();
	if (!b->host || !b->vd)
		return -1;
	b->vd->mem = &b->r->m.mem;
	b->p = virtio_pci_new(b->host, b->r->m.mmio, &b->r->chip, b->vd);
	if (!b->p)
		return -1;
	drv_attach_pci(&b->d, b->r, SLOT);
	return 0;
}

static void bench_down(struct bench *b)
{
	virtio_pci_free(b->p);
	if (b->vd)
		virtio_rng_free(b->vd);
	pci_host_free(b->host);
	rig_free(b->r);
}

static void test_isr_reads_race_notify(void)
{
	struct bench b;
	struct race x;
	const char *why = NULL;
	pthread_t t;
	int i;

	CHECK(bench_up(&b) == 0);
	x = (struct race){ .vd = b.vd };
	CHECK(pthread_create(&t, NULL, notifier, &x) == 0);
	for (i = 1; i <= ROUNDS && !why; i++)
		why = round_check(&x, &b.d, b.r, i);
	atomic_store(&x.go, -1);
	pthread_join(t, NULL);
	if (why)
		printf("  round %d: %s\n", i - 1, why);
	bench_down(&b);
	CHECK(!why);
}

static void test_reset_lowers_line(void)
{
	unsigned gsi = PCI_INTX_GSI(SLOT, 0);
	struct bench b;

	CHECK(bench_up(&b) == 0);
	b.vd->tops->notify(b.vd, 0);
	CHECK(atomic_load(&b.r->level[gsi]) == 1);
	drv_set_status(&b.d, 0);
	CHECK(atomic_load(&b.r->level[gsi]) == 0);
	CHECK(rd(&b.d, PCI_ISR, 1) == 0);
	bench_down(&b);
}

int main(void)
{
	RUN(test_isr_reads_race_notify);
	RUN(test_reset_lowers_line);
	return TEST_EXIT();
}
