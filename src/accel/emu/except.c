/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exception and interrupt delivery through the real-mode IVT, the 32-bit
 * IDT (task gates: task.c) and the 64-bit IDT (IST, stack switch through
 * the TSS), #DF and triple fault; and IRET, its inverse (with NT: task.c).  The whole stack frame is written
 * before any register changes, so a fault while delivering leaves the
 * registers as they were and can escalate cleanly.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

int emu_raise(struct emu_cpu *c, int vec, uint32_t err, int has_err)
{
	c->fault = vec;
	c->fault_err = err;
	c->fault_has_err = has_err;
	return -1;
}

int emu_unimpl(struct emu_cpu *c)
{
	c->unimplemented = 1;
	return -1;
}

int emu_io_check(struct emu_cpu *c, enum emu_io_kind kind, uint64_t addr)
{
	if (!c->env.io_stop || !c->env.io_stop(c->env.opaque, kind, addr))
		return 0;
	c->io_stopped = 1;
	return emu_unimpl(c);
}

struct frame {
	uint64_t v[10];     /* from virtual-8086 mode: GS FS DS ES SS ESP EFLAGS CS EIP error */
	int n;
};

static void frame_push(struct frame *f, uint64_t v)
{
	f->v[f->n++] = v;
}

/* Writes the frame (pushed in order) below sp, each slot size bytes. */
static int frame_write(struct emu_cpu *c, uint64_t base, uint64_t sp, uint64_t sp_mask,
		       const struct frame *f, unsigned size, int acc)
{
	uint8_t buf[sizeof(f->v)];
	unsigned total = f->n * size;
	uint64_t nsp = (sp - total) & sp_mask;

	for (int i = 0; i < f->n; i++)
		memcpy(buf + total - (i + 1) * size, &f->v[i], size);
	return emu_write_lin(c, (base + nsp) & (emu_long_mode(c) ? ~0ULL : 0xffffffffULL),
			     buf, total, acc);
}

static int deliver_real(struct emu_cpu *c, int vec, uint64_t ret_rip)
{
	struct x86_cpu_state *s = c->s;
	uint64_t sp = s->gpr[X86_RSP] & 0xffff;
	struct frame f = { .n = 0 };
	uint32_t ivt;

	if ((uint64_t)vec * 4 + 3 > s->idt.limit)
		return emu_gp(c, vec * 8 + 2);
	if (emu_read_lin(c, s->idt.base + vec * 4, &ivt, 4, ACC_READ))
		return -1;
	frame_push(&f, s->rflags & 0xffff);
	frame_push(&f, s->seg[X86_CS].selector);
	frame_push(&f, ret_rip & 0xffff);
	if (frame_write(c, s->seg[X86_SS].base, sp, 0xffff, &f, 2, ACC_WRITE))
		return -1;
	s->gpr[X86_RSP] = (s->gpr[X86_RSP] & ~0xffffULL) | ((sp - 6) & 0xffff);
	s->seg[X86_CS].selector = ivt >> 16;
	s->seg[X86_CS].base = (uint64_t)(ivt >> 16) << 4;
	s->rip = ivt & 0xffff;
	s->rflags &= ~(X86_RFLAGS_IF | X86_RFLAGS_TF | X86_RFLAGS_AC | X86_RFLAGS_RF);
	return 0;
}

struct gate {
	uint64_t offset;
	uint16_t sel;
	int type, dpl, present, ist;
};

