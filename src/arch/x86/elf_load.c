/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ELF kernels as boot loaders load them: by program headers, at physical
 * addresses, with no relocation.  Shared by multiboot and PVH.
 */
#include "arch/x86/elf_load.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

int elf_probe(const struct boot_image *img)
{
	return img->size >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG);
}

/* ELF32 and ELF64 headers reduced to what the loader needs. */
struct elf_hdr {
	int is64;
	uint16_t type, machine, phentsize, phnum;
	uint64_t entry, phoff;
};

/*
 * Reads and checks the file header and where the program headers lie:
 * NULL, or what is wrong (in why, for a log line or a silent probe).
 */
static const char *elf_header(const struct boot_image *img, struct elf_hdr *e,
			      char *why, size_t len)
{
	const uint8_t *id = img->data;

	if (!elf_probe(img) || img->size < EI_NIDENT)
		return "not an ELF file";
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) {
		snprintf(why, len, "unknown ELF class %u", id[EI_CLASS]);
		return why;
	}
	if (id[EI_DATA] != ELFDATA2LSB)
		return "not a little-endian ELF file";
	e->is64 = id[EI_CLASS] == ELFCLASS64;
	if (img->size < (e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return "truncated ELF header";
	if (e->is64) {
		Elf64_Ehdr h;

		memcpy(&h, img->data, sizeof(h));
		*e = (struct elf_hdr){ 1, h.e_type, h.e_machine, h.e_phentsize,
				       h.e_phnum, h.e_entry, h.e_phoff };
	} else {
		Elf32_Ehdr h;

		memcpy(&h, img->data, sizeof(h));
		*e = (struct elf_hdr){ 0, h.e_type, h.e_machine, h.e_phentsize,
				       h.e_phnum, h.e_entry, h.e_phoff };
	}
	if (e->type != ET_EXEC) {
		snprintf(why, len, "ELF type %u is not an executable", e->type);
		return why;
	}
	if (e->machine != (e->is64 ? EM_X86_64 : EM_386)) {
		snprintf(why, len, "ELF machine %u is not x86", e->machine);
		return why;
	}
	if (e->phentsize < (e->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))) {
		snprintf(why, len, "ELF program header size %u is too small", e->phentsize);
		return why;
	}
	if (!e->phnum || e->phnum > ELF_MAX_SEGS) {
		snprintf(why, len, "ELF program header count %u (1 to %d supported)",
			 e->phnum, ELF_MAX_SEGS);
		return why;
	}
	if (e->phoff > img->size || (uint64_t)e->phnum * e->phentsize > img->size - e->phoff)
		return "ELF program headers lie outside the file";
	return NULL;
}

static void elf_phdr(const struct boot_image *img, const struct elf_hdr *e, int i,
		     uint32_t *type, struct elf_seg *s)
{
	const uint8_t *p = img->data + e->phoff + (uint64_t)i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr ph;

		memcpy(&ph, p, sizeof(ph));
		*type = ph.p_type;
		*s = (struct elf_seg){ ph.p_offset, ph.p_filesz, ph.p_paddr,
				       ph.p_vaddr, ph.p_memsz };
	} else {
		Elf32_Phdr ph;

		memcpy(&ph, p, sizeof(ph));
		*type = ph.p_type;
		*s = (struct elf_seg){ ph.p_offset, ph.p_filesz, ph.p_paddr,
				       ph.p_vaddr, ph.p_memsz };
	}
}

static int elf_check_seg(const struct boot_image *img, int i, const struct elf_seg *s)
{
	if (s->filesz > s->memsz) {
		log_err("%s: ELF segment %d has more file bytes than memory bytes", img->path, i);
		return -1;
	}
	if (s->offset > img->size || s->filesz > img->size - s->offset) {
		log_err("%s: ELF segment %d lies outside the file (truncated?)", img->path, i);
		return -1;
	}
	if (s->paddr >= BOOT_4G || s->memsz > BOOT_4G - s->paddr) {
		log_err("%s: ELF segment %d at %#llx (%#llx bytes) reaches beyond 4 GiB",
			img->path, i, (unsigned long long)s->paddr,
			(unsigned long long)s->memsz);
		return -1;
	}
	return 0;
}

