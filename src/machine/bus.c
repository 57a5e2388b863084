/* SPDX-License-Identifier: Apache-2.0 */
#include "machine/bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus_table {
	struct bus_table *retired;  /* older tables, freed with the bus */
	size_t n;
	struct bus_range r[];
};

struct bus {
	const char *name;
	_Atomic(struct bus_table *) table;
	pthread_mutex_t update;   /* serialises writers only */
	bus_eventfd_fn eventfd_fn;
	void *eventfd_opaque;
};

static struct bus_table *table_new(size_t n)
{
	struct bus_table *t = calloc(1, sizeof(*t) + n * sizeof(t->r[0]));

	if (t)
		t->n = n;
	return t;
}

struct bus *bus_new(const char *name)
{
	struct bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->name = name;
	atomic_init(&bus->table, table_new(0));
	pthread_mutex_init(&bus->update, NULL);
	if (!atomic_load(&bus->table)) {
		free(bus);
		return NULL;
	}
	return bus;
}

void bus_free(struct bus *bus)
{
	struct bus_table *t, *next;

	if (!bus)
		return;
	for (t = atomic_load(&bus->table); t; t = next) {
		next = t->retired;
		free(t);
	}
	pthread_mutex_destroy(&bus->update);
	free(bus);
}

/*
 * Old tables may still be read by a vCPU in the middle of a lookup, so they
 * are kept until the bus goes away.  Registrations are few (boot, BAR moves).
 */
static void table_publish(struct bus *bus, struct bus_table *old, struct bus_table *t)
{
	t->retired = old;
	atomic_store_explicit(&bus->table, t, memory_order_release);
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	struct bus_table *old, *t;
	size_t i, pos;

	if (!len || base + len - 1 < base) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&bus->update);
	old = atomic_load(&bus->table);
	for (pos = 0; pos < old->n && old->r[pos].base < base; pos++)
		;
	if ((pos > 0 && old->r[pos - 1].base + old->r[pos - 1].len - 1 >= base) ||
	    (pos < old->n && old->r[pos].base <= base + len - 1)) {
		pthread_mutex_unlock(&bus->update);
		errno = EEXIST;
		return -1;
	}
	t = table_new(old->n + 1);
	if (!t) {
		pthread_mutex_unlock(&bus->update);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < pos; i++)
		t->r[i] = old->r[i];
	t->r[pos] = (struct bus_range){ base, len, ops, opaque, name };
	for (i = pos; i < old->n; i++)
		t->r[i + 1] = old->r[i];
	table_publish(bus, old, t);
	pthread_mutex_unlock(&bus->update);
	return 0;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	struct bus_table *old, *t;
	size_t i, j;

	pthread_mutex_lock(&bus->update);
	old = atomic_load(&bus->table);
	for (i = 0; i < old->n && old->r[i].base != base; i++)
		;
	if (i == old->n) {
		pthread_mutex_unlock(&bus->update);
		errno = ENOENT;
		return -1;
	}
	t = table_new(old->n - 1);
	if (!t) {
		pthread_mutex_unlock(&bus->update);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0, j = 0; i < old->n; i++)
		if (old->r[i].base != base)
			t->r[j++] = old->r[i];
	table_publish(bus, old, t);
	pthread_mutex_unlock(&bus->update);
	return 0;
}

static const struct bus_range *bus_find(struct bus *bus, uint64_t addr)
{
	const struct bus_table *t = atomic_load_explicit(&bus->table, memory_order_acquire);
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &t->r[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

uint64_t bus_read(struct bus *bus, uint64_t addr, unsigned size)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (!r || !r->ops->read)
		return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	return r->ops->read(r->opaque, addr - r->base, size);
}

void bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t value)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (r && r->ops->write)
		r->ops->write(r->opaque, addr - r->base, size, value);
}

int bus_claimed(struct bus *bus, uint64_t addr)
{
	return bus_find(bus, addr) != NULL;
}

void bus_set_eventfd_hook(struct bus *bus, bus_eventfd_fn fn, void *opaque)
{
	bus->eventfd_fn = fn;
	bus->eventfd_opaque = opaque;
}

int bus_eventfd(struct bus *bus, uint64_t addr, unsigned len, int64_t datamatch, int fd,
		int assign)
{
	if (!bus->eventfd_fn)
		return -1;
	return bus->eventfd_fn(bus->eventfd_opaque, addr, len, datamatch, fd, assign);
}
