/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/port80.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "util/log.h"

struct port80 {
	struct bus *pio;
	_Atomic uint8_t last;    /* any vCPU writes; a lock would be overkill */
};

static uint64_t port80_read(void *opaque, uint64_t offset, unsigned size)
{
	struct port80 *p = opaque;
	uint64_t b = atomic_load_explicit(&p->last, memory_order_relaxed);

	(void)offset;
	/* A wider read sees the one port repeated: nothing else answers behind it. */
	return size == 1 ? b : b | (size >= 8 ? ~0xffULL : ((1ULL << (8 * size)) - 1) & ~0xffULL);
}

static void port80_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct port80 *p = opaque;

	(void)offset;
	(void)size;
	atomic_store_explicit(&p->last, (uint8_t)value, memory_order_relaxed);
	log_debug("POST code %#04x", (unsigned)(uint8_t)value);
}

static const struct bus_ops port80_ops = {
	.read = port80_read,
	.write = port80_write,
};

struct port80 *port80_create(struct bus *pio)
{
	struct port80 *p = calloc(1, sizeof(*p));

	if (!p) {
		log_err("out of memory for port 0x80");
		return NULL;
	}
	p->pio = pio;
	atomic_init(&p->last, 0);
	if (bus_register(pio, PORT80_PORT, 1, &port80_ops, p, "port80")) {
		log_err("cannot register port %#x", PORT80_PORT);
		free(p);
		return NULL;
	}
	return p;
}

void port80_free(struct port80 *p)
{
	if (!p)
		return;
	bus_unregister(p->pio, PORT80_PORT);
	free(p);
}
