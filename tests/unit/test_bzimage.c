/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "arch/x86/boot.h"
#include "arch/x86/bzimage.h"
#include "arch/x86/e820.h"
#include "pci/pci.h"
#include "boot_rig.h"
#include "test.h"

/*
 * Synthetic bzImages: a setup header as the 2.15 boot protocol describes
 * it (Documentation/arch/x86/boot.rst), followed by a protected-mode part
 * whose payload is a gzip-compressed ELF64 "vmlinux" built here.
 */

#define MiB (1ULL << 20)
#define SETUP_SECTS 3
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_OFF 0x400          /* into the protected-mode part */
#define PREF_ADDR 0x1000000ULL
#define INIT_SIZE (8 * MiB)
#define SEG_FILESZ 0x3000
#define SEG_MEMSZ 0x5000
#define ENTRY_OFF 0x100
#define KERNEL_VIRT 0xffffffff81000000ULL

/* Setup header offsets (boot_params, the "zero page"). */
#define H_SETUP_SECTS 0x1f1
#define H_SYSSIZE 0x1f4
#define H_VID_MODE 0x1fa
#define H_BOOT_FLAG 0x1fe
#define H_JUMP 0x200
#define H_HEADER 0x202
#define H_VERSION 0x206
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21c
#define H_HEAP_END 0x224
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_MAX 0x22c
#define H_KERNEL_ALIGN 0x230
#define H_RELOCATABLE 0x234
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_PAYLOAD_OFFSET 0x248
#define H_PAYLOAD_LENGTH 0x24c
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
#define BP_EXT_RAMDISK 0x0c0
#define BP_EXT_RD_SIZE 0x0c4
#define BP_EXT_CMDLINE 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0

static char dir[] = "/tmp/vmon-test-bz-XXXXXX";
static struct guest_mem mem;
static struct x86_cpu_state st;
static uint8_t img[64 * 1024];
static size_t img_len;
static uint8_t elf[0x8000];
static size_t elf_len;

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint64_t gread(uint64_t gpa, int size)
{
	uint64_t v = 0;

	if (guest_mem_read(&mem, gpa, &v, (uint64_t)size))
		return 0xdeadbeefdeadbeefULL;
	return v;
}

static uint64_t bp(unsigned off, int size)
{
	return gread(BZ_BOOT_PARAMS_ADDR + off, size);
}

/* A vmlinux with its PT_LOAD segments at paddr (the kernel's physical link
 * address), vaddr in the kernel's mapping, bytes i * 7 + 3. */
static void make_elf(uint64_t entry, const uint64_t *paddr, int nseg)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;

	memset(elf, 0, sizeof(elf));
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
	eh->e_phnum = (uint16_t)nseg;
	for (int i = 0; i < nseg; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh)) + i;

		*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
				    .p_offset = 0x1000 + (uint64_t)i * SEG_FILESZ,
				    .p_vaddr = KERNEL_VIRT + (paddr[i] - PREF_ADDR),
				    .p_paddr = paddr[i], .p_filesz = SEG_FILESZ,
				    .p_memsz = SEG_MEMSZ, .p_align = 0x200000 };
	}
	for (size_t i = 0x1000; i < sizeof(elf); i++)
		elf[i] = (uint8_t)(i * 7 + 3);
	elf_len = 0x1000 + (size_t)nseg * SEG_FILESZ;
}

static size_t gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };
	size_t n;

	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	n = deflate(&z, Z_FINISH) == Z_STREAM_END ? z.total_out : 0;
	deflateEnd(&z);
	return n;
}

/* The image: setup header, then the protected-mode part with the payload
 * at PAYLOAD_OFF (payload NULL: the gzip'ed ELF in elf[]). */
