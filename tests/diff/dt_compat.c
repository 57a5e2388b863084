/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random sequences of 32-bit code run in compatibility mode (a 32-bit
 * user code segment under long mode): no REX, INC/DEC in their one-byte
 * forms, PUSHA/POPA, 32-bit stack and string registers, the 8 legacy
 * registers (AH..BH among the byte ones).  Memory operands are absolute
 * disp32s into the data area, as in 64-bit code.
 */
#include <string.h>

#include "dt_gen.h"

#define rn dt_rn

/* A register the code may write: EAX..EDI but ESP. */
static int reg32(uint64_t *r)
{
	int g = (int)rn(r, 7);

	return g >= X86_RSP ? g + 1 : g;
}

static int size32(uint64_t *r)
{
	return 1 << rn(r, 3);
}

/* A register or memory operand; byte registers 4-7 are AH..BH here. */
static int rm32(uint64_t *r, int size)
{
	if (rn(r, 3) == 0)
		return dt_rand_mem(r, rn(r, 2) ? size : 0);
	return size == 1 ? (int)rn(r, 8) : reg32(r);
}

static void modrm(struct dt_item *it, int size, const uint8_t *op, int nop, int reg, int rm)
{
	dt_emit_modrm(it, size, 0, op, nop, reg, rm, 1);
}

static void c_alu(struct dt_item *it, uint64_t *r)
{
	int op = (int)rn(r, 8), size = size32(r), rm = rm32(r, size), form = (int)rn(r, 3);
	int reg = size == 1 ? (int)rn(r, 8) : reg32(r);
	uint8_t opc;

	it->def = DT_ARITH;
	it->undef = op == 1 || op == 4 || op == 6 ? DT_AF : 0;
	it->uses = op == 2 || op == 3 ? DT_CF : 0;
	if (form == 2) {
		int imm8 = size == 1 || rn(r, 2);

		opc = size == 1 ? 0x80 : imm8 ? 0x83 : 0x81;
		modrm(it, size, &opc, 1, op, rm);
		dt_emit_imm(it, dt_rand(r), imm8 ? 1 : size);
		return;
	}
	opc = (uint8_t)(op * 8 + (size == 1 ? 0 : 1) + (form ? 2 : 0));
	if (!form && op != 7 && rm >= DT_RM_MEM && rn(r, 2))
		dt_emit1(it, 0xf0);
	modrm(it, size, &opc, 1, reg, rm);
}

static void c_incdec(struct dt_item *it, uint64_t *r)
{
	if (rn(r, 2))
		dt_emit1(it, 0x66);
	dt_emit1(it, (uint8_t)(0x40 + 8 * rn(r, 2) + reg32(r)));
	it->def = DT_ARITH & ~DT_CF;
}

static void c_shift(struct dt_item *it, uint64_t *r)
{
	static const uint8_t digits[7] = { 0, 1, 2, 3, 4, 5, 7 };
	int d = digits[rn(r, 7)], size = size32(r), form = (int)rn(r, 3);
	uint8_t opc = (uint8_t)((form == 0 ? 0xd0 : form == 1 ? 0xd2 : 0xc0) + (size == 1 ? 0 : 1));
	unsigned count = form == 0 ? 1 : form == 2 ? rn(r, 40) : 0, masked = count & 31;
	uint16_t sets = d <= 3 ? DT_CF | DT_OF : DT_ARITH;

	modrm(it, size, &opc, 1, d, rm32(r, size));
	if (form == 2)
		dt_emit1(it, (uint8_t)count);
	it->uses = d == 2 || d == 3 ? DT_CF : 0;
	if (form == 1 || d == 2 || d == 3) {
		it->undef = sets;           /* the count unknown here, or RCL/RCR */
		return;
	}
	if (masked == 0)
		return;
	it->def = sets;
	it->undef = (uint16_t)((masked == 1 ? 0 : DT_OF) | (d > 3 ? DT_AF : 0) |
			       ((d == 4 || d == 5) && masked >= 8u * (unsigned)size ? DT_CF : 0));
}

