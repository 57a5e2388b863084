/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/bzimage.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/e820.h"
#include "arch/x86/kdecomp.h"
#include "util/log.h"

/* Offsets into the setup header / boot_params (the "zero page"). */
#define BP_ACPI_RSDP      0x070
#define BP_EXT_RAMDISK    0x0c0
#define BP_EXT_RD_SIZE    0x0c4
#define BP_EXT_CMDLINE    0x0c8
#define BP_E820_ENTRIES   0x1e8
#define BP_SETUP_SECTS    0x1f1
#define BP_SYSSIZE        0x1f4
#define BP_VID_MODE       0x1fa
#define BP_BOOT_FLAG      0x1fe
#define BP_JUMP           0x200
#define BP_HEADER         0x202
#define BP_VERSION        0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS      0x211
#define BP_RAMDISK_IMAGE  0x218
#define BP_RAMDISK_SIZE   0x21c
#define BP_HEAP_END       0x224
#define BP_CMD_LINE_PTR   0x228
#define BP_INITRD_MAX     0x22c
#define BP_KERNEL_ALIGN   0x230
#define BP_RELOCATABLE    0x234
#define BP_XLOADFLAGS     0x236
#define BP_CMDLINE_SIZE   0x238
#define BP_PAYLOAD_OFFSET 0x248
#define BP_PAYLOAD_LENGTH 0x24c
#define BP_PREF_ADDRESS   0x258
#define BP_INIT_SIZE      0x260
#define BP_E820_TABLE     0x2d0
#define BP_E820_MAX       128
#define BP_SIZE           0x1000

#define LOADED_HIGH   (1u << 0)
#define CAN_USE_HEAP  (1u << 7)
#define XLF_KERNEL_64 (1u << 0)

#define BZ_MIN_VERSION 0x020a     /* 2.10: pref_address, init_size */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

int bzimage_probe(const struct boot_image *img)
{
	return img->size >= 0x400 && rd16(img->data + BP_BOOT_FLAG) == 0xaa55 &&
	       !memcmp(img->data + BP_HEADER, "HdrS", 4);
}

struct bz_layout {
	uint64_t setup_size, kernel_off, kernel_size;
	uint64_t load_addr, init_size;
	uint64_t initrd_addr, initrd_size;
	uint32_t cmdline_max;
};

/* Checks the header and decides where the kernel goes. */
static int bz_check(const struct guest_mem *mem, const struct boot_image *img,
		    struct bz_layout *l)
{
	const uint8_t *h = img->data;
	uint16_t version = rd16(h + BP_VERSION);
	unsigned setup_sects = h[BP_SETUP_SECTS] ? h[BP_SETUP_SECTS] : 4;
	uint64_t align, low_end = guest_mem_low_end(mem);

	if (version < BZ_MIN_VERSION) {
		log_err("%s: boot protocol %u.%02u, vmon needs 2.10 or later", img->path,
			version >> 8, version & 0xff);
		return -1;
	}
	if (!(rd16(h + BP_XLOADFLAGS) & XLF_KERNEL_64) || !(h[BP_LOADFLAGS] & LOADED_HIGH)) {
		log_err("%s: not a 64-bit bzImage (no 64-bit entry point)", img->path);
		return -1;
	}
	l->setup_size = (uint64_t)(setup_sects + 1) * 512;
	l->kernel_off = l->setup_size;
	if (img->size <= l->setup_size) {
		log_err("%s: truncated bzImage (%llu bytes, setup alone is %llu)", img->path,
			(unsigned long long)img->size, (unsigned long long)l->setup_size);
		return -1;
	}
	l->kernel_size = img->size - l->setup_size;
	if ((uint64_t)rd32(h + BP_SYSSIZE) * 16 > l->kernel_size) {
		log_err("%s: truncated bzImage (kernel %llu bytes, header says %llu)", img->path,
			(unsigned long long)l->kernel_size,
			(unsigned long long)rd32(h + BP_SYSSIZE) * 16);
		return -1;
	}
	l->init_size = rd32(h + BP_INIT_SIZE);
	if (l->init_size < l->kernel_size)
		l->init_size = l->kernel_size;
	l->load_addr = rd64(h + BP_PREF_ADDRESS);
	align = rd32(h + BP_KERNEL_ALIGN);
	/* A relocatable kernel may go lower when RAM is short. */
	if (h[BP_RELOCATABLE] && align && !(align & (align - 1)) &&
	    (l->load_addr > low_end || l->init_size > low_end - l->load_addr))
		l->load_addr = (E820_HIGH_START + align - 1) & ~(align - 1);
	if (l->load_addr < E820_HIGH_START || l->load_addr > low_end ||
	    l->init_size > low_end - l->load_addr) {
		log_err("%s: kernel needs %llu MiB of RAM from %#llx, the guest has %llu MiB",
			img->path, (unsigned long long)(l->init_size >> 20),
			(unsigned long long)l->load_addr, (unsigned long long)(mem->size >> 20));
		return -1;
	}
	l->cmdline_max = version >= 0x0206 ? rd32(h + BP_CMDLINE_SIZE) : 255;
	return 0;
}

