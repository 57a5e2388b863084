/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks emu makes on the way, in 32-bit protected mode (emu_task_rig.h)
 * unless a test says otherwise: BOUND's #BR, ARPL, RDPMC's #GP and the
 * counters a CPUID model offers; reserved bits in paging entries;
 * alignment checking (#AC); data, I/O and instruction breakpoints; the
 * real-mode layouts of FNSTENV/FLDENV/FNSAVE/FRSTOR.
 */
#include "emu_task_rig.h"

/* The EIP and EFLAGS a fault without an error code left on the ring-0 stack. */
static uint32_t frame_eip(void) { return r32(st.gpr[X86_RSP] & 0xffffffff); }

static void test_bound(void)
{
	setup();
	w32(0x8000, (uint32_t)-5);
	w32(0x8004, 100);
	put(CODE, "\x62\x05\x00\x80\x00\x00", 6);      /* bound eax, [0x8000] */
	st.gpr[X86_RAX] = (uint32_t)-5;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 6);
	st.rip = CODE;
	st.gpr[X86_RAX] = 100;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 6);
	/* Signed: -6 is below -5, 101 above 100; #BR names BOUND itself. */
	for (int k = 0; k < 2; k++) {
		st.rip = CODE;
		st.gpr[X86_RSP] = STACK;
		st.gpr[X86_RAX] = k ? 101 : (uint32_t)-6;
		CHECK_EQ(emu_step(cpu), EMU_OK);
		CHECK_EQ(st.rip, HANDLER + EXC_BR);
		CHECK_EQ(frame_eip(), CODE);
		CHECK_EQ(st.gpr[X86_RSP], STACK - 12);      /* no error code */
	}
	/* 16-bit operands: the bounds are words, the index is AX. */
	setup();
	w32(0x8000, 0x00100002);                        /* lower 2, upper 0x10 */
	put(CODE, "\x66\x62\x05\x00\x80\x00\x00", 7);
	st.gpr[X86_RAX] = 0xffff0010;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 7);
	st.rip = CODE;
	st.gpr[X86_RAX] = 0x00000001;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_BR);
	/* A register operand is #UD; so is 62 in 64-bit code (EVEX). */
	setup();
	put(CODE, "\x62\xc0", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
}

static void test_arpl(void)
{
	setup();
	put(CODE, "\x63\xc8", 2);                       /* arpl ax, cx */
	st.gpr[X86_RAX] = 0x12340010;
	st.gpr[X86_RCX] = 0x3;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0x12340013);
	CHECK(st.rflags & X86_RFLAGS_ZF);
	st.rip = CODE;
	st.gpr[X86_RCX] = 0x2;
	st.rflags |= X86_RFLAGS_CF;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0x12340013);
	CHECK(!(st.rflags & X86_RFLAGS_ZF));
	CHECK(st.rflags & X86_RFLAGS_CF);                /* only ZF changes */
	/* A memory destination, with 66 and without: always 16 bits. */
	w32(0x8000, 0xaaaa0020);
	put(CODE, "\x66\x63\x0d\x00\x80\x00\x00", 7);   /* arpl [0x8000], cx */
	st.rip = CODE;
	st.gpr[X86_RCX] = 1;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(r32(0x8000), 0xaaaa0021);
	CHECK(st.rflags & X86_RFLAGS_ZF);
	/* Not recognised in real mode. */
	setup();
	st.cr0 &= ~X86_CR0_PE;
	st.idt = (struct x86_dtable){ 0, 0x3ff };
	w32(EXC_UD * 4, 0x1000);                           /* #UD at 0000:1000 */
	x86_seg_real(&st.seg[X86_SS], 0, 0);
	x86_seg_real(&st.seg[X86_CS], CODE >> 4, 1);
	st.rip = 0;
	put(CODE, "\x63\xc8", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.seg[X86_CS].base, 0);
	CHECK_EQ(st.rip, 0x1000);
}

/* A CPUID model with architectural performance monitoring: 2 counters of
 * 48 bits, 3 fixed ones of 40. */
static void pmu_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)opaque;
	(void)sub;
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == 0)
		out[0] = 0xa;
	if (leaf == 0xa) {
		out[0] = 2 | 2 << 8 | 48 << 16;
		out[3] = 3 | 40 << 5;
	}
}

static uint32_t msr_read;

static int pmu_rdmsr(void *opaque, uint32_t idx, uint64_t *v)
{
	(void)opaque;
	msr_read = idx;
	*v = 0xfedcba9876543210ULL + idx;
	return 0;
}

