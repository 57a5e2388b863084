/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "arch/x86/pvh.h"
#include "boot_rig.h"
#include "test.h"

#define MiB (1ULL << 20)
#define KBASE 0x100000ULL
#define NOTE_OFF 0x200

static char dir[] = "/tmp/vmon-test-pvh-XXXXXX";
static struct guest_mem mem;
static struct x86_cpu_state st;
static uint8_t img[0x4000];

/* Appends a note at *off: returns the offset of its descriptor. */
static size_t note(size_t *off, const char *name, uint32_t type, const void *desc,
		   uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1, hdr[3] = { namesz, descsz, type };
	size_t d;

	memcpy(img + *off, hdr, sizeof(hdr));
	memcpy(img + *off + 12, name, namesz);
	d = *off + 12 + ((namesz + 3) & ~3u);
	memcpy(img + d, desc, descsz);
	*off = d + ((descsz + 3) & ~3u);
	return d;
}

/*
 * An ELF64 vmlinux in miniature: one PT_LOAD of 0x1000 bytes at paddr
 * (linked at the kernel's virtual address), a PT_NOTE with an unrelated Xen
 * note and then the PVH entry, entry_len bytes wide.
 */
static size_t kernel(uint64_t paddr, uint64_t entry, uint32_t entry_len)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	size_t off = NOTE_OFF;

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_entry = 0xffffffff80000000ULL + paddr;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	note(&off, "Xen", 6, "linux", 6);
	note(&off, "Xen", 18, &entry, entry_len);
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = paddr,
			      .p_vaddr = 0xffffffff80000000ULL + paddr, .p_filesz = 0x1000,
			      .p_memsz = 0x2000 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
			      .p_filesz = off - NOTE_OFF };
	for (size_t i = 0x1000; i < 0x2000; i++)
		img[i] = (uint8_t)(i * 3);
	return 0x2000;
}

static void loads_and_enters(void)
{
	static uint8_t rd[5000];
	struct e820_entry map[E820_MAX_ENTRIES];
	const char *k, *initrd;
	uint64_t si = PVH_START_INFO_ADDR, mods, mmap;
	const uint8_t *p;

	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i ^ 0x5a);
	k = rig_file(dir, "vmlinux", img, kernel(KBASE, KBASE + 0x10, 8));
	initrd = rig_file(dir, "initrd", rd, sizeof(rd));
	CHECK_EQ(rig_boot(&mem, &st, k, initrd, "console=ttyS0 quiet", 64 * MiB), 0);
	/* The entry the specification asks for. */
	CHECK_EQ(st.rip, KBASE + 0x10);
	CHECK_EQ(st.gpr[X86_RBX], si);
	CHECK((st.cr0 & X86_CR0_PE) && !(st.cr0 & X86_CR0_PG));
	CHECK(st.seg[X86_CS].db && !st.seg[X86_CS].l && st.seg[X86_CS].limit == 0xffffffff);
	CHECK(st.seg[X86_DS].db && st.seg[X86_SS].limit == 0xffffffff);
	CHECK_EQ(st.seg[X86_TR].type, 0xb);
	CHECK_EQ(st.rflags, X86_RFLAGS_FIXED);
	/* The kernel, by physical address; its bss zeroed. */
	p = guest_mem_ptr(&mem, KBASE, 0x2000);
	CHECK(p && !memcmp(p, img + 0x1000, 0x1000) && !p[0x1000] && !p[0x1fff]);
	/* hvm_start_info. */
	CHECK_EQ(rig_rd32(&mem, si), PVH_START_MAGIC);
	CHECK_EQ(rig_rd32(&mem, si + 4), 1);
	CHECK_EQ(rig_rd32(&mem, si + 12), 1);
	CHECK_EQ(rig_rd64(&mem, si + 32), ACPI_RSDP_ADDR);
	CHECK(!strcmp(guest_mem_ptr(&mem, rig_rd64(&mem, si + 24), 1), "console=ttyS0 quiet"));
	mmap = rig_rd64(&mem, si + 40);
	CHECK_EQ(rig_rd32(&mem, si + 48), e820_build(&mem, map, E820_MAX_ENTRIES));
	for (uint32_t i = 0; i < rig_rd32(&mem, si + 48); i++) {
		CHECK_EQ(rig_rd64(&mem, mmap + 24 * i), map[i].addr);
		CHECK_EQ(rig_rd64(&mem, mmap + 24 * i + 8), map[i].size);
		CHECK_EQ(rig_rd32(&mem, mmap + 24 * i + 16), map[i].type);
	}
	/* The initrd is module 0: page-aligned, above the kernel, intact. */
	mods = rig_rd64(&mem, si + 16);
	CHECK_EQ(rig_rd64(&mem, mods + 8), sizeof(rd));
	CHECK(!(rig_rd64(&mem, mods) & 0xfff) && rig_rd64(&mem, mods) >= KBASE + 0x2000);
	p = guest_mem_ptr(&mem, rig_rd64(&mem, mods), sizeof(rd));
	CHECK(p && !memcmp(p, rd, sizeof(rd)));
}

