/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Software CPU system tests: page walks, exception delivery through a
 * hand-built IDT/GDT/TSS, IRETQ, CMPXCHG16B, CLAC/STAC, XRSTOR/XSAVE,
 * FSGSBASE, and the hooks a caller uses to take instructions back.
 */
#include "emu_rig64.h"
#include "test.h"

static void to_user(void)
{
	x86_seg_flat(&st.seg[X86_CS], 0x23, 1, 64);
	st.seg[X86_CS].dpl = 3;
	x86_seg_flat(&st.seg[X86_SS], 0x1b, 0, 32);
	st.seg[X86_SS].dpl = 3;
}

static void test_int3_same_privilege(void)
{
	setup64();
	idt_gate(3, HANDLER, 0, 0);
	put(CODE, "\xcc\x90", 2);
	put(HANDLER, "\x0f\x01\xca\x48\xcf", 5);   /* clac; iretq */
	st.rflags |= X86_RFLAGS_IF | X86_RFLAGS_AC;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.gpr[X86_RSP], STACK - 40);
	CHECK_EQ(r64(STACK - 40), CODE + 1);          /* RIP after the int3 */
	CHECK_EQ(r64(STACK - 32), 0x08);
	CHECK(r64(STACK - 24) & X86_RFLAGS_IF);
	CHECK_EQ(r64(STACK - 16), STACK);
	CHECK_EQ(r64(STACK - 8), 0x10);
	CHECK(!(st.rflags & X86_RFLAGS_IF));          /* interrupt gate */
	CHECK_EQ(emu_nesting(cpu), 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);              /* clac */
	CHECK(!(st.rflags & X86_RFLAGS_AC));
	CHECK_EQ(emu_step(cpu), EMU_OK);              /* iretq */
	CHECK_EQ(st.rip, CODE + 1);
	CHECK_EQ(st.gpr[X86_RSP], STACK);
	CHECK(st.rflags & X86_RFLAGS_IF);
	CHECK(st.rflags & X86_RFLAGS_AC);              /* restored from the frame */
	CHECK_EQ(emu_nesting(cpu), 0);
}

static void test_emu_run_until_iret(void)
{
	setup64();
	idt_gate(3, HANDLER, 0, 0);
	put(CODE, "\xcc\x90", 2);
	put(HANDLER, "\x48\xff\xc0\x48\xff\xc0\x48\xcf", 8);   /* inc rax x2; iretq */
	CHECK_EQ(emu_run(cpu, 100), EMU_OK);
	CHECK_EQ(st.rip, CODE + 1);
	CHECK_EQ(st.gpr[X86_RAX], 2);
	/* A plain instruction: one step only. */
	CHECK_EQ(emu_run(cpu, 100), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	/* A handler that never returns hits the budget. */
	setup64();
	idt_gate(3, HANDLER, 0, 0);
	put(CODE, "\xcc", 1);
	put(HANDLER, "\xeb\xfe", 2);
	CHECK_EQ(emu_run(cpu, 50), EMU_LIMIT);
}

static void test_int3_from_user_switches_stack(void)
{
	setup64();
	idt_gate(3, HANDLER, 3, 0);
	put(CODE, "\xcc", 1);
	put(HANDLER, "\x48\xcf", 2);
	to_user();
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.seg[X86_CS].selector, 0x08);
	CHECK_EQ(emu_cpl(cpu), 0);
	CHECK_EQ(st.gpr[X86_RSP], RSP0 - 40);
	CHECK_EQ(r64(RSP0 - 40), CODE + 1);
	CHECK_EQ(r64(RSP0 - 32), 0x23);
	CHECK_EQ(r64(RSP0 - 16), STACK);
	CHECK_EQ(r64(RSP0 - 8), 0x1b);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(st.seg[X86_CS].selector, 0x23);
	CHECK_EQ(st.gpr[X86_RSP], STACK);
	CHECK_EQ(st.rip, CODE + 1);
	/* Gate DPL 0: INT3 from CPL 3 is #GP(3*8+2). */
	setup64();
	idt_gate(3, HANDLER, 0, 0);
	idt_gate(13, HANDLER + 0x100, 0, 0);
	put(CODE, "\xcc", 1);
	to_user();
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x100);
	CHECK_EQ(r64(RSP0 - 48), 3 * 8 + 2);
	CHECK_EQ(r64(RSP0 - 40), CODE);
}