static void test_rdpmc(void)
{
	struct emu_env env = { .mem = &mem, .cpuid = pmu_cpuid, .rdmsr = pmu_rdmsr };

	/* emu's model has no counters: #GP(0) even at CPL 0. */
	setup();
	put(CODE, "\x0f\x33", 2);
	st.gpr[X86_RCX] = 0;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_GP, 0);
	/* A model with counters: IA32_PMC1 and IA32_FIXED_CTR2, cut to their widths. */
	setup();
	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	put(CODE, "\x0f\x33", 2);
	st.gpr[X86_RCX] = 1;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(msr_read, 0xc2);
	CHECK_EQ(st.gpr[X86_RAX], 0x765432d2);
	CHECK_EQ(st.gpr[X86_RDX], 0xba98);
	st.rip = CODE;
	st.gpr[X86_RCX] = 0x40000002;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(msr_read, 0x30b);
	CHECK_EQ(st.gpr[X86_RDX], 0x98);
	/* Past the counts, or bit 31: #GP(0). */
	for (int k = 0; k < 3; k++) {
		st.rip = CODE;
		st.gpr[X86_RSP] = STACK;
		st.gpr[X86_RCX] = k == 0 ? 2 : k == 1 ? 0x40000003 : 0x80000000;
		CHECK_EQ(emu_step(cpu), EMU_OK);
		check_fault(EXC_GP, 0);
	}
	/* CPL 3: #GP(0) without CR4.PCE, allowed with it. */
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	st.gpr[X86_RCX] = 0;
	to_ring3();
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_GP);
	to_ring3();
	st.rip = CODE;
	st.cr4 |= X86_CR4_PCE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(msr_read, 0xc1);
}


/* Paging structures for the reserved-bit tests, above what the rig uses. */
#define PT_L4 0x100000
#define PT_L3 0x101000
#define PT_L2 0x102000
#define PT_L1 0x103000
#define PF_RSVD_READ 0x9u     /* P | RSVD */

static int translate(uint64_t lin, int acc)
{
	uint64_t pa;

	return emu_translate(cpu, lin, acc, &pa);
}

/* A model with 48-bit physical addresses and 1-GByte pages. */
static void wide_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)opaque;
	(void)sub;
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == 0x80000000)
		out[0] = 0x80000008;
	if (leaf == 0x80000001)
		out[3] = 1u << 26;
	if (leaf == 0x80000008)
		out[0] = 48;
}

/* 4-level paging: lin 0 -> 0x200000 through four levels of 4K tables. */
static void four_level(uint64_t efer)
{
	setup();
	w64(PT_L4, PT_L3 | 7);
	w64(PT_L3, PT_L2 | 7);
	w64(PT_L2, PT_L1 | 7);
	w64(PT_L1, 0x200000 | 7);
	st.efer = X86_EFER_LME | X86_EFER_LMA | efer;
	st.cr4 = X86_CR4_PAE;
	st.cr0 |= X86_CR0_PG;
	st.cr3 = PT_L4;
	emu_cpu_flush_tlb(cpu);
}

/* Sets bits in the entry at gpa; the access must fault with RSVD, then not once they are gone. */
static int rsvd_fault(uint64_t gpa, uint64_t bits, uint64_t lin, int acc, uint32_t err)
{
	uint64_t old = r64(gpa);
	int ok;

	w64(gpa, old | bits);
	emu_cpu_flush_tlb(cpu);
	ok = translate(lin, acc) == -1 && cpu->fault == EXC_PF && cpu->fault_err == err &&
	     cpu->fault_cr2 == lin;
	w64(gpa, old);
	emu_cpu_flush_tlb(cpu);
	return ok && translate(lin, acc) == 0;
}

