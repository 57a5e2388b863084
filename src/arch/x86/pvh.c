/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/pvh.h"

#include <string.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/e820.h"
#include "arch/x86/elf_load.h"
#include "util/log.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* struct hvm_start_info, version 1 (with the memory map). */
struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct pvh_module {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info layout");
_Static_assert(PVH_MEMMAP_ADDR >= PVH_START_INFO_ADDR + sizeof(struct pvh_start_info) &&
	       PVH_MODLIST_ADDR >= PVH_MEMMAP_ADDR + E820_MAX_ENTRIES *
				   sizeof(struct pvh_memmap_entry),
	       "PVH boot structures overlap");

/* The entry from the note (Linux writes a 64-bit value, others 32): 0 if none. */
static uint64_t pvh_entry(const struct boot_image *img)
{
	uint64_t off, entry = 0;
	uint32_t len;

	if (!elf_find_note(img, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &off, &len))
		return 0;
	if (len != 4 && len != 8)
		return 0;
	memcpy(&entry, img->data + off, len);
	return entry;
}

int pvh_probe(const struct boot_image *img)
{
	return pvh_entry(img) != 0;
}

/* The initrd, module 0, goes page-aligned at the top of RAM below 4 GiB. */
static int pvh_load_initrd(struct guest_mem *mem, const char *path, uint64_t kernel_end,
			   struct pvh_module *mod)
{
	uint64_t top = guest_mem_low_end(mem) & ~0xfffULL, size;
	int fd = boot_open(path, BOOT_IMAGE_MAX, &size), rc;

	if (fd < 0)
		return -1;
	if (size > top || ((top - size) & ~0xfffULL) < kernel_end) {
		log_err("%s: initrd of %llu MiB does not fit in guest RAM with the kernel "
			"(raise --mem)", path, (unsigned long long)(size >> 20));
		close(fd);
		return -1;
	}
	mod->paddr = (top - size) & ~0xfffULL;
	mod->size = size;
	rc = boot_read(fd, path, guest_mem_ptr(mem, mod->paddr, size), size);
	close(fd);
	return rc;
}

static int pvh_start_info(struct guest_mem *mem, const struct machine_config *cfg,
			  const struct elf_kernel *k)
{
	struct pvh_start_info si = {
		.magic = PVH_START_MAGIC, .version = 1,
		.cmdline_paddr = PVH_CMDLINE_ADDR, .rsdp_paddr = ACPI_RSDP_ADDR,
		.memmap_paddr = PVH_MEMMAP_ADDR,
	};
	struct pvh_memmap_entry mm[E820_MAX_ENTRIES] = { 0 };
	struct e820_entry map[E820_MAX_ENTRIES];
	struct pvh_module mod = { 0 };
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	size_t cmdlen = strlen(cmdline);
	int n = e820_build(mem, map, E820_MAX_ENTRIES);

	if (cmdlen >= PVH_CMDLINE_MAX) {
		log_err("--cmdline: %zu bytes, the kernel accepts at most %d", cmdlen,
			PVH_CMDLINE_MAX - 1);
		return -1;
	}
	for (int i = 0; i < n; i++)
		mm[i] = (struct pvh_memmap_entry){ map[i].addr, map[i].size, map[i].type, 0 };
	si.memmap_entries = (uint32_t)n;
	if (cfg->initrd && *cfg->initrd) {
		if (pvh_load_initrd(mem, cfg->initrd, k->hi, &mod))
			return -1;
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST_ADDR;
	}
	if (guest_mem_write(mem, PVH_START_INFO_ADDR, &si, sizeof(si)) ||
	    guest_mem_write(mem, PVH_MEMMAP_ADDR, mm, sizeof(mm[0]) * (size_t)n) ||
	    guest_mem_write(mem, PVH_MODLIST_ADDR, &mod, sizeof(mod)) ||
	    guest_mem_write(mem, PVH_CMDLINE_ADDR, cmdline, cmdlen + 1)) {
		log_err("%s: no room for the PVH boot structures below 1 MiB", cfg->kernel);
		return -1;
	}
	return 0;
}

int pvh_load(struct guest_mem *mem, const struct machine_config *cfg,
	     const struct boot_image *img, struct x86_cpu_state *bsp)
{
	static const uint8_t tss[BOOT32_TSS_SIZE];
	uint8_t gdt[BOOT32_GDT_SIZE];
	struct elf_kernel k;
	uint64_t entry = pvh_entry(img);

	if (elf_kernel_parse(img, &k) || elf_kernel_load(mem, img, &k))
		return -1;
	if (k.lo < PVH_CMDLINE_ADDR + PVH_CMDLINE_MAX) {
		log_err("%s: kernel at %#llx overlaps vmon's boot structures below %#llx",
			img->path, (unsigned long long)k.lo,
			(unsigned long long)(PVH_CMDLINE_ADDR + PVH_CMDLINE_MAX));
		return -1;
	}
	if (entry < k.lo || entry >= k.hi) {
		log_err("%s: PVH entry point %#llx is in no loaded segment", img->path,
			(unsigned long long)entry);
		return -1;
	}
	if (pvh_start_info(mem, cfg, &k))
		return -1;
	boot32_tables(gdt, PVH_TSS_ADDR);
	if (guest_mem_write(mem, PVH_GDT_ADDR, gdt, sizeof(gdt)) ||
	    guest_mem_write(mem, PVH_TSS_ADDR, tss, sizeof(tss)))
		return -1;
	boot32_entry_state(bsp, entry, PVH_GDT_ADDR, PVH_TSS_ADDR);
	bsp->gpr[X86_RBX] = PVH_START_INFO_ADDR;
	return 0;
}