static void c_muldiv(struct dt_item *it, uint64_t *r)
{
	int size = size32(r);
	uint8_t opc = size == 1 ? 0xf6 : 0xf7;

	if (rn(r, 2)) {                   /* MUL/IMUL, or IMUL r, r/m */
		if (size > 1 && rn(r, 2)) {
			uint8_t op[2] = { 0x0f, 0xaf };

			modrm(it, size, op, 2, reg32(r), rm32(r, size));
		} else {
			modrm(it, size, &opc, 1, 4 + (int)rn(r, 2), rm32(r, size));
		}
		it->def = DT_ARITH;
		it->undef = DT_SF | DT_ZF | DT_AF | DT_PF;
		return;
	}
	/* DIV by a nonzero ECX-free register with EDX cleared: never #DE. */
	{
		int d = X86_RBX + (int)rn(r, 2) * 3;     /* EBX or ESI */
		uint8_t xor = 0x31;

		size = size == 1 ? 4 : size;
		opc = 0xf7;
		dt_emit1(it, (uint8_t)(0xb8 + d));
		dt_emit_imm(it, (dt_rand(r) | 1) & 0xffff, 4);
		modrm(it, 4, &xor, 1, X86_RDX, X86_RDX);
		modrm(it, size, &opc, 1, 6, d);
		it->def = DT_ARITH;
		it->undef = DT_ARITH;
	}
}

static void c_bits(struct dt_item *it, uint64_t *r)
{
	int size = 2 << rn(r, 2), k = (int)rn(r, 3);
	uint8_t op[2] = { 0x0f, 0 };

	if (k == 0) {                     /* BT/BTS/BTR/BTC r, r */
		op[1] = (uint8_t)(0xa3 + 8 * rn(r, 4));
		modrm(it, size, op, 2, reg32(r), reg32(r));
		it->def = DT_ARITH;
		it->undef = DT_OF | DT_SF | DT_ZF | DT_AF | DT_PF;
	} else if (k == 1) {              /* BSF/BSR */
		op[1] = (uint8_t)(0xbc + rn(r, 2));
		modrm(it, size, op, 2, reg32(r), rm32(r, size));
		it->def = DT_ARITH;
		it->undef = DT_CF | DT_OF | DT_SF | DT_AF | DT_PF;
	} else {                          /* CMOVcc, SETcc */
		unsigned cc = rn(r, 16);

		it->uses = dt_cc_uses(cc);
		if (rn(r, 2)) {
			op[1] = (uint8_t)(0x40 + cc);
			modrm(it, size, op, 2, reg32(r), rm32(r, size));
		} else {
			op[1] = (uint8_t)(0x90 + cc);
			modrm(it, 1, op, 2, 0, rm32(r, 1));
		}
	}
}

static void c_mov(struct dt_item *it, uint64_t *r)
{
	int size = size32(r);
	uint8_t op[2] = { 0x0f, 0 };

	switch (rn(r, 5)) {
	case 0:
		op[0] = (uint8_t)(0x88 + (size == 1 ? 0 : 1) + 2 * rn(r, 2));
		modrm(it, size, op, 1, size == 1 ? (int)rn(r, 8) : reg32(r), rm32(r, size));
		break;
	case 1:
		dt_emit1(it, (uint8_t)(0xb8 + reg32(r)));
		dt_emit_imm(it, dt_rand(r), 4);
		break;
	case 2:                           /* MOVZX/MOVSX */
		op[1] = (uint8_t)(0xb6 + 8 * rn(r, 2) + rn(r, 2));
		modrm(it, 2 << rn(r, 2), op, 2, reg32(r), rm32(r, op[1] & 1 ? 2 : 1));
		break;
	case 3: {                         /* XCHG, XADD, CMPXCHG */
		int k = (int)rn(r, 3), rm = rm32(r, size);
		int reg = size == 1 ? (int)rn(r, 8) : reg32(r);

		if (k == 0) {
			op[0] = (uint8_t)(0x86 + (size == 1 ? 0 : 1));
			modrm(it, size, op, 1, reg, rm);
			break;
		}
		if (rm >= DT_RM_MEM && rn(r, 2))
			dt_emit1(it, 0xf0);
		op[1] = (uint8_t)((k == 1 ? 0xc0 : 0xb0) + (size == 1 ? 0 : 1));
		modrm(it, size, op, 2, reg, rm);
		it->def = DT_ARITH;
		break;
	}
	default:                          /* LEA [base + index * scale + disp32] */
		if (rn(r, 2))
			dt_emit1(it, 0x66);
		dt_emit1(it, 0x8d);
		dt_emit1(it, (uint8_t)(0x84 | reg32(r) << 3));
		dt_emit1(it, (uint8_t)(rn(r, 4) << 6 | reg32(r) << 3 | rn(r, 8)));
		dt_emit_imm(it, dt_rand(r), 4);
	}
}