static void test_reserved_bits_4level(void)
{
	struct emu_env env = { .mem = &mem, .cpuid = wide_cpuid };

	four_level(0);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	/* Above MAXPHYADDR (40 in emu's model), at every level. */
	CHECK(rsvd_fault(PT_L1, 1ULL << 40, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L1, 1ULL << 51, 0x123, ACC_WRITE, PF_RSVD_READ | 2));
	CHECK(rsvd_fault(PT_L2, 1ULL << 45, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L3, 1ULL << 40, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L4, 1ULL << 48, 0x123, ACC_READ, PF_RSVD_READ));
	w64(PT_L1, r64(PT_L1) | 1ULL << 39 | 1ULL << 52 | 1ULL << 62);   /* address bit, ignored bits */
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	w64(PT_L1, 0x200000 | 7);
	/* XD without EFER.NXE; PS in a PML4E; PS in a PDPTE without 1-GByte pages. */
	CHECK(rsvd_fault(PT_L1, 1ULL << 63, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L2, 1ULL << 63, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L4, 0x80, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L3, 0x80, 0x123, ACC_READ, PF_RSVD_READ));
	/* A 2-MByte page: bits 20:13 reserved, 12 is PAT. */
	w64(PT_L2, 0x200000 | 0x87);
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	CHECK(rsvd_fault(PT_L2, 1ULL << 13, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L2, 1ULL << 20, 0x123, ACC_READ, PF_RSVD_READ));
	w64(PT_L2, r64(PT_L2) | 1ULL << 12);
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	/* With NXE, XD is allowed, and a fetch's error code has I. */
	four_level(X86_EFER_NXE);
	w64(PT_L1, r64(PT_L1) | 1ULL << 63);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	w64(PT_L1, 0x200000 | 7);
	CHECK(rsvd_fault(PT_L1, 1ULL << 41, 0x123, ACC_EXEC, PF_RSVD_READ | 0x10));
	/* A cached translation stays usable until the page is flushed. */
	four_level(0);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	w64(PT_L1, r64(PT_L1) | 1ULL << 44);
	CHECK_EQ(translate(0x456, ACC_READ), 0);
	emu_tlb_flush_page(cpu, 0);
	CHECK_EQ(translate(0x456, ACC_READ), -1);
	CHECK_EQ(cpu->fault_err, PF_RSVD_READ);
	/* Another model: 48-bit addresses, 1-GByte pages (bits 29:13 reserved). */
	four_level(0);
	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	CHECK(rsvd_fault(PT_L1, 1ULL << 48, 0x123, ACC_READ, PF_RSVD_READ));
	w64(PT_L1, r64(PT_L1) | 1ULL << 47);
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	w64(PT_L3, 0x40000000 | 0x87);
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	CHECK(rsvd_fault(PT_L3, 1ULL << 29, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L3, 1ULL << 13, 0x123, ACC_READ, PF_RSVD_READ));
}

static void test_reserved_bits_32bit(void)
{
	setup();
	/* 32-bit paging, 4-MByte pages: no PSE-36 in emu's model, so bits 21:13 are reserved. */
	w32(PT_L4, 0x00400000 | 0x87);
	st.cr4 = X86_CR4_PSE;
	st.cr0 |= X86_CR0_PG;
	st.cr3 = PT_L4;
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	CHECK(rsvd_fault(PT_L4, 1ULL << 13, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L4, 1ULL << 21, 0x123, ACC_WRITE, PF_RSVD_READ | 2));
	/* Without CR4.PSE, PS is ignored: the entry points to a table. */
	st.cr4 = 0;
	w32(PT_L4, PT_L1 | 0x87 | 1u << 13);
	w32(PT_L1, 0x200000 | 7);
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);

	/* PAE paging: bits 62:52 reserved too, XD without NXE, a 2M page's 20:13. */
	setup();
	w64(PT_L3, PT_L2 | 1);
	w64(PT_L2, PT_L1 | 7);
	w64(PT_L1, 0x200000 | 7);
	st.cr4 = X86_CR4_PAE;
	st.cr0 |= X86_CR0_PG;
	st.cr3 = PT_L3;
	emu_cpu_flush_tlb(cpu);
	CHECK_EQ(translate(0x123, ACC_READ), 0);
	CHECK(rsvd_fault(PT_L1, 1ULL << 52, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L2, 1ULL << 62, 0x123, ACC_READ, PF_RSVD_READ));
	CHECK(rsvd_fault(PT_L1, 1ULL << 63, 0x123, ACC_READ, PF_RSVD_READ));
	w64(PT_L2, 0x200000 | 0x87);
	CHECK(rsvd_fault(PT_L2, 1ULL << 14, 0x123, ACC_READ, PF_RSVD_READ));
	/* A PDPTE the caller handed over with a reserved bit: RSVD on the walk. */
	CHECK(rsvd_fault(PT_L3, 1ULL << 2, 0x123, ACC_READ, PF_RSVD_READ));
}

/*
 * PAE's PDPTEs are loaded by MOV to CR3 and by the MOV to CR0 that turns
 * paging on: a reserved bit in a present one is #GP(0) and the register
 * keeps its value; the walks go on with the PDPTEs loaded before.
 */
