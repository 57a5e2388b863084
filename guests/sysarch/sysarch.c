/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System architecture beyond tasks/: virtual-8086 mode and 16-bit TSSes
 * in 32-bit protected mode (the 64-bit call gates are sysarch64.c).
 *
 * "only=v86": an 8086 program copied to 0x20000 runs in virtual-8086 mode,
 * entered by IRET, at IOPL 0 and at IOPL 3.  It writes COM1 itself through
 * the ports the TSS I/O permission bitmap allows; the ring-0 #GP handler
 * reports and skips each IOPL-sensitive instruction and each denied port
 * (0xf4, the debug exit, among them: a run that got through would end
 * with status 15), INT3 and INT n reach ring-0 handlers with the
 * virtual-8086 frame, HLT leaves.
 * "only=tss16": CALL to a 16-bit TSS and through a task gate, INT and
 * #GP through IDT task gates to 16-bit TSSes (the error code pushed as a
 * word), IRET back, with what the 16-bit TSSes saved.
 */
#include "guest.h"
#include "idt.h"
#include "multiboot.h"

#define NAME "sysarch"
#define V86_BASE 0x20000
#define V86_DATA 0x40000
#define EFLAGS_IF (1u << 9)
#define EFLAGS_NT (1u << 14)
#define EFLAGS_VM (1u << 17)
#define IOPL(n) ((uint32_t)(n) << 12)
#define BITMAP_BYTES 0x81     /* ports 0..0x407 */

#define SEL_TSS_MAIN 0x28
#define SEL_TSS_A 0x30
#define SEL_CODE16 0x38
#define SEL_T16 0x40
#define SEL_STACK_A 0x48
#define SEL_GATE_A 0x50
#define SEL_MAIN_DATA 0x58
#define SEL_TSS_B 0x60
#define SEL_STACK_B 0x68

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
	uint8_t bitmap[BITMAP_BYTES];
} __attribute__((packed));

struct tss16 {
	uint16_t link, sp0, ss0, sp1, ss1, sp2, ss2, ip, flags;
	uint16_t ax, cx, dx, bx, sp, bp, si, di, es, cs, ss, ds, ldt;
} __attribute__((packed));

/* Ring 0's view of an interrupt from virtual-8086 mode (v86_gp_entry in sysarch_asm.S). */
struct v86_frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t error, eip, cs, eflags, esp, ss, es, ds, fs, gs;
};

/* Shared with sysarch_asm.S. */
struct tss32 tss_main;
uint32_t v86_kernel_esp, v86_entry_ds;
struct { uint16_t a_runs, a_flags, a_tr, b_error, b_runs, b_sp; } t16;
extern const char v86_start[], v86_end[], v86_iopl0[], v86_iopl3[];
extern char v86_gp_entry[], v86_int_3[], v86_int_0x30[], task16_a[], task16_b[];
void v86_run(uint32_t ip, uint32_t eflags);

static uint64_t gdt[16] __attribute__((aligned(8)));
static uint8_t stack0[4096] __attribute__((aligned(16)));
static uint8_t stack_a[4096] __attribute__((aligned(16)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static struct tss16 tss_a, tss_b;
static int v86_frames_reported;

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned access)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)(off >> 16) << 48);
}