static void make_image(const uint8_t *payload, size_t payload_len)
{
	uint8_t *pm = img + SETUP_SIZE;
	uint8_t packed[sizeof(elf) + 1024];
	size_t kernel_size;

	memset(img, 0, sizeof(img));
	if (!payload) {
		payload_len = gzip(elf, elf_len, packed, sizeof(packed));
		payload = packed;
	}
	img[H_SETUP_SECTS] = SETUP_SECTS;
	put16(img + H_BOOT_FLAG, 0xaa55);
	img[H_JUMP] = 0xeb;
	img[H_JUMP + 1] = 0x66;                     /* header ends at 0x268 */
	memcpy(img + H_HEADER, "HdrS", 4);
	put16(img + H_VERSION, 0x020f);
	img[H_LOADFLAGS] = 0x01;                    /* LOADED_HIGH */
	put32(img + H_INITRD_MAX, 0x7fffffff);
	put32(img + H_KERNEL_ALIGN, 0x200000);
	img[H_RELOCATABLE] = 1;
	put16(img + H_XLOADFLAGS, 0x0003);          /* KERNEL_64, CAN_BE_LOADED_ABOVE_4G */
	put32(img + H_CMDLINE_SIZE, 2047);
	put32(img + H_PAYLOAD_OFFSET, PAYLOAD_OFF);
	put32(img + H_PAYLOAD_LENGTH, (uint32_t)payload_len);
	put64(img + H_PREF_ADDRESS, PREF_ADDR);
	put32(img + H_INIT_SIZE, (uint32_t)INIT_SIZE);
	/* The protected-mode part: startup_32 code stand-in, then the payload. */
	for (int i = 0; i < PAYLOAD_OFF; i++)
		pm[i] = (uint8_t)(0x90 + i % 7);
	memcpy(pm + PAYLOAD_OFF, payload, payload_len);
	kernel_size = PAYLOAD_OFF + payload_len + 0x100;
	kernel_size = (kernel_size + 15) & ~(size_t)15;
	put32(img + H_SYSSIZE, (uint32_t)(kernel_size / 16));
	img_len = SETUP_SIZE + kernel_size;
}

static void standard_image(void)
{
	uint64_t paddr = PREF_ADDR;

	make_elf(PREF_ADDR + ENTRY_OFF, &paddr, 1);
	make_image(NULL, 0);
}

static int load(const char *initrd, const char *cmdline, uint64_t ram)
{
	struct machine_config cfg = {
		.kernel = "synthetic-bzImage", .initrd = initrd, .cmdline = cmdline,
		.mem_size = ram, .cpus = 1, .serial = "none",
	};
	struct boot_image bi = { .path = "synthetic-bzImage", .data = img, .size = img_len };

	guest_mem_destroy(&mem);
	if (guest_mem_init(&mem, ram))
		return -2;
	memset(mem.base, 0xcc, 2 * MiB);
	memset(&st, 0x5a, sizeof(st));
	if (!bzimage_probe(&bi))
		return -3;
	return bzimage_load(&mem, &cfg, &bi, &st);
}

/* Walks the guest's 4-level page tables from CR3: the physical address
 * behind va, or ~0 when it is not mapped. */
static uint64_t translate(uint64_t va)
{
	uint64_t e = st.cr3 & ~0xfffULL;
	int shift = 39;

	for (int level = 4; level >= 1; level--, shift -= 9) {
		e = gread((e & 0x000ffffffffff000ULL) + ((va >> shift) & 511) * 8, 8);
		if (!(e & 1))
			return ~0ULL;
		if (level == 2 && (e & 0x80))
			return (e & 0x000fffffffe00000ULL) | (va & 0x1fffff);
		if (level == 1)
			return (e & 0x000ffffffffff000ULL) | (va & 0xfff);
	}
	return ~0ULL;
}

/* The 64-bit boot protocol's entry state. */
static int long_mode_entry(uint64_t rip)
{
	const struct x86_segment *cs = &st.seg[X86_CS];

	if (st.rip != rip || st.gpr[X86_RSI] != BZ_BOOT_PARAMS_ADDR)
		return 0;
	if (!(st.cr0 & X86_CR0_PE) || !(st.cr0 & X86_CR0_PG) || !(st.cr4 & X86_CR4_PAE))
		return 0;
	if (!(st.efer & X86_EFER_LME) || !(st.efer & X86_EFER_LMA))
		return 0;
	if (!cs->l || cs->db || !cs->present || !(cs->type & 8) || cs->selector != 0x10)
		return 0;
	for (int s = X86_ES; s <= X86_GS; s++) {
		if (s == X86_CS)
			continue;
		if (st.seg[s].selector != 0x18 || st.seg[s].base || !st.seg[s].present ||
		    (st.seg[s].type & 8))
			return 0;
	}
	if (st.rflags & (1u << 9))                      /* interrupts off */
		return 0;
	/* __BOOT_CS in the GDT in guest memory is the 64-bit code segment. */
	if (st.gdt.limit < 0x1f || gread(st.gdt.base + 0x10, 8) != 0x00af9b000000ffffULL)
		return 0;
	/* Identity mapping of the entry, boot_params and the command line. */
	return translate(rip) == rip && translate(BZ_BOOT_PARAMS_ADDR) == BZ_BOOT_PARAMS_ADDR &&
	       translate(BZ_CMDLINE_ADDR) == BZ_CMDLINE_ADDR &&
	       translate(0xbfe00000ULL) == 0xbfe00000ULL;
}

