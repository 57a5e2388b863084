/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random items beyond plain data processing: near CALL/RET, LOOP, JRCXZ,
 * ENTER/LEAVE, FS/GS-relative memory (the machine gives FS and GS bases),
 * bit-string BT* on memory with a register offset, XLAT, CMPXCHG8B/16B,
 * MOVNTI, fences and hint NOPs, and SSE stores, non-temporal moves,
 * MASKMOVDQU, LDDQU, PCMPxSTRx, STMXCSR.
 */
#include "dt_gen.h"

#define rn dt_rn
#define N(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

static int gpr(uint64_t *r)
{
	int g = (int)rn(r, 15);

	return g >= X86_RSP ? g + 1 : g;
}

/* A register other than RSP and the ones in avoid (a bit mask). */
static int gpr_but(uint64_t *r, unsigned avoid)
{
	int g;

	do
		g = gpr(r);
	while (avoid >> g & 1);
	return g;
}

/* ADD r, imm8 on a register not in avoid: a body that cannot loop forever. */
static void body(struct dt_item *it, uint64_t *r, unsigned avoid)
{
	int g = gpr_but(r, avoid);

	dt_emit1(it, (uint8_t)(0x48 | (g & 8 ? 1 : 0)));
	dt_emit1(it, 0x83);
	dt_emit1(it, (uint8_t)(0xc0 | (g & 7)));
	dt_emit1(it, (uint8_t)dt_rand(r));
	it->def = DT_ARITH;
}

static void g_ctrl(struct dt_item *it, uint64_t *r)
{
	switch (rn(r, 5)) {
	case 0:                       /* CALL over a JMP into a body ending in RET */
		dt_emit(it, (const uint8_t[]){ 0xe8, 2, 0, 0, 0, 0xeb, 5 }, 7);
		body(it, r, 0);
		dt_emit1(it, rn(r, 2) ? 0xc3 : 0xc2);
		if (it->b[it->len - 1] == 0xc2) {      /* RET imm16: pops more */
			dt_emit_imm(it, 8 * rn(r, 3), 2);
			it->b[6] = 7;
		}
		break;
	case 1:                       /* MOV ECX, n; body; LOOP back */
		dt_emit_mov_imm(it, X86_RCX, 1 + rn(r, 5));
		body(it, r, 1u << X86_RCX);
		/* LOOPNE/LOOPE/LOOP: the body's ADD sets the ZF they read. */
		dt_emit(it, (const uint8_t[]){ (uint8_t)(0xe0 + rn(r, 3)), (uint8_t)-6 }, 2);
		break;
	case 2:                       /* JRCXZ/JECXZ over a body */
		if (rn(r, 2))
			dt_emit1(it, 0x67);
		dt_emit(it, (const uint8_t[]){ 0xe3, 4 }, 2);
		body(it, r, 0);
		it->def = 0;              /* the body may not run: flags as they were */
		break;
	case 3:                       /* ENTER n, 0/1; LEAVE */
		dt_emit1(it, 0xc8);
		dt_emit_imm(it, 8 * rn(r, 8), 2);
		dt_emit1(it, (uint8_t)rn(r, 3));
		dt_emit1(it, 0xc9);
		break;
	default:                      /* CALL next; POP r: the return address */
		dt_emit(it, (const uint8_t[]){ 0xe8, 0, 0, 0, 0 }, 5);
		{
			int g = gpr(r);

			if (g & 8)
				dt_emit1(it, 0x41);
			dt_emit1(it, (uint8_t)(0x58 + (g & 7)));
		}
	}
}

