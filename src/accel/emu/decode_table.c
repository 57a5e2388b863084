/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The opcode tables: one entry per opcode (or per /reg of a group) giving the
 * mnemonic, the executor operation and the operand forms, so one opcode can
 * be audited in one place.  Encodings that only change the length but are
 * not executed map to OP_UNIMPL (or OP_X87, OP_VECTOR).
 */
#include "accel/emu/emu_int.h"

#define D(k)   F_DST(OPND_##k)
#define S(k)   F_SRC(OPND_##k)
#define IB     F_IMM(IMM_B)
#define IW     F_IMM(IMM_W)
#define IZ     F_IMM(IMM_Z)
#define M      F_MODRM
#define B      F_BYTE

#define EbGb  (M | B | D(E) | S(G))
#define EvGv  (M | D(E) | S(G))
#define GbEb  (M | B | D(G) | S(E))
#define GvEv  (M | D(G) | S(E))
#define ALIb  (B | D(A) | S(I) | IB)
#define AXIz  (D(A) | S(I) | IZ)

#define ALU_ROW(base, nm, opc) \
	[base + 0] = { nm, opc, EbGb | F_LOCK }, \
	[base + 1] = { nm, opc, EvGv | F_LOCK }, \
	[base + 2] = { nm, opc, GbEb }, \
	[base + 3] = { nm, opc, GvEv }, \
	[base + 4] = { nm, opc, ALIb }, \
	[base + 5] = { nm, opc, AXIz }

/* Group numbers (index into emu_groups). */
enum {
	GRP1, GRP1A, GRP2, GRP3, GRP4, GRP5, GRP6, GRP7, GRP8, GRP9,
	GRP11, GRP12, GRP13, GRP14, GRP15, GRP16, GRP_NOP,
};

#define UN(nm, fl) { nm, OP_UNIMPL, fl }
#define INV { "(bad)", OP_INVALID, F_INV }

