/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "arch/x86/multiboot.h"
#include "boot_rig.h"
#include "test.h"

#define MiB (1ULL << 20)

static char dir[] = "/tmp/vmon-test-mb-XXXXXX";
static struct guest_mem mem;
static struct x86_cpu_state st;
static uint8_t img[64 * 1024];

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static const char *gstr(uint64_t gpa)
{
	const char *p = guest_mem_ptr(&mem, gpa, 1);

	return p ? p : "<not in RAM>";
}

/* A multiboot header at off; aout != 0 adds the address fields. */
static void mb_header(uint8_t *p, uint32_t flags, const uint32_t *aout)
{
	put32(p, MULTIBOOT_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(MULTIBOOT_HEADER_MAGIC + flags));
	if (aout)
		memcpy(p + 12, aout, 20);
}

struct seg {
	uint64_t offset, paddr, vaddr, filesz, memsz;
};

/* An ELF32 executable: header, program headers, multiboot header at 0x200,
 * payload bytes i & 0xff from 0x1000 on. */
static size_t elf32(uint32_t entry, const struct seg *segs, int n)
{
	Elf32_Ehdr *eh = (Elf32_Ehdr *)img;

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf32_Phdr);
	eh->e_phnum = (uint16_t)n;
	for (int i = 0; i < n; i++) {
		Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(*eh)) + i;

		*ph = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = (uint32_t)segs[i].offset,
				    .p_vaddr = (uint32_t)segs[i].vaddr,
				    .p_paddr = (uint32_t)segs[i].paddr,
				    .p_filesz = (uint32_t)segs[i].filesz,
				    .p_memsz = (uint32_t)segs[i].memsz, .p_flags = PF_R | PF_X };
	}
	mb_header(img + 0x200, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO, NULL);
	for (size_t i = 0x1000; i < sizeof(img); i++)
		img[i] = (uint8_t)i;
	return 0x4000;
}

static size_t elf64(uint64_t entry, const struct seg *segs, int n)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)n;
	for (int i = 0; i < n; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh)) + i;

		*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = segs[i].offset,
				    .p_vaddr = segs[i].vaddr, .p_paddr = segs[i].paddr,
				    .p_filesz = segs[i].filesz, .p_memsz = segs[i].memsz };
	}
	mb_header(img + 0x400, 0, NULL);
	for (size_t i = 0x1000; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	return 0x4000;
}

/* The entry state the specification asks for. */
static int protected_mode_entry(void)
{
	const struct x86_segment *cs = &st.seg[X86_CS];

	if (st.gpr[X86_RAX] != MULTIBOOT_BOOTLOADER_MAGIC)
		return 0;
	if (!(st.cr0 & X86_CR0_PE) || (st.cr0 & X86_CR0_PG))
		return 0;
	if (st.rflags != X86_RFLAGS_FIXED)
		return 0;
	if (cs->selector != 0x08 || cs->base || cs->limit != 0xffffffff || !cs->db ||
	    cs->l || !(cs->type & 8))
		return 0;
	for (int s = X86_ES; s <= X86_GS; s++) {
		if (s == X86_CS)
			continue;
		if (st.seg[s].selector != 0x10 || st.seg[s].base ||
		    st.seg[s].limit != 0xffffffff || (st.seg[s].type & 8) || !st.seg[s].db)
			return 0;
	}
	if (st.seg[X86_TR].type != 0xb || !st.seg[X86_TR].present || st.seg[X86_TR].s)
		return 0;
	/* The GDT in guest memory agrees with the loaded segments. */
	if (st.gdt.limit < 0x1f || rig_rd64(&mem, st.gdt.base + 8) != 0x00cf9b000000ffffULL ||
	    rig_rd64(&mem, st.gdt.base + 16) != 0x00cf93000000ffffULL)
		return 0;
	return ((rig_rd64(&mem, st.gdt.base + 24) >> 40) & 0xff) == 0x8b;
}