static void test_page_fault_ist_and_cr2(void)
{
	setup64();
	idt_gate(14, HANDLER, 0, 1);
	w64(PT + (DATA >> 12) * 8, 0);                 /* DATA not present */
	put(CODE, "\x48\x89\x18", 3);                   /* mov [rax], rbx */
	st.gpr[X86_RAX] = DATA + 0x10;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.cr2, DATA + 0x10);
	CHECK_EQ(st.gpr[X86_RSP], IST1 - 48);
	CHECK_EQ(r64(IST1 - 48), 2);                    /* W, not present, supervisor */
	CHECK_EQ(r64(IST1 - 40), CODE);                 /* faulting instruction */
	/* Accessed bits were set on the way down. */
	CHECK(r64(PML4) & 0x20);
	CHECK(r64(PD) & 0x20);
}

static void test_double_and_triple_fault(void)
{
	setup64();
	idt_gate(8, HANDLER, 0, 1);
	put(CODE, "\x8b\x00", 2);                       /* mov eax, [rax] */
	st.gpr[X86_RAX] = 0x7fff00000000ULL;            /* unmapped: #PF */
	/* #PF gate not present: #NP during #PF delivery is a double fault. */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(r64(IST1 - 48), 0);                    /* #DF error code */
	setup64();
	st.idt.limit = 0;
	put(CODE, "\x0f\x0b", 2);                       /* ud2 with no IDT */
	CHECK_EQ(emu_step(cpu), EMU_TRIPLE_FAULT);
}

static void test_paging_permissions(void)
{
	uint64_t pa;

	setup64();
	/* A supervisor-only, read-only page, and an NX page. */
	w64(PT + (DATA >> 12) * 8, DATA | 1);
	w64(PT + ((DATA >> 12) + 1) * 8, (DATA + 0x1000) | 7 | (1ULL << 63));
	CHECK_EQ(emu_translate(cpu, DATA + 5, ACC_READ, &pa), 0);
	CHECK_EQ(pa, DATA + 5);
	CHECK(!(r64(PT + (DATA >> 12) * 8) & 0x40));   /* read: no D bit */
	CHECK_EQ(emu_translate(cpu, DATA, ACC_WRITE, &pa), -1);
	CHECK_EQ(cpu->fault, EXC_PF);
	CHECK_EQ(cpu->fault_err, 3);                   /* P | W */
	st.cr0 &= ~X86_CR0_WP;                          /* supervisor ignores R/W */
	emu_tlb_flush(cpu);
	CHECK_EQ(emu_translate(cpu, DATA, ACC_WRITE, &pa), 0);
	CHECK(r64(PT + (DATA >> 12) * 8) & 0x40);      /* D set by the write */
	to_user();
	CHECK_EQ(emu_translate(cpu, DATA, ACC_READ, &pa), -1);
	CHECK_EQ(cpu->fault_err, 5);                   /* P | U */
	CHECK_EQ(emu_translate(cpu, DATA + 0x1000, ACC_EXEC, &pa), -1);
	CHECK_EQ(cpu->fault_err, 0x15);                /* P | U | I */
	/* SMEP / SMAP on a user page from CPL 0. */
	setup64();
	st.cr4 |= X86_CR4_SMEP | X86_CR4_SMAP;
	CHECK_EQ(emu_translate(cpu, DATA, ACC_EXEC, &pa), -1);
	CHECK_EQ(cpu->fault_err, 0x11);
	CHECK_EQ(emu_translate(cpu, DATA, ACC_READ, &pa), -1);
	st.rflags |= X86_RFLAGS_AC;
	CHECK_EQ(emu_translate(cpu, DATA, ACC_READ, &pa), 0);
	CHECK_EQ(emu_translate(cpu, DATA, ACC_READ | ACC_SUPER, &pa), -1);
}