static void test_pae_pdpte_load(void)
{
	setup();
	w64(PT_L3, PT_L2 | 1);
	w64(PT_L2, 0x83);                      /* 0-2M identity: code, tables, stack */
	st.cr4 = X86_CR4_PAE;
	st.cr3 = PT_L3;
	st.gpr[X86_RAX] = st.cr0 | X86_CR0_PG;
	put(CODE, "\x0f\x22\xc0\x0f\x22\xd9", 6);   /* mov cr0, eax; mov cr3, ecx */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 3);
	CHECK(st.cr0 & X86_CR0_PG);
	w64(PT_L3 + 8, 0x300000 | 1 | 2);      /* R/W is reserved in a PDPTE */
	w64(PT_L3 + 0x20 + 8, 0x300000 | 1);
	w64(PT_L3 + 0x20, PT_L2 | 1);
	st.gpr[X86_RCX] = PT_L3;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_GP, 0);
	CHECK_EQ(st.cr3, PT_L3);
	CHECK_EQ(translate(0x40000000, ACC_READ), -1);    /* the old PDPTE 1: not present */
	CHECK_EQ(cpu->fault_err, 0);
	/* A good table at another address loads. */
	st.rip = CODE + 3;
	st.gpr[X86_RSP] = STACK;
	st.gpr[X86_RCX] = PT_L3 + 0x20;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 6);
	CHECK_EQ(st.cr3, PT_L3 + 0x20);
	/* MOV to CR0 turning PAE paging on checks them too. */
	setup();
	w64(PT_L3, PT_L2 | 1 | 1ULL << 40);    /* above MAXPHYADDR */
	w64(PT_L2, 0x83);
	st.cr4 = X86_CR4_PAE;
	st.cr3 = PT_L3;
	st.gpr[X86_RAX] = st.cr0 | X86_CR0_PG;
	put(CODE, "\x0f\x22\xc0", 3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_fault(EXC_GP, 0);
	CHECK(!(st.cr0 & X86_CR0_PG));
}

/*
 * #AC at CPL 3 with CR0.AM and EFLAGS.AC, by operand (SDM Table 6-7 and
 * this AMD host, tried natively: MOVUPS checks 16): each case misaligned
 * faults with error code 0 before anything changes; the same code aligned
 * runs.  Data at 0x8000, ESI 0x8001, EDI 0x8100.
 */
static const struct { const char *b; unsigned len; int ac; } ac_cases[] = {
	{ "\xa1\x02\x80\x00\x00", 5, 1 },                 /* mov eax, [0x8002] */
	{ "\xa1\x04\x80\x00\x00", 5, 0 },                 /* mov eax, [0x8004] */
	{ "\x66\xa1\x01\x80\x00\x00", 6, 1 },             /* mov ax, [0x8001] */
	{ "\xa0\x03\x80\x00\x00", 5, 0 },                 /* mov al, [0x8003] */
	{ "\x66\xa5", 2, 1 },                             /* movsw from 0x8001 */
	{ "\xdb\x2d\x04\x80\x00\x00", 6, 1 },             /* fld tbyte [0x8004] */
	{ "\xdb\x2d\x08\x80\x00\x00", 6, 0 },             /* fld tbyte [0x8008] */
	{ "\xd9\x35\x02\x80\x00\x00", 6, 1 },             /* fnstenv [0x8002] (28 bytes) */
	{ "\xd9\x35\x04\x80\x00\x00", 6, 0 },             /* fnstenv [0x8004] */
	{ "\x66\xd9\x35\x02\x80\x00\x00", 7, 0 },         /* fnstenvw [0x8002] (14 bytes) */
	{ "\xf0\x83\x05\x01\x80\x00\x00\x01", 8, 1 },     /* lock add dword [0x8001], 1 */
	{ "\x0f\x10\x05\x08\x80\x00\x00", 7, 1 },         /* movups xmm0, [0x8008] */
	{ "\x0f\x2a\x05\x04\x80\x00\x00", 7, 1 },         /* cvtpi2ps xmm0, [0x8004] */
	{ "\x0f\xba\x25\x01\x80\x00\x00\x03", 8, 1 },     /* bt dword [0x8001], 3 */
	{ "\x0f\xc7\x0d\x04\x80\x00\x00", 7, 1 },         /* cmpxchg8b [0x8004] */
	{ "\x0f\x01\x05\x02\x80\x00\x00", 7, 1 },         /* sgdt [0x8002] */
	{ "\x0f\x01\x05\x04\x80\x00\x00", 7, 0 },         /* sgdt [0x8004] */
};

static void ac_setup(void)
{
	setup();
	to_ring3();
	st.cr0 |= X86_CR0_AM;
	st.cr4 |= X86_CR4_OSFXSR;
	st.rflags |= X86_RFLAGS_AC;
	st.gpr[X86_RSI] = 0x8001;
	st.gpr[X86_RDI] = 0x8100;
	w32(0x8000, 0x11223344);
}

