/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_EMU_EMU_INT_H
#define VMON_ACCEL_EMU_EMU_INT_H

/* Inside the software CPU: shared by decode*.c, mmu.c, except.c, exec*.c. */

#include <string.h>

#include "accel/emu/emu.h"

/* ---- opcode table (decode_table.c) ---- */

/* Operand kinds, one nibble each for the first and second operand. */
enum emu_opnd {
	OPND_NONE, OPND_E, OPND_G, OPND_I, OPND_A, OPND_Z, OPND_1, OPND_CL,
	OPND_M, OPND_DX,
};

/* Immediate kinds. */
enum emu_imm {
	IMM_NONE, IMM_B, IMM_W, IMM_Z, IMM_V, IMM_MOFFS, IMM_FAR, IMM_ENTER,
	IMM_RELB, IMM_RELZ, IMM_GRP3,   /* F6/F7: ib/iz only for /0 and /1 */
};

#define F_MODRM   (1u << 0)
#define F_BYTE    (1u << 1)   /* 8-bit operands */
#define F_D64     (1u << 2)   /* 64-bit operand size by default in long mode */
#define F_F64     (1u << 3)   /* always 64-bit in long mode (near branches) */
#define F_I64     (1u << 4)   /* #UD in 64-bit mode */
#define F_LOCK    (1u << 5)   /* LOCK allowed when the destination is memory */
#define F_GROUP   (1u << 6)   /* op is a group number: entry chosen by ModRM.reg */
#define F_INV     (1u << 7)   /* #UD */
#define F_MEM     (1u << 8)   /* ModRM must name memory */
#define F_REG     (1u << 9)   /* ModRM must name a register */
#define F_SIGNIMM (1u << 10)  /* imm8 sign-extended to operand size */
#define F_SSE     (1u << 11)  /* SSE form: 66/F2/F3 select the instruction */
#define F_O16     (1u << 12)  /* operand size fixed at 16 bits */
#define F_IMM_SHIFT 16        /* enum emu_imm */
#define F_IMM(k)  ((uint32_t)(k) << F_IMM_SHIFT)
#define F_DST_SHIFT 20
#define F_SRC_SHIFT 24
#define F_DST(k)  ((uint32_t)(k) << F_DST_SHIFT)
#define F_SRC(k)  ((uint32_t)(k) << F_SRC_SHIFT)
#define F_GET_IMM(f) (((f) >> F_IMM_SHIFT) & 0xf)
#define F_GET_DST(f) (((f) >> F_DST_SHIFT) & 0xf)
#define F_GET_SRC(f) (((f) >> F_SRC_SHIFT) & 0xf)

struct emu_opdesc {
	const char *name;
	uint16_t op;      /* enum emu_op, or a group number with F_GROUP */
	uint32_t flags;
};

/* One group: its eight /reg entries, and special mod==3 encodings. */
struct emu_group {
	struct emu_opdesc reg[8];
	const struct emu_opdesc *mod3;  /* 64 entries by (reg << 3 | rm), or NULL */
};

extern const struct emu_opdesc emu_map_one[256];
extern const struct emu_opdesc emu_map_0f[256];
extern const struct emu_opdesc emu_map_0f38[256];
extern const struct emu_opdesc emu_map_0f3a[256];
extern const struct emu_group emu_groups[];
extern const unsigned emu_ngroups;
/* VEX map 1 opcodes that carry an imm8 (bitmap). */
int emu_vex_map1_has_imm(uint8_t opcode);

