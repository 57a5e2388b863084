/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Far JMP and CALL to a system descriptor: in legacy protected mode call
 * gates (16- and 32-bit, to the same or a more privileged level with the
 * stack switch from the TSS and the parameter copy), task gates and TSS
 * descriptors (task.c); in IA-32e mode 64-bit call gates (16 bytes, to
 * 64-bit code, RSP from the TSS and a null SS on a privilege change, no
 * parameters), and tasks are #GP there.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

static int canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

struct call_gate {
	uint16_t sel, cs_sel;
	uint64_t offset;
	unsigned slot;        /* 4 for a 32-bit gate, 2 for a 16-bit one */
	unsigned nparams;
};

static void parse_gate(uint16_t sel, uint64_t d, struct call_gate *g)
{
	g->sel = sel;
	g->cs_sel = (d >> 16) & 0xffff;
	g->slot = ((d >> 40) & 8) ? 4 : 2;
	g->offset = (d & 0xffff) | (g->slot == 4 ? (d >> 32) & 0xffff0000ULL : 0);
	g->nparams = (d >> 32) & 0x1f;
}

/* The new stack of a call to an inner level: SS:ESP from the TSS, checked for #TS. */
static int inner_stack(struct emu_cpu *c, int cpl, struct x86_segment *ss, uint64_t *sp)
{
	uint16_t sel;

	if (emu_tss_stack(c, cpl, 0, sp, &sel))
		return -1;
	if (!(sel & ~3u))
		return emu_raise(c, EXC_TS, 0, 1);
	return emu_seg_check(c, X86_SS, sel, cpl, &c->s->seg[X86_LDTR], ss);
}

/*
 * CALL to a more privileged non-conforming segment: on the new stack the
 * caller's SS, ESP, the gate's parameters copied from the caller's stack,
 * CS and EIP, all written in one access before any register changes.
 */
static int call_inner(struct emu_cpu *c, const struct call_gate *g, int new_cpl)
{
	struct x86_cpu_state *s = c->s;
	unsigned n = 0, slot = g->slot, old_mask = emu_stack_size(c) == 2 ? 0xffff : 0xffffffff;
	uint64_t v[4 + 31], old_sp = s->gpr[X86_RSP] & old_mask, sp, new_sp, mask;
	uint8_t buf[sizeof(v)];
	struct x86_segment ss;

	if (inner_stack(c, new_cpl, &ss, &sp))
		return -1;
	v[n++] = c->next_rip;
	v[n++] = s->seg[X86_CS].selector;
	for (unsigned i = 0; i < g->nparams; i++)
		if (emu_read_u(c, X86_SS, (old_sp + i * slot) & old_mask, slot, &v[n++]))
			return -1;
	v[n++] = s->gpr[X86_RSP];
	v[n++] = s->seg[X86_SS].selector;
	for (unsigned i = 0; i < n; i++)
		memcpy(buf + i * slot, &v[i], slot);
	mask = ss.db ? 0xffffffffULL : 0xffffULL;
	new_sp = (sp - n * slot) & mask;
	if ((ss.type & 4) ? new_sp <= ss.limit || new_sp + n * slot - 1 > mask :
			    new_sp + n * slot - 1 > ss.limit || new_sp > sp)
		return emu_raise(c, EXC_SS, ss.selector & ~3u, 1);
	if (emu_write_lin(c, (ss.base + new_sp) & 0xffffffffULL, buf, n * slot, ACC_WRITE | ACC_SUPER))
		return -1;
	if (emu_load_cs(c, g->cs_sel, new_cpl))
		return -1;
	s->seg[X86_SS] = ss;
	s->gpr[X86_RSP] = ss.db ? new_sp : (s->gpr[X86_RSP] & ~0xffffULL) | new_sp;
	s->rip = g->offset;
	return 0;
}

static int through_call_gate(struct emu_cpu *c, uint16_t sel, uint64_t d, int call)
{
	struct x86_cpu_state *s = c->s;
	int cpl = emu_cpl(c), gdpl = (d >> 45) & 3;
	struct x86_segment cs;
	struct call_gate g;
	uint64_t cd;

	parse_gate(sel, d, &g);
	if (gdpl < cpl || gdpl < (sel & 3))
		return emu_gp(c, sel & ~3u);
	if (!((d >> 47) & 1))
		return emu_raise(c, EXC_NP, sel & ~3u, 1);
	if (!(g.cs_sel & ~3u))
		return emu_gp(c, 0);
	if (emu_read_desc(c, g.cs_sel, &cd, EXC_GP))
		return -1;
	emu_desc_to_seg(cd, 0, g.cs_sel, &cs, 0);
	if (!cs.s || !(cs.type & 8) || cs.dpl > cpl ||
	    (!call && !(cs.type & 4) && cs.dpl != cpl))
		return emu_gp(c, g.cs_sel & ~3u);
	if (!cs.present)
		return emu_raise(c, EXC_NP, g.cs_sel & ~3u, 1);
	if (g.offset > cs.limit)
		return emu_gp(c, 0);
	if (call && !(cs.type & 4) && cs.dpl < cpl)
		return call_inner(c, &g, cs.dpl);
	if (call && (emu_push(c, s->seg[X86_CS].selector, g.slot) ||
		     emu_push(c, c->next_rip, g.slot)))
		return -1;
	if (emu_load_cs(c, g.cs_sel, cpl))
		return -1;
	s->rip = g.offset;
	return 0;
}

