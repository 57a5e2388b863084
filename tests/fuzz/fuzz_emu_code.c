/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: random bytes as guest code for the software CPU.
 *
 * Input: byte 0 picks the machine (bits 0-1: 64-bit long mode, 32-bit
 * protected mode, real mode; bit 2: CPL 3 in the protected modes; bit 3:
 * point the GPRs into RAM; bit 4: RSP from the input too; bit 5: paging in
 * 32-bit mode), bytes 1-64 are 16 GPR values (32 bits each), the rest is
 * the code page.  Every exception/interrupt vector goes to a HLT, so a run
 * ends at the first delivered event, at the step budget, or at a triple
 * fault / unimplemented instruction.
 *
 * Whatever the bytes, emu must not crash, trip ASan/UBSan, leave guest RAM
 * or break the invariants checked after every step (abort on violation).
 *
 * Each input runs twice: in decoded blocks with the fast forms
 * (emu_run_block, as --accel emu runs), then one instruction at a time
 * through the general executor alone (emu_step with general_only) for the
 * same number of instructions; both must end in the same state and RAM.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/emu/emu.h"
#include "machine/bus.h"
#include "machine/memory.h"

#define RAM_SIZE (4u << 20)
#define MAX_STEPS 2000
#define HDR_LEN 65

#define PML4 0x1000
#define PDPT 0x2000
#define PD   0x3000
#define PT   0x4000
#define GDT  0x5000
#define IDT  0x6000
#define TSS  0x7000
#define PT2  0x8000
#define TSS2 0x7100
#define CODE 0x10000
#define HANDLER 0x20000
#define STACK 0x30000
#define RSP0 0x40000
#define IST1 0x48000
#define CODE_MAX 0x1000

enum fuzz_mode { MODE_64, MODE_32, MODE_REAL };

struct fuzz_vm {
	struct guest_mem mem;
	struct bus *pio, *mmio;
	struct x86_cpu_state st;
	struct x86_cpu_state before;
	struct x86_cpu_state fast_st;   /* the end of the run in blocks */
	uint8_t *fast_ram;
};

static void fail(const struct x86_cpu_state *s, const char *why)
{
	fprintf(stderr, "fuzz_emu_code: invariant broken: %s (rip %#llx cr0 %#llx cr4 %#llx efer %#llx)\n",
		why, (unsigned long long)s->rip, (unsigned long long)s->cr0,
		(unsigned long long)s->cr4, (unsigned long long)s->efer);
	abort();
}

static void w32(struct fuzz_vm *vm, uint64_t gpa, uint32_t v) { guest_mem_write(&vm->mem, gpa, &v, 4); }
static void w64(struct fuzz_vm *vm, uint64_t gpa, uint64_t v) { guest_mem_write(&vm->mem, gpa, &v, 8); }

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned type, unsigned s, unsigned dpl,
			 unsigned l, unsigned db, unsigned g)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)type << 40) |
	       ((uint64_t)s << 44) | ((uint64_t)dpl << 45) | (1ULL << 47) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)l << 53) |
	       ((uint64_t)db << 54) | ((uint64_t)g << 55) | ((uint64_t)(base >> 24) << 56);
}

static void set_seg(struct x86_segment *seg, uint16_t sel, int code, int bits, unsigned dpl)
{
	x86_seg_flat(seg, sel, code, bits);
	seg->dpl = dpl;
}

/* Flat GDT: 0x08 code64, 0x10 data, 0x18 user data, 0x20 user code64,
 * 0x28 busy TSS (two slots in long mode), 0x38 code32, 0x40 user code32. */