/* ---- operations the executor implements ---- */
enum emu_op {
	OP_INVALID,
	/* ALU: order of the 00-3F block and group 1 */
	OP_ADD, OP_OR, OP_ADC, OP_SBB, OP_AND, OP_SUB, OP_XOR, OP_CMP,
	/* shifts: order of group 2 */
	OP_ROL, OP_ROR, OP_RCL, OP_RCR, OP_SHL, OP_SHR, OP_SAL, OP_SAR,
	OP_TEST, OP_NOT, OP_NEG, OP_MUL, OP_IMUL1, OP_DIV, OP_IDIV,
	OP_IMUL2, OP_IMUL3, OP_INC, OP_DEC,
	OP_MOV, OP_MOVZX, OP_MOVSX, OP_MOVSXD, OP_LEA, OP_XCHG, OP_XCHG_A,
	OP_MOV_ZI, OP_MOV_MOFFS_LD, OP_MOV_MOFFS_ST,
	OP_CMPXCHG, OP_XADD, OP_CMPXCHGNB, OP_BSWAP,
	OP_BT, OP_BTS, OP_BTR, OP_BTC, OP_BSF, OP_BSR, OP_TZCNT, OP_LZCNT, OP_POPCNT,
	OP_SHLD, OP_SHRD,
	OP_CBW, OP_CWD, OP_LAHF, OP_SAHF, OP_CLC, OP_STC, OP_CMC, OP_CLD, OP_STD,
	OP_CLI, OP_STI, OP_CLAC, OP_STAC,
	OP_PUSH, OP_POP, OP_PUSH_Z, OP_POP_Z, OP_PUSH_I, OP_PUSH_SEG, OP_POP_SEG,
	OP_PUSHF, OP_POPF, OP_PUSHA, OP_POPA, OP_ENTER, OP_LEAVE,
	OP_JMP, OP_JMP_IND, OP_JCC, OP_CALL, OP_CALL_IND, OP_RET, OP_RETF,
	OP_JMPF, OP_JMPF_IND, OP_CALLF, OP_CALLF_IND,
	OP_LOOP, OP_LOOPE, OP_LOOPNE, OP_JCXZ, OP_SETCC, OP_CMOVCC,
	OP_MOVS, OP_CMPS, OP_STOS, OP_LODS, OP_SCAS, OP_INS, OP_OUTS,
	OP_IN, OP_OUT,
	OP_NOP, OP_PAUSE, OP_HLT, OP_UD, OP_INT, OP_INT3, OP_INTO, OP_IRET,
	OP_MOV_SEG_LD, OP_MOV_SEG_ST, OP_LSEG,
	OP_MOV_CR_LD, OP_MOV_CR_ST, OP_MOV_DR_LD, OP_MOV_DR_ST,
	OP_LGDT, OP_LIDT, OP_SGDT, OP_SIDT, OP_LLDT, OP_SLDT, OP_LTR, OP_STR,
	OP_LMSW, OP_SMSW, OP_INVLPG, OP_CLTS, OP_WBINVD, OP_INVD,
	OP_RDMSR, OP_WRMSR, OP_RDTSC, OP_RDTSCP, OP_RDPID, OP_CPUID,
	OP_SWAPGS, OP_SYSCALL, OP_SYSRET, OP_SYSENTER, OP_SYSEXIT,
	OP_XGETBV, OP_XSETBV,
	OP_FXSAVE, OP_FXRSTOR, OP_XSAVE, OP_XRSTOR, OP_XSAVEOPT, OP_XSAVEC,
	OP_XSAVES, OP_XRSTORS, OP_LDMXCSR, OP_STMXCSR, OP_FENCE, OP_CLFLUSH,
	OP_SSE,      /* MMX/SSE/SSE2 (exec_sse.c, exec_sse_fp.c) */
	OP_XLAT, OP_SALC, OP_CLTS_UNUSED,
	OP_DAA, OP_DAS, OP_AAA, OP_AAS, OP_AAM, OP_AAD,
	OP_VECTOR,   /* VEX/EVEX/XOP: #UD (no AVX in the CPUID model) */
	OP_X87,      /* x87 (exec_x87.c) */
	OP_FWAIT, OP_LAR, OP_LSL, OP_VERR, OP_VERW, OP_RDRAND, OP_FSGSBASE,
	OP_BOUND, OP_ARPL,   /* exec_legacy.c */
	OP_RDPMC,            /* msr.c */
	OP_ABSENT,   /* recognised, not in emu's CPU model: #UD, or handed back (exec.c) */
	OP_NR
};

/* ---- the CPU ---- */

#define EMU_TLB_SIZE 1024

/*
 * tag_r and tag_w make a TLB hit one compare (emu_fast_ptr): vpn plus the
 * privilege context (emu_tlb_ctx) in which a read, or a write (D already
 * set), of this RAM page passed every check.  Whatever else decides those
 * checks (CR0.WP, CR4.SMEP/SMAP, the entry) flushes the TLB when it changes.
 */
struct emu_tlb_entry {
	uint64_t vpn;         /* linear >> 12, or ~0 when empty */
	uint64_t tag_r, tag_w; /* vpn | context, or ~0 */
	uint64_t ppn;         /* physical >> 12 */
	uint8_t user, write, nx, dirty;
	uint8_t global;       /* G in the leaf entry, under CR4.PGE: a new CR3 keeps it */
	uint8_t *host;        /* the page in guest RAM, NULL for MMIO */
};
#define EMU_TLB_WORDS (EMU_TLB_SIZE / 64)

/*
 * Decoded instructions by linear address (64-bit code only).  An entry is
 * used only when the bytes at RIP still equal the ones it was decoded
 * from, so code that changes (or another mapping at the same address) is
 * simply decoded again.
 */
#define EMU_DCACHE_SIZE 4096

struct emu_cpu;
/*
 * A fast form (fast.c) did nothing: the general executor must run the
 * instruction.  A fast form never faults.
 */
#define EMU_FAST_MISS 1
/* The fast form of an instruction, a number for emu_fast_run: 0 when it has none. */
unsigned emu_fast_select(const struct x86_insn *in);