static int read_gate(struct emu_cpu *c, int vec, int ext, struct gate *g)
{
	struct x86_cpu_state *s = c->s;
	int lm = emu_long_mode(c);
	unsigned size = lm ? 16 : 8;
	uint64_t d[2] = { 0, 0 };
	uint32_t err = vec * 8 + 2 + ext;

	if ((uint64_t)vec * size + size - 1 > s->idt.limit)
		return emu_gp(c, err);
	if (emu_read_lin(c, s->idt.base + vec * size, d, size, ACC_READ | ACC_SUPER))
		return -1;
	g->offset = (d[0] & 0xffff) | ((d[0] >> 32) & 0xffff0000ULL);
	if (lm)
		g->offset |= (d[1] & 0xffffffffULL) << 32;
	g->sel = (d[0] >> 16) & 0xffff;
	g->type = (d[0] >> 40) & 0xf;
	g->dpl = (d[0] >> 45) & 3;
	g->present = (d[0] >> 47) & 1;
	g->ist = lm ? (d[0] >> 32) & 7 : 0;
	if (lm ? (g->type != 0xe && g->type != 0xf) :
		 (g->type != 5 && g->type != 6 && g->type != 7 && g->type != 0xe && g->type != 0xf))
		return emu_gp(c, err);
	return 0;
}

int emu_tss_stack(struct emu_cpu *c, int dpl, int ist, uint64_t *sp, uint16_t *ss)
{
	const struct x86_segment *tr = &c->s->seg[X86_TR];
	unsigned off, size;
	uint64_t v = 0;
	uint16_t sel = 0;

	if (emu_long_mode(c)) {
		off = ist ? 36 + (ist - 1) * 8 : 4 + dpl * 8;
		size = 8;
	} else if (tr->type & 8) {
		off = 4 + dpl * 8;
		size = 4;
	} else {
		off = 2 + dpl * 4;
		size = 2;
	}
	if (off + size - 1 > tr->limit || (!emu_long_mode(c) && off + 2 * size - 1 > tr->limit))
		return emu_raise(c, EXC_TS, tr->selector & ~3u, 1);
	if (emu_read_lin(c, tr->base + off, &v, size, ACC_READ | ACC_SUPER))
		return -1;
	if (!emu_long_mode(c) &&
	    emu_read_lin(c, tr->base + off + size, &sel, 2, ACC_READ | ACC_SUPER))
		return -1;
	*sp = v;
	*ss = emu_long_mode(c) ? dpl : sel;
	return 0;
}

int emu_tss_map(struct emu_cpu *c, int rel, void *buf, unsigned n)
{
	const struct x86_segment *tr = &c->s->seg[X86_TR];
	uint16_t base;
	int64_t off;

	if (!(tr->type & 8) || tr->limit < 0x67)
		return emu_gp(c, 0);
	if (emu_read_lin(c, tr->base + 0x66, &base, 2, ACC_READ | ACC_SUPER))
		return -1;
	off = (int64_t)base + rel;
	if (off < 0 || (uint64_t)off + n - 1 > tr->limit)
		return emu_gp(c, 0);
	return emu_read_lin(c, tr->base + off, buf, n, ACC_READ | ACC_SUPER);
}

/* Checks and reads the target code segment of a gate. */
static int gate_target(struct emu_cpu *c, const struct gate *g, int ext, struct x86_segment *cs)
{
	uint64_t d;
	uint32_t err = (g->sel & ~3u) + ext;

	if (!(g->sel & ~3u))
		return emu_gp(c, ext);
	if (emu_read_desc(c, g->sel, &d, EXC_GP))
		return -1;
	emu_desc_to_seg(d, 0, g->sel, cs, emu_long_mode(c));
	if (!cs->s || !(cs->type & 8) || cs->dpl > emu_cpl(c))
		return emu_gp(c, err);
	if (!cs->present)
		return emu_raise(c, EXC_NP, err, 1);
	if (emu_long_mode(c) && (!cs->l || cs->db))
		return emu_gp(c, err);
	return 0;
}

/*
 * Faults push RFLAGS with RF set, so that an IRET back to the instruction
 * does not trip an instruction breakpoint again (SDM 17.3.1.1); traps
 * (#DB, #BP, #OF) and aborts (#DF, #MC) do not.
 */
static int fault_class(int vec)
{
	return vec < 32 && vec != EXC_DB && vec != EXC_NMI && vec != EXC_BP && vec != EXC_OF &&
	       vec != EXC_DF && vec != 18;
}