const struct emu_opdesc emu_map_one[256] = {
	ALU_ROW(0x00, "add", OP_ADD),
	ALU_ROW(0x08, "or", OP_OR),
	ALU_ROW(0x10, "adc", OP_ADC),
	ALU_ROW(0x18, "sbb", OP_SBB),
	ALU_ROW(0x20, "and", OP_AND),
	ALU_ROW(0x28, "sub", OP_SUB),
	ALU_ROW(0x30, "xor", OP_XOR),
	ALU_ROW(0x38, "cmp", OP_CMP),
	[0x06] = { "push es", OP_PUSH_SEG, F_I64 },
	[0x07] = { "pop es", OP_POP_SEG, F_I64 },
	[0x0e] = { "push cs", OP_PUSH_SEG, F_I64 },
	[0x0f] = INV,     /* escape, handled by the decoder */
	[0x16] = { "push ss", OP_PUSH_SEG, F_I64 },
	[0x17] = { "pop ss", OP_POP_SEG, F_I64 },
	[0x1e] = { "push ds", OP_PUSH_SEG, F_I64 },
	[0x1f] = { "pop ds", OP_POP_SEG, F_I64 },
	[0x26] = INV, [0x2e] = INV, [0x36] = INV, [0x3e] = INV,  /* prefixes */
	[0x27] = UN("daa", F_I64), [0x2f] = UN("das", F_I64),
	[0x37] = UN("aaa", F_I64), [0x3f] = UN("aas", F_I64),
	[0x40 ... 0x47] = { "inc", OP_INC, D(Z) | F_I64 },
	[0x48 ... 0x4f] = { "dec", OP_DEC, D(Z) | F_I64 },
	[0x50 ... 0x57] = { "push", OP_PUSH_Z, D(Z) | F_D64 },
	[0x58 ... 0x5f] = { "pop", OP_POP_Z, D(Z) | F_D64 },
	[0x60] = { "pusha", OP_PUSHA, F_I64 },
	[0x61] = { "popa", OP_POPA, F_I64 },
	[0x62] = UN("bound", M | F_MEM | F_I64),
	[0x63] = UN("arpl", M | F_O16),   /* movsxd in 64-bit mode: decoder */
	[0x64] = INV, [0x65] = INV, [0x66] = INV, [0x67] = INV,
	[0x68] = { "push", OP_PUSH_I, S(I) | IZ | F_D64 },
	[0x69] = { "imul", OP_IMUL3, GvEv | IZ },
	[0x6a] = { "push", OP_PUSH_I, S(I) | IB | F_D64 | F_SIGNIMM },
	[0x6b] = { "imul", OP_IMUL3, GvEv | IB | F_SIGNIMM },
	[0x6c] = { "insb", OP_INS, B },
	[0x6d] = { "ins", OP_INS, 0 },
	[0x6e] = { "outsb", OP_OUTS, B },
	[0x6f] = { "outs", OP_OUTS, 0 },
	[0x70 ... 0x7f] = { "jcc", OP_JCC, F_IMM(IMM_RELB) | F_F64 },
	[0x80] = { "grp1", GRP1, M | B | D(E) | S(I) | IB | F_GROUP },
	[0x81] = { "grp1", GRP1, M | D(E) | S(I) | IZ | F_GROUP },
	[0x82] = { "grp1", GRP1, M | B | D(E) | S(I) | IB | F_GROUP | F_I64 },
	[0x83] = { "grp1", GRP1, M | D(E) | S(I) | IB | F_SIGNIMM | F_GROUP },
	[0x84] = { "test", OP_TEST, EbGb },
	[0x85] = { "test", OP_TEST, EvGv },
	[0x86] = { "xchg", OP_XCHG, EbGb | F_LOCK },
	[0x87] = { "xchg", OP_XCHG, EvGv | F_LOCK },
	[0x88] = { "mov", OP_MOV, EbGb },
	[0x89] = { "mov", OP_MOV, EvGv },
	[0x8a] = { "mov", OP_MOV, GbEb },
	[0x8b] = { "mov", OP_MOV, GvEv },
	[0x8c] = { "mov", OP_MOV_SEG_ST, M | D(E) },
	[0x8d] = { "lea", OP_LEA, M | F_MEM | D(G) },
	[0x8e] = { "mov", OP_MOV_SEG_LD, M | F_O16 | S(E) },
	[0x8f] = { "grp1a", GRP1A, M | D(E) | F_D64 | F_GROUP },
	[0x90] = { "nop", OP_XCHG_A, D(Z) },
	[0x91 ... 0x97] = { "xchg", OP_XCHG_A, D(Z) },
	[0x98] = { "cbw", OP_CBW, 0 },
	[0x99] = { "cwd", OP_CWD, 0 },
	[0x9a] = { "lcall", OP_CALLF, F_IMM(IMM_FAR) | F_I64 },
	[0x9b] = { "fwait", OP_FWAIT, 0 },
	[0x9c] = { "pushf", OP_PUSHF, F_D64 },
	[0x9d] = { "popf", OP_POPF, F_D64 },
	[0x9e] = { "sahf", OP_SAHF, 0 },
	[0x9f] = { "lahf", OP_LAHF, 0 },
	[0xa0] = { "mov", OP_MOV_MOFFS_LD, B | F_IMM(IMM_MOFFS) },
	[0xa1] = { "mov", OP_MOV_MOFFS_LD, F_IMM(IMM_MOFFS) },
	[0xa2] = { "mov", OP_MOV_MOFFS_ST, B | F_IMM(IMM_MOFFS) },
	[0xa3] = { "mov", OP_MOV_MOFFS_ST, F_IMM(IMM_MOFFS) },
	[0xa4] = { "movsb", OP_MOVS, B },
	[0xa5] = { "movs", OP_MOVS, 0 },
	[0xa6] = { "cmpsb", OP_CMPS, B },
	[0xa7] = { "cmps", OP_CMPS, 0 },
	[0xa8] = { "test", OP_TEST, ALIb },
	[0xa9] = { "test", OP_TEST, AXIz },
	[0xaa] = { "stosb", OP_STOS, B },
	[0xab] = { "stos", OP_STOS, 0 },
	[0xac] = { "lodsb", OP_LODS, B },
	[0xad] = { "lods", OP_LODS, 0 },
	[0xae] = { "scasb", OP_SCAS, B },
	[0xaf] = { "scas", OP_SCAS, 0 },
	[0xb0 ... 0xb7] = { "mov", OP_MOV_ZI, B | D(Z) | S(I) | IB },
	[0xb8 ... 0xbf] = { "mov", OP_MOV_ZI, D(Z) | S(I) | F_IMM(IMM_V) },
	[0xc0] = { "grp2", GRP2, M | B | D(E) | S(I) | IB | F_GROUP },
	[0xc1] = { "grp2", GRP2, M | D(E) | S(I) | IB | F_GROUP },
	[0xc2] = { "ret", OP_RET, IW | F_F64 },
	[0xc3] = { "ret", OP_RET, F_F64 },
	[0xc4] = { "les", OP_LSEG, M | F_MEM | D(G) | F_I64 },
	[0xc5] = { "lds", OP_LSEG, M | F_MEM | D(G) | F_I64 },
	[0xc6] = { "grp11", GRP11, M | B | D(E) | S(I) | IB | F_GROUP },
	[0xc7] = { "grp11", GRP11, M | D(E) | S(I) | IZ | F_GROUP },
	[0xc8] = { "enter", OP_ENTER, F_IMM(IMM_ENTER) | F_D64 },
	[0xc9] = { "leave", OP_LEAVE, F_D64 },
	[0xca] = { "lret", OP_RETF, IW },
	[0xcb] = { "lret", OP_RETF, 0 },
	[0xcc] = { "int3", OP_INT3, 0 },
	[0xcd] = { "int", OP_INT, IB },
	[0xce] = { "into", OP_INTO, F_I64 },
	[0xcf] = { "iret", OP_IRET, 0 },
	[0xd0] = { "grp2", GRP2, M | B | D(E) | S(1) | F_GROUP },
	[0xd1] = { "grp2", GRP2, M | D(E) | S(1) | F_GROUP },
	[0xd2] = { "grp2", GRP2, M | B | D(E) | S(CL) | F_GROUP },
	[0xd3] = { "grp2", GRP2, M | D(E) | S(CL) | F_GROUP },
	[0xd4] = UN("aam", IB | F_I64),
	[0xd5] = UN("aad", IB | F_I64),
	[0xd6] = { "salc", OP_SALC, F_I64 },
	[0xd7] = { "xlat", OP_XLAT, 0 },
	[0xd8 ... 0xdf] = { "x87", OP_X87, M },
	[0xe0] = { "loopne", OP_LOOPNE, F_IMM(IMM_RELB) | F_F64 },
	[0xe1] = { "loope", OP_LOOPE, F_IMM(IMM_RELB) | F_F64 },
	[0xe2] = { "loop", OP_LOOP, F_IMM(IMM_RELB) | F_F64 },
	[0xe3] = { "jcxz", OP_JCXZ, F_IMM(IMM_RELB) | F_F64 },
	[0xe4] = { "in", OP_IN, B | D(A) | S(I) | IB },
	[0xe5] = { "in", OP_IN, D(A) | S(I) | IB },
	[0xe6] = { "out", OP_OUT, B | D(I) | S(A) | IB },
	[0xe7] = { "out", OP_OUT, D(I) | S(A) | IB },
	[0xe8] = { "call", OP_CALL, F_IMM(IMM_RELZ) | F_F64 },
	[0xe9] = { "jmp", OP_JMP, F_IMM(IMM_RELZ) | F_F64 },
	[0xea] = { "ljmp", OP_JMPF, F_IMM(IMM_FAR) | F_I64 },
	[0xeb] = { "jmp", OP_JMP, F_IMM(IMM_RELB) | F_F64 },
	[0xec] = { "in", OP_IN, B | D(A) | S(DX) },
	[0xed] = { "in", OP_IN, D(A) | S(DX) },
	[0xee] = { "out", OP_OUT, B | D(DX) | S(A) },
	[0xef] = { "out", OP_OUT, D(DX) | S(A) },
	[0xf0] = INV,
	[0xf1] = { "int1", OP_INT, 0 },
	[0xf2] = INV, [0xf3] = INV,
	[0xf4] = { "hlt", OP_HLT, 0 },
	[0xf5] = { "cmc", OP_CMC, 0 },
	[0xf6] = { "grp3", GRP3, M | B | D(E) | F_IMM(IMM_GRP3) | F_GROUP },
	[0xf7] = { "grp3", GRP3, M | D(E) | F_IMM(IMM_GRP3) | F_GROUP },
	[0xf8] = { "clc", OP_CLC, 0 },
	[0xf9] = { "stc", OP_STC, 0 },
	[0xfa] = { "cli", OP_CLI, 0 },
	[0xfb] = { "sti", OP_STI, 0 },
	[0xfc] = { "cld", OP_CLD, 0 },
	[0xfd] = { "std", OP_STD, 0 },
	[0xfe] = { "grp4", GRP4, M | B | D(E) | F_GROUP },
	[0xff] = { "grp5", GRP5, M | D(E) | F_GROUP },
};

