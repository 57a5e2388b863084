/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_BUS_H
#define VMON_MACHINE_BUS_H

#include <stdint.h>

/*
 * A bus maps address ranges (I/O ports or MMIO) to devices.  Devices see the
 * offset into their own range; values are little-endian, 1 to 8 bytes.
 * Lookups take no lock and allocate nothing: the range table is immutable and
 * replaced whole when a device registers or leaves, which is rare.
 */
struct bus_ops {
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
};

struct bus;

struct bus *bus_new(const char *name);
void bus_free(struct bus *bus);

/* 0, or -1 (errno EEXIST) when the range overlaps a registered one. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name);
/* Removes the range that starts at base; -1 (ENOENT) if none does. */
int bus_unregister(struct bus *bus, uint64_t base);

/* Unclaimed reads return all ones; unclaimed writes are dropped. */
uint64_t bus_read(struct bus *bus, uint64_t addr, unsigned size);
void bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t value);
/* Whether any device claims addr. */
int bus_claimed(struct bus *bus, uint64_t addr);

/*
 * A fast path an accelerator may offer (KVM's ioeventfd): guest writes to
 * [addr, addr+len) signal fd without leaving the kernel (len 0: any size),
 * or only writes of the value datamatch when it is not negative.
 * The device's own range stays registered, and its write handler signals
 * the same fd, so guests behave the same with or without the fast path.
 */
typedef int (*bus_eventfd_fn)(void *opaque, uint64_t addr, unsigned len, int64_t datamatch,
			      int fd, int assign);
void bus_set_eventfd_hook(struct bus *bus, bus_eventfd_fn fn, void *opaque);
/* 0 when the accelerator took it; -1 when there is no fast path. */
int bus_eventfd(struct bus *bus, uint64_t addr, unsigned len, int64_t datamatch, int fd,
		int assign);

#endif