static int deliver_protected(struct emu_cpu *c, int vec, int kind, int has_err,
			     uint32_t err, uint64_t ret_rip)
{
	struct x86_cpu_state *s = c->s;
	int lm = emu_long_mode(c), ext = kind == EV_EXTERNAL || kind == EV_EXCEPTION;
	int cpl = emu_cpl(c), new_cpl;
	struct x86_segment cs, ss = s->seg[X86_SS];
	struct frame f = { .n = 0 };
	struct gate g;
	uint64_t sp = s->gpr[X86_RSP], sp_mask;
	unsigned slot;
	uint16_t ss_sel = ss.selector;
	int v86 = emu_v86(c);

	if (read_gate(c, vec, ext, &g))
		return -1;
	if (kind == EV_SOFT_INT && g.dpl < cpl)
		return emu_gp(c, vec * 8 + 2);
	if (!g.present)
		return emu_raise(c, EXC_NP, vec * 8 + 2 + ext, 1);
	if (g.type == 5) {
		uint64_t d;

		if (emu_task_target(c, g.sel, ext, &d))
			return -1;
		return emu_task_switch(c, g.sel, d, EMU_TASK_INT, ret_rip, has_err, err);
	}
	if (gate_target(c, &g, ext, &cs))
		return -1;
	new_cpl = (cs.type & 4) ? cpl : cs.dpl;
	/* From virtual-8086 mode only to a ring-0 handler, on its TSS stack. */
	if (v86 && new_cpl != 0)
		return emu_gp(c, (g.sel & ~3u) + ext);
	slot = lm ? 8 : (g.type & 8) ? 4 : 2;
	if (new_cpl < cpl || (lm && g.ist)) {
		if (emu_tss_stack(c, new_cpl, g.ist, &sp, &ss_sel))
			return -1;
		if (!lm) {
			uint64_t d;

			if (emu_read_desc(c, ss_sel, &d, EXC_TS))
				return -1;
			emu_desc_to_seg(d, 0, ss_sel, &ss, emu_long_mode(c));
			if ((ss_sel & 3) != new_cpl || ss.dpl != new_cpl || !ss.s ||
			    (ss.type & 8) || !(ss.type & 2))
				return emu_raise(c, EXC_TS, ss_sel & ~3u, 1);
			if (!ss.present)
				return emu_raise(c, EXC_SS, ss_sel & ~3u, 1);
		}
	}
	if (v86) {
		frame_push(&f, s->seg[X86_GS].selector);
		frame_push(&f, s->seg[X86_FS].selector);
		frame_push(&f, s->seg[X86_DS].selector);
		frame_push(&f, s->seg[X86_ES].selector);
	}
	if (lm || new_cpl < cpl) {
		frame_push(&f, s->seg[X86_SS].selector);
		frame_push(&f, s->gpr[X86_RSP]);
	}
	frame_push(&f, s->rflags | (kind == EV_EXCEPTION && fault_class(vec) ? X86_RFLAGS_RF : 0));
	frame_push(&f, s->seg[X86_CS].selector);
	frame_push(&f, ret_rip);
	if (has_err)
		frame_push(&f, err);
	if (lm) {
		sp_mask = ~0ULL;
		sp &= ~0xfULL;
		ss.base = 0;
	} else {
		sp_mask = ss.db ? 0xffffffffULL : 0xffffULL;
	}
	if (frame_write(c, ss.base, sp, sp_mask, &f, slot,
			ACC_WRITE | (new_cpl < 3 ? ACC_SUPER : 0)))
		return -1;
	sp = (sp - f.n * slot) & sp_mask;
	if (new_cpl != cpl) {
		if (lm)
			x86_seg_flat(&ss, new_cpl, 0, 64);
		ss.selector = lm ? new_cpl : ss_sel;
		ss.dpl = new_cpl;
		s->seg[X86_SS] = ss;
		s->gpr[X86_RSP] = sp;
	} else if (lm) {
		s->gpr[X86_RSP] = sp;
	} else {
		s->gpr[X86_RSP] = (s->gpr[X86_RSP] & ~sp_mask) | sp;
	}
	cs.selector = (g.sel & ~3u) | new_cpl;
	cs.dpl = new_cpl;
	s->seg[X86_CS] = cs;
	s->rip = slot == 2 ? g.offset & 0xffff : lm ? g.offset : g.offset & 0xffffffffULL;
	s->rflags &= ~(X86_RFLAGS_TF | X86_RFLAGS_NT | X86_RFLAGS_RF | X86_RFLAGS_VM);
	if (!(g.type & 1))
		s->rflags &= ~X86_RFLAGS_IF;
	if (v86) {
		static const int data[] = { X86_ES, X86_DS, X86_FS, X86_GS };

		for (unsigned i = 0; i < 4; i++)
			s->seg[data[i]] = (struct x86_segment){ .unusable = 1 };
	}
	return 0;
}