static void unpacks_vmlinux(void)
{
	const char *cmdline = "console=ttyS0 root=/dev/vda ro";
	struct e820_entry map[E820_MAX_ENTRIES];
	int n;

	standard_image();
	CHECK_EQ(load(NULL, cmdline, 64 * MiB), 0);
	CHECK(rig_bytes_are(&mem, PREF_ADDR, elf + 0x1000, SEG_FILESZ));
	CHECK(rig_zeroes(&mem, PREF_ADDR + SEG_FILESZ, SEG_MEMSZ - SEG_FILESZ));
	CHECK(long_mode_entry(PREF_ADDR + ENTRY_OFF));

	/* boot_params: the image's setup header, then what the loader fills. */
	CHECK(rig_bytes_are(&mem, BZ_BOOT_PARAMS_ADDR + H_HEADER, (const uint8_t *)"HdrS", 4));
	CHECK_EQ(bp(H_VERSION, 2), 0x020f);
	CHECK_EQ(bp(H_SETUP_SECTS, 1), SETUP_SECTS);
	CHECK_EQ(bp(H_PREF_ADDRESS, 8), PREF_ADDR);
	CHECK_EQ(bp(H_INIT_SIZE, 4), INIT_SIZE);
	CHECK_EQ(bp(H_VID_MODE, 2), 0xffff);
	CHECK_EQ(bp(H_TYPE_OF_LOADER, 1), 0xff);
	CHECK_EQ(bp(H_LOADFLAGS, 1) & 0x01, 0x01);
	CHECK_EQ(bp(H_CMD_LINE_PTR, 4), BZ_CMDLINE_ADDR);
	CHECK_EQ(bp(BP_EXT_CMDLINE, 4), 0);
	CHECK(rig_bytes_are(&mem, BZ_CMDLINE_ADDR, (const uint8_t *)cmdline, strlen(cmdline) + 1));
	CHECK_EQ(bp(H_RAMDISK_IMAGE, 4), 0);
	CHECK_EQ(bp(H_RAMDISK_SIZE, 4), 0);
	CHECK(rig_zeroes(&mem, BZ_BOOT_PARAMS_ADDR, BP_EXT_RAMDISK));   /* screen_info etc. */

	n = e820_build(&mem, map, E820_MAX_ENTRIES);
	CHECK(n >= 2);
	CHECK_EQ(bp(BP_E820_ENTRIES, 1), n);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(bp(BP_E820_TABLE + 20 * i, 8), map[i].addr);
		CHECK_EQ(bp(BP_E820_TABLE + 20 * i + 8, 8), map[i].size);
		CHECK_EQ(bp(BP_E820_TABLE + 20 * i + 16, 4), map[i].type);
	}
	/* The last RAM entry ends at the top of guest RAM (ECAM's reservation follows). */
	CHECK_EQ(map[n - 1].addr, PCI_ECAM_BASE);
	CHECK(bp(BP_E820_TABLE + 20 * (n - 2), 8) + bp(BP_E820_TABLE + 20 * (n - 2) + 8, 8) ==
	      64 * MiB);
}

/* x86-64 vmlinux has a physical e_entry; other builds a virtual one. */
static void virtual_entry(void)
{
	uint64_t paddr = PREF_ADDR;

	make_elf(KERNEL_VIRT + 0x40, &paddr, 1);
	make_image(NULL, 0);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x40));
}

