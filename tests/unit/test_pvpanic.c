/* SPDX-License-Identifier: Apache-2.0 */
/* pvpanic through a real port bus and a real machine's exit request. */
#include <string.h>

#include "hw/pvpanic.h"
#include "machine/bus.h"
#include "machine/machine.h"
#include "test.h"

static struct machine m;
static struct bus *pio;

static int setup(void)
{
	memset(&m, 0, sizeof(m));
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	pio = bus_new("pio");
	m.pio = pio;
	return pio ? pvpanic_new(pio, PVPANIC_PORT, &m) : -1;
}

static void teardown(void)
{
	bus_free(pio);
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
	pio = NULL;
}

static int exit_requested(int *status)
{
	int r;

	pthread_mutex_lock(&m.lock);
	r = m.exit_requested;
	*status = m.exit_status;
	pthread_mutex_unlock(&m.lock);
	return r;
}

static void pvpanic_read_events(void)
{
	int status;

	CHECK(setup() == 0);
	CHECK_EQ(bus_read(pio, 0x505, 1), 0x03);
	/* Only port 0x505 is the device: its neighbours stay unclaimed. */
	CHECK(!bus_claimed(pio, 0x504));
	CHECK(!bus_claimed(pio, 0x506));
	CHECK_EQ(bus_read(pio, 0x505, 2), 0xff03);
	CHECK_EQ(bus_read(pio, 0x505, 4), 0xffffff03);
	CHECK(!exit_requested(&status));
	teardown();
}

static void pvpanic_crash_loaded_goes_on(void)
{
	int status;

	CHECK(setup() == 0);
	bus_write(pio, 0x505, 1, PVPANIC_CRASH_LOADED);
	CHECK(!exit_requested(&status));
	CHECK(!machine_stopping(&m));
	/* Bits the device does not know are ignored, as the spec asks. */
	bus_write(pio, 0x505, 1, 0xfc);
	CHECK(!exit_requested(&status));
	/* Bit 0 sits in the next port for a wider write: not ours. */
	bus_write(pio, 0x505, 2, 0x0100);
	CHECK(!exit_requested(&status));
	teardown();
}

static void pvpanic_panicked_ends_machine(void)
{
	int status = -1;

	CHECK(setup() == 0);
	bus_write(pio, 0x505, 1, PVPANIC_PANICKED);
	CHECK(exit_requested(&status));
	CHECK_EQ(status, VMON_EXIT_CRASH);
	CHECK(machine_stopping(&m));
	teardown();
}

static void pvpanic_both_bits_end_machine(void)
{
	int status = -1;

	CHECK(setup() == 0);
	bus_write(pio, 0x505, 4, 0xffffff00 | PVPANIC_EVENTS);
	CHECK(exit_requested(&status));
	CHECK_EQ(status, 3);
	teardown();
}

static void pvpanic_other_port(void)
{
	int status = -1;

	CHECK(setup() == 0);
	CHECK_EQ(pvpanic_new(pio, 0x505, &m), -1);      /* taken */
	CHECK(pvpanic_new(pio, 0x600, &m) == 0);
	CHECK_EQ(bus_read(pio, 0x600, 1), 0x03);
	bus_write(pio, 0x600, 1, 1);
	CHECK(exit_requested(&status));
	CHECK_EQ(status, VMON_EXIT_CRASH);
	teardown();
}

int main(void)
{
	RUN(pvpanic_read_events);
	RUN(pvpanic_crash_loaded_goes_on);
	RUN(pvpanic_panicked_ends_machine);
	RUN(pvpanic_both_bits_end_machine);
	RUN(pvpanic_other_port);
	return TEST_EXIT();
}