static void test_paging_modes(void)
{
	uint64_t pa;
	uint32_t pde;

	setup64();
	/* 2 MiB page at 2 MiB -> 0 in 4-level mode. */
	w64(PD + 8, 0 | 0x87);
	CHECK_EQ(emu_translate(cpu, 0x200123, ACC_READ, &pa), 0);
	CHECK_EQ(pa, 0x123);
	/* 32-bit paging: a 4 MiB PSE page and a 4K page. */
	st.efer = 0;
	st.cr4 = X86_CR4_PSE;
	st.cr3 = PML4;
	x86_seg_flat(&st.seg[X86_CS], 0x08, 1, 32);
	pde = 0x00000087;                               /* 4M page at 0 */
	guest_mem_write(&mem, PML4 + 4 * 1, &pde, 4);   /* maps 4M-8M -> 0 */
	pde = PT | 7;
	guest_mem_write(&mem, PML4 + 0, &pde, 4);
	for (int i = 0; i < 16; i++) {
		uint32_t pte = (0x100000 + i * 0x1000) | 7;
		guest_mem_write(&mem, PT + i * 4, &pte, 4);
	}
	emu_tlb_flush(cpu);
	CHECK_EQ(emu_translate(cpu, 0x400abc, ACC_READ, &pa), 0);
	CHECK_EQ(pa, 0xabc);
	CHECK_EQ(emu_translate(cpu, 0x2010, ACC_WRITE, &pa), 0);
	CHECK_EQ(pa, 0x102010);
	/* PAE: PDPTE -> PD -> 2M page. */
	memset(mem.base + PML4, 0, 0x2000);
	w64(PML4, PDPT | 1);
	w64(PDPT, 0x600000 | 0x83);
	st.cr4 = X86_CR4_PAE;
	emu_tlb_flush(cpu);
	CHECK_EQ(emu_translate(cpu, 0x1234, ACC_READ, &pa), 0);
	CHECK_EQ(pa, 0x601234);
	CHECK_EQ(emu_translate(cpu, 0x40000000, ACC_READ, &pa), -1);
}

static void test_cross_page_write_is_atomic_wrt_fault(void)
{
	setup64();
	idt_gate(14, HANDLER, 0, 0);
	w64(PT + ((DATA >> 12) + 1) * 8, 0);
	memset(mem.base + DATA + 0xff8, 0xaa, 8);
	put(CODE, "\x48\x89\x18", 3);                   /* mov [rax], rbx */
	st.gpr[X86_RAX] = DATA + 0xffc;
	st.gpr[X86_RBX] = 0;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.cr2, DATA + 0x1000);
	CHECK_EQ(r64(DATA + 0xff8), 0xaaaaaaaaaaaaaaaaULL);   /* nothing written */
}

static void test_cmpxchg16b(void)
{
	setup64();
	put(CODE, "\xf0\x48\x0f\xc7\x0f\xf0\x48\x0f\xc7\x0f", 10);   /* lock cmpxchg16b [rdi] x2 */
	w64(DATA, 1);
	w64(DATA + 8, 2);
	st.gpr[X86_RDI] = DATA;
	st.gpr[X86_RAX] = 1;
	st.gpr[X86_RDX] = 2;
	st.gpr[X86_RBX] = 0x1111;
	st.gpr[X86_RCX] = 0x2222;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_ZF);
	CHECK_EQ(r64(DATA), 0x1111);
	CHECK_EQ(r64(DATA + 8), 0x2222);
	CHECK_EQ(emu_step(cpu), EMU_OK);                /* now it differs */
	CHECK(!(st.rflags & X86_RFLAGS_ZF));
	CHECK_EQ(st.gpr[X86_RAX], 0x1111);
	CHECK_EQ(st.gpr[X86_RDX], 0x2222);
	/* Misaligned: #GP(0). */
	setup64();
	idt_gate(13, HANDLER, 0, 0);
	put(CODE, "\xf0\x48\x0f\xc7\x0f", 5);
	st.gpr[X86_RDI] = DATA + 8;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
}

