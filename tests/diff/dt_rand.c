/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random sequences from instruction templates: integer ALU, shifts and
 * rotates (by 1, CL, imm), bit ops, MUL/IMUL/DIV (DIV aimed away from #DE),
 * bit scans and counts, CMOV/SETcc/Jcc, XADD/CMPXCHG/XCHG (LOCKed on
 * memory), MOV forms, stack ops, REP string ops over the data area, and
 * SSE/SSE2/SSSE3/SSE4 integer and floating-point operations, on random
 * registers, flags and memory.  Memory operands address the data area
 * with absolute disp32s, so no register has to be kept as a base.
 */
#include <string.h>

#include "dt_gen.h"

#define rn dt_rn

uint64_t dt_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

unsigned dt_rn(uint64_t *r, unsigned n)
{
	return (unsigned)(dt_rand(r) % n);
}

/* A register the code may write: any but RSP. */
static int wreg(uint64_t *r)
{
	int g = (int)rn(r, 15);

	return g >= X86_RSP ? g + 1 : g;
}

static int opsize(uint64_t *r)
{
	return 1 << rn(r, 4);
}

/* A data-area operand of size bytes, aligned to align (0: any offset). */
int dt_rand_mem(uint64_t *r, int align)
{
	int off = (int)rn(r, DT_DATA_SIZE - 32);

	if (align)
		off &= ~(align - 1);
	return DT_RM_MEM + off;
}

/* A register or memory r/m operand; byte registers may be AH..BH (legacy8). */
static int rm_any(uint64_t *r, int size, int *legacy8)
{
	*legacy8 = size == 1 && rn(r, 4) == 0;
	if (rn(r, 3) == 0)
		return dt_rand_mem(r, rn(r, 4) ? size : 0);
	return *legacy8 ? (int)rn(r, 8) : wreg(r);
}

static void lock_maybe(struct dt_item *it, uint64_t *r, int rm)
{
	if (rm >= DT_RM_MEM && rn(r, 2))
		dt_emit1(it, 0xf0);
}

static void g_alu(struct dt_item *it, uint64_t *r)
{
	int op = (int)rn(r, 8), size = opsize(r), l8, rm = rm_any(r, size, &l8);
	int reg = l8 ? (int)rn(r, 8) : wreg(r), form = (int)rn(r, 3);
	uint8_t opc;

	it->def = DT_ARITH;
	it->undef = op == 1 || op == 4 || op == 6 ? DT_AF : 0;
	it->uses = op == 2 || op == 3 ? DT_CF : 0;
	if (form == 2) {            /* 80/81/83 /op imm */
		int imm8 = size == 1 || rn(r, 2);

		opc = size == 1 ? 0x80 : imm8 ? 0x83 : 0x81;
		if (op != 7)
			lock_maybe(it, r, rm);
		dt_emit_modrm(it, size, 0, &opc, 1, op, rm, l8);
		dt_emit_imm(it, dt_rand(r), imm8 ? 1 : size == 2 ? 2 : 4);
		return;
	}
	opc = (uint8_t)(op * 8 + (size == 1 ? 0 : 1) + (form ? 2 : 0));
	if (!form && op != 7)
		lock_maybe(it, r, rm);
	dt_emit_modrm(it, size, 0, &opc, 1, reg, rm, l8);
}

static void g_unary(struct dt_item *it, uint64_t *r)
{
	int d = (int)rn(r, 5), size = opsize(r), l8, rm = rm_any(r, size, &l8);
	static const uint8_t base[5] = { 0xfe, 0xfe, 0xf6, 0xf6, 0xf6 };
	static const uint8_t digit[5] = { 0, 1, 2, 3, 0 };
	uint8_t opc = (uint8_t)(base[d] + (size == 1 ? 0 : 1));

	if (d < 4)
		lock_maybe(it, r, rm);
	dt_emit_modrm(it, size, 0, &opc, 1, digit[d], rm, l8);
	if (d == 4)                   /* TEST rm, imm */
		dt_emit_imm(it, dt_rand(r), size == 8 ? 4 : size);
	it->def = d == 2 ? 0 : d < 2 ? DT_ARITH & ~DT_CF : DT_ARITH;
	it->undef = d == 4 ? DT_AF : 0;
}

static void g_shift(struct dt_item *it, uint64_t *r)
{
	static const uint8_t digits[7] = { 0, 1, 2, 3, 4, 5, 7 };
	int d = digits[rn(r, 7)], size = opsize(r), l8, rm = rm_any(r, size, &l8);
	int form = (int)rn(r, 3);
	uint8_t opc = (uint8_t)((form == 0 ? 0xd0 : form == 1 ? 0xd2 : 0xc0) + (size == 1 ? 0 : 1));

	unsigned count = form == 0 ? 1 : form == 2 ? rn(r, 72) : 0;
	unsigned masked = count & (size == 8 ? 63 : 31);
	uint16_t sets = d <= 3 ? DT_CF | DT_OF : DT_ARITH;

	dt_emit_modrm(it, size, 0, &opc, 1, d, rm, l8);
	if (form == 2)
		dt_emit1(it, (uint8_t)count);
	it->uses = d == 2 || d == 3 ? DT_CF : 0;
	if (form == 1 || d == 2 || d == 3) {
		/* By CL (the count unknown here, maybe 0: flags kept) or RCL/RCR,
		 * whose flags follow the count modulo 9/17: may or may not set. */
		it->undef = sets;
		return;
	}
	if (masked == 0)
		return;
	it->def = sets;
	it->undef = (uint16_t)((masked == 1 ? 0 : DT_OF) | (d > 3 ? DT_AF : 0) |
			       ((d == 4 || d == 5) && masked >= 8u * (unsigned)size ? DT_CF : 0));
}

static void g_shxd(struct dt_item *it, uint64_t *r)
{
	int size = 2 << rn(r, 3), l8, rm = rm_any(r, size, &l8), cl = size > 2 && rn(r, 2);
	uint8_t op[2] = { 0x0f, (uint8_t)((rn(r, 2) ? 0xa4 : 0xac) + (cl ? 1 : 0)) };
	unsigned count = rn(r, (unsigned)(size == 2 ? 16 : 8 * size));

	dt_emit_modrm(it, size, 0, op, 2, wreg(r), rm, 0);
	if (cl) {
		it->undef = DT_ARITH;       /* CL may be 0: flags kept */
		return;
	}
	dt_emit1(it, (uint8_t)count);
	if (count == 0)
		return;
	it->def = DT_ARITH;
	it->undef = (uint16_t)(DT_AF | (count == 1 ? 0 : DT_OF));
}

static void g_mul(struct dt_item *it, uint64_t *r)
{
	int form = (int)rn(r, 3), size = form ? 2 << rn(r, 3) : opsize(r), l8;
	int rm = rm_any(r, size, &l8);

	if (form == 0) {
		uint8_t opc = (uint8_t)(size == 1 ? 0xf6 : 0xf7);

		dt_emit_modrm(it, size, 0, &opc, 1, 4 + (int)rn(r, 2), rm, l8);
	} else if (form == 1) {
		uint8_t op[2] = { 0x0f, 0xaf };

		dt_emit_modrm(it, size, 0, op, 2, wreg(r), rm, 0);
	} else {
		uint8_t opc = rn(r, 2) ? 0x6b : 0x69;

		dt_emit_modrm(it, size, 0, &opc, 1, wreg(r), rm, 0);
		dt_emit_imm(it, dt_rand(r), opc == 0x6b ? 1 : size == 2 ? 2 : 4);
	}
	it->def = DT_ARITH;
	it->undef = DT_SF | DT_ZF | DT_AF | DT_PF;
}

/* RDX:RAX / r with RDX cleared (DIV) or sign-extended from a positive RAX
 * (IDIV), and a nonzero divisor: never #DE. */
static void g_div(struct dt_item *it, uint64_t *r)
{
	int size = 2 << rn(r, 3), sign = (int)rn(r, 2);
	int d = wreg(r);
	uint8_t opc = 0xf7, xor = 0x31;

	while (d == X86_RAX || d == X86_RDX)
		d = wreg(r);
	dt_emit_mov_imm(it, d, (dt_rand(r) | 1) & (rn(r, 2) ? 0xffff : 0xffffffffULL));
	if (sign) {
		dt_emit_mov_imm(it, X86_RAX, dt_rand(r) & 0x7fffffff);
		if (size != 4)
			dt_emit1(it, size == 2 ? 0x66 : 0x48);
		dt_emit1(it, 0x99);          /* CWD/CDQ/CQO */
	} else {
		dt_emit_modrm(it, 4, 0, &xor, 1, X86_RDX, X86_RDX, 0);
	}
	dt_emit_modrm(it, size, 0, &opc, 1, 6 + sign, d, 0);
	it->def = DT_ARITH;
	it->undef = DT_ARITH;
}

static void g_bit(struct dt_item *it, uint64_t *r)
{
	int size = 2 << rn(r, 3), d = (int)rn(r, 4), l8;

	if (rn(r, 2)) {
		uint8_t op[2] = { 0x0f, 0xba };
		int rm = rm_any(r, size, &l8);

		if (d)
			lock_maybe(it, r, rm);
		dt_emit_modrm(it, size, 0, op, 2, 4 + d, rm, 0);
		dt_emit1(it, (uint8_t)dt_rand(r));
	} else {
		uint8_t op[2] = { 0x0f, (uint8_t)(0xa3 + 8 * d) };

		dt_emit_modrm(it, size, 0, op, 2, wreg(r), wreg(r), 0);
	}
	it->def = DT_ARITH;
	it->undef = DT_OF | DT_SF | DT_ZF | DT_AF | DT_PF;
}

static void g_scan(struct dt_item *it, uint64_t *r)
{
	static const uint8_t opc[5] = { 0xbc, 0xbd, 0xbc, 0xbd, 0xb8 };
	int k = (int)rn(r, 5), size = 2 << rn(r, 3), l8, rm = rm_any(r, size, &l8);
	uint8_t op[2] = { 0x0f, opc[k] };

	dt_emit_modrm(it, size, k >= 2 ? 0xf3 : 0, op, 2, wreg(r), rm, 0);
	it->def = DT_ARITH;
	it->undef = k < 2 ? DT_CF | DT_OF | DT_SF | DT_AF | DT_PF :
		    k < 4 ? DT_OF | DT_SF | DT_AF | DT_PF : 0;
}

static void g_cc(struct dt_item *it, uint64_t *r)
{
	unsigned cc = rn(r, 16);
	int l8;

	it->uses = dt_cc_uses(cc);
	if (rn(r, 2)) {
		uint8_t op[2] = { 0x0f, (uint8_t)(0x40 + cc) };
		int size = 2 << rn(r, 3);

		dt_emit_modrm(it, size, 0, op, 2, wreg(r), rm_any(r, size, &l8), 0);
	} else {
		uint8_t op[2] = { 0x0f, (uint8_t)(0x90 + cc) };
		int rm = rm_any(r, 1, &l8);

		dt_emit_modrm(it, 1, 0, op, 2, 0, rm, l8);
	}
}

static void g_xchg(struct dt_item *it, uint64_t *r)
{
	int k = (int)rn(r, 3), size = opsize(r), l8, rm = rm_any(r, size, &l8);
	int reg = l8 ? (int)rn(r, 8) : wreg(r);
	uint8_t b = size == 1 ? 0 : 1;
	uint8_t op[2] = { 0x0f, (uint8_t)((k == 0 ? 0xc0 : 0xb0) + b) };

	if (k == 2) {
		uint8_t x = (uint8_t)(0x86 + b);

		dt_emit_modrm(it, size, 0, &x, 1, reg, rm, l8);
		return;
	}
	lock_maybe(it, r, rm);
	dt_emit_modrm(it, size, 0, op, 2, reg, rm, l8);
	it->def = DT_ARITH;
}

static void g_mov(struct dt_item *it, uint64_t *r)
{
	int k = (int)rn(r, 7), size = opsize(r), l8, rm = rm_any(r, size, &l8);
	uint8_t op[2] = { 0x0f, 0 };

	switch (k) {
	case 0:
	case 1:
		op[0] = (uint8_t)(0x88 + (size == 1 ? 0 : 1) + 2 * k);
		dt_emit_modrm(it, size, 0, op, 1, l8 ? (int)rn(r, 8) : wreg(r), rm, l8);
		break;
	case 2:
		dt_emit_mov_imm(it, wreg(r), dt_rand(r) >> (rn(r, 2) * 32));
		break;
	case 3:                         /* MOVZX/MOVSX from 8 or 16 bits */
		op[1] = (uint8_t)(0xb6 + 8 * rn(r, 2) + rn(r, 2));
		rm = rm_any(r, op[1] & 1 ? 2 : 1, &l8);
		dt_emit_modrm(it, 2 << rn(r, 3), 0, op, 2, wreg(r), rm, l8);
		break;
	case 4:                         /* MOVSXD */
		op[0] = 0x63;
		dt_emit_modrm(it, 8, 0, op, 1, wreg(r), rm >= DT_RM_MEM ? rm : wreg(r), 0);
		break;
	case 5:                         /* BSWAP */
		if (rn(r, 2))
			dt_emit1(it, (uint8_t)(0x48 | (rn(r, 2))));
		dt_emit1(it, 0x0f);
		dt_emit1(it, (uint8_t)(0xc8 + rn(r, 8)));
		if (it->b[it->len - 1] == 0xcc)      /* BSWAP ESP/R12: keep RSP */
			it->b[it->len - 1] = 0xcb;
		break;
	default: {                      /* CBW family, CWD family */
		uint8_t pfx[3] = { 0x66, 0x00, 0x48 };
		int s = (int)rn(r, 3);

		if (s != 1)
			dt_emit1(it, pfx[s]);
		dt_emit1(it, (uint8_t)(0x98 + rn(r, 2)));
	}
	}
}

/* LEA with a random base, index and scale: no memory access. */
static void g_lea(struct dt_item *it, uint64_t *r)
{
	int dst = wreg(r), base = (int)rn(r, 16), index = (int)rn(r, 16);
	int size = 2 << rn(r, 3);

	if (index == X86_RSP)
		index = X86_RBP;
	if (size == 2)
		dt_emit1(it, 0x66);
	dt_emit1(it, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (dst & 8 ? 4 : 0) | (index & 8 ? 2 : 0) |
			       (base & 8 ? 1 : 0)));
	dt_emit1(it, 0x8d);
	dt_emit1(it, (uint8_t)(0x80 | ((dst & 7) << 3) | 4));
	dt_emit1(it, (uint8_t)((rn(r, 4) << 6) | ((index & 7) << 3) | (base & 7)));
	dt_emit_imm(it, dt_rand(r), 4);
}

