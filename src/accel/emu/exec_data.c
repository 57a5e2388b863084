/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data movement and flag instructions: MOV forms, XCHG, CMPXCHG(8B/16B),
 * XADD, LEA, sign/zero extension, BSWAP, CBW/CWD and the flag ops.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x

static int mov(struct emu_cpu *c, unsigned dsize, unsigned ssize, int sx)
{
	const struct x86_insn *in = &c->insn;
	struct emu_operand d, s;

	emu_opnd_decode(c, F_GET_DST(in->flags), dsize, &d);
	emu_opnd_decode(c, F_GET_SRC(in->flags), ssize, &s);
	if (emu_opnd_read(c, &s))
		return -1;
	return emu_opnd_write(c, &d, sx ? emu_sext(s.val, ssize) : s.val);
}

static int moffs(struct emu_cpu *c, int store)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = emu_insn_opsize(c);
	int seg = in->seg >= 0 ? in->seg : X86_DS;
	uint64_t off = in->imm & emu_mask(in->addrsize), v;

	if (store)
		return emu_write_u(c, seg, off, size, emu_reg_get(c, X86_RAX, size, 0));
	if (emu_read_u(c, seg, off, size, &v))
		return -1;
	emu_reg_set(c, X86_RAX, size, 0, v);
	return 0;
}

static uint64_t xchg_fn(struct emu_cpu *c, uint64_t old, const void *ctx)
{
	(void)c;
	(void)old;
	return *(const uint64_t *)ctx;
}

static int xchg(struct emu_cpu *c, unsigned size)
{
	struct emu_operand d, s;
	uint64_t old;

	emu_opnd_decode(c, OPND_E, size, &d);
	emu_opnd_decode(c, OPND_G, size, &s);
	emu_opnd_read(c, &s);
	/* XCHG with memory is locked whether or not LOCK is given. */
	if (emu_rmw(c, &d, 1, xchg_fn, &s.val, &old))
		return -1;
	return emu_opnd_write(c, &s, old);
}

struct cx_ctx {
	uint64_t acc, src;
	unsigned size;
};

static uint64_t cmpxchg_fn(struct emu_cpu *c, uint64_t old, const void *ctx)
{
	const struct cx_ctx *x = ctx;

	emu_alu(c, OP_CMP, x->acc, old, x->size);
	return (old & emu_mask(x->size)) == (x->acc & emu_mask(x->size)) ? x->src : old;
}

static int cmpxchg(struct emu_cpu *c, unsigned size)
{
	struct emu_operand d, s;
	struct cx_ctx x;
	uint64_t old;

	emu_opnd_decode(c, OPND_E, size, &d);
	emu_opnd_decode(c, OPND_G, size, &s);
	emu_opnd_read(c, &s);
	x = (struct cx_ctx){ emu_reg_get(c, X86_RAX, size, 0), s.val, size };
	if (d.kind == 1) {
		/* A register destination is only written when equal (no zero-extension otherwise). */
		emu_opnd_read(c, &d);
		cmpxchg_fn(c, d.val, &x);
		if (c->s->rflags & FL(ZF))
			emu_opnd_write(c, &d, s.val);
		else
			emu_reg_set(c, X86_RAX, size, 0, d.val);
		return 0;
	}
	if (emu_rmw(c, &d, c->insn.lock, cmpxchg_fn, &x, &old))
		return -1;
	if (!(c->s->rflags & FL(ZF)))
		emu_reg_set(c, X86_RAX, size, 0, old);
	return 0;
}

struct xadd_ctx {
	uint64_t src;
	unsigned size;
};

static uint64_t xadd_fn(struct emu_cpu *c, uint64_t old, const void *ctx)
{
	const struct xadd_ctx *x = ctx;

	return emu_alu(c, OP_ADD, old, x->src, x->size);
}

static int xadd(struct emu_cpu *c, unsigned size)
{
	struct emu_operand d, s;
	struct xadd_ctx x;
	uint64_t old;

	emu_opnd_decode(c, OPND_E, size, &d);
	emu_opnd_decode(c, OPND_G, size, &s);
	emu_opnd_read(c, &s);
	x = (struct xadd_ctx){ s.val, size };
	if (d.kind == 1) {
		/* The sum goes to the destination last: XADD r, r (the same
		 * register) leaves the sum there, not the old value. */
		emu_opnd_read(c, &d);
		old = d.val;
		emu_opnd_write(c, &s, old);
		return emu_opnd_write(c, &d, xadd_fn(c, old, &x));
	}
	if (emu_rmw(c, &d, c->insn.lock, xadd_fn, &x, &old))
		return -1;
	return emu_opnd_write(c, &s, old);
}