/* JMP/CALL to a TSS descriptor, or to a task gate naming one. */
static int to_task(struct emu_cpu *c, uint16_t sel, uint64_t d, int call)
{
	int cpl = emu_cpl(c), dpl = (d >> 45) & 3, type = (d >> 40) & 0xf;
	uint16_t tss = sel;

	if (dpl < cpl || dpl < (sel & 3))
		return emu_gp(c, sel & ~3u);
	if (type == 5) {
		if (!((d >> 47) & 1))
			return emu_raise(c, EXC_NP, sel & ~3u, 1);
		tss = (d >> 16) & 0xffff;
	} else if (sel & 4) {
		return emu_gp(c, sel & ~3u);
	}
	if (emu_task_target(c, tss, 0, &d))
		return -1;
	return emu_task_switch(c, tss, d, call ? EMU_TASK_CALL : EMU_TASK_JMP, c->next_rip, 0, 0);
}

/*
 * CALL to a more privileged level through a 64-bit gate: RSP from the
 * TSS, SS null at the new CPL, the caller's SS, RSP, CS and RIP pushed as
 * quadwords in one access before any register changes.
 */
static int call_inner64(struct emu_cpu *c, uint16_t cs_sel, uint64_t rip, int new_cpl)
{
	struct x86_cpu_state *s = c->s;
	uint64_t v[4] = { c->next_rip, s->seg[X86_CS].selector, s->gpr[X86_RSP],
			  s->seg[X86_SS].selector }, sp;
	uint8_t buf[32];
	uint16_t ss_sel;

	if (emu_tss_stack(c, new_cpl, 0, &sp, &ss_sel))
		return -1;
	if (!canonical(sp) || !canonical(sp - 32))
		return emu_raise(c, EXC_SS, 0, 1);
	memcpy(buf, v, sizeof(buf));
	if (emu_write_lin(c, sp - 32, buf, sizeof(buf), ACC_WRITE | ACC_SUPER))
		return -1;
	if (emu_load_cs(c, cs_sel, new_cpl))
		return -1;
	x86_seg_flat(&s->seg[X86_SS], new_cpl, 0, 64);
	s->seg[X86_SS].dpl = new_cpl;
	s->gpr[X86_RSP] = sp - 32;
	s->rip = rip;
	return 0;
}

/* Far JMP/CALL through a 64-bit call gate (IA-32e mode). */
static int through_call_gate64(struct emu_cpu *c, uint16_t sel, int call)
{
	struct x86_cpu_state *s = c->s;
	int cpl = emu_cpl(c), gdpl;
	uint16_t cs_sel;
	struct x86_segment cs;
	uint64_t d[2], cd, rip;

	if (emu_read_desc16(c, sel, d))
		return -1;
	gdpl = (d[0] >> 45) & 3;
	cs_sel = (d[0] >> 16) & 0xffff;
	rip = (d[0] & 0xffff) | ((d[0] >> 32) & 0xffff0000ULL) | (d[1] << 32);
	if (((d[1] >> 40) & 0x1f) || gdpl < cpl || gdpl < (sel & 3))
		return emu_gp(c, sel & ~3u);
	if (!((d[0] >> 47) & 1))
		return emu_raise(c, EXC_NP, sel & ~3u, 1);
	if (!(cs_sel & ~3u))
		return emu_gp(c, 0);
	if (emu_read_desc(c, cs_sel, &cd, EXC_GP))
		return -1;
	emu_desc_to_seg(cd, 0, cs_sel, &cs, 1);
	if (!cs.s || !(cs.type & 8) || cs.dpl > cpl ||
	    (!call && !(cs.type & 4) && cs.dpl != cpl))
		return emu_gp(c, cs_sel & ~3u);
	if (!cs.present)
		return emu_raise(c, EXC_NP, cs_sel & ~3u, 1);
	if (!cs.l || cs.db)
		return emu_gp(c, cs_sel & ~3u);
	if (!canonical(rip))
		return emu_gp(c, 0);
	if (call && !(cs.type & 4) && cs.dpl < cpl)
		return call_inner64(c, cs_sel, rip, cs.dpl);
	if (call && (emu_push(c, s->seg[X86_CS].selector, 8) || emu_push(c, c->next_rip, 8)))
		return -1;
	if (emu_load_cs(c, cs_sel, cpl))
		return -1;
	s->rip = rip;
	return 0;
}

int emu_far_system(struct emu_cpu *c, uint16_t sel, int call)
{
	uint64_t d;
	int r, type;

	if (!emu_protected(c) || emu_v86(c))
		return 1;
	r = emu_peek_desc(c, sel, &d);
	if (r <= 0 || ((d >> 44) & 1))
		return r < 0 ? -1 : 1;    /* null, beyond the table, or a code/data segment */
	type = (d >> 40) & 0xf;
	if (emu_long_mode(c))
		return type == 0xc ? through_call_gate64(c, sel, call) : emu_gp(c, sel & ~3u);
	switch (type) {
	case 0x4:
	case 0xc:
		return through_call_gate(c, sel, d, call);
	case 0x1:
	case 0x5:
	case 0x9:
		return to_task(c, sel, d, call);
	}
	return emu_gp(c, sel & ~3u);
}
