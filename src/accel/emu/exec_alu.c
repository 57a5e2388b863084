/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integer arithmetic with exact flags: ADD..CMP, INC/DEC/NEG/NOT, shifts
 * and rotates, MUL/IMUL/DIV/IDIV, bit tests and scans, SHLD/SHRD.
 * Arithmetic is unsigned throughout: no UB on overflow or wide shifts.
 */
#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x

static uint64_t szp(uint64_t r, unsigned size)
{
	uint64_t f = 0;

	r &= emu_mask(size);
	if (!r)
		f |= FL(ZF);
	if (r >> (size * 8 - 1))
		f |= FL(SF);
	if (!__builtin_parity((unsigned)(r & 0xff)))
		f |= FL(PF);
	return f;
}

static void set_flags(struct emu_cpu *c, uint64_t mask, uint64_t f)
{
	c->s->rflags = (c->s->rflags & ~mask) | (f & mask);
}

static uint64_t msb(uint64_t v, unsigned size)
{
	return (v >> (size * 8 - 1)) & 1;
}

uint64_t emu_alu(struct emu_cpu *c, int op, uint64_t a, uint64_t b, unsigned size)
{
	uint64_t m = emu_mask(size), cf_in = c->s->rflags & FL(CF) ? 1 : 0;
	uint64_t r, f, cf = 0, of = 0;

	a &= m;
	b &= m;
	switch (op) {
	case OP_ADD:
	case OP_ADC:
		if (op == OP_ADD)
			cf_in = 0;
		r = (a + b + cf_in) & m;
		cf = r < a || (cf_in && r == a);
		of = msb((a ^ r) & (b ^ r), size);
		break;
	case OP_SUB:
	case OP_CMP:
	case OP_SBB:
		if (op != OP_SBB)
			cf_in = 0;
		r = (a - b - cf_in) & m;
		cf = a < b || (cf_in && a == b);
		of = msb((a ^ b) & (a ^ r), size);
		break;
	case OP_AND:
	case OP_TEST:
		r = a & b;
		break;
	case OP_OR:
		r = a | b;
		break;
	default:   /* OP_XOR */
		r = a ^ b;
		break;
	}
	f = szp(r, size) | (cf ? FL(CF) : 0) | (of ? FL(OF) : 0);
	if (op != OP_AND && op != OP_OR && op != OP_XOR && op != OP_TEST)
		f |= (a ^ b ^ r) & FL(AF);
	set_flags(c, EMU_FLAGS_ARITH, f);
	return r;
}

static uint64_t incdec(struct emu_cpu *c, int op, uint64_t a, unsigned size)
{
	uint64_t keep = c->s->rflags & FL(CF);
	uint64_t r = emu_alu(c, op == OP_INC ? OP_ADD : OP_SUB, a, 1, size);

	set_flags(c, FL(CF), keep);
	return r;
}

static uint64_t neg(struct emu_cpu *c, uint64_t a, unsigned size)
{
	return emu_alu(c, OP_SUB, 0, a, size);
}

/* ---- shifts and rotates ---- */

static uint64_t rotate(struct emu_cpu *c, int op, uint64_t a, unsigned cnt, unsigned size)
{
	unsigned bits = size * 8;
	uint64_t m = emu_mask(size), r = a & m, cf = !!(c->s->rflags & FL(CF)), of;

	if (op == OP_ROL || op == OP_ROR) {
		unsigned n = cnt % bits;

		if (n)
			r = op == OP_ROL ? ((r << n) | (r >> (bits - n))) & m :
					   ((r >> n) | (r << (bits - n))) & m;
		cf = op == OP_ROL ? r & 1 : msb(r, size);
		of = op == OP_ROL ? msb(r, size) ^ cf : msb(r, size) ^ msb(r << 1, size);
	} else {
		unsigned n = size == 1 ? cnt % 9 : size == 2 ? cnt % 17 : cnt;

		of = op == OP_RCR ? msb(r, size) ^ cf : 0;
		for (unsigned i = 0; i < n; i++) {
			uint64_t out;

			if (op == OP_RCL) {
				out = msb(r, size);
				r = ((r << 1) | cf) & m;
			} else {
				out = r & 1;
				r = (r >> 1) | (cf << (bits - 1));
			}
			cf = out;
		}
		if (op == OP_RCL)
			of = msb(r, size) ^ cf;
		else if (n != 1)
			of = msb(r, size) ^ msb(r << 1, size);
	}
	set_flags(c, FL(CF) | FL(OF), (cf ? FL(CF) : 0) | (of ? FL(OF) : 0));
	return r;
}

