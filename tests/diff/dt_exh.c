/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exhaustive flag cases.  Operands: A in RAX (the destination), B in RCX
 * (source, or the count in CL), RDX a known pattern (or the high half of
 * a dividend); the incoming flags through POPF.  Which flags the SDM
 * leaves undefined is decided per case (count, operand size), so that a
 * difference there is reported apart from a real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_gen.h"

enum kind {
	K_BIN,      /* op rm=RAX, reg=RCX: opcode byte for size 1, +1 otherwise */
	K_UN,       /* F6/F7 or FE/FF /digit on RAX */
	K_SHIFT_CL, /* D2/D3 /digit: RAX by CL */
	K_SHIFT_I,  /* C0/C1 /digit ib: RAX by an immediate */
	K_SHXD,     /* SHLD/SHRD RAX, RDX, CL (0F A5 / 0F AD) */
	K_MUL,      /* F6/F7 /4, /5: RDX:RAX = RAX * RCX */
	K_IMUL2,    /* IMUL RAX, RCX (0F AF) */
	K_DIV,      /* F6/F7 /6, /7 by RCX */
	K_SCAN,     /* [F3] 0F xx: RAX = op(RCX) */
	K_BT,       /* BT/BTS/BTR/BTC RAX, RCX (0F xx) */
	K_XADD,     /* XADD RAX, RCX (0F C0/C1) */
	K_CMPXCHG,  /* CMPXCHG RDX, RCX (0F B0/B1), RAX the comparand */
	K_CC,       /* SETcc AL, CMOVcc EAX, ECX, Jcc over a MOV: all 16 cc */
};

struct op {
	const char *name;
	uint8_t kind, opc, digit, pfx;
	uint8_t sizes;     /* bit n: size 1 << n */
};

static const struct op ops[] = {
	{ "add", K_BIN, 0x00, 0, 0, 15 }, { "or", K_BIN, 0x08, 0, 0, 15 },
	{ "adc", K_BIN, 0x10, 0, 0, 15 }, { "sbb", K_BIN, 0x18, 0, 0, 15 },
	{ "and", K_BIN, 0x20, 0, 0, 15 }, { "sub", K_BIN, 0x28, 0, 0, 15 },
	{ "xor", K_BIN, 0x30, 0, 0, 15 }, { "cmp", K_BIN, 0x38, 0, 0, 15 },
	{ "test", K_BIN, 0x84, 0, 0, 15 },
	{ "inc", K_UN, 0xfe, 0, 0, 15 }, { "dec", K_UN, 0xfe, 1, 0, 15 },
	{ "not", K_UN, 0xf6, 2, 0, 15 }, { "neg", K_UN, 0xf6, 3, 0, 15 },
	{ "rol", K_SHIFT_CL, 0xd2, 0, 0, 15 }, { "ror", K_SHIFT_CL, 0xd2, 1, 0, 15 },
	{ "rcl", K_SHIFT_CL, 0xd2, 2, 0, 15 }, { "rcr", K_SHIFT_CL, 0xd2, 3, 0, 15 },
	{ "shl", K_SHIFT_CL, 0xd2, 4, 0, 15 }, { "shr", K_SHIFT_CL, 0xd2, 5, 0, 15 },
	{ "sar", K_SHIFT_CL, 0xd2, 7, 0, 15 },
	{ "rol", K_SHIFT_I, 0xc0, 0, 0, 15 }, { "ror", K_SHIFT_I, 0xc0, 1, 0, 15 },
	{ "rcl", K_SHIFT_I, 0xc0, 2, 0, 15 }, { "rcr", K_SHIFT_I, 0xc0, 3, 0, 15 },
	{ "shl", K_SHIFT_I, 0xc0, 4, 0, 15 }, { "shr", K_SHIFT_I, 0xc0, 5, 0, 15 },
	{ "sar", K_SHIFT_I, 0xc0, 7, 0, 15 },
	{ "shld", K_SHXD, 0xa5, 0, 0, 14 }, { "shrd", K_SHXD, 0xad, 0, 0, 14 },
	{ "mul", K_MUL, 0xf6, 4, 0, 15 }, { "imul", K_MUL, 0xf6, 5, 0, 15 },
	{ "imul", K_IMUL2, 0xaf, 0, 0, 14 },
	{ "div", K_DIV, 0xf6, 6, 0, 15 }, { "idiv", K_DIV, 0xf6, 7, 0, 15 },
	{ "bsf", K_SCAN, 0xbc, 0, 0, 14 }, { "bsr", K_SCAN, 0xbd, 0, 0, 14 },
	{ "tzcnt", K_SCAN, 0xbc, 0, 0xf3, 14 }, { "lzcnt", K_SCAN, 0xbd, 0, 0xf3, 14 },
	{ "popcnt", K_SCAN, 0xb8, 0, 0xf3, 14 },
	{ "bt", K_BT, 0xa3, 0, 0, 14 }, { "bts", K_BT, 0xab, 0, 0, 14 },
	{ "btr", K_BT, 0xb3, 0, 0, 14 }, { "btc", K_BT, 0xbb, 0, 0, 14 },
	{ "xadd", K_XADD, 0xc0, 0, 0, 15 }, { "cmpxchg", K_CMPXCHG, 0xb0, 0, 0, 15 },
	{ "cc", K_CC, 0, 0, 0, 1 },
};
#define NR_OPS ((int)(sizeof(ops) / sizeof(ops[0])))

