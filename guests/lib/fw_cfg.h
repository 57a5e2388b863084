/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_FW_CFG_H
#define GUEST_FW_CFG_H

/* QEMU's fw_cfg at 0x510 (selector), 0x511 (data) and 0x514 (DMA address). */
#include <stdint.h>

#define FW_CFG_SIGNATURE     0x00
#define FW_CFG_ID            0x01
#define FW_CFG_RAM_SIZE      0x03
#define FW_CFG_NB_CPUS       0x05
#define FW_CFG_CMDLINE_SIZE  0x14
#define FW_CFG_CMDLINE_DATA  0x15
#define FW_CFG_FILE_DIR      0x19

#define FW_CFG_ID_TRAD 0x1
#define FW_CFG_ID_DMA  0x2

struct fw_cfg_file {            /* big-endian, as stored in the directory */
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[56];
};

/* The traditional interface: select, then read byte by byte. */
void fw_cfg_read(uint16_t key, void *buf, uint32_t len);
/* True when the signature reads "QEMU". */
int fw_cfg_present(void);
uint32_t fw_cfg_id(void);
/* The DMA interface (ID bit 1): 0, or -1 when the device reports an error. */
int fw_cfg_dma_read(uint16_t key, void *buf, uint32_t len);
/* Reads 0x514 twice: "QEMU CFG" there is how the DMA interface identifies. */
uint64_t fw_cfg_dma_signature(void);
/* Looks name up in the file directory: 0 with key and size, or -1. */
int fw_cfg_find_file(const char *name, uint16_t *key, uint32_t *size);

#endif
