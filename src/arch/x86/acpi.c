/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/acpi.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/aml.h"
#include "pci/pci.h"
#include "virtio/virtio_mmio.h"
#include "hw/pvpanic.h"
#include "util/log.h"

/*
 * Tables are laid out bottom-up in the BIOS area: RSDP first (so a scan of
 * 0xe0000 finds it at once), then each table after the ones it points to.
 */
#define ACPI_HDR_LEN   36
#define ACPI_RSDP_LEN  36
#define ACPI_FADT_LEN  276     /* FADT revision 6 */
#define ACPI_FACS_LEN  64
#define ACPI_DSDT_MAX  16384
#define ACPI_MAX_CPUS  254     /* APIC IDs are a byte; the IOAPIC takes the next */

/* GAS (Generic Address Structure) address space IDs. */
#define ACPI_GAS_IO 1

/* FADT flags. */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_SLP_BUTTON    (1u << 5)   /* no fixed-feature sleep button */
#define FADT_FIX_RTC       (1u << 6)   /* no RTC wake status in PM1 */
#define FADT_RESET_REG_SUP (1u << 10)

/* FADT IA-PC boot architecture flags. */
#define FADT_LEGACY_DEVICES (1u << 0)
#define FADT_8042           (1u << 1)
#define FADT_VGA_NOT_PRESENT (1u << 2)

/* MADT entry types and flags. */
#define MADT_LAPIC       0
#define MADT_IOAPIC      1
#define MADT_ISO         2
#define MADT_LAPIC_NMI   4
#define MADT_PCAT_COMPAT 1u
#define MADT_ENABLED     1u
#define MPS_POLARITY_HIGH 0x1
#define MPS_TRIGGER_EDGE  0x4
#define MPS_TRIGGER_LEVEL 0xc

struct acpi_area {
	struct guest_mem *mem;
	uint64_t next;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* Zeroed room for len bytes, or 0 when the BIOS area is full. */
static uint64_t acpi_alloc(struct acpi_area *ar, uint64_t len, uint64_t align,
			   uint8_t **p)
{
	uint64_t addr = (ar->next + align - 1) & ~(align - 1);

	if (addr > ACPI_TABLES_END || len > ACPI_TABLES_END - addr)
		return 0;
	*p = guest_mem_ptr(ar->mem, addr, len);
	if (!*p)
		return 0;
	memset(*p, 0, len);
	ar->next = addr + len;
	return addr;
}

/* Allocates a table and fills in its header; the checksum comes last. */
static uint64_t acpi_table(struct acpi_area *ar, const char *sig, uint32_t len,
			   uint8_t rev, uint8_t **p)
{
	uint64_t addr = acpi_alloc(ar, len, 16, p);
	uint8_t *t = *p;

	if (!addr)
		return 0;
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "VMON  ", 6);
	memcpy(t + 16, "VMON", 4);
	memcpy(t + 20, sig, 4);        /* OEM table ID: "VMON" + signature */
	put32(t + 24, 1);              /* OEM revision */
	memcpy(t + 28, "VMON", 4);     /* creator ID */
	put32(t + 32, 1);              /* creator revision */
	return addr;
}