/* The incoming flags: CF alone, or with every other arithmetic flag. */
static const uint32_t flags_in[] = { 0, DT_CF, DT_ARITH & ~DT_CF, DT_ARITH };
#define NR_FLAGS_IN 4
#define NR_VALUES 14

struct exh_case {
	uint8_t op, size;
	uint32_t fin;
	uint64_t a, b;
};

/* The whole enumeration, built once by dt_exh_new. */
struct dt_exh {
	struct exh_case *cases;
	int n, cap;
};

static uint64_t size_mask(int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Values at the flag boundaries of a size-byte operand. */
static uint64_t boundary(int size, int i)
{
	uint64_t m = size_mask(size), sign = (m >> 1) + 1;
	const uint64_t v[NR_VALUES] = {
		0, 1, 2, 0xf, 0x10, 0x7f, 0x80, sign - 1, sign, sign + 1, m - 1, m,
		0x5555555555555555ULL, 0xaaaaaaaaaaaaaaabULL,
	};
	return v[i] & m;
}

static int add_case(struct dt_exh *x, const struct exh_case *e)
{
	if (x->n == x->cap) {
		struct exh_case *n;

		x->cap = x->cap ? x->cap * 2 : 4096;
		n = realloc(x->cases, (size_t)x->cap * sizeof(*n));
		if (!n)
			return -1;
		x->cases = n;
	}
	x->cases[x->n++] = *e;
	return 0;
}

static int max_count(const struct op *o, int size)
{
	if (o->kind == K_SHXD && size == 2)
		return 16;      /* counts past 16 leave the result undefined */
	return 8 * size + 1;
}

static int enumerate_op(struct dt_exh *x, int opi, int size)
{
	const struct op *o = &ops[opi];
	struct exh_case e = { .op = (uint8_t)opi, .size = (uint8_t)size };
	int shift = o->kind == K_SHIFT_CL || o->kind == K_SHIFT_I || o->kind == K_SHXD;

	if (o->kind == K_CC) {
		for (uint32_t f = 0; f < 64; f++)
			for (e.a = 0; e.a < 16; e.a++) {
				e.fin = (f & 1 ? DT_CF : 0) | (f & 2 ? DT_PF : 0) |
					(f & 4 ? DT_AF : 0) | (f & 8 ? DT_ZF : 0) |
					(f & 16 ? DT_SF : 0) | (f & 32 ? DT_OF : 0);
				if (add_case(x, &e))
					return -1;
			}
		return 0;
	}
	for (int ia = 0; ia < NR_VALUES; ia++) {
		int nb = shift ? max_count(o, size) + 1 : NR_VALUES;

		for (int ib = 0; ib < nb; ib++) {
			e.a = boundary(size, ia);
			e.b = shift ? (uint64_t)ib : boundary(size, ib);
			if (o->kind == K_DIV && (e.b == 0 || (o->digit == 7 && e.b == size_mask(size))))
				continue;
			for (int f = 0; f < NR_FLAGS_IN; f++) {
				e.fin = flags_in[f];
				if (add_case(x, &e))
					return -1;
			}
		}
	}
	return 0;
}

struct dt_exh *dt_exh_new(void)
{
	struct dt_exh *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	for (int i = 0; i < NR_OPS; i++)
		for (int s = 0; s < 4; s++)
			if ((ops[i].sizes >> s & 1) && enumerate_op(x, i, 1 << s)) {
				dt_exh_free(x);
				return NULL;
			}
	return x;
}

void dt_exh_free(struct dt_exh *x)
{
	if (x)
		free(x->cases);
	free(x);
}

int dt_exh_count(const struct dt_exh *x)
{
	return x->n;
}

/* Which flags the SDM leaves undefined after this case's instruction. */
static uint16_t undefined_flags(const struct op *o, int size, uint64_t count)
{
	unsigned bits = 8 * (unsigned)size;
	uint64_t c = count & (size == 8 ? 63 : 31);

	switch (o->kind) {
	case K_BIN:
		return o->opc == 0x84 || o->opc == 0x08 || o->opc == 0x20 || o->opc == 0x30 ? DT_AF : 0;
	case K_SHIFT_CL:
	case K_SHIFT_I:
		if (c == 0)
			return 0;
		if (o->digit <= 3)                       /* rotates: OF and CF only */
			return c == 1 ? 0 : DT_OF;
		return (uint16_t)(DT_AF | (c == 1 ? 0 : DT_OF) |
				  ((o->digit == 4 || o->digit == 5) && c >= bits ? DT_CF : 0));
	case K_SHXD:
		if (c == 0)
			return 0;
		return (uint16_t)(DT_AF | (c == 1 ? 0 : DT_OF) | (c > bits ? DT_ARITH : 0));
	case K_MUL:
	case K_IMUL2:
		return DT_SF | DT_ZF | DT_AF | DT_PF;
	case K_DIV:
		return DT_ARITH;
	case K_SCAN:
		if (o->pfx == 0)
			return DT_CF | DT_OF | DT_SF | DT_AF | DT_PF;
		return o->opc == 0xb8 ? 0 : DT_OF | DT_SF | DT_AF | DT_PF;
	case K_BT:
		/* AMD leaves ZF undefined too; Intel leaves it unchanged. */
		return DT_OF | DT_SF | DT_ZF | DT_AF | DT_PF;
	default:
		return 0;
	}
}

/* The instruction under test, on RAX/RCX/RDX of the case's size. */
static void emit_op(struct dt_item *it, const struct op *o, const struct exh_case *e)
{
	int s = e->size, byte = s == 1;
	uint8_t opc = (uint8_t)(o->opc + (byte ? 0 : 1));
	uint8_t op2[2] = { 0x0f, o->opc };

	switch (o->kind) {
	case K_BIN:
		dt_emit_modrm(it, s, 0, &opc, 1, X86_RCX, X86_RAX, 0);
		break;
	case K_UN:
	case K_SHIFT_CL:
	case K_MUL:
	case K_DIV:
		dt_emit_modrm(it, s, 0, &opc, 1, o->digit, o->kind == K_MUL || o->kind == K_DIV ?
			      X86_RCX : X86_RAX, 0);
		break;
	case K_SHIFT_I:
		dt_emit_modrm(it, s, 0, &opc, 1, o->digit, X86_RAX, 0);
		dt_emit1(it, (uint8_t)e->b);
		break;
	case K_SHXD:
		dt_emit_modrm(it, s, 0, op2, 2, X86_RDX, X86_RAX, 0);
		break;
	case K_IMUL2:
	case K_SCAN:
		dt_emit_modrm(it, s, o->pfx, op2, 2, X86_RAX, X86_RCX, 0);
		break;
	case K_BT:
		dt_emit_modrm(it, s, 0, op2, 2, X86_RCX, X86_RAX, 0);
		break;
	case K_XADD:
		op2[1] = opc;
		dt_emit_modrm(it, s, 0, op2, 2, X86_RCX, X86_RAX, 0);
		break;
	case K_CMPXCHG:
		op2[1] = opc;
		dt_emit_modrm(it, s, 0, op2, 2, X86_RCX, X86_RDX, 0);
		break;
	}
}

/* SETcc CL; CMOVcc EAX, EDX; Jcc over a MOV to DL. */
static void emit_cc(struct dt_item *it, unsigned cc)
{
	uint8_t setcc[2] = { 0x0f, (uint8_t)(0x90 + cc) }, cmov[2] = { 0x0f, (uint8_t)(0x40 + cc) };

	dt_emit_modrm(it, 1, 0, setcc, 2, 0, X86_RCX, 0);
	dt_emit_modrm(it, 4, 0, cmov, 2, X86_RAX, X86_RDX, 0);
	dt_emit1(it, (uint8_t)(0x70 + cc));
	dt_emit1(it, 2);
	dt_emit1(it, 0xb2);           /* MOV DL, 0x77 */
	dt_emit1(it, 0x77);
}

/*
 * RAX = A, RCX = B, RDX: the dividend's high half for DIV/IDIV, the
 * destination for CMPXCHG (equal to A when SF comes in set, so both
 * outcomes occur), a pattern otherwise; then the flags.
 */
static void emit_setup(struct dt_item *it, const struct op *o, const struct exh_case *e)
{
	uint64_t m = size_mask(e->size), sign = (m >> 1) + 1;
	uint64_t rax = e->a, rdx = 0x0123456789abcdefULL;
	int neg = o->digit == 7 && (e->a & sign);

	if (o->kind == K_DIV) {
		rdx = neg ? ~0ULL : 0;
		if (neg && e->size == 1)
			rax |= 0xff00;
	}
	if (o->kind == K_CMPXCHG)
		rdx = e->fin & DT_SF ? e->a : e->b;
	dt_emit_mov_imm(it, X86_RAX, rax);
	dt_emit_mov_imm(it, X86_RCX, o->kind == K_CMPXCHG ? 0x0123456789abcdefULL : e->b);
	dt_emit_mov_imm(it, X86_RDX, rdx);
	dt_emit_set_flags(it, e->fin);
	it->def = DT_ARITH;
}

static void emit_store(struct dt_item *it, int off)
{
	static const uint8_t regs[3] = { X86_RAX, X86_RCX, X86_RDX };
	const uint8_t mov = 0x89;

	for (int i = 0; i < 3; i++)
		dt_emit_modrm(it, 8, 0, &mov, 1, regs[i], DT_RM_MEM + off + 8 * i, 0);
	dt_emit_store_flags(it, off + 24);
	it->slot = (int16_t)(off + 24);
}

int dt_exh_add(const struct dt_exh *x, struct dt_case *c, int b, int slot)
{
	const struct exh_case *e = &x->cases[b];
	const struct op *o = &ops[e->op];
	struct dt_item it[3];

	if (c->n + 3 > DT_MAX_ITEMS || (slot + 1) * DT_SLOT_SIZE > DT_DATA_SIZE)
		return -1;
	for (int i = 0; i < 3; i++) {
		dt_item_init(&it[i]);
		it[i].block = b;
	}
	emit_setup(&it[0], o, e);
	if (o->kind == K_CC) {
		emit_cc(&it[1], (unsigned)e->a);
	} else {
		emit_op(&it[1], o, e);
		it[1].def = DT_ARITH;
		it[1].undef = undefined_flags(o, e->size, e->b);
	}
	emit_store(&it[2], slot * DT_SLOT_SIZE);
	it[2].slot_undef = it[1].undef;
	memcpy(&c->item[c->n], it, sizeof(it));
	c->n += 3;
	return 0;
}

void dt_exh_describe(const struct dt_exh *x, int b, char *buf, int len)
{
	const struct exh_case *e = &x->cases[b];
	const struct op *o = &ops[e->op];

	if (o->kind == K_CC) {
		snprintf(buf, (size_t)len, "setcc/cmovcc/jcc cc=%#llx flags in %#x",
			 (unsigned long long)e->a, e->fin);
		return;
	}
	snprintf(buf, (size_t)len, "%s%s %d-bit a=%#llx b=%#llx flags in %#x", o->name,
		 o->kind == K_SHIFT_I ? " (imm)" : "", 8 * e->size, (unsigned long long)e->a,
		 (unsigned long long)e->b, e->fin);
}

void dt_exh_key(const struct dt_exh *x, int b, char *buf, int len)
{
	const struct exh_case *e = &x->cases[b];
	const struct op *o = &ops[e->op];

	if (o->kind == K_CC)
		snprintf(buf, (size_t)len, "setcc/cmovcc/jcc");
	else
		snprintf(buf, (size_t)len, "%s%s %d-bit", o->name,
			 o->kind == K_SHIFT_I ? " (imm)" : "", 8 * e->size);
}