static int contributory(int vec)
{
	return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP);
}

int emu_deliver(struct emu_cpu *c, int vec, int kind, int has_err, uint32_t err, uint64_t ret_rip)
{
	for (;;) {
		int r, second;

		c->fault = -1;
		if (kind == EV_EXCEPTION && vec == EXC_PF)
			c->s->cr2 = c->fault_cr2;
		if (emu_protected(c))
			r = deliver_protected(c, vec, kind, has_err, err, ret_rip);
		else
			r = deliver_real(c, vec, ret_rip);
		if (!r) {
			c->nesting++;
			/* The handler may use the debug registers (SDM vol. 3 18.2.4). */
			if (kind == EV_EXCEPTION && vec == EXC_DB)
				c->s->dr[7] &= ~EMU_DR7_GD;
			if (!c->task_trap)
				return 0;
			/* Into a task whose TSS has T set: a #DB trap (DR6.BT) before
			 * its first instruction. */
			c->task_trap = 0;
			c->s->dr[6] |= EMU_DR6_BT;
			vec = EXC_DB;
			kind = EV_EXCEPTION;
			has_err = 0;
			ret_rip = c->insn_rip = c->s->rip;
			continue;
		}
		if (c->unimplemented || c->fault < 0)
			return -1;
		second = c->fault;
		if (kind == EV_EXCEPTION && vec == EXC_DF)
			return -1;    /* triple fault */
		if (kind == EV_EXCEPTION &&
		    ((contributory(vec) && contributory(second)) ||
		     (vec == EXC_PF && (contributory(second) || second == EXC_PF)))) {
			vec = EXC_DF;
			err = 0;
			has_err = 1;
		} else {
			vec = second;
			err = c->fault_err;
			has_err = c->fault_has_err;
		}
		kind = EV_EXCEPTION;
		ret_rip = c->insn_rip;   /* a fault reports the instruction itself */
		if (!emu_protected(c))
			has_err = 0;
	}
}

/* ---- IRET ---- */

static int pop_n(struct emu_cpu *c, uint64_t *v, int n, unsigned size)
{
	for (int i = 0; i < n; i++)
		if (emu_pop(c, &v[i], size))
			return -1;
	return 0;
}

static uint64_t iret_flags(struct emu_cpu *c, uint64_t newf, unsigned size, int cpl)
{
	uint64_t keep = X86_RFLAGS_VM | X86_RFLAGS_VIF | X86_RFLAGS_VIP;
	uint64_t f;

	if (emu_protected(c)) {
		if (cpl > 0)
			keep |= X86_RFLAGS_IOPL;
		if (cpl > (int)((c->s->rflags >> 12) & 3))
			keep |= X86_RFLAGS_IF;
		if (cpl == 0)
			keep &= ~(X86_RFLAGS_VIF | X86_RFLAGS_VIP);
	}
	if (size == 2)
		keep |= ~0xffffULL;
	keep |= ~0x3f7fd5ULL;
	f = (c->s->rflags & keep) | (newf & ~keep);
	/* RF too: it spares the next instruction an instruction breakpoint. */
	return (f & 0x3f7fd7ULL) | X86_RFLAGS_FIXED;
}

