/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "pci/pci.h"
#include "boot_rig.h"
#include "test.h"

static struct guest_mem mem;

static uint8_t rd8(uint64_t gpa)
{
	uint8_t v = 0xee;

	guest_mem_read(&mem, gpa, &v, 1);
	return v;
}

static int sum_ok(uint64_t gpa, uint32_t len)
{
	const uint8_t *p = guest_mem_ptr(&mem, gpa, len);
	uint8_t s = 0;

	if (!p)
		return 0;
	while (len--)
		s += *p++;
	return s == 0;
}

/* As an OS does: scan the BIOS area on 16-byte boundaries. */
static uint64_t find_rsdp(void)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		const void *p = guest_mem_ptr(&mem, a, 8);

		if (p && !memcmp(p, "RSD PTR ", 8) && sum_ok(a, 20))
			return a;
	}
	return 0;
}

/* A table inside the BIOS area with a sane length and checksum. */
static int table_ok(uint64_t gpa, const char *sig)
{
	uint32_t len = rig_rd32(&mem, gpa + 4);

	if (gpa < ACPI_TABLES_START || gpa >= ACPI_TABLES_END || len < 36 ||
	    len > ACPI_TABLES_END - gpa)
		return 0;
	if (memcmp(guest_mem_ptr(&mem, gpa, 4), sig, 4))
		return 0;
	if (memcmp(guest_mem_ptr(&mem, gpa + 10, 6), "VMON  ", 6))
		return 0;
	return sum_ok(gpa, len);
}

