/* SPDX-License-Identifier: Apache-2.0 */
/* fw_cfg through a real port bus and real guest memory, as a firmware uses it. */
#include <endian.h>
#include <string.h>

#include "hw/fw_cfg.h"
#include "machine/bus.h"
#include "machine/memory.h"
#include "test.h"

static struct bus *pio;
static struct guest_mem mem;
static struct fw_cfg *fw;

static int setup(void)
{
	pio = bus_new("pio");
	if (!pio || guest_mem_init(&mem, 2 << 20))
		return -1;
	fw = fw_cfg_new(pio, &mem);
	return fw ? 0 : -1;
}

static void teardown(void)
{
	fw_cfg_free(fw);
	guest_mem_destroy(&mem);
	bus_free(pio);
	fw = NULL;
}

static void sel(uint16_t key)
{
	bus_write(pio, FW_CFG_PORT_SEL, 2, key);
}

static void data(void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = (uint8_t)bus_read(pio, FW_CFG_PORT_DATA, 1);
}

/* As SeaBIOS and Linux do it: high half, then low half, each big-endian. */
static void dma_kick(uint64_t desc)
{
	bus_write(pio, FW_CFG_PORT_DMA, 4, htobe32((uint32_t)(desc >> 32)));
	bus_write(pio, FW_CFG_PORT_DMA + 4, 4, htobe32((uint32_t)desc));
}

static void put_desc(uint64_t at, uint32_t control, uint32_t len, uint64_t addr)
{
	uint32_t c = htobe32(control), l = htobe32(len);
	uint64_t a = htobe64(addr);

	guest_mem_write(&mem, at, &c, 4);
	guest_mem_write(&mem, at + 4, &l, 4);
	guest_mem_write(&mem, at + 8, &a, 8);
}

static uint32_t get_control(uint64_t at)
{
	uint32_t c = 0;

	guest_mem_read(&mem, at, &c, 4);
	return be32toh(c);
}

static void test_signature_and_id(void)
{
	char sig[5] = { 0 };
	uint32_t id = 0;
	char dsig[9] = { 0 };
	uint64_t v;

	CHECK(setup() == 0);
	sel(FW_CFG_SIGNATURE);
	data(sig, 4);
	CHECK(!strcmp(sig, "QEMU"));
	sel(FW_CFG_ID);
	data(&id, 4);
	CHECK_EQ(le32toh(id), 3);
	v = bus_read(pio, FW_CFG_PORT_DMA, 4) | bus_read(pio, FW_CFG_PORT_DMA + 4, 4) << 32;
	memcpy(dsig, &v, 8);
	CHECK(!strcmp(dsig, "QEMU CFG"));
	CHECK_EQ(be64toh(bus_read(pio, FW_CFG_PORT_DMA, 8)), 0x51454d5520434647ULL);
	teardown();
}

static void test_items_and_past_end(void)
{
	uint8_t b[8];
	uint64_t ram = 0;

	CHECK(setup() == 0);
	CHECK(fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, 0x12345678abcdULL) == 0);
	CHECK(fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, 3) == 0);
	CHECK(fw_cfg_add(fw, FW_CFG_KERNEL_CMDLINE, "ro", 3) == 0);
	CHECK(fw_cfg_add(fw, FW_CFG_E820_TABLE, "e820", 4) == 0);
	sel(FW_CFG_RAM_SIZE);
	data(&ram, 8);
	CHECK_EQ(le64toh(ram), 0x12345678abcdULL);
	sel(FW_CFG_NB_CPUS);
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 3);
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 0);
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 0);    /* past the end */
	sel(FW_CFG_KERNEL_CMDLINE);
	data(b, 5);
	CHECK(!memcmp(b, "ro\0\0\0", 5));
	sel(FW_CFG_KERNEL_CMDLINE);                       /* reselect rewinds */
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 'r');
	/* Data-port writes are ignored, the read position too. */
	bus_write(pio, FW_CFG_PORT_DATA, 1, 'X');
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 'o');
	sel(FW_CFG_E820_TABLE);
	data(b, 4);
	CHECK(!memcmp(b, "e820", 4));
	sel(FW_CFG_E820_TABLE | FW_CFG_WRITE_CHANNEL);
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 'e');
	sel(0x3ff0);                                      /* nothing there */
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 0);
	/* Replacing an item. */
	CHECK(fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, 7) == 0);
	sel(FW_CFG_NB_CPUS);
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 7);
	CHECK(fw_cfg_add(fw, FW_CFG_FILE_DIR, "x", 1) < 0);
	CHECK(fw_cfg_add(fw, 0x20, "x", 1) < 0);
	teardown();
}

struct dir_entry {
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[56];
};