void emu_null_data_segs(struct emu_cpu *c, int cpl)
{
	static const int segs[] = { X86_ES, X86_DS, X86_FS, X86_GS };

	for (unsigned i = 0; i < 4; i++) {
		struct x86_segment *sg = &c->s->seg[segs[i]];

		if (sg->unusable || ((sg->type & 0xc) == 0xc))
			continue;
		if (sg->dpl < cpl) {
			sg->selector = 0;
			sg->unusable = 1;
		}
	}
}

/* Real mode, and virtual-8086 mode at IOPL 3 (CPL 3: IOPL, VM, VIF, VIP stay). */
static int iret_real(struct emu_cpu *c, unsigned size)
{
	uint64_t v[3];

	if (pop_n(c, v, 3, size))
		return -1;
	if (size == 4 && v[0] > 0xffff)
		return emu_gp(c, 0);
	c->s->rflags = iret_flags(c, v[2], size, emu_cpl(c));
	emu_load_cs(c, v[1], 3);
	c->s->rip = v[0];
	return 0;
}

/* A 16-bit IRET in virtual-8086 mode below IOPL 3 under VME: IF goes to VIF. */
static int iret_vme(struct emu_cpu *c)
{
	uint64_t v[3];

	if (pop_n(c, v, 3, 2) || emu_vme_load_flags(c, v[2]))
		return -1;
	emu_seg_v86(&c->s->seg[X86_CS], v[1]);
	c->s->rip = v[0];
	return 0;
}

/*
 * INT n in virtual-8086 mode under VME whose bit in the interrupt
 * redirection bitmap (the 32 bytes below the TSS's I/O map base) is
 * clear: delivered as real mode would, through the IVT at linear 0, with
 * the FLAGS image VME shows (IF from VIF, IOPL 3 below IOPL 3); then VIF
 * (IF at IOPL 3) and TF clear.
 */
int emu_v86_int(struct emu_cpu *c, int vec)
{
	struct x86_cpu_state *s = c->s;
	uint64_t sp = s->gpr[X86_RSP] & 0xffff;
	struct frame f = { .n = 0 };
	uint8_t bits;
	uint32_t ivt;

	if (emu_tss_map(c, vec / 8 - 32, &bits, 1))
		return -1;
	if ((bits >> (vec & 7)) & 1)
		return 1;
	if (emu_read_lin(c, (uint64_t)vec * 4, &ivt, 4, ACC_READ))
		return -1;
	frame_push(&f, emu_iopl(c) == 3 ? s->rflags & 0xffff : emu_vme_flags(c));
	frame_push(&f, s->seg[X86_CS].selector);
	frame_push(&f, c->next_rip & 0xffff);
	if (frame_write(c, s->seg[X86_SS].base, sp, 0xffff, &f, 2, ACC_WRITE))
		return -1;
	s->gpr[X86_RSP] = (s->gpr[X86_RSP] & ~0xffffULL) | ((sp - 6) & 0xffff);
	emu_seg_v86(&s->seg[X86_CS], ivt >> 16);
	s->rip = ivt & 0xffff;
	s->rflags &= ~(X86_RFLAGS_TF | (emu_iopl(c) == 3 ? X86_RFLAGS_IF : X86_RFLAGS_VIF));
	return 0;
}

/*
 * IRET at CPL 0 to a 32-bit EFLAGS image with VM set: the rest of the
 * frame is ESP, SS, ES, DS, FS, GS; every flag is loaded as it stands.
 */