static void acpi_table_done(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 |
		       (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;

	t[9] = 0;
	t[9] = (uint8_t)-acpi_sum(t, len);
}

/*
 * The pvpanic device as QEMU describes it: Linux's pvpanic-mmio driver binds
 * _HID QEMU0001 and takes the port from _CRS.
 */
static void acpi_dsdt_pvpanic(struct aml *a)
{
	uint8_t buf[16];
	struct aml res;
	size_t dev, method;

	dev = aml_device_begin(a, "PEVT");
	aml_name_decl(a, "_HID");
	aml_string(a, "QEMU0001");
	aml_init(&res, buf, sizeof(buf));
	aml_res_io(&res, PVPANIC_PORT, PVPANIC_PORT, 1, 1);
	aml_name_decl(a, "_CRS");
	aml_resource_template(a, &res);
	method = aml_method_begin(a, "_STA", 0);
	aml_return(a);
	aml_integer(a, 0x0f);           /* present, enabled, shown, working */
	aml_end(a, method);
	aml_end(a, dev);
}

/*
 * The PCI host bridge: bus 0, the I/O ports around the config ports, and the
 * 32-bit memory window; _PRT says which IOAPIC pin each slot's INTx reaches
 * (GSI 16-23: level, active low, as _PRT's GSI form implies).
 */
static void acpi_dsdt_pci(struct aml *a)
{
	uint8_t buf[96];
	struct aml res;
	size_t dev, prt, pkg;

	dev = aml_device_begin(a, "PCI0");
	aml_name_decl(a, "_HID");
	aml_string(a, "PNP0A08");
	aml_name_decl(a, "_CID");
	aml_string(a, "PNP0A03");
	aml_name_decl(a, "_SEG");
	aml_integer(a, 0);
	aml_name_decl(a, "_BBN");
	aml_integer(a, 0);
	aml_name_decl(a, "_UID");
	aml_integer(a, 0);
	aml_init(&res, buf, sizeof(buf));
	aml_res_word(&res, AML_ADDR_BUS, 0, 0, 0);
	aml_res_word(&res, AML_ADDR_IO, AML_IO_ENTIRE_RANGE, 0x0000, 0x0cf7);
	aml_res_word(&res, AML_ADDR_IO, AML_IO_ENTIRE_RANGE, 0x0d00, 0xffff);
	aml_res_dword(&res, AML_ADDR_MEM, AML_MEM_RW, (uint32_t)PCI_MMIO_START,
		      (uint32_t)(PCI_MMIO_END - 1));
	aml_name_decl(a, "_CRS");
	aml_resource_template(a, &res);
	aml_name_decl(a, "_PRT");
	prt = aml_package_begin(a, (PCI_SLOTS - 1) * 4);
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			pkg = aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, PCI_INTX_GSI(slot, pin));
			aml_end(a, pkg);
		}
	}
	aml_end(a, prt);
	aml_end(a, dev);
}

/* virtio-mmio devices as Linux's virtio_mmio driver finds them in ACPI. */
static void acpi_dsdt_virtio_mmio(struct aml *a, int n)
{
	uint8_t buf[32];
	struct aml res;
	char name[8];
	size_t dev;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "VR%02X", (unsigned)i & 0xff);
		dev = aml_device_begin(a, name);
		aml_name_decl(a, "_HID");
		aml_string(a, "LNRO0005");
		aml_name_decl(a, "_UID");
		aml_integer(a, (uint64_t)i);
		aml_init(&res, buf, sizeof(buf));
		aml_res_mem32_fixed(&res, (uint32_t)(VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_SIZE),
				    (uint32_t)VIRTIO_MMIO_SIZE);
		aml_res_irq_level_shared(&res, VIRTIO_MMIO_GSI(i));
		aml_name_decl(a, "_CRS");
		aml_resource_template(a, &res);
		aml_end(a, dev);
	}
}

static void acpi_dsdt_body(struct aml *a, int ncpus, int nvirtio_mmio)
{
	size_t pkg, scope, dev;
	char name[8];

	/* \_S5: PM1a and PM1b SLP_TYP values for soft-off, then two reserved. */
	aml_name_decl(a, "\\_S5");
	pkg = aml_package_begin(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a, pkg);

	/* Processor devices whose _UID matches the MADT's processor UID, so the
	 * OS can tie the two together. */
	scope = aml_scope_begin(a, "\\_SB");
	for (int i = 0; i < ncpus; i++) {
		snprintf(name, sizeof(name), "CP%02X", (unsigned)i & 0xff);
		dev = aml_device_begin(a, name);
		aml_name_decl(a, "_HID");
		aml_string(a, "ACPI0007");
		aml_name_decl(a, "_UID");
		aml_integer(a, (uint64_t)i);
		aml_end(a, dev);
	}
	acpi_dsdt_pvpanic(a);
	acpi_dsdt_pci(a);
	acpi_dsdt_virtio_mmio(a, nvirtio_mmio);
	aml_end(a, scope);
}

