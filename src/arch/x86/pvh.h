/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_PVH_H
#define VMON_ARCH_X86_PVH_H

#include "arch/x86/boot.h"

/*
 * The PVH boot ABI (Xen's docs/misc/pvh.pandoc, as QEMU and Firecracker
 * boot an uncompressed Linux vmlinux): an ELF kernel whose Xen note
 * XEN_ELFNOTE_PHYS32_ENTRY names a 32-bit entry, entered in protected mode
 * without paging with EBX pointing at an hvm_start_info (memory map,
 * command line, the initrd as module 0, the RSDP).
 */
int pvh_probe(const struct boot_image *img);
int pvh_load(struct guest_mem *mem, const struct machine_config *cfg,
	     const struct boot_image *img, struct x86_cpu_state *bsp);

/* Guest physical layout below 1 MiB. */
#define PVH_GDT_ADDR        0x500ULL
#define PVH_TSS_ADDR        0x540ULL
#define PVH_START_INFO_ADDR 0x6000ULL
#define PVH_MEMMAP_ADDR     0x6040ULL
#define PVH_MODLIST_ADDR    0x6200ULL
#define PVH_CMDLINE_ADDR    0x20000ULL
/* x86 Linux's COMMAND_LINE_SIZE, with the NUL: an ELF vmlinux has no setup
 * header to say otherwise. */
#define PVH_CMDLINE_MAX     2048

#define PVH_START_MAGIC     0x336ec578U

#endif
