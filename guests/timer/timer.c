/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PIT's tick reaches the CPU: IRQ0 through the 8259 PIC (default), or
 * through IOAPIC pin 2 as the MADT's override says ("ioapic").  Counts ticks
 * at 1 kHz for a while, and with "cr4=HEX" sets those CR4 bits and counts
 * again: the tick must survive a CR4 write, as Linux needs.  With "busy" the
 * CPU waits with interrupts on but never halts, as a guest kernel computing
 * does: the tick must still interrupt it.
 */
#include "acpi.h"
#include "guest.h"
#include "idt.h"
#include "lapic.h"
#include "multiboot.h"
#include "pic.h"

#define NAME "timer"
#define IOAPIC_VECTOR   0x30
#define IOAPIC_DEFAULT  0xfec00000u
#define PIT_HZ          1193182u
#define TICK_HZ         1000u
#define WANT_TICKS      50u

static volatile uint32_t ticks;
static int use_ioapic, busy;

static void ioapic_route_timer(void)
{
	const struct acpi_sdt *madt = acpi_find_table("APIC");
	uint32_t base = madt ? acpi_madt_ioapic(madt) : 0;

	if (!base)
		base = IOAPIC_DEFAULT;
	lapic_enable();
	/* The PIT is ISA IRQ0, which a PC wires to IOAPIC pin 2. */
	mmio_write32(base, 0x10 + 2 * 2 + 1);
	mmio_write32(base + 0x10, lapic_id() << 24);
	mmio_write32(base, 0x10 + 2 * 2);
	mmio_write32(base + 0x10, IOAPIC_VECTOR);
}

static void tick(struct idt_frame *f)
{
	(void)f;
	ticks++;
	if (use_ioapic)
		lapic_eoi();
	else
		outb(0x20, 0x20);
}

static void ignore_irq(struct idt_frame *f)
{
	(void)f;
}

/* Waits (halted) for WANT_TICKS ticks, giving up after a generous number
 * of wake-ups so that a dead timer ends the test instead of hanging it. */
static uint32_t count_ticks(void)
{
	uint32_t start = ticks;

	if (busy) {
		uint64_t end = rdtsc() + (20ULL << 30);   /* seconds at any clock rate */

		__asm__ volatile("sti" ::: "memory");
		while (ticks - start < WANT_TICKS && rdtsc() < end)
			__asm__ volatile("pause" ::: "memory");
		__asm__ volatile("cli" ::: "memory");
		return ticks - start;
	}
	for (uint32_t spins = 0; ticks - start < WANT_TICKS && spins < 5000000; spins++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	return ticks - start;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const char *cmdline = mb_cmdline(magic, mbi_addr);
	uint32_t cr4_bits, cr4, n;
	uint16_t div = (uint16_t)(PIT_HZ / TICK_HZ);

	use_ioapic = cmdline_has(cmdline, "ioapic");
	busy = cmdline_has(cmdline, "busy");
	cr4_bits = (uint32_t)parse_num(cmdline_value(cmdline, "cr4"), 0);
	idt_set_handler(PIC_VECTOR_BASE + 7, ignore_irq);
	idt_set_handler(LAPIC_SPURIOUS_VECTOR, ignore_irq);
	if (use_ioapic) {
		pic_init(0xff, 0xff);
		ioapic_route_timer();
		idt_set_handler(IOAPIC_VECTOR, tick);
	} else {
		pic_init(0xfe, 0xff);
		idt_set_handler(PIC_VECTOR_BASE, tick);
	}
	outb(0x43, 0x34);               /* channel 0, lobyte/hibyte, mode 2 */
	outb(0x40, (uint8_t)div);
	outb(0x40, (uint8_t)(div >> 8));
	n = count_ticks();
	gprintf(NAME ": %u ticks via %s%s\n", n, use_ioapic ? "ioapic" : "pic",
		busy ? ", busy" : "");
	if (n < WANT_TICKS)
		guest_fail(NAME, "the timer does not tick\n");
	if (cr4_bits) {
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		cr4 |= cr4_bits;
		__asm__ volatile("mov %0, %%cr4" :: "r"(cr4) : "memory");
		n = count_ticks();
		gprintf(NAME ": %u ticks after cr4 |= %#x\n", n, cr4_bits);
		if (n < WANT_TICKS)
			guest_fail(NAME, "the timer stopped after the CR4 write\n");
	}
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