#define SSE (M | F_SSE)

const struct emu_opdesc emu_map_0f[256] = {
	[0x00] = { "grp6", GRP6, M | F_GROUP },
	[0x01] = { "grp7", GRP7, M | F_GROUP },
	[0x02] = { "lar", OP_LAR, GvEv },
	[0x03] = { "lsl", OP_LSL, GvEv },
	[0x04] = INV,
	[0x05] = { "syscall", OP_SYSCALL, 0 },
	[0x06] = { "clts", OP_CLTS, 0 },
	[0x07] = { "sysret", OP_SYSRET, 0 },
	[0x08] = { "invd", OP_INVD, 0 },
	[0x09] = { "wbinvd", OP_WBINVD, 0 },
	[0x0a] = INV,
	[0x0b] = { "ud2", OP_UD, 0 },
	[0x0c] = INV,
	[0x0d] = { "prefetch", OP_NOP, M | F_MEM },
	[0x0e] = UN("femms", 0),
	[0x0f] = UN("3dnow", M | IB),
	[0x10 ... 0x11] = { "movups", OP_SSE_MOV, SSE },
	[0x12 ... 0x17] = UN("sse", SSE),
	[0x18] = { "grp16", GRP16, M | F_GROUP },
	[0x19 ... 0x1f] = { "nop", OP_NOP, M },
	[0x20] = { "mov", OP_MOV_CR_ST, M | F_REG },
	[0x21] = { "mov", OP_MOV_DR_ST, M | F_REG },
	[0x22] = { "mov", OP_MOV_CR_LD, M | F_REG },
	[0x23] = { "mov", OP_MOV_DR_LD, M | F_REG },
	[0x24 ... 0x27] = INV,
	[0x28 ... 0x29] = { "movaps", OP_SSE_MOV, SSE },
	[0x2a ... 0x2f] = UN("sse", SSE),
	[0x30] = { "wrmsr", OP_WRMSR, 0 },
	[0x31] = { "rdtsc", OP_RDTSC, 0 },
	[0x32] = { "rdmsr", OP_RDMSR, 0 },
	[0x33] = UN("rdpmc", 0),
	[0x34] = UN("sysenter", 0),
	[0x35] = UN("sysexit", 0),
	[0x36] = INV,
	[0x37] = UN("getsec", 0),
	[0x38] = INV, [0x3a] = INV,     /* escapes */
	[0x39] = INV, [0x3b ... 0x3f] = INV,
	[0x40 ... 0x4f] = { "cmovcc", OP_CMOVCC, GvEv },
	[0x50 ... 0x6e] = UN("sse", SSE),
	[0x6f] = { "movdqa", OP_SSE_MOV, SSE },
	[0x70] = UN("pshuf", SSE | IB),
	[0x71] = { "grp12", GRP12, SSE | IB | F_GROUP },
	[0x72] = { "grp13", GRP13, SSE | IB | F_GROUP },
	[0x73] = { "grp14", GRP14, SSE | IB | F_GROUP },
	[0x74 ... 0x76] = UN("sse", SSE),
	[0x77] = UN("emms", 0),
	[0x78 ... 0x79] = UN("vmread", M),
	[0x7a ... 0x7b] = INV,
	[0x7c ... 0x7e] = UN("sse", SSE),
	[0x7f] = { "movdqa", OP_SSE_MOV, SSE },
	[0x80 ... 0x8f] = { "jcc", OP_JCC, F_IMM(IMM_RELZ) | F_F64 },
	[0x90 ... 0x9f] = { "setcc", OP_SETCC, M | B | D(E) },
	[0xa0] = { "push fs", OP_PUSH_SEG, F_D64 },
	[0xa1] = { "pop fs", OP_POP_SEG, F_D64 },
	[0xa2] = { "cpuid", OP_CPUID, 0 },
	[0xa3] = { "bt", OP_BT, EvGv },
	[0xa4] = { "shld", OP_SHLD, EvGv | IB },
	[0xa5] = { "shld", OP_SHLD, EvGv },
	[0xa6 ... 0xa7] = INV,
	[0xa8] = { "push gs", OP_PUSH_SEG, F_D64 },
	[0xa9] = { "pop gs", OP_POP_SEG, F_D64 },
	[0xaa] = UN("rsm", 0),
	[0xab] = { "bts", OP_BTS, EvGv | F_LOCK },
	[0xac] = { "shrd", OP_SHRD, EvGv | IB },
	[0xad] = { "shrd", OP_SHRD, EvGv },
	[0xae] = { "grp15", GRP15, M | F_GROUP },
	[0xaf] = { "imul", OP_IMUL2, GvEv },
	[0xb0] = { "cmpxchg", OP_CMPXCHG, EbGb | F_LOCK },
	[0xb1] = { "cmpxchg", OP_CMPXCHG, EvGv | F_LOCK },
	[0xb2] = { "lss", OP_LSEG, M | F_MEM | D(G) },
	[0xb3] = { "btr", OP_BTR, EvGv | F_LOCK },
	[0xb4] = { "lfs", OP_LSEG, M | F_MEM | D(G) },
	[0xb5] = { "lgs", OP_LSEG, M | F_MEM | D(G) },
	[0xb6] = { "movzx", OP_MOVZX, GvEv },
	[0xb7] = { "movzx", OP_MOVZX, GvEv },
	[0xb8] = { "popcnt", OP_POPCNT, GvEv },
	[0xb9] = { "ud1", OP_UD, M },
	[0xba] = { "grp8", GRP8, M | D(E) | S(I) | IB | F_GROUP },
	[0xbb] = { "btc", OP_BTC, EvGv | F_LOCK },
	[0xbc] = { "bsf", OP_BSF, GvEv },
	[0xbd] = { "bsr", OP_BSR, GvEv },
	[0xbe] = { "movsx", OP_MOVSX, GvEv },
	[0xbf] = { "movsx", OP_MOVSX, GvEv },
	[0xc0] = { "xadd", OP_XADD, EbGb | F_LOCK },
	[0xc1] = { "xadd", OP_XADD, EvGv | F_LOCK },
	[0xc2] = UN("cmpps", SSE | IB),
	[0xc3] = UN("movnti", M | F_MEM),
	[0xc4 ... 0xc6] = UN("sse", SSE | IB),
	[0xc7] = { "grp9", GRP9, M | F_GROUP },
	[0xc8 ... 0xcf] = { "bswap", OP_BSWAP, D(Z) },
	[0xd0 ... 0xee] = UN("sse", SSE),
	[0xef] = { "pxor", OP_PXOR, SSE },
	[0xf0 ... 0xfe] = UN("sse", SSE),
	[0xff] = { "ud0", OP_UD, M },
};

