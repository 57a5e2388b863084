/* SPDX-License-Identifier: Apache-2.0 */
#include "machine/machine_virtio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "pci/pci.h"
#include "snapshot/snap.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_pci.h"

#define MACHINE_VIRTIO_MAX (VMON_MAX_DISKS + VMON_MAX_NICS + 2)
#define VIRTIO_SNAP_VERSION 1

struct machine_virtio_dev {
	struct virtio_dev *vd;
	struct virtio_pci *pci;
	struct virtio_mmio *mmio;
	void (*free)(struct virtio_dev *vd);
};

#define MMIO_GSIS 8

struct machine_virtio {
	int n;
	struct machine_virtio_dev dev[MACHINE_VIRTIO_MAX];
	/* virtio-mmio device i drives GSI VIRTIO_MMIO_GSI(i), wired-OR with
	 * devices i + 8, i + 16 ... */
	struct irq_shared mmio_irq[MMIO_GSIS];
};

/* packed: offer packed rings, as QEMU's packed=on (the split ring stays the default). */
static int add(struct machine *m, struct virtio_dev *vd, void (*free_fn)(struct virtio_dev *),
	       bool packed)
{
	struct machine_virtio_dev *d = &m->virtio->dev[m->virtio->n];

	if (!vd)
		return -1;
	if (packed)
		vd->features |= 1ULL << VIRTIO_F_RING_PACKED;
	vd->mem = &m->mem;
	d->vd = vd;
	d->free = free_fn;
	if (m->cfg.transport_mmio) {
		int i = m->virtio->n;
		struct irq_line irq = irq_shared_line(&m->virtio->mmio_irq[i % MMIO_GSIS],
						      (unsigned)i / MMIO_GSIS);

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
	for (unsigned g = 0; g < MMIO_GSIS; g++)
		irq_shared_init(&m->virtio->mmio_irq[g], m->irq, VIRTIO_MMIO_GSI(g));
	for (int i = 0; i < m->cfg.ndisks; i++)
		if (add(m, virtio_blk_new(&m->cfg.disk[i]), virtio_blk_free, m->cfg.disk[i].packed))
			return -1;
	for (int i = 0; i < m->cfg.nnics; i++)
		if (add(m, virtio_net_new(&m->cfg.nic[i]), virtio_net_free, m->cfg.nic[i].packed))
			return -1;
	if (m->hvc && add(m, virtio_console_new(m->hvc), virtio_console_free,
			  m->cfg.console_packed))
		return -1;
	if (m->cfg.rng && add(m, virtio_rng_new(), virtio_rng_free, m->cfg.rng_packed))
		return -1;
	return 0;
}

/* Each device's packed=on as bit i for device i, in the order above. */
uint32_t machine_virtio_packed_mask(const struct machine_config *cfg)
{
	uint32_t mask = 0;
	int i = 0;

	for (int k = 0; k < cfg->ndisks; k++, i++)
		mask |= (uint32_t)cfg->disk[k].packed << i;
	for (int k = 0; k < cfg->nnics; k++, i++)
		mask |= (uint32_t)cfg->nic[k].packed << i;
	if (cfg->virtio_console)
		mask |= (uint32_t)!!cfg->console_packed << i++;
	if (cfg->rng)
		mask |= (uint32_t)!!cfg->rng_packed << i;
	return mask;
}

void machine_virtio_set_packed(struct machine_config *cfg, uint32_t mask)
{
	int i = 0;

	for (int k = 0; k < cfg->ndisks; k++, i++)
		cfg->disk[k].packed = mask >> i & 1;
	for (int k = 0; k < cfg->nnics; k++, i++)
		cfg->nic[k].packed = mask >> i & 1;
	if (cfg->virtio_console)
		cfg->console_packed = mask >> i++ & 1;
	if (cfg->rng)
		cfg->rng_packed = mask >> i & 1;
}

void machine_virtio_destroy(struct machine *m)
{
	struct machine_virtio *v = m->virtio;

	for (int i = 0; v && i < v->n; i++) {
		/* Quiet first: I/O threads notify through the transport, and the
		 * transport unbinds the device's kick eventfds. */
		virtio_dev_pause(v->dev[i].vd);
		virtio_pci_free(v->dev[i].pci);
		virtio_mmio_free(v->dev[i].mmio);
		v->dev[i].free(v->dev[i].vd);
	}
	for (unsigned g = 0; v && g < MMIO_GSIS; g++)
		irq_shared_destroy(&v->mmio_irq[g]);
	free(v);
	m->virtio = NULL;
	pci_host_free(m->pci);
	m->pci = NULL;
}

int machine_virtio_pause(struct machine *m)
{
	struct machine_virtio *v = m->virtio;
	int rc = 0;

	for (int i = 0; v && i < v->n; i++)
		if (virtio_dev_pause(v->dev[i].vd))
			rc = -1;
	return rc;
}

void machine_virtio_resume(struct machine *m)
{
	struct machine_virtio *v = m->virtio;

	for (int i = 0; v && i < v->n; i++)
		virtio_dev_resume(v->dev[i].vd);
}

void machine_virtio_save(struct machine *m, struct snap_out *o)
{
	struct machine_virtio *v = m->virtio;

	pci_host_save(m->pci, o);
	for (int i = 0; v && i < v->n; i++) {
		struct machine_virtio_dev *d = &v->dev[i];

		snap_begin(o, d->vd->name, (uint32_t)i, VIRTIO_SNAP_VERSION);
		snap_put_u8(o, "transport", d->mmio ? 1 : 0);
		if (d->pci)
			virtio_pci_save(d->pci, o);
		else
			virtio_mmio_save(d->mmio, o);
	}
}

/* A section for device index i of some kind other than name; NULL if none. */
static struct snap_sec *other_kind(struct snap_in *in, uint32_t i, const char *name)
{
	static const char *const kinds[] = {
		"virtio-blk", "virtio-net", "virtio-console", "virtio-rng",
	};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((!name || strcmp(kinds[k], name)) && snap_has(in, kinds[k], i))
			return snap_section(in, kinds[k], i, UINT32_MAX, NULL);
	return NULL;
}

static const char *transport_name(uint8_t mmio)
{
	return mmio ? "virtio-mmio" : "PCI";
}

static int load_dev(struct machine_virtio_dev *d, struct snap_in *in, uint32_t i)
{
	const char *name = d->vd->name;
	struct snap_sec *s = snap_has(in, name, i) ? NULL : other_kind(in, i, name);
	uint8_t mmio;

	if (s)
		return snap_fail(s, "device %u is a %s on this machine", i, name);
	s = snap_section(in, name, i, VIRTIO_SNAP_VERSION, NULL);
	if (!s || snap_get_u8(s, "transport", &mmio))
		return -1;
	if (mmio != (d->mmio != NULL))
		return snap_fail(s, "the device is on %s in the snapshot, on %s here",
				 mmio > 1 ? "an unknown transport" : transport_name(mmio),
				 transport_name(d->mmio != NULL));
	return d->pci ? virtio_pci_load(d->pci, s) : virtio_mmio_load(d->mmio, s);
}

int machine_virtio_load(struct machine *m, struct snap_in *in)
{
	struct machine_virtio *v = m->virtio;
	int n = v ? v->n : 0;
	struct snap_sec *extra;

	if (pci_host_load(m->pci, in))
		return -1;
	for (int i = 0; i < n; i++)
		if (load_dev(&v->dev[i], in, (uint32_t)i))
			return -1;
	extra = other_kind(in, (uint32_t)n, NULL);
	if (extra)
		return snap_fail(extra, "the snapshot has more virtio devices than the %d here", n);
	return 0;
}