static uint64_t acpi_dsdt(struct acpi_area *ar, int ncpus, int nvirtio_mmio)
{
	uint8_t buf[ACPI_DSDT_MAX], *t;
	struct aml a;
	uint64_t addr;

	aml_init(&a, buf, sizeof(buf));
	acpi_dsdt_body(&a, ncpus, nvirtio_mmio);
	if (a.overflow)
		return 0;
	/* Revision 2: integers are 64 bits wide. */
	addr = acpi_table(ar, "DSDT", (uint32_t)(ACPI_HDR_LEN + a.len), 2, &t);
	if (!addr)
		return 0;
	memcpy(t + ACPI_HDR_LEN, buf, a.len);
	acpi_table_done(t);
	return addr;
}

static uint64_t acpi_facs(struct acpi_area *ar)
{
	uint8_t *t;
	uint64_t addr = acpi_alloc(ar, ACPI_FACS_LEN, 64, &t);

	if (!addr)
		return 0;
	memcpy(t, "FACS", 4);
	put32(t + 4, ACPI_FACS_LEN);
	t[32] = 2;                     /* version */
	return addr;
}

static void acpi_gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access,
		     uint64_t addr)
{
	p[0] = space;
	p[1] = bits;
	p[2] = 0;                      /* bit offset */
	p[3] = access;
	put64(p + 4, addr);
}

static uint64_t acpi_fadt(struct acpi_area *ar, uint64_t dsdt, uint64_t facs)
{
	uint8_t *t;
	uint64_t addr = acpi_table(ar, "FACP", ACPI_FADT_LEN, 6, &t);

	if (!addr)
		return 0;
	put32(t + 36, (uint32_t)facs);           /* FIRMWARE_CTRL */
	put32(t + 40, (uint32_t)dsdt);
	put16(t + 46, ACPI_SCI_IRQ);
	/* SMI_CMD, ACPI_ENABLE, ACPI_DISABLE stay 0: always in ACPI mode. */
	put32(t + 56, ACPI_PM1_EVT_BLK);
	put32(t + 64, ACPI_PM1_CNT_BLK);
	put32(t + 76, ACPI_PM_TMR_BLK);
	t[88] = ACPI_PM1_EVT_LEN;
	t[89] = ACPI_PM1_CNT_LEN;
	t[91] = ACPI_PM_TMR_LEN;
	put16(t + 96, 101);                      /* P_LVL2_LAT: C2 unsupported */
	put16(t + 98, 1001);                     /* P_LVL3_LAT: C3 unsupported */
	put16(t + 109, FADT_LEGACY_DEVICES | FADT_8042 | FADT_VGA_NOT_PRESENT);
	put32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
		       FADT_FIX_RTC | FADT_RESET_REG_SUP);
	acpi_gas(t + 116, ACPI_GAS_IO, 8, 1, ACPI_RESET_PORT);
	t[128] = ACPI_RESET_VALUE;
	/* X_FIRMWARE_CTRL stays 0: the spec wants only one FACS pointer. */
	put64(t + 140, dsdt);                    /* X_DSDT */
	acpi_gas(t + 148, ACPI_GAS_IO, ACPI_PM1_EVT_LEN * 8, 0, ACPI_PM1_EVT_BLK);
	acpi_gas(t + 172, ACPI_GAS_IO, ACPI_PM1_CNT_LEN * 8, 0, ACPI_PM1_CNT_BLK);
	acpi_gas(t + 208, ACPI_GAS_IO, ACPI_PM_TMR_LEN * 8, 0, ACPI_PM_TMR_BLK);
	memcpy(t + 268, "VMON    ", 8);         /* hypervisor vendor identity */
	acpi_table_done(t);
	return addr;
}

static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;                      /* bus: ISA */
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
	return e + 10;
}