static void test_alignment_check(void)
{
	for (unsigned i = 0; i < sizeof(ac_cases) / sizeof(ac_cases[0]); i++) {
		ac_setup();
		put(CODE, ac_cases[i].b, ac_cases[i].len);
		CHECK_EQ(emu_step(cpu), EMU_OK);
		if (!ac_cases[i].ac) {
			CHECK_EQ(st.rip, CODE + ac_cases[i].len);
			continue;
		}
		check_fault(EXC_AC, 0);
		CHECK_EQ(r32(st.gpr[X86_RSP] + 4), CODE);       /* a fault: EIP of the insn */
		CHECK_EQ(r32(0x8000), 0x11223344);
		CHECK_EQ(st.gpr[X86_RSI], 0x8001);
	}
	/* A push with a misaligned ESP. */
	ac_setup();
	st.gpr[X86_RSP] = STACK - 2;
	put(CODE, "\x50", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_AC);
	/* Not at CPL 0, not without CR0.AM, not without EFLAGS.AC. */
	for (int k = 0; k < 3; k++) {
		ac_setup();
		if (k == 0)
			emu_desc_to_seg(seg_desc(0, 0xfffff, 0x93, 0xc), 0, DS0, &st.seg[X86_SS], 0);
		else if (k == 1)
			st.cr0 &= ~X86_CR0_AM;
		else
			st.rflags &= ~X86_RFLAGS_AC;
		put(CODE, ac_cases[0].b, ac_cases[0].len);
		CHECK_EQ(emu_step(cpu), EMU_OK);
		CHECK_EQ(st.rip, CODE + ac_cases[0].len);
	}
}

/* DR7 for breakpoint n: enabled (L), with R/W rw and LEN len (0: 1 byte, 1: 2, 3: 4, 2: 8). */
static uint64_t dr7_bp(unsigned n, unsigned rw, unsigned len)
{
	return (1ULL << (2 * n)) | (uint64_t)(rw | len << 2) << (16 + 4 * n);
}

/* The #DB trap of the last step: after the instruction at next, DR6's B bits. */
static void check_db_trap(uint32_t next, unsigned b)
{
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(frame_eip(), next);
	CHECK_EQ(st.dr[6] & 0xf, b);
}

static enum emu_result step_at(const char *code, unsigned len)
{
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	put(CODE, code, len);
	return emu_step(cpu);
}

static void test_data_breakpoints(void)
{
	setup();
	st.dr[0] = 0x8000;
	st.dr[7] = dr7_bp(0, 1, 3);                              /* write, 4 bytes */
	st.dr[6] = 0xffff0ff8;                                  /* B3 from before */
	st.gpr[X86_RAX] = 0x1234;
	CHECK_EQ(step_at("\x66\xa3\x02\x80\x00\x00", 6), EMU_OK); /* mov [0x8002], ax */
	check_db_trap(CODE + 6, 1);                              /* a trap: the write is done */
	CHECK_EQ(r32(0x8000) >> 16, 0x1234);
	CHECK_EQ(step_at("\xa1\x00\x80\x00\x00", 5), EMU_OK);    /* a read: no */
	CHECK_EQ(st.rip, CODE + 5);
	st.dr[7] = dr7_bp(0, 3, 3);                              /* read or write */
	CHECK_EQ(step_at("\xa1\x00\x80\x00\x00", 5), EMU_OK);
	check_db_trap(CODE + 5, 1);
	/* LEN 1 at 0x8003 meets a dword at 0x8000, not one at 0x8004; LEN 8
	 * ignores the address's low bits (DR1 0x800c covers 0x8008-0x800f). */
	st.dr[0] = 0x8003;
	st.dr[1] = 0x800c;
	st.dr[7] = dr7_bp(0, 1, 0) | dr7_bp(1, 1, 2);
	CHECK_EQ(step_at("\xa3\x00\x80\x00\x00", 5), EMU_OK);    /* mov [0x8000], eax */
	check_db_trap(CODE + 5, 1);
	CHECK_EQ(step_at("\xa3\x04\x80\x00\x00", 5), EMU_OK);
	CHECK_EQ(st.rip, CODE + 5);
	CHECK_EQ(step_at("\xa2\x0f\x80\x00\x00", 5), EMU_OK);    /* mov [0x800f], al */
	check_db_trap(CODE + 5, 2);
	st.dr[0] = 0x8007;
	CHECK_EQ(step_at("\xa3\x06\x80\x00\x00", 5), EMU_OK);    /* both: 0x8006-0x8009 */
	check_db_trap(CODE + 5, 3);
	/* Not enabled: nothing. */
	st.dr[7] = (uint64_t)1 << 16;
	CHECK_EQ(step_at("\xa3\x00\x80\x00\x00", 5), EMU_OK);
	CHECK_EQ(st.rip, CODE + 5);
	/* With single-step: one #DB, BS and B0. */
	st.dr[0] = 0x8000;
	st.dr[6] = 0;
	st.dr[7] = dr7_bp(0, 1, 3);
	st.rflags |= X86_RFLAGS_TF;
	CHECK_EQ(step_at("\xa3\x00\x80\x00\x00", 5), EMU_OK);
	check_db_trap(CODE + 5, 1);
	CHECK_EQ(st.dr[6], EMU_DR6_BS | 1);
	CHECK_EQ(st.gpr[X86_RSP], STACK - 12);                   /* one frame */
	st.rflags &= ~X86_RFLAGS_TF;
	/* An instruction that faults after meeting one reports the fault alone:
	 * MOVSD reads 0x8000, then its write is past ES's limit (#GP). */
	st.dr[6] = 0;
	st.dr[7] = dr7_bp(0, 3, 3);
	st.gpr[X86_RSI] = 0x8000;
	st.gpr[X86_RDI] = 0x9000;
	emu_desc_to_seg(seg_desc(0, 0x8fff, 0x93, 0x4), 0, DS0, &st.seg[X86_ES], 0);
	CHECK_EQ(step_at("\xa5", 1), EMU_OK);
	check_fault(EXC_GP, 0);
	CHECK_EQ(st.dr[6], 0);
}