static void elf32_loads_and_enters(void)
{
	struct seg s[2] = {
		{ 0x1000, 0x100000, 0x100000, 0x800, 0x3000 },
		{ 0x2000, 0x200000, 0x200000, 0x100, 0x100 },
	};
	size_t n = elf32(0x100010, s, 2);
	const char *path = rig_file(dir, "k32.elf", img, n);
	struct e820_entry map[E820_MAX_ENTRIES];
	uint64_t mbi;
	int nmap;
	char want[300];

	CHECK(rig_boot(&mem, &st, path, NULL, "console=ttyS0 hello", 128 * MiB) == 0);
	CHECK(rig_bytes_are(&mem, 0x100000, img + 0x1000, 0x800));
	CHECK(rig_zeroes(&mem, 0x100800, 0x2800));
	CHECK(rig_bytes_are(&mem, 0x200000, img + 0x2000, 0x100));
	CHECK_EQ(st.rip, 0x100010);
	CHECK(protected_mode_entry());

	mbi = st.gpr[X86_RBX];
	CHECK(mbi < E820_EBDA_START);
	CHECK_EQ(rig_rd32(&mem, mbi) & 0x24d, 0x24d);          /* mem, cmdline, mods, mmap, name */
	CHECK_EQ(rig_rd32(&mem, mbi + 4), 639);
	CHECK_EQ(rig_rd32(&mem, mbi + 8), 127 * 1024);
	snprintf(want, sizeof(want), "%s console=ttyS0 hello", path);
	CHECK(!strcmp(gstr(rig_rd32(&mem, mbi + 16)), want));
	CHECK_EQ(rig_rd32(&mem, mbi + 20), 0);
	CHECK(!strcmp(gstr(rig_rd32(&mem, mbi + 64)), "vmon"));

	nmap = e820_build(&mem, map, E820_MAX_ENTRIES);
	CHECK_EQ(rig_rd32(&mem, mbi + 44), nmap * 24);
	for (int i = 0; i < nmap; i++) {
		uint64_t e = rig_rd32(&mem, mbi + 48) + 24ULL * i;

		CHECK_EQ(rig_rd32(&mem, e), 20);
		CHECK_EQ(rig_rd64(&mem, e + 4), map[i].addr);
		CHECK_EQ(rig_rd64(&mem, e + 12), map[i].size);
		CHECK_EQ(rig_rd32(&mem, e + 20), map[i].type);
	}
}

static void elf32_empty_cmdline_is_path(void)
{
	struct seg s = { 0x1000, 0x100000, 0x100000, 0x10, 0x10 };
	size_t n = elf32(0x100000, &s, 1);
	const char *path = rig_file(dir, "k32c.elf", img, n);

	CHECK(rig_boot(&mem, &st, path, NULL, "", 16 * MiB) == 0);
	CHECK(!strcmp(gstr(rig_rd32(&mem, st.gpr[X86_RBX] + 16)), path));
}

/* A kernel linked high but loaded low starts at the physical entry. */
static void elf32_virtual_entry(void)
{
	struct seg s = { 0x1000, 0x100000, 0xc0100000, 0x100, 0x100 };
	size_t n = elf32(0xc0100020, &s, 1);

	CHECK(rig_boot(&mem, &st, rig_file(dir, "khigh.elf", img, n), NULL, "", 16 * MiB) == 0);
	CHECK_EQ(st.rip, 0x100020);
	CHECK(rig_bytes_are(&mem, 0x100000, img + 0x1000, 0x100));
}

static void elf64_loads(void)
{
	struct seg s = { 0x1000, 0x300000, 0x300000, 0x1800, 0x2000 };
	size_t n = elf64(0x300100, &s, 1);

	CHECK(rig_boot(&mem, &st, rig_file(dir, "k64.elf", img, n), NULL, NULL, 32 * MiB) == 0);
	CHECK(rig_bytes_are(&mem, 0x300000, img + 0x1000, 0x1800));
	CHECK(rig_zeroes(&mem, 0x301800, 0x800));
	CHECK_EQ(st.rip, 0x300100);
	CHECK(protected_mode_entry());
}

/* Header at file offset 0x40, loaded so that it lands at 0x100040. */
static size_t aout_image(uint32_t load_end, uint32_t bss_end)
{
	uint32_t aout[5] = { 0x100040, 0x100000, load_end, bss_end, 0x100080 };

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 13 + 1);
	mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_PAGE_ALIGN, aout);
	return 0x3000;
}

