/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_VIRTIO_SNAP_RIG_H
#define VMON_TESTS_VIRTIO_SNAP_RIG_H

/*
 * What the virtio snapshot tests (test_virtio_snap, test_virtio_snap_hostile)
 * share on top of virtio_rig.h: a raw disk file whose sectors hold known
 * bytes, virtio-blk requests a test can wait for and check, and a dump of
 * every register a guest can read, to compare a device before and after.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio_rig.h"

#define SECTOR       512u
#define DISK_SECTORS 16384u               /* 8 MiB */
#define T_IN         0u
#define T_OUT        1u

/* Byte i of sector s as its gen-th write left it: sectors and writes differ. */
static inline uint8_t fill(uint64_t sector, unsigned gen, unsigned i)
{
	return (uint8_t)(sector * 7 + gen * 13 + i / 64);
}

/* Sector s of the raw disk at fd holds fill(s, 0, ...). */
static inline int disk_fill(int fd, unsigned sectors)
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

static inline int make_disk(char *path, unsigned sectors)
{
	int fd = mkstemp(path);

	return fd < 0 ? -1 : disk_fill(fd, sectors);
}

/* ---- virtio-blk requests: slot k has descriptors 3k..3k+2 (split), or
 * buffer ID 3k (packed) ---- */

static inline uint8_t *req_data(struct drv *d, unsigned k, uint32_t len)
{
	return rig_ptr(d->r, RIG_DATA + (uint64_t)k * RIG_DATA_SLOT, len);
}

static inline uint8_t req_status(struct drv *d, unsigned k)
{
	return *(volatile uint8_t *)rig_ptr(d->r, RIG_REQS + 32ULL * k + 16, 1);
}

static inline uint16_t req_make(struct drv *d, unsigned k, uint32_t type, uint64_t sector,
				uint32_t len)
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
static inline int req_do(struct drv *d, unsigned k, uint32_t type, uint64_t sector, uint32_t len)
{
	uint16_t head = req_make(d, k, type, sector, len);
	uint32_t id, n;

	drv_kick(d, 0);
	if (drv_wait(d, 0, &id, &n, 3000) || id != head)
		return -1;
	return req_status(d, k);
}

/* 0 if the sector reads back as fill(sector, gen). */
static inline int sector_check(struct drv *d, uint64_t sector, unsigned gen)
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

/* ---- every register a guest can read without side effects ---- */

struct dump {
	uint32_t v[512];
	int n;
};

static inline void put(struct dump *x, uint64_t v)
{
	if (x->n < 512)
		x->v[x->n++] = (uint32_t)v;
}

static inline void dump_mmio(struct drv *d, struct dump *x)
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

static inline void dump_pci(struct drv *d, struct dump *x)
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

static inline void dump(struct drv *d, struct dump *x)
{
	memset(x, 0, sizeof(*x));
	if (d->mmio)
		dump_mmio(d, x);
	else
		dump_pci(d, x);
}

#endif