/*
 * REP MOVSB over a write breakpoint: the trap comes after the iteration
 * that wrote it, with the registers of that moment and EIP at the REP,
 * whose EFLAGS image has RF (the iteration was not the last).
 */
static void test_rep_data_breakpoint(void)
{
	setup();
	st.dr[0] = 0x8105;
	st.dr[7] = dr7_bp(0, 1, 0);
	st.gpr[X86_RSI] = 0x8000;
	st.gpr[X86_RDI] = 0x8100;
	st.gpr[X86_RCX] = 16;
	CHECK_EQ(step_at("\xf3\xa4", 2), EMU_OK);                /* rep movsb */
	check_db_trap(CODE, 1);
	CHECK_EQ(st.gpr[X86_RCX], 10);
	CHECK_EQ(st.gpr[X86_RDI], 0x8106);
	CHECK(r32(st.gpr[X86_RSP] + 8) & X86_RFLAGS_RF);
	/* The last iteration on it: EIP after the REP, RF clear. */
	setup();
	st.dr[0] = 0x8105;
	st.dr[7] = dr7_bp(0, 1, 0);
	st.gpr[X86_RSI] = 0x8000;
	st.gpr[X86_RDI] = 0x8100;
	st.gpr[X86_RCX] = 6;
	CHECK_EQ(step_at("\xf3\xa4", 2), EMU_OK);
	check_db_trap(CODE + 2, 1);
	CHECK_EQ(st.gpr[X86_RCX], 0);
	CHECK(!(r32(st.gpr[X86_RSP] + 8) & X86_RFLAGS_RF));
}

static void test_io_breakpoints(void)
{
	setup();
	st.dr[0] = 0x80;
	st.dr[7] = dr7_bp(0, 2, 0);
	st.cr4 |= X86_CR4_DE;
	CHECK_EQ(step_at("\xe6\x80", 2), EMU_OK);                /* out 0x80, al */
	check_db_trap(CODE + 2, 1);
	CHECK_EQ(port_last, 0x80);
	st.gpr[X86_RDX] = 0x7f;
	CHECK_EQ(step_at("\x66\xed", 2), EMU_OK);                /* in ax, dx: 0x7f-0x80 */
	check_db_trap(CODE + 2, 1);
	CHECK_EQ(step_at("\xe6\x81", 2), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	st.gpr[X86_RDX] = 0x80;
	st.gpr[X86_RSI] = 0x8000;
	st.gpr[X86_RCX] = 3;
	CHECK_EQ(step_at("\xf3\x6e", 2), EMU_OK);                /* rep outsb: after the first */
	check_db_trap(CODE, 1);
	CHECK_EQ(st.gpr[X86_RCX], 2);
	/* R/W 10 without CR4.DE is no I/O breakpoint. */
	st.cr4 &= ~X86_CR4_DE;
	CHECK_EQ(step_at("\xe6\x80", 2), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	/* A data breakpoint on the data OUTS reads. */
	st.dr[0] = 0x8000;
	st.dr[7] = dr7_bp(0, 3, 0);
	st.gpr[X86_RSI] = 0x8000;
	CHECK_EQ(step_at("\x6e", 1), EMU_OK);
	check_db_trap(CODE + 1, 1);
}

/*
 * An instruction breakpoint is a #DB fault before the instruction, its
 * EFLAGS image with RF as it was (clear); with RF set the instruction runs
 * and RF goes; IRET brings RF back from the frame.
 */
static void test_instruction_breakpoints(void)
{
	setup();
	st.dr[0] = CODE;
	st.dr[7] = dr7_bp(0, 0, 0);
	st.gpr[X86_RAX] = 1;
	CHECK_EQ(step_at("\x40\x40", 2), EMU_OK);                /* inc eax; inc eax */
	check_db_trap(CODE, 1);                                  /* a fault: EIP of the insn */
	CHECK_EQ(st.gpr[X86_RAX], 1);
	CHECK(!(r32(st.gpr[X86_RSP] + 8) & X86_RFLAGS_RF));
	/* The handler returns with RF set in the image: the INC runs once, then RF is clear. */
	put(HANDLER + EXC_DB, "\xcf", 1);                        /* iret */
	w32(st.gpr[X86_RSP] + 8, r32(st.gpr[X86_RSP] + 8) | X86_RFLAGS_RF);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE);
	CHECK(st.rflags & X86_RFLAGS_RF);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 1);
	CHECK_EQ(st.gpr[X86_RAX], 2);
	CHECK(!(st.rflags & X86_RFLAGS_RF));
	/* Another address: a breakpoint at CODE + 1 with CS based elsewhere is not met. */
	st.dr[0] = CODE + 1;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	check_db_trap(CODE + 1, 1);
	/* A fault's frame has RF set: IRET back to it spares it the breakpoint. */
	setup();
	st.dr[0] = CODE;
	st.dr[7] = dr7_bp(0, 0, 0);
	st.rflags |= X86_RFLAGS_RF;
	CHECK_EQ(step_at("\x0f\x0b", 2), EMU_OK);                /* ud2 */
	CHECK_EQ(st.rip, HANDLER + EXC_UD);
	CHECK(r32(st.gpr[X86_RSP] + 8) & X86_RFLAGS_RF);
}

