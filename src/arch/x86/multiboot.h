/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_MULTIBOOT_H
#define VMON_ARCH_X86_MULTIBOOT_H

#include "arch/x86/boot.h"

#define MULTIBOOT_HEADER_MAGIC     0x1badb002U
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002U
#define MULTIBOOT_SEARCH           8192        /* the header lies in here */

/* Header flags. */
#define MULTIBOOT_PAGE_ALIGN  (1U << 0)
#define MULTIBOOT_MEMORY_INFO (1U << 1)
#define MULTIBOOT_VIDEO_MODE  (1U << 2)
#define MULTIBOOT_AOUT_KLUDGE (1U << 16)

/* Boot information (MBI) flags vmon sets. */
#define MULTIBOOT_INFO_MEMORY    (1U << 0)
#define MULTIBOOT_INFO_CMDLINE   (1U << 2)
#define MULTIBOOT_INFO_MODS      (1U << 3)
#define MULTIBOOT_INFO_MEM_MAP   (1U << 6)
#define MULTIBOOT_INFO_LOADER    (1U << 9)

/*
 * Where the boot information goes unless the kernel occupies that space:
 * free conventional memory below the EBDA.  Otherwise it follows the modules.
 */
#define MULTIBOOT_INFO_LOW     0x9000ULL

/* 1 if the image carries the multiboot magic in its first 8 KiB. */
int multiboot_probe(const struct boot_image *img);

/* Loads the kernel and the modules (cfg->initrd, comma-separated paths),
 * writes the boot information and fills *bsp with the entry state the
 * specification requires.  0, or -1 after one log_err() line. */
int multiboot_load(struct guest_mem *mem, const struct machine_config *cfg,
		   const struct boot_image *img, struct x86_cpu_state *bsp);

#endif
