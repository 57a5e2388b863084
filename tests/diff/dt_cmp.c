/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Comparing two final states.  Flags the SDM leaves undefined after the
 * instructions that ran are masked only to tell such a difference apart
 * (DT_UNDEF_ONLY): it is still reported, never silently equal.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_cmp.h"

static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Undefined flags after the items that ran before the code stopped at rip. */
static uint64_t final_undef(const struct dt_case *c, uint64_t rip)
{
	uint64_t off = 0, stop = rip - DT_CODE_BASE;
	uint16_t u = 0;

	for (int i = 0; i < c->n && off < stop; i++) {
		u = (uint16_t)((u & ~c->item[i].def) | c->item[i].undef);
		off += c->item[i].len;
	}
	return u;
}

/* The undefined flags of the PUSHF image stored at data offset off. */
static uint64_t slot_undef(const struct dt_case *c, int off)
{
	for (int i = 0; i < c->n; i++)
		if (c->item[i].slot == off)
			return c->item[i].slot_undef;
	return 0;
}

static uint64_t word(const uint8_t *p, int off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

/* DT_SAME, or how the data area differs. */
static enum dt_verdict cmp_data(const struct dt_case *c, const struct dt_output *a,
				const struct dt_output *b)
{
	enum dt_verdict v = DT_SAME;

	if (!memcmp(a->data, b->data, sizeof(a->data)))
		return DT_SAME;
	for (int off = 0; off < DT_DATA_SIZE; off += 8) {
		uint64_t x = word(a->data, off) ^ word(b->data, off);

		if (!x)
			continue;
		if (x & ~slot_undef(c, off))
			return DT_DIFF;
		v = DT_UNDEF_ONLY;
	}
	return v;
}

/* The SDM leaves the upper halves of the GPRs undefined in 32-bit modes
 * (AMD zero-extends where emu keeps, e.g. CMPXCHG's unwritten destination):
 * compatibility-mode cases compare the low 32 bits. */
static int gprs_differ(const struct dt_case *c, const struct dt_output *a,
		       const struct dt_output *b)
{
	uint64_t mask = c->in.compat ? 0xffffffffULL : ~0ULL;

	for (int i = 0; i < 16; i++)
		if ((a->gpr[i] ^ b->gpr[i]) & mask)
			return 1;
	return 0;
}

enum dt_verdict dt_compare(const struct dt_case *c, const struct dt_output *a,
			   const struct dt_output *b)
{
	enum dt_verdict v = DT_SAME, d;
	uint64_t fx = a->rflags ^ b->rflags;

	if (a->vector != b->vector || a->error_code != b->error_code || a->cr2 != b->cr2 ||
	    a->rip != b->rip || a->cs != b->cs || a->ss != b->ss ||
	    gprs_differ(c, a, b) || a->mxcsr != b->mxcsr ||
	    memcmp(a->xmm, b->xmm, sizeof(a->xmm)) || memcmp(a->stack, b->stack, sizeof(a->stack)) ||
	    memcmp(&a->x87, &b->x87, sizeof(a->x87)))
		return DT_DIFF;
	if (fx) {
		if (fx & ~final_undef(c, a->rip))
			return DT_DIFF;
		v = DT_UNDEF_ONLY;
	}
	d = cmp_data(c, a, b);
	return d > v ? d : v;
}

int dt_first_data_diff(const struct dt_output *a, const struct dt_output *b)
{
	for (int i = 0; i < DT_DATA_SIZE; i++)
		if (a->data[i] != b->data[i])
			return i;
	return -1;
}

static void diff64(FILE *f, const char *what, uint64_t a, uint64_t b)
{
	if (a != b)
		fprintf(f, "  %s: kvm %#llx, emu %#llx\n", what, (unsigned long long)a,
			(unsigned long long)b);
}

static void diff_bytes(FILE *f, const char *what, const uint8_t *a, const uint8_t *b, int n)
{
	int shown = 0;

	for (int off = 0; off + 8 <= n; off += 8) {
		char name[48];

		if (word(a, off) == word(b, off))
			continue;
		if (shown++ == 16) {
			fprintf(f, "  %s: more differences\n", what);
			return;
		}
		snprintf(name, sizeof(name), "%s+%#x", what, off);
		diff64(f, name, word(a, off), word(b, off));
	}
}

void dt_print_diff(FILE *f, const struct dt_case *c, const struct dt_output *a,
		   const struct dt_output *b)
{
	char name[32];

	diff64(f, "vector", (uint64_t)a->vector, (uint64_t)b->vector);
	diff64(f, "error code", a->error_code, b->error_code);
	diff64(f, "cr2", a->cr2, b->cr2);
	diff64(f, "rip", a->rip, b->rip);
	diff64(f, "cs", a->cs, b->cs);
	diff64(f, "ss", a->ss, b->ss);
	if (a->rflags != b->rflags)
		fprintf(f, "  rflags: kvm %#llx, emu %#llx (undefined here: %#llx)\n",
			(unsigned long long)a->rflags, (unsigned long long)b->rflags,
			(unsigned long long)final_undef(c, a->rip));
	for (int i = 0; i < 16; i++)
		diff64(f, gpr_names[i], a->gpr[i], b->gpr[i]);
	diff64(f, "mxcsr", a->mxcsr, b->mxcsr);
	for (int i = 0; i < DT_NR_XMM; i++) {
		snprintf(name, sizeof(name), "xmm%d", i);
		diff_bytes(f, name, a->xmm[i], b->xmm[i], 16);
	}
	diff64(f, "fcw", a->x87.fcw, b->x87.fcw);
	diff64(f, "fsw", a->x87.fsw, b->x87.fsw);
	diff64(f, "ftw", a->x87.ftw, b->x87.ftw);
	for (int i = 0; i < 8; i++) {
		uint16_t ea, eb;

		memcpy(&ea, a->x87.st[i] + 8, 2);
		memcpy(&eb, b->x87.st[i] + 8, 2);
		snprintf(name, sizeof(name), "st%d mantissa", i);
		diff64(f, name, word(a->x87.st[i], 0), word(b->x87.st[i], 0));
		snprintf(name, sizeof(name), "st%d sign/exponent", i);
		diff64(f, name, ea, eb);
	}
	diff_bytes(f, "data", a->data, b->data, DT_DATA_SIZE);
	diff_bytes(f, "stack", a->stack, b->stack, DT_STACK_SIZE);
}

/* objdump on a temporary file; 0 if it ran. */
static int objdump(FILE *f, const uint8_t *code, size_t n)
{
	char path[] = "/tmp/difftest-XXXXXX", cmd[160], line[256];
	int fd = mkstemp(path), ok = 0;
	FILE *p;

	if (fd < 0)
		return -1;
	if (write(fd, code, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "objdump -D -b binary -mi386:x86-64 --adjust-vma=%#llx %s 2>/dev/null",
		 (unsigned long long)DT_CODE_BASE, path);
	p = popen(cmd, "r");
	if (p) {
		int body = 0;

		while (fgets(line, sizeof(line), p)) {
			if (strstr(line, "<.data>:")) {
				body = 1;
				continue;
			}
			if (body && line[0] != '\n') {
				fprintf(f, "   %s", line);
				ok = 1;
			}
		}
		pclose(p);
	}
	unlink(path);
	return ok ? 0 : -1;
}

void dt_print_code(FILE *f, const struct dt_case *c)
{
	fprintf(f, "  code (%zu bytes, ending in ud2):", c->in.code_len);
	for (size_t i = 0; i < c->in.code_len; i++)
		fprintf(f, " %02x", c->in.code[i]);
	fprintf(f, "\n");
	if (objdump(f, c->in.code, c->in.code_len))
		fprintf(f, "  (no objdump for a disassembly)\n");
}

void dt_print_input(FILE *f, const struct dt_input *in)
{
	fprintf(f, "  initial state:");
	for (int i = 0; i < 16; i++)
		fprintf(f, "%s%s=%#llx", i % 4 ? " " : "\n    ", gpr_names[i],
			(unsigned long long)in->gpr[i]);
	fprintf(f, "\n    rflags=%#llx mxcsr=%#x (x87/XMM registers and data not shown are empty/0)\n",
		(unsigned long long)in->rflags, in->mxcsr);
	fprintf(f, "    fcw=%#x fsw=%#x ftw=%#x\n", in->x87.fcw, in->x87.fsw, in->x87.ftw);
	for (int i = 0; i < 8; i++)
		if (in->x87.ftw >> i & 1) {
			uint16_t se;

			memcpy(&se, in->x87.st[i] + 8, 2);
			fprintf(f, "    st%d=%04x:%016llx\n", i, se,
				(unsigned long long)word(in->x87.st[i], 0));
		}
	for (int off = 0; off < DT_DATA_SIZE; off += 16)
		if (word(in->data, off) || word(in->data, off + 8))
			fprintf(f, "    data+%#06x: %016llx %016llx\n", off,
				(unsigned long long)word(in->data, off),
				(unsigned long long)word(in->data, off + 8));
	for (int i = 0; i < DT_NR_XMM; i++)
		if (word(in->xmm[i], 0) || word(in->xmm[i], 8))
			fprintf(f, "    xmm%d=%016llx%016llx\n", i,
				(unsigned long long)word(in->xmm[i], 8), (unsigned long long)word(in->xmm[i], 0));
}

void dt_print_output(FILE *f, const char *who, const struct dt_output *o)
{
	fprintf(f, "  %s: vector %d error %#llx cr2 %#llx rip %#llx rflags %#llx", who, o->vector,
		(unsigned long long)o->error_code, (unsigned long long)o->cr2,
		(unsigned long long)o->rip, (unsigned long long)o->rflags);
	for (int i = 0; i < 16; i++)
		fprintf(f, "%s%s=%#llx", i % 4 ? " " : "\n    ", gpr_names[i],
			(unsigned long long)o->gpr[i]);
	fprintf(f, "\n");
}