static void aout_kludge_loads(void)
{
	size_t n = aout_image(0x102000, 0x105000);

	CHECK(rig_boot(&mem, &st, rig_file(dir, "aout.bin", img, n), NULL, NULL, 16 * MiB) == 0);
	CHECK(rig_bytes_are(&mem, 0x100000, img, 0x2000));
	CHECK(rig_zeroes(&mem, 0x102000, 0x3000));
	CHECK_EQ(st.rip, 0x100080);
	CHECK(protected_mode_entry());

	n = aout_image(0, 0);                          /* load to the end of file */
	CHECK(rig_boot(&mem, &st, rig_file(dir, "aout2.bin", img, n), NULL, NULL, 16 * MiB) == 0);
	CHECK(rig_bytes_are(&mem, 0x100000, img, n));
}

static void modules_loaded(void)
{
	struct seg s = { 0x1000, 0x100000, 0x100000, 0x100, 0x1234 };
	size_t n = elf32(0x100000, &s, 1);
	const char *k = rig_file(dir, "kmod.elf", img, n);
	const char *m1 = rig_file(dir, "mod1", "first module", 12);
	const char *m2 = rig_file(dir, "mod2", "second", 6);
	const char *m3 = rig_file(dir, "mod3", "", 0);
	char list[800];
	uint64_t mods, prev_end = 0x101234;

	snprintf(list, sizeof(list), "%s,%s,%s", m1, m2, m3);
	CHECK(rig_boot(&mem, &st, k, list, "x", 16 * MiB) == 0);
	CHECK_EQ(rig_rd32(&mem, st.gpr[X86_RBX] + 20), 3);
	mods = rig_rd32(&mem, st.gpr[X86_RBX] + 24);
	for (int i = 0; i < 3; i++) {
		uint64_t start = rig_rd32(&mem, mods + 16 * i), end = rig_rd32(&mem, mods + 16 * i + 4);
		const char *path = i == 0 ? m1 : i == 1 ? m2 : m3;

		CHECK_EQ(start & 0xfff, 0);
		CHECK(start >= prev_end);
		CHECK(!strcmp(gstr(rig_rd32(&mem, mods + 16 * i + 8)), path));
		prev_end = end;
	}
	CHECK_EQ(rig_rd32(&mem, mods + 4) - rig_rd32(&mem, mods), 12);
	CHECK(rig_bytes_are(&mem, rig_rd32(&mem, mods), (const uint8_t *)"first module", 12));
	CHECK(rig_bytes_are(&mem, rig_rd32(&mem, mods + 16), (const uint8_t *)"second", 6));
	CHECK_EQ(rig_rd32(&mem, mods + 36), rig_rd32(&mem, mods + 32));
}

/* A kernel in low memory pushes the boot information above the modules. */
static void info_moves_away_from_low_kernel(void)
{
	struct seg s = { 0x1000, 0x8000, 0x8000, 0x2000, 0x3000 };
	size_t n = elf32(0x8000, &s, 1);
	uint64_t mbi;

	CHECK(rig_boot(&mem, &st, rig_file(dir, "klow.elf", img, n), NULL, "low", 16 * MiB) == 0);
	mbi = st.gpr[X86_RBX];
	CHECK(mbi >= MiB);
	CHECK(st.gdt.base >= MiB);
	CHECK(rig_bytes_are(&mem, 0x8000, img + 0x1000, 0x2000));
	CHECK(rig_zeroes(&mem, 0xa000, 0x1000));
	CHECK(protected_mode_entry());
	CHECK_EQ(rig_rd32(&mem, mbi + 4), 639);
}

static void flat_binary(void)
{
	struct machine_config cfg = { .flat = 1, .flat_addr = 0x7c00 };
	static const uint8_t code[] = { 0xfa, 0xf4, 0xeb, 0xfd };

	cfg.kernel = rig_file(dir, "boot.bin", code, sizeof(code));
	guest_mem_destroy(&mem);
	CHECK(guest_mem_init(&mem, 16 * MiB) == 0);
	CHECK(x86_boot_load(&mem, &cfg, &st) == 0);
	CHECK(rig_bytes_are(&mem, 0x7c00, code, sizeof(code)));
	CHECK(!(st.cr0 & X86_CR0_PE));
	CHECK_EQ(st.seg[X86_CS].selector, 0);
	CHECK_EQ(st.seg[X86_CS].base, 0);
	CHECK_EQ(st.rip, 0x7c00);
	CHECK_EQ(st.gpr[X86_RSP], 0x7c00);
	CHECK_EQ(st.gpr[X86_RDX] & 0xff, 0x80);
	CHECK_EQ(st.seg[X86_SS].base, 0);

	cfg.flat_addr = 0x10000;
	CHECK(x86_boot_load(&mem, &cfg, &st) == 0);
	CHECK_EQ(st.seg[X86_CS].base + st.rip, 0x10000);

	cfg.flat_addr = 0x9fc00 - 2;               /* does not fit below the EBDA */
	CHECK_EQ(x86_boot_load(&mem, &cfg, &st), -1);
	cfg.flat_addr = 0xa0000;
	CHECK_EQ(x86_boot_load(&mem, &cfg, &st), -1);
}