static void c_stack(struct dt_item *it, uint64_t *r)
{
	switch (rn(r, 4)) {
	case 0:                           /* PUSH r; POP r' */
		dt_emit1(it, (uint8_t)(0x50 + rn(r, 8)));
		dt_emit1(it, (uint8_t)(0x58 + reg32(r)));
		break;
	case 1:                           /* PUSHA; POPA (POPA skips ESP) */
		dt_emit1(it, 0x60);
		if (rn(r, 2))
			dt_emit1(it, (uint8_t)(0xb8 + reg32(r)));
		else
			dt_emit1(it, 0x90);
		if (it->b[1] != 0x90)
			dt_emit_imm(it, dt_rand(r), 4);
		dt_emit1(it, 0x61);
		break;
	case 2:                           /* PUSHFD; POP r */
		dt_emit1(it, 0x9c);
		dt_emit1(it, (uint8_t)(0x58 + reg32(r)));
		it->uses = DT_ARITH;
		break;
	default:                          /* PUSH imm32; POPFD (no TF) */
		dt_emit_set_flags(it, (uint32_t)dt_rand(r) & (DT_ARITH | 0x400));
		it->def = DT_ARITH;
	}
}

/* MOV ESI/EDI/ECX; [REP] string op. */
static void c_string(struct dt_item *it, uint64_t *r)
{
	static const uint8_t ops[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	int size = size32(r), op = ops[rn(r, 5)], rep = (int)rn(r, 3);
	unsigned count = rn(r, 40);

	dt_emit1(it, 0xbe);
	dt_emit_imm(it, DT_DATA_BASE + 0x800 + rn(r, 0x1000), 4);
	dt_emit1(it, 0xbf);
	dt_emit_imm(it, DT_DATA_BASE + 0x800 + rn(r, 0x1000), 4);
	dt_emit1(it, 0xb9);
	dt_emit_imm(it, count, 4);
	if (rep)
		dt_emit1(it, rep == 1 ? 0xf3 : 0xf2);
	if (size == 2)
		dt_emit1(it, 0x66);
	dt_emit1(it, (uint8_t)(op + (size == 1 ? 0 : 1)));
	if ((op == 0xa6 || op == 0xae) && (!rep || count))
		it->def = DT_ARITH;
}

/*
 * DAS, the one BCD adjustment this host runs natively in compatibility
 * mode: kvm_pvm raises #UD for DAA, AAA and AAS there, and AAM and AAD go
 * through its instruction emulator, which takes SF, ZF and PF from all of
 * EAX instead of AL.
 */
static void c_das(struct dt_item *it, uint64_t *r)
{
	(void)r;
	dt_emit1(it, 0x2f);
	it->def = DT_ARITH;
	it->undef = DT_OF;
	it->uses = DT_CF | DT_AF;
}

typedef void (*gen_fn)(struct dt_item *, uint64_t *);

static const gen_fn gens[] = {
	c_alu, c_alu, c_alu, c_incdec, c_shift, c_shift, c_muldiv, c_bits, c_bits, c_mov, c_mov,
	c_stack, c_string, c_das,
};

void dt_gen_compat(struct dt_case *c, uint64_t *rng, int max_items)
{
	int n;

	dt_gen_random(c, rng, 1);
	c->in.compat = 1;
	c->in.gpr[X86_RSP] = DT_STACK_BASE + DT_STACK_SIZE / 2;
	n = 1 + (int)rn(rng, (unsigned)max_items);
	c->n = 0;
	for (int i = 0; i < n; i++) {
		struct dt_item *it = &c->item[c->n++];

		dt_item_init(it);
		gens[rn(rng, sizeof(gens) / sizeof(gens[0]))](it, rng);
		if (dt_case_reads_undefined(c)) {
			struct dt_item old = *it;

			dt_item_init(it);
			dt_emit_set_flags(it, (uint32_t)dt_rand(rng) & (DT_ARITH | 0x400));
			dt_emit(it, old.b, old.len);
			it->def = DT_ARITH;
			it->undef = old.undef;
		}
	}
}
