/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform devices and the virtio devices in and out of a snapshot.
 * Interrupt controllers come first on load (the accelerator's vm_load):
 * devices then re-assert the lines their restored state holds.
 */
#include "machine/machine_devices_snap.h"

#include "hw/acpi_pm.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "machine/machine.h"
#include "machine/machine_virtio.h"

void machine_devices_save(struct machine *m, struct snap_out *o)
{
	uart_save(m->uart, o);
	i8042_save(m->i8042, o);
	rtc_save(m->rtc, o);
	acpi_pm_save(m->acpi_pm, o);
	fw_cfg_save(m->fw_cfg, o);
	machine_virtio_save(m, o);
}

int machine_devices_load(struct machine *m, struct snap_in *in)
{
	return uart_load(m->uart, in) || i8042_load(m->i8042, in) || rtc_load(m->rtc, in) ||
	       acpi_pm_load(m->acpi_pm, in) || fw_cfg_load(m->fw_cfg, in) ||
	       machine_virtio_load(m, in) ? -1 : 0;
}