static uint64_t shift(struct emu_cpu *c, int op, uint64_t a, unsigned cnt, unsigned size)
{
	unsigned bits = size * 8;
	uint64_t m = emu_mask(size), r, cf, of;

	cnt &= size == 8 ? 63 : 31;
	if (!cnt)
		return a & m;
	if (op == OP_ROL || op == OP_ROR || op == OP_RCL || op == OP_RCR)
		return rotate(c, op, a, cnt, size);
	a &= m;
	if (op == OP_SHL || op == OP_SAL) {
		r = cnt >= bits ? 0 : (a << cnt) & m;
		cf = cnt > bits ? 0 : (a >> (bits - cnt)) & 1;
		of = msb(r, size) ^ cf;
	} else if (op == OP_SHR) {
		r = cnt >= bits ? 0 : a >> cnt;
		cf = cnt > bits ? 0 : (a >> (cnt - 1)) & 1;
		of = msb(a, size);
	} else {
		int64_t sa = (int64_t)emu_sext(a, size);

		r = (uint64_t)(sa >> (cnt > 63 ? 63 : cnt)) & m;
		cf = (uint64_t)(sa >> (cnt - 1 > 63 ? 63 : cnt - 1)) & 1;
		of = 0;
	}
	set_flags(c, EMU_FLAGS_ARITH,
		  szp(r, size) | (cf ? FL(CF) : 0) | (of ? FL(OF) : 0) | FL(AF));
	return r;
}

static uint64_t shxd(struct emu_cpu *c, int op, uint64_t d, uint64_t s, unsigned cnt, unsigned size)
{
	unsigned bits = size * 8;
	uint64_t m = emu_mask(size), r, cf;

	cnt &= size == 8 ? 63 : 31;
	d &= m;
	s &= m;
	if (!cnt)
		return d;
	if (cnt > bits) {    /* 16-bit operands with counts 17-31: undefined */
		cnt -= bits;
		uint64_t t = d;
		d = s;
		s = t;
	}
	if (op == OP_SHLD) {
		r = cnt == bits ? s : ((d << cnt) | (s >> (bits - cnt))) & m;
		cf = (d >> (bits - cnt)) & 1;
	} else {
		r = cnt == bits ? s : ((d >> cnt) | (s << (bits - cnt))) & m;
		cf = (d >> (cnt - 1)) & 1;
	}
	set_flags(c, EMU_FLAGS_ARITH, szp(r, size) | (cf ? FL(CF) : 0) |
		  ((msb(r ^ d, size)) ? FL(OF) : 0));
	return r;
}

/* ---- multiply and divide ---- */

static void set_acc_pair(struct emu_cpu *c, unsigned size, uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		emu_reg_set(c, X86_RAX, 2, 0, (lo & 0xff) | ((hi & 0xff) << 8));
		return;
	}
	emu_reg_set(c, X86_RAX, size, 0, lo);
	emu_reg_set(c, X86_RDX, size, 0, hi);
}

static int mul(struct emu_cpu *c, int op, uint64_t src, unsigned size)
{
	unsigned bits = size * 8;
	uint64_t a = emu_reg_get(c, X86_RAX, size, 0), lo, hi;
	int over;

	if (op == OP_MUL) {
		unsigned __int128 p = (unsigned __int128)a * (src & emu_mask(size));

		lo = (uint64_t)p & emu_mask(size);
		hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> bits) & emu_mask(size);
		over = hi != 0;
	} else {
		__int128 p = (__int128)(int64_t)emu_sext(a, size) * (int64_t)emu_sext(src, size);
		unsigned __int128 u = (unsigned __int128)p;

		lo = (uint64_t)u & emu_mask(size);
		hi = size == 8 ? (uint64_t)(u >> 64) : (uint64_t)(u >> bits) & emu_mask(size);
		over = p != (__int128)(int64_t)emu_sext(lo, size);
	}
	set_acc_pair(c, size, lo, hi);
	set_flags(c, FL(CF) | FL(OF), over ? FL(CF) | FL(OF) : 0);
	return 0;
}

static uint64_t imul2(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
	__int128 p = (__int128)(int64_t)emu_sext(a, size) * (int64_t)emu_sext(b, size);
	uint64_t lo = (uint64_t)(unsigned __int128)p & emu_mask(size);
	int over = p != (__int128)(int64_t)emu_sext(lo, size);

	set_flags(c, FL(CF) | FL(OF), over ? FL(CF) | FL(OF) : 0);
	return lo;
}