static void setup_gdt(struct fuzz_vm *vm)
{
	w64(vm, GDT + 0x08, seg_desc(0, 0xfffff, 0xb, 1, 0, 1, 0, 1));
	w64(vm, GDT + 0x10, seg_desc(0, 0xfffff, 0x3, 1, 0, 0, 1, 1));
	w64(vm, GDT + 0x18, seg_desc(0, 0xfffff, 0x3, 1, 3, 0, 1, 1));
	w64(vm, GDT + 0x20, seg_desc(0, 0xfffff, 0xb, 1, 3, 1, 0, 1));
	w64(vm, GDT + 0x28, seg_desc(TSS, 0x67, 0xb, 0, 0, 0, 0, 0));
	w64(vm, GDT + 0x30, 0);
	w64(vm, GDT + 0x38, seg_desc(0, 0xfffff, 0xb, 1, 0, 0, 1, 1));
	w64(vm, GDT + 0x40, seg_desc(0, 0xfffff, 0xb, 1, 3, 0, 1, 1));
	vm->st.gdt = (struct x86_dtable){ GDT, 0x47 };
	vm->st.seg[X86_TR] = (struct x86_segment){
		.base = TSS, .limit = 0x67, .selector = 0x28, .type = 0xb, .present = 1,
	};
}

static void setup_64(struct fuzz_vm *vm, int user)
{
	struct x86_cpu_state *s = &vm->st;

	w64(vm, PML4, PDPT | 7);
	w64(vm, PDPT, PD | 7);
	w64(vm, PD, PT | 7);
	w64(vm, PD + 8, PT2 | 7);
	for (uint64_t i = 0; i < 512; i++) {
		w64(vm, PT + i * 8, i << 12 | 7);
		w64(vm, PT2 + i * 8, (i + 512) << 12 | 7);
	}
	setup_gdt(vm);
	w64(vm, TSS + 4, RSP0);
	w64(vm, TSS + 36, IST1);
	for (int v = 0; v < 256; v++) {
		/* #DF and #MC on IST1, the rest on the current/RSP0 stack. */
		uint64_t ist = v == 8 || v == 18;
		uint64_t lo = (HANDLER & 0xffff) | (0x08ULL << 16) | (ist << 32) | (0xeULL << 40) |
			      (3ULL << 45) | (1ULL << 47) | ((uint64_t)(HANDLER >> 16) & 0xffff) << 48;

		w64(vm, IDT + v * 16, lo);
		w64(vm, IDT + v * 16 + 8, 0);
	}
	s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_WP | X86_CR0_NE | X86_CR0_MP;
	s->cr3 = PML4;
	s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_OSXSAVE;
	s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE | X86_EFER_SCE;
	for (int i = 0; i < 6; i++)
		set_seg(&s->seg[i], 0x10, 0, 32, 0);
	set_seg(&s->seg[X86_CS], 0x08, 1, 64, 0);
	if (user) {
		set_seg(&s->seg[X86_CS], 0x23, 1, 64, 3);
		set_seg(&s->seg[X86_SS], 0x1b, 0, 32, 3);
	}
	s->idt = (struct x86_dtable){ IDT, 256 * 16 - 1 };
	s->xcr0 = 3;
}

/*
 * For task switches and call gates: 0x48 an available 32-bit TSS whose task
 * runs the code page again, 0x50 a ring-3 call gate to ring 0 with two
 * parameters, and INT 0x41 a task gate to 0x48.
 */
static void setup_tasks_32(struct fuzz_vm *vm)
{
	struct x86_cpu_state *s = &vm->st;

	for (uint32_t off = 0; off < 0x68; off += 4)
		w32(vm, TSS2 + off, 0);
	w32(vm, TSS2 + 0x1c, s->cr3);
	w32(vm, TSS2 + 0x20, CODE);
	w32(vm, TSS2 + 0x24, 2);
	w32(vm, TSS2 + 0x38, STACK);
	for (int i = 0; i < 6; i++)
		w32(vm, TSS2 + 0x48 + 4 * i, i == X86_CS ? 0x38 : 0x10);
	w64(vm, GDT + 0x48, seg_desc(TSS2, 0x67, 0x9, 0, 0, 0, 0, 0));
	w64(vm, GDT + 0x50, (HANDLER & 0xffff) | (0x38ULL << 16) | (2ULL << 32) | (0xcULL << 40) |
			    (3ULL << 45) | (1ULL << 47) | ((uint64_t)(HANDLER >> 16) << 48));
	w64(vm, IDT + 0x41 * 8, (0x48ULL << 16) | (0x5ULL << 40) | (3ULL << 45) | (1ULL << 47));
	s->gdt.limit = 0x57;
}

