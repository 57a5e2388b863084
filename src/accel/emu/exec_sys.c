/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System instructions: software interrupts and IRET, segment and control
 * register moves, descriptor tables, INVLPG, HLT, SYSCALL/SYSRET,
 * SYSENTER/SYSEXIT, SWAPGS,
 * RDTSC(P), RDMSR/WRMSR and CPUID (msr.c, cpuid.c).
 */
#include <sys/random.h>

#include "accel/emu/emu_int.h"

#define FL(x) X86_RFLAGS_##x

static int need_cpl0(struct emu_cpu *c)
{
	return emu_cpl(c) ? emu_gp(c, 0) : 0;
}

static int soft_int(struct emu_cpu *c, int vec, int kind)
{
	/* In virtual-8086 mode INT n (not INT3, INTO, INT1) may go to the 8086
	 * program's IVT (VME) and is IOPL-sensitive. */
	if (emu_v86(c) && c->insn.opcode == 0xcd) {
		int r = (c->s->cr4 & X86_CR4_VME) ? emu_v86_int(c, vec) : 1;

		if (r <= 0) {
			c->delivered = !r;
			return r;
		}
		if (emu_iopl(c) < 3)
			return emu_gp(c, 0);
	}
	c->delivered = 1;
	if (emu_deliver(c, vec, kind, 0, 0, c->next_rip)) {
		if (c->unimplemented)
			return -1;
		c->triple = 1;
	}
	c->fault = -1;
	return 0;
}

static int do_iret(struct emu_cpu *c)
{
	if (emu_iret(c))
		return -1;
	c->s->events.nmi_masked = 0;
	if (c->nesting)
		c->nesting--;
	return 0;
}

/* ---- control and debug registers ---- */

/*
 * What the TLB's entries and fast tags depend on: a change drops them all,
 * global pages too (SDM vol. 3 4.10.4.1; CR0.AM for the fast tags, which
 * are never made while alignment checking is on).
 */
#define CR0_TLB (X86_CR0_PG | X86_CR0_WP | X86_CR0_AM)
#define CR4_TLB (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_LA57 | X86_CR4_PCIDE | \
		 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE)

#define CR4_KNOWN (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | \
		   X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | \
		   X86_CR4_OSXMMEXCPT | X86_CR4_UMIP | X86_CR4_FSGSBASE | X86_CR4_PCIDE | \
		   X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE | (1ULL << 13))

static int write_cr0(struct emu_cpu *c, uint64_t v)
{
	struct x86_cpu_state *s = c->s;

	if (v >> 32)
		return emu_gp(c, 0);
	v |= X86_CR0_ET;
	if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
		return emu_gp(c, 0);
	if ((v & X86_CR0_NW) && !(v & X86_CR0_CD))
		return emu_gp(c, 0);
	if ((v & X86_CR0_PG) && !(s->cr0 & X86_CR0_PG) && (s->efer & X86_EFER_LME)) {
		if (!(s->cr4 & X86_CR4_PAE))
			return emu_gp(c, 0);
		s->efer |= X86_EFER_LMA;
	}
	if (!(v & X86_CR0_PG) && (s->cr0 & X86_CR0_PG) && emu_long_mode(c)) {
		if (emu_64bit(c))
			return emu_gp(c, 0);
		s->efer &= ~X86_EFER_LMA;
	}
	/* PAE paging (re)loads its PDPTEs when PG, CD or NW change. */
	if (((v ^ s->cr0) & (X86_CR0_PG | X86_CR0_CD | X86_CR0_NW)) &&
	    emu_pdpte_load(c, v, s->cr3, s->cr4))
		return -1;
	if ((v ^ s->cr0) & CR0_TLB)
		emu_tlb_flush(c);
	s->cr0 = v;
	return 0;
}

static int write_cr4(struct emu_cpu *c, uint64_t v)
{
	struct x86_cpu_state *s = c->s;

	if (v & ~CR4_KNOWN)
		return emu_gp(c, 0);
	if (emu_long_mode(c) && !(v & X86_CR4_PAE))
		return emu_gp(c, 0);
	if (((v ^ s->cr4) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE | X86_CR4_SMEP)) &&
	    emu_pdpte_load(c, s->cr0, s->cr3, v))
		return -1;
	if ((v ^ s->cr4) & CR4_TLB)
		emu_tlb_flush(c);
	s->cr4 = v;
	return 0;
}

