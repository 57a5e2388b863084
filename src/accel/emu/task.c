/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Task switches in legacy protected mode with 16- and 32-bit TSSes: JMP and CALL to
 * a TSS descriptor or a task gate (callgate.c finds them), IRET with NT set,
 * and interrupts and exceptions through a task gate (except.c).
 *
 * Every check, including the new task's LDT, CS, SS and data segments, is
 * made before anything changes, so a fault is delivered in the old task
 * with the error code hardware reports; hardware delivers the faults it
 * finds after its commit point in the new task instead.  The new task's
 * descriptors are read through the current page tables.  16-bit TSSes
 * (either end of a switch) have their own layout; a TSS whose EFLAGS has
 * VM starts a virtual-8086 task; a 32-bit TSS with its T bit set makes a
 * #DB trap before the new task's first instruction (emu_deliver, exec.c).
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define TSS32_MIN_LIMIT 0x67
#define TSS16_MIN_LIMIT 0x2b
#define TSS16_IP 0x0e
#define TSS16_GPRS 0x12
#define TSS16_SEGS 0x22
#define TSS16_LDT 0x2a
#define TSS_TRAP 0x64
#define TSS_EIP 0x20
#define TSS_EFLAGS 0x24
#define TSS_GPRS 0x28
#define TSS_SEGS 0x48
#define TSS_LDT 0x60
#define TSS_CR3 0x1c

