/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/pvpanic.h"

#include "machine/machine.h"
#include "util/log.h"

static uint64_t pvpanic_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	/* A wider access reaches ports behind this one, where nothing answers. */
	return size >= 8 ? ~0xffULL | PVPANIC_EVENTS :
			   (((1ULL << (8 * size)) - 1) & ~0xffULL) | PVPANIC_EVENTS;
}

static void pvpanic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct machine *m = opaque;
	uint8_t events = (uint8_t)value;    /* only the low byte lands on this port */

	(void)offset;
	(void)size;
	if (events & PVPANIC_PANICKED) {
		log_err("guest panicked (pvpanic)");
		machine_shutdown(m, VMON_EXIT_CRASH, "guest-panic");
		return;
	}
	/* The guest handles this panic itself (kdump): record it, let it run. */
	if (events & PVPANIC_CRASH_LOADED)
		log_info("guest panicked; its crash kernel takes over (pvpanic)");
}

static const struct bus_ops pvpanic_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

int pvpanic_new(struct bus *pio, uint16_t port, struct machine *m)
{
	/* The machine is the only state, so it serves as the device. */
	if (bus_register(pio, port, 1, &pvpanic_ops, m, "pvpanic")) {
		log_err("cannot register pvpanic at port %#x", port);
		return -1;
	}
	return 0;
}