static int mov_cr(struct emu_cpu *c, int load)
{
	const struct x86_insn *in = &c->insn;
	struct x86_cpu_state *s = c->s;
	unsigned size = emu_64bit(c) ? 8 : 4;
	int cr = in->reg;
	uint64_t v;

	if (in->lock && cr == 0)
		cr = 8;    /* AMD's LOCK MOV CR0 alias of CR8 */
	if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
		return emu_ud(c);
	if (need_cpl0(c))
		return -1;
	if (!load) {
		v = cr == 0 ? s->cr0 : cr == 2 ? s->cr2 : cr == 3 ? s->cr3 : cr == 4 ? s->cr4 : s->cr8;
		emu_reg_set(c, in->rm, size, 0, v);
		return 0;
	}
	v = emu_reg_get(c, in->rm, size, 0);
	switch (cr) {
	case 0:
		return write_cr0(c, v);
	case 2:
		s->cr2 = v;
		return 0;
	case 3:
		if ((s->cr4 & X86_CR4_PCIDE) && emu_long_mode(c))
			v &= ~(1ULL << 63);
		if (emu_pdpte_load(c, s->cr0, v, s->cr4))
			return -1;
		/* Even with bit 63 (no flush) under PCIDE: entries carry no PCID. */
		s->cr3 = v;
		emu_tlb_flush_cr3(c);
		return 0;
	case 4:
		return write_cr4(c, v);
	default:
		if (v >> 4)
			return emu_gp(c, 0);
		s->cr8 = v;
		return 0;
	}
}

static int mov_dr(struct emu_cpu *c, int load)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = emu_64bit(c) ? 8 : 4;
	int dr = in->reg;

	if (dr > 7)
		return emu_ud(c);
	if ((dr == 4 || dr == 5) && (c->s->cr4 & X86_CR4_DE))
		return emu_ud(c);
	if (dr == 4 || dr == 5)
		dr += 2;
	if (need_cpl0(c))
		return -1;
	/* General detect: a fault before the access; exec.c's deliver_fault sets BD. */
	if (c->s->dr[7] & EMU_DR7_GD)
		return emu_raise(c, EXC_DB, 0, 0);
	if (load)
		c->s->dr[dr] = emu_reg_get(c, in->rm, size, 0);
	else
		emu_reg_set(c, in->rm, size, 0, c->s->dr[dr]);
	return 0;
}

/* ---- segments and descriptor tables ---- */

static int mov_seg(struct emu_cpu *c, int load)
{
	const struct x86_insn *in = &c->insn;
	struct emu_operand o;
	int sreg = in->reg & 7;

	if (sreg > X86_GS)
		return emu_ud(c);
	if (!load) {
		emu_opnd_decode(c, OPND_E, in->mod == 3 ? in->opsize : 2, &o);
		return emu_opnd_write(c, &o, c->s->seg[sreg].selector);
	}
	if (sreg == X86_CS)
		return emu_ud(c);
	emu_opnd_decode(c, OPND_E, 2, &o);
	if (emu_opnd_read(c, &o))
		return -1;
	if (sreg == X86_SS)
		c->shadow = EMU_SHADOW_MOV_SS;
	return emu_load_seg(c, sreg, o.val);
}

static int load_far_seg(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	unsigned size = in->opsize;
	int sreg, seg;
	uint64_t a = emu_ea(c, &seg), off, sel;

	sreg = in->map == X86_MAP_ONE ? (in->opcode == 0xc4 ? X86_ES : X86_DS) :
	       in->opcode == 0xb2 ? X86_SS : in->opcode == 0xb4 ? X86_FS : X86_GS;
	if (emu_read_u(c, seg, a, size, &off) || emu_read_u(c, seg, a + size, 2, &sel))
		return -1;
	if (emu_load_seg(c, sreg, sel))
		return -1;
	emu_reg_set(c, in->reg, size, 0, off);
	return 0;
}