static uint16_t rd16(const uint8_t *p, unsigned off)
{
	uint16_t v;

	memcpy(&v, p + off, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p, unsigned off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static int ts_fault(struct emu_cpu *c, uint16_t sel)
{
	return emu_raise(c, EXC_TS, sel & ~3u, 1);
}

/* A descriptor from the GDT or from the given LDT; beyond the table is exc(sel). */
static int read_desc_in(struct emu_cpu *c, uint16_t sel, const struct x86_segment *ldt,
			uint64_t *d, int exc)
{
	uint64_t base = c->s->gdt.base, limit = c->s->gdt.limit;

	if (sel & 4) {
		base = ldt->base;
		limit = ldt->unusable ? 0 : ldt->limit;
	}
	if ((uint64_t)(sel & ~7u) + 7 > limit)
		return emu_raise(c, exc, sel & ~3u, 1);
	return emu_read_lin(c, base + (sel & ~7u), d, 8, ACC_READ | ACC_SUPER);
}

int emu_seg_check(struct emu_cpu *c, int sreg, uint16_t sel, int cpl,
		  const struct x86_segment *ldt, struct x86_segment *seg)
{
	int rpl = sel & 3;
	uint64_t d;

	if (!(sel & ~3u)) {
		if (sreg == X86_CS || sreg == X86_SS)
			return ts_fault(c, sel);
		*seg = (struct x86_segment){ .selector = sel, .unusable = 1 };
		return 0;
	}
	if (read_desc_in(c, sel, ldt, &d, EXC_TS))
		return -1;
	emu_desc_to_seg(d | (1ULL << 40), 0, sel, seg, 0);
	if (!seg->s)
		return ts_fault(c, sel);
	if (sreg == X86_CS) {
		if (!(seg->type & 8) || ((seg->type & 4) ? seg->dpl > rpl : seg->dpl != rpl))
			return ts_fault(c, sel);
		if (!seg->present)
			return emu_raise(c, EXC_NP, sel & ~3u, 1);
		seg->dpl = rpl;    /* CPL, also for conforming code */
		return 0;
	}
	if (sreg == X86_SS) {
		if ((seg->type & 8) || !(seg->type & 2) || rpl != cpl || seg->dpl != cpl)
			return ts_fault(c, sel);
		if (!seg->present)
			return emu_raise(c, EXC_SS, sel & ~3u, 1);
		return 0;
	}
	if ((seg->type & 0xa) == 0x8 ||
	    ((!(seg->type & 8) || !(seg->type & 4)) && (seg->dpl < cpl || seg->dpl < rpl)))
		return ts_fault(c, sel);
	if (!seg->present)
		return emu_raise(c, EXC_NP, sel & ~3u, 1);
	return 0;
}

/* The new task's LDT: null, or an LDT descriptor in the GDT; anything else is #TS. */
static int new_ldt(struct emu_cpu *c, uint16_t sel, struct x86_segment *ldt)
{
	uint64_t d;

	if (!(sel & ~3u)) {
		*ldt = (struct x86_segment){ .selector = sel, .unusable = 1 };
		return 0;
	}
	if (sel & 4)
		return ts_fault(c, sel);
	if (read_desc_in(c, sel, NULL, &d, EXC_TS))
		return -1;
	emu_desc_to_seg(d, 0, sel, ldt, 0);
	if (ldt->s || ldt->type != 2 || !ldt->present)
		return ts_fault(c, sel);
	return 0;
}

/* Sets or clears the busy bit of a TSS descriptor in the GDT. */
static int set_busy(struct emu_cpu *c, uint16_t sel, int busy)
{
	uint64_t lin = c->s->gdt.base + (sel & ~7u) + 5;
	uint8_t b;

	if (emu_read_lin(c, lin, &b, 1, ACC_READ | ACC_SUPER))
		return -1;
	b = busy ? b | 2 : b & ~2;
	return emu_write_lin(c, lin, &b, 1, ACC_WRITE | ACC_SUPER);
}

/*
 * What a TSS holds of a task, in either layout.  A 16-bit TSS (type 1/3,
 * 44 bytes) has 16-bit IP, FLAGS and registers, ES CS SS DS and the LDT,
 * no FS, GS, CR3 or T bit.
 */
struct tss_regs {
	uint32_t eip, eflags, gpr[8], cr3;
	uint16_t seg[6], ldt;
	int trap;
};

static void tss_parse(const uint8_t *raw, int is32, struct tss_regs *r)
{
	memset(r, 0, sizeof(*r));
	if (is32) {
		r->cr3 = rd32(raw, TSS_CR3);
		r->eip = rd32(raw, TSS_EIP);
		r->eflags = rd32(raw, TSS_EFLAGS);
		for (int i = 0; i < 8; i++)
			r->gpr[i] = rd32(raw, TSS_GPRS + 4 * i);
		for (int i = 0; i < 6; i++)
			r->seg[i] = rd32(raw, TSS_SEGS + 4 * i);
		r->ldt = rd32(raw, TSS_LDT);
		r->trap = raw[TSS_TRAP] & 1;
		return;
	}
	r->eip = rd16(raw, TSS16_IP);
	r->eflags = rd16(raw, TSS16_IP + 2);
	for (int i = 0; i < 8; i++)
		r->gpr[i] = rd16(raw, TSS16_GPRS + 2 * i);
	for (int i = 0; i < 4; i++)     /* ES CS SS DS; FS and GS are null */
		r->seg[i] = rd16(raw, TSS16_SEGS + 2 * i);
	r->ldt = rd16(raw, TSS16_LDT);
}

/*
 * The outgoing task's state in its TSS's layout: EIP, EFLAGS, the GPRs and
 * the selectors from 0x20 (32-bit), or IP, FLAGS, the GPRs and ES CS SS DS
 * from 0x0e (16-bit).  The size, or the offset through *off.
 */
static unsigned old_state(const struct emu_cpu *c, int is32, uint8_t save[64], unsigned *off,
			  uint64_t ret_eip, int source)
{
	const struct x86_cpu_state *s = c->s;
	unsigned size = is32 ? 4 : 2, n = 0;
	uint32_t v[16];

	v[n++] = ret_eip;
	v[n++] = s->rflags & ~(source == EMU_TASK_IRET ? X86_RFLAGS_NT : 0);
	for (int i = 0; i < 8; i++)
		v[n++] = s->gpr[i];
	for (int i = 0; i < (is32 ? 6 : 4); i++)
		v[n++] = s->seg[i].selector;
	for (unsigned i = 0; i < n; i++)
		memcpy(save + i * size, &v[i], size);
	*off = is32 ? TSS_EIP : TSS16_IP;
	return n * size;
}

/* Everything about the new task that can fault, read and checked. */
struct new_task {
	struct tss_regs r;
	struct x86_segment tr, ldt, seg[6];
};

static int read_new_task(struct emu_cpu *c, uint16_t sel, uint64_t desc, struct new_task *t)
{
	const struct x86_segment *otr = &c->s->seg[X86_TR];
	uint8_t raw[TSS32_MIN_LIMIT + 1];
	int cpl, is32;

	emu_desc_to_seg(desc, 0, sel, &t->tr, 0);
	if (emu_long_mode(c))
		return emu_unimpl(c);
	is32 = !!(t->tr.type & 8);
	if (t->tr.limit < (is32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
		return ts_fault(c, sel);
	if (otr->limit < ((otr->type & 8) ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
		return ts_fault(c, otr->selector);
	if (emu_read_lin(c, t->tr.base, raw, is32 ? TSS32_MIN_LIMIT + 1 : TSS16_MIN_LIMIT + 1,
			 ACC_READ | ACC_SUPER))
		return -1;
	tss_parse(raw, is32, &t->r);
	if (new_ldt(c, t->r.ldt, &t->ldt))
		return -1;
	if (t->r.eflags & X86_RFLAGS_VM) {
		/* A virtual-8086 task: its selectors are paragraphs, CPL 3. */
		cpl = 3;
		for (int i = 0; i < 6; i++)
			emu_seg_v86(&t->seg[i], t->r.seg[i]);
	} else {
		cpl = t->r.seg[X86_CS] & 3;
		for (int i = 0; i < 6; i++)
			if (emu_seg_check(c, i, t->r.seg[i], cpl, &t->ldt, &t->seg[i]))
				return -1;
	}
	if (cpl == 3 && emu_io_check(c, EMU_IO_USER, 0))
		return -1;
	return 0;
}

static void load_new_task(struct emu_cpu *c, uint16_t sel, struct new_task *t, uint32_t eflags)
{
	struct x86_cpu_state *s = c->s;
	int is32 = !!(t->tr.type & 8);

	t->tr.type |= 2;
	s->seg[X86_TR] = t->tr;
	s->seg[X86_LDTR] = t->ldt;
	s->seg[X86_TR].selector = sel;
	s->cr0 |= X86_CR0_TS;
	if (is32 && (s->cr0 & X86_CR0_PG)) {
		s->cr3 = t->r.cr3;
		emu_tlb_flush_cr3(c);
	}
	/* From a 16-bit TSS the upper halves of the registers and EFLAGS stay
	 * (as QEMU does; the SDM leaves them undefined), but VM and RF. */
	for (int i = 0; i < 8; i++)
		s->gpr[i] = is32 ? t->r.gpr[i] : (s->gpr[i] & 0xffff0000ULL) | t->r.gpr[i];
	if (!is32)
		eflags |= s->rflags & 0xffff0000ULL & ~(X86_RFLAGS_VM | X86_RFLAGS_RF);
	for (int i = 0; i < 6; i++)
		s->seg[i] = t->seg[i];
	s->rflags = (eflags & 0x3f7fd7u) | X86_RFLAGS_FIXED;
	s->rip = t->r.eip;
	c->task_trap = t->r.trap;
}

int emu_task_switch(struct emu_cpu *c, uint16_t sel, uint64_t desc, int source,
		    uint64_t ret_eip, int has_err, uint32_t err)
{
	const struct x86_segment *otr = &c->s->seg[X86_TR];
	uint16_t old_sel = otr->selector;
	struct new_task t;
	uint8_t save[64];
	unsigned off, len;
	uint32_t eflags;

	if (read_new_task(c, sel, desc, &t))
		return -1;
	len = old_state(c, !!(otr->type & 8), save, &off, ret_eip, source);
	if (emu_write_lin(c, otr->base + off, save, len, ACC_WRITE | ACC_SUPER))
		return -1;
	if ((source == EMU_TASK_JMP || source == EMU_TASK_IRET) && set_busy(c, old_sel, 0))
		return -1;
	eflags = t.r.eflags;
	if (source == EMU_TASK_CALL || source == EMU_TASK_INT) {
		if (emu_write_lin(c, t.tr.base, &old_sel, 2, ACC_WRITE | ACC_SUPER))
			return -1;
		eflags |= X86_RFLAGS_NT;
	}
	if (source != EMU_TASK_IRET && set_busy(c, sel, 1))
		return -1;
	load_new_task(c, sel, &t, eflags);
	/* From here on a fault belongs to the new task (emu_deliver escalates
	 * it); the error code is a word on a 16-bit task's stack. */
	return has_err ? emu_push(c, err, (t.tr.type & 8) ? 4 : 2) : 0;
}

/* The TSS a task gate or a JMP/CALL names: available, in the GDT, present. */
int emu_task_target(struct emu_cpu *c, uint16_t sel, uint32_t ext, uint64_t *desc)
{
	int type;

	if (sel & 4)
		return emu_gp(c, (sel & ~3u) | ext);
	if ((uint64_t)(sel & ~7u) + 7 > c->s->gdt.limit || !(sel & ~3u))
		return emu_gp(c, (sel & ~3u) | ext);
	if (emu_read_lin(c, c->s->gdt.base + (sel & ~7u), desc, 8, ACC_READ | ACC_SUPER))
		return -1;
	type = (*desc >> 40) & 0x1f;     /* with the S bit */
	if (type != 0x09 && type != 0x01)
		return emu_gp(c, (sel & ~3u) | ext);
	if (!((*desc >> 47) & 1))
		return emu_raise(c, EXC_NP, (sel & ~3u) | ext, 1);
	return 0;
}

/* IRET with NT: back to the task in the current TSS's link field, which must be busy. */
int emu_task_return(struct emu_cpu *c)
{
	const struct x86_segment *tr = &c->s->seg[X86_TR];
	uint16_t link = 0;
	uint64_t d;
	int type;

	if (emu_read_lin(c, tr->base, &link, 2, ACC_READ | ACC_SUPER))
		return -1;
	if ((link & 4) || !(link & ~3u) || (uint64_t)(link & ~7u) + 7 > c->s->gdt.limit)
		return ts_fault(c, link);
	if (emu_read_lin(c, c->s->gdt.base + (link & ~7u), &d, 8, ACC_READ | ACC_SUPER))
		return -1;
	type = (d >> 40) & 0x1f;
	if (type != 0x0b && type != 0x03)
		return ts_fault(c, link);
	if (!((d >> 47) & 1))
		return emu_raise(c, EXC_NP, link & ~3u, 1);
	return emu_task_switch(c, link, d, EMU_TASK_IRET, c->next_rip, 0, 0);
}
