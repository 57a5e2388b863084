/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_ACPI_PM_H
#define VMON_HW_ACPI_PM_H

#include "machine/bus.h"
#include "machine/irq.h"

struct machine;
struct acpi_pm;

/*
 * The ACPI fixed hardware the FADT describes (see arch/x86/acpi.h for the
 * ports): PM1a event block (status, write 1 to clear; enable), PM1a control
 * (SCI_EN always set: there is no SMI_CMD to switch modes; SLP_EN with
 * SLP_TYP = ACPI_SLP_TYP_S5 powers off), the 24-bit PM timer at 3.579545 MHz,
 * and the reset control register at 0xcf9 (a write with bit 2 set resets).
 * Power off and reset end the machine with VMON_EXIT_OK.  The SCI is raised
 * while an enabled status bit is set.
 * NULL after log_err() if the ports are taken.
 */
struct acpi_pm *acpi_pm_new(struct bus *pio, struct irq_line sci, struct machine *m);
void acpi_pm_free(struct acpi_pm *pm);

/* A press of the fixed-feature power button (PWRBTN_STS), e.g. for a
 * management "powerdown" request; any thread. */
void acpi_pm_power_button(struct acpi_pm *pm);

struct snap_out;
struct snap_in;
/* Section "acpi_pm": PM1 registers, reset register, the PM timer's count
 * (it runs on from there).  Load drives the SCI; -1 with the error in in. */
void acpi_pm_save(struct acpi_pm *pm, struct snap_out *o);
int acpi_pm_load(struct acpi_pm *pm, struct snap_in *in);

#endif
