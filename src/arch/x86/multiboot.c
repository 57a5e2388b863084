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
#include "util/log.h"

#define MB_4G          (1ULL << 32)
#define MB_PAGE        4096ULL
#define MB_MAX_PHDRS   256
#define MB_MAX_MODS    64
#define MB_INFO_SIZE   120      /* the MBI up to and including the framebuffer fields */
#define MB_MMAP_ENTRY  24
#define MB_MOD_ENTRY   16
#define MB_TSS_SIZE    104
#define MB_GDT_ENTRIES 4
#define MB_LOADER_NAME "vmon"

/* Flags vmon can honour; any other in the low 16 (the "required" half) is fatal. */
#define MB_KNOWN_REQUIRED (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_VIDEO_MODE)

struct mb_header {
	uint64_t offset;              /* of the magic, in the file */
	uint32_t flags;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* One piece of the kernel image to place in guest RAM. */
struct mb_seg {
	uint64_t offset, filesz;      /* in the file */
	uint64_t paddr, vaddr, memsz;
};

struct mb_kernel {
	struct mb_seg seg[MB_MAX_PHDRS];
	int nsegs;
	uint64_t entry;
	uint64_t lo, hi;              /* hull of everything loaded */
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
			    struct mb_kernel *k)
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
	k->seg[0] = (struct mb_seg){
		.offset = off, .filesz = filesz, .paddr = h->load_addr,
		.vaddr = h->load_addr, .memsz = memend - h->load_addr,
	};
	k->nsegs = 1;
	k->entry = h->entry_addr;
	return 0;
}

/* ELF32 and ELF64 headers reduced to what the loader needs. */
struct mb_elf {
	int is64;
	uint16_t type, machine, phentsize, phnum;
	uint64_t entry, phoff;
};

static int mb_elf_header(const struct boot_image *img, struct mb_elf *e)
{
	const uint8_t *id = img->data;

	if (img->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG)) {
		log_err("%s: not an ELF file, and its multiboot header has no load addresses",
			img->path);
		return -1;
	}
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) {
		log_err("%s: unknown ELF class %u", img->path, id[EI_CLASS]);
		return -1;
	}
	if (id[EI_DATA] != ELFDATA2LSB) {
		log_err("%s: not a little-endian ELF file", img->path);
		return -1;
	}
	e->is64 = id[EI_CLASS] == ELFCLASS64;
	if (img->size < (e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		log_err("%s: truncated ELF header", img->path);
		return -1;
	}
	if (e->is64) {
		Elf64_Ehdr h;

		memcpy(&h, img->data, sizeof(h));
		*e = (struct mb_elf){ 1, h.e_type, h.e_machine, h.e_phentsize,
				      h.e_phnum, h.e_entry, h.e_phoff };
	} else {
		Elf32_Ehdr h;

		memcpy(&h, img->data, sizeof(h));
		*e = (struct mb_elf){ 0, h.e_type, h.e_machine, h.e_phentsize,
				      h.e_phnum, h.e_entry, h.e_phoff };
	}
	if (e->type != ET_EXEC) {
		log_err("%s: ELF type %u is not an executable", img->path, e->type);
		return -1;
	}
	if (e->machine != (e->is64 ? EM_X86_64 : EM_386)) {
		log_err("%s: ELF machine %u is not x86", img->path, e->machine);
		return -1;
	}
	return 0;
}

static void mb_elf_phdr(const struct boot_image *img, const struct mb_elf *e, int i,
			uint32_t *type, struct mb_seg *s)
{
	const uint8_t *p = img->data + e->phoff + (uint64_t)i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr ph;

		memcpy(&ph, p, sizeof(ph));
		*type = ph.p_type;
		*s = (struct mb_seg){ ph.p_offset, ph.p_filesz, ph.p_paddr,
				      ph.p_vaddr, ph.p_memsz };
	} else {
		Elf32_Phdr ph;

		memcpy(&ph, p, sizeof(ph));
		*type = ph.p_type;
		*s = (struct mb_seg){ ph.p_offset, ph.p_filesz, ph.p_paddr,
				      ph.p_vaddr, ph.p_memsz };
	}
}

