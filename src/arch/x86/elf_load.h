/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_ELF_LOAD_H
#define VMON_ARCH_X86_ELF_LOAD_H

#include <stdint.h>

#include "arch/x86/boot.h"

#define ELF_MAX_SEGS 256

/* One piece of a kernel image to place in guest RAM. */
struct elf_seg {
	uint64_t offset, filesz;      /* in the file */
	uint64_t paddr, vaddr, memsz;
};

/* A kernel as its loaders see it: ELF (multiboot, PVH) or the a.out kludge. */
struct elf_kernel {
	struct elf_seg seg[ELF_MAX_SEGS];
	int nsegs;
	uint64_t entry;               /* physical */
	uint64_t lo, hi;              /* hull of everything loaded */
};

/* 1 if the image starts with the ELF magic. */
int elf_probe(const struct boot_image *img);

/*
 * Checks an ELF32/ELF64 x86 executable and collects its PT_LOAD segments,
 * all below 4 GiB, and its entry point translated to a physical address.
 * 0, or -1 after one log_err() line.
 */
int elf_kernel_parse(const struct boot_image *img, struct elf_kernel *k);

/* Copies the segments into guest RAM (checked with boot_check_range) and
 * sets k->lo and k->hi.  0, or -1 after log_err(). */
int elf_kernel_load(struct guest_mem *mem, const struct boot_image *img,
		    struct elf_kernel *k);

/*
 * Finds the note of the given owner name and type in the image's PT_NOTE
 * segments: 1 with its descriptor's file offset and length, 0 if there is
 * none (malformed notes count as none).
 */
int elf_find_note(const struct boot_image *img, const char *name, uint32_t type,
		  uint64_t *desc_off, uint32_t *desc_len);

#endif
