/* SPDX-License-Identifier: Apache-2.0 */
/* Descriptor tables and segment register loads with protected-mode checks. */
#include "accel/emu/emu_int.h"

void emu_desc_to_seg(uint64_t lo, uint64_t hi, uint16_t sel, struct x86_segment *seg, int lma)
{
	uint32_t limit = (lo & 0xffff) | (((lo >> 48) & 0xf) << 16);

	seg->selector = sel;
	seg->base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24);
	seg->type = (lo >> 40) & 0xf;
	seg->s = (lo >> 44) & 1;
	seg->dpl = (lo >> 45) & 3;
	seg->present = (lo >> 47) & 1;
	seg->avl = (lo >> 52) & 1;
	seg->l = lma && ((lo >> 53) & 1);   /* VM entry refuses CS.L outside IA-32e mode */
	seg->db = (lo >> 54) & 1;
	seg->g = (lo >> 55) & 1;
	seg->limit = seg->g ? (limit << 12) | 0xfff : limit;
	seg->unusable = 0;
	if (!seg->s)   /* 64-bit system descriptors carry base bits 32-63 */
		seg->base |= (hi & 0xffffffffULL) << 32;
}

/* Virtual-8086 mode: base selector * 16, limit 0xffff, DPL 3, read/write data (as VMX has CS too). */
void emu_seg_v86(struct x86_segment *seg, uint16_t sel)
{
	x86_seg_real(seg, sel, 0);
	seg->dpl = 3;
}

static uint64_t desc_addr(const struct emu_cpu *c, uint16_t sel, uint64_t *limit)
{
	if (sel & 4) {
		*limit = c->s->seg[X86_LDTR].unusable ? 0 : c->s->seg[X86_LDTR].limit;
		return c->s->seg[X86_LDTR].base;
	}
	*limit = c->s->gdt.limit;
	return c->s->gdt.base;
}

int emu_read_desc(struct emu_cpu *c, uint16_t sel, uint64_t *desc, int exc)
{
	uint64_t limit, base = desc_addr(c, sel, &limit);
	uint64_t off = sel & ~7u;

	if (off + 7 > limit)
		return emu_raise(c, exc, sel & ~3u, 1);
	return emu_read_lin(c, base + off, desc, 8, ACC_READ | ACC_SUPER);
}

int emu_peek_desc(struct emu_cpu *c, uint16_t sel, uint64_t *desc)
{
	uint64_t limit, base = desc_addr(c, sel, &limit);
	uint64_t off = sel & ~7u;

	if (!(sel & ~3u) || off + 7 > limit)
		return 0;
	return emu_read_lin(c, base + off, desc, 8, ACC_READ | ACC_SUPER) ? -1 : 1;
}

int emu_read_desc16(struct emu_cpu *c, uint16_t sel, uint64_t d[2])
{
	uint64_t limit, base = desc_addr(c, sel, &limit);
	uint64_t off = sel & ~7u;

	if (off + 15 > limit)
		return emu_gp(c, sel & ~3u);
	return emu_read_lin(c, base + off, d, 16, ACC_READ | ACC_SUPER);
}

/* The CPU sets the accessed bit in the descriptor on every load. */
static void set_accessed(struct emu_cpu *c, uint16_t sel, uint64_t desc)
{
	uint64_t limit, base = desc_addr(c, sel, &limit);
	uint8_t b = (desc >> 40) & 0xff;

	if (b & 1)
		return;
	b |= 1;
	emu_write_lin(c, base + (sel & ~7u) + 5, &b, 1, ACC_WRITE | ACC_SUPER);
}