static void g_stack(struct dt_item *it, uint64_t *r)
{
	int k = (int)rn(r, 6), g = wreg(r);

	switch (k) {
	case 0:                       /* PUSH r; POP r' */
		if (g & 8)
			dt_emit1(it, 0x41);
		dt_emit1(it, (uint8_t)(0x50 + (g & 7)));
		g = wreg(r);
		if (g & 8)
			dt_emit1(it, 0x41);
		dt_emit1(it, (uint8_t)(0x58 + (g & 7)));
		break;
	case 1:                       /* PUSHF; POP r */
		it->uses = DT_ARITH;
		dt_emit1(it, 0x9c);
		if (g & 8)
			dt_emit1(it, 0x41);
		dt_emit1(it, (uint8_t)(0x58 + (g & 7)));
		break;
	case 2:                       /* PUSH imm; POPF (no TF) */
		dt_emit_set_flags(it, (uint32_t)dt_rand(r) & (DT_ARITH | 0x400));
		it->def = DT_ARITH;
		break;
	case 3:
		dt_emit1(it, rn(r, 2) ? 0x9f : 0x9e);    /* LAHF / SAHF */
		it->def = it->b[0] == 0x9e ? DT_ARITH & ~DT_OF : 0;
		it->uses = it->b[0] == 0x9f ? DT_ARITH & ~DT_OF : 0;
		break;
	case 4: {
		static const uint8_t f[5] = { 0xf8, 0xf9, 0xf5, 0xfc, 0xfd };

		dt_emit1(it, f[rn(r, 5)]);
		it->def = it->b[0] < 0xfc ? DT_CF : 0;
		it->uses = it->b[0] == 0xf5 ? DT_CF : 0;     /* CMC */
		break;
	}
	default:                      /* PUSH imm8/imm32; POP to memory */
		dt_emit1(it, rn(r, 2) ? 0x6a : 0x68);
		dt_emit_imm(it, dt_rand(r), it->b[0] == 0x6a ? 1 : 4);
		dt_emit1(it, 0x8f);
		dt_emit1(it, 0x04);
		dt_emit1(it, 0x25);
		dt_emit_imm(it, DT_DATA_BASE + (uint64_t)(dt_rand_mem(r, 8) - DT_RM_MEM), 4);
		break;
	}
}