static void setup_32(struct fuzz_vm *vm, int user, int paging)
{
	struct x86_cpu_state *s = &vm->st;

	setup_gdt(vm);
	w32(vm, TSS + 4, RSP0);          /* ESP0 */
	w32(vm, TSS + 8, 0x10);          /* SS0 */
	for (int v = 0; v < 256; v++) {
		uint64_t lo = (HANDLER & 0xffff) | (0x38ULL << 16) | (0xeULL << 40) | (3ULL << 45) |
			      (1ULL << 47) | ((uint64_t)(HANDLER >> 16) & 0xffff) << 48;

		w64(vm, IDT + v * 8, lo);
	}
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_MP;
	s->cr4 = X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	if (paging) {
		/* Two-level 32-bit paging, 4 KiB pages over the 4 MiB of RAM. */
		w32(vm, PD, PT | 7);
		for (uint32_t i = 0; i < 1024; i++)
			w32(vm, PT + i * 4, i << 12 | 7);
		s->cr3 = PD;
		s->cr0 |= X86_CR0_PG | X86_CR0_WP;
	}
	for (int i = 0; i < 6; i++)
		set_seg(&s->seg[i], 0x10, 0, 32, 0);
	set_seg(&s->seg[X86_CS], 0x38, 1, 32, 0);
	if (user) {
		set_seg(&s->seg[X86_CS], 0x43, 1, 32, 3);
		set_seg(&s->seg[X86_SS], 0x1b, 0, 32, 3);
	}
	s->idt = (struct x86_dtable){ IDT, 256 * 8 - 1 };
	setup_tasks_32(vm);
}

static void setup_real(struct fuzz_vm *vm)
{
	struct x86_cpu_state *s = &vm->st;

	for (int v = 0; v < 256; v++)
		w32(vm, v * 4, (uint32_t)(HANDLER >> 4) << 16);
	for (int i = 0; i < 6; i++)
		x86_seg_real(&s->seg[i], 0, 0);
	x86_seg_real(&s->seg[X86_CS], CODE >> 4, 1);
	x86_seg_real(&s->seg[X86_SS], STACK >> 4, 0);
	s->idt = (struct x86_dtable){ 0, 0x3ff };
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void setup(struct fuzz_vm *vm, const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR_LEN] = { 0 };
	struct x86_cpu_state *s = &vm->st;
	unsigned mode;

	memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
	mode = (hdr[0] & 3) % 3;
	memset(vm->mem.base, 0, vm->mem.size);
	x86_cpu_state_reset(s, 1);
	if (size > HDR_LEN)
		guest_mem_write(&vm->mem, CODE, data + HDR_LEN,
				size - HDR_LEN < CODE_MAX ? size - HDR_LEN : CODE_MAX);
	guest_mem_write(&vm->mem, HANDLER, "\xf4", 1);
	if (mode == MODE_64)
		setup_64(vm, hdr[0] & 4);
	else if (mode == MODE_32)
		setup_32(vm, hdr[0] & 4, hdr[0] & 0x20);
	else
		setup_real(vm);
	for (int i = 0; i < X86_NR_GPRS; i++) {
		uint32_t v = le32(hdr + 1 + i * 4);

		s->gpr[i] = hdr[0] & 8 ? v & (RAM_SIZE - 1) : v;
	}
	if (!(hdr[0] & 0x10))
		s->gpr[X86_RSP] = mode == MODE_REAL ? 0xfff0 : STACK;
	s->rip = mode == MODE_REAL ? 0 : CODE;
	s->rflags = X86_RFLAGS_FIXED;
}

/* The instructions allowed to change CR0, CR4 or EFER. */
static int may_change_control(const struct x86_insn *in)
{
	if (!in || in->map != X86_MAP_0F)
		return 0;
	switch (in->opcode) {
	case 0x22: return 1;                       /* MOV CRn, r */
	case 0x06: return 1;                       /* CLTS */
	case 0x01: return in->has_modrm && (in->reg & 7) == 6;   /* LMSW */
	case 0x30: return 1;                       /* WRMSR */
	}
	return 0;
}

