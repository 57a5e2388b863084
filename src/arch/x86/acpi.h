/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_ACPI_H
#define VMON_ARCH_X86_ACPI_H

#include "machine/memory.h"

/* Where the tables live: the BIOS area, which e820 reports as reserved and
 * where an OS scans for the RSDP. */
#define ACPI_TABLES_START 0xe0000ULL
#define ACPI_TABLES_END   0x100000ULL
/* The RSDP is the first of them. */
#define ACPI_RSDP_ADDR    ACPI_TABLES_START

/* The fixed-hardware register blocks the FADT describes (I/O ports). */
#define ACPI_PM_BASE      0x600
#define ACPI_PM1_EVT_BLK  (ACPI_PM_BASE + 0)   /* status 16 bits, enable 16 bits */
#define ACPI_PM1_EVT_LEN  4
#define ACPI_PM1_CNT_BLK  (ACPI_PM_BASE + 4)
#define ACPI_PM1_CNT_LEN  2
#define ACPI_PM_TMR_BLK   (ACPI_PM_BASE + 8)
#define ACPI_PM_TMR_LEN   4
#define ACPI_PM_LEN       12                   /* the whole block */
#define ACPI_RESET_PORT   0xcf9
#define ACPI_RESET_VALUE  0x06
#define ACPI_SCI_IRQ      9

/* The SLP_TYP value the DSDT's \_S5 gives, which acpi_pm treats as power off. */
#define ACPI_SLP_TYP_S5   5

#define ACPI_IOAPIC_ADDR  0xfec00000U
#define ACPI_LAPIC_ADDR   0xfee00000U

/*
 * Writes RSDP, RSDT, XSDT, FADT, FACS, MADT, MCFG and DSDT for ncpus vCPUs
 * and nvirtio_mmio virtio-mmio devices into [ACPI_TABLES_START, ACPI_TABLES_END).  0, or -1 after log_err().
 */
int acpi_build(struct guest_mem *mem, int ncpus, int nvirtio_mmio);

#endif