static void test_clac_stac(void)
{
	setup64();
	put(CODE, "\x0f\x01\xcb\x0f\x01\xca", 6);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(st.rflags & X86_RFLAGS_AC);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK(!(st.rflags & X86_RFLAGS_AC));
	CHECK_EQ(st.rip, CODE + 6);
	setup64();
	idt_gate(6, HANDLER, 0, 0);
	put(CODE, "\x0f\x01\xcb", 3);
	to_user();
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);                      /* #UD at CPL 3 */
	CHECK(!(st.rflags & X86_RFLAGS_AC));
}

static void test_xrstor_xsave(void)
{
	uint8_t area[1024] = { 0 };
	uint64_t bv;

	setup64();
	for (int i = 0; i < 16; i++)
		area[160 + i] = 0x40 + i;                   /* XMM0 */
	area[24] = 0x80;                                /* MXCSR 0x1f80 */
	area[25] = 0x1f;
	area[512] = 2;                                  /* XSTATE_BV: SSE only */
	put(DATA, (const char *)area, sizeof(area));
	st.xsave[0] = 0x55;                             /* x87 will be reset to init */
	st.gpr[X86_RAX] = 3;
	st.gpr[X86_RDX] = 0;
	st.gpr[X86_RDI] = DATA;
	st.gpr[X86_RSI] = DATA + 0x1000;
	put(CODE, "\x0f\xae\x2f\x0f\xae\x26\x48\x0f\xc7\x66\x00", 11);  /* xrstor [rdi]; xsave [rsi]; xsavec64 [rsi] */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 3);
	CHECK_EQ(st.xsave[160], 0x40);
	CHECK_EQ(st.xsave[175], 0x4f);
	CHECK_EQ(st.xsave[0], 0x7f);                    /* FCW init 0x37f */
	CHECK_EQ(st.xsave[1], 0x03);
	CHECK_EQ(st.xsave[512] & 3, 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);                /* xsave [rsi] */
	CHECK_EQ(mem.base[DATA + 0x1000 + 160], 0x40);
	bv = r64(DATA + 0x1000 + 512);
	CHECK_EQ(bv & 3, 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);                /* xsavec64 [rsi]: compacted */
	CHECK_EQ(r64(DATA + 0x1000 + 520), (1ULL << 63) | 3);
	/* A header with reserved bytes set is #GP; so is misalignment. */
	setup64();
	idt_gate(13, HANDLER, 0, 0);
	area[512 + 20] = 1;
	put(DATA, (const char *)area, sizeof(area));
	st.gpr[X86_RAX] = 3;
	st.gpr[X86_RDI] = DATA;
	put(CODE, "\x0f\xae\x2f", 3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	/* Without CR4.OSXSAVE: #UD. */
	setup64();
	idt_gate(6, HANDLER + 0x10, 0, 0);
	st.cr4 &= ~X86_CR4_OSXSAVE;
	put(CODE, "\x0f\xae\x2f", 3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x10);
}

static void test_syscall_sysret_swapgs(void)
{
	setup64();
	*emu_msr_slot(cpu, X86_MSR_STAR, 1) = (0x10ULL << 48) | (0x08ULL << 32);
	*emu_msr_slot(cpu, X86_MSR_LSTAR, 1) = HANDLER;
	*emu_msr_slot(cpu, X86_MSR_SFMASK, 1) = X86_RFLAGS_IF;
	*emu_msr_slot(cpu, X86_MSR_KERNEL_GS_BASE, 1) = 0x1234000;
	put(CODE, "\x0f\x05", 2);
	put(HANDLER, "\x0f\x01\xf8\x48\x0f\x07", 6);    /* swapgs; sysretq */
	to_user();
	st.rflags |= X86_RFLAGS_IF;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(emu_cpl(cpu), 0);
	CHECK_EQ(st.gpr[X86_RCX], CODE + 2);
	CHECK(!(st.rflags & X86_RFLAGS_IF));
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.seg[X86_GS].base, 0x1234000);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(st.seg[X86_CS].selector, 0x23);
	CHECK(st.rflags & X86_RFLAGS_IF);
}