static int divide(struct emu_cpu *c, int op, uint64_t src, unsigned size)
{
	unsigned bits = size * 8;
	uint64_t m = emu_mask(size), lo, hi, q, r;

	src &= m;
	if (!src)
		return emu_raise(c, EXC_DE, 0, 0);
	if (size == 1) {
		uint64_t ax = emu_reg_get(c, X86_RAX, 2, 0);

		lo = ax & 0xff;
		hi = ax >> 8;
	} else {
		lo = emu_reg_get(c, X86_RAX, size, 0);
		hi = emu_reg_get(c, X86_RDX, size, 0);
	}
	if (op == OP_DIV) {
		unsigned __int128 n = ((unsigned __int128)hi << bits) | lo;
		unsigned __int128 qq = n / src;

		if (qq > m)
			return emu_raise(c, EXC_DE, 0, 0);
		q = (uint64_t)qq;
		r = (uint64_t)(n % src);
	} else {
		unsigned __int128 un = ((unsigned __int128)hi << bits) | lo;
		__int128 n, d = (int64_t)emu_sext(src, size), qq;

		/* Sign-extend the 2*bits dividend held in un. */
		if (bits == 64)
			n = (__int128)un;
		else
			n = (__int128)(int64_t)emu_sext((uint64_t)un, size * 2);
		if (d == -1 && un == (unsigned __int128)1 << 127)
			return emu_raise(c, EXC_DE, 0, 0);
		qq = n / d;
		if (qq > (__int128)(int64_t)(m >> 1) || qq < -(__int128)(int64_t)(m >> 1) - 1)
			return emu_raise(c, EXC_DE, 0, 0);
		q = (uint64_t)(unsigned __int128)qq & m;
		r = (uint64_t)(unsigned __int128)(n % d) & m;
	}
	set_acc_pair(c, size, q, r);
	return 0;
}

/* ---- bit operations ---- */

static int bit_op(struct emu_cpu *c, int op, unsigned size)
{
	const struct x86_insn *in = &c->insn;
	struct emu_operand d, s;
	uint64_t bit, v, r;

	emu_opnd_decode(c, OPND_E, size, &d);
	if (F_GET_SRC(in->flags) == OPND_I) {
		bit = in->imm & (size * 8 - 1);
	} else {
		emu_opnd_decode(c, OPND_G, size, &s);
		emu_opnd_read(c, &s);
		bit = s.val;
		if (d.kind == 2) {
			/* Register bit offsets address a bit string around the operand. */
			int64_t so = (int64_t)emu_sext(bit, size);
			int64_t words = so >> (size == 8 ? 6 : size == 4 ? 5 : 4);

			d.off = (d.off + (uint64_t)words * size) & emu_mask(in->addrsize);
		}
		bit &= size * 8 - 1;
	}
	if (in->lock && d.kind == 2) {
		void *p;
		uint64_t mask = 1ULL << bit;

		if (emu_host_ptr(c, d.seg, d.off, size, &p))
			return -1;
		if (p && !((uintptr_t)p & (size - 1))) {
			switch (op) {
			case OP_BTS: v = size == 8 ? __atomic_fetch_or((uint64_t *)p, mask, __ATOMIC_SEQ_CST) :
				     size == 4 ? __atomic_fetch_or((uint32_t *)p, (uint32_t)mask, __ATOMIC_SEQ_CST) :
				     __atomic_fetch_or((uint16_t *)p, (uint16_t)mask, __ATOMIC_SEQ_CST); break;
			case OP_BTR: v = size == 8 ? __atomic_fetch_and((uint64_t *)p, ~mask, __ATOMIC_SEQ_CST) :
				     size == 4 ? __atomic_fetch_and((uint32_t *)p, (uint32_t)~mask, __ATOMIC_SEQ_CST) :
				     __atomic_fetch_and((uint16_t *)p, (uint16_t)~mask, __ATOMIC_SEQ_CST); break;
			default: v = size == 8 ? __atomic_fetch_xor((uint64_t *)p, mask, __ATOMIC_SEQ_CST) :
				 size == 4 ? __atomic_fetch_xor((uint32_t *)p, (uint32_t)mask, __ATOMIC_SEQ_CST) :
				 __atomic_fetch_xor((uint16_t *)p, (uint16_t)mask, __ATOMIC_SEQ_CST); break;
			}
			emu_note_write(c, p);     /* after the bytes, as emu_rmw */
			set_flags(c, FL(CF), ((v >> bit) & 1) ? FL(CF) : 0);
			return 0;
		}
	}
	if (emu_opnd_read(c, &d))
		return -1;
	v = d.val;
	set_flags(c, FL(CF), ((v >> bit) & 1) ? FL(CF) : 0);
	if (op == OP_BT)
		return 0;
	r = op == OP_BTS ? v | (1ULL << bit) : op == OP_BTR ? v & ~(1ULL << bit) : v ^ (1ULL << bit);
	return emu_opnd_write(c, &d, r);
}