/* An ALU op or MOV on FS: or GS: memory (dt_vm.h gives their bases). */
static void g_seg(struct dt_item *it, uint64_t *r)
{
	int fs = (int)rn(r, 2), size = 1 << rn(r, 4), off = dt_rand_mem(r, 0) - DT_RM_MEM;
	uint8_t opc = (uint8_t)((rn(r, 2) ? 0x88 : 0x00 + 8 * rn(r, 8)) + (size == 1 ? 0 : 1) +
				2 * rn(r, 2));
	uint64_t disp = (fs ? DT_DATA_BASE - DT_FS_BASE : DT_DATA_BASE - DT_GS_BASE) + (uint64_t)off;
	int reg = gpr(r);

	dt_emit1(it, fs ? 0x64 : 0x65);
	if (size == 2)
		dt_emit1(it, 0x66);
	dt_emit1(it, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (reg & 8 ? 4 : 0)));
	dt_emit1(it, opc);
	dt_emit1(it, (uint8_t)(((reg & 7) << 3) | 4));
	dt_emit1(it, 0x25);
	dt_emit_imm(it, disp, 4);
	if ((opc & 0xfc) != 0x88)
		it->def = DT_ARITH;
	if ((opc & 0xfc) == 0x10 || (opc & 0xfc) == 0x18)
		it->uses = DT_CF;
	if ((opc & 0xfc) == 0x08 || (opc & 0xfc) == 0x20 || (opc & 0xfc) == 0x30)
		it->undef = DT_AF;
}

static void g_memodd(struct dt_item *it, uint64_t *r)
{
	int g = gpr_but(r, 1u << X86_RBX | 1u << X86_RAX | 1u << X86_RDX | 1u << X86_RCX);

	switch (rn(r, 5)) {
	case 0: {                     /* BT* [data + 2K], r with r in -2K*8..6K*8 bits */
		uint8_t op[2] = { 0x0f, (uint8_t)(0xa3 + 8 * rn(r, 4)) };
		int size = 2 << rn(r, 3);
		int64_t bit = (int64_t)rn(r, 8 * 0x1000) - 8 * 0x400;

		/* The offset is signed at the operand size. */
		dt_emit_mov_imm(it, g, (uint64_t)bit & (size == 2 ? 0xffff : size == 4 ?
							   0xffffffffULL : ~0ULL));
		if (op[1] != 0xa3 && rn(r, 2))
			dt_emit1(it, 0xf0);
		dt_emit_modrm(it, size, 0, op, 2, g, DT_RM_MEM + 0x800, 0);
		it->def = DT_ARITH;
		it->undef = DT_OF | DT_SF | DT_ZF | DT_AF | DT_PF;
		break;
	}
	case 1:                       /* MOV RBX, data; XLAT */
		dt_emit_mov_imm(it, X86_RBX, DT_DATA_BASE + rn(r, DT_DATA_SIZE - 256));
		dt_emit1(it, 0xd7);
		break;
	case 2: {                     /* [LOCK] CMPXCHG8B/16B on an aligned operand */
		uint8_t op[2] = { 0x0f, 0xc7 };
		int w = (int)rn(r, 2);

		if (rn(r, 2))
			dt_emit1(it, 0xf0);
		dt_emit_modrm(it, w ? 8 : 4, 0, op, 2, 1, dt_rand_mem(r, 16), 0);
		it->def = DT_ZF;
		break;
	}
	case 3: {                     /* MOVNTI, fences, PAUSE, hint NOPs, CLFLUSH */
		static const uint8_t misc[][5] = {
			{ 3, 0x0f, 0xae, 0xe8 }, { 3, 0x0f, 0xae, 0xf0 }, { 3, 0x0f, 0xae, 0xf8 },
			{ 2, 0xf3, 0x90 }, { 4, 0x66, 0x0f, 0x1f, 0xc0 },
		};
		unsigned k = rn(r, N(misc) + 2);

		if (k < N(misc)) {
			dt_emit(it, misc[k] + 1, misc[k][0]);
		} else if (k == N(misc)) {
			uint8_t op[2] = { 0x0f, 0xc3 };

			dt_emit_modrm(it, rn(r, 2) ? 8 : 4, 0, op, 2, gpr(r), dt_rand_mem(r, 8), 0);
		} else {
			uint8_t op[2] = { 0x0f, rn(r, 2) ? 0xae : 0x18 };

			dt_emit_modrm(it, 4, 0, op, 2, op[1] == 0xae ? 7 : (int)rn(r, 4),
				      dt_rand_mem(r, 0), 0);
		}
		break;
	}
	default: {                    /* PUSH/POP memory */
		uint8_t push = 0xff, pop = 0x8f;

		dt_emit_modrm(it, 4, 0, &push, 1, 6, dt_rand_mem(r, 8), 0);
		dt_emit_modrm(it, 4, 0, &pop, 1, 0, dt_rand_mem(r, 0), 0);
	}
	}
}