static void test_sysenter_sysexit(void)
{
	setup64();
	idt_gate(13, HANDLER + 0x40, 0, 0);
	put(CODE, "\x0f\x34", 2);                      /* sysenter: SYSENTER_CS is 0 */
	to_user();
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x40);
	setup64();
	*emu_msr_slot(cpu, X86_MSR_SYSENTER_CS, 1) = 0x0b;  /* RPL bits are ignored */
	*emu_msr_slot(cpu, X86_MSR_SYSENTER_ESP, 1) = RSP0;
	*emu_msr_slot(cpu, X86_MSR_SYSENTER_EIP, 1) = HANDLER;
	put(CODE, "\x0f\x34", 2);
	put(HANDLER, "\x48\x0f\x35\x0f\x35", 5);      /* sysexitq; sysexit */
	to_user();
	st.rflags |= X86_RFLAGS_IF;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.gpr[X86_RSP], RSP0);
	CHECK_EQ(emu_cpl(cpu), 0);
	CHECK_EQ(st.seg[X86_CS].selector, 0x08);
	CHECK(st.seg[X86_CS].l);
	CHECK_EQ(st.seg[X86_SS].selector, 0x10);
	CHECK(!(st.rflags & X86_RFLAGS_IF));
	st.gpr[X86_RDX] = 0x0000800000000000ULL;          /* not canonical: #GP */
	idt_gate(13, HANDLER + 0x40, 0, 0);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x40);
	st.rip = HANDLER;
	st.gpr[X86_RDX] = CODE + 2;
	st.gpr[X86_RCX] = STACK;
	CHECK_EQ(emu_step(cpu), EMU_OK);                  /* sysexitq */
	CHECK_EQ(st.rip, CODE + 2);
	CHECK_EQ(st.gpr[X86_RSP], STACK);
	CHECK_EQ(emu_cpl(cpu), 3);
	CHECK_EQ(st.seg[X86_CS].selector, 0x2b);
	CHECK(st.seg[X86_CS].l);
	CHECK_EQ(st.seg[X86_SS].selector, 0x33);
	put(CODE + 2, "\x0f\x35", 2);                  /* sysexit at CPL 3: #GP */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x40);
	CHECK_EQ(emu_cpl(cpu), 0);
	/* From compatibility mode SYSENTER enters 64-bit code; SYSEXIT returns to 32-bit. */
	st.rip = HANDLER + 3;
	st.gpr[X86_RDX] = 0xffffffff00001234ULL;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x1234);
	CHECK_EQ(st.seg[X86_CS].selector, 0x1b);
	CHECK(!st.seg[X86_CS].l && st.seg[X86_CS].db);
	CHECK_EQ(st.seg[X86_SS].selector, 0x23);
	put(0x1234, "\x0f\x34", 2);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK(st.seg[X86_CS].l);
	/* Legacy protected mode: 32-bit CS, EIP and ESP truncated. */
	st.cr0 &= ~X86_CR0_PG;
	st.efer = 0;
	emu_cpu_flush_tlb(cpu);
	*emu_msr_slot(cpu, X86_MSR_SYSENTER_EIP, 1) = 0x100002000ULL;
	put(CODE, "\x0f\x34", 2);
	st.rip = CODE;
	x86_seg_flat(&st.seg[X86_CS], 0x1b, 1, 32);
	st.seg[X86_CS].dpl = 3;
	x86_seg_flat(&st.seg[X86_SS], 0x23, 0, 32);
	st.seg[X86_SS].dpl = 3;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, 0x2000);
	CHECK(!st.seg[X86_CS].l && st.seg[X86_CS].db);
	CHECK_EQ(emu_cpl(cpu), 0);
	/* WRMSR refuses a non-canonical SYSENTER_EIP. */
	st.efer = X86_EFER_LME | X86_EFER_LMA;
	st.cr0 |= X86_CR0_PG;
	emu_cpu_flush_tlb(cpu);
	x86_seg_flat(&st.seg[X86_CS], 0x08, 1, 64);
	st.gpr[X86_RCX] = X86_MSR_SYSENTER_EIP;
	st.gpr[X86_RDX] = 0x8000;
	st.gpr[X86_RAX] = 0;
	put(CODE, "\x0f\x30", 2);
	st.rip = CODE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x40);
}