/* Each of these must fail cleanly: -1, no crash, nothing outside RAM. */
static void bad_images(void)
{
	struct seg s = { 0x1000, 0x100000, 0x100000, 0x100, 0x100 };
	size_t n;
	uint32_t aout[5];

	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "empty", "", 0), NULL, NULL, 16 * MiB), -1);
	CHECK_EQ(rig_boot(&mem, &st, "/nonexistent/kernel", NULL, NULL, 16 * MiB), -1);
	CHECK_EQ(rig_boot(&mem, &st, dir, NULL, NULL, 16 * MiB), -1);          /* a directory */
	memset(img, 0x90, 4096);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "garbage", img, 4096), NULL, NULL, 16 * MiB), -1);

	/* Magic in the last word: a truncated header. */
	put32(img + 4092, MULTIBOOT_HEADER_MAGIC);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "trunc", img, 4096), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	put32(img + 0x208, 0x12345678);                        /* checksum */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "badsum", img, n), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	mb_header(img + 0x200, 1U << 3, NULL);                 /* unknown required flag */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "flag3", img, n), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "short", img, 0x1080), NULL, NULL, 16 * MiB), -1);

	/* ELF ident, then the multiboot header, then the file ends. */
	n = elf32(0x100000, &s, 1);
	mb_header(img + 16, 0, NULL);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "ehdr", img, 40), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	((Elf32_Ehdr *)img)->e_phnum = 0xffff;
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "phnum", img, n), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	((Elf32_Ehdr *)img)->e_phnum = 200;                    /* past end of file */
	((Elf32_Ehdr *)img)->e_phoff = 0xfffffff0;
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "phoff", img, n), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	((Elf32_Ehdr *)img)->e_type = ET_DYN;
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "dyn", img, n), NULL, NULL, 16 * MiB), -1);

	n = elf32(0x100000, &s, 1);
	((Elf32_Ehdr *)img)->e_machine = EM_ARM;
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "arm", img, n), NULL, NULL, 16 * MiB), -1);

	struct seg bad[] = {
		{ 0x3f00, 0x100000, 0x100000, 0x200, 0x200 },        /* past end of file */
		{ 0xffffff00, 0x100000, 0x100000, 0x200, 0x200 },    /* offset overflow */
		{ 0x1000, 0x10000000, 0x10000000, 0x10, 0x10 },      /* beyond 16M RAM */
		{ 0x1000, 0xfffff000, 0xfffff000, 0x10, 0x2000 },    /* wraps 4 GiB */
		{ 0x1000, 0x9f000, 0x9f000, 0x10, 0x2000 },          /* into the EBDA */
		{ 0x1000, 0xe0000, 0xe0000, 0x10, 0x10 },            /* ACPI area */
		{ 0x1000, 0x100000, 0x100000, 0x200, 0x100 },        /* filesz > memsz */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = elf32(0x100000, &bad[i], 1);
		CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "badseg", img, n), NULL, NULL, 16 * MiB), -1);
	}

	/* ELF64 segment above 4 GiB, and an entry point there. */
	s = (struct seg){ 0x1000, 0x100000000ULL, 0x100000000ULL, 0x10, 0x10 };
	n = elf64(0x100000, &s, 1);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "hi64", img, n), NULL, NULL, 16 * MiB), -1);
	s = (struct seg){ 0x1000, 0x100000, 0x100000, 0x10, 0x10 };
	n = elf64(0xffffffff80000000ULL, &s, 1);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "entry64", img, n), NULL, NULL, 16 * MiB), -1);

	/* a.out kludge: load_end beyond the file, header before load_addr. */
	n = aout_image(0x200000, 0);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "aout-end", img, n), NULL, NULL, 16 * MiB), -1);
	aout[0] = 0x100040; aout[1] = 0x100080; aout[2] = 0; aout[3] = 0; aout[4] = 0;
	mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE, aout);
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "aout-hdr", img, n), NULL, NULL, 16 * MiB), -1);
	aout[0] = 0x100040; aout[1] = 0x0; aout[2] = 0; aout[3] = 0;
	mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE, aout);     /* before file start */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "aout-neg", img, n), NULL, NULL, 16 * MiB), -1);
	aout[0] = 0x100040; aout[1] = 0x100000; aout[2] = 0x101000; aout[3] = 0x100800;
	mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE, aout);     /* bss below load end */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "aout-bss", img, n), NULL, NULL, 16 * MiB), -1);
	aout[0] = 0xfffff040; aout[1] = 0xfffff000; aout[2] = 0xfffff100; aout[3] = 0xfffff200;
	mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE, aout);     /* not RAM */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "aout-hi", img, n), NULL, NULL, 16 * MiB), -1);
	mb_header(img + 0x40 + 8192, MULTIBOOT_AOUT_KLUDGE, aout);
	memset(img + 0x40, 0, 12);                             /* header past 8 KiB */
	CHECK_EQ(rig_boot(&mem, &st, rig_file(dir, "aout-far", img, 0x3000), NULL, NULL, 16 * MiB), -1);
}