static int bit_scan(struct emu_cpu *c, int op, unsigned size)
{
	struct emu_operand d, s;
	unsigned bits = size * 8;
	uint64_t v, r;

	if (op == OP_POPCNT && c->insn.rep != 0xf3)
		return emu_ud(c);     /* 0F B8 without F3 is JMPE, which no x86-64 has */
	emu_opnd_decode(c, OPND_G, size, &d);
	emu_opnd_decode(c, OPND_E, size, &s);
	if (emu_opnd_read(c, &s))
		return -1;
	v = s.val & emu_mask(size);
	if (c->insn.rep == 0xf3 && op == OP_BSF)
		op = OP_TZCNT;
	if (c->insn.rep == 0xf3 && op == OP_BSR)
		op = OP_LZCNT;
	switch (op) {
	case OP_BSF:
	case OP_BSR:
		if (!v) {
			set_flags(c, FL(ZF), FL(ZF));
			return 0;   /* destination unchanged, as AMD documents */
		}
		r = op == OP_BSF ? (uint64_t)__builtin_ctzll(v) : 63 - (uint64_t)__builtin_clzll(v);
		set_flags(c, EMU_FLAGS_ARITH, szp(r, size) & FL(PF));
		break;
	case OP_TZCNT:
	case OP_LZCNT:
		r = !v ? bits : op == OP_TZCNT ? (uint64_t)__builtin_ctzll(v) :
		    (uint64_t)__builtin_clzll(v) - (64 - bits);
		set_flags(c, FL(CF) | FL(ZF), (!v ? FL(CF) : 0) | (!r ? FL(ZF) : 0));
		break;
	default:   /* POPCNT */
		r = (uint64_t)__builtin_popcountll(v);
		set_flags(c, EMU_FLAGS_ARITH, !v ? FL(ZF) : 0);
		break;
	}
	emu_reg_set(c, d.reg, size, 0, r);
	return 0;
}

/* ---- the family ---- */

typedef uint64_t (*rmw_fn)(struct emu_cpu *c, uint64_t old, const void *ctx);

static int cas(void *p, uint64_t *old, uint64_t nv, unsigned size)
{
	switch (size) {
	case 1: { uint8_t o = *old; int r = __atomic_compare_exchange_n((uint8_t *)p, &o, (uint8_t)nv, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); *old = o; return r; }
	case 2: { uint16_t o = *old; int r = __atomic_compare_exchange_n((uint16_t *)p, &o, (uint16_t)nv, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); *old = o; return r; }
	case 4: { uint32_t o = *old; int r = __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)nv, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); *old = o; return r; }
	default: return __atomic_compare_exchange_n((uint64_t *)p, old, nv, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

static uint64_t load(const void *p, unsigned size)
{
	switch (size) {
	case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_SEQ_CST);
	case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_SEQ_CST);
	case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_SEQ_CST);
	default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_SEQ_CST);
	}
}

/*
 * Read-modify-write of d: atomic on aligned RAM when lock is set (as LOCK
 * and XCHG require), plain read + write otherwise.  fn may set flags; the
 * run that wins the compare-exchange is the one whose flags stay.
 */
int emu_rmw(struct emu_cpu *c, struct emu_operand *d, int lock, rmw_fn fn, const void *ctx,
	    uint64_t *oldp)
{
	void *p = NULL;
	uint64_t old, nv;

	if (lock && d->kind == 2) {
		if (emu_host_ptr(c, d->seg, d->off, d->size, &p))
			return -1;
		if (p && ((uintptr_t)p & (d->size - 1)))
			p = NULL;
	}
	if (!p) {
		if (emu_opnd_read(c, d))
			return -1;
		old = d->val;
		nv = fn(c, old, ctx);
		if (oldp)
			*oldp = old;
		return emu_opnd_write(c, d, nv);
	}
	old = load(p, d->size);
	do {
		nv = fn(c, old, ctx);
	} while (!cas(p, &old, nv, d->size));
	emu_note_write(c, p);     /* again, after the bytes: for other vCPUs' decoded code */
	if (oldp)
		*oldp = old;
	return 0;
}

