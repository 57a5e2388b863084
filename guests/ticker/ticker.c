/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest that keeps running until told to stop, for the QMP tests: it
 * prints "ticker: tick N" every few PIT ticks (halted in between), so a
 * host that pauses the VM sees the output stop growing, and it watches the
 * ACPI power button: a press (QMP system_powerdown) prints "ticker: power
 * button" and powers off, the way an OS answers it.  The button is polled
 * in PM1a_STS rather than taken as an SCI, which would need the DSDT's
 * interrupt routing and teaches the test nothing more; PWRBTN_EN is still
 * set, because QEMU only records a press that is enabled.  "seconds=N" on the
 * command line (default 120) bounds the run so a forgotten VM ends itself
 * with GUEST_FAIL; "every=N" sets the ticks between lines (default 5).
 */
#include "acpi.h"
#include "guest.h"
#include "idt.h"
#include "multiboot.h"
#include "pic.h"

#define NAME "ticker"
#define PIT_HZ          1193182u
#define TICK_HZ         100u
#define FADT_PM1A_EVT   56
#define PM1_PWRBTN      (1u << 8)   /* in PM1_STS and in PM1_EN (port + 2) */

static volatile uint32_t ticks;

static void tick(struct idt_frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20);
}

static void ignore_irq(struct idt_frame *f)
{
	(void)f;
}

/* The PM1a event block's port (status register first), or 0. */
static uint16_t pm1a_evt_port(void)
{
	const struct acpi_sdt *fadt = acpi_find_table("FACP");
	uint32_t port;

	if (!fadt || fadt->length < FADT_PM1A_EVT + 4)
		return 0;
	memcpy(&port, (const uint8_t *)fadt + FADT_PM1A_EVT, 4);
	return port <= 0xffff ? (uint16_t)port : 0;
}

static void power_off(uint16_t evt)
{
	gprintf(NAME ": power button\n");
	outw(evt, PM1_PWRBTN);      /* write-1-to-clear */
	acpi_poweroff();
	guest_fail(NAME, "still running after the S5 request");
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const char *cmdline = mb_cmdline(magic, mbi_addr);
	uint16_t div = (uint16_t)(PIT_HZ / TICK_HZ), evt;
	uint32_t limit, every, next, n = 0;

	limit = (uint32_t)parse_num(cmdline_value(cmdline, "seconds"), 120) * TICK_HZ;
	every = (uint32_t)parse_num(cmdline_value(cmdline, "every"), 5);
	if (!every)
		every = 1;
	evt = pm1a_evt_port();
	if (!evt)
		guest_fail(NAME, "the FADT has no PM1a event block");
	outw(evt + 2, PM1_PWRBTN);
	idt_set_handler(PIC_VECTOR_BASE + 7, ignore_irq);
	idt_set_handler(PIC_VECTOR_BASE, tick);
	pic_init(0xfe, 0xff);
	outb(0x43, 0x34);               /* channel 0, lobyte/hibyte, mode 2 */
	outb(0x40, (uint8_t)div);
	outb(0x40, (uint8_t)(div >> 8));
	gprintf(NAME ": running, pm1a_evt %#x\n", evt);
	for (next = every; ticks < limit;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (inw(evt) & PM1_PWRBTN)
			power_off(evt);
		if (ticks >= next) {
			gprintf(NAME ": tick %u\n", ++n);
			next = ticks + every;
		}
	}
	guest_fail(NAME, "nobody stopped me within the time limit");
}