static int iret_to_v86(struct emu_cpu *c, const uint64_t v[3])
{
	static const int segs[] = { X86_SS, X86_ES, X86_DS, X86_FS, X86_GS };
	struct x86_cpu_state *s = c->s;
	uint64_t w[6];

	if (pop_n(c, w, 6, 4))
		return -1;
	if (v[0] > 0xffff)
		return emu_gp(c, 0);
	if (emu_io_check(c, EMU_IO_USER, 0))
		return -1;
	s->rflags = (v[2] & 0x3f7fd7ULL) | X86_RFLAGS_FIXED;
	emu_seg_v86(&s->seg[X86_CS], v[1]);
	for (unsigned i = 0; i < 5; i++)
		emu_seg_v86(&s->seg[segs[i]], w[1 + i]);
	s->gpr[X86_RSP] = w[0] & 0xffffffffULL;
	s->rip = v[0];
	return 0;
}

int emu_iret(struct emu_cpu *c)
{
	struct x86_cpu_state *s = c->s;
	struct x86_cpu_state saved;
	unsigned size = c->insn.opsize;
	int cpl = emu_cpl(c), rpl, lm64 = emu_64bit(c);
	uint64_t v[5] = { 0 };

	if (!emu_protected(c))
		return iret_real(c, size);
	if (emu_v86(c)) {
		/* IOPL-sensitive there (but a 16-bit one under VME); at IOPL 3 the
		 * real-mode IRET. */
		if (emu_vme(c) && size == 2)
			return iret_vme(c);
		if (emu_iopl(c) < 3)
			return emu_gp(c, 0);
		return iret_real(c, size);
	}
	if (!emu_long_mode(c) && (s->rflags & X86_RFLAGS_NT))
		return emu_task_return(c);
	if (emu_long_mode(c) && (s->rflags & X86_RFLAGS_NT))
		return emu_gp(c, 0);
	if (pop_n(c, v, 3, size))
		return -1;
	if ((v[2] & X86_RFLAGS_VM) && cpl == 0 && size == 4 && !emu_long_mode(c))
		return iret_to_v86(c, v);
	rpl = v[1] & 3;
	if (rpl < cpl)
		return emu_gp(c, v[1] & ~3u);
	if (rpl > cpl && emu_io_check(c, EMU_IO_USER, 0))
		return -1;
	if (lm64 || rpl > cpl) {
		if (pop_n(c, v + 3, 2, size))
			return -1;
	}
	memcpy(&saved, s, sizeof(saved));
	if (emu_load_cs(c, v[1], rpl))
		goto undo;
	if (lm64 || rpl > cpl) {
		/* SS is checked against the new CPL. */
		int old_dpl = s->seg[X86_SS].dpl;

		s->seg[X86_SS].dpl = rpl;
		if (!(v[4] & ~3u) && lm64 && rpl < 3 && s->seg[X86_CS].l) {
			x86_seg_flat(&s->seg[X86_SS], v[4], 0, 64);
			s->seg[X86_SS].dpl = rpl;
			s->seg[X86_SS].selector = v[4];
		} else if (emu_load_seg(c, X86_SS, v[4])) {
			s->seg[X86_SS].dpl = old_dpl;
			goto undo;
		}
		s->gpr[X86_RSP] = size == 2 ? (s->gpr[X86_RSP] & ~0xffffULL) | (v[3] & 0xffff) : v[3];
		if (size == 4 && !lm64)
			s->gpr[X86_RSP] = v[3] & 0xffffffffULL;
	}
	s->rflags = iret_flags(c, v[2], size, cpl);
	s->rip = s->seg[X86_CS].l ? v[0] : v[0] & 0xffffffffULL;
	if (size == 2)
		s->rip &= 0xffff;
	if (rpl > cpl)
		emu_null_data_segs(c, rpl);
	return 0;
undo:
	if (!c->unimplemented) {
		int f = c->fault;
		uint32_t e = c->fault_err;
		int h = c->fault_has_err;

		memcpy(s, &saved, sizeof(saved));
		return emu_raise(c, f, e, h);
	}
	return -1;
}
