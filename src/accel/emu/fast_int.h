/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_EMU_FAST_INT_H
#define VMON_ACCEL_EMU_FAST_INT_H

/*
 * What the fast forms (fast.c, fast_ctrl.h) share, and with their
 * selection (fast_select.c): register and memory operands, flags,
 * conditions.  See fast.c for the rules a fast form keeps.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x
/* Inlined even into the block runner, whose size would stop the compiler otherwise. */
#define FAST_INLINE static inline __attribute__((always_inline))

/* ---- registers, memory, flags ---- */

/* A GPR operand of size bytes; without REX, byte registers 4-7 are AH-BH. */
FAST_INLINE int high8(const struct x86_insn *in, unsigned r, unsigned size)
{
	return size == 1 && !in->rex && (r & 12) == 4;
}

FAST_INLINE uint64_t rget(const struct x86_cpu_state *s, const struct x86_insn *in, unsigned r,
			    unsigned size)
{
	if (high8(in, r, size))
		return (s->gpr[r - 4] >> 8) & 0xff;
	return s->gpr[r] & emu_mask(size);
}

FAST_INLINE void rset(struct x86_cpu_state *s, const struct x86_insn *in, unsigned r,
			unsigned size, uint64_t v)
{
	if (high8(in, r, size))
		s->gpr[r - 4] = (s->gpr[r - 4] & ~0xff00ULL) | ((v & 0xff) << 8);
	else if (size == 4)
		s->gpr[r] = (uint32_t)v;
	else if (size == 8)
		s->gpr[r] = v;
	else
		s->gpr[r] = (s->gpr[r] & ~emu_mask(size)) | (v & emu_mask(size));
}

FAST_INLINE uint64_t ld(const uint8_t *p, unsigned size)
{
	uint16_t w;
	uint32_t d;
	uint64_t q;

	switch (size) {
	case 1:
		return *p;
	case 2:
		memcpy(&w, p, 2);
		return w;
	case 4:
		memcpy(&d, p, 4);
		return d;
	default:
		memcpy(&q, p, 8);
		return q;
	}
}

/*
 * What the runner's forms (fast.c) return besides 0 (done) and
 * EMU_FAST_MISS: done and the block must stop, having written to its own
 * page; done and RIP set (a branch, the block's last).
 */
enum { FAST_STOP = 2, FAST_BRANCH };

FAST_INLINE void st(struct emu_cpu *c, uint8_t *p, unsigned size, uint64_t v)
{
	uint16_t w = (uint16_t)v;
	uint32_t d = (uint32_t)v;

	switch (size) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2:
		memcpy(p, &w, 2);
		break;
	case 4:
		memcpy(p, &d, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
	emu_note_write(c, p);
}

/* A form's store into guest RAM, last: the block stops after it if it wrote to its own page. */
FAST_INLINE int st_done(struct emu_cpu *c, uint8_t *p, unsigned size, uint64_t v)
{
	st(c, p, size, v);
	return c->smc ? FAST_STOP : 0;
}

/*
 * The host address of the memory operand, or NULL (64-bit code only:
 * there segments are flat but for FS and GS, and a non-canonical address
 * never matches a TLB tag).
 */
/* The offset a ModRM memory operand names, before any segment base. */
FAST_INLINE uint64_t fast_ea(const struct x86_cpu_state *s, const struct x86_insn *in,
			     uint64_t next_rip)
{
	uint64_t a = (uint64_t)in->disp;

	if (in->rip_relative)
		a += next_rip;
	if (in->base != 0xff)
		a += s->gpr[in->base];
	if (in->index != 0xff)
		a += s->gpr[in->index] << in->scale;
	return a & emu_mask(in->addrsize);
}

FAST_INLINE uint8_t *mptr(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip,
			  unsigned size, int write)
{
	const struct x86_cpu_state *s = c->s;
	uint64_t a = fast_ea(s, in, next_rip);

	if (in->seg == X86_FS || in->seg == X86_GS)
		a += s->seg[in->seg].base;
	return emu_fast_ptr(c, a, size, write);
}

/* Reads the memory operand into *v: 0 when the fast path cannot. */
FAST_INLINE int mload(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip,
		      unsigned size, uint64_t *v)
{
	const uint8_t *q = mptr(c, in, next_rip, size, 0);

	if (!q)
		return 0;
	*v = ld(q, size);
	return 1;
}

FAST_INLINE int stack_ptr_ok(struct emu_cpu *c, uint64_t sp, int write, uint8_t **p)
{
	*p = emu_fast_ptr(c, sp, 8, write);
	return *p != NULL;
}

FAST_INLINE int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* PF of each low byte: set for an even number of ones. */
#define PF2(n) n, n ^ 4, n ^ 4, n
#define PF4(n) PF2(n), PF2(n ^ 4), PF2(n ^ 4), PF2(n)
#define PF6(n) PF4(n), PF4(n ^ 4), PF4(n ^ 4), PF4(n)
static const uint8_t fast_pf[256] = { PF6(4), PF6(0), PF6(0), PF6(4) };

/* SF, ZF and PF of a result: shifts and a table, no branches. */
FAST_INLINE uint64_t szp(uint64_t r, unsigned size)
{
	return ((r >> (size * 8 - 8)) & FL(SF)) | (r ? 0 : FL(ZF)) | fast_pf[r & 0xff];
}

/*
 * Condition cc on RFLAGS f, without branches: bit k of cc's word is the
 * condition's value when CF, PF, ZF, SF and OF are the bits of k.
 */
FAST_INLINE int cond(uint64_t f, unsigned cc)
{
	static const uint32_t by_flags[16] = {
		0xffff0000, 0x0000ffff, 0xaaaaaaaa, 0x55555555, 0xf0f0f0f0, 0x0f0f0f0f,
		0xfafafafa, 0x05050505, 0xff00ff00, 0x00ff00ff, 0xcccccccc, 0x33333333,
		0x00ffff00, 0xff0000ff, 0xf0fffff0, 0x0f00000f,
	};
	unsigned k = (unsigned)((f & 1) | ((f >> 1) & 2) | ((f >> 4) & 12) | ((f >> 7) & 16));

	return (by_flags[cc & 15] >> k) & 1;
}

FAST_INLINE unsigned osize(const struct x86_insn *in)
{
	return (in->flags & F_BYTE) ? 1 : in->opsize;
}

FAST_INLINE int writes_dst(unsigned op)
{
	return op != OP_CMP && op != OP_TEST;
}

/* Operand places a handler is specialised for. */
enum { K_RM, K_REG, K_ACC, K_IMM, K_MEM, K_ONE, K_CL };

#endif
