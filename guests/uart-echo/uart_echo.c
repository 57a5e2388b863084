/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interrupt-driven COM1 echo: IRQ4 arrives through the 8259 PIC (default)
 * or, with "ioapic" on the command line, through the IOAPIC and the LAPIC.
 * The CPU sleeps in hlt between interrupts; each received byte is echoed
 * upper-cased, and 'q' ends the run.
 */
#include "acpi.h"
#include "guest.h"
#include "idt.h"
#include "lapic.h"
#include "multiboot.h"
#include "pic.h"

#define NAME "uart-echo"
#define IOAPIC_VECTOR   0x34
#define UART_IRQ        4
#define IOAPIC_DEFAULT  0xfec00000u

#define UART_RBR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR   0x01
#define MCR_DTR_RTS_OUT2 0x0b

static volatile int done;
static uint32_t bytes, irqs;
static int use_ioapic;

static void ioapic_write(uint32_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base, reg);
	mmio_write32(base + 0x10, v);
}

static void ioapic_route(uint32_t base, uint32_t gsi, uint8_t vector, uint32_t apic_id)
{
	ioapic_write(base, 0x10 + 2 * gsi + 1, apic_id << 24);
	ioapic_write(base, 0x10 + 2 * gsi, vector);  /* fixed, physical, edge, high, unmasked */
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static void echo_pending(void)
{
	while (inb(COM1 + UART_LSR) & LSR_DR) {
		char c = (char)inb(COM1 + UART_RBR);

		if (c == 'q')
			done = 1;
		else
			serial_putc(upper(c));
		bytes++;
	}
}

static void uart_irq(struct idt_frame *f)
{
	(void)f;
	irqs++;
	echo_pending();
	if (use_ioapic)
		lapic_eoi();
	else
		outb(0x20, 0x20);
}

static void ignore_irq(struct idt_frame *f)
{
	(void)f;
}

static void setup_ioapic(void)
{
	const struct acpi_sdt *madt = acpi_find_table("APIC");
	uint32_t base = madt ? acpi_madt_ioapic(madt) : 0;

	if (!base)
		base = IOAPIC_DEFAULT;
	pic_init(0xff, 0xff);
	lapic_enable();
	ioapic_route(base, UART_IRQ, IOAPIC_VECTOR, lapic_id());
	idt_set_handler(IOAPIC_VECTOR, uart_irq);
	gprintf(NAME ": IRQ4 via IOAPIC %#x to vector %#x\n", base, IOAPIC_VECTOR);
}

static void setup_pic(void)
{
	pic_init((uint8_t)~(1u << UART_IRQ), 0xff);
	idt_set_handler(PIC_VECTOR_BASE + UART_IRQ, uart_irq);
	gprintf(NAME ": IRQ4 via 8259 PIC to vector %#x\n", PIC_VECTOR_BASE + UART_IRQ);
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const char *cmdline = mb_cmdline(magic, mbi_addr);

	use_ioapic = cmdline_has(cmdline, "ioapic");
	/* Spurious IRQ7/IRQ15 of the PIC must not look like a crash. */
	idt_set_handler(PIC_VECTOR_BASE + 7, ignore_irq);
	idt_set_handler(PIC_VECTOR_BASE + 15, ignore_irq);
	idt_set_handler(LAPIC_SPURIOUS_VECTOR, ignore_irq);
	if (use_ioapic)
		setup_ioapic();
	else
		setup_pic();
	inb(COM1 + UART_IIR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);    /* OUT2 gates the IRQ line on a PC */
	outb(COM1 + UART_IER, 0x01);                /* received data available */
	gprintf(NAME ": ready, type; q quits\n");
	echo_pending();         /* bytes that arrived before IER was set */
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		if (done)
			break;
		__asm__ volatile("sti; hlt" ::: "memory");  /* sti shadow: no lost wakeup */
	}
	outb(COM1 + UART_IER, 0);
	gprintf("\n" NAME ": bye after %u bytes in %u interrupts\n", bytes, irqs);
	return GUEST_PASS;
}