static void g_sse_store(struct dt_item *it, uint64_t *r)
{
	static const struct { uint8_t pfx, op, align; } st[] = {
		{ 0x66, 0x7f, 16 }, { 0xf3, 0x7f, 0 }, { 0x66, 0xd6, 0 }, { 0, 0x11, 0 },
		{ 0x66, 0x11, 0 }, { 0xf3, 0x11, 0 }, { 0xf2, 0x11, 0 }, { 0, 0x13, 0 },
		{ 0, 0x17, 0 }, { 0, 0x29, 16 }, { 0x66, 0x29, 16 }, { 0, 0x2b, 16 },
		{ 0x66, 0xe7, 16 }, { 0xf2, 0xf0, 0 },
	};
	int x = (int)rn(r, DT_NR_XMM);
	unsigned k = rn(r, N(st) + 4);
	uint8_t op[3] = { 0x0f, 0, 0 };

	if (k < N(st)) {
		op[1] = st[k].op;
		dt_emit_modrm(it, 4, st[k].pfx, op, 2, x, dt_rand_mem(r, st[k].align), 0);
		return;
	}
	switch (k - N(st)) {
	case 0:                        /* MOVNTDQA load */
		op[1] = 0x38;
		op[2] = 0x2a;
		dt_emit_modrm(it, 4, 0x66, op, 3, x, dt_rand_mem(r, 16), 0);
		break;
	case 1:                        /* MASKMOVDQU to [RDI] */
		dt_emit_mov_imm(it, X86_RDI, DT_DATA_BASE + rn(r, DT_DATA_SIZE - 16));
		op[1] = 0xf7;
		dt_emit_modrm(it, 4, 0x66, op, 2, x, (int)rn(r, DT_NR_XMM), 0);
		break;
	case 2:                        /* PCMPESTRI/ESTRM/ISTRI/ISTRM */
		op[1] = 0x3a;
		op[2] = (uint8_t)(0x60 + rn(r, 4));
		if (op[2] < 0x62) {        /* explicit lengths in EAX, EDX */
			dt_emit_mov_imm(it, X86_RAX, (uint64_t)(int64_t)((int)rn(r, 40) - 20));
			dt_emit_mov_imm(it, X86_RDX, (uint64_t)(int64_t)((int)rn(r, 40) - 20));
		}
		dt_emit_modrm(it, 4, 0x66, op, 3, x, rn(r, 3) ? (int)rn(r, DT_NR_XMM) :
			      dt_rand_mem(r, 16), 0);
		dt_emit1(it, (uint8_t)dt_rand(r));
		it->def = DT_ARITH;
		break;
	default: {                     /* STMXCSR */
		uint8_t ae[2] = { 0x0f, 0xae };

		dt_emit_modrm(it, 4, 0, ae, 2, 3, dt_rand_mem(r, 4), 0);
	}
	}
}

void dt_gen_more(struct dt_item *it, uint64_t *r)
{
	switch (rn(r, 4)) {
	case 0:
		g_ctrl(it, r);
		break;
	case 1:
		g_seg(it, r);
		break;
	case 2:
		g_memodd(it, r);
		break;
	default:
		g_sse_store(it, r);
	}
}