static void two_segments(void)
{
	uint64_t paddr[2] = { PREF_ADDR, PREF_ADDR + 0x200000 };

	make_elf(PREF_ADDR + 0x200000 + 0x10, paddr, 2);
	make_image(NULL, 0);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(rig_bytes_are(&mem, PREF_ADDR, elf + 0x1000, SEG_FILESZ));
	CHECK(rig_bytes_are(&mem, PREF_ADDR + 0x200000, elf + 0x1000 + SEG_FILESZ, SEG_FILESZ));
	CHECK(rig_zeroes(&mem, PREF_ADDR + 0x200000 + SEG_FILESZ, SEG_MEMSZ - SEG_FILESZ));
	CHECK(long_mode_entry(PREF_ADDR + 0x200010));
}

/* Not enough RAM at pref_address: a relocatable kernel goes to the first
 * kernel_alignment boundary above 1 MiB, its segments and entry with it. */
static void relocated_low(void)
{
	standard_image();
	CHECK_EQ(load(NULL, "", 16 * MiB), 0);
	CHECK(rig_bytes_are(&mem, 0x200000, elf + 0x1000, SEG_FILESZ));
	CHECK(long_mode_entry(0x200000 + ENTRY_OFF));
}

static void initrd_loaded(void)
{
	static uint8_t rd[MiB + 123];
	const char *path;
	uint64_t addr, size;

	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i * 13 + i / 4096);
	path = rig_file(dir, "initrd", rd, sizeof(rd));
	CHECK(path);
	standard_image();
	CHECK_EQ(load(path, "rdinit=/init", 64 * MiB), 0);
	addr = bp(H_RAMDISK_IMAGE, 4);
	size = bp(H_RAMDISK_SIZE, 4);
	CHECK_EQ(size, sizeof(rd));
	CHECK_EQ(bp(BP_EXT_RAMDISK, 4), 0);
	CHECK_EQ(bp(BP_EXT_RD_SIZE, 4), 0);
	CHECK_EQ(addr & 0xfff, 0);
	CHECK(addr >= PREF_ADDR + INIT_SIZE);                  /* clear of the kernel */
	CHECK(addr + size <= 64 * MiB);
	CHECK(rig_bytes_are(&mem, addr, rd, sizeof(rd)));
	CHECK(long_mode_entry(PREF_ADDR + ENTRY_OFF));

	/* initrd_addr_max is honoured. */
	put32(img + H_INITRD_MAX, 32 * MiB - 1);
	CHECK_EQ(load(path, "", 64 * MiB), 0);
	addr = bp(H_RAMDISK_IMAGE, 4);
	CHECK(addr >= PREF_ADDR + INIT_SIZE);
	CHECK(addr + sizeof(rd) <= 32 * MiB);
	CHECK(rig_bytes_are(&mem, addr, rd, sizeof(rd)));

	/* An empty initrd is no error. */
	CHECK_EQ(load(rig_file(dir, "empty-initrd", "", 0), "", 64 * MiB), 0);
	CHECK_EQ(bp(H_RAMDISK_SIZE, 4), 0);
}

/* Payloads vmon cannot use: the kernel's own decompressor gets the whole
 * protected-mode part at the load address and runs from its 64-bit entry. */
static void falls_back_to_kernel_decompressor(void)
{
	static const uint8_t unknown[] = "not a compressed payload, just bytes..........";
	uint8_t gz[4096], junk[2048];
	size_t n;
	uint64_t paddr = PREF_ADDR;

	make_image(unknown, sizeof(unknown));
	CHECK_EQ(load(NULL, "x", 64 * MiB), 0);
	CHECK(rig_bytes_are(&mem, PREF_ADDR, img + SETUP_SIZE, img_len - SETUP_SIZE));
	CHECK(long_mode_entry(PREF_ADDR + 0x200));
	CHECK(rig_bytes_are(&mem, BZ_CMDLINE_ADDR, (const uint8_t *)"x", 2));

	/* gzip that is no ELF. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31);
	n = gzip(junk, sizeof(junk), gz, sizeof(gz));
	CHECK(n > 0);
	make_image(gz, n);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));

	/* A corrupt gzip stream. */
	standard_image();
	img[SETUP_SIZE + PAYLOAD_OFF + 40] ^= 0xff;
	img[SETUP_SIZE + PAYLOAD_OFF + 41] ^= 0x55;
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));

	/* The entry point in no segment. */
	make_elf(PREF_ADDR + SEG_MEMSZ + 0x1000, &paddr, 1);
	make_image(NULL, 0);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));

	/* A segment bigger than init_size says the kernel needs. */
	standard_image();
	put32(img + H_INIT_SIZE, 0x4000);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));

	/* The payload fields point outside the image. */
	standard_image();
	put32(img + H_PAYLOAD_OFFSET, 0xfffffff0);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));
	standard_image();
	put32(img + H_PAYLOAD_LENGTH, 0xffffffff);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));
	standard_image();
	put32(img + H_PAYLOAD_LENGTH, 0);
	CHECK_EQ(load(NULL, "", 64 * MiB), 0);
	CHECK(long_mode_entry(PREF_ADDR + 0x200));
}