/* MOV ESI/EDI/ECX, then a string op, REP-prefixed or not, either direction. */
static void g_string(struct dt_item *it, uint64_t *r)
{
	static const uint8_t ops[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	int size = opsize(r), op = ops[rn(r, 5)], rep = (int)rn(r, 3);
	unsigned count = rn(r, 40);

	dt_emit_mov_imm(it, X86_RSI, DT_DATA_BASE + 0x800 + rn(r, 0x1000));
	dt_emit_mov_imm(it, X86_RDI, DT_DATA_BASE + 0x800 + rn(r, 0x1000));
	dt_emit_mov_imm(it, X86_RCX, count);
	if (rep)
		dt_emit1(it, rep == 1 ? 0xf3 : 0xf2);
	if (size == 2)
		dt_emit1(it, 0x66);
	if (size == 8)
		dt_emit1(it, 0x48);
	dt_emit1(it, (uint8_t)(op + (size == 1 ? 0 : 1)));
	if ((op == 0xa6 || op == 0xae) && (!rep || count))
		it->def = DT_ARITH;
}

/*
 * Memory through base + index * scale + displacement, with 64- or 32-bit
 * (67) addressing: MOV, ALU or LEA.  Base and index are set first so the
 * address lands in the data area.
 */
static void g_addr(struct dt_item *it, uint64_t *r)
{
	int base = wreg(r), index = wreg(r), scale = (int)rn(r, 4), size = opsize(r);
	int a32 = rn(r, 3) == 0, disp8 = (int)rn(r, 2), k = (int)rn(r, 3);
	int32_t disp = disp8 ? (int32_t)rn(r, 256) - 128 : (int32_t)rn(r, 0x800) - 0x400;
	uint64_t idx = rn(r, 64), target = DT_DATA_BASE + 0x800 + rn(r, 0x800);
	int reg = wreg(r), l8 = 0;
	static const uint8_t ops[3][2] = { { 0x8a, 0x88 }, { 0x02, 0x28 }, { 0x8d, 0x8d } };
	uint8_t opc;

	while (index == base)
		index = wreg(r);
	dt_emit_mov_imm(it, index, idx);
	dt_emit_mov_imm(it, base, target - (idx << scale) - (uint64_t)(int64_t)disp);
	opc = (uint8_t)(ops[k][rn(r, 2)] + (size == 1 || k == 2 ? 0 : 1));
	if (k == 2 && size == 1)
		size = 4;
	if (a32)
		dt_emit1(it, 0x67);
	if (size == 2)
		dt_emit1(it, 0x66);
	dt_emit1(it, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (reg & 8 ? 4 : 0) | (index & 8 ? 2 : 0) |
			       (base & 8 ? 1 : 0)));
	dt_emit1(it, opc);
	dt_emit1(it, (uint8_t)((disp8 ? 0x40 : 0x80) | ((reg & 7) << 3) | 4));
	dt_emit1(it, (uint8_t)((scale << 6) | ((index & 7) << 3) | (base & 7)));
	dt_emit_imm(it, (uint64_t)(int64_t)disp, disp8 ? 1 : 4);
	if (k == 1)
		it->def = DT_ARITH;
	(void)l8;
}