static int mb_elf_check_seg(const struct boot_image *img, int i, const struct mb_seg *s)
{
	if (s->filesz > s->memsz) {
		log_err("%s: ELF segment %d has more file bytes than memory bytes", img->path, i);
		return -1;
	}
	if (s->offset > img->size || s->filesz > img->size - s->offset) {
		log_err("%s: ELF segment %d lies outside the file (truncated?)", img->path, i);
		return -1;
	}
	if (s->paddr >= MB_4G || s->memsz > MB_4G - s->paddr) {
		log_err("%s: ELF segment %d at %#llx (%#llx bytes) reaches beyond 4 GiB",
			img->path, i, (unsigned long long)s->paddr,
			(unsigned long long)s->memsz);
		return -1;
	}
	return 0;
}

/* The entry point is virtual: translate it through the segment holding it,
 * so that kernels linked high but loaded low start where they were put. */
static uint64_t mb_elf_entry(const struct mb_kernel *k, uint64_t entry)
{
	for (int i = 0; i < k->nsegs; i++) {
		const struct mb_seg *s = &k->seg[i];

		if (entry >= s->vaddr && entry - s->vaddr < s->memsz)
			return entry - s->vaddr + s->paddr;
	}
	return entry;
}

static int mb_elf_segments(const struct boot_image *img, struct mb_kernel *k)
{
	struct mb_elf e;
	uint32_t type;
	struct mb_seg s;

	if (mb_elf_header(img, &e))
		return -1;
	if (e.phentsize < (e.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))) {
		log_err("%s: ELF program header size %u is too small", img->path, e.phentsize);
		return -1;
	}
	if (!e.phnum || e.phnum > MB_MAX_PHDRS) {
		log_err("%s: ELF program header count %u (1 to %d supported)", img->path,
			e.phnum, MB_MAX_PHDRS);
		return -1;
	}
	if (e.phoff > img->size ||
	    (uint64_t)e.phnum * e.phentsize > img->size - e.phoff) {
		log_err("%s: ELF program headers lie outside the file", img->path);
		return -1;
	}
	k->nsegs = 0;
	for (int i = 0; i < e.phnum; i++) {
		mb_elf_phdr(img, &e, i, &type, &s);
		if (type != PT_LOAD || !s.memsz)
			continue;
		if (mb_elf_check_seg(img, i, &s))
			return -1;
		k->seg[k->nsegs++] = s;
	}
	if (!k->nsegs) {
		log_err("%s: ELF file has no loadable segments", img->path);
		return -1;
	}
	k->entry = mb_elf_entry(k, e.entry);
	return 0;
}

