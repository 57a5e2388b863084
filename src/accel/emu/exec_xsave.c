/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FXSAVE/FXRSTOR, XSAVE/XSAVEOPT/XSAVEC/XSAVES, XRSTOR/XRSTORS, XGETBV/
 * XSETBV, LDMXCSR/STMXCSR.  The register state is x86_cpu_state.xsave in
 * standard (non-compacted) form, its header's XSTATE_BV serving as XINUSE.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define HDR 512
#define MXCSR_OFF 24
#define MXCSR_MASK 0xffffu

/* Standard-form offset and size of each state component. */
static const struct { uint16_t off, size; } comp[10] = {
	[0] = { 0, 160 }, [1] = { 160, 256 }, [2] = { 576, 256 }, [3] = { 960, 64 },
	[4] = { 1024, 64 }, [5] = { 1088, 64 }, [6] = { 1152, 512 }, [7] = { 1664, 1024 },
	[9] = { 2688, 8 },
};
#define COMP_KNOWN 0x2ffULL

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* MXCSR, and the mask of its supported bits that every save writes next to
 * it (software reads it there; 0 would mean the default 0xffbf, no DAZ). */
static void save_mxcsr(const struct emu_cpu *c, uint8_t *img)
{
	uint32_t mask = MXCSR_MASK;

	memcpy(img + MXCSR_OFF, c->s->xsave + MXCSR_OFF, 4);
	memcpy(img + MXCSR_OFF + 4, &mask, 4);
}

static uint64_t xinuse(const struct emu_cpu *c)
{
	return rd64(c->s->xsave + HDR) & c->s->xcr0;
}

static uint64_t rfbm(const struct emu_cpu *c)
{
	return c->s->xcr0 & ((c->s->gpr[X86_RDX] << 32) | (c->s->gpr[X86_RAX] & 0xffffffffULL));
}

/* x87 and SSE stay in the legacy region in both formats. */
static unsigned compacted_offset(uint64_t xcomp, int i)
{
	unsigned off = 576;

	if (i < 2)
		return comp[i].off;
	for (int k = 2; k < i; k++)
		if ((xcomp >> k) & 1)
			off += comp[k].size;
	return off;
}

static void init_component(struct emu_cpu *c, int i)
{
	uint8_t *x = c->s->xsave;

	if (i == 0) {
		memset(x, 0, 24);
		memset(x + 32, 0, 128);
		x[0] = 0x7f;     /* FCW 0x37f */
		x[1] = 0x03;
	} else if (i == 1) {
		memset(x + 160, 0, 256);
	} else if (i < 10 && comp[i].size) {
		memset(x + comp[i].off, 0, comp[i].size);
	}
}

/* Copies component i between the CPU and a guest buffer image. */
static void copy_component(struct emu_cpu *c, uint8_t *img, unsigned off, int i, int save)
{
	uint8_t *x = c->s->xsave;

	if (i == 0) {
		if (save) {
			memcpy(img, x, 24);
			memcpy(img + 32, x + 32, 128);
		} else {
			memcpy(x, img, 24);
			memcpy(x + 32, img + 32, 128);
		}
		return;
	}
	if (save)
		memcpy(img + off, x + comp[i].off, comp[i].size);
	else
		memcpy(x + comp[i].off, img + off, comp[i].size);
}

static int xsave_check(struct emu_cpu *c)
{
	if (!(c->s->cr4 & X86_CR4_OSXSAVE))
		return emu_ud(c);
	if (c->s->cr0 & X86_CR0_TS)
		return emu_raise(c, EXC_NM, 0, 0);
	return 0;
}

static int area(struct emu_cpu *c, unsigned align, int *seg, uint64_t *off)
{
	*off = emu_ea(c, seg);
	if (*off & (align - 1))
		return emu_gp(c, 0);
	return 0;
}

