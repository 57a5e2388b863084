/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_VIRTIO_PCI_H
#define VMON_VIRTIO_VIRTIO_PCI_H

#include "machine/bus.h"
#include "machine/irq.h"
#include "virtio/virtio.h"

struct pci_host;
struct virtio_pci;

/* Puts vd on the PCI bus (vendor 0x1af4, device 0x1040 + ID); its config
 * space (vd->config, config_len) must be set up already. */
struct virtio_pci *virtio_pci_new(struct pci_host *host, struct bus *mmio,
				  struct irq_chip *irq, struct virtio_dev *vd);
void virtio_pci_free(struct virtio_pci *p);

/*
 * The whole device in and out of its open snapshot section: the virtio
 * core and device model, the common configuration's selectors, PCI config
 * space and MSI-X.  A load checks each part before applying it, binds the
 * ioeventfds wherever the restored BAR 0 is, and starts a device the
 * snapshot had running.
 */
struct snap_out;
struct snap_sec;
void virtio_pci_save(struct virtio_pci *p, struct snap_out *o);
int virtio_pci_load(struct virtio_pci *p, struct snap_sec *s);

#endif