static int dtable(struct emu_cpu *c, int op)
{
	const struct x86_insn *in = &c->insn;
	struct x86_dtable *t = (op == OP_LGDT || op == OP_SGDT) ? &c->s->gdt : &c->s->idt;
	unsigned bsize = emu_64bit(c) ? 8 : 4;
	int seg;
	uint64_t a = emu_ea(c, &seg), limit, base;

	if (op == OP_SGDT || op == OP_SIDT) {
		uint8_t img[10];

		if ((c->s->cr4 & X86_CR4_UMIP) && emu_cpl(c))
			return emu_gp(c, 0);
		memcpy(img, &t->limit, 2);
		memcpy(img + 2, &t->base, bsize);
		/* One store, which #AC wants 4-byte aligned (SDM Table 6-7). */
		return emu_write_al(c, seg, a, img, 2 + bsize, 4);
	}
	if (need_cpl0(c))
		return -1;
	if (emu_read_u(c, seg, a, 2, &limit) || emu_read_u(c, seg, a + 2, bsize, &base))
		return -1;
	if (bsize == 4 && in->opsize == 2)
		base &= 0xffffff;
	t->limit = limit;
	t->base = base;
	return 0;
}

static int system_seg(struct emu_cpu *c, int op)
{
	struct emu_operand o;
	int sreg = (op == OP_LLDT || op == OP_SLDT) ? X86_LDTR : X86_TR;

	if (!emu_protected(c) || emu_v86(c))
		return emu_ud(c);
	if (op == OP_SLDT || op == OP_STR) {
		if ((c->s->cr4 & X86_CR4_UMIP) && emu_cpl(c))
			return emu_gp(c, 0);
		emu_opnd_decode(c, OPND_E, c->insn.mod == 3 ? c->insn.opsize : 2, &o);
		return emu_opnd_write(c, &o, c->s->seg[sreg].selector);
	}
	if (need_cpl0(c))
		return -1;
	emu_opnd_decode(c, OPND_E, 2, &o);
	if (emu_opnd_read(c, &o))
		return -1;
	return emu_load_system_seg(c, sreg, o.val);
}

static int msw(struct emu_cpu *c, int load)
{
	struct emu_operand o;

	if (!load) {
		if ((c->s->cr4 & X86_CR4_UMIP) && emu_cpl(c))
			return emu_gp(c, 0);
		emu_opnd_decode(c, OPND_E, c->insn.mod == 3 ? c->insn.opsize : 2, &o);
		return emu_opnd_write(c, &o, c->s->cr0 & 0xffff);
	}
	if (need_cpl0(c))
		return -1;
	emu_opnd_decode(c, OPND_E, 2, &o);
	if (emu_opnd_read(c, &o))
		return -1;
	/* LMSW can set PE but never clear it. */
	return write_cr0(c, (c->s->cr0 & ~0xeULL) | (o.val & 0xf) | (c->s->cr0 & X86_CR0_PE));
}

static int invlpg(struct emu_cpu *c)
{
	int seg;
	uint64_t a = emu_ea(c, &seg), lin;

	if (need_cpl0(c))
		return -1;
	if (emu_64bit(c))
		lin = a + ((seg == X86_FS || seg == X86_GS) ? c->s->seg[seg].base : 0);
	else
		lin = (c->s->seg[seg].base + a) & 0xffffffffULL;
	emu_tlb_flush_page(c, lin);
	return 0;
}

/* RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE: F3 0F AE /0../3 on a register. */
static int fsgsbase(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	struct x86_segment *seg = &c->s->seg[(in->reg & 1) ? X86_GS : X86_FS];
	unsigned size = (in->rex & 8) ? 8 : 4;
	uint64_t v;

	if (in->rep != 0xf3 || !emu_64bit(c) || !(c->s->cr4 & X86_CR4_FSGSBASE))
		return emu_ud(c);
	if (!(in->reg & 2)) {
		emu_reg_set(c, in->rm, size, 0, seg->base);
		return 0;
	}
	v = emu_reg_get(c, in->rm, size, 0);
	if ((uint64_t)((int64_t)(v << 16) >> 16) != v)
		return emu_gp(c, 0);
	seg->base = v;
	return 0;
}

