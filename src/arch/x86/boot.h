/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_BOOT_H
#define VMON_ARCH_X86_BOOT_H

#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "machine/machine.h"

/*
 * Loads cfg->kernel (and cfg->initrd, cfg->cmdline) into guest RAM and fills
 * *bsp with the BSP's entry state.  The format is probed: cfg->flat -> flat
 * real-mode binary; a Multiboot v1 header in the first 8 KiB -> multiboot;
 * a bzImage; an ELF kernel with a PVH entry note -> PVH.
 * 0, or -1 after exactly one log_err() line naming the file and the problem.
 */
int x86_boot_load(struct guest_mem *mem, const struct machine_config *cfg,
		  struct x86_cpu_state *bsp);

/* For the loaders: a kernel image read whole into host memory. */
struct boot_image {
	const char *path;
	const uint8_t *data;
	uint64_t size;
};

/* Largest kernel image vmon reads into host memory. */
#define BOOT_IMAGE_MAX (1ULL << 30)

/*
 * Opens path, which must be a regular file of at most max bytes: the fd and
 * *size, or -1 after log_err().
 */
int boot_open(const char *path, uint64_t max, uint64_t *size);
/* Reads exactly size bytes of fd into dst: 0, or -1 after log_err(). */
int boot_read(int fd, const char *path, void *dst, uint64_t size);

/* Below 4 GiB: where the 32-bit boot protocols can place things. */
#define BOOT_4G (1ULL << 32)

/*
 * [addr, addr + len) is guest RAM below 4 GiB, clear of the EBDA/BIOS hole
 * under 1 MiB: 0, or -1 after log_err() naming path and what.
 */
int boot_check_range(struct guest_mem *mem, const char *path, const char *what,
		     uint64_t addr, uint64_t len);

/*
 * The 32-bit protected-mode entry that multiboot and PVH specify: paging
 * off, flat 4 GiB code (selector BOOT32_CS) and data (BOOT32_DS), TR on a
 * busy TSS (BOOT32_TR), no IDT.  The GDT (BOOT32_GDT_SIZE bytes) and the
 * TSS (BOOT32_TSS_SIZE) are written at gdt and tss.
 */
#define BOOT32_CS        0x08
#define BOOT32_DS        0x10
#define BOOT32_TR        0x18
#define BOOT32_GDT_SIZE  32
#define BOOT32_TSS_SIZE  104
void boot32_tables(uint8_t gdt[BOOT32_GDT_SIZE], uint64_t tss);
void boot32_entry_state(struct x86_cpu_state *s, uint64_t entry, uint64_t gdt, uint64_t tss);

#endif