/* One instruction of a decoded block (block.c). */
struct emu_block_insn {
	struct x86_insn in;
	uint16_t form;        /* emu_fast_select's */
	uint16_t end;         /* its end: bytes from the block's start */
	/*
	 * Its arithmetic flags (emu_fast_liveness): 0 computed, 1 dead (left
	 * alone), 2 wait (the operands kept in lazy_a and lazy_b).
	 */
	uint8_t nf;
	uint8_t mat;          /* if it misses: the ALU op that many back whose flags wait */
};
/* Marks the instructions of a block whose flags nothing reads or can see. */
void emu_fast_liveness(struct emu_block_insn *insns, unsigned n);
/*
 * What emu_fast_run runs: a block's instructions, its RIP (base), and, for
 * a chain of blocks (block.c), how many instructions the blocks before it
 * ran whole (done) and may run at most (budget: 0, no chain).
 */
struct emu_run {
	const struct emu_block_insn *insns;
	unsigned n;
	uint64_t base;
	unsigned done, budget;
	void *chain;          /* block.c's */
};
unsigned emu_fast_run(struct emu_cpu *c, struct emu_run *run, unsigned i);

struct emu_dcache_entry {
	uint64_t lin;         /* ~0 when empty */
	uint8_t bytes[16];
	struct x86_insn insn;
	unsigned form;
};

struct emu_blocks;    /* block.c */

struct emu_cpu {
	struct x86_cpu_state *s;
	struct emu_env env;
	struct emu_tlb_entry tlb[EMU_TLB_SIZE];
	/*
	 * Slots that may hold an entry, and those that may hold a non-global
	 * one: a flush empties only these (a bit may stay set for an empty slot).
	 */
	uint64_t tlb_used[EMU_TLB_WORDS], tlb_local[EMU_TLB_WORDS];
	struct emu_dcache_entry *dcache;
	struct emu_blocks *blocks;   /* decoded blocks, made on first use */
	unsigned fast_form;   /* the fetched instruction's fast form (emu_fast_select) */
	uint64_t fast_ctx;    /* emu_tlb_ctx() for the instructions running now */
	/*
	 * Guest RAM's pages with decoded code (env.mem->code, mem_code.h; NULL:
	 * no blocks), copied here for emu_note_write: its mapping, its size in
	 * pages (0 without it) and its has[] map.
	 */
	struct mem_code *code;
	const uint8_t *code_base, *code_has;
	uint64_t code_pages;
	/* The RAM page of the block running now (~0: none), and whether an
	 * instruction wrote to it (the block then ends: self-modifying code). */
	uint64_t code_page;
	int smc;
	/* The operands of the block's last ALU op whose flags wait (emu_fast_liveness). */
	uint64_t lazy_a, lazy_b;
	/* The last code page translated for execution, for this privilege. */
	uint64_t fetch_vpn;   /* ~0: none */
	uint8_t *fetch_host;
	int fetch_user;
	struct x86_insn insn;
	uint64_t next_rip;
	/* The fault an instruction raised, delivered by emu_step. */
	int fault;            /* vector, or -1 */
	uint32_t fault_err;
	int fault_has_err;
	uint64_t fault_cr2;
	unsigned nesting;
	int halted;
	int unimplemented;    /* set by the executor: undo and report */
	int io_stopped;       /* ... because env.io_stop took the access */
	int shadow;           /* EMU_SHADOW_*: interrupts blocked for one insn */
	int delivered;        /* the instruction delivered an event itself */
	int triple;           /* ... and that ended in a triple fault */
	int keep_regs;        /* a faulting REP string op keeps its progress */
	int task_trap;        /* a task switch loaded a TSS with T set: #DB is due */
	unsigned db_hits;     /* data and I/O breakpoints (DR6 B0-B3) the instruction met */
	/*
	 * The DR6 bits (B0-B3, BS) of a #DB trap that a MOV SS or POP SS
	 * caused: held past the next instruction (SDM vol. 3 6.8.3), then
	 * delivered with that instruction's own.
	 */
	uint64_t db_held;
	/*
	 * What the CPUID model says of paging (mmu.c, found on the first walk
	 * after emu_cpu_new or emu_cpu_flush_tlb): the physical-address bits
	 * above MAXPHYADDR (reserved in paging entries), 1-GByte pages, PSE-36.
	 */
	int paging_known;
	uint64_t phys_rsvd;
	int gbpages, pse36;
	uint64_t pse_rsvd;    /* of a 32-bit paging 4-MByte PDE */
	/* PAE paging's four PDPTE registers and the CR3 they came from. */
	uint64_t pdpte[4], pdpte_cr3;
	int pdpte_loaded;
	uint64_t insn_rip;    /* start of the current instruction */
	uint64_t tsc_ns0;     /* host time at which s->tsc was valid */
	uint64_t msr_scratch;  /* write sink once msrs[] is full */
	struct emu_tlb_stats tlb_stats;
};

