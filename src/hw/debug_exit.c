/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/debug_exit.h"

#include "machine/machine.h"
#include "util/log.h"

#define DEBUG_EXIT_LEN 4

static void debug_exit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct machine *m = opaque;
	uint64_t v = size >= 8 ? value : value & ((1ULL << (8 * size)) - 1);

	(void)offset;
	log_debug("debug-exit: guest wrote %#llx", (unsigned long long)v);
	/* The process status keeps 8 bits; the whole value is QEMU's contract. */
	machine_request_exit(m, (int)((v << 1) | 1));
}

static const struct bus_ops debug_exit_ops = {
	.write = debug_exit_write,
};

int debug_exit_new(struct bus *pio, uint16_t port, struct machine *m)
{
	/* The machine is the only state, so it serves as the device. */
	if (bus_register(pio, port, DEBUG_EXIT_LEN, &debug_exit_ops, m, "debug-exit")) {
		log_err("cannot register debug-exit at ports %#x-%#x", port, port + DEBUG_EXIT_LEN - 1);
		return -1;
	}
	return 0;
}
