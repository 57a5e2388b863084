/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/aml.h"

#include <string.h>

enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a,
	AML_WORD = 0x0b, AML_DWORD = 0x0c, AML_STRING = 0x0d, AML_QWORD = 0x0e,
	AML_SCOPE = 0x10, AML_BUFFER = 0x11, AML_PACKAGE = 0x12,
	AML_METHOD = 0x14, AML_DUAL_NAME = 0x2e, AML_MULTI_NAME = 0x2f,
	AML_EXT = 0x5b, AML_DEVICE = 0x82, AML_RETURN = 0xa4,
	AML_ROOT = '\\',
};

/* Small resource descriptor tags: item name << 3 | length. */
enum {
	AML_RES_IO = 0x47,              /* I/O port descriptor, 7 bytes */
	AML_RES_END = 0x79,             /* end tag, 1 byte (checksum) */
	AML_RES_IO_DECODE16 = 0x01,
};

/* Room reserved for a PkgLength before its size is known (the maximum). */
#define AML_PKGLEN_MAX 4

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_nameseg(struct aml *a, const char *seg, size_t n)
{
	char s[4] = { '_', '_', '_', '_' };

	memcpy(s, seg, n > 4 ? 4 : n);
	aml_bytes(a, s, 4);
}

void aml_name(struct aml *a, const char *path)
{
	const char *p;
	size_t nsegs = 1;

	if (*path == '\\') {
		aml_byte(a, AML_ROOT);
		path++;
	}
	for (p = path; *p; p++)
		nsegs += *p == '.';
	if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME);
	if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nsegs);
	}
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		aml_nameseg(a, path, n);
		if (!dot)
			break;
		path = dot + 1;
	}
}

static void aml_le(struct aml *a, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_name_decl(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
}

/* Reserves the PkgLength slot; the mark is where the contents begin. */
static size_t aml_pkg_open(struct aml *a)
{
	static const uint8_t hole[AML_PKGLEN_MAX];

	aml_bytes(a, hole, sizeof(hole));
	return a->len;
}

void aml_end(struct aml *a, size_t mark)
{
	size_t body, total;
	int n;

	if (a->overflow)
		return;
	body = a->len - mark;
	/* PkgLength counts its own bytes: 1 byte holds 6 bits, each further
	 * byte adds 8 to the 4 low bits of the lead byte. */
	for (n = 1; n <= AML_PKGLEN_MAX; n++) {
		total = body + (size_t)n;
		if (n == 1 ? total <= 0x3f : total < (1ULL << (4 + 8 * (n - 1))))
			break;
	}
	if (n > AML_PKGLEN_MAX) {
		a->overflow = 1;
		return;
	}
	uint8_t *start = a->buf + mark - AML_PKGLEN_MAX;

	memmove(start + n, a->buf + mark, body);
	if (n == 1) {
		start[0] = (uint8_t)total;
	} else {
		start[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (int i = 1; i < n; i++)
			start[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	a->len = mark - AML_PKGLEN_MAX + (size_t)n + body;
}

size_t aml_scope_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_SCOPE);
	mark = aml_pkg_open(a);
	aml_name(a, name);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	mark = aml_pkg_open(a);
	aml_name(a, name);
	return mark;
}

size_t aml_package_begin(struct aml *a, uint8_t nelems)
{
	size_t mark;

	aml_byte(a, AML_PACKAGE);
	mark = aml_pkg_open(a);
	aml_byte(a, nelems);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *name, uint8_t nargs)
{
	size_t mark;

	aml_byte(a, AML_METHOD);
	mark = aml_pkg_open(a);
	aml_name(a, name);
	aml_byte(a, nargs & 7);         /* MethodFlags: SyncLevel 0, not serialized */
	return mark;
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN);
}

void aml_res_io(struct aml *res, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	aml_byte(res, AML_RES_IO);
	aml_byte(res, AML_RES_IO_DECODE16);
	aml_le(res, min, 2);
	aml_le(res, max, 2);
	aml_byte(res, align);
	aml_byte(res, len);
}

/* Word and DWord Address Space descriptors (ACPI 6.4.3.5): fixed min and max,
 * positive decode, producer; no translation, granularity 0. */
#define AML_RES_WORD_ADDR  0x88
#define AML_RES_DWORD_ADDR 0x87
#define AML_ADDR_FIXED     0x0c

/* width 2 (Word) or 4 (DWord): the same fields, only their size differs. */
static void aml_res_addr(struct aml *res, uint8_t tag, int width, uint8_t type, uint8_t tflags,
			 uint32_t min, uint32_t max)
{
	aml_byte(res, tag);
	aml_le(res, 3 + 5 * (unsigned)width, 2);
	aml_byte(res, type);
	aml_byte(res, AML_ADDR_FIXED);
	aml_byte(res, tflags);
	aml_le(res, 0, width);          /* granularity */
	aml_le(res, min, width);
	aml_le(res, max, width);
	aml_le(res, 0, width);          /* translation */
	aml_le(res, max - min + 1, width);
}

void aml_res_word(struct aml *res, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	aml_res_addr(res, AML_RES_WORD_ADDR, 2, type, tflags, min, max);
}

void aml_res_dword(struct aml *res, uint8_t type, uint8_t tflags, uint32_t min, uint32_t max)
{
	aml_res_addr(res, AML_RES_DWORD_ADDR, 4, type, tflags, min, max);
}

void aml_res_mem32_fixed(struct aml *res, uint32_t base, uint32_t len)
{
	aml_byte(res, 0x86);            /* Memory32Fixed */
	aml_le(res, 9, 2);
	aml_byte(res, 1);               /* read/write */
	aml_le(res, base, 4);
	aml_le(res, len, 4);
}

void aml_res_irq_level_shared(struct aml *res, uint32_t gsi)
{
	aml_byte(res, 0x89);            /* Extended Interrupt */
	aml_le(res, 6, 2);
	aml_byte(res, 0x09);            /* consumer, level, active high, shared */
	aml_byte(res, 1);
	aml_le(res, gsi, 4);
}

void aml_resource_template(struct aml *a, const struct aml *res)
{
	size_t mark;

	if (res->overflow) {
		a->overflow = 1;
		return;
	}
	aml_byte(a, AML_BUFFER);
	mark = aml_pkg_open(a);
	aml_integer(a, res->len + 2);
	aml_bytes(a, res->buf, res->len);
	aml_byte(a, AML_RES_END);
	aml_byte(a, 0);
	aml_end(a, mark);
}