static int cas16(void *p, uint64_t cmp[2], const uint64_t nv[2])
{
#if defined(__x86_64__)
	uint8_t ok;

	__asm__ volatile("lock cmpxchg16b %1; sete %0"
			 : "=q"(ok), "+m"(*(unsigned __int128 *)p), "+a"(cmp[0]), "+d"(cmp[1])
			 : "b"(nv[0]), "c"(nv[1]) : "memory", "cc");
	return ok;
#else
	if (memcmp(p, cmp, 16)) {
		memcpy(cmp, p, 16);
		return 0;
	}
	memcpy(p, nv, 16);
	return 1;
#endif
}

/* CMPXCHG8B / CMPXCHG16B: atomic on RAM, a read and a write elsewhere. */
static int cmpxchg_wide(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	unsigned half = (c->insn.rex & 8) ? 8 : 4;
	uint64_t cmp[2] = { emu_reg_get(c, X86_RAX, half, 0), emu_reg_get(c, X86_RDX, half, 0) };
	uint64_t nv[2] = { emu_reg_get(c, X86_RBX, half, 0), emu_reg_get(c, X86_RCX, half, 0) };
	uint64_t cur[2] = { 0, 0 };
	int seg, ok;
	uint64_t off = emu_ea(c, &seg);
	void *p;

	if (half == 8 && (off & 15))
		return emu_gp(c, 0);
	if (emu_host_ptr(c, seg, off, half * 2, &p))
		return -1;
	if (p && half == 8 && !((uintptr_t)p & 15)) {
		ok = cas16(p, cmp, nv);
		cur[0] = cmp[0];
		cur[1] = cmp[1];
		emu_note_write(c, p);     /* after the bytes, as emu_rmw */
	} else if (p && half == 4 && !((uintptr_t)p & 7)) {
		uint64_t e = cmp[0] | cmp[1] << 32;

		ok = __atomic_compare_exchange_n((uint64_t *)p, &e, nv[0] | nv[1] << 32, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		cur[0] = e & 0xffffffffULL;
		cur[1] = e >> 32;
		emu_note_write(c, p);     /* after the bytes, as emu_rmw */
	} else {
		if (emu_read(c, seg, off, cur, half) || emu_read(c, seg, off + half, &cur[1], half))
			return -1;
		ok = cur[0] == cmp[0] && cur[1] == cmp[1];
		if (emu_write(c, seg, off, ok ? &nv[0] : &cur[0], half) ||
		    emu_write(c, seg, off + half, ok ? &nv[1] : &cur[1], half))
			return -1;
	}
	s->rflags = (s->rflags & ~FL(ZF)) | (ok ? FL(ZF) : 0);
	if (!ok) {
		emu_reg_set(c, X86_RAX, half, 0, cur[0]);
		emu_reg_set(c, X86_RDX, half, 0, cur[1]);
	}
	return 0;
}

static int bswap(struct emu_cpu *c)
{
	int r = (c->insn.opcode & 7) | ((c->insn.rex & 1) << 3);
	uint64_t v = c->s->gpr[r];

	if (c->insn.opsize == 8)
		c->s->gpr[r] = __builtin_bswap64(v);
	else if (c->insn.opsize == 4)
		c->s->gpr[r] = __builtin_bswap32((uint32_t)v);
	else
		c->s->gpr[r] &= ~0xffffULL;   /* 16-bit BSWAP: undefined, zero as most CPUs */
	return 0;
}

static int cbw_cwd(struct emu_cpu *c, int op)
{
	unsigned size = c->insn.opsize;
	uint64_t a = emu_reg_get(c, X86_RAX, size, 0);

	if (op == OP_CBW) {
		emu_reg_set(c, X86_RAX, size, 0, emu_sext(emu_reg_get(c, X86_RAX, size / 2, 0), size / 2));
		return 0;
	}
	emu_reg_set(c, X86_RDX, size, 0, (a >> (size * 8 - 1)) & 1 ? ~0ULL : 0);
	return 0;
}

static int iopl_ok(struct emu_cpu *c)
{
	return !emu_protected(c) || emu_cpl(c) <= (int)((c->s->rflags >> 12) & 3);
}

static int flag_op(struct emu_cpu *c, int op)
{
	uint64_t *f = &c->s->rflags;
	const uint64_t ah_mask = FL(SF) | FL(ZF) | FL(AF) | FL(PF) | FL(CF);

	switch (op) {
	case OP_LAHF:
		emu_reg_set(c, X86_RAX, 1, 1, (*f & 0xff) | X86_RFLAGS_FIXED);
		break;
	case OP_SAHF:
		*f = (*f & ~ah_mask) | (emu_reg_get(c, X86_RAX, 1, 1) & ah_mask);
		break;
	case OP_CLC: *f &= ~FL(CF); break;
	case OP_STC: *f |= FL(CF); break;
	case OP_CMC: *f ^= FL(CF); break;
	case OP_CLD: *f &= ~FL(DF); break;
	case OP_STD: *f |= FL(DF); break;
	case OP_CLI:
	case OP_STI:
		if (!iopl_ok(c)) {
			/* VME in virtual-8086 mode, PVI at CPL 3: VIF instead of IF. */
			if (!emu_vme(c) && !(emu_protected(c) && !emu_v86(c) && emu_cpl(c) == 3 &&
					     (c->s->cr4 & X86_CR4_PVI)))
				return emu_gp(c, 0);
			if (op == OP_STI && (*f & FL(VIP)))
				return emu_gp(c, 0);
			*f = op == OP_CLI ? *f & ~FL(VIF) : *f | FL(VIF);
			break;
		}
		if (op == OP_STI && !(*f & FL(IF)))
			c->shadow = EMU_SHADOW_STI;
		*f = op == OP_CLI ? *f & ~FL(IF) : *f | FL(IF);
		break;
	case OP_CLAC:
	case OP_STAC:
		if (emu_cpl(c) != 0 || emu_v86(c))
			return emu_ud(c);
		*f = op == OP_CLAC ? *f & ~FL(AC) : *f | FL(AC);
		break;
	}
	return 0;
}

int emu_exec_data(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = emu_insn_opsize(c);
	struct emu_operand d;
	uint64_t v;
	int seg;

	switch (in->op) {
	case OP_MOV:
	case OP_MOV_ZI:
		return mov(c, size, size, 0);
	case OP_MOVZX:
	case OP_MOVSX:
		return mov(c, size, (in->opcode & 1) ? 2 : 1, in->op == OP_MOVSX);
	case OP_MOVSXD:
		return mov(c, size, size == 8 ? 4 : size, 1);
	case OP_MOV_MOFFS_LD:
	case OP_MOV_MOFFS_ST:
		return moffs(c, in->op == OP_MOV_MOFFS_ST);
	case OP_LEA:
		emu_opnd_decode(c, OPND_G, size, &d);
		return emu_opnd_write(c, &d, emu_ea(c, &seg));
	case OP_XCHG:
		return xchg(c, size);
	case OP_XCHG_A: {
		int r = (in->opcode & 7) | ((in->rex & 1) << 3);

		if (r == X86_RAX)
			return 0;   /* 90: NOP, even with 66 (and PAUSE with F3) */
		v = emu_reg_get(c, r, size, 0);
		emu_reg_set(c, r, size, 0, emu_reg_get(c, X86_RAX, size, 0));
		emu_reg_set(c, X86_RAX, size, 0, v);
		return 0;
	}
	case OP_CMPXCHG:
		return cmpxchg(c, size);
	case OP_XADD:
		return xadd(c, size);
	case OP_CMPXCHGNB:
		return cmpxchg_wide(c);
	case OP_BSWAP:
		return bswap(c);
	case OP_CBW:
	case OP_CWD:
		return cbw_cwd(c, in->op);
	case OP_XLAT:
		seg = in->seg >= 0 ? in->seg : X86_DS;
		if (emu_read_u(c, seg, (c->s->gpr[X86_RBX] + (c->s->gpr[X86_RAX] & 0xff)) &
			       emu_mask(in->addrsize), 1, &v))
			return -1;
		emu_reg_set(c, X86_RAX, 1, 0, v);
		return 0;
	case OP_SALC:
		emu_reg_set(c, X86_RAX, 1, 0, (c->s->rflags & FL(CF)) ? 0xff : 0);
		return 0;
	default:
		return flag_op(c, in->op);
	}
}
