/* SPDX-License-Identifier: Apache-2.0 */
/* Test cases: items and the small x86-64 encoder the generators share. */
#include <string.h>

#include "dt_case.h"

void dt_item_init(struct dt_item *it)
{
	memset(it, 0, sizeof(*it));
	it->slot = -1;
	it->block = -1;
}

void dt_emit(struct dt_item *it, const uint8_t *b, int n)
{
	for (int i = 0; i < n && it->len < DT_ITEM_BYTES; i++)
		it->b[it->len++] = b[i];
}

void dt_emit1(struct dt_item *it, uint8_t b)
{
	dt_emit(it, &b, 1);
}

void dt_emit_imm(struct dt_item *it, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		dt_emit1(it, (uint8_t)(v >> (8 * i)));
}

void dt_emit_modrm(struct dt_item *it, int size, uint8_t pfx, const uint8_t *op, int nop,
		   int reg, int rm, int legacy8)
{
	int mem = rm >= DT_RM_MEM;
	int rmreg = mem ? 0 : rm;
	uint8_t rex = 0x40;

	if (size == 2 && pfx != 0x66)
		dt_emit1(it, 0x66);
	if (pfx)
		dt_emit1(it, pfx);
	if (size == 8)
		rex |= 8;
	if (reg & 8)
		rex |= 4;
	if (rmreg & 8)
		rex |= 1;
	/* SPL, BPL, SIL, DIL need a REX; AH..BH must not have one. */
	if (rex != 0x40 || (size == 1 && !legacy8 && ((reg & 7) >= 4 || (!mem && rm >= 4))))
		dt_emit1(it, rex);
	dt_emit(it, op, nop);
	if (mem) {
		/* [disp32] through a SIB with neither base nor index: absolute. */
		dt_emit1(it, (uint8_t)(((reg & 7) << 3) | 4));
		dt_emit1(it, 0x25);
		dt_emit_imm(it, DT_DATA_BASE + (uint64_t)(rm - DT_RM_MEM), 4);
	} else {
		dt_emit1(it, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
	}
}

void dt_emit_mov_imm(struct dt_item *it, int reg, uint64_t v)
{
	if (v <= 0xffffffffULL) {
		if (reg & 8)
			dt_emit1(it, 0x41);
		dt_emit1(it, (uint8_t)(0xb8 + (reg & 7)));
		dt_emit_imm(it, v, 4);
		return;
	}
	dt_emit1(it, (uint8_t)(0x48 | (reg & 8 ? 1 : 0)));
	dt_emit1(it, (uint8_t)(0xb8 + (reg & 7)));
	dt_emit_imm(it, v, 8);
}

void dt_emit_set_flags(struct dt_item *it, uint32_t flags)
{
	dt_emit1(it, 0x68);
	dt_emit_imm(it, flags | 2, 4);
	dt_emit1(it, 0x9d);
}

void dt_emit_store_flags(struct dt_item *it, int off)
{
	dt_emit1(it, 0x9c);
	dt_emit1(it, 0x8f);                 /* POP r/m64: /0 */
	dt_emit1(it, 0x04);
	dt_emit1(it, 0x25);
	dt_emit_imm(it, DT_DATA_BASE + (uint64_t)off, 4);
	/* The copy left below RSP would carry the undefined flags past the mask. */
	dt_emit(it, (const uint8_t[]){ 0x48, 0xc7, 0x44, 0x24, 0xf8, 0, 0, 0, 0 }, 9);
}

int dt_case_assemble(struct dt_case *c)
{
	size_t n = 0;

	for (int i = 0; i < c->n; i++) {
		if (n + c->item[i].len > DT_CODE_MAX - 2)
			return -1;
		memcpy(c->in.code + n, c->item[i].b, c->item[i].len);
		n += c->item[i].len;
	}
	c->in.code[n] = 0x0f;               /* UD2: the end */
	c->in.code[n + 1] = 0x0b;
	c->in.code_len = n + 2;
	return 0;
}

uint16_t dt_cc_uses(unsigned cc)
{
	static const uint16_t uses[8] = {
		DT_OF, DT_CF, DT_ZF, DT_CF | DT_ZF, DT_SF, DT_PF, DT_SF | DT_OF,
		DT_ZF | DT_SF | DT_OF,
	};
	return uses[(cc >> 1) & 7];
}

int dt_case_reads_undefined(const struct dt_case *c)
{
	uint16_t u = 0;

	for (int i = 0; i < c->n; i++) {
		if (c->item[i].uses & u)
			return 1;
		u = (uint16_t)((u & ~c->item[i].def) | c->item[i].undef);
	}
	return 0;
}