/* The initrd goes as high as the kernel allows, above the kernel. */
static int bz_load_initrd(struct guest_mem *mem, const struct machine_config *cfg,
			  const uint8_t *h, struct bz_layout *l)
{
	uint64_t top = guest_mem_low_end(mem), max = (uint64_t)rd32(h + BP_INITRD_MAX) + 1;
	uint64_t size;
	void *dst;
	int fd, rc;

	if (!cfg->initrd)
		return 0;
	fd = boot_open(cfg->initrd, BOOT_IMAGE_MAX, &size);
	if (fd < 0)
		return -1;
	if (max > 1 && top > max)
		top = max;
	top &= ~0xfffULL;
	if (size > top || ((top - size) & ~0xfffULL) < l->load_addr + l->init_size) {
		log_err("%s: initrd of %llu MiB does not fit in guest RAM with the kernel "
			"(raise --mem)", cfg->initrd, (unsigned long long)(size >> 20));
		close(fd);
		return -1;
	}
	l->initrd_addr = (top - size) & ~0xfffULL;
	l->initrd_size = size;
	dst = guest_mem_ptr(mem, l->initrd_addr, size);
	rc = dst ? boot_read(fd, cfg->initrd, dst, size) : -1;
	close(fd);
	return rc;
}

static int bz_boot_params(struct guest_mem *mem, const struct machine_config *cfg,
			  const struct boot_image *img, const struct bz_layout *l)
{
	uint8_t *bp = guest_mem_ptr(mem, BZ_BOOT_PARAMS_ADDR, BP_SIZE);
	const uint8_t *h = img->data;
	size_t hdr_end = (size_t)0x202 + h[BP_JUMP + 1], cmdlen = strlen(cfg->cmdline);
	struct e820_entry map[E820_MAX_ENTRIES];
	int n = e820_build(mem, map, E820_MAX_ENTRIES);

	if (!bp)
		return -1;
	if (cmdlen > l->cmdline_max || cmdlen >= BZ_CMDLINE_MAX) {
		log_err("--cmdline: %zu bytes, the kernel accepts at most %u", cmdlen,
			l->cmdline_max);
		return -1;
	}
	memset(bp, 0, BP_SIZE);
	if (hdr_end > img->size || hdr_end > BP_SIZE)
		hdr_end = 0x268;
	memcpy(bp + BP_SETUP_SECTS, h + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	wr16(bp + BP_VID_MODE, 0xffff);           /* "normal": no video mode change */
	bp[BP_TYPE_OF_LOADER] = 0xff;             /* no registered loader ID */
	bp[BP_LOADFLAGS] = (uint8_t)((bp[BP_LOADFLAGS] | CAN_USE_HEAP) & (LOADED_HIGH | CAN_USE_HEAP));
	wr16(bp + BP_HEAP_END, 0xfe00);
	wr32(bp + BP_CMD_LINE_PTR, (uint32_t)BZ_CMDLINE_ADDR);
	wr32(bp + BP_EXT_CMDLINE, 0);
	wr32(bp + BP_RAMDISK_IMAGE, (uint32_t)l->initrd_addr);
	wr32(bp + BP_RAMDISK_SIZE, (uint32_t)l->initrd_size);
	wr32(bp + BP_EXT_RAMDISK, (uint32_t)(l->initrd_addr >> 32));
	wr32(bp + BP_EXT_RD_SIZE, (uint32_t)(l->initrd_size >> 32));
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (int i = 0; i < n && i < BP_E820_MAX; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		wr64(e, map[i].addr);
		wr64(e + 8, map[i].size);
		wr32(e + 16, map[i].type);
	}
	return guest_mem_write(mem, BZ_CMDLINE_ADDR, cfg->cmdline, cmdlen + 1);
}

/* Identity map of the first 4 GiB with 2 MiB pages: enough for the kernel
 * to reach boot_params, the command line and the initrd. */
static int bz_page_tables(struct guest_mem *mem)
{
	uint64_t *pml4 = guest_mem_ptr(mem, BZ_PML4_ADDR, 0x1000);
	uint64_t *pdpt = guest_mem_ptr(mem, BZ_PDPT_ADDR, 0x1000);
	uint64_t *pd = guest_mem_ptr(mem, BZ_PD_ADDR, 4 * 0x1000);

	if (!pml4 || !pdpt || !pd)
		return -1;
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = BZ_PDPT_ADDR | 0x3;                       /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BZ_PD_ADDR + i * 0x1000) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;                   /* present, writable, 2 MiB */
	return 0;
}

