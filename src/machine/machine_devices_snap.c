/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform devices and the virtio devices in and out of a snapshot.
 * Interrupt controllers come first on load (the accelerator's vm_load):
 * devices then re-assert the lines their restored state holds.
 */
#include "machine/machine_devices_snap.h"

#include "machine/machine.h"

void machine_devices_save(struct machine *m, struct snap_out *o)
{
	(void)m;
	(void)o;
}

int machine_devices_load(struct machine *m, struct snap_in *in)
{
	(void)m;
	(void)in;
	return 0;
}