static void probe(void)
{
	struct boot_image bi = { .path = "p", .data = img, .size = 0 };

	standard_image();
	bi.size = img_len;
	CHECK(bzimage_probe(&bi));
	bi.size = 0x3ff;
	CHECK(!bzimage_probe(&bi));
	bi.size = img_len;
	img[H_BOOT_FLAG] = 0x54;
	CHECK(!bzimage_probe(&bi));
	standard_image();
	img[H_HEADER + 3] = 's';
	CHECK(!bzimage_probe(&bi));
}

/* Through the front door: x86_boot_load reads the file and picks bzImage. */
static void boot_load_dispatches(void)
{
	struct machine_config cfg = { .cmdline = "quiet", .mem_size = 64 * MiB, .cpus = 1 };

	standard_image();
	cfg.kernel = rig_file(dir, "bzImage", img, img_len);
	CHECK(cfg.kernel);
	guest_mem_destroy(&mem);
	CHECK(guest_mem_init(&mem, 64 * MiB) == 0);
	CHECK_EQ(x86_boot_load(&mem, &cfg, &st), 0);
	CHECK(rig_bytes_are(&mem, PREF_ADDR, elf + 0x1000, SEG_FILESZ));
	CHECK(long_mode_entry(PREF_ADDR + ENTRY_OFF));
	CHECK(rig_bytes_are(&mem, BZ_CMDLINE_ADDR, (const uint8_t *)"quiet", 6));
}

static void cmdline_limits(void)
{
	static char line[70000];

	standard_image();
	put32(img + H_CMDLINE_SIZE, 255);
	memset(line, 'a', 255);
	line[255] = 0;
	CHECK_EQ(load(NULL, line, 64 * MiB), 0);               /* exactly cmdline_size */
	CHECK(rig_bytes_are(&mem, BZ_CMDLINE_ADDR, (const uint8_t *)line, 256));
	line[255] = 'b';
	line[256] = 0;
	CHECK_EQ(load(NULL, line, 64 * MiB), -1);

	/* Debian's 2047. */
	put32(img + H_CMDLINE_SIZE, 2047);
	memset(line, 'c', 2048);
	line[2048] = 0;
	CHECK_EQ(load(NULL, line, 64 * MiB), -1);
	line[2047] = 0;
	CHECK_EQ(load(NULL, line, 64 * MiB), 0);

	/* A header allowing anything still stops at vmon's own room. */
	put32(img + H_CMDLINE_SIZE, 0xffffffff);
	memset(line, 'd', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	CHECK_EQ(load(NULL, line, 64 * MiB), -1);
	line[BZ_CMDLINE_MAX - 1] = 0;
	CHECK_EQ(load(NULL, line, 64 * MiB), 0);
	CHECK(rig_bytes_are(&mem, BZ_CMDLINE_ADDR, (const uint8_t *)line, BZ_CMDLINE_MAX));
}

/* Each of these must fail: -1, no crash, nothing written outside RAM. */
static void bad_images(void)
{
	standard_image();
	put16(img + H_VERSION, 0x0209);
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	put16(img + H_VERSION, 0x0200);
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);

	standard_image();
	put16(img + H_XLOADFLAGS, 0x0002);                     /* no 64-bit entry */
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	standard_image();
	img[H_LOADFLAGS] = 0;                                  /* loaded at 0x10000 */
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);

	/* Truncated: the setup alone, a part of it, less than syssize says. */
	standard_image();
	img_len = SETUP_SIZE;
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	img_len = 0x400;
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	standard_image();
	img_len -= 0x100;
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	standard_image();
	img[H_SETUP_SECTS] = 200;                              /* setup past the end */
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);

	/* init_size beyond RAM: fixed address, or too big even relocated. */
	standard_image();
	img[H_RELOCATABLE] = 0;
	CHECK_EQ(load(NULL, "", 16 * MiB), -1);
	CHECK_EQ(load(NULL, "", 24 * MiB), 0);                 /* exactly fits */
	CHECK_EQ(load(NULL, "", 24 * MiB - 4096), -1);
	standard_image();
	put32(img + H_INIT_SIZE, 64 * MiB);
	CHECK_EQ(load(NULL, "", 32 * MiB), -1);
	put32(img + H_INIT_SIZE, 0xffffffff);
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);

	/* pref_address nowhere sensible, and not relocatable. */
	standard_image();
	img[H_RELOCATABLE] = 0;
	put64(img + H_PREF_ADDRESS, 0x10000);                  /* below 1 MiB */
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	put64(img + H_PREF_ADDRESS, 0xfffffffffff00000ULL);
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
	put64(img + H_PREF_ADDRESS, 64 * MiB - INIT_SIZE + 4096);
	CHECK_EQ(load(NULL, "", 64 * MiB), -1);
}

