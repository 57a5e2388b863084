/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multiboot v1 in 32-bit protected mode: checks the entry state and the
 * boot information (memory, command line, modules, memory map), prints
 * them, and passes only if everything is consistent.
 */
#include "guest.h"
#include "multiboot.h"

#define NAME "protmode"
#define MAX_STR 1024

extern char __image_start[], __bss_end[];

static uint32_t read_cr0(void)
{
	uint32_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

/* Prints up to MAX_STR characters of a loader string, unprintables as '.'. */
static void print_str(uint32_t addr)
{
	const char *s = phys_ptr(addr);

	for (int i = 0; i < MAX_STR && s[i]; i++)
		serial_putc(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '.');
}

static int overlaps(uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	return a0 < b1 && b0 < a1;
}

static int check_module(int i, const struct mb_module *m)
{
	const uint8_t *p = phys_ptr(m->mod_start);
	uint32_t len = m->mod_end - m->mod_start;
	uint32_t img0 = (uint32_t)(uintptr_t)__image_start, img1 = (uint32_t)(uintptr_t)__bss_end;

	gprintf(NAME ": module %d [%#x-%#x) size %u string '", i, m->mod_start, m->mod_end, len);
	if (m->string)
		print_str(m->string);
	gprintf("' begins \"");
	for (uint32_t j = 0; j < len && j < 16; j++)
		serial_putc(p[j] >= 0x20 && p[j] < 0x7f ? (char)p[j] : '.');
	gprintf("\"\n");
	if (m->mod_end < m->mod_start)
		guest_fail(NAME, "module %d ends before it starts", i);
	if (m->mod_start & 0xfff)
		guest_fail(NAME, "module %d not page aligned (header flag 0 asks for it)", i);
	if (overlaps(m->mod_start, m->mod_end, img0, img1))
		guest_fail(NAME, "module %d overlaps the kernel image", i);
	return 0;
}

/* Walks the memory map; returns the RAM bytes found and checks 1 MiB is RAM. */
static uint64_t check_mmap(const struct mb_info *mbi)
{
	uint32_t addr = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
	uint64_t ram = 0;
	int kernel_in_ram = 0;

	if (mbi->mmap_length > 4096)
		guest_fail(NAME, "memory map length %u implausible", mbi->mmap_length);
	while (addr + sizeof(struct mb_mmap_entry) <= end) {
		const struct mb_mmap_entry *e = phys_ptr(addr);

		gprintf(NAME ": mmap base=%#llx len=%#llx type=%u\n",
			(unsigned long long)e->base, (unsigned long long)e->len, e->type);
		if (e->type == 1) {
			ram += e->len;
			if (e->base <= 0x100000 && e->base + e->len >= (uintptr_t)__bss_end)
				kernel_in_ram = 1;
		}
		if (e->size < 20)
			guest_fail(NAME, "memory map entry size %u < 20", e->size);
		addr += e->size + 4;
	}
	if (!kernel_in_ram)
		guest_fail(NAME, "memory map has no RAM where the kernel was loaded");
	return ram;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const struct mb_info *mbi = phys_ptr(mbi_addr);
	uint32_t cr0 = read_cr0();

	gprintf(NAME ": magic %#x mbi %#x cr0 %#x\n", magic, mbi_addr, cr0);
	if (magic != MB_BOOT_MAGIC)
		guest_fail(NAME, "EAX is %#x, not 0x2badb002", magic);
	if (!(cr0 & 1) || (cr0 & 0x80000000u))
		guest_fail(NAME, "CR0 %#x: want protected mode without paging", cr0);
	if (!mbi_addr || mbi_addr & 3)
		guest_fail(NAME, "MBI address %#x", mbi_addr);
	gprintf(NAME ": flags %#x\n", mbi->flags);
	if (!(mbi->flags & MB_INFO_MEM))
		guest_fail(NAME, "no mem_lower/mem_upper though the header asks for them");
	gprintf(NAME ": mem lower=%uK upper=%uK\n", mbi->mem_lower, mbi->mem_upper);
	if (mbi->mem_lower > 640 || mbi->mem_upper < 1024)
		guest_fail(NAME, "memory sizes implausible");
	if (mbi->flags & MB_INFO_CMDLINE) {
		gprintf(NAME ": cmdline '");
		print_str(mbi->cmdline);
		gprintf("'\n");
	}
	if (mbi->flags & MB_INFO_LOADER) {
		gprintf(NAME ": loader '");
		print_str(mbi->boot_loader_name);
		gprintf("'\n");
	}
	if (mbi->flags & MB_INFO_MODS) {
		const struct mb_module *mods = phys_ptr(mbi->mods_addr);

		gprintf(NAME ": %u modules\n", mbi->mods_count);
		for (uint32_t i = 0; i < mbi->mods_count && i < 16; i++)
			check_module((int)i, &mods[i]);
	}
	if (!(mbi->flags & MB_INFO_MMAP))
		guest_fail(NAME, "no memory map");
	gprintf(NAME ": mmap ram %llu KiB\n", (unsigned long long)(check_mmap(mbi) >> 10));
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
