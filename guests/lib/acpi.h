/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

/* Just enough ACPI to find tables, count CPUs and power off. */
#include <stdint.h>

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;        /* revision >= 2 from here on */
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_sdt {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/* Tables vmon or QEMU could plausibly build are far smaller than this. */
#define ACPI_MAX_TABLE_LEN (1u << 20)

/* Byte sum of len bytes at p (0 for a valid table). */
uint8_t acpi_sum(const void *p, uint32_t len);
/* Scans 0xe0000-0xfffff for a valid RSDP, or NULL. */
const struct acpi_rsdp *acpi_find_rsdp(void);
/* The root table, the XSDT when the RSDP has one, else the RSDT. */
const struct acpi_sdt *acpi_root(const struct acpi_rsdp *rsdp);
/* Number of entries in the root table and the address of entry i. */
uint32_t acpi_root_count(const struct acpi_sdt *root);
uint64_t acpi_root_entry(const struct acpi_sdt *root, uint32_t i);
/* A table below 4 GiB whose length is sane, or NULL. */
const struct acpi_sdt *acpi_table_at(uint64_t addr);
/* First table with signature sig through the root, or NULL. */
const struct acpi_sdt *acpi_find_table(const char *sig);
/* The DSDT the FADT points to, or NULL. */
const struct acpi_sdt *acpi_dsdt(const struct acpi_sdt *fadt);
/* Enabled processors in the MADT (types 0 and 9); their APIC IDs in ids[max]. */
int acpi_madt_cpus(const struct acpi_sdt *madt, uint32_t *ids, int max);
/* IOAPIC address from the MADT, or 0. */
uint32_t acpi_madt_ioapic(const struct acpi_sdt *madt);
/* SLP_TYPa of \_S5 found in the DSDT's AML, or -1. */
int acpi_s5_slp_typ(const struct acpi_sdt *dsdt);
/* FADT PM1a control port, or 0. */
uint32_t acpi_pm1a_cnt(const struct acpi_sdt *fadt);
/* Enters S5; returns only if that failed. */
void acpi_poweroff(void);

#endif
