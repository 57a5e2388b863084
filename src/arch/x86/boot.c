/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/bzimage.h"
#include "arch/x86/e820.h"
#include "arch/x86/multiboot.h"
#include "arch/x86/pvh.h"
#include "util/log.h"

int boot_open(const char *path, uint64_t max, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		log_err("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		log_err("%s: too large (%llu bytes, at most %llu)", path,
			(unsigned long long)st.st_size, (unsigned long long)max);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int boot_read(int fd, const char *path, void *dst, uint64_t size)
{
	uint8_t *p = dst;

	while (size) {
		ssize_t n = read(fd, p, size > (1U << 30) ? (1U << 30) : size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("%s: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			log_err("%s: file shrank while being read", path);
			return -1;
		}
		p += n;
		size -= (uint64_t)n;
	}
	return 0;
}

/* Guest RAM, below 4 GiB, and clear of the EBDA/BIOS hole under 1 MiB. */
int boot_check_range(struct guest_mem *mem, const char *path, const char *what,
		     uint64_t addr, uint64_t len)
{
	if (addr >= BOOT_4G || len > BOOT_4G - addr || !guest_mem_ptr(mem, addr, len)) {
		log_err("%s: %s at %#llx (%#llx bytes) is outside guest RAM", path, what,
			(unsigned long long)addr, (unsigned long long)len);
		return -1;
	}
	if (addr < E820_HIGH_START && addr + len > E820_EBDA_START) {
		log_err("%s: %s at %#llx (%#llx bytes) overlaps the reserved area [%#llx, %#llx)",
			path, what, (unsigned long long)addr, (unsigned long long)len,
			(unsigned long long)E820_EBDA_START, (unsigned long long)E820_HIGH_START);
		return -1;
	}
	return 0;
}

void boot32_tables(uint8_t gdt[BOOT32_GDT_SIZE], uint64_t tss)
{
	/* Accessed bits preset so the CPU never writes to the table. */
	const uint64_t desc[BOOT32_GDT_SIZE / 8] = {
		0,
		0x00cf9b000000ffffULL,
		0x00cf93000000ffffULL,
		(BOOT32_TSS_SIZE - 1) | (tss & 0xffffff) << 16 | 0x8bULL << 40 |
			(tss >> 24 & 0xff) << 56,
	};

	memcpy(gdt, desc, sizeof(desc));
}

void boot32_entry_state(struct x86_cpu_state *s, uint64_t entry, uint64_t gdt, uint64_t tss)
{
	x86_cpu_state_reset(s, 1);
	s->rip = entry;
	s->rflags = X86_RFLAGS_FIXED;
	x86_seg_flat(&s->seg[X86_CS], BOOT32_CS, 1, 32);
	for (int i = 0; i < X86_NR_SEGS; i++)
		if (i != X86_CS && i != X86_TR && i != X86_LDTR)
			x86_seg_flat(&s->seg[i], BOOT32_DS, 0, 32);
	s->seg[X86_TR] = (struct x86_segment){
		.base = tss, .limit = BOOT32_TSS_SIZE - 1, .selector = BOOT32_TR,
		.type = 0xb, .present = 1,
	};
	s->gdt = (struct x86_dtable){ .base = gdt, .limit = BOOT32_GDT_SIZE - 1 };
	/* No IDT yet: an early fault should shut down, not jump through the
	 * real-mode vector table. */
	s->idt = (struct x86_dtable){ .base = 0, .limit = 0 };
	s->cr0 = X86_CR0_PE | X86_CR0_ET;
}

/*
 * A flat binary is entered like a boot sector: real mode, CS:IP = 0:addr,
 * stack just below it, DL = 0x80 (the first hard disk).
 */
static int flat_load(struct guest_mem *mem, const struct machine_config *cfg,
		     const struct boot_image *img, struct x86_cpu_state *bsp)
{
	uint64_t addr = cfg->flat_addr;
	uint16_t cs = 0, ip = (uint16_t)addr;

	if (addr < 0x500 || addr >= E820_EBDA_START) {
		log_err("%s: flat load address %#llx outside [0x500, %#llx)", img->path,
			(unsigned long long)addr, (unsigned long long)E820_EBDA_START);
		return -1;
	}
	if (img->size > E820_EBDA_START - addr) {
		log_err("%s: %llu bytes at %#llx do not fit below %#llx", img->path,
			(unsigned long long)img->size, (unsigned long long)addr,
			(unsigned long long)E820_EBDA_START);
		return -1;
	}
	if (guest_mem_write(mem, addr, img->data, img->size)) {
		log_err("%s: load address %#llx is not RAM", img->path,
			(unsigned long long)addr);
		return -1;
	}
	/* IP is 16 bits: above 64 KiB the code segment has to move. */
	if (addr > 0xffff) {
		cs = (uint16_t)(addr >> 4);
		ip = (uint16_t)(addr & 0xf);
	}
	x86_cpu_state_reset(bsp, 1);
	x86_seg_real(&bsp->seg[X86_CS], cs, 1);
	x86_seg_real(&bsp->seg[X86_DS], 0, 0);
	x86_seg_real(&bsp->seg[X86_ES], 0, 0);
	x86_seg_real(&bsp->seg[X86_SS], 0, 0);
	x86_seg_real(&bsp->seg[X86_FS], 0, 0);
	x86_seg_real(&bsp->seg[X86_GS], 0, 0);
	bsp->rip = ip;
	/* SS = 0: a load address above 64 KiB gets SP = 0, i.e. the top of
	 * the first 64 KiB, which is still below the binary. */
	bsp->gpr[X86_RSP] = addr > 0xffff ? 0 : addr;
	bsp->gpr[X86_RDX] = 0x80;
	bsp->idt = (struct x86_dtable){ .base = 0, .limit = 0x3ff };
	/* Caches on, as a BIOS leaves them. */
	bsp->cr0 = X86_CR0_ET;
	return 0;
}

/* Image formats other than flat, tried in order: the first probe that
 * claims the image loads it. */
static const struct boot_format {
	int (*probe)(const struct boot_image *img);
	int (*load)(struct guest_mem *mem, const struct machine_config *cfg,
		    const struct boot_image *img, struct x86_cpu_state *bsp);
} boot_formats[] = {
	{ multiboot_probe, multiboot_load },
	{ bzimage_probe, bzimage_load },
	{ pvh_probe, pvh_load },
};

static int boot_dispatch(struct guest_mem *mem, const struct machine_config *cfg,
			 const struct boot_image *img, struct x86_cpu_state *bsp)
{
	if (cfg->flat)
		return flat_load(mem, cfg, img, bsp);
	for (size_t i = 0; i < sizeof(boot_formats) / sizeof(boot_formats[0]); i++)
		if (boot_formats[i].probe(img))
			return boot_formats[i].load(mem, cfg, img, bsp);
	log_err("%s: not a bootable image (no multiboot header, not a bzImage, no PVH entry note)", img->path);
	return -1;
}

int x86_boot_load(struct guest_mem *mem, const struct machine_config *cfg,
		  struct x86_cpu_state *bsp)
{
	struct boot_image img = { .path = cfg->kernel };
	uint8_t *data;
	uint64_t size;
	int fd, rc;

	if (!cfg->kernel) {
		log_err("no kernel given");
		return -1;
	}
	fd = boot_open(cfg->kernel, BOOT_IMAGE_MAX, &size);
	if (fd < 0)
		return -1;
	if (!size) {
		log_err("%s: empty file", cfg->kernel);
		close(fd);
		return -1;
	}
	data = malloc(size);
	if (!data) {
		log_err("%s: out of memory reading %llu bytes", cfg->kernel,
			(unsigned long long)size);
		close(fd);
		return -1;
	}
	rc = boot_read(fd, cfg->kernel, data, size);
	close(fd);
	if (!rc) {
		img.data = data;
		img.size = size;
		rc = boot_dispatch(mem, cfg, &img, bsp);
	}
	free(data);
	return rc;
}