static unsigned area_size(uint64_t mask, int compacted)
{
	unsigned end = 576;

	for (int i = 2; i < 10; i++) {
		if (!((mask >> i) & 1) || !comp[i].size)
			continue;
		if (compacted)
			end += comp[i].size;
		else if (comp[i].off + comp[i].size > end)
			end = comp[i].off + comp[i].size;
	}
	return end;
}

static int xsave(struct emu_cpu *c, int op)
{
	int compacted = op == OP_XSAVEC || op == OP_XSAVES, seg;
	uint64_t rf = rfbm(c) & COMP_KNOWN, in_use = xinuse(c), off, bv;
	uint8_t img[X86_XSAVE_SIZE];
	unsigned size = area_size(rf, compacted);

	if (xsave_check(c) || area(c, 64, &seg, &off))
		return -1;
	if (op == OP_XSAVES && emu_cpl(c))
		return emu_gp(c, 0);
	/* Read first: untouched bytes of the area keep their contents. */
	if (emu_read(c, seg, off, img, size))
		return -1;
	for (int i = 0; i < 10; i++) {
		if (!((rf >> i) & 1))
			continue;
		copy_component(c, img, compacted ? compacted_offset(rf, i) : comp[i].off, i, 1);
	}
	if (rf & 6)
		save_mxcsr(c, img);
	if (compacted) {
		wr64(img + HDR, in_use & rf);
		wr64(img + HDR + 8, rf | (1ULL << 63));
	} else {
		bv = rd64(img + HDR);
		wr64(img + HDR, (bv & ~rf) | (in_use & rf));
	}
	return emu_write(c, seg, off, img, size);
}

static int xrstor(struct emu_cpu *c, int op)
{
	struct x86_cpu_state *s = c->s;
	uint64_t rf = rfbm(c), off, bv, xcomp, in_use = rd64(s->xsave + HDR);
	uint8_t hdr[64], img[X86_XSAVE_SIZE];
	int seg, compacted;
	uint32_t mxcsr;

	if (xsave_check(c) || area(c, 64, &seg, &off))
		return -1;
	if (op == OP_XRSTORS && emu_cpl(c))
		return emu_gp(c, 0);
	if (emu_read(c, seg, off + HDR, hdr, 64))
		return -1;
	bv = rd64(hdr);
	xcomp = rd64(hdr + 8);
	compacted = xcomp >> 63;
	for (int i = 16; i < 64; i++)
		if (hdr[i])
			return emu_gp(c, 0);
	if (op == OP_XRSTORS && !compacted)
		return emu_gp(c, 0);
	if (compacted ? ((xcomp & ~(1ULL << 63) & ~s->xcr0) || (bv & ~xcomp)) :
			(xcomp || (bv & ~s->xcr0)))
		return emu_gp(c, 0);
	if (emu_read(c, seg, off, img, area_size(compacted ? xcomp : s->xcr0, compacted)))
		return -1;
	memcpy(&mxcsr, img + MXCSR_OFF, 4);
	if ((rf & 6) && (!compacted || (bv & 2)) && (mxcsr & ~MXCSR_MASK))
		return emu_gp(c, 0);
	for (int i = 0; i < 10; i++) {
		if (!((rf >> i) & 1))
			continue;
		if ((bv >> i) & 1)
			copy_component(c, img, compacted ? compacted_offset(xcomp, i) : comp[i].off, i, 0);
		else
			init_component(c, i);
	}
	if ((rf & 6) && (!compacted || (bv & 2)))
		memcpy(s->xsave + MXCSR_OFF, &mxcsr, 4);
	else if ((rf & 2) && compacted)
		memcpy(s->xsave + MXCSR_OFF, &(uint32_t){ 0x1f80 }, 4);
	wr64(s->xsave + HDR, (in_use & ~rf) | (bv & rf));
	return 0;
}