/* ---- fast system calls ---- */

static int syscall_insn(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	uint64_t star = *emu_msr_slot(c, X86_MSR_STAR, 1), target;
	uint16_t sel = (star >> 32) & 0xfffc;

	if (!(s->efer & X86_EFER_SCE))
		return emu_ud(c);
	if (emu_long_mode(c)) {
		s->gpr[X86_RCX] = c->next_rip;
		s->gpr[X86_R11] = s->rflags & ~FL(RF);
		target = *emu_msr_slot(c, emu_64bit(c) ? X86_MSR_LSTAR : X86_MSR_CSTAR, 1);
		s->rflags &= ~(*emu_msr_slot(c, X86_MSR_SFMASK, 1) | FL(RF));
		x86_seg_flat(&s->seg[X86_CS], sel, 1, 64);
	} else {
		s->gpr[X86_RCX] = c->next_rip & 0xffffffffULL;
		target = star & 0xffffffffULL;
		s->rflags &= ~(FL(IF) | FL(VM) | FL(RF));
		x86_seg_flat(&s->seg[X86_CS], sel, 1, 32);
	}
	s->seg[X86_CS].type = 0xb;
	x86_seg_flat(&s->seg[X86_SS], sel + 8, 0, 32);
	s->rip = target;
	return 0;
}

static int sysret_insn(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	uint64_t star = *emu_msr_slot(c, X86_MSR_STAR, 1), rip;
	uint16_t base = (star >> 48) & 0xffff;
	int to64 = c->insn.opsize == 8;

	if (!(s->efer & X86_EFER_SCE) || !emu_protected(c))
		return emu_ud(c);
	if (emu_cpl(c))
		return emu_gp(c, 0);
	if (emu_io_check(c, EMU_IO_USER, 0))
		return -1;
	rip = to64 ? s->gpr[X86_RCX] : s->gpr[X86_RCX] & 0xffffffffULL;
	if (to64 && (uint64_t)((int64_t)(rip << 16) >> 16) != rip)
		return emu_gp(c, 0);
	if (emu_long_mode(c))
		s->rflags = (s->gpr[X86_R11] & 0x3c7fd7ULL) | X86_RFLAGS_FIXED;
	else
		s->rflags |= FL(IF);
	x86_seg_flat(&s->seg[X86_CS], ((to64 ? base + 16 : base) & 0xfffc) | 3, 1, to64 ? 64 : 32);
	s->seg[X86_CS].dpl = 3;
	x86_seg_flat(&s->seg[X86_SS], ((base + 8) & 0xfffc) | 3, 0, 32);
	s->seg[X86_SS].dpl = 3;
	s->rip = rip;
	return 0;
}

/* An MSR SYSENTER/SYSEXIT read; one never written reads 0 (a #GP for CS). */
static uint64_t kept_msr(struct emu_cpu *c, uint32_t idx)
{
	const uint64_t *slot = emu_msr_slot(c, idx, 0);

	return slot ? *slot : 0;
}

static int canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* SYSENTER as Intel defines it: also in 64-bit mode, where AMD has #UD. */
static int sysenter_insn(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	uint16_t sel = kept_msr(c, X86_MSR_SYSENTER_CS) & 0xfffc;
	uint64_t rsp = kept_msr(c, X86_MSR_SYSENTER_ESP), rip = kept_msr(c, X86_MSR_SYSENTER_EIP);
	int lma = emu_long_mode(c);

	if (!emu_protected(c) || !sel)
		return emu_gp(c, 0);
	s->rflags &= ~(FL(VM) | FL(IF) | FL(RF));
	x86_seg_flat(&s->seg[X86_CS], sel, 1, lma ? 64 : 32);
	x86_seg_flat(&s->seg[X86_SS], sel + 8, 0, 32);
	s->gpr[X86_RSP] = lma ? rsp : rsp & 0xffffffffULL;
	s->rip = lma ? rip : rip & 0xffffffffULL;
	return 0;
}

