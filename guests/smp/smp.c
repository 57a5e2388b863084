/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multiprocessor start-up the way an OS does it: the CPU count from fw_cfg
 * and from the ACPI MADT (they must agree), then INIT-SIPI-SIPI to all APs.
 * Each AP prints its CPU number and APIC ID under a spinlock; the BSP waits
 * for all of them and reports.  With "nmi" on the command line and two CPUs
 * or more, the first AP up then sends the BSP NMIs (nmi.c).
 */
#include "acpi.h"
#include "fw_cfg.h"
#include "guest.h"
#include "idt.h"
#include "lapic.h"
#include "multiboot.h"
#include "smp.h"

#define SMP_TRAMP_BASE 0x8000u
#define MAX_CPUS 64
#define INIT_DELAY   10000000ull         /* cycles: ~10 ms on a 1 GHz TSC */
#define SIPI_DELAY   1000000ull
#define WAIT_CYCLES  20000000000ull      /* give up on missing APs after this */

extern const char smp_tramp_start[], smp_tramp_end[];

static uint32_t apic_ids[MAX_CPUS];
static int ncpus;
static volatile uint32_t print_lock;
static volatile uint32_t online;        /* APs that reported */
static volatile uint32_t ap_errors;
static volatile uint8_t seen[MAX_CPUS];
static uint32_t bsp_apic;
static int nmi_test;                    /* "nmi" on the command line */

static void lock(void)
{
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) {
		while (print_lock)
			cpu_relax();
	}
}

static void unlock(void)
{
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static void delay_cycles(uint64_t n)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < n)
		cpu_relax();
}

static int cpu_index(uint32_t apic_id)
{
	for (int i = 0; i < ncpus && i < MAX_CPUS; i++) {
		if (apic_ids[i] == apic_id)
			return i;
	}
	return -1;
}

/* Called on each AP's own stack by ap_entry32 (trampoline.S). */
void ap_main(uint32_t slot);
void ap_main(uint32_t slot)
{
	uint32_t id;
	int cpu;

	idt_load();
	id = lapic_id();
	cpu = cpu_index(id);
	lock();
	if (cpu < 0 || cpu >= MAX_CPUS || seen[cpu]) {
		gprintf(NAME ": AP slot %u: apic id %u %s\n", slot, id,
			cpu < 0 ? "not in the MADT" : "started twice");
		__atomic_fetch_add(&ap_errors, 1, __ATOMIC_SEQ_CST);
	} else {
		seen[cpu] = 1;
		gprintf("cpu %d: apic id %u\n", cpu, id);
	}
	unlock();
	__atomic_fetch_add(&online, 1, __ATOMIC_SEQ_CST);
	if (nmi_test && slot == 0)
		nmi_shadow_sender(bsp_apic);
}

static int count_cpus(void)
{
	const struct acpi_sdt *madt = acpi_find_table("APIC");
	uint16_t fw_cpus = 0;

	if (!madt)
		guest_fail(NAME, "no MADT");
	ncpus = acpi_madt_cpus(madt, apic_ids, MAX_CPUS);
	if (fw_cfg_present())
		fw_cfg_read(FW_CFG_NB_CPUS, &fw_cpus, 2);
	gprintf(NAME ": fw_cfg says %u cpus, the MADT lists %d\n", fw_cpus, ncpus);
	if (ncpus < 1 || ncpus > MAX_CPUS)
		guest_fail(NAME, "MADT CPU count %d out of range", ncpus);
	if (fw_cpus != ncpus)
		guest_fail(NAME, "fw_cfg and MADT disagree");
	return ncpus;
}

static void start_aps(int n)
{
	uint64_t t0;

	memcpy(phys_ptr(SMP_TRAMP_BASE), smp_tramp_start,
	       (size_t)(smp_tramp_end - smp_tramp_start));
	lapic_enable();
	if (lapic_send_ipi(0, ICR_INIT | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF))
		guest_fail(NAME, "INIT IPI stuck pending");
	delay_cycles(INIT_DELAY);
	for (int i = 0; i < 2 && online < (uint32_t)(n - 1); i++) {
		if (lapic_send_ipi(0, ICR_STARTUP | ICR_ALL_BUT_SELF | (SMP_TRAMP_BASE >> 12)))
			guest_fail(NAME, "SIPI stuck pending");
		delay_cycles(SIPI_DELAY);
	}
	t0 = rdtsc();
	while (online < (uint32_t)(n - 1) && rdtsc() - t0 < WAIT_CYCLES)
		cpu_relax();
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	int n = count_cpus(), bsp;

	nmi_test = cmdline_has(mb_cmdline(magic, mbi_addr), "nmi");
	bsp_apic = lapic_id();
	bsp = cpu_index(bsp_apic);
	if (bsp < 0)
		guest_fail(NAME, "BSP apic id %u not in the MADT", lapic_id());
	seen[bsp] = 1;
	gprintf("cpu %d: apic id %u (bsp)\n", bsp, lapic_id());
	if (n > 1)
		start_aps(n);
	lock();
	if (online != (uint32_t)(n - 1) || ap_errors)
		guest_fail(NAME, "%u of %d APs came up, %u errors", online, n - 1, ap_errors);
	gprintf(NAME ": %d cpus online\n", n);
	unlock();
	if (nmi_test && n > 1)
		nmi_shadow_test();
	return GUEST_PASS;
}