static int fx(struct emu_cpu *c, int save)
{
	struct x86_cpu_state *s = c->s;
	uint8_t img[512];
	uint32_t mxcsr;
	uint64_t off;
	int seg;

	if (s->cr0 & (X86_CR0_TS | X86_CR0_EM))
		return emu_raise(c, (s->cr0 & X86_CR0_EM) ? EXC_UD : EXC_NM, 0, 0);
	if (area(c, 16, &seg, &off))
		return -1;
	if (save) {
		memcpy(img, s->xsave, 512);
		save_mxcsr(c, img);
		return emu_write(c, seg, off, img, 512);
	}
	if (emu_read(c, seg, off, img, 512))
		return -1;
	memcpy(&mxcsr, img + MXCSR_OFF, 4);
	if (mxcsr & ~MXCSR_MASK)
		return emu_gp(c, 0);
	/* FCW bit 6 reads 1, bits 7 and 13-15 read 0, as after FLDCW. */
	img[1] &= 0x1f;
	img[0] = (uint8_t)((img[0] & 0x3f) | 0x40);
	memcpy(s->xsave, img, 416);
	wr64(s->xsave + HDR, rd64(s->xsave + HDR) | 3);
	return 0;
}

static int mxcsr_op(struct emu_cpu *c, int load)
{
	uint64_t off, v;
	int seg;

	if ((c->s->cr0 & X86_CR0_EM) || !(c->s->cr4 & X86_CR4_OSFXSR))
		return emu_ud(c);
	if (c->s->cr0 & X86_CR0_TS)
		return emu_raise(c, EXC_NM, 0, 0);
	off = emu_ea(c, &seg);
	if (!load) {
		memcpy(&v, c->s->xsave + MXCSR_OFF, 4);
		return emu_write_u(c, seg, off, 4, v & 0xffffffffULL);
	}
	if (emu_read_u(c, seg, off, 4, &v))
		return -1;
	if (v & ~(uint64_t)MXCSR_MASK)
		return emu_gp(c, 0);
	memcpy(c->s->xsave + MXCSR_OFF, &v, 4);
	return 0;
}

static int xcr(struct emu_cpu *c, int set)
{
	struct x86_cpu_state *s = c->s;
	uint32_t ecx = s->gpr[X86_RCX], model[4];
	uint64_t v = (s->gpr[X86_RDX] << 32) | (s->gpr[X86_RAX] & 0xffffffffULL);

	if (!(s->cr4 & X86_CR4_OSXSAVE))
		return emu_ud(c);
	if (!set) {
		if (ecx > 1)
			return emu_gp(c, 0);
		v = ecx ? xinuse(c) : s->xcr0;
		s->gpr[X86_RAX] = v & 0xffffffffULL;
		s->gpr[X86_RDX] = v >> 32;
		return 0;
	}
	if (emu_cpl(c) || ecx != 0)
		return emu_gp(c, 0);
	emu_cpuid_model(c, 0xd, 0, model);
	if (!(v & 1) || ((v & 4) && !(v & 2)) ||
	    (v & ~(((uint64_t)model[3] << 32) | model[0])) || (v & ~COMP_KNOWN))
		return emu_gp(c, 0);
	s->xcr0 = v;
	return 0;
}

int emu_exec_xsave(struct emu_cpu *c)
{
	switch (c->insn.op) {
	case OP_FXSAVE:
	case OP_FXRSTOR:
		return fx(c, c->insn.op == OP_FXSAVE);
	case OP_XSAVEOPT:
		if (c->insn.opsize_prefix)    /* 66 0F AE /6: CLWB */
			return emu_exec_sys(c);
		/* fall through */
	case OP_XSAVE:
	case OP_XSAVEC:
	case OP_XSAVES:
		return xsave(c, c->insn.op);
	case OP_XRSTOR:
	case OP_XRSTORS:
		return xrstor(c, c->insn.op);
	case OP_LDMXCSR:
	case OP_STMXCSR:
		return mxcsr_op(c, c->insn.op == OP_LDMXCSR);
	case OP_XGETBV:
	case OP_XSETBV:
		return xcr(c, c->insn.op == OP_XSETBV);
	}
	return emu_unimpl(c);
}