/* SYSEXIT, or with REX.W back to 64-bit code: CS and SS from SYSENTER_CS + 16/32. */
static int sysexit_insn(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	uint16_t base = kept_msr(c, X86_MSR_SYSENTER_CS);
	int to64 = c->insn.opsize == 8;
	uint64_t rip = s->gpr[X86_RDX], rsp = s->gpr[X86_RCX];

	if (!emu_protected(c) || !(base & 0xfffc) || emu_cpl(c))
		return emu_gp(c, 0);
	if (to64 && (!canonical(rip) || !canonical(rsp)))
		return emu_gp(c, 0);
	if (emu_io_check(c, EMU_IO_USER, 0))
		return -1;
	x86_seg_flat(&s->seg[X86_CS], (uint16_t)(base + (to64 ? 32 : 16)) | 3, 1, to64 ? 64 : 32);
	s->seg[X86_CS].dpl = 3;
	x86_seg_flat(&s->seg[X86_SS], (uint16_t)(base + (to64 ? 40 : 24)) | 3, 0, 32);
	s->seg[X86_SS].dpl = 3;
	s->gpr[X86_RSP] = to64 ? rsp : rsp & 0xffffffffULL;
	s->rip = to64 ? rip : rip & 0xffffffffULL;
	return 0;
}

static int swapgs(struct emu_cpu *c)
{
	uint64_t *k, t;

	if (!emu_64bit(c))
		return emu_ud(c);
	if (need_cpl0(c))
		return -1;
	k = emu_msr_slot(c, X86_MSR_KERNEL_GS_BASE, 1);
	t = c->s->seg[X86_GS].base;
	c->s->seg[X86_GS].base = *k;
	*k = t;
	return 0;
}

/*
 * RDRAND and RDSEED: the host kernel's random pool.  When it cannot answer
 * at once, CF=0 and a zero result, which is what the CPU reports when its
 * generator is drained, and guests retry.
 */
static int rdrand(struct emu_cpu *c)
{
	unsigned size = c->insn.opsize;
	uint64_t v = 0;
	int ok = getrandom(&v, size, GRND_NONBLOCK) == (ssize_t)size;

	if (!ok)
		v = 0;
	emu_reg_set(c, c->insn.rm, size, 0, v);
	c->s->rflags &= ~EMU_FLAGS_ARITH;
	if (ok)
		c->s->rflags |= FL(CF);
	return 0;
}

/*
 * CLFLUSH, CLFLUSHOPT, CLWB: no caches to write back, but the line must be
 * addressable: the segment checks and the page walk fault as for a read.
 */
static int cache_line_op(struct emu_cpu *c)
{
	uint64_t lin, pa;
	int seg;
	uint64_t off = emu_ea(c, &seg);

	if (emu_linear(c, seg, off, 1, ACC_READ, &lin))
		return -1;
	return emu_translate(c, lin, ACC_READ, &pa);
}

static int rdtsc(struct emu_cpu *c, int op)
{
	struct x86_cpu_state *s = c->s;
	uint64_t tsc, aux;

	if (op != OP_RDPID && (s->cr4 & X86_CR4_TSD) && emu_cpl(c))
		return emu_gp(c, 0);
	if (op == OP_RDPID && c->insn.rep != 0xf3)
		return rdrand(c);   /* RDSEED */
	if (emu_rdmsr(c, X86_MSR_TSC_AUX, &aux))
		aux = 0;
	c->fault = -1;
	if (op == OP_RDPID) {
		emu_reg_set(c, c->insn.rm, emu_64bit(c) ? 8 : 4, 0, aux);
		return 0;
	}
	emu_rdmsr(c, X86_MSR_IA32_TSC, &tsc);
	s->gpr[X86_RAX] = tsc & 0xffffffffULL;
	s->gpr[X86_RDX] = tsc >> 32;
	if (op == OP_RDTSCP)
		s->gpr[X86_RCX] = aux & 0xffffffffULL;
	return 0;
}

