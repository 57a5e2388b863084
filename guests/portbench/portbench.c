/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cost of a port exit, in guest TSC cycles per access: reads of a port
 * no device claims (the VMM answers it in user space) and of the PIC's
 * ELCR at 0x4d0 (answered inside KVM with an in-kernel irqchip).  The
 * difference is the VMM's own share.  "n=N" on the command line sets the
 * number of reads (default 100000).
 */
#include "guest.h"
#include "multiboot.h"

#define NAME "portbench"
#define PORT_USER   0x2f0   /* unclaimed in vmon and in QEMU's pc machine */
#define PORT_KERNEL 0x4d0   /* ELCR of the in-kernel 8259 */
#define DEFAULT_N   100000
#define WARMUP      16

static uint64_t cycles_per_read(uint16_t port, uint32_t n)
{
	uint64_t t0, t1;

	for (int i = 0; i < WARMUP; i++)
		inb(port);
	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		inb(port);
	t1 = rdtsc();
	return udiv64(t1 - t0, n, NULL);
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	uint64_t n = parse_num(cmdline_value(mb_cmdline(magic, mbi_addr), "n"), DEFAULT_N);

	if (n < 1 || n > 0xffffffffu)
		guest_fail(NAME, "n=%llu out of range", (unsigned long long)n);
	gprintf(NAME ": n=%u user port %#x kernel port %#x\n", (uint32_t)n, PORT_USER, PORT_KERNEL);
	gprintf("exit cycles: user=%llu\n", (unsigned long long)cycles_per_read(PORT_USER, (uint32_t)n));
	gprintf("exit cycles: kernel=%llu\n",
		(unsigned long long)cycles_per_read(PORT_KERNEL, (uint32_t)n));
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
