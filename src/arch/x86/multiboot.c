/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multiboot v1 (specification 0.6.96): ELF32, ELF64 and a.out-kludge
 * kernels, boot modules, and the boot information structure.
 */
#include "arch/x86/multiboot.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/e820.h"
#include "arch/x86/elf_load.h"
#include "util/log.h"

#define MB_PAGE        4096ULL
#define MB_MAX_MODS    64
#define MB_INFO_SIZE   120      /* the MBI up to and including the framebuffer fields */
#define MB_MMAP_ENTRY  24
#define MB_MOD_ENTRY   16
#define MB_LOADER_NAME "vmon"

/* Flags vmon can honour; any other in the low 16 (the "required" half) is fatal. */
#define MB_KNOWN_REQUIRED (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_VIDEO_MODE)

struct mb_header {
	uint64_t offset;              /* of the magic, in the file */
	uint32_t flags;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_module {
	char *path;
	uint64_t start, end;
};

struct mb_modules {
	struct mb_module mod[MB_MAX_MODS];
	int n;
	char *paths;                  /* one allocation holding every path */
	uint64_t end;                 /* first byte after the last module */
};

/* Where the boot information ended up. */
struct mb_layout {
	uint64_t gdt, tss, mbi;
};

/* A bump allocator over guest memory; with mem NULL it only measures. */
struct mb_area {
	struct guest_mem *mem;
	uint64_t next;
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t mb_search_len(const struct boot_image *img)
{
	return img->size < MULTIBOOT_SEARCH ? img->size : MULTIBOOT_SEARCH;
}

int multiboot_probe(const struct boot_image *img)
{
	uint64_t len = mb_search_len(img);

	for (uint64_t off = 0; off + 4 <= len; off += 4)
		if (get32(img->data + off) == MULTIBOOT_HEADER_MAGIC)
			return 1;
	return 0;
}

/* The first magic whose checksum holds; a magic with a bad one is only
 * reported when there is no good one. */
static int mb_find_header(const struct boot_image *img, struct mb_header *h)
{
	uint64_t len = mb_search_len(img), bad = UINT64_MAX;
	const uint8_t *p;

	for (uint64_t off = 0; off + 4 <= len; off += 4) {
		p = img->data + off;
		if (get32(p) != MULTIBOOT_HEADER_MAGIC)
			continue;
		if (off + 12 > len) {
			log_err("%s: multiboot header at %#llx is truncated", img->path,
				(unsigned long long)off);
			return -1;
		}
		if ((uint32_t)(get32(p) + get32(p + 4) + get32(p + 8))) {
			if (bad == UINT64_MAX)
				bad = off;
			continue;
		}
		*h = (struct mb_header){ .offset = off, .flags = get32(p + 4) };
		if (!(h->flags & MULTIBOOT_AOUT_KLUDGE))
			return 0;
		if (off + 32 > len) {
			log_err("%s: multiboot header at %#llx is truncated", img->path,
				(unsigned long long)off);
			return -1;
		}
		h->header_addr = get32(p + 12);
		h->load_addr = get32(p + 16);
		h->load_end_addr = get32(p + 20);
		h->bss_end_addr = get32(p + 24);
		h->entry_addr = get32(p + 28);
		return 0;
	}
	if (bad != UINT64_MAX)
		log_err("%s: multiboot header at %#llx has a bad checksum", img->path,
			(unsigned long long)bad);
	else
		log_err("%s: not a bootable image (no multiboot header)", img->path);
	return -1;
}

/* The a.out kludge: one contiguous piece described by the header itself. */
static int mb_aout_segments(const struct boot_image *img, const struct mb_header *h,
			    struct elf_kernel *k)
{
	uint64_t off, filesz, memend;