/* The entry point is virtual: translate it through the segment holding it,
 * so that kernels linked high but loaded low start where they were put. */
static uint64_t elf_entry(const struct elf_kernel *k, uint64_t entry)
{
	for (int i = 0; i < k->nsegs; i++) {
		const struct elf_seg *s = &k->seg[i];

		if (entry >= s->vaddr && entry - s->vaddr < s->memsz)
			return entry - s->vaddr + s->paddr;
	}
	return entry;
}

int elf_kernel_parse(const struct boot_image *img, struct elf_kernel *k)
{
	struct elf_hdr e;
	uint32_t type;
	struct elf_seg s;
	char buf[80];
	const char *why = elf_header(img, &e, buf, sizeof(buf));

	if (why) {
		log_err("%s: %s", img->path, why);
		return -1;
	}
	k->nsegs = 0;
	for (int i = 0; i < e.phnum; i++) {
		elf_phdr(img, &e, i, &type, &s);
		if (type != PT_LOAD || !s.memsz)
			continue;
		if (elf_check_seg(img, i, &s))
			return -1;
		k->seg[k->nsegs++] = s;
	}
	if (!k->nsegs) {
		log_err("%s: ELF file has no loadable segments", img->path);
		return -1;
	}
	k->entry = elf_entry(k, e.entry);
	return 0;
}

int elf_kernel_load(struct guest_mem *mem, const struct boot_image *img,
		    struct elf_kernel *k)
{
	k->lo = UINT64_MAX;
	k->hi = 0;
	for (int i = 0; i < k->nsegs; i++) {
		const struct elf_seg *s = &k->seg[i];
		uint8_t *p;

		if (boot_check_range(mem, img->path, "kernel segment", s->paddr, s->memsz))
			return -1;
		p = guest_mem_ptr(mem, s->paddr, s->memsz);
		memcpy(p, img->data + s->offset, s->filesz);
		memset(p + s->filesz, 0, s->memsz - s->filesz);
		if (s->paddr < k->lo)
			k->lo = s->paddr;
		if (s->paddr + s->memsz > k->hi)
			k->hi = s->paddr + s->memsz;
	}
	return 0;
}


static uint32_t elf_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Notes are 4-byte aligned records: namesz, descsz, type, name, desc. */
static int elf_note_in(const struct boot_image *img, const struct elf_seg *s,
		       const char *name, uint32_t type, uint64_t *desc_off, uint32_t *desc_len)
{
	uint64_t off = s->offset, end = s->offset + s->filesz;
	size_t want = strlen(name) + 1;

	while (end - off >= 12) {
		uint64_t namesz = elf_get32(img->data + off);
		uint64_t descsz = elf_get32(img->data + off + 4);
		uint64_t name_off = off + 12, dsc = name_off + ((namesz + 3) & ~3ULL);

		if (dsc > end || ((descsz + 3) & ~3ULL) > end - dsc)
			return 0;
		if (elf_get32(img->data + off + 8) == type && namesz == want &&
		    !memcmp(img->data + name_off, name, want)) {
			*desc_off = dsc;
			*desc_len = (uint32_t)descsz;
			return 1;
		}
		off = dsc + ((descsz + 3) & ~3ULL);
	}
	return 0;
}

int elf_find_note(const struct boot_image *img, const char *name, uint32_t type,
		  uint64_t *desc_off, uint32_t *desc_len)
{
	struct elf_hdr e;
	struct elf_seg s;
	uint32_t ptype;
	char why[80];

	if (elf_header(img, &e, why, sizeof(why)))
		return 0;
	for (int i = 0; i < e.phnum; i++) {
		elf_phdr(img, &e, i, &ptype, &s);
		if (ptype != PT_NOTE || s.offset > img->size || s.filesz > img->size - s.offset)
			continue;
		if (elf_note_in(img, &s, name, type, desc_off, desc_len))
			return 1;
	}
	return 0;
}