/*
 * Edges of the address space and of instructions: an access that crosses
 * from the data area into the unmapped page after it (a store must leave
 * nothing behind), a REP string op that runs off its end (RCX/RSI/RDI
 * show the progress), RSP/RBP-relative accesses at non-canonical
 * addresses (#SS), jumps into the data area (NX), unmapped or
 * non-canonical space, a user read of a supervisor page, LOCK on a
 * register (#UD), a 16-byte instruction (#GP), and TF set by POPF
 * (single-step #DB after the next instruction).
 */
static void g_edge(struct dt_item *it, uint64_t *r)
{
	uint64_t end = DT_DATA_BASE + DT_DATA_SIZE;
	int size = 2 << rn(r, 3);

	switch (rn(r, 8)) {
	case 0: {                           /* MOV across the end of the data area */
		uint8_t op = rn(r, 2) ? 0x89 : 0x8b;

		dt_emit_modrm(it, size, 0, &op, 1, wreg(r), DT_RM_MEM + DT_DATA_SIZE - 1 -
			      (int)rn(r, (unsigned)size - 1), 0);
		break;
	}
	case 1: {                           /* REP STOS/MOVS/LODS off either end */
		static const uint8_t ops[3] = { 0xaa, 0xa4, 0xac };
		int down = (int)rn(r, 2);

		if (down) {                 /* STD: downwards off the start */
			dt_emit1(it, 0xfd);
			dt_emit_mov_imm(it, X86_RDI, DT_DATA_BASE + rn(r, 64));
			dt_emit_mov_imm(it, X86_RSI, rn(r, 2) ? DT_DATA_BASE + rn(r, 64) : end - 8);
		} else {
			dt_emit_mov_imm(it, X86_RDI, end - 1 - rn(r, 64));
			dt_emit_mov_imm(it, X86_RSI, rn(r, 2) ? end - 1 - rn(r, 64) : DT_DATA_BASE);
		}
		dt_emit_mov_imm(it, X86_RCX, 64 + rn(r, 64));
		dt_emit1(it, 0xf3);
		if (size == 2)
			dt_emit1(it, 0x66);
		if (size == 8)
			dt_emit1(it, 0x48);
		dt_emit1(it, (uint8_t)(ops[rn(r, 3)] + (rn(r, 4) ? 1 : 0)));
		break;
	}
	case 2:                             /* non-canonical RSP or RBP: #SS */
		if (rn(r, 2)) {
			dt_emit_mov_imm(it, X86_RSP, 0x0000800000000000ULL + 8 * rn(r, 4));
			dt_emit1(it, (uint8_t)(0x50 + rn(r, 8)));
		} else {
			dt_emit_mov_imm(it, X86_RBP, 0xffff7ffffffffff8ULL - 8 * rn(r, 4));
			dt_emit(it, (const uint8_t[]){ 0x8b, 0x45, 0x00 }, 3);
		}
		break;
	case 3: {                           /* JMP/CALL RAX into NX, unmapped, non-canonical */
		static const uint64_t targets[4] = {
			DT_DATA_BASE + 0x100, 0x100000, 0x0000800000000000ULL, DT_STACK_BASE,
		};

		dt_emit_mov_imm(it, X86_RAX, targets[rn(r, 4)]);
		dt_emit(it, (const uint8_t[]){ 0xff, (uint8_t)(rn(r, 2) ? 0xe0 : 0xd0) }, 2);
		break;
	}
	case 4: {                           /* user read of a supervisor page */
		int g = wreg(r);

		if (g & 8)
			dt_emit1(it, 0x44);
		dt_emit(it, (const uint8_t[]){ 0x8b, (uint8_t)(0x04 | (g & 7) << 3), 0x25 }, 3);
		dt_emit_imm(it, 0x1000 + rn(r, 0x3000), 4);
		break;
	}
	case 5:                             /* LOCK on a register operand */
		dt_emit1(it, 0xf0);
		dt_emit_modrm(it, size, 0, (const uint8_t[]){ 0x01 }, 1, wreg(r), wreg(r), 0);
		break;
	case 6:                             /* 16 bytes: 15 prefixes and a NOP */
		for (int i = 0; i < 15; i++)
			dt_emit1(it, 0x66);
		dt_emit1(it, 0x90);
		break;
	default:                            /* TF through POPF, then one more item */
		dt_emit_set_flags(it, ((uint32_t)dt_rand(r) & DT_ARITH) | 0x100);
		g_unary(it, r);
		it->def = DT_ARITH;      /* the POPF's, then the unary op's own */
	}
}