	if (h->header_addr < h->load_addr ||
	    h->header_addr - h->load_addr > h->offset) {
		log_err("%s: multiboot load_addr %#x does not fit header_addr %#x at file offset %#llx",
			img->path, h->load_addr, h->header_addr,
			(unsigned long long)h->offset);
		return -1;
	}
	off = h->offset - (h->header_addr - h->load_addr);
	if (!h->load_end_addr) {
		filesz = img->size - off;
	} else if (h->load_end_addr < h->load_addr ||
		   h->load_end_addr - h->load_addr > img->size - off) {
		log_err("%s: multiboot load_end_addr %#x lies outside the file", img->path,
			h->load_end_addr);
		return -1;
	} else {
		filesz = h->load_end_addr - h->load_addr;
	}
	memend = h->load_addr + filesz;
	if (h->bss_end_addr && h->bss_end_addr < memend) {
		log_err("%s: multiboot bss_end_addr %#x is below the loaded image's end %#llx",
			img->path, h->bss_end_addr, (unsigned long long)memend);
		return -1;
	}
	if (h->bss_end_addr)
		memend = h->bss_end_addr;
	k->seg[0] = (struct elf_seg){
		.offset = off, .filesz = filesz, .paddr = h->load_addr,
		.vaddr = h->load_addr, .memsz = memend - h->load_addr,
	};
	k->nsegs = 1;
	k->entry = h->entry_addr;
	return 0;
}

static void mb_modules_free(struct mb_modules *ms)
{
	free(ms->paths);
	ms->paths = NULL;
	ms->n = 0;
}

/* Splits the comma-separated list; every module needs a name. */
static int mb_modules_parse(const char *list, struct mb_modules *ms)
{
	char *p;

	ms->n = 0;
	ms->paths = NULL;
	if (!list || !*list)
		return 0;
	ms->paths = strdup(list);
	if (!ms->paths) {
		log_err("out of memory");
		return -1;
	}
	for (p = ms->paths; p; ) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (!*p) {
			log_err("%s: empty module name in the module list", list);
			goto fail;
		}
		if (ms->n == MB_MAX_MODS) {
			log_err("%s: more than %d modules", list, MB_MAX_MODS);
			goto fail;
		}
		ms->mod[ms->n++].path = p;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
fail:
	mb_modules_free(ms);
	return -1;
}

/* Modules go page-aligned after the kernel, and above 1 MiB in any case. */
static int mb_modules_load(struct guest_mem *mem, struct mb_modules *ms, uint64_t after)
{
	uint64_t limit = guest_mem_low_end(mem), addr = align_up(after, MB_PAGE), size;

	if (addr < E820_HIGH_START)
		addr = E820_HIGH_START;
	for (int i = 0; i < ms->n; i++) {
		struct mb_module *m = &ms->mod[i];
		int fd = boot_open(m->path, BOOT_IMAGE_MAX, &size), rc;

		if (fd < 0)
			return -1;
		if (addr > limit || size > limit - addr) {
			log_err("%s: module too large (%llu bytes, %llu free after the kernel)",
				m->path, (unsigned long long)size,
				(unsigned long long)(addr > limit ? 0 : limit - addr));
			close(fd);
			return -1;
		}
		rc = boot_read(fd, m->path, guest_mem_ptr(mem, addr, size), size);
		close(fd);
		if (rc)
			return -1;
		m->start = addr;
		m->end = addr + size;
		addr = align_up(m->end, MB_PAGE);
	}
	ms->end = addr;
	return 0;
}

static uint64_t mb_put(struct mb_area *a, const void *src, uint64_t len, uint64_t align)
{
	uint64_t addr = align_up(a->next, align);

	if (a->mem)
		guest_mem_write(a->mem, addr, src, len);
	a->next = addr + len;
	return addr;
}

static uint64_t mb_put_str(struct mb_area *a, const char *s)
{
	return mb_put(a, s, strlen(s) + 1, 1);
}

/*
 * Writes (or, with a->mem NULL, measures) the GDT, TSS, MBI, memory map,
 * module list and strings, in this order, and returns their addresses.
 */
static void mb_write_info(struct mb_area *a, const struct guest_mem *ram,
			  const char *kernel, const char *cmdline,
			  const struct mb_modules *ms, struct mb_layout *out)
{
	static const uint8_t tss[BOOT32_TSS_SIZE];
	uint8_t gdt[BOOT32_GDT_SIZE], mbi[MB_INFO_SIZE] = { 0 }, ent[MB_MMAP_ENTRY];
	struct e820_entry map[E820_MAX_ENTRIES];
	uint32_t flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
			 MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_LOADER;
	uint64_t mmap, mods, name, mod_str[MB_MAX_MODS], cmd;
	int n = e820_build(ram, map, E820_MAX_ENTRIES);

	out->gdt = align_up(a->next, 16);
	out->tss = out->gdt + sizeof(gdt);
	boot32_tables(gdt, out->tss);
	mb_put(a, gdt, sizeof(gdt), 16);
	mb_put(a, tss, sizeof(tss), 8);
	out->mbi = mb_put(a, mbi, sizeof(mbi), 16);       /* filled in below */

	mmap = align_up(a->next, 8);
	for (int i = 0; i < n; i++) {
		put32(ent, MB_MMAP_ENTRY - 4);              /* size excludes itself */
		put64(ent + 4, map[i].addr);
		put64(ent + 12, map[i].size);
		put32(ent + 20, map[i].type);
		mb_put(a, ent, sizeof(ent), i ? 1 : 8);
	}

	/* As GRUB and QEMU do: the kernel's own path, then its arguments. */
	cmd = mb_put(a, kernel, strlen(kernel), 1);
	if (*cmdline) {
		mb_put(a, " ", 1, 1);
		mb_put_str(a, cmdline);
	} else {
		mb_put(a, "", 1, 1);
	}
	for (int i = 0; i < ms->n; i++)
		mod_str[i] = mb_put_str(a, ms->mod[i].path);
	name = mb_put_str(a, MB_LOADER_NAME);

	mods = align_up(a->next, 16);
	for (int i = 0; i < ms->n; i++) {
		uint8_t m[MB_MOD_ENTRY] = { 0 };

		put32(m, (uint32_t)ms->mod[i].start);
		put32(m + 4, (uint32_t)ms->mod[i].end);
		put32(m + 8, (uint32_t)mod_str[i]);
		mb_put(a, m, sizeof(m), i ? 1 : 16);
	}

	put32(mbi, flags);
	put32(mbi + 4, (uint32_t)(E820_EBDA_START >> 10));
	put32(mbi + 8, (uint32_t)((guest_mem_low_end(ram) - E820_HIGH_START) >> 10));
	put32(mbi + 16, (uint32_t)cmd);
	put32(mbi + 20, (uint32_t)ms->n);
	put32(mbi + 24, (uint32_t)mods);
	put32(mbi + 44, (uint32_t)(n * MB_MMAP_ENTRY));
	put32(mbi + 48, (uint32_t)mmap);
	put32(mbi + 64, (uint32_t)name);
	if (a->mem)
		guest_mem_write(a->mem, out->mbi, mbi, sizeof(mbi));
}

/* Low memory unless the kernel sits there or it is too small, else right
 * after the modules. */
static int mb_place_info(struct guest_mem *mem, const struct boot_image *img,
			 const char *cmdline, const struct elf_kernel *k,
			 const struct mb_modules *ms, struct mb_layout *lay)
{
	struct mb_area a = { .mem = NULL, .next = 0 };
	uint64_t size, base = MULTIBOOT_INFO_LOW;

	mb_write_info(&a, mem, img->path, cmdline, ms, lay);
	size = a.next;
	if (size > E820_EBDA_START - base || (k->lo < base + size && k->hi > base))
		base = ms->end;
	if (boot_check_range(mem, img->path, "boot information", base, size))
		return -1;
	a = (struct mb_area){ .mem = mem, .next = base };
	mb_write_info(&a, mem, img->path, cmdline, ms, lay);
	return 0;
}

/* 32-bit protected mode, paging off, flat segments, as the spec demands. */
static void mb_entry_state(struct x86_cpu_state *bsp, const struct elf_kernel *k,
			   const struct mb_layout *lay)
{
	boot32_entry_state(bsp, k->entry, lay->gdt, lay->tss);
	bsp->gpr[X86_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	bsp->gpr[X86_RBX] = lay->mbi;
}

int multiboot_load(struct guest_mem *mem, const struct machine_config *cfg,
		   const struct boot_image *img, struct x86_cpu_state *bsp)
{
	struct mb_header h;
	struct elf_kernel *k;
	struct mb_modules ms;
	struct mb_layout lay;
	int rc = -1;

	if (mb_find_header(img, &h))
		return -1;
	if (h.flags & 0xffff & ~MB_KNOWN_REQUIRED) {
		log_err("%s: multiboot header requires unsupported features (flags %#x)",
			img->path, h.flags);
		return -1;
	}
	if (h.flags & MULTIBOOT_VIDEO_MODE)
		log_warn("%s: video mode requested; vmon has a text console only", img->path);
	k = calloc(1, sizeof(*k));
	if (!k) {
		log_err("out of memory");
		return -1;
	}
	if (mb_modules_parse(cfg->initrd, &ms))
		goto out_kernel;
	if (!(h.flags & MULTIBOOT_AOUT_KLUDGE) && !elf_probe(img)) {
		log_err("%s: not an ELF file, and its multiboot header has no load addresses",
			img->path);
		goto out;
	}
	if (h.flags & MULTIBOOT_AOUT_KLUDGE ? mb_aout_segments(img, &h, k) :
					      elf_kernel_parse(img, k))
		goto out;
	if (elf_kernel_load(mem, img, k))
		goto out;
	if (k->entry >= BOOT_4G) {
		log_err("%s: entry point %#llx is above 4 GiB", img->path,
			(unsigned long long)k->entry);
		goto out;
	}
	if (mb_modules_load(mem, &ms, k->hi))
		goto out;
	if (mb_place_info(mem, img, cfg->cmdline ? cfg->cmdline : "", k, &ms, &lay))
		goto out;
	mb_entry_state(bsp, k, &lay);
	rc = 0;
out:
	mb_modules_free(&ms);
out_kernel:
	free(k);
	return rc;
}
