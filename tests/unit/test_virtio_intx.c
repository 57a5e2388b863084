/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci INTx against a driver that reads ISR while a completion
 * lands, as an interrupt handler does when a second completion comes
 * during it: afterwards the line must be as ISR says.  A completion whose
 * raise fell between an ISR read's clear and its lowering of the line was
 * lost (ISR 1, line down: the guest waits forever), and one the read had
 * already taken could raise the line after it (an interrupt that finds
 * ISR 0).  A thread notifies once a round while this one reads ISR.
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

static void test_isr_reads_race_notify(void)
{
	struct rig *r = rig_bare();
	struct pci_host *host = r ? pci_host_new(r->m.pio, r->m.mmio, &r->chip) : NULL;
	struct race x = { .vd = virtio_rng_new() };
	struct virtio_pci *p = NULL;
	const char *why = NULL;
	pthread_t t;
	struct drv d;
	int i;

	CHECK(host && x.vd);
	x.vd->mem = &r->m.mem;
	p = virtio_pci_new(host, r->m.mmio, &r->chip, x.vd);
	CHECK(p);
	drv_attach_pci(&d, r, SLOT);
	CHECK(pthread_create(&t, NULL, notifier, &x) == 0);
	for (i = 1; i <= ROUNDS && !why; i++)
		why = round_check(&x, &d, r, i);
	atomic_store(&x.go, -1);
	pthread_join(t, NULL);
	if (why)
		printf("  round %d: %s\n", i - 1, why);
	virtio_pci_free(p);
	virtio_rng_free(x.vd);
	pci_host_free(host);
	rig_free(r);
	CHECK(!why);
}

int main(void)
{
	RUN(test_isr_reads_race_notify);
	return TEST_EXIT();
}
