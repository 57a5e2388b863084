/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fw_cfg through both interfaces: the traditional selector/data ports and
 * DMA.  Prints signature, ID, CPU count, RAM size, command line and the
 * file directory; passes only when both interfaces agree.
 */
#include "fw_cfg.h"
#include "guest.h"

#define NAME "fwcfg"
#define CMDLINE_MAX 4096

struct fw_cfg_values {
	char signature[5];
	uint32_t id;
	uint16_t cpus;
	uint64_t ram;
	uint32_t cmdline_size;
	char cmdline[CMDLINE_MAX];
};

/* One read function per interface, so both fill the same struct. */
typedef int (*fw_cfg_reader)(uint16_t key, void *buf, uint32_t len);

static int read_trad(uint16_t key, void *buf, uint32_t len)
{
	fw_cfg_read(key, buf, len);
	return 0;
}

static int read_values(fw_cfg_reader rd, struct fw_cfg_values *v)
{
	uint32_t n;

	memset(v, 0, sizeof(*v));
	if (rd(FW_CFG_SIGNATURE, v->signature, 4) || rd(FW_CFG_ID, &v->id, 4) ||
	    rd(FW_CFG_NB_CPUS, &v->cpus, 2) || rd(FW_CFG_RAM_SIZE, &v->ram, 8) ||
	    rd(FW_CFG_CMDLINE_SIZE, &v->cmdline_size, 4))
		return -1;
	n = v->cmdline_size < CMDLINE_MAX - 1 ? v->cmdline_size : CMDLINE_MAX - 1;
	return n ? rd(FW_CFG_CMDLINE_DATA, v->cmdline, n) : 0;
}

static void print_values(const char *how, const struct fw_cfg_values *v)
{
	gprintf(NAME ": %s: signature %s id %#x%s\n", how, v->signature, v->id,
		v->id & FW_CFG_ID_DMA ? " (dma)" : "");
	gprintf(NAME ": %s: cpus %u\n", how, v->cpus);
	gprintf(NAME ": %s: ram %llu MiB\n", how, (unsigned long long)(v->ram >> 20));
	gprintf(NAME ": %s: cmdline size %u '%s'\n", how, v->cmdline_size, v->cmdline);
}

static uint32_t be32(uint32_t v)
{
	return bswap32(v);
}

#define MAX_FILES 64

/* The directory as the two interfaces see it: a BE count, then entries. */
struct fw_cfg_dir {
	uint32_t count;
	struct fw_cfg_file files[MAX_FILES];
};

/* Reads the directory both ways, checks they agree, and lists it. */
static void list_files(void)
{
	static struct fw_cfg_dir trad, dma;
	uint32_t count, n, len;

	fw_cfg_read(FW_CFG_FILE_DIR, &count, 4);
	count = be32(count);
	n = count < MAX_FILES ? count : MAX_FILES;
	len = 4 + n * (uint32_t)sizeof(struct fw_cfg_file);
	fw_cfg_read(FW_CFG_FILE_DIR, &trad, len);
	if (fw_cfg_dma_read(FW_CFG_FILE_DIR, &dma, len))
		guest_fail(NAME, "DMA read of the file directory failed");
	if (memcmp(&trad, &dma, len))
		guest_fail(NAME, "file directory differs between DMA and I/O ports");
	gprintf(NAME ": %u files\n", count);
	for (uint32_t i = 0; i < n; i++) {
		struct fw_cfg_file *f = &trad.files[i];

		f->name[sizeof(f->name) - 1] = 0;
		gprintf(NAME ": file %#x size %u %s\n", __builtin_bswap16(f->select),
			be32(f->size), f->name);
	}
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	static struct fw_cfg_values trad, dma;
	uint64_t sig;

	(void)magic;
	(void)mbi_addr;
	if (!fw_cfg_present())
		guest_fail(NAME, "no \"QEMU\" signature at 0x510");
	read_values(read_trad, &trad);
	print_values("io", &trad);
	if (!(trad.id & FW_CFG_ID_DMA))
		guest_fail(NAME, "ID %#x has no DMA bit", trad.id);
	sig = fw_cfg_dma_signature();
	gprintf(NAME ": dma signature %s\n", sig == 0x51454d5520434647ull ? "QEMU CFG" : "absent");
	if (read_values(fw_cfg_dma_read, &dma))
		guest_fail(NAME, "DMA read reported an error");
	print_values("dma", &dma);
	if (memcmp(&trad, &dma, sizeof(trad)))
		guest_fail(NAME, "DMA and I/O port reads disagree");
	list_files();
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
