/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_DIFF_DT_CASE_H
#define VMON_TESTS_DIFF_DT_CASE_H

#include <stdint.h>

#include "dt_vm.h"

/*
 * A test case: an initial state and a list of items, each one or a few
 * instructions that the reducer keeps or drops as a whole (a string op
 * with the MOVs that aim it, a Jcc with what it jumps over).
 */
#define DT_ITEM_BYTES 48
#define DT_MAX_ITEMS  1024

/* The arithmetic flags. */
#define DT_CF 0x001u
#define DT_PF 0x004u
#define DT_AF 0x010u
#define DT_ZF 0x040u
#define DT_SF 0x080u
#define DT_OF 0x800u
#define DT_ARITH (DT_CF | DT_PF | DT_AF | DT_ZF | DT_SF | DT_OF)

struct dt_item {
	uint8_t len;
	uint8_t b[DT_ITEM_BYTES];
	/* Flags the item leaves defined, those the SDM leaves undefined, and
	 * those it reads. */
	uint16_t def, undef, uses;
	/* A PUSHF image stored in the data area: its offset (-1: none) and the
	 * flags undefined in it. */
	int16_t slot;
	uint16_t slot_undef;
	int32_t block;       /* the exhaustive generator's case number, or -1 */
};

struct dt_case {
	struct dt_input in;
	struct dt_item item[DT_MAX_ITEMS];
	int n;
};

/* in.code from the items; -1 when they do not fit. */
int dt_case_assemble(struct dt_case *c);

/*
 * Whether an item reads a flag that an earlier one left undefined: such
 * a case tests nothing the SDM defines (the generators never make one;
 * the reducer must not either).
 */
int dt_case_reads_undefined(const struct dt_case *c);
/* The flags condition code cc (0-15) reads. */
uint16_t dt_cc_uses(unsigned cc);

/* An item builder: bytes are appended, flag effects set by the caller. */
void dt_item_init(struct dt_item *it);
void dt_emit(struct dt_item *it, const uint8_t *b, int n);
void dt_emit1(struct dt_item *it, uint8_t b);
void dt_emit_imm(struct dt_item *it, uint64_t v, int bytes);

/*
 * One instruction with a ModRM operand.  size: operand size in bytes
 * (1, 2, 4, 8; 2 adds 66, 8 adds REX.W).  pfx: a mandatory prefix (66, F2,
 * F3) or 0; 0x66 there is also the 16-bit marker for size 2.  op: opcode
 * bytes (0F maps included).  reg: the ModRM reg field (register or /digit).
 * rm: a register 0-15, or DT_RM_MEM + offset into the data area.
 * legacy8: byte registers 4-7 mean AH, CH, DH, BH (no REX allowed).
 */
#define DT_RM_MEM 0x10000
void dt_emit_modrm(struct dt_item *it, int size, uint8_t pfx, const uint8_t *op, int nop,
		   int reg, int rm, int legacy8);

/* MOV reg, imm64 (or the shorter MOV r32, imm32 when it zero-extends). */
void dt_emit_mov_imm(struct dt_item *it, int reg, uint64_t v);
/* PUSH imm32 (sign-extended); POPFQ: sets the arithmetic flags and DF. */
void dt_emit_set_flags(struct dt_item *it, uint32_t flags);
/* PUSHFQ; POP qword [data + off]; the stack copy zeroed. */
void dt_emit_store_flags(struct dt_item *it, int off);

#endif
