/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_AML_H
#define VMON_ARCH_X86_AML_H

#include <stddef.h>
#include <stdint.h>

/*
 * A tiny AML (ACPI Machine Language) encoder for the DSDT, so no ASL compiler
 * is needed at build time.  Writes go into a caller-supplied buffer; running
 * out of room sets overflow and further writes are dropped, so callers check
 * once at the end.
 */
struct aml {
	uint8_t *buf;
	size_t len, cap;
	int overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* "\\_SB_.CP00", "_S5_", "CP00": '\\' root prefix, dot-separated NameSegs
 * (shorter segments are padded with '_'). */
void aml_name(struct aml *a, const char *path);
/* The shortest integer encoding (ZeroOp, OneOp, Byte/Word/DWord/QWordConst). */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/*
 * Package-length bracketed objects: *_begin() emits the opcode and leaves
 * room for the PkgLength; aml_end() fills it in with the shortest encoding.
 */
size_t aml_scope_begin(struct aml *a, const char *name);
size_t aml_device_begin(struct aml *a, const char *name);
size_t aml_package_begin(struct aml *a, uint8_t nelems);
/* Not serialized, nargs 0 to 7. */
size_t aml_method_begin(struct aml *a, const char *name, uint8_t nargs);
void aml_end(struct aml *a, size_t mark);

/* NameOp: the caller emits the value right after. */
void aml_name_decl(struct aml *a, const char *name);
/* ReturnOp: the caller emits the value right after. */
void aml_return(struct aml *a);

/*
 * ResourceTemplate: descriptors are written into a struct aml of their own
 * (aml_res_*), then aml_resource_template() emits them as a Buffer closed by
 * an end tag (checksum 0: "treat as summed correctly").  An overflowed res
 * overflows a.
 */
/* I/O port range, 16-bit decode: base in [min, max] with alignment align,
 * len ports. */
void aml_res_io(struct aml *res, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* Address space descriptors a bridge produces: type AML_ADDR_*, type-specific
 * flags (AML_IO_ENTIRE_RANGE, AML_MEM_RW), the range [min, max]. */
#define AML_ADDR_MEM 0
#define AML_ADDR_IO  1
#define AML_ADDR_BUS 2
#define AML_IO_ENTIRE_RANGE 3
#define AML_MEM_RW 1
void aml_res_word(struct aml *res, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max);
void aml_res_dword(struct aml *res, uint8_t type, uint8_t tflags, uint32_t min, uint32_t max);
/* A device's registers, and its level-triggered, shareable interrupt. */
void aml_res_mem32_fixed(struct aml *res, uint32_t base, uint32_t len);
void aml_res_irq_level_shared(struct aml *res, uint32_t gsi);
void aml_resource_template(struct aml *a, const struct aml *res);

#endif
