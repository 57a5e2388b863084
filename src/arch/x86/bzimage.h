/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_BZIMAGE_H
#define VMON_ARCH_X86_BZIMAGE_H

#include "arch/x86/boot.h"

/*
 * Linux bzImage, entered through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel at its
 * preferred address, boot_params with the e820 map, command line and initrd,
 * identity-mapped page tables and a flat GDT built by vmon.
 */
int bzimage_probe(const struct boot_image *img);
int bzimage_load(struct guest_mem *mem, const struct machine_config *cfg,
		 const struct boot_image *img, struct x86_cpu_state *bsp);

/* Guest physical layout below 1 MiB while Linux starts. */
#define BZ_GDT_ADDR         0x500ULL
#define BZ_BOOT_PARAMS_ADDR 0x7000ULL
#define BZ_PML4_ADDR        0x9000ULL
#define BZ_PDPT_ADDR        0xa000ULL
#define BZ_PD_ADDR          0xb000ULL    /* four page directories: 4 GiB */
#define BZ_CMDLINE_ADDR     0x20000ULL
#define BZ_CMDLINE_MAX      0x10000ULL

#endif
