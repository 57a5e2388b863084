/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_EMU_EMU_H
#define VMON_ACCEL_EMU_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "machine/bus.h"
#include "machine/memory.h"

/*
 * vmon's software x86-64 CPU.  It executes instructions directly on a
 * caller-owned struct x86_cpu_state, so the KVM backend can hand it a vCPU
 * that the host KVM failed to emulate, and the emu accelerator can run a
 * whole guest with it.  See docs/emu.md.
 */

/* Accesses a caller may take back from emu (emu_env.io_stop). */
enum emu_io_kind {
	EMU_IO_MMIO, EMU_IO_PIO, EMU_IO_WRMSR, EMU_IO_CPUID,
	EMU_IO_USER,    /* SYSRET, IRET to an outer privilege level */
};

/* What the CPU reaches outside itself.  Hooks are optional (NULL). */
struct emu_env {
	struct guest_mem *mem;        /* RAM: everything else goes to mmio */
	struct bus *pio, *mmio;       /* may be NULL: reads all ones */
	void *opaque;                 /* passed to the hooks */
	/* CPUID: fill out[4] = eax,ebx,ecx,edx; without it a built-in model. */
	void (*cpuid)(void *opaque, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
	/* MSRs not kept in x86_cpu_state: 0 handled, -1 raises #GP. */
	int (*rdmsr)(void *opaque, uint32_t index, uint64_t *value);
	int (*wrmsr)(void *opaque, uint32_t index, uint64_t value);
	/* The guest's TSC now; without it s->tsc runs at 1 GHz from the first read. */
	uint64_t (*tsc)(void *opaque);
	/*
	 * An access outside RAM, a port, a WRMSR (addr: the MSR index), a
	 * CPUID (addr: the leaf) or a way out to user mode that the caller
	 * wants to do itself: nonzero ends the instruction unexecuted with
	 * EMU_IO.  Without it everything goes to the buses and the hooks.
	 */
	int (*io_stop)(void *opaque, enum emu_io_kind kind, uint64_t addr);
	/* Tests: every instruction through the general executor (no fast forms, no blocks). */
	int general_only;
};

enum emu_result {
	EMU_OK,              /* instruction(s) retired, or a fault was delivered */
	EMU_HALT,            /* HLT retired: RIP is past it */
	EMU_TRIPLE_FAULT,    /* shutdown: the state is that of the third fault */
	EMU_UNIMPLEMENTED,   /* not executed; the state is untouched */
	EMU_LIMIT,           /* emu_run: the instruction budget ran out */
	EMU_IO,              /* env.io_stop claimed an access: not executed, state untouched */
};

/* One decoded instruction (emu_decode, and the executor's working copy). */
struct x86_insn {
	uint8_t len;          /* bytes, prefixes included */
	uint8_t mode;         /* 16, 32 or 64 */
	uint8_t opsize;       /* operand size in bytes: 2, 4 or 8 */
	uint8_t addrsize;     /* address size in bytes: 2, 4 or 8 */
	uint8_t map;          /* enum x86_map */
	uint8_t opcode;       /* last opcode byte */
	uint8_t rep;          /* 0, 0xf2 or 0xf3 (the last one given) */
	uint8_t lock;         /* F0 seen */
	uint8_t opsize_prefix;/* 66 seen */
	int8_t seg;           /* segment override (enum x86_seg) or -1 */
	uint8_t rex;          /* the effective REX byte, 0 if none */
	uint8_t has_modrm, modrm, mod, reg, rm; /* reg/rm extended by REX */
	uint8_t has_sib, base, index, scale;    /* index 4 without REX.X: none */
	uint8_t rip_relative;
	uint8_t imm_size, imm2_size;
	uint8_t vex;          /* enum x86_vex_kind */
	uint16_t op;          /* executor operation (internal enum) */
	uint32_t flags;       /* table flags (internal) */
	int64_t disp;
	uint64_t imm, imm2;   /* sign-extended to 64 bits where the ISA does */
	const char *name;     /* mnemonic-ish, for logs and tests */
};

enum x86_map { X86_MAP_ONE, X86_MAP_0F, X86_MAP_0F38, X86_MAP_0F3A, X86_MAP_OTHER };
enum x86_vex_kind { X86_VEX_NONE, X86_VEX_VEX, X86_VEX_EVEX, X86_VEX_XOP };

/* emu_decode results besides 0. */
enum {
	EMU_DECODE_TRUNCATED = -1,  /* need more bytes than given */
	EMU_DECODE_TOO_LONG = -2,   /* over 15 bytes: #GP */
	EMU_DECODE_INVALID = -3,    /* #UD; out->len is still the length seen */
};

/*
 * Decodes one instruction from bytes (up to len of them) in the given mode
 * (16, 32 or 64).  0 on success; VEX/EVEX/XOP instructions decode with
 * their length but execute as #UD.
 */
int emu_decode(const uint8_t *bytes, size_t len, int mode, struct x86_insn *out);

struct emu_cpu;

/* The state stays the caller's; it must outlive the emu_cpu.  NULL on ENOMEM. */
struct emu_cpu *emu_cpu_new(struct x86_cpu_state *s, const struct emu_env *env);
void emu_cpu_free(struct emu_cpu *c);
/* After the caller changed CR0/CR3/CR4/EFER or page tables behind emu's back. */
void emu_cpu_flush_tlb(struct emu_cpu *c);

/*
 * Executes the instruction at CS:RIP.  Faults (and INT n) are delivered
 * through the guest's IVT/IDT as the CPU does (error codes, CR2, stack
 * switch, #DF, triple fault); that counts as EMU_OK.
 */
enum emu_result emu_step(struct emu_cpu *c);

/*
 * Executes from CS:RIP to the end of a decoded block (docs/emu-speed.md):
 * at least one instruction, *n of them in all.  A block ends at every
 * control transfer, and at every instruction that can change the mode,
 * the privilege level, IF or the interrupt shadow, so a caller that looks
 * at interrupts between calls sees each window open; results as emu_step.
 */
enum emu_result emu_run_block(struct emu_cpu *c, unsigned *n);
/*
 * The same, going on to the next block while the last one ran only fast
 * forms, until about max instructions (so that interrupts are still looked
 * at soon enough); *n is how many ran.
 */
enum emu_result emu_run_blocks(struct emu_cpu *c, unsigned max, unsigned *n);
/* Blocks run, blocks decoded, and times the decoded blocks were all dropped for room. */
void emu_block_stats(const struct emu_cpu *c, uint64_t *runs, uint64_t *built, uint64_t *clears);

/* What the software TLB did (--stats). */
struct emu_tlb_stats {
	uint64_t walks;        /* page walks: TLB refills, and misses that faulted */
	uint64_t flushes;      /* flushes of every entry */
	uint64_t cr3_flushes;  /* new CR3s under CR4.PGE: global pages kept */
};
void emu_tlb_stats(const struct emu_cpu *c, struct emu_tlb_stats *out);

/*
 * The KVM rescue: executes at least one instruction, then keeps going while
 * an exception or interrupt that emu delivered is still being handled (its
 * IRET not yet executed), at most max_insns instructions in all.  Returns
 * EMU_OK once the guest is back on the code it was interrupted in.
 */
enum emu_result emu_run(struct emu_cpu *c, unsigned long max_insns);

/*
 * Delivers an external interrupt now (the caller checked RFLAGS.IF and the
 * interrupt shadow).  0, or -1 if delivery ended in a triple fault.
 */
int emu_interrupt(struct emu_cpu *c, uint8_t vector);

/*
 * Reads guest-virtual memory through the guest's page tables at the current
 * privilege, as a load would (accessed bits set), without delivering an
 * exception: 0, or -1 when the bytes are not readable.
 */
int emu_peek(struct emu_cpu *c, uint64_t lin, void *buf, unsigned size);

/* How many exceptions/interrupts delivered by emu still await their IRET. */
unsigned emu_nesting(const struct emu_cpu *c);

/* The last instruction emu_step looked at, for logs (len 0 if none). */
const struct x86_insn *emu_last_insn(const struct emu_cpu *c);

#endif