/*
 * The last item, sometimes: an exception the reference reports reliably
 * (kvm_pvm sends a #GP from user mode through its instruction emulator,
 * which turns unknown instructions into #UD: only #GP cases it knows).
 */
static void g_fault(struct dt_item *it, uint64_t *r)
{
	static const uint8_t faults[][12] = {
		{ 3, 0x31, 0xc9, 0xf7 },                        /* DIV by 0 (ECX = 0) */
		{ 1, 0xce },                                    /* INTO: #UD in 64-bit */
		{ 1, 0xcc },                                    /* INT3 */
		{ 1, 0xf4 },                                    /* HLT: #GP */
		{ 1, 0xfa },                                    /* CLI: #GP */
		{ 3, 0x0f, 0x22, 0xd8 },                        /* MOV CR3: #GP */
		{ 1, 0xec },                                    /* IN: #GP (IOPL 0) */
		{ 7, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00 },/* load from page 0: #PF */
		{ 8, 0xc6, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00, 0x00 }, /* store to code: #PF */
		{ 4, 0x0f, 0x28, 0x41, 0x01 },                  /* MOVAPS misaligned (RCX) */
		{ 1, 0x9a },                                    /* far CALL: #UD in 64-bit */
	};
	const uint8_t *f = faults[rn(r, sizeof(faults) / sizeof(faults[0]))];

	if (rn(r, 2)) {
		g_edge(it, r);
		return;
	}
	if (f[1] == 0x31) {
		dt_emit(it, f + 1, 2);
		dt_emit1(it, f[3]);
		dt_emit1(it, (uint8_t)(0xf1 | rn(r, 2) << 3));   /* DIV/IDIV ECX */
		it->undef = DT_ARITH;
		return;
	}
	if (f[1] == 0x0f && f[2] == 0x28)
		dt_emit_mov_imm(it, X86_RCX, dt_rand_mem(r, 16) - DT_RM_MEM + DT_DATA_BASE);
	if (f[1] == 0x8b && rn(r, 2)) {                  /* or a non-canonical one: #GP */
		dt_emit_mov_imm(it, X86_RAX, 0x8000000000000000ULL >> rn(r, 16));
		dt_emit(it, (const uint8_t[]){ 0x8b, 0x00 }, 2);
		return;
	}
	dt_emit(it, f + 1, f[0]);
}

