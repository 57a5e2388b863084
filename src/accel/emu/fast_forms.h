/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_EMU_FAST_FORMS_H
#define VMON_ACCEL_EMU_FAST_FORMS_H

/*
 * The list of every fast form, what both of its users see: the block
 * runner (fast.c), whose labels they are, and the selection
 * (fast_select.c), which picks one per decoded instruction by its number
 * (FF_*).  Each entry is X(name, body): body is the form's code, a call
 * of a form function in fast.c or fast_ctrl.h, and means something only
 * inside the runner, where c, bi, in and NEXT_RIP are defined.
 */
#include "accel/emu/fast_int.h"

/*
 * Each form exists for each operand size (1, 2, 4, 8 bytes), so that the
 * widths, masks and sign bits are constants in it.
 */
#define SIZES(X, M, ...) M(X, __VA_ARGS__, 1) WIDE(X, M, __VA_ARGS__)
#define WIDE(X, M, ...) M(X, __VA_ARGS__, 2) M(X, __VA_ARGS__, 4) M(X, __VA_ARGS__, 8)

/* ALU ops: ADD..CMP and TEST, seven operand forms each. */
#define ALU_OP_SIZE(X, nm, op, z) \
	X(nm##_rm_reg##z, alu_form(c, in, NEXT_RIP, K_RM, K_REG, op, z, bi->nf)) \
	X(nm##_mem_reg##z, alu_form(c, in, NEXT_RIP, K_MEM, K_REG, op, z, bi->nf)) \
	X(nm##_reg_rm##z, alu_form(c, in, NEXT_RIP, K_REG, K_RM, op, z, bi->nf)) \
	X(nm##_reg_mem##z, alu_form(c, in, NEXT_RIP, K_REG, K_MEM, op, z, bi->nf)) \
	X(nm##_rm_imm##z, alu_form(c, in, NEXT_RIP, K_RM, K_IMM, op, z, bi->nf)) \
	X(nm##_mem_imm##z, alu_form(c, in, NEXT_RIP, K_MEM, K_IMM, op, z, bi->nf)) \
	X(nm##_acc_imm##z, alu_form(c, in, NEXT_RIP, K_ACC, K_IMM, op, z, bi->nf))
#define ALU_OP(X, nm, op) SIZES(X, ALU_OP_SIZE, nm, op)
#define ALU_FORMS(X) \
	ALU_OP(X, add, OP_ADD) ALU_OP(X, or, OP_OR) ALU_OP(X, adc, OP_ADC) \
	ALU_OP(X, sbb, OP_SBB) ALU_OP(X, and, OP_AND) ALU_OP(X, sub, OP_SUB) \
	ALU_OP(X, xor, OP_XOR) ALU_OP(X, cmp, OP_CMP) ALU_OP(X, test, OP_TEST)

/* INC, DEC, NOT, NEG on a register or memory. */
#define UNARY_SIZE(X, nm, op, z) \
	X(nm##_reg##z, unary_form(c, in, NEXT_RIP, K_RM, op, z, bi->nf)) \
	X(nm##_mem##z, unary_form(c, in, NEXT_RIP, K_MEM, op, z, bi->nf))
#define UNARY_FORMS(X) \
	SIZES(X, UNARY_SIZE, inc, OP_INC) SIZES(X, UNARY_SIZE, dec, OP_DEC) \
	SIZES(X, UNARY_SIZE, not, OP_NOT) SIZES(X, UNARY_SIZE, neg, OP_NEG)

/*
 * Shifts by an immediate: a form for each op and size; by 1 and CL, and in
 * memory (rarer), the op is looked at when they run.
 */
#define SHIFT_IMM_SIZE(X, nm, op, z) X(nm##_reg_imm##z, shift_form(c, in, NEXT_RIP, K_RM, K_IMM, op, z, bi->nf))
#define SHIFT_SIZE(X, nm, z) \
	X(nm##_reg_one##z, shift_form(c, in, NEXT_RIP, K_RM, K_ONE, in->op, z, bi->nf)) \
	X(nm##_reg_cl##z, shift_form(c, in, NEXT_RIP, K_RM, K_CL, in->op, z, bi->nf)) \
	X(nm##_mem_imm##z, shift_form(c, in, NEXT_RIP, K_MEM, K_IMM, in->op, z, bi->nf)) \
	X(nm##_mem_one##z, shift_form(c, in, NEXT_RIP, K_MEM, K_ONE, in->op, z, bi->nf)) \
	X(nm##_mem_cl##z, shift_form(c, in, NEXT_RIP, K_MEM, K_CL, in->op, z, bi->nf))
#define SHIFT_FORMS(X) \
	SIZES(X, SHIFT_IMM_SIZE, rol, OP_ROL) SIZES(X, SHIFT_IMM_SIZE, ror, OP_ROR) \
	SIZES(X, SHIFT_IMM_SIZE, shl, OP_SHL) SIZES(X, SHIFT_IMM_SIZE, shr, OP_SHR) \
	SIZES(X, SHIFT_IMM_SIZE, sar, OP_SAR) SIZES(X, SHIFT_SIZE, shift)

/* IMUL r, r/m and IMUL r, r/m, imm. */
#define IMUL_SIZE(X, nm, op, z) \
	X(nm##_reg##z, imul_form(c, in, NEXT_RIP, K_RM, op, z, bi->nf)) \
	X(nm##_mem##z, imul_form(c, in, NEXT_RIP, K_MEM, op, z, bi->nf))
#define IMUL_FORMS(X) WIDE(X, IMUL_SIZE, imul2, OP_IMUL2) WIDE(X, IMUL_SIZE, imul3, OP_IMUL3)

/* The MOV family, one handler per kind, operand form and width. */
enum { MV_MOV, MV_ZX8, MV_ZX16, MV_SX8, MV_SX16, MV_SXD };

#define MOV_SIZE(X, nm, k, z) \
	X(nm##_rm_reg##z, mov_form(c, in, NEXT_RIP, K_RM, K_REG, k, z)) \
	X(nm##_mem_reg##z, mov_form(c, in, NEXT_RIP, K_MEM, K_REG, k, z)) \
	X(nm##_reg_rm##z, mov_form(c, in, NEXT_RIP, K_REG, K_RM, k, z)) \
	X(nm##_reg_mem##z, mov_form(c, in, NEXT_RIP, K_REG, K_MEM, k, z)) \
	X(nm##_rm_imm##z, mov_form(c, in, NEXT_RIP, K_RM, K_IMM, k, z)) \
	X(nm##_mem_imm##z, mov_form(c, in, NEXT_RIP, K_MEM, K_IMM, k, z))
#define MOVX_SIZE(X, nm, k, z) \
	X(nm##_reg##z, mov_form(c, in, NEXT_RIP, K_REG, K_RM, k, z)) \
	X(nm##_mem##z, mov_form(c, in, NEXT_RIP, K_REG, K_MEM, k, z))
#define MOV_FORMS(X) \
	SIZES(X, MOV_SIZE, mov, MV_MOV) \
	WIDE(X, MOVX_SIZE, movzx8, MV_ZX8) WIDE(X, MOVX_SIZE, movzx16, MV_ZX16) \
	WIDE(X, MOVX_SIZE, movsx8, MV_SX8) WIDE(X, MOVX_SIZE, movsx16, MV_SX16) \
	WIDE(X, MOVX_SIZE, movsxd, MV_SXD)

#define MOVZI_SIZE(X, nm, z) X(nm##z, mov_z_imm(c, in, z))
#define LEA_SIZE(X, nm, z) X(nm##z, lea(c, in, NEXT_RIP, z))

#define SETCC_FORMS(X) \
	X(setcc_reg, setcc_form(c, in, NEXT_RIP, K_RM)) \
	X(setcc_mem, setcc_form(c, in, NEXT_RIP, K_MEM))

#define CMOV_SIZE(X, nm, z) \
	X(nm##_reg##z, cmov_form(c, in, NEXT_RIP, K_RM, z)) \
	X(nm##_mem##z, cmov_form(c, in, NEXT_RIP, K_MEM, z))
#define CMOV_FORMS(X) WIDE(X, CMOV_SIZE, cmov)

/* The stack and near control transfers of fast_ctrl.h (64-bit code, 64-bit operands). */
#define CTRL_FORMS(X) \
	X(push_z, push_form(c, in, 0)) X(push_imm, push_form(c, in, 1)) X(pop_z, pop_form(c, in)) \
	X(call, call_form(c, in, NEXT_RIP)) X(ret, ret_form(c, in)) \
	X(ind_reg, ind_form(c, in, NEXT_RIP, K_RM)) X(ind_mem, ind_form(c, in, NEXT_RIP, K_MEM))

#define FAST_FORMS(X) \
	ALU_FORMS(X) UNARY_FORMS(X) SHIFT_FORMS(X) IMUL_FORMS(X) MOV_FORMS(X) \
	SETCC_FORMS(X) CMOV_FORMS(X) \
	SIZES(X, MOVZI_SIZE, mov_z_imm) WIDE(X, LEA_SIZE, lea) X(nop, 0) \
	X(jmp, jcc_form(c, in, NEXT_RIP, 0)) X(jcc, jcc_form(c, in, NEXT_RIP, 1)) CTRL_FORMS(X)
/* The stack and branch forms, last in FAST_FORMS: FF_jmp and on. */

/* Each form's number, kept with its decoded instruction; FF_NONE: the general executor's. */
#define X_ID(name, body) FF_##name,
enum { FF_NONE, FAST_FORMS(X_ID) FF_COUNT };

#endif