/* Exceptions */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
	EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
	EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_XM = 19,
};

#define EMU_DR6_BD (1ULL << 13)   /* general detect: a MOV DR with DR7.GD */
#define EMU_DR6_BS (1ULL << 14)   /* single step */
#define EMU_DR6_BT (1ULL << 15)   /* task switch to a TSS with T set */

/* DR7 enables a breakpoint (L0-L3, G0-G3): emu then runs the general executor only (debug.c). */
#define EMU_DR7_GD (1ULL << 13)
/* KVM's encoding of the interrupt shadow (x86_events.interrupt_shadow). */
#define EMU_SHADOW_MOV_SS 1
#define EMU_SHADOW_STI 2
static inline int emu_dr7_armed(const struct x86_cpu_state *s)
{
	return (s->dr[7] & 0xff) != 0;
}
/* Notes the data or I/O breakpoints an access meets in c->db_hits (debug.c). */
void emu_data_breakpoints(struct emu_cpu *c, uint64_t lin, unsigned size, int write);
void emu_io_breakpoints(struct emu_cpu *c, uint16_t port, unsigned size);
/* The instruction breakpoints at CS:RIP (DR6 B0-B3). */
unsigned emu_code_breakpoints(const struct emu_cpu *c);

/* Raise a fault from inside an instruction: always returns -1. */
int emu_raise(struct emu_cpu *c, int vec, uint32_t err, int has_err);
static inline int emu_gp(struct emu_cpu *c, uint32_t err) { return emu_raise(c, EXC_GP, err, 1); }
static inline int emu_ud(struct emu_cpu *c) { return emu_raise(c, EXC_UD, 0, 0); }
int emu_unimpl(struct emu_cpu *c);
/* Asks env.io_stop about an access: -1 when the caller takes it (the
 * instruction is undone, EMU_IO), else 0. */
int emu_io_check(struct emu_cpu *c, enum emu_io_kind kind, uint64_t addr);

/* Mode queries. */
static inline int emu_long_mode(const struct emu_cpu *c) { return !!(c->s->efer & X86_EFER_LMA); }
static inline int emu_64bit(const struct emu_cpu *c) { return emu_long_mode(c) && c->s->seg[X86_CS].l; }
static inline int emu_protected(const struct emu_cpu *c) { return !!(c->s->cr0 & X86_CR0_PE); }
static inline int emu_v86(const struct emu_cpu *c) { return !!(c->s->rflags & X86_RFLAGS_VM); }
/* CPL is SS.DPL, as VMX and KVM define it. */
static inline int emu_cpl(const struct emu_cpu *c)
{
	if (!emu_protected(c))
		return 0;
	if (emu_v86(c))
		return 3;
	return c->s->seg[X86_SS].dpl;
}

static inline int emu_iopl(const struct emu_cpu *c)
{
	return (c->s->rflags >> 12) & 3;
}

/* Virtual-8086 mode below IOPL 3 with CR4.VME: VIF stands in for IF. */
static inline int emu_vme(const struct emu_cpu *c)
{
	return emu_v86(c) && (c->s->cr4 & X86_CR4_VME) && emu_iopl(c) < 3;
}

/* 16, 32 or 64. */
static inline int emu_code_mode(const struct emu_cpu *c)
{
	const struct x86_segment *cs = &c->s->seg[X86_CS];

	if (emu_long_mode(c) && cs->l)
		return 64;
	if (emu_protected(c) && !emu_v86(c) && cs->db)
		return 32;
	if (!emu_protected(c) && cs->db)
		return 32;     /* big real mode code, as some firmware leaves it */
	return 16;
}

/* ---- memory (mmu.c) ---- */
enum {
	ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2,
	ACC_SUPER = 4,   /* implicit supervisor access (descriptor tables, TSS) */
	ACC_DATA = 8,    /* an instruction's own operand: alignment check (#AC) applies */
};
/* The alignment an ACC_DATA access must have for #AC, when not its size's (emu_write_al). */
#define ACC_ALIGN(n) ((n) << 8)

/* Drops every entry, global ones too. */
void emu_tlb_flush(struct emu_cpu *c);
/* A new CR3 (MOV to CR3, a task switch): under CR4.PGE global entries stay. */
void emu_tlb_flush_cr3(struct emu_cpu *c);
/* Slot i now holds an entry, global or not (tlb.c's bitmaps). */
void emu_tlb_mark(struct emu_cpu *c, unsigned i, int global);
/* The state changed behind emu's back: TLB, PDPTE registers and the paging model go. */
void emu_mmu_reset(struct emu_cpu *c);
/*
 * A MOV to CR0, CR3 or CR4 that leaves PAE paging on (cr0, cr3, cr4: the
 * values after it) loads the PDPTE registers: #GP(0) when a present one
 * has a reserved bit set, and then nothing changed.
 */