static uint64_t acpi_madt(struct acpi_area *ar, int ncpus)
{
	uint32_t len = 44 + 8 * (uint32_t)ncpus + 12 + 2 * 10 + 6;
	uint8_t *t, *e;
	uint64_t addr = acpi_table(ar, "APIC", len, 5, &t);

	if (!addr)
		return 0;
	put32(t + 36, ACPI_LAPIC_ADDR);
	put32(t + 40, MADT_PCAT_COMPAT);
	e = t + 44;
	for (int i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i;     /* ACPI processor UID */
		e[3] = (uint8_t)i;     /* APIC ID */
		put32(e + 4, MADT_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = (uint8_t)ncpus;         /* an ID no CPU uses */
	put32(e + 4, ACPI_IOAPIC_ADDR);
	put32(e + 8, 0);               /* GSI base */
	e += 12;
	/* The PIT's IRQ0 is wired to IOAPIC pin 2 on a PC. */
	e = madt_iso(e, 0, 2, MPS_POLARITY_HIGH | MPS_TRIGGER_EDGE);
	e = madt_iso(e, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL);
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;                   /* all processors */
	put16(e + 3, 0);               /* flags: conforms to the bus */
	e[5] = 1;                      /* LINT1 */
	acpi_table_done(t);
	return addr;
}

/* PCI Express memory-mapped configuration space: one segment, bus 0. */
static uint64_t acpi_mcfg(struct acpi_area *ar)
{
	uint8_t *t;
	uint64_t addr = acpi_table(ar, "MCFG", ACPI_HDR_LEN + 8 + 16, 1, &t);

	if (!addr)
		return 0;
	put64(t + ACPI_HDR_LEN + 8, PCI_ECAM_BASE);
	put16(t + ACPI_HDR_LEN + 16, 0);   /* segment */
	t[ACPI_HDR_LEN + 18] = 0;          /* first bus */
	t[ACPI_HDR_LEN + 19] = 0;          /* last bus */
	acpi_table_done(t);
	return addr;
}

/* RSDT (4-byte entries) or XSDT (8-byte entries) listing tables[]. */
static uint64_t acpi_sdt(struct acpi_area *ar, const char *sig, int width,
			 const uint64_t *tables, int n)
{
	uint8_t *t;
	uint64_t addr = acpi_table(ar, sig, (uint32_t)(ACPI_HDR_LEN + width * n), 1, &t);

	if (!addr)
		return 0;
	for (int i = 0; i < n; i++) {
		if (width == 4)
			put32(t + ACPI_HDR_LEN + 4 * i, (uint32_t)tables[i]);
		else
			put64(t + ACPI_HDR_LEN + 8 * i, tables[i]);
	}
	acpi_table_done(t);
	return addr;
}

static void acpi_rsdp(uint8_t *p, uint64_t rsdt, uint64_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "VMON  ", 6);
	p[15] = 2;                     /* ACPI 2.0+: XSDT present */
	put32(p + 16, (uint32_t)rsdt);
	put32(p + 20, ACPI_RSDP_LEN);
	put64(p + 24, xsdt);
	p[8] = (uint8_t)-acpi_sum(p, 20);
	p[32] = (uint8_t)-acpi_sum(p, ACPI_RSDP_LEN);
}

int acpi_build(struct guest_mem *mem, int ncpus, int nvirtio_mmio)
{
	struct acpi_area ar = { .mem = mem, .next = ACPI_TABLES_START };
	uint64_t rsdp, dsdt, facs, tables[3], rsdt, xsdt;
	uint8_t *rp;

	if (ncpus < 1 || ncpus > ACPI_MAX_CPUS) {
		log_err("ACPI: %d CPUs cannot be described (1 to %d)", ncpus, ACPI_MAX_CPUS);
		return -1;
	}
	rsdp = acpi_alloc(&ar, ACPI_RSDP_LEN, 16, &rp);
	if (!rsdp)
		goto full;
	dsdt = acpi_dsdt(&ar, ncpus, nvirtio_mmio);
	facs = dsdt ? acpi_facs(&ar) : 0;
	tables[0] = facs ? acpi_fadt(&ar, dsdt, facs) : 0;
	tables[1] = tables[0] ? acpi_madt(&ar, ncpus) : 0;
	tables[2] = tables[1] ? acpi_mcfg(&ar) : 0;
	rsdt = tables[2] ? acpi_sdt(&ar, "RSDT", 4, tables, 3) : 0;
	xsdt = rsdt ? acpi_sdt(&ar, "XSDT", 8, tables, 3) : 0;
	if (!xsdt)
		goto full;
	/* Pointers can only be filled in once everything else is placed. */
	rp = guest_mem_ptr(mem, rsdp, ACPI_RSDP_LEN);
	acpi_rsdp(rp, rsdt, xsdt);
	return 0;
full:
	log_err("ACPI: tables for %d CPUs do not fit in [%#llx, %#llx)", ncpus,
		(unsigned long long)ACPI_TABLES_START, (unsigned long long)ACPI_TABLES_END);
	return -1;
}