static uint64_t xsdt_find(uint64_t xsdt, const char *sig)
{
	uint32_t n = (rig_rd32(&mem, xsdt + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = rig_rd64(&mem, xsdt + 36 + 8 * i);
		const void *p = guest_mem_ptr(&mem, t, 4);

		if (p && !memcmp(p, sig, 4))
			return t;
	}
	return 0;
}

/* Decodes an AML PkgLength; returns its value and advances *p. */
static uint32_t pkglen(const uint8_t **p)
{
	uint8_t lead = *(*p)++;
	int extra = lead >> 6;
	uint32_t v;

	if (!extra)
		return lead & 0x3f;
	v = lead & 0xf;
	for (int i = 0; i < extra; i++)
		v |= (uint32_t)*(*p)++ << (4 + 8 * i);
	return v;
}

/* An AML integer constant (ZeroOp, OneOp, Byte/Word/DWordConst); -1 if not one. */
static int64_t aml_int(const uint8_t **p, const uint8_t *end)
{
	static const int width[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4 };
	uint8_t op;
	int64_t v = 0;

	if (*p >= end)
		return -1;
	op = *(*p)++;
	if (op == 0x00 || op == 0x01)
		return op;
	if (op < 0x0a || op > 0x0c || end - *p < width[op])
		return -1;
	for (int i = 0; i < width[op]; i++)
		v |= (int64_t)*(*p)++ << (8 * i);
	return v;
}

struct dsdt_info {
	int ncpus;
	int npevt;                  /* QEMU0001 devices */
	int io_min, io_max, io_align, io_len;   /* its IO descriptor */
	int sta;                    /* what its _STA returns */
	int npci;                   /* PCI0 host bridges */
	int pci_windows;            /* address space descriptors in PCI0's _CRS */
	uint32_t pci_mem_min, pci_mem_max;
	int prt_entries, prt_bad;   /* _PRT packages; those with the wrong GSI */
};

/*
 * A ResourceTemplate buffer as an OS reads it: small descriptors up to the
 * end tag, which must close the buffer, with checksum 0 or a correct sum.
 */
static int walk_crs(const uint8_t *p, const uint8_t *end, struct dsdt_info *d)
{
	const uint8_t *start = p;
	uint8_t sum = 0;

	while (p < end) {
		uint8_t tag = *p, len = tag & 7;

		if (tag == 0x87 || tag == 0x88) {
			/* DWord/Word address space: fixed size, producer, min/max fixed. */
			int w = tag == 0x87 ? 4 : 2, dlen = tag == 0x87 ? 23 : 13;

			if (end - p < 3 + dlen || (p[1] | p[2] << 8) != dlen || p[4] != 0x0c)
				return -1;
			if (p[3] == 0 && w == 4) {
				memcpy(&d->pci_mem_min, p + 10, 4);
				memcpy(&d->pci_mem_max, p + 14, 4);
			}
			d->pci_windows++;
			p += 3 + dlen;
			continue;
		}
		if ((tag & 0x80) || end - p < 1 + len)
			return -1;
		if (tag == 0x47) {
			if (p[1] != 1)
				return -1;      /* Decode16 */
			d->io_min = p[2] | p[3] << 8;
			d->io_max = p[4] | p[5] << 8;
			d->io_align = p[6];
			d->io_len = p[7];
		}
		if (tag == 0x79) {
			for (const uint8_t *b = start; b < p + 2; b++)
				sum += *b;
			return p + 2 == end && (p[1] == 0 || sum == 0) ? 0 : -1;
		}
		p += 1 + len;
	}
	return -1;                      /* no end tag */
}

/* The objects inside Device (PEVT): Name(_HID), Name(_CRS), Method(_STA). */
static int walk_pevt(const uint8_t *p, const uint8_t *end, struct dsdt_info *d)
{
	int hid = 0, crs = 0;

	while (p < end) {
		const uint8_t *q, *obj_end;

		if (end - p >= 15 && !memcmp(p, "\x08_HID\x0d", 6)) {
			if (memcmp(p + 6, "QEMU0001", 9))
				return -1;
			hid = 1;
			p += 15;
		} else if (end - p >= 7 && !memcmp(p, "\x08_CRS\x11", 6)) {
			p += 6;
			q = p;
			obj_end = q + pkglen(&p);
			int64_t n = aml_int(&p, obj_end);

			if (obj_end > end || n < 0 || n != obj_end - p ||
			    walk_crs(p, obj_end, d))
				return -1;
			crs = 1;
			p = obj_end;
		} else if (end - p >= 2 && p[0] == 0x14) {
			p++;
			q = p;
			obj_end = q + pkglen(&p);
			if (obj_end > end || obj_end - p < 7 || memcmp(p, "_STA", 4) ||
			    p[4] != 0 || p[5] != 0xa4)
				return -1;
			p += 6;
			d->sta = (int)aml_int(&p, obj_end);
			if (p != obj_end)
				return -1;
		} else {
			return -1;
		}
	}
	return hid && crs ? 0 : -1;
}

/* Name(name, value): a string or an integer. */
static int name_decl(const uint8_t **p, const uint8_t *end, const char *name, const char *str)
{
	const uint8_t *q = *p;

	if (end - q < 6 || q[0] != 0x08 || memcmp(q + 1, name, 4))
		return -1;
	q += 5;
	if (str) {
		size_t n = strlen(str) + 1;

		if (*q != 0x0d || (size_t)(end - q) < n + 1 || memcmp(q + 1, str, n))
			return -1;
		*p = q + 1 + n;
		return 0;
	}
	if (aml_int(&q, end) < 0)
		return -1;
	*p = q;
	return 0;
}

/* Device (PCI0): _HID, _CID, _SEG, _BBN, _UID, _CRS, _PRT. */
static int walk_pci(const uint8_t *p, const uint8_t *end, struct dsdt_info *d)
{
	const uint8_t *q, *obj_end;
	int64_t n, v[4];

	if (name_decl(&p, end, "_HID", "PNP0A08") || name_decl(&p, end, "_CID", "PNP0A03") ||
	    name_decl(&p, end, "_SEG", NULL) || name_decl(&p, end, "_BBN", NULL) ||
	    name_decl(&p, end, "_UID", NULL))
		return -1;
	if (end - p < 7 || memcmp(p, "\x08_CRS\x11", 6))
		return -1;
	p += 6;
	q = p;
	obj_end = q + pkglen(&p);
	n = aml_int(&p, obj_end);
	if (obj_end > end || n != obj_end - p || walk_crs(p, obj_end, d))
		return -1;
	p = obj_end;
	if (end - p < 7 || memcmp(p, "\x08_PRT\x12", 6))
		return -1;
	p += 6;
	q = p;
	obj_end = q + pkglen(&p);
	if (obj_end != end)
		return -1;
	n = *p++;
	for (int64_t i = 0; i < n; i++) {
		const uint8_t *e;

		if (*p++ != 0x12)
			return -1;
		q = p;
		e = q + pkglen(&p);
		if (e > obj_end || *p++ != 4)
			return -1;
		for (int k = 0; k < 4; k++)
			if ((v[k] = aml_int(&p, e)) < 0)
				return -1;
		if (p != e || (v[0] & 0xffff) != 0xffff)
			return -1;
		if (v[3] != PCI_INTX_GSI((unsigned)(v[0] >> 16), (unsigned)v[1]))
			d->prt_bad++;
		d->prt_entries++;
	}
	return p == obj_end ? 0 : -1;
}

/*
 * Walks the DSDT the way an interpreter would for the objects vmon emits:
 * Name(\_S5_, Package) then Scope(\_SB_) holding one Device per CPU and the
 * pvpanic device.  0, or -1 on any inconsistency.
 */
static int walk_dsdt(uint64_t dsdt, struct dsdt_info *d)
{
	uint32_t len = rig_rd32(&mem, dsdt + 4);
	const uint8_t *p = guest_mem_ptr(&mem, dsdt, len), *end = p + len, *q, *scope_end;

	memset(d, 0, sizeof(*d));
	d->sta = -1;
	p += 36;
	if (p[0] != 0x08 || memcmp(p + 1, "\\_S5_", 5) || p[6] != 0x12)
		return -1;
	p += 7;
	q = p;
	q += pkglen(&p);
	if (*p != 4 || p[1] != 0x0a || p[2] != ACPI_SLP_TYP_S5)
		return -1;
	p = q;
	if (p[0] != 0x10)
		return -1;
	p++;
	q = p;
	scope_end = q + pkglen(&p);
	if (scope_end != end || memcmp(p, "\\_SB_", 5))
		return -1;
	p += 5;
	while (p < scope_end) {
		if (p[0] != 0x5b || p[1] != 0x82)
			return -1;
		p += 2;
		q = p;
		q += pkglen(&p);
		if (q > scope_end)
			return -1;
		if (!memcmp(p, "PEVT", 4)) {
			if (walk_pevt(p + 4, q, d))
				return -1;
			d->npevt++;
		} else if (!memcmp(p, "PCI0", 4)) {
			if (walk_pci(p + 4, q, d))
				return -1;
			d->npci++;
		} else if (!memcmp(p, "CP", 2) && !memcmp(p + 4, "\x08_HID\x0d" "ACPI0007", 14)) {
			d->ncpus++;
		} else {
			return -1;
		}
		p = q;
	}
	return p == scope_end ? 0 : -1;
}

static void check_madt(uint64_t madt, int ncpus, int *nlapic, int *nioapic, int *niso)
{
	uint32_t len = rig_rd32(&mem, madt + 4);
	uint64_t e = madt + 44;

	*nlapic = *nioapic = *niso = 0;
	while (e + 2 <= madt + len) {
		uint8_t type = rd8(e), elen = rd8(e + 1);

		if (elen < 2 || e + elen > madt + len)
			return;
		if (type == 0 && elen == 8 && (rig_rd32(&mem, e + 4) & 1) && rd8(e + 3) == *nlapic)
			(*nlapic)++;
		if (type == 1 && elen == 12 && rig_rd32(&mem, e + 4) == 0xfec00000 &&
		    rd8(e + 2) >= ncpus)
			(*nioapic)++;
		if (type == 2 && elen == 10)
			(*niso)++;
		e += elen;
	}
	if (e != madt + len)
		*nlapic = -1;
}

static void check_tables(int ncpus)
{
	uint64_t rsdp, xsdt, rsdt, fadt, madt, dsdt, facs, mcfg;
	int nlapic, nioapic, niso;
	struct dsdt_info d;

	CHECK(guest_mem_init(&mem, 128ULL << 20) == 0);
	CHECK(acpi_build(&mem, ncpus, 0) == 0);
	rsdp = find_rsdp();
	CHECK(rsdp);
	CHECK_EQ(rd8(rsdp + 15), 2);
	CHECK_EQ(rig_rd32(&mem, rsdp + 20), 36);
	CHECK(sum_ok(rsdp, 36));
	xsdt = rig_rd64(&mem, rsdp + 24);
	rsdt = rig_rd32(&mem, rsdp + 16);
	CHECK(table_ok(xsdt, "XSDT"));
	CHECK(table_ok(rsdt, "RSDT"));
	CHECK_EQ(rig_rd32(&mem, xsdt + 4), 36 + 3 * 8);
	CHECK_EQ(rig_rd32(&mem, rsdt + 4), 36 + 3 * 4);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(rig_rd32(&mem, rsdt + 36 + 4 * i), rig_rd64(&mem, xsdt + 36 + 8 * i));

	fadt = xsdt_find(xsdt, "FACP");
	CHECK(table_ok(fadt, "FACP"));
	CHECK_EQ(rig_rd32(&mem, fadt + 4), 276);
	CHECK_EQ(rd8(fadt + 8), 6);
	dsdt = rig_rd32(&mem, fadt + 40);
	CHECK_EQ(rig_rd64(&mem, fadt + 140), dsdt);
	CHECK(table_ok(dsdt, "DSDT"));
	facs = rig_rd32(&mem, fadt + 36);
	CHECK_EQ(facs & 63, 0);
	CHECK(!memcmp(guest_mem_ptr(&mem, facs, 4), "FACS", 4));
	CHECK_EQ(rig_rd32(&mem, facs + 4), 64);
	CHECK_EQ(rd8(fadt + 46), 9);                    /* SCI_INT */
	CHECK_EQ(rig_rd32(&mem, fadt + 48), 0);                   /* no SMI_CMD */
	CHECK_EQ(rig_rd32(&mem, fadt + 56), 0x600);
	CHECK_EQ(rig_rd32(&mem, fadt + 64), 0x604);
	CHECK_EQ(rig_rd32(&mem, fadt + 76), 0x608);
	CHECK_EQ(rd8(fadt + 88), 4);
	CHECK_EQ(rd8(fadt + 89), 2);
	CHECK_EQ(rd8(fadt + 91), 4);
	CHECK(rig_rd32(&mem, fadt + 112) & (1u << 10));           /* RESET_REG_SUP */
	CHECK(!(rig_rd32(&mem, fadt + 112) & (1u << 20)));        /* not HW-reduced */
	CHECK_EQ(rd8(fadt + 116), 1);                   /* reset reg in I/O space */
	CHECK_EQ(rig_rd64(&mem, fadt + 120), 0xcf9);
	CHECK_EQ(rd8(fadt + 128), 6);
	CHECK_EQ(rig_rd64(&mem, fadt + 172 + 4), 0x604);          /* X_PM1a_CNT_BLK */

	CHECK_EQ(walk_dsdt(dsdt, &d), 0);
	CHECK_EQ(d.npci, 1);
	CHECK_EQ(d.pci_windows, 4);            /* bus 0, two I/O ranges, 32-bit memory */
	CHECK_EQ(d.pci_mem_min, PCI_MMIO_START);
	CHECK_EQ(d.pci_mem_max, PCI_MMIO_END - 1);
	CHECK_EQ(d.prt_entries, 31 * 4);
	CHECK_EQ(d.prt_bad, 0);
	mcfg = xsdt_find(xsdt, "MCFG");
	CHECK(table_ok(mcfg, "MCFG"));
	CHECK_EQ(rig_rd64(&mem, mcfg + 44), PCI_ECAM_BASE);
	CHECK_EQ(rd8(mcfg + 55), 0);           /* last bus */
	CHECK_EQ(d.ncpus, ncpus);
	CHECK_EQ(d.npevt, 1);
	CHECK_EQ(d.io_min, 0x505);
	CHECK_EQ(d.io_max, 0x505);
	CHECK_EQ(d.io_align, 1);
	CHECK_EQ(d.io_len, 1);
	CHECK_EQ(d.sta, 0x0f);

	madt = xsdt_find(xsdt, "APIC");
	CHECK(table_ok(madt, "APIC"));
	CHECK_EQ(rig_rd32(&mem, madt + 36), 0xfee00000);
	CHECK_EQ(rig_rd32(&mem, madt + 40) & 1, 1);
	check_madt(madt, ncpus, &nlapic, &nioapic, &niso);
	CHECK_EQ(nlapic, ncpus);
	CHECK_EQ(nioapic, 1);
	CHECK_EQ(niso, 2);
	guest_mem_destroy(&mem);
}

static void acpi_1cpu(void)
{
	check_tables(1);
}

static void acpi_4cpus(void)
{
	check_tables(4);
}

static void acpi_64cpus(void)
{
	check_tables(64);
}

static void acpi_bad_ncpus(void)
{
	CHECK(guest_mem_init(&mem, 16ULL << 20) == 0);
	CHECK_EQ(acpi_build(&mem, 0, 0), -1);
	CHECK_EQ(acpi_build(&mem, 255, 0), -1);
	CHECK(acpi_build(&mem, 254, 0) == 0);
	CHECK(find_rsdp());
	guest_mem_destroy(&mem);
}

/* PkgLength boundaries: 63 bytes fit in one byte, 64 need two. */
static void aml_pkglen_sizes(void)
{
	static const size_t sizes[] = { 0, 61, 62, 63, 4000, 4094, 4095, 70000 };
	static uint8_t buf[80000];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct aml a;
		const uint8_t *p;
		size_t mark;
		uint32_t v;

		aml_init(&a, buf, sizeof(buf));
		mark = aml_package_begin(&a, 0);
		for (size_t j = 1; j < sizes[i]; j++)
			aml_byte(&a, 0x5a);
		aml_end(&a, mark);
		CHECK(!a.overflow);
		CHECK_EQ(buf[0], 0x12);
		p = buf + 1;
		v = pkglen(&p);
		CHECK_EQ(v, a.len - 1);
		CHECK_EQ(*p, 0);                       /* NumElements */
	}
}

static void aml_overflow(void)
{
	uint8_t buf[9];
	struct aml a;

	aml_init(&a, buf, 8);
	aml_name(&a, "\\_SB_.PCI0");
	CHECK(a.overflow);
	aml_init(&a, buf, 8);
	aml_integer(&a, 0x123456789ULL);
	CHECK(a.overflow);
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0x123456789ULL);
	CHECK(!a.overflow);
	CHECK_EQ(a.len, 9);
	CHECK_EQ(buf[0], 0x0e);
}

int main(void)
{
	RUN(acpi_1cpu);
	RUN(acpi_4cpus);
	RUN(acpi_64cpus);
	RUN(acpi_bad_ncpus);
	RUN(aml_pkglen_sizes);
	RUN(aml_overflow);
	return TEST_EXIT();
}