const struct emu_opdesc emu_map_0f38[256] = {
	[0x00 ... 0xef] = UN("0f38", M),
	[0xf0 ... 0xf1] = UN("movbe/crc32", M),
	[0xf2 ... 0xff] = UN("0f38", M),
};

const struct emu_opdesc emu_map_0f3a[256] = {
	[0x00 ... 0xff] = UN("0f3a", M | IB),
};

static const struct emu_opdesc grp7_mod3[64] = {
	[001] = UN("vmcall", 0), [002] = UN("vmlaunch", 0),
	[003] = UN("vmresume", 0), [004] = UN("vmxoff", 0),
	[010] = UN("monitor", 0), [011] = UN("mwait", 0),
	[012] = { "clac", OP_CLAC, 0 }, [013] = { "stac", OP_STAC, 0 },
	[017] = UN("encls", 0),
	[020] = { "xgetbv", OP_XGETBV, 0 }, [021] = { "xsetbv", OP_XSETBV, 0 },
	[024] = UN("vmfunc", 0), [025] = UN("xend", 0), [026] = UN("xtest", 0),
	[027] = UN("enclu", 0),
	[030 ... 037] = UN("svm", 0),
	[040 ... 047] = { "smsw", OP_SMSW, M | D(E) },
	[056] = UN("rdpkru", 0), [057] = UN("wrpkru", 0),
	[060 ... 067] = { "lmsw", OP_LMSW, M | S(E) | F_O16 },
	[070] = { "swapgs", OP_SWAPGS, 0 }, [071] = { "rdtscp", OP_RDTSCP, 0 },
	[072] = UN("monitorx", 0), [073] = UN("mwaitx", 0),
	[074] = UN("clzero", 0), [075] = UN("rdpru", 0),
};

