/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_BOOT_H
#define VMON_ARCH_X86_BOOT_H

#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "machine/machine.h"

/*
 * Loads cfg->kernel (and cfg->initrd, cfg->cmdline) into guest RAM and fills
 * *bsp with the BSP's entry state.  The format is probed: cfg->flat -> flat
 * real-mode binary; a Multiboot v1 header in the first 8 KiB -> multiboot.
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

#endif
