/* SPDX-License-Identifier: Apache-2.0 */
#include "fw_cfg.h"

#include "guest.h"

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA  0x514

#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SELECT 0x08

struct fw_cfg_dma_access {      /* big-endian */
	uint32_t control;
	uint32_t length;
	uint64_t address;
} __attribute__((packed, aligned(16)));

void fw_cfg_read(uint16_t key, void *buf, uint32_t len)
{
	uint8_t *p = buf;

	outw(FW_CFG_PORT_SEL, key);
	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

int fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

uint32_t fw_cfg_id(void)
{
	uint32_t id = 0;

	fw_cfg_read(FW_CFG_ID, &id, sizeof(id));
	return id;
}

uint64_t fw_cfg_dma_signature(void)
{
	uint32_t hi = bswap32(inl(FW_CFG_PORT_DMA));
	uint32_t lo = bswap32(inl(FW_CFG_PORT_DMA + 4));

	return ((uint64_t)hi << 32) | lo;
}

int fw_cfg_dma_read(uint16_t key, void *buf, uint32_t len)
{
	static struct fw_cfg_dma_access acc;
	uint64_t addr = (uintptr_t)&acc;
	uint32_t ctl;

	acc.control = bswap32(((uint32_t)key << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ);
	acc.length = bswap32(len);
	acc.address = bswap64((uintptr_t)buf);
	barrier();
	outl(FW_CFG_PORT_DMA, bswap32((uint32_t)(addr >> 32)));
	outl(FW_CFG_PORT_DMA + 4, bswap32((uint32_t)addr));   /* starts the transfer */
	/* QEMU and vmon finish before the OUT returns; the bound is for others. */
	for (int i = 0; i < 1000000; i++) {
		ctl = bswap32(*(volatile uint32_t *)&acc.control);
		if (!(ctl & ~FW_CFG_DMA_ERROR))
			return ctl & FW_CFG_DMA_ERROR ? -1 : 0;
		cpu_relax();
	}
	return -1;
}

int fw_cfg_find_file(const char *name, uint16_t *key, uint32_t *size)
{
	struct fw_cfg_file f;
	uint32_t count;

	outw(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
	count = 0;
	for (int i = 0; i < 4; i++)
		count = (count << 8) | inb(FW_CFG_PORT_DATA);
	for (uint32_t i = 0; i < count && i < 4096; i++) {
		uint8_t *p = (uint8_t *)&f;

		for (uint32_t j = 0; j < sizeof(f); j++)
			p[j] = inb(FW_CFG_PORT_DATA);
		if (!strncmp(f.name, name, sizeof(f.name))) {
			*key = (uint16_t)__builtin_bswap16(f.select);
			*size = bswap32(f.size);
			return 0;
		}
	}
	return -1;
}