/* Guest RAM, below 4 GiB, and clear of the EBDA/BIOS hole under 1 MiB. */
static int mb_check_range(struct guest_mem *mem, const char *path, const char *what,
			  uint64_t addr, uint64_t len)
{
	if (addr >= MB_4G || len > MB_4G - addr || !guest_mem_ptr(mem, addr, len)) {
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

static int mb_load_kernel(struct guest_mem *mem, const struct boot_image *img,
			  struct mb_kernel *k)
{
	k->lo = UINT64_MAX;
	k->hi = 0;
	for (int i = 0; i < k->nsegs; i++) {
		const struct mb_seg *s = &k->seg[i];
		uint8_t *p;

		if (mb_check_range(mem, img->path, "kernel segment", s->paddr, s->memsz))
			return -1;
		p = guest_mem_ptr(mem, s->paddr, s->memsz);
		memcpy(p, img->data + s->offset, s->filesz);
		memset(p + s->filesz, 0, s->memsz - s->filesz);
		if (s->paddr < k->lo)
			k->lo = s->paddr;
		if (s->paddr + s->memsz > k->hi)
			k->hi = s->paddr + s->memsz;
	}
	if (k->entry >= MB_4G) {
		log_err("%s: entry point %#llx is above 4 GiB", img->path,
			(unsigned long long)k->entry);
		return -1;
	}
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

static void mb_gdt(uint8_t gdt[MB_GDT_ENTRIES * 8], uint64_t tss)
{
	/* Flat 4 GiB 32-bit code and data, accessed bits preset so the CPU
	 * never writes to the table; then the busy 32-bit TSS that TR holds. */
	uint64_t desc[MB_GDT_ENTRIES] = {
		0,
		0x00cf9b000000ffffULL,
		0x00cf93000000ffffULL,
		(MB_TSS_SIZE - 1) | (tss & 0xffffff) << 16 | 0x8bULL << 40 |
			(tss >> 24 & 0xff) << 56,
	};

	for (int i = 0; i < MB_GDT_ENTRIES; i++)
		put64(gdt + 8 * i, desc[i]);
}

/*
 * Writes (or, with a->mem NULL, measures) the GDT, TSS, MBI, memory map,
 * module list and strings, in this order, and returns their addresses.
 */
static void mb_write_info(struct mb_area *a, const struct guest_mem *ram,
			  const char *kernel, const char *cmdline,
			  const struct mb_modules *ms, struct mb_layout *out)
{
	static const uint8_t tss[MB_TSS_SIZE];
	uint8_t gdt[MB_GDT_ENTRIES * 8], mbi[MB_INFO_SIZE] = { 0 }, ent[MB_MMAP_ENTRY];
	struct e820_entry map[E820_MAX_ENTRIES];
	uint32_t flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
			 MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_LOADER;
	uint64_t mmap, mods, name, mod_str[MB_MAX_MODS], cmd;
	int n = e820_build(ram, map, E820_MAX_ENTRIES);

	out->gdt = align_up(a->next, 16);
	out->tss = out->gdt + sizeof(gdt);
	mb_gdt(gdt, out->tss);
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
			 const char *cmdline, const struct mb_kernel *k,
			 const struct mb_modules *ms, struct mb_layout *lay)
{
	struct mb_area a = { .mem = NULL, .next = 0 };
	uint64_t size, base = MULTIBOOT_INFO_LOW;

	mb_write_info(&a, mem, img->path, cmdline, ms, lay);
	size = a.next;
	if (size > E820_EBDA_START - base || (k->lo < base + size && k->hi > base))
		base = ms->end;
	if (mb_check_range(mem, img->path, "boot information", base, size))
		return -1;
	a = (struct mb_area){ .mem = mem, .next = base };
	mb_write_info(&a, mem, img->path, cmdline, ms, lay);
	return 0;
}

/* 32-bit protected mode, paging off, flat segments, as the spec demands. */
static void mb_entry_state(struct x86_cpu_state *bsp, const struct mb_kernel *k,
			   const struct mb_layout *lay)
{
	x86_cpu_state_reset(bsp, 1);
	bsp->gpr[X86_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	bsp->gpr[X86_RBX] = lay->mbi;
	bsp->rip = k->entry;
	bsp->rflags = X86_RFLAGS_FIXED;
	x86_seg_flat(&bsp->seg[X86_CS], MULTIBOOT_CS, 1, 32);
	x86_seg_flat(&bsp->seg[X86_DS], MULTIBOOT_DS, 0, 32);
	x86_seg_flat(&bsp->seg[X86_ES], MULTIBOOT_DS, 0, 32);
	x86_seg_flat(&bsp->seg[X86_FS], MULTIBOOT_DS, 0, 32);
	x86_seg_flat(&bsp->seg[X86_GS], MULTIBOOT_DS, 0, 32);
	x86_seg_flat(&bsp->seg[X86_SS], MULTIBOOT_DS, 0, 32);
	bsp->seg[X86_TR] = (struct x86_segment){
		.base = lay->tss, .limit = MB_TSS_SIZE - 1, .selector = MULTIBOOT_TR,
		.type = 0xb, .present = 1,
	};
	bsp->gdt = (struct x86_dtable){ .base = lay->gdt, .limit = MB_GDT_ENTRIES * 8 - 1 };
	/* No IDT yet: an early fault should shut down, not jump through the
	 * real-mode vector table. */
	bsp->idt = (struct x86_dtable){ .base = 0, .limit = 0 };
	bsp->cr0 = X86_CR0_PE | X86_CR0_ET;
}

int multiboot_load(struct guest_mem *mem, const struct machine_config *cfg,
		   const struct boot_image *img, struct x86_cpu_state *bsp)
{
	struct mb_header h;
	struct mb_kernel *k;
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
	if (h.flags & MULTIBOOT_AOUT_KLUDGE ? mb_aout_segments(img, &h, k) :
					      mb_elf_segments(img, k))
		goto out;
	if (mb_load_kernel(mem, img, k) || mb_modules_load(mem, &ms, k->hi))
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