/* Jcc over an item that is not itself a jump. */
static void g_simple(struct dt_item *it, uint64_t *r);

static void g_jcc(struct dt_item *it, uint64_t *r)
{
	struct dt_item inner;

	unsigned cc = rn(r, 16);

	dt_item_init(&inner);
	g_simple(&inner, r);
	it->uses = dt_cc_uses(cc) | inner.uses;
	dt_emit1(it, (uint8_t)(0x70 + cc));
	dt_emit1(it, inner.len);
	dt_emit(it, inner.b, inner.len);
	/* Either path: flags the inner item sets may or may not be set. */
	it->def = 0;
	it->undef = inner.undef;
}


typedef void (*gen_fn)(struct dt_item *, uint64_t *);

static const gen_fn simple_gens[] = {
	g_alu, g_alu, g_alu, g_unary, g_shift, g_shift, g_shxd, g_mul, g_div, g_bit, g_scan,
	g_cc, g_cc, g_xchg, g_mov, g_mov, g_lea, g_addr, g_addr, g_stack, g_string, dt_gen_sse_int, dt_gen_sse_int,
	dt_gen_sse_fp, dt_gen_sse_fp, dt_gen_sse_gpr, dt_gen_x87, dt_gen_x87, dt_gen_x87,
	dt_gen_more, dt_gen_more, dt_gen_more, dt_gen_crypto,
};
#define NR_SIMPLE ((unsigned)(sizeof(simple_gens) / sizeof(simple_gens[0])))