int emu_pdpte_load(struct emu_cpu *c, uint64_t cr0, uint64_t cr3, uint64_t cr4);

/* Alignment checking is on: CR0.AM, RFLAGS.AC and CPL 3 (#AC, error code 0). */
static inline int emu_ac_on(const struct emu_cpu *c)
{
	return (c->s->rflags & X86_RFLAGS_AC) && (c->s->cr0 & X86_CR0_AM) && emu_cpl(c) == 3;
}

/* The privilege context of a TLB fast tag: CPL 3 or not, RFLAGS.AC. */
static inline uint64_t emu_tlb_ctx(const struct emu_cpu *c)
{
	return ((uint64_t)(emu_cpl(c) == 3) | ((c->s->rflags >> 17) & 2)) << 56;
}

/*
 * lin's TLB entry when an access of its kind (a write, or a read) already
 * passed there in privilege context ctx: its fast tag, which only RAM gets.
 * Else NULL.
 */
static inline __attribute__((always_inline)) struct emu_tlb_entry *
emu_tlb_tagged(struct emu_cpu *c, uint64_t lin, int write, uint64_t ctx)
{
	struct emu_tlb_entry *t = &c->tlb[(lin >> 12) % EMU_TLB_SIZE];

	return (write ? t->tag_w : t->tag_r) == ((lin >> 12) | ctx) ? t : NULL;
}

/* A slot with no address and no tags. */
static inline void emu_tlb_empty(struct emu_tlb_entry *e)
{
	e->vpn = e->tag_r = e->tag_w = ~0ULL;
}

/*
 * The host address of size bytes at lin for a read or a write, when the
 * TLB says this is RAM in one page that the access may touch in context
 * c->fast_ctx; else NULL (the caller takes the full path).  No lock, no call.
 */
static inline __attribute__((always_inline)) uint8_t *emu_fast_ptr(struct emu_cpu *c, uint64_t lin, unsigned size, int write)
{
	const struct emu_tlb_entry *t;

	if ((lin & 0xfff) + size > 0x1000 || !(t = emu_tlb_tagged(c, lin, write, c->fast_ctx)))
		return NULL;
	return t->host + (lin & 0xfff);
}

/* A write to a RAM page with decoded code (block.c): its generation goes up. */
void emu_code_written(struct emu_cpu *c, uint64_t page);

/*
 * A write to guest RAM at host address p, after its bytes: decoded code
 * from that page is checked again before it runs, and the running block
 * ends if it is on that page.
 */
static inline __attribute__((always_inline)) void emu_note_write(struct emu_cpu *c, const void *p)
{
	uint64_t page = (uint64_t)((uintptr_t)p - (uintptr_t)c->code_base) >> 12;

	/* After the bytes (p may alias has[], so the compiler keeps the order;
	 * the CPU's store buffer is mem_code_mark's to drain). */
	if (page < c->code_pages && __atomic_load_n(&c->code_has[page], __ATOMIC_RELAXED))
		emu_code_written(c, page);
}
void emu_tlb_flush_page(struct emu_cpu *c, uint64_t lin);
/* Segment offset -> linear, with limit, type and canonical checks. */
int emu_linear(struct emu_cpu *c, int seg, uint64_t off, unsigned size, int acc, uint64_t *lin);
/* The same checks without raising anything: 0 when they pass, else -1. */
int emu_linear_try(struct emu_cpu *c, int seg, uint64_t off, unsigned size, int acc,
		   uint64_t *lin);
/* Linear -> physical through the page tables (#PF on failure). */
int emu_translate(struct emu_cpu *c, uint64_t lin, int acc, uint64_t *phys);
int emu_read_lin(struct emu_cpu *c, uint64_t lin, void *buf, unsigned size, int acc);
/* Code fetch: the host address of lin (translated for execution) and the bytes left in its page; NULL for MMIO. */
int emu_fetch_page(struct emu_cpu *c, uint64_t lin, const uint8_t **p, unsigned *avail);
/* The same, inline while lin stays on the last code page that passed (emu_fetch_page keeps it). */
static inline int emu_fetch_ptr(struct emu_cpu *c, uint64_t lin, const uint8_t **p, unsigned *avail)
{
	if (lin >> 12 == c->fetch_vpn && (emu_cpl(c) == 3) == c->fetch_user &&
	    (c->s->cr0 & X86_CR0_PG)) {
		*avail = 0x1000 - (lin & 0xfff);
		*p = c->fetch_host + (lin & 0xfff);
		return 0;
	}
	return emu_fetch_page(c, lin, p, avail);
}
int emu_write_lin(struct emu_cpu *c, uint64_t lin, const void *buf, unsigned size, int acc);
int emu_read(struct emu_cpu *c, int seg, uint64_t off, void *buf, unsigned size);
int emu_write(struct emu_cpu *c, int seg, uint64_t off, const void *buf, unsigned size);
/* emu_write of a structure whose #AC alignment is align, not its size's (SGDT's 4). */
int emu_write_al(struct emu_cpu *c, int seg, uint64_t off, const void *buf, unsigned size,
		 unsigned align);