static void test_real_mode_int(void)
{
	struct emu_env env = { .mem = &mem };

	setup64();
	x86_cpu_state_reset(&st, 1);
	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	/* IVT[0x10] = 0x2000:0x0010; code at 0x1000:0x0000. */
	w64(0x10 * 4, 0x20000010);
	x86_seg_real(&st.seg[X86_CS], 0x1000, 1);
	x86_seg_real(&st.seg[X86_SS], 0x0000, 0);
	st.rip = 0;
	st.gpr[X86_RSP] = 0x8000;
	st.idt = (struct x86_dtable){ 0, 0x3ff };
	put(0x10000, "\xcd\x10", 2);
	put(0x20010, "\xcf", 1);
	st.rflags |= X86_RFLAGS_IF;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.seg[X86_CS].base, 0x20000);
	CHECK_EQ(st.rip, 0x10);
	CHECK_EQ(st.gpr[X86_RSP], 0x8000 - 6);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.seg[X86_CS].selector, 0x1000);
	CHECK_EQ(st.rip, 2);
	CHECK(st.rflags & X86_RFLAGS_IF);
}

/*
 * The fast forms do not check alignment: no TLB fast tag may let them run
 * while #AC is on.  A block of "mov eax, [rbx]" at CPL 3: a misaligned
 * load runs with AC clear (a fast-tag hit), and after POPF sets AC the
 * same load in the same block is #AC(0).
 */
static void test_alignment_check_fast_path(void)
{
	unsigned n;

	setup64();
	to_user();
	idt_gate(17, HANDLER, 0, 0);
	st.cr0 |= X86_CR0_AM;
	st.gpr[X86_RBX] = DATA + 1;
	st.gpr[X86_RCX] = X86_RFLAGS_FIXED | X86_RFLAGS_AC;
	/* mov eax, [rbx]; mov eax, [rbx]; push rcx; popf; mov eax, [rbx] */
	put(CODE, "\x8b\x03\x8b\x03\x51\x9d\x8b\x03", 8);
	CHECK_EQ(emu_run_block(cpu, &n), EMU_OK);
	CHECK_EQ(st.rip, CODE + 6);                 /* POPF ends the block */
	CHECK(st.rflags & X86_RFLAGS_AC);
	CHECK_EQ(emu_run_block(cpu, &n), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(r64(RSP0 - 48), 0);                 /* error code */
	CHECK_EQ(r64(RSP0 - 40), CODE + 6);
	/* Aligned, it runs (through the general path: no tag in this context). */
	setup64();
	to_user();
	st.cr0 |= X86_CR0_AM;
	st.rflags |= X86_RFLAGS_AC;
	st.gpr[X86_RBX] = DATA;
	put(CODE, "\x8b\x03\x8b\x43\x02", 5);            /* mov eax, [rbx]; mov eax, [rbx+2] */
	idt_gate(17, HANDLER, 0, 0);
	CHECK_EQ(emu_run_block(cpu, &n), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(r64(RSP0 - 40), CODE + 2);
}

static void host_cpuid(void *opaque, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)opaque, (void)leaf, (void)subleaf;
	out[0] = out[1] = out[2] = out[3] = 0;
}

/*
 * Under another CPU's CPUID an instruction emu's model lacks (XBEGIN,
 * with its immediate) is handed back with nothing changed.  (F3 0F 28,
 * this test's first example, is #UD now: test_emu_simd's prefix cases.)
 */
static void test_unimplemented_leaves_state(void)
{
	struct emu_env env = { .mem = &mem, .cpuid = host_cpuid };
	struct x86_cpu_state before;

	setup64();
	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	put(CODE, "\xc7\xf8\x10\x00\x00\x00", 6);     /* xbegin +16 */
	st.gpr[X86_RAX] = 42;
	memcpy(&before, &st, sizeof(st));
	CHECK_EQ(emu_step(cpu), EMU_UNIMPLEMENTED);
	CHECK(memcmp(&before, &st, sizeof(st)) == 0);
}

/* VMCALL is not in emu's CPU model: #UD there, handed back under another model. */
static void test_absent_feature(void)
{
	struct emu_env env = { .mem = &mem, .cpuid = host_cpuid };
	struct x86_cpu_state before;

	setup64();
	idt_gate(6, HANDLER, 0, 0);
	put(CODE, "\x0f\x01\xc1", 3);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	setup64();
	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	put(CODE, "\x0f\x01\xc1", 3);
	memcpy(&before, &st, sizeof(st));
	CHECK_EQ(emu_step(cpu), EMU_UNIMPLEMENTED);
	CHECK(memcmp(&before, &st, sizeof(st)) == 0);
}

/* The decode cache and the fetch page follow rewritten code and remapped pages. */
static void test_code_rewrite_and_remap(void)
{
	setup64();
	put(CODE, "\xb8\x01\x00\x00\x00", 5);             /* mov eax, 1 */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 1);
	put(CODE, "\xb8\x02\x00\x00\x00", 5);             /* same length, new immediate */
	st.rip = CODE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 2);
	put(CODE, "\x48\x31\xc0", 3);                       /* xor rax, rax: shorter */
	st.rip = CODE;
	st.gpr[X86_RAX] = 5;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0);
	CHECK_EQ(st.rip, CODE + 3);
	/* Another physical page behind the same address, after a TLB flush. */
	put(DATA, "\xb8\x03\x00\x00\x00", 5);
	w64(PT + (CODE >> 12) * 8, DATA | 7);
	emu_cpu_flush_tlb(cpu);
	st.rip = CODE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 3);
	/* Not present any more: the fetch faults (#PF, CR2 = RIP). */
	w64(PT + (CODE >> 12) * 8, 0);
	emu_cpu_flush_tlb(cpu);
	idt_gate(14, HANDLER, 0, 0);
	st.rip = CODE;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER);
	CHECK_EQ(st.cr2, CODE);
}

