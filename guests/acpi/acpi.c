/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI the way an OS finds it: RSDP in 0xe0000-0xfffff, then XSDT or RSDT,
 * every table checksummed and listed, the MADT's CPUs and IOAPIC counted,
 * and finally S5 through the FADT's PM1a control block.  Success is the
 * VM powering off (exit status 0); falling through is a failure.
 */
#include "acpi.h"
#include "guest.h"

#define NAME "acpi"
/* QEMU finishes a shutdown request asynchronously; give it ~1 s. */
#define POWEROFF_GRACE 3000000000ull

static void wait_cycles(uint64_t n)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < n)
		cpu_relax();
}

static void check_table(const struct acpi_sdt *t)
{
	gprintf(NAME ": table %.4s len %u rev %u oem '%.6s'\n", t->signature, t->length,
		t->revision, t->oem_id);
	if (acpi_sum(t, t->length))
		guest_fail(NAME, "%.4s checksum wrong", t->signature);
}

static void check_madt(const struct acpi_sdt *madt)
{
	uint32_t ids[64];
	int n = acpi_madt_cpus(madt, ids, 64);

	gprintf(NAME ": madt cpus %d ioapic %#x\n", n, acpi_madt_ioapic(madt));
	for (int i = 0; i < n && i < 64; i++)
		gprintf(NAME ": madt cpu %d apic id %u\n", i, ids[i]);
	if (n < 1)
		guest_fail(NAME, "MADT lists no enabled CPU");
}

static void check_fadt(const struct acpi_sdt *fadt)
{
	const struct acpi_sdt *dsdt = acpi_dsdt(fadt);
	int typ;

	if (!dsdt)
		guest_fail(NAME, "FADT points to no DSDT");
	check_table(dsdt);
	typ = acpi_s5_slp_typ(dsdt);
	gprintf(NAME ": pm1a_cnt %#x s5 slp_typ %d%s\n", acpi_pm1a_cnt(fadt), typ,
		typ < 0 ? " (no \\_S5 in the DSDT, using 5)" : "");
	if (!acpi_pm1a_cnt(fadt))
		guest_fail(NAME, "FADT has no PM1a control block");
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const struct acpi_rsdp *rsdp = acpi_find_rsdp();
	const struct acpi_sdt *root, *madt = NULL, *fadt = NULL;

	(void)magic;
	(void)mbi_addr;
	if (!rsdp)
		guest_fail(NAME, "no valid RSDP in 0xe0000-0xfffff");
	gprintf(NAME ": rsdp at %p rev %u oem '%.6s' rsdt %#x xsdt %#llx\n", (const void *)rsdp,
		rsdp->revision, rsdp->oem_id, rsdp->rsdt,
		rsdp->revision >= 2 ? (unsigned long long)rsdp->xsdt : 0ull);
	root = acpi_root(rsdp);
	if (!root)
		guest_fail(NAME, "RSDP points to no root table");
	check_table(root);
	for (uint32_t i = 0; i < acpi_root_count(root); i++) {
		const struct acpi_sdt *t = acpi_table_at(acpi_root_entry(root, i));

		if (!t)
			guest_fail(NAME, "root entry %u points nowhere", i);
		check_table(t);
		if (!memcmp(t->signature, "APIC", 4))
			madt = t;
		if (!memcmp(t->signature, "FACP", 4))
			fadt = t;
	}
	if (!madt || !fadt)
		guest_fail(NAME, "missing %s", madt ? "FADT" : "MADT");
	check_madt(madt);
	check_fadt(fadt);
	gprintf(NAME ": powering off\n");
	acpi_poweroff();
	wait_cycles(POWEROFF_GRACE);
	guest_fail(NAME, "still running after the S5 request");
}
