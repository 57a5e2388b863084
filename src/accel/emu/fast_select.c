/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Choosing a fast form for a decoded instruction (emu_fast_select), once
 * at decode (block.c, and exec.c for emu_step), and the pass over a
 * decoded block that marks the flags nothing reads (emu_fast_liveness).
 * The forms themselves and the runner that executes them are fast.c's;
 * fast_forms.h lists them.
 */
#include "accel/emu/fast_forms.h"

/* SIZES' index of a size. */
static unsigned size_index(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/*
 * Seven operand forms for each of the nine ops and four sizes; MOV has the
 * first six (rm_select).
 */
enum { A_RM_REG, A_MEM_REG, A_REG_RM, A_REG_MEM, A_RM_IMM, A_MEM_IMM, A_ACC_IMM, A_FORMS };

/* Shifts' operand forms (shift_forms' last index). */
enum { S_REG_IMM, S_REG_ONE, S_REG_CL, S_MEM_IMM, S_MEM_ONE, S_MEM_CL, S_FORMS };

/*
 * The forms' numbers by op, size and operand form: t[size_index(size)]
 * for SIZES' groups, t[size_index(size) - 1] for WIDE's.
 */
#define BY_SIZE(M, ...) { M(__VA_ARGS__, 1), M(__VA_ARGS__, 2), M(__VA_ARGS__, 4), M(__VA_ARGS__, 8) }
#define BY_WIDE(M, ...) { M(__VA_ARGS__, 2), M(__VA_ARGS__, 4), M(__VA_ARGS__, 8) }
#define ALU_IDS(nm, z) { FF_##nm##_rm_reg##z, FF_##nm##_mem_reg##z, FF_##nm##_reg_rm##z, \
			 FF_##nm##_reg_mem##z, FF_##nm##_rm_imm##z, FF_##nm##_mem_imm##z, \
			 FF_##nm##_acc_imm##z }
#define SHIFT_IDS(nm, z) { FF_##nm##_reg_imm##z, FF_shift_reg_one##z, FF_shift_reg_cl##z, \
			   FF_shift_mem_imm##z, FF_shift_mem_one##z, FF_shift_mem_cl##z }
#define MOV_IDS(nm, z) { FF_##nm##_rm_reg##z, FF_##nm##_mem_reg##z, FF_##nm##_reg_rm##z, \
			 FF_##nm##_reg_mem##z, FF_##nm##_rm_imm##z, FF_##nm##_mem_imm##z }
#define REG_MEM_IDS(nm, z) { FF_##nm##_reg##z, FF_##nm##_mem##z }
#define ONE_ID(nm, z) FF_##nm##z

/* ADD..CMP in OP_ order, then TEST. */
static const uint16_t alu_forms[9][4][A_FORMS] = {
	BY_SIZE(ALU_IDS, add), BY_SIZE(ALU_IDS, or), BY_SIZE(ALU_IDS, adc),
	BY_SIZE(ALU_IDS, sbb), BY_SIZE(ALU_IDS, and), BY_SIZE(ALU_IDS, sub),
	BY_SIZE(ALU_IDS, xor), BY_SIZE(ALU_IDS, cmp), BY_SIZE(ALU_IDS, test),
};
static const uint16_t unary_forms[4][4][2] = {    /* INC, DEC, NOT, NEG */
	BY_SIZE(REG_MEM_IDS, inc), BY_SIZE(REG_MEM_IDS, dec),
	BY_SIZE(REG_MEM_IDS, not), BY_SIZE(REG_MEM_IDS, neg),
};
static const uint16_t shift_forms[5][4][S_FORMS] = {    /* ROL, ROR, SHL, SHR, SAR */
	BY_SIZE(SHIFT_IDS, rol), BY_SIZE(SHIFT_IDS, ror), BY_SIZE(SHIFT_IDS, shl),
	BY_SIZE(SHIFT_IDS, shr), BY_SIZE(SHIFT_IDS, sar),
};
static const uint16_t imul_forms[2][3][2] = {    /* IMUL2, IMUL3 */
	BY_WIDE(REG_MEM_IDS, imul2), BY_WIDE(REG_MEM_IDS, imul3),
};
static const uint16_t mov_forms[4][A_ACC_IMM] = BY_SIZE(MOV_IDS, mov);
static const uint16_t movx_forms[5][3][2] = {    /* ZX8, ZX16, SX8, SX16, SXD */
	BY_WIDE(REG_MEM_IDS, movzx8), BY_WIDE(REG_MEM_IDS, movzx16), BY_WIDE(REG_MEM_IDS, movsx8),
	BY_WIDE(REG_MEM_IDS, movsx16), BY_WIDE(REG_MEM_IDS, movsxd),
};
static const uint16_t mov_z_imm_forms[4] = BY_SIZE(ONE_ID, mov_z_imm);
static const uint16_t lea_forms[3] = BY_WIDE(ONE_ID, lea);
static const uint16_t cmov_forms[3][2] = BY_WIDE(REG_MEM_IDS, cmov);

/* ---- choosing a handler ---- */

/* The E,G / G,E / E,imm forms of a row of alu_forms or mov_forms. */
static unsigned rm_select(const uint16_t *row, unsigned dk, unsigned sk, int reg)
{
	if (dk == OPND_E && sk == OPND_G)
		return row[reg ? A_RM_REG : A_MEM_REG];
	if (dk == OPND_G && sk == OPND_E)
		return row[reg ? A_REG_RM : A_REG_MEM];
	if (dk == OPND_E && sk == OPND_I)
		return row[reg ? A_RM_IMM : A_MEM_IMM];
	return FF_NONE;
}

static unsigned alu_select(const struct x86_insn *in, unsigned dk, unsigned sk, int reg,
			   unsigned size)
{
	const uint16_t *row = alu_forms[in->op == OP_TEST ? 8 : in->op - OP_ADD][size_index(size)];

	if (dk == OPND_A && sk == OPND_I)
		return row[A_ACC_IMM];
	return rm_select(row, dk, sk, reg);
}

static unsigned shift_select(const struct x86_insn *in, unsigned sk, int reg, unsigned size)
{
	static const int8_t row[8] = { 0, 1, -1, -1, 2, 3, 2, 4 };   /* ROL..SAR */
	int r = row[in->op - OP_ROL];
	unsigned f = sk == OPND_I ? S_REG_IMM : sk == OPND_1 ? S_REG_ONE : S_REG_CL;

	if (r < 0 || (sk != OPND_I && sk != OPND_1 && sk != OPND_CL))
		return FF_NONE;     /* RCL, RCR: the general executor's */
	return shift_forms[r][size_index(size)][reg ? f : f + S_MEM_IMM];
}

/* The forms of fast_ctrl.h: 64-bit code, 64-bit operands. */
static unsigned ctrl_select(const struct x86_insn *in, int reg)
{
	if (in->mode != 64 || in->opsize != 8)
		return FF_NONE;
	switch (in->op) {
	case OP_PUSH_Z: return FF_push_z;
	case OP_POP_Z: return FF_pop_z;
	case OP_PUSH_I: return FF_push_imm;
	case OP_CALL: return FF_call;
	case OP_RET: return FF_ret;
	case OP_JMP_IND: case OP_CALL_IND: return reg ? FF_ind_reg : FF_ind_mem;
	}
	return FF_NONE;
}

static unsigned select_form(const struct x86_insn *in)
{
	unsigned dk = F_GET_DST(in->flags), sk = F_GET_SRC(in->flags), size = osize(in);
	int reg = in->has_modrm && in->mod == 3, mem = in->has_modrm && in->mod != 3;
	unsigned wide = size_index(in->opsize) - 1, rm = !reg;   /* opsize: 2, 4 or 8 */

	if (in->lock || in->vex)
		return FF_NONE;
	/* Memory forms only in 64-bit code (flat segments); no 67 (32-bit addresses) there. */
	if (mem && in->mode != 64)
		return FF_NONE;
	switch (in->op) {
	case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB:
	case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP: case OP_TEST:
		return alu_select(in, dk, sk, reg, size);
	case OP_INC: case OP_DEC: case OP_NOT: case OP_NEG:
		if (!in->has_modrm && in->mode == 64)
			return FF_NONE;      /* 40-4F are REX there */
		return unary_forms[in->op == OP_INC ? 0 : in->op == OP_DEC ? 1 : in->op == OP_NOT ? 2 : 3]
				  [size_index(size)][in->has_modrm ? rm : 0];   /* 40-4F: registers */
	case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR:
	case OP_SHL: case OP_SHR: case OP_SAL: case OP_SAR:
		return shift_select(in, sk, reg, size);
	case OP_IMUL2:
	case OP_IMUL3:
		return imul_forms[in->op == OP_IMUL3][wide][rm];
	case OP_MOV:
		return rm_select(mov_forms[size_index(size)], dk, sk, reg);
	case OP_MOVZX:
		return movx_forms[(in->opcode & 1) ? 1 : 0][wide][rm];
	case OP_MOVSX:
		return movx_forms[(in->opcode & 1) ? 3 : 2][wide][rm];
	case OP_MOVSXD:
		return movx_forms[4][wide][rm];
	case OP_MOV_ZI:
		return mov_z_imm_forms[size_index(size)];
	case OP_LEA:
		return lea_forms[wide];
	case OP_NOP:
		return FF_nop;
	case OP_XCHG_A:   /* 90 is NOP (F3 90 PAUSE) unless REX.B makes it XCHG r8 */
		return !(in->rex & 1) && (in->opcode & 7) == 0 ? FF_nop : FF_NONE;
	case OP_SETCC:
		return reg ? FF_setcc_reg : FF_setcc_mem;
	case OP_CMOVCC:
		return cmov_forms[wide][rm];
	case OP_JMP:
	case OP_JCC:
		if (in->mode != 64 || in->opsize != 8)
			return FF_NONE;
		return in->op == OP_JMP ? FF_jmp : FF_jcc;
	}
	return ctrl_select(in, reg);
}

unsigned emu_fast_select(const struct x86_insn *in)
{
	return select_form(in);
}

/* ---- flags nothing reads ---- */

/* The flags cc's condition reads. */
static unsigned cond_flags(unsigned cc)
{
	static const uint16_t f[8] = {
		FL(OF), FL(CF), FL(ZF), FL(CF) | FL(ZF), FL(SF), FL(PF), FL(SF) | FL(OF),
		FL(ZF) | FL(SF) | FL(OF),
	};

	return f[(cc >> 1) & 7];
}

/*
 * The arithmetic flags bi's form always writes (*w), whatever the operand
 * values; the ones it reads (*r): all of them for an instruction without
 * a form, which the general executor runs; and whether anything may see
 * them around it (*x): a memory operand, the stack or a branch can miss,
 * when the general executor runs it and may fault with RFLAGS in the
 * frame, and a store can end the block after itself.
 */
static void form_flags(const struct emu_block_insn *bi, unsigned *w, unsigned *r, int *x)
{
	const struct x86_insn *in = &bi->in;
	unsigned size = osize(in), cnt, sk = F_GET_SRC(in->flags);

	*w = 0;
	*r = 0;
	*x = (in->has_modrm && in->mod != 3 && in->op != OP_LEA) || bi->form >= FF_jmp;
	if (bi->form == FF_NONE) {
		*r = EMU_FLAGS_ARITH;
		return;
	}
	switch (in->op) {
	case OP_ADC: case OP_SBB:
		*r = FL(CF);
		/* fall through */
	case OP_ADD: case OP_OR: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP:
	case OP_TEST: case OP_NEG:
		*w = EMU_FLAGS_ARITH;
		break;
	case OP_INC: case OP_DEC:
		*w = EMU_FLAGS_ARITH & ~FL(CF);
		break;
	case OP_ROL: case OP_ROR: case OP_SHL: case OP_SHR: case OP_SAL: case OP_SAR:
		if (sk != OPND_I && sk != OPND_1)
			break;      /* by CL: a count of 0 writes none */
		cnt = sk == OPND_1 ? 1 : (unsigned)in->imm & (size == 8 ? 63 : 31);
		if (cnt)
			*w = in->op == OP_ROL || in->op == OP_ROR ? FL(CF) | FL(OF) : EMU_FLAGS_ARITH;
		break;
	case OP_IMUL2: case OP_IMUL3:
		*w = FL(CF) | FL(OF);
		break;
	case OP_SETCC: case OP_CMOVCC: case OP_JCC:
		*r = cond_flags(in->opcode & 0xf);
		break;
	}
}

/* A register ADD, OR, AND, SUB, XOR, CMP or TEST: its flags can wait (nf 2). */
static int can_wait(const struct emu_block_insn *bi)
{
	unsigned op = bi->in.op;

	return bi->form != FF_NONE && !(bi->in.has_modrm && bi->in.mod != 3) &&
	       (op == OP_ADD || op == OP_OR || op == OP_AND || op == OP_SUB || op == OP_XOR ||
		op == OP_CMP || op == OP_TEST);
}

/*
 * A block runs from its first instruction to its last but where one
 * misses or stops; the block's end and whatever misses or stops see every
 * flag.  Flags written again before anything reads or can see them are
 * dead: their form need not compute them (nf 1).  A register ALU op whose
 * flags the next flag writer (a register form too) overwrites whole, with
 * nothing reading them between, keeps only its operands (nf 2), and what
 * can miss or stop between computes them from these first (mat).
 */
void emu_fast_liveness(struct emu_block_insn *insns, unsigned n)
{
	unsigned live = EMU_FLAGS_ARITH, w[n], r[n], i, k;
	int x[n];

	for (i = 0; i < n; i++) {
		form_flags(&insns[i], &w[i], &r[i], &x[i]);
		insns[i].mat = 0;
	}
	for (i = n; i--;) {
		if (x[i])
			live = EMU_FLAGS_ARITH;
		insns[i].nf = w[i] && !(w[i] & live);
		live = (live & ~w[i]) | r[i] | (x[i] ? EMU_FLAGS_ARITH : 0);
	}
	for (k = 0; k < n; k++) {
		if (insns[k].nf || !can_wait(&insns[k]))
			continue;
		for (i = k + 1; i < n && !w[i] && !r[i]; i++)
			;
		if (i == n || r[i] || x[i] || w[i] != EMU_FLAGS_ARITH)
			continue;
		insns[k].nf = 2;
		while (--i > k)
			if (x[i])
				insns[i].mat = (uint8_t)(i - k);
	}
}