/* What the io_stop hook was asked, and which kinds it takes back. */
static struct { unsigned take; int kind; uint64_t addr; int calls; } io;

static int io_stop_hook(void *opaque, enum emu_io_kind kind, uint64_t addr)
{
	(void)opaque;
	io.kind = (int)kind;
	io.addr = addr;
	io.calls++;
	return !!(io.take & (1u << kind));
}

static uint64_t tsc_hook(void *opaque)
{
	(void)opaque;
	return 0x123456789abcULL;
}

static void use_hooks(unsigned take)
{
	struct emu_env env = { .mem = &mem, .io_stop = io_stop_hook, .tsc = tsc_hook };

	emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
	memset(&io, 0, sizeof(io));
	io.take = take;
}

/* One instruction the hook takes back: EMU_IO, and the state untouched. */
static int taken_back(const char *code, size_t n, int kind, uint64_t addr)
{
	struct x86_cpu_state before;

	st.rip = CODE;
	put(CODE, code, n);
	memcpy(&before, &st, sizeof(st));
	return emu_step(cpu) == EMU_IO && !memcmp(&before, &st, sizeof(st)) &&
	       io.kind == kind && io.addr == addr;
}

static void test_io_stop_takes_instructions_back(void)
{
	setup64();
	w64(PT + 0x100 * 8, 0xfee00000ULL | 7);         /* linear 0x100000: the LAPIC page */
	use_hooks(~0u);
	st.gpr[X86_RDX] = 0x3f8;
	st.gpr[X86_RCX] = 0x4b564d01;
	st.gpr[X86_RAX] = 0x40000001;
	CHECK(taken_back("\xee", 1, EMU_IO_PIO, 0x3f8));                  /* out dx, al */
	CHECK(taken_back("\xe6\x80", 2, EMU_IO_PIO, 0x80));              /* out 0x80, al */
	CHECK(taken_back("\x8b\x04\x25\x00\x00\x10\x00", 7, EMU_IO_MMIO, 0xfee00000));
	CHECK(taken_back("\x0f\x30", 2, EMU_IO_WRMSR, 0x4b564d01));      /* wrmsr */
	CHECK(taken_back("\x0f\xa2", 2, EMU_IO_CPUID, 0x40000001));      /* cpuid */
	*emu_msr_slot(cpu, X86_MSR_STAR, 1) = (0x10ULL << 48) | (0x08ULL << 32);
	CHECK(taken_back("\x48\x0f\x07", 3, EMU_IO_USER, 0));            /* sysretq */
	/* iretq to user mode is taken back; to the same level it is not asked. */
	w64(STACK - 40, CODE + 0x100);
	w64(STACK - 32, 0x23);
	w64(STACK - 24, X86_RFLAGS_FIXED);
	w64(STACK - 16, STACK);
	w64(STACK - 8, 0x1b);
	st.gpr[X86_RSP] = STACK - 40;
	CHECK(taken_back("\x48\xcf", 2, EMU_IO_USER, 0));
	w64(STACK - 32, 0x08);
	w64(STACK - 8, 0x10);
	io.calls = 0;
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, CODE + 0x100);
	CHECK_EQ(io.calls, 0);
	/* Kinds the hook leaves to emu run as before (no bus: the write is dropped). */
	use_hooks(1u << EMU_IO_MMIO);
	st.rip = CODE;
	put(CODE, "\xee", 1);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(io.kind, EMU_IO_PIO);
	CHECK_EQ(st.rip, CODE + 1);
}