/* 64-bit code at CPL 0 with the rig's memory identity mapped (a 2M page). */
static void long_mode(void)
{
	setup();
	w64(PT_L4, PT_L3 | 7);
	w64(PT_L3, PT_L2 | 7);
	w64(PT_L2, 0x87);
	w64(GDT + SPARE_SEL, seg_desc(0, 0xfffff, 0x9a, 0xa));
	for (uint64_t v = 0; v < 32; v++) {
		w64(IDT + 16 * v, ((HANDLER + v) & 0xffff) | (uint64_t)SPARE_SEL << 16 |
				  0x8eULL << 40 | ((HANDLER + v) >> 16) << 48);
		w64(IDT + 16 * v + 8, 0);
	}
	st.idt = (struct x86_dtable){ IDT, 32 * 16 - 1 };
	st.efer = X86_EFER_LME | X86_EFER_LMA;
	st.cr4 = X86_CR4_PAE;
	st.cr0 |= X86_CR0_PG;
	st.cr3 = PT_L4;
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0x9b, 0xa), 0, SPARE_SEL, &st.seg[X86_CS], 1);
	emu_cpu_flush_tlb(cpu);
}

/*
 * The fast forms and decoded blocks step aside while DR7 arms a
 * breakpoint: a 64-bit store that is a fast form traps in a block, and
 * after DR7 is cleared it runs there again.
 */
static void test_breakpoints_in_blocks(void)
{
	unsigned n;

	long_mode();
	st.gpr[X86_RBX] = 0x8000;
	put(CODE, "\x89\x03\x90\xeb\xfe", 5);                    /* mov [rbx], eax; nop; jmp . */
	CHECK_EQ(emu_run_block(cpu, &n), EMU_OK);                /* no breakpoint: the whole block */
	CHECK_EQ(st.rip, CODE + 3);
	CHECK_EQ(n, 3);
	st.rip = CODE;
	st.dr[0] = 0x8000;
	st.dr[7] = dr7_bp(0, 1, 3);
	CHECK_EQ(emu_run_block(cpu, &n), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + EXC_DB);
	CHECK_EQ(r64(st.gpr[X86_RSP]), CODE + 2);
	CHECK_EQ(st.dr[6] & 0xf, 1);
}

static uint16_t r16(uint64_t gpa) { uint16_t v = 0; guest_mem_read(&mem, gpa, &v, 2); return v; }

/*
 * Real mode: the x87 pointers are linear (CS 0x1000:0x20 is 0x10020, DS
 * 0x1800:0x10 is 0x18010), and FNSTENV/FNSAVE store them in the real-mode
 * layouts, FLDENV/FRSTOR read them back from there.
 */