/* The 64-bit protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
static int bz_gdt(struct guest_mem *mem, struct x86_cpu_state *s)
{
	static const uint64_t gdt[] = {
		0, 0,
		0x00af9b000000ffffULL,      /* 0x10: 64-bit code */
		0x00cf93000000ffffULL,      /* 0x18: data */
		0x00808b000000ffffULL,      /* 0x20: TSS (busy), for KVM's sake */
	};

	if (guest_mem_write(mem, BZ_GDT_ADDR, gdt, sizeof(gdt)))
		return -1;
	s->gdt = (struct x86_dtable){ BZ_GDT_ADDR, sizeof(gdt) - 1 };
	return 0;
}

static void bz_entry_state(struct x86_cpu_state *s, uint64_t entry)
{
	x86_seg_flat(&s->seg[X86_CS], 0x10, 1, 64);
	for (int i = 0; i < X86_NR_SEGS; i++)
		if (i != X86_CS && i != X86_TR && i != X86_LDTR)
			x86_seg_flat(&s->seg[i], 0x18, 0, 32);
	s->seg[X86_TR] = (struct x86_segment){ .selector = 0x20, .limit = 0xffff,
					       .type = 0xb, .present = 1 };
	s->seg[X86_LDTR] = (struct x86_segment){ .type = 0x2, .present = 1, .unusable = 1 };
	s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE;
	s->cr3 = BZ_PML4_ADDR;
	s->cr4 = X86_CR4_PAE;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
	s->rflags = X86_RFLAGS_FIXED;
	s->rip = entry;
	s->gpr[X86_RSI] = BZ_BOOT_PARAMS_ADDR;
}

/*
 * Loads the PT_LOAD segments of the kernel proper (an ELF64 vmlinux) as the
 * in-guest decompressor would: at their physical addresses, moved as a whole
 * to the load address.  The entry is the physical address of startup_64.
 */