static void test_tsc_hook(void)
{
	setup64();
	use_hooks(0);
	put(CODE, "\x0f\x31", 2);                       /* rdtsc */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RAX], 0x56789abc);
	CHECK_EQ(st.gpr[X86_RDX], 0x1234);
}

static void test_fsgsbase(void)
{
	setup64();
	idt_gate(6, HANDLER, 0, 0);
	idt_gate(13, HANDLER + 0x10, 0, 0);
	put(CODE, "\xf3\x48\x0f\xae\xd0"               /* wrfsbase rax */
		  "\xf3\x0f\xae\xc9"                     /* rdgsbase ecx */
		  "\xf3\x48\x0f\xae\xda", 14);           /* wrgsbase rdx */
	CHECK_EQ(emu_step(cpu), EMU_OK);                  /* CR4.FSGSBASE clear: #UD */
	CHECK_EQ(st.rip, HANDLER);
	setup64();
	idt_gate(13, HANDLER + 0x10, 0, 0);
	st.cr4 |= X86_CR4_FSGSBASE;
	st.gpr[X86_RAX] = 0x7fff12345000ULL;
	st.seg[X86_GS].base = 0xffff888012345678ULL;
	st.gpr[X86_RCX] = ~0ULL;
	st.gpr[X86_RDX] = 0x0000900000000000ULL;         /* not canonical */
	put(CODE, "\xf3\x48\x0f\xae\xd0\xf3\x0f\xae\xc9\xf3\x48\x0f\xae\xda", 14);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.seg[X86_FS].base, 0x7fff12345000ULL);
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.gpr[X86_RCX], 0x12345678);            /* 32 bits, zero-extended */
	CHECK_EQ(emu_step(cpu), EMU_OK);
	CHECK_EQ(st.rip, HANDLER + 0x10);                 /* #GP */
	CHECK_EQ(st.seg[X86_GS].base, 0xffff888012345678ULL);
}

int main(void)
{
	RUN(test_int3_same_privilege);
	RUN(test_emu_run_until_iret);
	RUN(test_int3_from_user_switches_stack);
	RUN(test_page_fault_ist_and_cr2);
	RUN(test_double_and_triple_fault);
	RUN(test_paging_permissions);
	RUN(test_paging_modes);
	RUN(test_cross_page_write_is_atomic_wrt_fault);
	RUN(test_cmpxchg16b);
	RUN(test_clac_stac);
	RUN(test_xrstor_xsave);
	RUN(test_syscall_sysret_swapgs);
	RUN(test_sysenter_sysexit);
	RUN(test_real_mode_int);
	RUN(test_alignment_check_fast_path);
	RUN(test_unimplemented_leaves_state);
	RUN(test_absent_feature);
	RUN(test_code_rewrite_and_remap);
	RUN(test_io_stop_takes_instructions_back);
	RUN(test_tsc_hook);
	RUN(test_fsgsbase);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