/* A 32-bit note, no initrd, no command line. */
static void minimal(void)
{
	uint32_t entry = KBASE + 0x20;
	size_t len = kernel(KBASE, 0, 8);
	size_t off = NOTE_OFF;

	note(&off, "Xen", 6, "linux", 6);
	note(&off, "Xen", 18, &entry, 4);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "k32", img, len), NULL, NULL, 16 * MiB), 0);
	CHECK_EQ(st.rip, KBASE + 0x20);
	CHECK_EQ(rig_rd32(&mem, PVH_START_INFO_ADDR + 12), 0);
	CHECK_EQ(*(const char *)guest_mem_ptr(&mem, PVH_CMDLINE_ADDR, 1), 0);
}

static void bad_input(void)
{
	static char longcmd[PVH_CMDLINE_MAX + 1];
	static uint8_t big[MiB + MiB / 2];
	size_t len;

	/* Entry outside the loaded segment. */
	len = kernel(KBASE, KBASE + 0x4000, 8);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "far", img, len), NULL, NULL, 16 * MiB), -1);
	/* A kernel among vmon's boot structures. */
	len = kernel(0x10000, 0x10010, 8);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "low", img, len), NULL, NULL, 16 * MiB), -1);
	/* Command line over the kernel's limit. */
	memset(longcmd, 'x', PVH_CMDLINE_MAX);
	len = kernel(KBASE, KBASE, 8);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "k", img, len), NULL, longcmd, 16 * MiB), -1);
	longcmd[PVH_CMDLINE_MAX - 1] = 0;
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "k", img, len), NULL, longcmd, 16 * MiB), 0);
	/* An initrd that does not fit above the kernel. */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "k", img, len), rig_file(dir, "big", big, sizeof(big)),
		      NULL, 2 * MiB), -1);
	/* A note whose name runs past its segment: no PVH entry at all. */
	len = kernel(KBASE, KBASE, 8);
	memset(img + NOTE_OFF, 0xff, 4);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "badnote", img, len), NULL, NULL, 16 * MiB), -1);
	/* An entry note of another width. */
	len = kernel(KBASE, KBASE, 2);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "width", img, len), NULL, NULL, 16 * MiB), -1);
}

/* Random damage to the headers and notes: an error or a boot, never a crash. */
static void mutated(void)
{
	uint8_t orig[0x2000];
	uint32_t rng = 4242;
	size_t len = kernel(KBASE, KBASE + 0x10, 8);
	int ok = 0;

	memcpy(orig, img, sizeof(orig));
	for (int round = 0; round < 300; round++) {
		memcpy(img, orig, sizeof(orig));
		for (int j = 0; j < 3; j++) {
			rng = rng * 1103515245 + 12345;
			size_t at = (rng >> 8) % (NOTE_OFF + 0x40);

			rng = rng * 1103515245 + 12345;
			img[at] = (uint8_t)(rng >> 16);
		}
		if (rig_boot(&mem, &st, rig_file(dir, "mutant", img, len), NULL, NULL, 16 * MiB) == 0)
			ok++;
	}
	CHECK(ok > 0 && ok < 300);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL pvh: mkdtemp\n");
		return 1;
	}
	RUN(loads_and_enters);
	RUN(minimal);
	RUN(bad_input);
	RUN(mutated);
	guest_mem_destroy(&mem);
	rig_rmdir(dir, "pvh");
	return TEST_EXIT();
}