static void test_x87_env_real_mode(void)
{
	uint64_t v;

	setup();
	st.cr0 &= ~X86_CR0_PE;
	st.idt = (struct x86_dtable){ 0, 0x3ff };
	x86_seg_real(&st.seg[X86_CS], 0x1000, 1);
	x86_seg_real(&st.seg[X86_DS], 0x1800, 0);
	x86_seg_real(&st.seg[X86_SS], 0, 0);
	memset(st.xsave, 0, 512);
	st.xsave[0] = 0x7f;                       /* FCW 0x037f */
	st.xsave[1] = 0x03;
	/* fadd dword [0x10]; fnstenv [0x100]; o32 fnstenv [0x120] */
	put(0x10020, "\xd8\x06\x10\x00\xd9\x36\x00\x01\x66\xd9\x36\x20\x01", 13);
	st.rip = 0x20;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x2d);
	memcpy(&v, st.xsave + 8, 8);
	CHECK_EQ(v, 0x10020);                     /* FIP: linear */
	memcpy(&v, st.xsave + 16, 8);
	CHECK_EQ(v, 0x18010);                     /* FDP: linear */
	/* 16-bit image: IP 15:0, IP 19:16 beside FOP, OP 15:0, OP 19:16. */
	CHECK_EQ(r16(0x18100 + 6), 0x0020);
	CHECK_EQ(r16(0x18100 + 8), 0x1006);
	CHECK_EQ(r16(0x18100 + 10), 0x8010);
	CHECK_EQ(r16(0x18100 + 12), 0x1000);
	/* 32-bit image: the same pointers' bits 31:16 at bit 12. */
	CHECK_EQ(r32(0x18120 + 12), 0xffff0020);
	CHECK_EQ(r32(0x18120 + 16), 0x00001006);
	CHECK_EQ(r32(0x18120 + 20), 0xffff8010);
	CHECK_EQ(r32(0x18120 + 24), 0x00001000);
	/* FLDENV from both layouts. */
	w16(0x18140 + 6, 0xabcd);
	w16(0x18140 + 8, 0x5123);
	w16(0x18140 + 10, 0x1234);
	w16(0x18140 + 12, 0x7000);
	w32(0x18160 + 12, 0x5678);
	w32(0x18160 + 16, 0x01234000 | 0x7ff);
	w32(0x18160 + 20, 0x9abc);
	w32(0x18160 + 24, 0x00def000);
	put(0x10040, "\xd9\x26\x40\x01\x66\xd9\x26\x60\x01", 9);   /* fldenv; o32 fldenv */
	st.rip = 0x40;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	memcpy(&v, st.xsave + 8, 8);
	CHECK_EQ(v, 0x5abcd);
	CHECK_EQ(st.xsave[6] | st.xsave[7] << 8, 0x123);
	memcpy(&v, st.xsave + 16, 8);
	CHECK_EQ(v, 0x71234);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	memcpy(&v, st.xsave + 8, 8);
	CHECK_EQ(v, 0x12345678);
	CHECK_EQ(st.xsave[6] | st.xsave[7] << 8, 0x7ff);
	memcpy(&v, st.xsave + 16, 8);
	CHECK_EQ(v, 0xdef9abc);
	/* FNSAVE (16-bit, 94 bytes) and FRSTOR: the same layout, the registers after it. */
	st.xsave[32] = 0x5a;
	put(0x10060, "\xdd\x36\x00\x02\xdd\x26\x00\x02", 8);       /* fnsave [0x200]; frstor [0x200] */
	st.rip = 0x60;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(r16(0x18200 + 6), 0x5678);
	CHECK_EQ(r16(0x18200 + 8), 0x4000 | 0x7ff);          /* IP 19:16 of 0x12345678 */
	CHECK_EQ(r16(0x18200 + 12), 0xf000);
	CHECK_EQ(r16(0x18200 + 14), 0x5a);                    /* ST0 follows the 14 bytes */
	memcpy(&v, st.xsave + 8, 8);
	CHECK_EQ(v, 0);                                       /* FNINIT'd */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	memcpy(&v, st.xsave + 8, 8);
	CHECK_EQ(v, 0x45678);
	CHECK_EQ(st.xsave[32], 0x5a);
}

int main(void)
{
	RUN(test_bound);
	RUN(test_arpl);
	RUN(test_rdpmc);
	RUN(test_reserved_bits_4level);
	RUN(test_reserved_bits_32bit);
	RUN(test_pae_pdpte_load);
	RUN(test_alignment_check);
	RUN(test_data_breakpoints);
	RUN(test_rep_data_breakpoint);
	RUN(test_io_breakpoints);
	RUN(test_instruction_breakpoints);
	RUN(test_breakpoints_in_blocks);
	RUN(test_x87_env_real_mode);
	rig_free();
	return TEST_EXIT();
}