static void test_file_dir_sorted(void)
{
	uint32_t count;
	struct dir_entry e[3];
	char buf[8] = { 0 };
	char longname[80];

	CHECK(setup() == 0);
	sel(FW_CFG_FILE_DIR);
	data(&count, 4);
	CHECK_EQ(count, 0);
	CHECK(fw_cfg_add_file(fw, "etc/zeta", "zz", 2) == 0);
	CHECK(fw_cfg_add_file(fw, "etc/alpha", "aaaa", 4) == 0);
	CHECK(fw_cfg_add_file(fw, "bootorder", "b", 1) == 0);
	CHECK(fw_cfg_add_file(fw, "etc/alpha", "AAA", 3) == 0);   /* replaced */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK(fw_cfg_add_file(fw, longname, "x", 1) < 0);
	CHECK(fw_cfg_add_file(fw, "", "x", 1) < 0);
	sel(FW_CFG_FILE_DIR);
	data(&count, 4);
	CHECK_EQ(be32toh(count), 3);
	data(e, sizeof(e));
	CHECK(!strcmp(e[0].name, "bootorder"));
	CHECK(!strcmp(e[1].name, "etc/alpha"));
	CHECK(!strcmp(e[2].name, "etc/zeta"));
	CHECK_EQ(be32toh(e[1].size), 3);
	CHECK_EQ(be16toh(e[0].select), 0x20);
	CHECK_EQ(be16toh(e[1].select), 0x21);
	CHECK_EQ(be16toh(e[2].select), 0x22);
	CHECK_EQ(e[2].reserved, 0);
	sel(be16toh(e[2].select));
	data(buf, 3);
	CHECK(!strcmp(buf, "zz"));
	sel(be16toh(e[1].select));
	data(buf, 4);
	CHECK(!memcmp(buf, "AAA\0", 4));
	sel(0x23);
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), 0);
	teardown();
}

static void test_dma_read_skip_select(void)
{
	uint8_t buf[16];
	const uint64_t desc = 0x1000, dst = 0x2000;

	CHECK(setup() == 0);
	CHECK(fw_cfg_add_file(fw, "etc/data", "0123456789", 10) == 0);
	memset(buf, 0xee, sizeof(buf));
	guest_mem_write(&mem, dst, buf, sizeof(buf));
	/* select + skip 2 */
	put_desc(desc, (0x20u << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 2, 0);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), 0);
	/* read 4 */
	put_desc(desc, FW_CFG_DMA_CTL_READ, 4, dst);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), 0);
	guest_mem_read(&mem, dst, buf, sizeof(buf));
	CHECK(!memcmp(buf, "2345\xee", 5));
	/* the data port continues where DMA stopped */
	CHECK_EQ(bus_read(pio, FW_CFG_PORT_DATA, 1), '6');
	/* reading past the end fills zeros */
	put_desc(desc, FW_CFG_DMA_CTL_READ, 6, dst);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), 0);
	guest_mem_read(&mem, dst, buf, sizeof(buf));
	CHECK(!memcmp(buf, "789\0\0\0\xee", 7));
	/* one 64-bit write, select + read the signature */
	put_desc(desc, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, dst);
	bus_write(pio, FW_CFG_PORT_DMA, 8, htobe64(desc));
	CHECK_EQ(get_control(desc), 0);
	guest_mem_read(&mem, dst, buf, 4);
	CHECK(!memcmp(buf, "QEMU", 4));
	/* writes are refused */
	put_desc(desc, FW_CFG_DMA_CTL_WRITE, 4, dst);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), FW_CFG_DMA_CTL_ERROR);
	teardown();
}

static void test_dma_bad_addresses(void)
{
	uint8_t buf[32];
	const uint64_t desc = 0x1000;
	const uint64_t end = 2 << 20;

	CHECK(setup() == 0);
	CHECK(fw_cfg_add_file(fw, "etc/data", "0123456789", 10) == 0);
	/* destination straddles the end of RAM: error, nothing written */
	memset(buf, 0xee, sizeof(buf));
	guest_mem_write(&mem, end - 4, buf, 4);
	put_desc(desc, (0x20u << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, end - 4);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), FW_CFG_DMA_CTL_ERROR);
	guest_mem_read(&mem, end - 4, buf, 4);
	CHECK(!memcmp(buf, "\xee\xee\xee\xee", 4));
	/* destination far outside RAM, in the hole and past 4 GiB */
	put_desc(desc, (0x20u << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, 0xfffffffffffffff0ULL);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), FW_CFG_DMA_CTL_ERROR);
	put_desc(desc, (0x20u << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, 0xc0000000ULL);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), FW_CFG_DMA_CTL_ERROR);
	/* zero fill past the item's end, out of RAM */
	put_desc(desc, (0x20u << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 0xffffffffu, 0x3000);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), FW_CFG_DMA_CTL_ERROR);
	/* descriptors outside RAM or straddling its end: ignored, nothing touched */
	dma_kick(0xdead00000000ULL);
	dma_kick(end - 8);
	bus_write(pio, FW_CFG_PORT_DMA, 8, htobe64(~0ULL));
	/* the device still works afterwards */
	put_desc(desc, (0x20u << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 3, 0x3000);
	dma_kick(desc);
	CHECK_EQ(get_control(desc), 0);
	guest_mem_read(&mem, 0x3000, buf, 3);
	CHECK(!memcmp(buf, "012", 3));
	teardown();
}

int main(void)
{
	RUN(test_signature_and_id);
	RUN(test_items_and_past_end);
	RUN(test_file_dir_sorted);
	RUN(test_dma_read_skip_select);
	RUN(test_dma_bad_addresses);
	return TEST_EXIT();
}