static uint32_t addr(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

static void gdt_init(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) p = {
		sizeof(gdt) - 1, addr(gdt) };

	gdt[1] = seg_desc(0, 0xfffff, 0x9a, 0xc);                /* 0x08 code, ring 0 */
	gdt[2] = seg_desc(0, 0xfffff, 0x92, 0xc);                /* 0x10 data, ring 0 */
	gdt[5] = seg_desc(addr(&tss_main), sizeof(tss_main) - 1, 0x89, 0);
	gdt[6] = seg_desc(addr(&tss_a), sizeof(tss_a) - 1, 0x81, 0);        /* 16-bit TSS */
	gdt[7] = seg_desc(addr(task16_a), 0xffff, 0x9a, 0);     /* 16-bit code */
	gdt[8] = seg_desc(addr(&t16), 0xffff, 0x92, 0);
	gdt[9] = seg_desc(addr(stack_a), sizeof(stack_a) - 1, 0x92, 0);
	gdt[10] = gate_desc(SEL_TSS_A, 0, 0x85);                 /* task gate */
	gdt[11] = seg_desc(addr(&tss_main), 0x67, 0x92, 0);
	gdt[12] = seg_desc(addr(&tss_b), sizeof(tss_b) - 1, 0x81, 0);
	gdt[13] = seg_desc(addr(stack_b), sizeof(stack_b) - 1, 0x92, 0);
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x08, $1f\n"
			 "1:\tmovl $0x10, %%eax\n\t"
			 "movl %%eax, %%ds\n\tmovl %%eax, %%es\n\tmovl %%eax, %%ss\n\t"
			 "movl %%eax, %%fs\n\tmovl %%eax, %%gs"
			 : : "m"(p) : "eax", "memory");
	tss_main.esp0 = addr(stack0 + sizeof(stack0));
	tss_main.ss0 = 0x10;
	tss_main.iomap = 104;
	/* COM1's data and line status ports open, everything else up to 0x407 shut. */
	memset(tss_main.bitmap, 0xff, sizeof(tss_main.bitmap));
	tss_main.bitmap[0x3f8 / 8] &= ~(1u << (0x3f8 & 7));
	tss_main.bitmap[0x3fd / 8] &= ~(1u << (0x3fd & 7));
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS_MAIN));
}

static uint32_t read_eflags(void)
{
	uint32_t v;

	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static uint16_t read_tr(void)
{
	uint16_t v;

	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

/* The instruction at CS:IP of the 8086 program: its name and length. */
static const char *v86_insn(const struct v86_frame *f, unsigned *len)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)((f->cs << 4) + f->eip);
	unsigned pfx = p[0] == 0x66;

	*len = 1 + pfx;
	switch (p[pfx]) {
	case 0xfa: return "cli";
	case 0xfb: return "sti";
	case 0x9c: return "pushf";
	case 0x9d: return "popf";
	case 0xcf: return "iret";
	case 0xf4: return "hlt";
	case 0xcd: *len = 2 + pfx; return "int n";
	case 0xe4: case 0xe5: *len = 2 + pfx; return "in imm8";
	case 0xe6: case 0xe7: *len = 2 + pfx; return "out imm8";
	case 0xec: case 0xed: return "in dx";
	case 0xee: case 0xef: return "out dx";
	}
	return "?";
}

static void report_frame(const struct v86_frame *f)
{
	if (v86_frames_reported++)
		return;
	gprintf(NAME ": v86 frame on the ring 0 stack: esp0-%u, ss:sp=%#x:%#x es=%#x ds=%#x fs=%#x gs=%#x\n",
		addr(stack0 + sizeof(stack0)) - addr(&f->error), f->ss, f->esp, f->es, f->ds, f->fs,
		f->gs);
}

/* #GP from virtual-8086 mode: reported and skipped; 1 (leave) at HLT. */
uint32_t v86_gp(struct v86_frame *f)
{
	unsigned len;
	const char *name = v86_insn(f, &len);
	uint32_t eflags = read_eflags();

	report_frame(f);
	gprintf(NAME ": v86 #GP(%#x) at %#x:%#x %s, VM=%u in the frame, VM=%u IF=%u now\n",
		f->error, f->cs, f->eip, name, !!(f->eflags & EFLAGS_VM), !!(eflags & EFLAGS_VM),
		!!(eflags & EFLAGS_IF));
	if (len == 1 && !strcmp(name, "hlt"))
		return 1;
	f->eip += len;
	return 0;
}

/* INT3 and INT 0x30 from virtual-8086 mode: reported; INT 0x30 answers in AX. */
void v86_int(struct v86_frame *f, uint32_t vec)
{
	report_frame(f);
	gprintf(NAME ": v86 int %#x from %#x:%#x ax=%#x, ds at entry %#x, VM=%u IOPL=%u in the frame\n",
		vec, f->cs, f->eip, f->eax & 0xffff, v86_entry_ds, !!(f->eflags & EFLAGS_VM),
		(f->eflags >> 12) & 3);
	f->eax = (f->eax & ~0xffffu) | 0x5678;
}