int emu_read_u(struct emu_cpu *c, int seg, uint64_t off, unsigned size, uint64_t *v);
int emu_write_u(struct emu_cpu *c, int seg, uint64_t off, unsigned size, uint64_t v);
/*
 * For atomic read-modify-write: a host pointer to size bytes of RAM at
 * seg:off, translated for writing.  0 with *p NULL when the bytes are not
 * plain RAM in one page (the caller falls back to read + write).
 */
int emu_host_ptr(struct emu_cpu *c, int seg, uint64_t off, unsigned size, void **p);
/* Physical accesses (page walks, descriptor A bits). */
int emu_phys_read(struct emu_cpu *c, uint64_t pa, void *buf, unsigned size);
int emu_phys_write(struct emu_cpu *c, uint64_t pa, const void *buf, unsigned size);

/* ---- exceptions, interrupts, segments (except.c, segment.c) ---- */
enum emu_event_kind { EV_EXCEPTION, EV_SOFT_INT, EV_EXTERNAL };
/* Delivers through IVT/IDT; escalates to #DF and triple fault.  0 or -1 (triple). */
int emu_deliver(struct emu_cpu *c, int vec, int kind, int has_err, uint32_t err, uint64_t ret_rip);
int emu_iret(struct emu_cpu *c);
/* INT n in virtual-8086 mode with CR4.VME: 0 when the TSS's interrupt
 * redirection bitmap sent it to the 8086 program's own IVT, 1 when it goes
 * on as without VME, -1 on a fault. */
int emu_v86_int(struct emu_cpu *c, int vec);
/* Reads the 8-byte descriptor for selector (GDT or LDT); raises #GP(sel). */
int emu_read_desc(struct emu_cpu *c, uint16_t sel, uint64_t *desc, int exc);
/* A 16-byte system descriptor of IA-32e mode; beyond the table is #GP(sel). */
int emu_read_desc16(struct emu_cpu *c, uint16_t sel, uint64_t d[2]);
/* The same without faulting on a null or out-of-table selector: 1 read, 0 not there. */
int emu_peek_desc(struct emu_cpu *c, uint16_t sel, uint64_t *desc);
/* A segment register as virtual-8086 mode loads it. */
void emu_seg_v86(struct x86_segment *seg, uint16_t sel);
void emu_desc_to_seg(uint64_t lo, uint64_t hi, uint16_t sel, struct x86_segment *seg, int lma);
/* MOV/POP to a segment register with all protected-mode checks. */
int emu_load_seg(struct emu_cpu *c, int sreg, uint16_t sel);
/* Loads CS for a far transfer to code at privilege cpl. */
int emu_load_cs(struct emu_cpu *c, uint16_t sel, int new_cpl);
int emu_load_system_seg(struct emu_cpu *c, int sreg, uint16_t sel);

/* Stack pointer for privilege dpl (or IST n in long mode) from the TSS; #TS beyond its limit. */
int emu_tss_stack(struct emu_cpu *c, int dpl, int ist, uint64_t *sp, uint16_t *ss);
/* n bytes at rel from the I/O map base of the current 32/64-bit TSS (the
 * I/O bitmap, or the interrupt redirection bitmap 32 bytes below); none
 * such, or past TR's limit, is #GP(0). */
int emu_tss_map(struct emu_cpu *c, int rel, void *buf, unsigned n);
/* ES, DS, FS, GS the new, less privileged CPL may not use become null. */
void emu_null_data_segs(struct emu_cpu *c, int cpl);

/* CR4.VME (exec_ctrl.c): the FLAGS image with IF from VIF and IOPL 3, and its inverse (#GP for TF, or IF with VIP). */
uint64_t emu_vme_flags(const struct emu_cpu *c);
int emu_vme_load_flags(struct emu_cpu *c, uint64_t v);

/* ---- call gates and tasks (callgate.c, task.c) ---- */
enum { EMU_TASK_JMP, EMU_TASK_CALL, EMU_TASK_IRET, EMU_TASK_INT };
/* Far JMP/CALL to sel: 1 when it is not a system descriptor (the caller goes
 * on with a plain far transfer), else 0 done or -1 fault. */