static int canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static void check_segments(const struct x86_cpu_state *s)
{
	const struct x86_segment *cs = &s->seg[X86_CS];
	int lma = !!(s->efer & X86_EFER_LMA);

	if (!(s->rflags & X86_RFLAGS_FIXED) || (s->rflags & 0xffffffffffc08028ULL))
		fail(s, "reserved RFLAGS bits");
	if (lma && (!(s->cr0 & X86_CR0_PG) || !(s->cr4 & X86_CR4_PAE) || !(s->efer & X86_EFER_LME)))
		fail(s, "EFER.LMA without PG, PAE and LME");
	if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		fail(s, "CR0.PG without PE");
	if (lma && cs->l) {
		if (cs->db)
			fail(s, "CS.L and CS.D both set in long mode");
		if (!canonical(s->rip))
			fail(s, "non-canonical RIP in 64-bit mode");
	} else if (s->rip >> 32) {
		fail(s, "RIP above 4 GiB outside 64-bit mode");
	}
	if (!(s->cr0 & X86_CR0_PE) || (s->rflags & X86_RFLAGS_VM))
		return;
	if (cs->unusable || !cs->present || !cs->s || !(cs->type & 8))
		fail(s, "CS is not a present code segment in protected mode");
	if ((cs->selector & 3) != s->seg[X86_SS].dpl)
		fail(s, "CS.RPL differs from the CPL (SS.DPL)");
	if (!lma && cs->l)
		fail(s, "CS.L set outside long mode");
	for (int i = 0; i < X86_TR; i++) {
		const struct x86_segment *d = &s->seg[i];

		if (i == X86_CS || d->unusable || !d->present)
			continue;
		if (!d->s)
			fail(s, "system descriptor in a data segment register");
		if ((d->type & 0xa) == 0x8)
			fail(s, "execute-only code segment in a data segment register");
		if (i == X86_SS && (d->type & 0xa) != 0x2)
			fail(s, "SS is not a writable data segment");
	}
}

static void check_step(struct fuzz_vm *vm, struct emu_cpu *cpu, enum emu_result r)
{
	const struct x86_cpu_state *s = &vm->st, *b = &vm->before;

	if (r == EMU_UNIMPLEMENTED) {
		if (memcmp(s, b, sizeof(*s))) {
			const uint8_t *p = (const void *)s, *q = (const void *)b;
			size_t at = 0;

			while (p[at] == q[at])
				at++;
			fprintf(stderr, "fuzz_emu_code: first changed byte at offset %zu of the state\n", at);
			fail(s, "EMU_UNIMPLEMENTED changed the state");
		}
		return;
	}
	/* A task switch sets CR0.TS, and any event can go through a task gate. */
	if (((s->cr0 & ~(uint64_t)X86_CR0_TS) != (b->cr0 & ~(uint64_t)X86_CR0_TS) ||
	     ((s->cr0 ^ b->cr0) & X86_CR0_TS & b->cr0) || s->cr4 != b->cr4 || s->efer != b->efer) &&
	    !may_change_control(emu_last_insn(cpu)))
		fail(s, "CR0/CR4/EFER changed by an instruction that may not");
	check_segments(s);
}

static struct fuzz_vm *vm_get(void)
{
	static struct fuzz_vm *vm;