static void bad_initrds(void)
{
	char big[300];
	FILE *f;

	snprintf(big, sizeof(big), "%s/big-initrd", dir);
	f = fopen(big, "wb");
	CHECK(f);
	CHECK(ftruncate(fileno(f), 20 * MiB) == 0);            /* sparse */
	fclose(f);
	standard_image();
	/* Kernel at 16..24 MiB; 20 MiB below 32 MiB would overlap it. */
	CHECK_EQ(load(big, "", 32 * MiB), -1);
	CHECK_EQ(load(big, "", 48 * MiB), 0);
	CHECK(bp(H_RAMDISK_IMAGE, 4) >= PREF_ADDR + INIT_SIZE);
	CHECK_EQ(bp(H_RAMDISK_SIZE, 4), 20 * MiB);
	/* Bigger than RAM altogether. */
	CHECK(truncate(big, 80 * MiB) == 0);
	CHECK_EQ(load(big, "", 64 * MiB), -1);
	/* initrd_addr_max too low for it. */
	CHECK(truncate(big, 4 * MiB) == 0);
	put32(img + H_INITRD_MAX, 26 * MiB - 1);
	CHECK_EQ(load(big, "", 64 * MiB), -1);
	unlink(big);

	standard_image();
	CHECK_EQ(load("/nonexistent/initrd", "", 64 * MiB), -1);
	CHECK_EQ(load(dir, "", 64 * MiB), -1);                 /* a directory */
}

/* Random changes to the header and payload: any result but a crash. */
static void mutated_images(void)
{
	uint8_t orig[sizeof(img)];
	size_t orig_len;
	uint32_t rng = 2024;
	int ok = 0;

	standard_image();
	memcpy(orig, img, sizeof(img));
	orig_len = img_len;
	for (int round = 0; round < 300; round++) {
		memcpy(img, orig, sizeof(img));
		img_len = orig_len;
		for (int j = 0; j < 3; j++) {
			size_t at;

			rng = rng * 1103515245 + 12345;
			/* Mostly the setup header, where the parsing is. */
			at = j ? 0x1f1 + (rng >> 8) % 0x77 : (rng >> 8) % orig_len;
			rng = rng * 1103515245 + 12345;
			img[at] = (uint8_t)(rng >> 16);
		}
		if (load(NULL, "", 32 * MiB) == 0)
			ok++;
	}
	CHECK(ok > 0 && ok < 300);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL bzimage: mkdtemp\n");
		return 1;
	}
	RUN(unpacks_vmlinux);
	RUN(virtual_entry);
	RUN(two_segments);
	RUN(relocated_low);
	RUN(initrd_loaded);
	RUN(falls_back_to_kernel_decompressor);
	RUN(probe);
	RUN(boot_load_dispatches);
	RUN(cmdline_limits);
	RUN(bad_images);
	RUN(bad_initrds);
	RUN(mutated_images);
	guest_mem_destroy(&mem);
	rig_rmdir(dir, "bzimage");
	return TEST_EXIT();
}