int emu_far_system(struct emu_cpu *c, uint16_t sel, int call);
/* The checks of loading sel into sreg at privilege cpl with the given LDT,
 * bad descriptors as #TS; the descriptor in *seg.  Changes nothing. */
int emu_seg_check(struct emu_cpu *c, int sreg, uint16_t sel, int cpl,
		  const struct x86_segment *ldt, struct x86_segment *seg);
/* An available TSS in the GDT for a task gate or JMP/CALL; #GP/#NP(sel | ext). */
int emu_task_target(struct emu_cpu *c, uint16_t sel, uint32_t ext, uint64_t *desc);
int emu_task_switch(struct emu_cpu *c, uint16_t sel, uint64_t desc, int source,
		    uint64_t ret_eip, int has_err, uint32_t err);
int emu_task_return(struct emu_cpu *c);     /* IRET with NT */

/* ---- stack (exec_stack.c) ---- */
unsigned emu_stack_size(const struct emu_cpu *c);
int emu_push(struct emu_cpu *c, uint64_t v, unsigned size);
int emu_pop(struct emu_cpu *c, uint64_t *v, unsigned size);

/* ---- executor families ---- */
int emu_exec_alu(struct emu_cpu *c);      /* exec_alu.c */
int emu_exec_data(struct emu_cpu *c);     /* exec_data.c */
int emu_exec_bcd(struct emu_cpu *c);      /* exec_bcd.c */
int emu_exec_legacy(struct emu_cpu *c);   /* exec_legacy.c: BOUND ARPL */
int emu_exec_ctrl(struct emu_cpu *c);     /* exec_ctrl.c */
int emu_exec_string(struct emu_cpu *c);   /* exec_string.c */
int emu_exec_sys(struct emu_cpu *c);      /* exec_sys.c */
int emu_exec_xsave(struct emu_cpu *c);    /* exec_xsave.c */
int emu_exec_x87(struct emu_cpu *c);      /* exec_x87.c */
int emu_exec_seginfo(struct emu_cpu *c);  /* exec_seginfo.c: LAR LSL VERR VERW */
int emu_exec_sse(struct emu_cpu *c);      /* exec_sse.c */
int emu_exec_sse_fp(struct emu_cpu *c);   /* exec_sse_fp.c */
int emu_sse_fp_3a(struct emu_cpu *c, const uint8_t src[16]);
int emu_exec_ssse3(struct emu_cpu *c);    /* exec_ssse3.c: 0F38/0F3A maps */
int emu_exec_sse4(struct emu_cpu *c);     /* exec_sse4.c */
int emu_exec_pcmpstr(struct emu_cpu *c);  /* exec_pcmpstr.c */
int emu_is_crypto(const struct x86_insn *in);   /* exec_crypto.c: AES-NI PCLMULQDQ SHA */
int emu_exec_crypto(struct emu_cpu *c);
int emu_mmx_usable(struct emu_cpu *c);
/* exec_sse.c helpers: mandatory prefix (0 none, 1 66, 2 F3, 3 F2), #UD/#NM checks, r/m source. */
int emu_sse_prefix(const struct x86_insn *in);
int emu_sse_usable(struct emu_cpu *c);
int emu_sse_src(struct emu_cpu *c, int mmx, unsigned size, int align, uint8_t v[16]);
/* exec_simd_int.c: packed integer lanes on len (8 or 16) bytes. */
int emu_simd_int(uint8_t op, uint8_t *d, const uint8_t *s, unsigned len);
void emu_simd_shift(int kind, unsigned es, uint8_t *d, uint64_t count, unsigned len);
void emu_simd_byte_shift(int left, uint8_t *d, unsigned count);
void emu_simd_pshuf(int pfx, uint8_t *d, const uint8_t *s, uint8_t imm);
uint32_t emu_simd_movmskb(const uint8_t *s, unsigned len);
int emu_fwait(struct emu_cpu *c);         /* exec_x87.c */
int emu_x87_check(struct emu_cpu *c);     /* #NM, pending #MF */
uint8_t *emu_mmx_enter(struct emu_cpu *c);    /* TOP 0, all tags valid: MM0 */
void emu_mmx_written(struct emu_cpu *c, unsigned r);
void emu_emms(struct emu_cpu *c);
void emu_cpuid_model(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
int emu_rdmsr(struct emu_cpu *c, uint32_t idx, uint64_t *v);
int emu_rdpmc(struct emu_cpu *c);
int emu_wrmsr(struct emu_cpu *c, uint32_t idx, uint64_t v);
uint64_t *emu_msr_slot(struct emu_cpu *c, uint32_t idx, int create);

/* ---- the FPU/SSE register image (x86_cpu_state.xsave, FXSAVE layout) ---- */
#define EMU_FX_FCW 0
#define EMU_FX_FSW 2
#define EMU_FX_FTW 4
#define EMU_FX_FOP 6
#define EMU_FX_FIP 8
#define EMU_FX_FDP 16
#define EMU_FX_MXCSR 24
#define EMU_FX_ST 32      /* ST(i) at 32 + 16 * i */
#define EMU_FX_XMM 160    /* XMMi at 160 + 16 * i */
#define EMU_XSTATE_BV 512

static inline uint8_t *emu_xmm(struct emu_cpu *c, unsigned r)
{
	return c->s->xsave + EMU_FX_XMM + 16 * (r & 15);
}

/* The XSAVE header's XSTATE_BV is XINUSE: a component written is in use. */
static inline void emu_xinuse(struct emu_cpu *c, unsigned bits)
{
	c->s->xsave[EMU_XSTATE_BV] |= (uint8_t)bits;
}

/* One instruction run on the host FPU (host_fp.c). */
struct emu_host_fp {
	uint8_t img[512] __attribute__((aligned(16)));   /* FXSAVE image */
	const void *stub;    /* the instruction, followed by RET */
	void *mem;           /* RDI: the memory operand of memory-form stubs */
	uint64_t rax;        /* RAX in and out */
	uint64_t rflags;     /* arithmetic flags in and out */
};
int emu_host_fp_available(void);
void emu_host_fp_load(struct emu_host_fp *r, const struct x86_cpu_state *s);
void emu_host_fp_run(struct emu_host_fp *r);
/* PE of a generic SSE op after an unmasked OE/UE (sse_unbounded.c); -1 if unknown. */
int emu_sse_unbounded_pe(uint8_t op, int pfx, uint32_t mxcsr, const uint8_t dst[16],
			 const uint8_t src[16]);

/* ---- operands (exec.c) ---- */
struct emu_operand {
	int kind;            /* 0 none, 1 reg, 2 mem, 3 imm */
	unsigned size;
	int reg;             /* gpr index; high byte if hi8 */
	int hi8;
	int seg;
	uint64_t off;        /* effective address (truncated to address size) */
	uint64_t val;
};
uint64_t emu_ea(struct emu_cpu *c, int *seg);
uint64_t emu_reg_get(struct emu_cpu *c, int reg, unsigned size, int hi8);
void emu_reg_set(struct emu_cpu *c, int reg, unsigned size, int hi8, uint64_t v);
int emu_opnd_decode(struct emu_cpu *c, int kind, unsigned size, struct emu_operand *o);
int emu_opnd_read(struct emu_cpu *c, struct emu_operand *o);
int emu_opnd_write(struct emu_cpu *c, struct emu_operand *o, uint64_t v);
int emu_cond(const struct emu_cpu *c, unsigned cc);
unsigned emu_insn_opsize(const struct emu_cpu *c);

static inline __attribute__((always_inline)) uint64_t emu_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline __attribute__((always_inline)) uint64_t emu_sext(uint64_t v, unsigned size)
{
	if (size >= 8)
		return v;
	unsigned sh = 64 - size * 8;
	return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* Element i, of es bytes, of a vector register or memory image. */
static inline uint64_t emu_lane(const uint8_t *p, unsigned es, unsigned i)
{
	uint64_t v = 0;

	memcpy(&v, p + es * i, es);
	return v;
}

static inline int64_t emu_slane(const uint8_t *p, unsigned es, unsigned i)
{
	return (int64_t)emu_sext(emu_lane(p, es, i), es);
}

static inline void emu_set_lane(uint8_t *p, unsigned es, unsigned i, uint64_t v)
{
	memcpy(p + es * i, &v, es);
}

/* The mandatory prefix that selects an SSE instruction's form. */
enum { P_NONE, P_66, P_F3, P_F2 };

#define EMU_FLAGS_ARITH (X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | \
			 X86_RFLAGS_ZF | X86_RFLAGS_SF | X86_RFLAGS_OF)

/* Atomic (when lock) read-modify-write of a destination operand. */
int emu_rmw(struct emu_cpu *c, struct emu_operand *d, int lock,
	    uint64_t (*fn)(struct emu_cpu *c, uint64_t old, const void *ctx),
	    const void *ctx, uint64_t *oldp);

/* Exact flags of the ALU ops (exec_alu.c), used by string ops too. */
uint64_t emu_alu(struct emu_cpu *c, int op, uint64_t a, uint64_t b, unsigned size);
/* Shifts and rotates (group 2) with their flags; cnt as the instruction gives it. */
uint64_t emu_shift(struct emu_cpu *c, int op, uint64_t a, unsigned cnt, unsigned size);

/* ---- decoded blocks (block.c) ---- */
void emu_blocks_free(struct emu_blocks *b);
/* The general executor on an instruction decoded elsewhere (exec.c). */
enum emu_result emu_exec_decoded(struct emu_cpu *c, const struct x86_insn *in, uint64_t next_rip);

#endif
