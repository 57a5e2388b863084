/* SPDX-License-Identifier: Apache-2.0 */
#include "guest.h"

void guest_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_exit(uint32_t value)
{
	outl(DEBUG_EXIT_PORT, value);
	/* Only reached without a debug-exit device: stop rather than run on. */
	serial_puts("guest: debug-exit port did not end the VM\n");
	guest_halt();
}

void guest_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	gprintf("%s: FAIL: ", name);
	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
	serial_putc('\n');
	guest_exit(GUEST_FAIL);
}
