/* SPDX-License-Identifier: Apache-2.0 */
#include "acpi.h"

#include "guest.h"

#define FADT_DSDT        40
#define FADT_PM1A_CNT    64
#define FADT_X_DSDT      140
#define MADT_ENTRIES     44
#define SLP_EN           (1u << 13)
#define S5_DEFAULT_TYP   5

uint8_t acpi_sum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

static int rsdp_valid(const struct acpi_rsdp *r)
{
	if (memcmp(r->signature, "RSD PTR ", 8) || acpi_sum(r, 20))
		return 0;
	if (r->revision < 2)
		return 1;
	return r->length >= sizeof(*r) && r->length <= 4096 && !acpi_sum(r, r->length);
}

const struct acpi_rsdp *acpi_find_rsdp(void)
{
	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16) {
		const struct acpi_rsdp *r = phys_ptr(a);

		if (rsdp_valid(r))
			return r;
	}
	return NULL;
}

const struct acpi_sdt *acpi_table_at(uint64_t addr)
{
	const struct acpi_sdt *t;

	if (!addr || addr >= 0x100000000ull - ACPI_MAX_TABLE_LEN)
		return NULL;
	t = phys_ptr(addr);
	if (t->length < sizeof(*t) || t->length > ACPI_MAX_TABLE_LEN)
		return NULL;
	return t;
}

const struct acpi_sdt *acpi_root(const struct acpi_rsdp *rsdp)
{
	if (rsdp->revision >= 2 && rsdp->xsdt)
		return acpi_table_at(rsdp->xsdt);
	return acpi_table_at(rsdp->rsdt);
}

static int root_is_xsdt(const struct acpi_sdt *root)
{
	return !memcmp(root->signature, "XSDT", 4);
}

uint32_t acpi_root_count(const struct acpi_sdt *root)
{
	return (root->length - sizeof(*root)) / (root_is_xsdt(root) ? 8 : 4);
}

uint64_t acpi_root_entry(const struct acpi_sdt *root, uint32_t i)
{
	const uint8_t *e = (const uint8_t *)(root + 1);
	uint64_t v = 0;

	if (root_is_xsdt(root))
		memcpy(&v, e + 8 * i, 8);
	else
		memcpy(&v, e + 4 * i, 4);
	return v;
}

const struct acpi_sdt *acpi_find_table(const char *sig)
{
	const struct acpi_rsdp *rsdp = acpi_find_rsdp();
	const struct acpi_sdt *root = rsdp ? acpi_root(rsdp) : NULL;

	if (!root)
		return NULL;
	for (uint32_t i = 0; i < acpi_root_count(root); i++) {
		const struct acpi_sdt *t = acpi_table_at(acpi_root_entry(root, i));

		if (t && !memcmp(t->signature, sig, 4))
			return t;
	}
	return NULL;
}

static uint32_t read32(const void *base, uint32_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)base + off, 4);
	return v;
}

const struct acpi_sdt *acpi_dsdt(const struct acpi_sdt *fadt)
{
	uint64_t x = 0;

	if (fadt->length >= FADT_X_DSDT + 8)
		memcpy(&x, (const uint8_t *)fadt + FADT_X_DSDT, 8);
	if (x)
		return acpi_table_at(x);
	if (fadt->length < FADT_DSDT + 4)
		return NULL;
	return acpi_table_at(read32(fadt, FADT_DSDT));
}

int acpi_madt_cpus(const struct acpi_sdt *madt, uint32_t *ids, int max)
{
	const uint8_t *p = (const uint8_t *)madt + MADT_ENTRIES;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	int n = 0;

	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		uint32_t id, flags;

		if (p[0] == 0 && p[1] >= 8) {           /* processor local APIC */
			id = p[3];
			flags = read32(p, 4);
		} else if (p[0] == 9 && p[1] >= 16) {   /* processor local x2APIC */
			id = read32(p, 4);
			flags = read32(p, 8);
		} else {
			continue;
		}
		if (!(flags & 1))
			continue;
		if (n < max)
			ids[n] = id;
		n++;
	}
	return n;
}

uint32_t acpi_madt_ioapic(const struct acpi_sdt *madt)
{
	const uint8_t *p = (const uint8_t *)madt + MADT_ENTRIES;
	const uint8_t *end = (const uint8_t *)madt + madt->length;

	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (p[0] == 1 && p[1] >= 12)
			return read32(p, 4);
	}
	return 0;
}

/* One AML data object: ZeroOp, OneOp, BytePrefix n (enough for \_S5). */
static int aml_small_int(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return -1;
	if (p[0] == 0x00 || p[0] == 0x01)
		return p[0];
	if (p[0] == 0x0a && p + 1 < end)
		return p[1];
	return -1;
}

int acpi_s5_slp_typ(const struct acpi_sdt *dsdt)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	/* Name(_S5_, Package(){a, b, ...}): NameOp 08, name, PackageOp 12, PkgLength, count. */
	for (; p + 8 <= end; p++) {
		const uint8_t *q;

		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		q = p + 5;
		q += 1 + (*q >> 6);     /* PkgLength: lead byte plus 0-3 more */
		q += 1;                 /* NumElements */
		return aml_small_int(q, end);
	}
	return -1;
}

uint32_t acpi_pm1a_cnt(const struct acpi_sdt *fadt)
{
	if (fadt->length < FADT_PM1A_CNT + 4)
		return 0;
	return read32(fadt, FADT_PM1A_CNT);
}

void acpi_poweroff(void)
{
	const struct acpi_sdt *fadt = acpi_find_table("FACP");
	const struct acpi_sdt *dsdt = fadt ? acpi_dsdt(fadt) : NULL;
	int typ = dsdt ? acpi_s5_slp_typ(dsdt) : -1;
	uint32_t port = fadt ? acpi_pm1a_cnt(fadt) : 0;

	if (!port || port > 0xffff)
		return;
	if (typ < 0)
		typ = S5_DEFAULT_TYP;
	outw((uint16_t)port, (uint16_t)(((uint32_t)typ << 10) | SLP_EN));
}