static const struct emu_opdesc grp15_mod3[64] = {
	[000 ... 037] = UN("rdfsbase", 0),   /* F3 prefix forms */
	[050 ... 057] = { "lfence", OP_FENCE, 0 },
	[060 ... 067] = { "mfence", OP_FENCE, 0 },
	[070 ... 077] = { "sfence", OP_FENCE, 0 },
};

static const struct emu_opdesc grp9_mod3[64] = {
	[060 ... 067] = { "rdrand", OP_RDRAND, 0 },
	[070 ... 077] = { "rdseed/rdpid", OP_RDPID, 0 },
};

#define GI(nm, o, fl) { nm, o, fl }

const struct emu_group emu_groups[] = {
	[GRP1] = { {
		GI("add", OP_ADD, F_LOCK), GI("or", OP_OR, F_LOCK),
		GI("adc", OP_ADC, F_LOCK), GI("sbb", OP_SBB, F_LOCK),
		GI("and", OP_AND, F_LOCK), GI("sub", OP_SUB, F_LOCK),
		GI("xor", OP_XOR, F_LOCK), GI("cmp", OP_CMP, 0) }, NULL },
	[GRP1A] = { {
		GI("pop", OP_POP, 0), INV, INV, INV, INV, INV, INV, INV }, NULL },
	[GRP2] = { {
		GI("rol", OP_ROL, 0), GI("ror", OP_ROR, 0), GI("rcl", OP_RCL, 0),
		GI("rcr", OP_RCR, 0), GI("shl", OP_SHL, 0), GI("shr", OP_SHR, 0),
		GI("sal", OP_SAL, 0), GI("sar", OP_SAR, 0) }, NULL },
	[GRP3] = { {
		GI("test", OP_TEST, S(I)), GI("test", OP_TEST, S(I)),
		GI("not", OP_NOT, F_LOCK), GI("neg", OP_NEG, F_LOCK),
		GI("mul", OP_MUL, 0), GI("imul", OP_IMUL1, 0),
		GI("div", OP_DIV, 0), GI("idiv", OP_IDIV, 0) }, NULL },
	[GRP4] = { {
		GI("inc", OP_INC, F_LOCK), GI("dec", OP_DEC, F_LOCK),
		INV, INV, INV, INV, INV, INV }, NULL },
	[GRP5] = { {
		GI("inc", OP_INC, F_LOCK), GI("dec", OP_DEC, F_LOCK),
		GI("call", OP_CALL_IND, F_F64), GI("lcall", OP_CALLF_IND, F_MEM),
		GI("jmp", OP_JMP_IND, F_F64), GI("ljmp", OP_JMPF_IND, F_MEM),
		GI("push", OP_PUSH, F_D64), INV }, NULL },
	[GRP6] = { {
		GI("sldt", OP_SLDT, D(E)), GI("str", OP_STR, D(E)),
		GI("lldt", OP_LLDT, S(E) | F_O16), GI("ltr", OP_LTR, S(E) | F_O16),
		GI("verr", OP_VERR, S(E) | F_O16), GI("verw", OP_VERW, S(E) | F_O16),
		INV, INV }, NULL },
	[GRP7] = { {
		GI("sgdt", OP_SGDT, F_MEM), GI("sidt", OP_SIDT, F_MEM),
		GI("lgdt", OP_LGDT, F_MEM), GI("lidt", OP_LIDT, F_MEM),
		GI("smsw", OP_SMSW, D(E) | F_O16), UN("rstorssp", F_MEM),
		GI("lmsw", OP_LMSW, S(E) | F_O16), GI("invlpg", OP_INVLPG, F_MEM) },
		grp7_mod3 },
	[GRP8] = { {
		INV, INV, INV, INV, GI("bt", OP_BT, 0), GI("bts", OP_BTS, F_LOCK),
		GI("btr", OP_BTR, F_LOCK), GI("btc", OP_BTC, F_LOCK) }, NULL },
	[GRP9] = { {
		INV, GI("cmpxchg8b", OP_CMPXCHGNB, F_MEM | F_LOCK), INV,
		GI("xrstors", OP_XRSTORS, F_MEM), GI("xsavec", OP_XSAVEC, F_MEM),
		GI("xsaves", OP_XSAVES, F_MEM), UN("vmptrld", F_MEM),
		UN("vmptrst", F_MEM) }, grp9_mod3 },
	[GRP11] = { {
		GI("mov", OP_MOV, 0), INV, INV, INV, INV, INV, INV,
		UN("xbegin", 0) }, NULL },
	[GRP12] = { {
		INV, INV, UN("psrl", 0), INV, UN("psra", 0), INV, UN("psll", 0), INV }, NULL },
	[GRP13] = { {
		INV, INV, UN("psrl", 0), INV, UN("psra", 0), INV, UN("psll", 0), INV }, NULL },
	[GRP14] = { {
		INV, INV, UN("psrlq", 0), UN("psrldq", 0), INV, INV,
		UN("psllq", 0), UN("pslldq", 0) }, NULL },
	[GRP15] = { {
		GI("fxsave", OP_FXSAVE, F_MEM), GI("fxrstor", OP_FXRSTOR, F_MEM),
		GI("ldmxcsr", OP_LDMXCSR, F_MEM), GI("stmxcsr", OP_STMXCSR, F_MEM),
		GI("xsave", OP_XSAVE, F_MEM), GI("xrstor", OP_XRSTOR, F_MEM),
		GI("xsaveopt", OP_XSAVEOPT, F_MEM), GI("clflush", OP_CLFLUSH, F_MEM) },
		grp15_mod3 },
	[GRP16] = { {
		GI("prefetchnta", OP_NOP, 0), GI("prefetcht0", OP_NOP, 0),
		GI("prefetcht1", OP_NOP, 0), GI("prefetcht2", OP_NOP, 0),
		GI("nop", OP_NOP, 0), GI("nop", OP_NOP, 0),
		GI("nop", OP_NOP, 0), GI("nop", OP_NOP, 0) }, NULL },
	[GRP_NOP] = { { INV, INV, INV, INV, INV, INV, INV, INV }, NULL },
};

const unsigned emu_ngroups = sizeof(emu_groups) / sizeof(emu_groups[0]);

int emu_vex_map1_has_imm(uint8_t opcode)
{
	return (opcode >= 0x70 && opcode <= 0x73) ||
	       (opcode >= 0xc2 && opcode <= 0xc6 && opcode != 0xc3);
}