static void g_simple(struct dt_item *it, uint64_t *r)
{
	simple_gens[rn(r, NR_SIMPLE)](it, r);
}

/* Values that make flags interesting: small, boundaries, pointers, noise. */
static uint64_t rand_value(uint64_t *r)
{
	static const uint64_t special[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
	};

	switch (rn(r, 4)) {
	case 0:
		return special[rn(r, sizeof(special) / sizeof(special[0]))];
	case 1:
		return rn(r, 64);
	case 2:
		return DT_DATA_BASE + rn(r, DT_DATA_SIZE);
	default:
		return dt_rand(r);
	}
}

/*
 * An item that would read flags an earlier one left undefined gets a
 * PUSH imm; POPF of its own first: it then reads defined flags whatever
 * the reducer later drops before it.
 */
static void define_flags_first(struct dt_item *it, uint64_t *r)
{
	struct dt_item old = *it;

	dt_item_init(it);
	dt_emit_set_flags(it, (uint32_t)dt_rand(r) & (DT_ARITH | 0x400));
	dt_emit(it, old.b, old.len);
	it->def = DT_ARITH;
	it->undef = old.undef;
}

void dt_gen_random(struct dt_case *c, uint64_t *rng, int max_items)
{
	struct dt_input *in = &c->in;
	int n;

	memset(in, 0, sizeof(*in));
	for (int i = 0; i < 16; i++)
		in->gpr[i] = rand_value(rng);
	in->gpr[X86_RSP] = DT_STACK_BASE + DT_STACK_SIZE / 2;
	in->rflags = dt_rand(rng) & (DT_ARITH | 0x400);
	for (size_t i = 0; i < sizeof(in->data); i += 8) {
		uint64_t v = rand_value(rng);

		memcpy(in->data + i, &v, 8);
	}
	for (size_t i = 0; i < sizeof(in->stack); i += 8) {
		uint64_t v = dt_rand(rng);

		memcpy(in->stack + i, &v, 8);
	}
	dt_gen_sse_init(in, rng);
	dt_gen_x87_init(in, rng);
	n = 1 + (int)rn(rng, (unsigned)max_items);
	c->n = 0;
	for (int i = 0; i < n; i++) {
		struct dt_item *it = &c->item[c->n++];

		dt_item_init(it);
		if (rn(rng, 8) == 0)
			g_jcc(it, rng);
		else
			g_simple(it, rng);
		if (dt_case_reads_undefined(c))
			define_flags_first(it, rng);
	}
	if (rn(rng, 4) == 0) {
		dt_item_init(&c->item[c->n]);
		g_fault(&c->item[c->n++], rng);
	}
}