static void virtual_8086(void)
{
	uint64_t *gp = idt_entry(13), saved_gp = *gp;
	volatile uint16_t *res = (volatile uint16_t *)V86_DATA;

	outb(0x21, 0xff);     /* no timer or other IRQs where the 8086 code sets IF */
	outb(0xa1, 0xff);
	memcpy((void *)V86_BASE, v86_start, v86_end - v86_start);
	*gp = gate_desc(0x08, addr(v86_gp_entry), 0x8e);
	*idt_entry(3) = gate_desc(0x08, addr(v86_int_3), 0xee);
	*idt_entry(0x30) = gate_desc(0x08, addr(v86_int_0x30), 0xee);

	v86_run(v86_iopl0 - v86_start, EFLAGS_VM | IOPL(0) | 2);
	gprintf(NAME ": back from IOPL 0, eflags %#x\n", read_eflags());

	memset((void *)V86_DATA, 0, 16);
	v86_run(v86_iopl3 - v86_start, EFLAGS_VM | IOPL(3) | 2);
	gprintf(NAME ": IOPL 3 flags: after cli %#x, after sti %#x, after popf of 0 %#x\n",
		res[0], res[1], res[2]);
	gprintf(NAME ": IOPL 3 int 0x30 returned ax=%#x ds=%#x sp=%#x; iret in v86: %#x\n",
		res[3], res[4], res[5], res[6]);
	*gp = saved_gp;
}

static void tss16_init(struct tss16 *t, const char *ip, uint16_t ss, uint16_t sp, uint16_t es)
{
	*t = (struct tss16){ .ip = ip - task16_a, .flags = 2, .sp = sp, .cs = SEL_CODE16,
			     .ss = ss, .ds = SEL_T16, .es = es };
}

static void report_a(const char *how)
{
	gprintf(NAME ": %s: A ran %u times, its NT=%u TR=%#x link=%#x; back: TR=%#x NT=%u A type %#x\n",
		how, t16.a_runs, !!(t16.a_flags & EFLAGS_NT), t16.a_tr, tss_a.link, read_tr(),
		!!(read_eflags() & EFLAGS_NT), (unsigned)(gdt[SEL_TSS_A >> 3] >> 40) & 0xf);
	gprintf(NAME ": %s: TSS A saved ip=%#x flags=%#x ax=%#x bx=%#x sp=%#x cs=%#x ss=%#x ds=%#x es=%#x\n",
		how, tss_a.ip, tss_a.flags, tss_a.ax, tss_a.bx, tss_a.sp, tss_a.cs, tss_a.ss, tss_a.ds,
		tss_a.es);
	__asm__ volatile("clts");
}

static void tss16_switches(void)
{
	uint64_t *gp = idt_entry(13), saved_gp = *gp;
	volatile uint32_t ds_after;

	tss16_init(&tss_a, task16_a, SEL_STACK_A, sizeof(stack_a), SEL_T16);
	tss16_init(&tss_b, task16_b, SEL_STACK_B, sizeof(stack_b), SEL_MAIN_DATA);
	__asm__ volatile("lcall $0x30, $0" : : : "memory");
	report_a("call tss16");
	__asm__ volatile("lcall $0x50, $0" : : : "memory");
	report_a("call task gate");
	*idt_entry(0x31) = gate_desc(SEL_TSS_A, 0, 0x85);
	__asm__ volatile("int $0x31" : : : "memory");
	report_a("int task gate");

	*gp = gate_desc(SEL_TSS_B, 0, 0x85);
	__asm__ volatile("movw $0x1000, %%ax\n\tmovw %%ax, %%ds\n\tmovl %%ds, %0"
			 : "=r"(ds_after) : : "eax", "memory");
	*gp = saved_gp;
	gprintf(NAME ": #GP through a task gate to a 16-bit TSS: B ran %u times, error %#x, sp before the pop %#x, ds still %#x\n",
		t16.b_runs, t16.b_error, t16.b_sp, ds_after);
	__asm__ volatile("clts");
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const char *only = cmdline_value(mb_cmdline(magic, mbi_addr), "only");
	int v86 = !only || !strncmp(only, "v86", 3), tss16 = !only || !strncmp(only, "tss16", 5);

	gdt_init();
	if (v86)
		virtual_8086();
	if (tss16)
		tss16_switches();
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