struct alu_ctx {
	int op;
	uint64_t src;
	unsigned size;
};

static uint64_t alu_fn(struct emu_cpu *c, uint64_t old, const void *ctx)
{
	const struct alu_ctx *a = ctx;

	switch (a->op) {
	case OP_INC:
	case OP_DEC:
		return incdec(c, a->op, old, a->size);
	case OP_NEG:
		return neg(c, old, a->size);
	case OP_NOT:
		return ~old & emu_mask(a->size);
	default:
		if (a->op >= OP_ROL && a->op <= OP_SAR)
			return shift(c, a->op, old, a->src, a->size);
		return emu_alu(c, a->op, old, a->src, a->size);
	}
}

static int alu_2op(struct emu_cpu *c, int op, unsigned size)
{
	const struct x86_insn *in = &c->insn;
	struct emu_operand d, s;
	struct alu_ctx ctx = { op, 0, size };

	emu_opnd_decode(c, F_GET_DST(in->flags), size, &d);
	emu_opnd_decode(c, F_GET_SRC(in->flags), size, &s);
	if (s.kind != 3 && emu_opnd_read(c, &s))
		return -1;
	if (s.kind == 3 && op >= OP_ROL && op <= OP_SAR)
		s.val &= 0xff;
	ctx.src = s.val;
	if (op == OP_CMP || op == OP_TEST) {
		if (emu_opnd_read(c, &d))
			return -1;
		emu_alu(c, op, d.val, s.val, size);
		return 0;
	}
	return emu_rmw(c, &d, in->lock, alu_fn, &ctx, NULL);
}

int emu_exec_alu(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = emu_insn_opsize(c);
	int op = in->op;
	struct emu_operand d, s;
	struct alu_ctx ctx = { op, 0, size };

	switch (op) {
	case OP_INC:
	case OP_DEC:
	case OP_NEG:
	case OP_NOT:
		emu_opnd_decode(c, F_GET_DST(in->flags), size, &d);
		return emu_rmw(c, &d, in->lock, alu_fn, &ctx, NULL);
	case OP_MUL:
	case OP_IMUL1:
	case OP_DIV:
	case OP_IDIV:
		emu_opnd_decode(c, OPND_E, size, &s);
		if (emu_opnd_read(c, &s))
			return -1;
		return op == OP_MUL || op == OP_IMUL1 ? mul(c, op, s.val, size) :
							divide(c, op, s.val, size);
	case OP_IMUL2:
	case OP_IMUL3:
		emu_opnd_decode(c, OPND_G, size, &d);
		emu_opnd_decode(c, OPND_E, size, &s);
		if (emu_opnd_read(c, &s))
			return -1;
		if (op == OP_IMUL2)
			emu_opnd_read(c, &d);
		emu_reg_set(c, d.reg, size, 0,
			    imul2(c, op == OP_IMUL2 ? d.val : s.val,
				  op == OP_IMUL2 ? s.val : in->imm, size));
		return 0;
	case OP_BT:
	case OP_BTS:
	case OP_BTR:
	case OP_BTC:
		return bit_op(c, op, size);
	case OP_BSF:
	case OP_BSR:
	case OP_TZCNT:
	case OP_LZCNT:
	case OP_POPCNT:
		return bit_scan(c, op, size);
	case OP_SHLD:
	case OP_SHRD: {
		unsigned cnt = in->imm_size ? in->imm : c->s->gpr[X86_RCX] & 0xff;

		emu_opnd_decode(c, OPND_E, size, &d);
		emu_opnd_decode(c, OPND_G, size, &s);
		emu_opnd_read(c, &s);
		if (emu_opnd_read(c, &d))
			return -1;
		return emu_opnd_write(c, &d, shxd(c, op, d.val, s.val, cnt, size));
	}
	default:
		return alu_2op(c, op, size);
	}
}

uint64_t emu_shift(struct emu_cpu *c, int op, uint64_t a, unsigned cnt, unsigned size)
{
	return shift(c, op, a, cnt, size);
}