static int bz_load_vmlinux(struct guest_mem *mem, const char *path, const uint8_t *elf,
			   size_t len, const struct bz_layout *l, uint64_t *entry)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	const Elf64_Phdr *ph;
	uint64_t base = UINT64_MAX;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phentsize != sizeof(*ph) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
	    eh->e_phoff > len || (size_t)eh->e_phnum * sizeof(*ph) > len - eh->e_phoff)
		return -1;
	ph = (const Elf64_Phdr *)(elf + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_paddr < base)
			base = ph[i].p_paddr;
	*entry = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint64_t off;
		uint8_t *dst;

		if (p->p_type != PT_LOAD)
			continue;
		off = p->p_paddr - base;
		if (p->p_offset > len || p->p_filesz > len - p->p_offset ||
		    p->p_filesz > p->p_memsz || off > l->init_size ||
		    p->p_memsz > l->init_size - off)
			return -1;
		dst = guest_mem_ptr(mem, l->load_addr + off, p->p_memsz);
		if (!dst)
			return -1;
		memcpy(dst, elf + p->p_offset, p->p_filesz);
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
		/* x86-64 links vmlinux with ENTRY(phys_startup_64): e_entry is
		 * physical, though other builds may give the virtual address. */
		if (eh->e_entry >= p->p_paddr && eh->e_entry - p->p_paddr < p->p_filesz)
			*entry = l->load_addr + off + (eh->e_entry - p->p_paddr);
		else if (!*entry && eh->e_entry >= p->p_vaddr && eh->e_entry - p->p_vaddr < p->p_filesz)
			*entry = l->load_addr + off + (eh->e_entry - p->p_vaddr);
	}
	if (!*entry)
		log_err("%s: the kernel's entry point is in no loaded segment", path);
	return *entry ? 0 : -1;
}

/*
 * The kernel's own decompressor runs slowly where KVM is emulated in
 * software (shared/docs/host-kvm.md), and everywhere it is work the host
 * does faster: vmon unpacks the payload itself and enters the kernel proper,
 * as the decompressor would.  0 with *entry set, or -1 to fall back.
 */
static int bz_unpack(struct guest_mem *mem, const struct boot_image *img,
		     const struct bz_layout *l, uint64_t *entry)
{
	const uint8_t *h = img->data;
	uint64_t off = rd32(h + BP_PAYLOAD_OFFSET), len = rd32(h + BP_PAYLOAD_LENGTH);
	uint8_t *elf;
	size_t elf_len;
	char why[128];
	int rc;

	if (!len || off > l->kernel_size || len > l->kernel_size - off) {
		log_warn("%s: no payload in the header; the kernel decompresses itself", img->path);
		return -1;
	}
	if (kdecomp(img->data + l->kernel_off + off, len, l->init_size, &elf, &elf_len,
		    why, sizeof(why))) {
		log_warn("%s: %s; the kernel decompresses itself", img->path, why);
		return -1;
	}
	rc = bz_load_vmlinux(mem, img->path, elf, elf_len, l, entry);
	if (rc == 0)
		log_debug("%s: %s payload unpacked by vmon: %zu KiB", img->path,
			  kdecomp_format(img->data + l->kernel_off + off, len), elf_len >> 10);
	else
		log_warn("%s: payload is no loadable vmlinux; the kernel decompresses itself",
			 img->path);
	free(elf);
	return rc;
}

int bzimage_load(struct guest_mem *mem, const struct machine_config *cfg,
		 const struct boot_image *img, struct x86_cpu_state *bsp)
{
	struct bz_layout l = { 0 };
	uint64_t entry;

	if (bz_check(mem, img, &l))
		return -1;
	if (bz_unpack(mem, img, &l, &entry)) {
		/* The 64-bit entry point is 0x200 into the protected-mode kernel. */
		if (guest_mem_write(mem, l.load_addr, img->data + l.kernel_off, l.kernel_size)) {
			log_err("%s: kernel does not fit in guest RAM", img->path);
			return -1;
		}
		entry = l.load_addr + 0x200;
	}
	if (bz_load_initrd(mem, cfg, img->data, &l) || bz_boot_params(mem, cfg, img, &l))
		return -1;
	x86_cpu_state_reset(bsp, 1);
	if (bz_page_tables(mem) || bz_gdt(mem, bsp)) {
		log_err("%s: no room for boot structures below 1 MiB", img->path);
		return -1;
	}
	bz_entry_state(bsp, entry);
	return 0;
}
