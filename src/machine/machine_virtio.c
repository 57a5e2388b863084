/* SPDX-License-Identifier: Apache-2.0 */
#include "machine/machine_virtio.h"

#include <stdlib.h>

#include "machine/machine.h"
#include "pci/pci.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_pci.h"

#define MACHINE_VIRTIO_MAX (VMON_MAX_DISKS + VMON_MAX_NICS + 2)

struct machine_virtio_dev {
	struct virtio_dev *vd;
	struct virtio_pci *pci;
	struct virtio_mmio *mmio;
	void (*free)(struct virtio_dev *vd);
};

struct machine_virtio {
	int n;
	struct machine_virtio_dev dev[MACHINE_VIRTIO_MAX];
};

static int add(struct machine *m, struct virtio_dev *vd, void (*free_fn)(struct virtio_dev *))
{
	struct machine_virtio_dev *d = &m->virtio->dev[m->virtio->n];

	if (!vd)
		return -1;
	vd->mem = &m->mem;
	d->vd = vd;
	d->free = free_fn;
	if (m->cfg.transport_mmio) {
		int i = m->virtio->n;
		struct irq_line irq = { m->irq, VIRTIO_MMIO_GSI(i) };

		m->virtio->n++;
		d->mmio = virtio_mmio_new(m->mmio, VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_SIZE,
					  irq, vd);
		return d->mmio ? 0 : -1;
	}
	m->virtio->n++;
	d->pci = virtio_pci_new(m->pci, m->mmio, m->irq, vd);
	return d->pci ? 0 : -1;
}

int machine_virtio_count(const struct machine_config *cfg)
{
	return cfg->ndisks + cfg->nnics + !!cfg->virtio_console + !!cfg->rng;
}

int machine_virtio_create(struct machine *m)
{
	m->pci = pci_host_new(m->pio, m->mmio, m->irq);
	m->virtio = calloc(1, sizeof(*m->virtio));
	if (!m->pci || !m->virtio)
		return -1;
	for (int i = 0; i < m->cfg.ndisks; i++)
		if (add(m, virtio_blk_new(&m->cfg.disk[i]), virtio_blk_free))
			return -1;
	for (int i = 0; i < m->cfg.nnics; i++)
		if (add(m, virtio_net_new(&m->cfg.nic[i]), virtio_net_free))
			return -1;
	if (m->hvc && add(m, virtio_console_new(m->hvc), virtio_console_free))
		return -1;
	if (m->cfg.rng && add(m, virtio_rng_new(), virtio_rng_free))
		return -1;
	return 0;
}

void machine_virtio_destroy(struct machine *m)
{
	struct machine_virtio *v = m->virtio;

	for (int i = 0; v && i < v->n; i++) {
		v->dev[i].free(v->dev[i].vd);
		virtio_pci_free(v->dev[i].pci);
		virtio_mmio_free(v->dev[i].mmio);
	}
	free(v);
	m->virtio = NULL;
	pci_host_free(m->pci);
	m->pci = NULL;
}