static int msr_insn(struct emu_cpu *c, int op)
{
	struct x86_cpu_state *s = c->s;
	uint32_t idx = s->gpr[X86_RCX];
	uint64_t v;

	if (need_cpl0(c))
		return -1;
	if (op == OP_WRMSR && emu_io_check(c, EMU_IO_WRMSR, idx))
		return -1;
	if (op == OP_WRMSR)
		return emu_wrmsr(c, idx, (s->gpr[X86_RDX] << 32) | (s->gpr[X86_RAX] & 0xffffffffULL));
	if (emu_rdmsr(c, idx, &v))
		return -1;
	s->gpr[X86_RAX] = v & 0xffffffffULL;
	s->gpr[X86_RDX] = v >> 32;
	return 0;
}

static int cpuid_insn(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	uint32_t out[4];

	if (emu_io_check(c, EMU_IO_CPUID, s->gpr[X86_RAX]))
		return -1;
	emu_cpuid_model(c, s->gpr[X86_RAX], s->gpr[X86_RCX], out);
	for (int i = 0; i < 4; i++)
		s->gpr[(int[]){ X86_RAX, X86_RBX, X86_RCX, X86_RDX }[i]] = out[i];
	return 0;
}

int emu_exec_sys(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	int op = in->op;

	switch (op) {
	case OP_NOP:
	case OP_PAUSE:
		return 0;
	case OP_FENCE:
		/* 66/F3/F2 make other instructions (TPAUSE, UMWAIT, INCSSP...)
		 * that this model lacks: #UD, as on the host CPU. */
		return emu_sse_prefix(in) == P_NONE ? 0 : emu_ud(c);
	case OP_CLFLUSH:     /* and CLFLUSHOPT (66), CLWB (66 0F AE /6) */
	case OP_XSAVEOPT:
		return cache_line_op(c);
	case OP_HLT:
		if (need_cpl0(c))
			return -1;
		c->halted = 1;
		return 0;
	case OP_UD:
		return emu_ud(c);
	case OP_INT:
		if (in->opcode == 0xf1)
			return soft_int(c, EXC_DB, EV_EXCEPTION);
		return soft_int(c, in->imm & 0xff, EV_SOFT_INT);
	case OP_INT3:
		return soft_int(c, EXC_BP, EV_SOFT_INT);
	case OP_INTO:
		return (c->s->rflags & FL(OF)) ? soft_int(c, EXC_OF, EV_SOFT_INT) : 0;
	case OP_IRET:
		return do_iret(c);
	case OP_MOV_SEG_LD:
	case OP_MOV_SEG_ST:
		return mov_seg(c, op == OP_MOV_SEG_LD);
	case OP_LSEG:
		return load_far_seg(c);
	case OP_MOV_CR_LD:
	case OP_MOV_CR_ST:
		return mov_cr(c, op == OP_MOV_CR_LD);
	case OP_MOV_DR_LD:
	case OP_MOV_DR_ST:
		return mov_dr(c, op == OP_MOV_DR_LD);
	case OP_LGDT:
	case OP_LIDT:
	case OP_SGDT:
	case OP_SIDT:
		return dtable(c, op);
	case OP_LLDT:
	case OP_SLDT:
	case OP_LTR:
	case OP_STR:
		return system_seg(c, op);
	case OP_LMSW:
	case OP_SMSW:
		return msw(c, op == OP_LMSW);
	case OP_INVLPG:
		return invlpg(c);
	case OP_CLTS:
		if (need_cpl0(c))
			return -1;
		c->s->cr0 &= ~X86_CR0_TS;
		return 0;
	case OP_WBINVD:
	case OP_INVD:
		return need_cpl0(c);
	case OP_RDMSR:
	case OP_WRMSR:
		return msr_insn(c, op);
	case OP_RDTSC:
	case OP_RDTSCP:
	case OP_RDPID:
		return rdtsc(c, op);
	case OP_CPUID:
		return cpuid_insn(c);
	case OP_RDRAND:
		return rdrand(c);
	case OP_FSGSBASE:
		return fsgsbase(c);
	case OP_SWAPGS:
		return swapgs(c);
	case OP_SYSCALL:
		return syscall_insn(c);
	case OP_SYSRET:
		return sysret_insn(c);
	case OP_SYSENTER:
		return sysenter_insn(c);
	case OP_SYSEXIT:
		return sysexit_insn(c);
	}
	return emu_unimpl(c);
}