int emu_load_seg(struct emu_cpu *c, int sreg, uint16_t sel)
{
	struct x86_segment *seg = &c->s->seg[sreg];
	int cpl = emu_cpl(c), rpl = sel & 3, dpl, type;
	uint64_t d;

	if (!emu_protected(c) || emu_v86(c)) {
		if (emu_v86(c)) {
			emu_seg_v86(seg, sel);
		} else {
			seg->selector = sel;
			seg->base = (uint64_t)sel << 4;
		}
		return 0;
	}
	if (!(sel & ~3u)) {
		if (sreg == X86_SS && !(emu_64bit(c) && cpl != 3 && rpl == cpl))
			return emu_gp(c, 0);
		*seg = (struct x86_segment){ .selector = sel, .unusable = 1,
					     .dpl = sreg == X86_SS ? cpl : 0 };
		if (sreg == X86_SS)
			*seg = (struct x86_segment){ .selector = sel, .type = 3, .s = 1,
						     .dpl = cpl, .present = 1, .db = 1,
						     .g = 1, .limit = 0xffffffff };
		return 0;
	}
	if (emu_read_desc(c, sel, &d, EXC_GP))
		return -1;
	dpl = (d >> 45) & 3;
	type = (d >> 40) & 0xf;
	if (!((d >> 44) & 1))
		return emu_gp(c, sel & ~3u);
	if (sreg == X86_SS) {
		if (rpl != cpl || dpl != cpl || (type & 8) || !(type & 2))
			return emu_gp(c, sel & ~3u);
		if (!((d >> 47) & 1))
			return emu_raise(c, EXC_SS, sel & ~3u, 1);
	} else {
		if ((type & 0xa) == 0x8)   /* execute-only code */
			return emu_gp(c, sel & ~3u);
		if ((!(type & 8) || !(type & 4)) && (rpl > dpl || cpl > dpl))
			return emu_gp(c, sel & ~3u);
		if (!((d >> 47) & 1))
			return emu_raise(c, EXC_NP, sel & ~3u, 1);
	}
	set_accessed(c, sel, d);
	emu_desc_to_seg(d | (1ULL << 40), 0, sel, seg, emu_long_mode(c));
	return 0;
}

int emu_load_cs(struct emu_cpu *c, uint16_t sel, int new_cpl)
{
	struct x86_segment *cs = &c->s->seg[X86_CS];
	uint64_t d;
	int dpl, type;

	if (emu_v86(c)) {
		emu_seg_v86(cs, sel);
		return 0;
	}
	if (!emu_protected(c)) {
		x86_seg_real(cs, sel, 1);
		return 0;
	}
	if (!(sel & ~3u))
		return emu_gp(c, 0);
	if (emu_read_desc(c, sel, &d, EXC_GP))
		return -1;
	dpl = (d >> 45) & 3;
	type = (d >> 40) & 0xf;
	if (!((d >> 44) & 1) || !(type & 8)) {
		c->unimplemented = 1;   /* call gates and task switches */
		return -1;
	}
	if ((type & 4) ? dpl > new_cpl : dpl != new_cpl)
		return emu_gp(c, sel & ~3u);
	if (!((d >> 47) & 1))
		return emu_raise(c, EXC_NP, sel & ~3u, 1);
	set_accessed(c, sel, d);
	emu_desc_to_seg(d | (1ULL << 40), 0, (sel & ~3u) | new_cpl, cs, emu_long_mode(c));
	cs->dpl = new_cpl;    /* the CPU tracks CPL in the cached DPL for conforming code */
	return 0;
}

/* LLDT/LTR: system descriptors are 16 bytes in long mode. */
int emu_load_system_seg(struct emu_cpu *c, int sreg, uint16_t sel)
{
	uint64_t d[2] = { 0, 0 };
	int type, want_ldt = sreg == X86_LDTR;

	if (!(sel & ~3u)) {
		if (!want_ldt)
			return emu_gp(c, 0);
		c->s->seg[X86_LDTR] = (struct x86_segment){ .selector = sel, .unusable = 1 };
		return 0;
	}
	if (sel & 4)
		return emu_gp(c, sel & ~3u);
	if (emu_long_mode(c) ? emu_read_desc16(c, sel, d) : emu_read_desc(c, sel, d, EXC_GP))
		return -1;
	type = (d[0] >> 40) & 0xf;
	if (((d[0] >> 44) & 1) || (want_ldt ? type != 2 : (type != 1 && type != 9)))
		return emu_gp(c, sel & ~3u);
	if (!((d[0] >> 47) & 1))
		return emu_raise(c, EXC_NP, sel & ~3u, 1);
	emu_desc_to_seg(d[0], emu_long_mode(c) ? d[1] : 0, sel, &c->s->seg[sreg], emu_long_mode(c));
	if (!want_ldt) {
		/* LTR marks the TSS busy, in memory and in TR. */
		uint8_t b = ((d[0] >> 40) & 0xff) | 2;

		if (emu_write_lin(c, c->s->gdt.base + (sel & ~7u) + 5, &b, 1, ACC_WRITE | ACC_SUPER))
			return -1;
		c->s->seg[X86_TR].type |= 2;
	}
	return 0;
}