static void bad_modules(void)
{
	struct seg s = { 0x1000, 0x100000, 0x100000, 0x100, 0x100 };
	size_t n = elf32(0x100000, &s, 1);
	const char *k = rig_file(dir, "kbm.elf", img, n);
	char big[300], list[700];
	FILE *f;

	snprintf(big, sizeof(big), "%s/bigmod", dir);
	f = fopen(big, "wb");
	CHECK(f);
	CHECK(ftruncate(fileno(f), 20 * MiB) == 0);            /* sparse */
	fclose(f);
	CHECK_EQ(rig_boot(&mem, &st, k, big, NULL, 16 * MiB), -1);
	CHECK(rig_boot(&mem, &st, k, big, NULL, 32 * MiB) == 0);              /* fits there */
	CHECK_EQ(rig_boot(&mem, &st, k, "/nonexistent/module", NULL, 16 * MiB), -1);
	snprintf(list, sizeof(list), "%s,,%s", k, k);
	CHECK_EQ(rig_boot(&mem, &st, k, list, NULL, 16 * MiB), -1);           /* empty name */
	CHECK_EQ(rig_boot(&mem, &st, k, ",", NULL, 16 * MiB), -1);
	unlink(big);
}

/* Random corruption of a valid image: any outcome but a crash is fine. */
static void mutated_images(void)
{
	struct seg s[2] = {
		{ 0x1000, 0x100000, 0x100000, 0x800, 0x1000 },
		{ 0x2000, 0x200000, 0x200000, 0x100, 0x100 },
	};
	uint8_t orig[0x3000];
	uint32_t rng = 12345;
	int ok = 0;

	elf32(0x100000, s, 2);
	memcpy(orig, img, sizeof(orig));
	for (int round = 0; round < 300; round++) {
		memcpy(img, orig, sizeof(orig));
		for (int j = 0; j < 4; j++) {
			rng = rng * 1103515245 + 12345;
			/* Mostly the headers, where the parsing is. */
			size_t at = (rng >> 8) % (j ? 0x120 : sizeof(orig));

			rng = rng * 1103515245 + 12345;
			img[at] = (uint8_t)(rng >> 16);
		}
		if (rig_boot(&mem, &st, rig_file(dir, "mutant", img, sizeof(orig)), NULL, NULL, 4 * MiB) == 0)
			ok++;
	}
	CHECK(ok < 300);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL multiboot: mkdtemp\n");
		return 1;
	}
	RUN(elf32_loads_and_enters);
	RUN(elf32_empty_cmdline_is_path);
	RUN(elf32_virtual_entry);
	RUN(elf64_loads);
	RUN(aout_kludge_loads);
	RUN(modules_loaded);
	RUN(info_moves_away_from_low_kernel);
	RUN(flat_binary);
	RUN(bad_images);
	RUN(bad_modules);
	RUN(mutated_images);
	guest_mem_destroy(&mem);
	rig_rmdir(dir, "multiboot");
	return TEST_EXIT();
}