	if (vm)
		return vm;
	vm = calloc(1, sizeof(*vm));
	if (!vm || guest_mem_init(&vm->mem, RAM_SIZE))
		abort();
	vm->fast_ram = malloc(RAM_SIZE);
	if (!vm->fast_ram)
		abort();
	vm->pio = bus_new("pio");
	vm->mmio = bus_new("mmio");
	if (!vm->pio || !vm->mmio)
		abort();
	return vm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same TSC in both runs. */
static uint64_t fixed_tsc(void *opaque)
{
	(void)opaque;
	return 1000000;
}

/* RDRAND/RDSEED (0F C7 /6, /7) give each run its own numbers. */
static int has_rdrand(const uint8_t *data, size_t size)
{
	for (size_t i = HDR_LEN; i + 2 < size; i++)
		if (data[i] == 0x0f && data[i + 1] == 0xc7 && ((data[i + 2] >> 3) & 7) >= 6)
			return 1;
	return 0;
}

/* The architectural state, field by field (padding aside): the first difference, or NULL. */
static const char *state_diff(const struct x86_cpu_state *a, const struct x86_cpu_state *b)
{
	const struct x86_events *ea = &a->events, *eb = &b->events;

	if (memcmp(a->gpr, b->gpr, sizeof(a->gpr)))
		return "GPRs";
	if (a->rip != b->rip || a->rflags != b->rflags)
		return "RIP or RFLAGS";
	for (int i = 0; i < X86_NR_SEGS; i++)
		if (memcmp(&a->seg[i], &b->seg[i], offsetof(struct x86_segment, unusable) + 1))
			return "a segment register";
	if (a->gdt.base != b->gdt.base || a->gdt.limit != b->gdt.limit ||
	    a->idt.base != b->idt.base || a->idt.limit != b->idt.limit)
		return "GDTR or IDTR";
	if (a->cr0 != b->cr0 || a->cr2 != b->cr2 || a->cr3 != b->cr3 || a->cr4 != b->cr4 ||
	    a->cr8 != b->cr8 || a->efer != b->efer || a->xcr0 != b->xcr0 ||
	    memcmp(a->dr, b->dr, sizeof(a->dr)) || a->tsc != b->tsc)
		return "a control or debug register";
	if (a->nmsrs != b->nmsrs)
		return "the MSR count";
	for (uint32_t i = 0; i < a->nmsrs && i < X86_MAX_MSRS; i++)
		if (a->msrs[i].index != b->msrs[i].index || a->msrs[i].value != b->msrs[i].value)
			return "an MSR";
	if (memcmp(a->xsave, b->xsave, sizeof(a->xsave)))
		return "the XSAVE area";
	if (ea->interrupt_shadow != eb->interrupt_shadow || ea->nmi_masked != eb->nmi_masked ||
	    a->mp_state != b->mp_state)
		return "the event state";
	return NULL;
}

/* Decoded blocks and fast forms: how many instructions ran, and the result. */
static unsigned long run_blocks(struct fuzz_vm *vm, const struct emu_env *env, enum emu_result *res)
{
	struct emu_cpu *cpu = emu_cpu_new(&vm->st, env);
	unsigned long total = 0;

	if (!cpu)
		abort();
	*res = EMU_OK;
	while (total < MAX_STEPS && *res == EMU_OK) {
		unsigned n;

		*res = emu_run_blocks(cpu, 64, &n);
		total += n;
		check_segments(&vm->st);
	}
	emu_cpu_free(cpu);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_vm *vm = vm_get();
	struct emu_env env = { .mem = &vm->mem, .pio = vm->pio, .mmio = vm->mmio, .tsc = fixed_tsc };
	struct emu_cpu *cpu;
	enum emu_result fast_r, r = EMU_OK;
	unsigned long steps;
	const char *why;

	if (size < 1)
		return 0;
	setup(vm, data, size);
	check_segments(&vm->st);
	steps = run_blocks(vm, &env, &fast_r);
	memcpy(&vm->fast_st, &vm->st, sizeof(vm->st));
	memcpy(vm->fast_ram, vm->mem.base, RAM_SIZE);

	setup(vm, data, size);
	env.general_only = 1;
	cpu = emu_cpu_new(&vm->st, &env);
	if (!cpu)
		abort();
	for (unsigned long i = 0; i < steps && r == EMU_OK; i++) {
		memcpy(&vm->before, &vm->st, sizeof(vm->st));
		r = emu_step(cpu);
		check_step(vm, cpu, r);
	}
	emu_cpu_free(cpu);
	if (has_rdrand(data, size))
		return 0;
	if (r != fast_r)
		fail(&vm->st, "blocks and the general executor ended differently");
	if ((why = state_diff(&vm->st, &vm->fast_st))) {
		fprintf(stderr, "fuzz_emu_code: after %lu instructions %s differ (blocks: rip %#llx)\n",
			steps, why, (unsigned long long)vm->fast_st.rip);
		fail(&vm->st, "blocks and the general executor left different states");
	}
	if (memcmp(vm->mem.base, vm->fast_ram, RAM_SIZE))
		fail(&vm->st, "blocks and the general executor left different RAM");
	return 0;
}
