/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_FW_CFG_H
#define VMON_HW_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/memory.h"

/*
 * QEMU's firmware configuration device (docs/specs/fw_cfg.txt), on I/O
 * ports: selector 0x510 (16-bit), data 0x511, DMA address 0x514-0x51b
 * (big-endian; writing the low half at 0x518 starts the transfer).  Every
 * item is read-only: data-port writes are ignored and DMA writes fail.
 */
#define FW_CFG_PORT_SEL   0x510
#define FW_CFG_PORT_DATA  0x511
#define FW_CFG_PORT_DMA   0x514

#define FW_CFG_SIGNATURE      0x00
#define FW_CFG_ID             0x01
#define FW_CFG_UUID           0x02
#define FW_CFG_RAM_SIZE       0x03
#define FW_CFG_NOGRAPHIC      0x04
#define FW_CFG_NB_CPUS        0x05
#define FW_CFG_MACHINE_ID     0x06
#define FW_CFG_KERNEL_ADDR    0x07
#define FW_CFG_KERNEL_SIZE    0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR    0x0a
#define FW_CFG_INITRD_SIZE    0x0b
#define FW_CFG_BOOT_DEVICE    0x0c
#define FW_CFG_NUMA           0x0d
#define FW_CFG_BOOT_MENU      0x0e
#define FW_CFG_MAX_CPUS       0x0f
#define FW_CFG_KERNEL_ENTRY   0x10
#define FW_CFG_KERNEL_DATA    0x11
#define FW_CFG_INITRD_DATA    0x12
#define FW_CFG_CMDLINE_ADDR   0x13
#define FW_CFG_CMDLINE_SIZE   0x14
#define FW_CFG_CMDLINE_DATA   0x15
#define FW_CFG_SETUP_ADDR     0x16
#define FW_CFG_SETUP_SIZE     0x17
#define FW_CFG_SETUP_DATA     0x18
#define FW_CFG_FILE_DIR       0x19
#define FW_CFG_FILE_FIRST     0x20

#define FW_CFG_WRITE_CHANNEL  0x4000
#define FW_CFG_ARCH_LOCAL     0x8000
/* x86's arch-local items, as QEMU numbers them. */
#define FW_CFG_ACPI_TABLES    (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE  (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE     (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET           (FW_CFG_ARCH_LOCAL + 4)

/* ID feature bits. */
#define FW_CFG_VERSION        0x01
#define FW_CFG_VERSION_DMA    0x02

/* DMA control word bits (big-endian in the guest's descriptor). */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

#define FW_CFG_MAX_FILES      256
#define FW_CFG_MAX_NAME       56   /* including the NUL */

struct fw_cfg;

/* Registers the ports; NULL after one error line. */
struct fw_cfg *fw_cfg_new(struct bus *pio, struct guest_mem *mem);
void fw_cfg_free(struct fw_cfg *f);

/*
 * Items below FW_CFG_FILE_FIRST (plain or FW_CFG_ARCH_LOCAL); data is copied
 * and replaces any earlier item of that key.  0, or -1 after one error line.
 */
int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len);
/* Numeric items are little-endian, as QEMU stores them. */
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v);
/*
 * A named file, listed in FILE_DIR.  Files are kept sorted by name and
 * numbered from FW_CFG_FILE_FIRST in that order, as QEMU does, so adding a
 * file can renumber others.  A file of the same name is replaced.
 */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len);

struct snap_out;
struct snap_in;
/*
 * Section "fw_cfg": selector, offset and DMA address; the items are
 * configuration, added again before the load, which checks that the
 * selected one is as long as it was.  -1 with the error recorded in in.
 */
void fw_cfg_save(struct fw_cfg *f, struct snap_out *o);
int fw_cfg_load(struct fw_cfg *f, struct snap_in *in);

#endif
