/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One vCPU's architectural state as a "cpu" section.  Every field has an
 * explicit little-endian layout, not a struct image, so the stream does not
 * change with the compiler's padding or with struct x86_cpu_state growing.
 */
#include "snapshot/snap_cpu.h"

#include <string.h>

#include "snapshot/snap.h"

#define SEG_BYTES 24
#define MSR_BYTES 12
#define EVENTS_BYTES 16

static void seg_pack(uint8_t *b, const struct x86_segment *g)
{
	memset(b, 0, SEG_BYTES);
	memcpy(b, &g->base, 8);
	memcpy(b + 8, &g->limit, 4);
	memcpy(b + 12, &g->selector, 2);
	b[14] = g->type;
	b[15] = g->s;
	b[16] = g->dpl;
	b[17] = g->present;
	b[18] = g->avl;
	b[19] = g->l;
	b[20] = g->db;
	b[21] = g->g;
	b[22] = g->unusable;
}

static int seg_unpack(struct x86_segment *g, const uint8_t *b)
{
	memcpy(&g->base, b, 8);
	memcpy(&g->limit, b + 8, 4);
	memcpy(&g->selector, b + 12, 2);
	g->type = b[14];
	g->s = b[15];
	g->dpl = b[16];
	g->present = b[17];
	g->avl = b[18];
	g->l = b[19];
	g->db = b[20];
	g->g = b[21];
	g->unusable = b[22];
	return g->type > 15 || g->dpl > 3 || (b[15] | b[17] | b[18] | b[19] | b[20] | b[21] | b[22]) > 1
		       ? -1 : 0;
}

static void events_pack(uint8_t *b, const struct x86_events *e)
{
	memset(b, 0, EVENTS_BYTES);
	b[0] = e->exception_injected;
	b[1] = e->exception_nr;
	b[2] = e->exception_has_error;
	memcpy(b + 3, &e->exception_error, 4);
	b[7] = e->interrupt_injected;
	b[8] = e->interrupt_nr;
	b[9] = e->interrupt_soft;
	b[10] = e->nmi_injected;
	b[11] = e->nmi_pending;
	b[12] = e->nmi_masked;
	b[13] = e->interrupt_shadow;
	b[14] = (uint8_t)e->sipi_vector;
}

static int events_unpack(struct x86_events *e, const uint8_t *b)
{
	e->exception_injected = b[0];
	e->exception_nr = b[1];
	e->exception_has_error = b[2];
	memcpy(&e->exception_error, b + 3, 4);
	e->interrupt_injected = b[7];
	e->interrupt_nr = b[8];
	e->interrupt_soft = b[9];
	e->nmi_injected = b[10];
	e->nmi_pending = b[11];
	e->nmi_masked = b[12];
	e->interrupt_shadow = b[13];
	e->sipi_vector = b[14];
	return e->exception_nr > 31 || (b[0] | b[2] | b[7] | b[9] | b[10] | b[12]) > 1 ||
	       b[13] > 3 ? -1 : 0;
}

static const char *const seg_names[X86_NR_SEGS] = {
	"es", "cs", "ss", "ds", "fs", "gs", "tr", "ldtr",
};

void snap_cpu_save(struct snap_out *o, uint32_t id, const struct x86_cpu_state *s)
{
	uint8_t b[X86_MAX_MSRS * MSR_BYTES];
	uint64_t dt[4] = { s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit };
	uint64_t cr[5] = { s->cr0, s->cr2, s->cr3, s->cr4, s->cr8 };

	snap_begin(o, "cpu", id, 1);
	snap_put(o, "gpr", s->gpr, sizeof(s->gpr));
	snap_put_u64(o, "rip", s->rip);
	snap_put_u64(o, "rflags", s->rflags);
	for (int i = 0; i < X86_NR_SEGS; i++) {
		seg_pack(b, &s->seg[i]);
		snap_put(o, seg_names[i], b, SEG_BYTES);
	}
	snap_put(o, "dtables", dt, sizeof(dt));
	snap_put(o, "cr", cr, sizeof(cr));
	snap_put_u64(o, "efer", s->efer);
	snap_put_u64(o, "apic_base", s->apic_base);
	snap_put_u64(o, "xcr0", s->xcr0);
	snap_put(o, "dr", s->dr, sizeof(s->dr));
	snap_put_u64(o, "tsc", s->tsc);
	for (uint32_t i = 0; i < s->nmsrs && i < X86_MAX_MSRS; i++) {
		memcpy(b + i * MSR_BYTES, &s->msrs[i].index, 4);
		memcpy(b + i * MSR_BYTES + 4, &s->msrs[i].value, 8);
	}
	snap_put(o, "msrs", b, (s->nmsrs < X86_MAX_MSRS ? s->nmsrs : X86_MAX_MSRS) * MSR_BYTES);
	snap_put(o, "xsave", s->xsave, sizeof(s->xsave));
	snap_put(o, "lapic", s->lapic, sizeof(s->lapic));
	events_pack(b, &s->events);
	snap_put(o, "events", b, EVENTS_BYTES);
	snap_put_u32(o, "mp_state", s->mp_state);
}

static int load_msrs(struct snap_sec *sec, struct x86_cpu_state *s)
{
	size_t len;
	const uint8_t *b = snap_get_var(sec, "msrs", &len);

	if (!b)
		return -1;
	if (len % MSR_BYTES || len / MSR_BYTES > X86_MAX_MSRS)
		return snap_fail(sec, "msrs: %zu bytes is not a list of at most %d MSRs", len,
				 X86_MAX_MSRS);
	s->nmsrs = (uint32_t)(len / MSR_BYTES);
	for (uint32_t i = 0; i < s->nmsrs; i++) {
		memcpy(&s->msrs[i].index, b + i * MSR_BYTES, 4);
		memcpy(&s->msrs[i].value, b + i * MSR_BYTES + 4, 8);
	}
	return 0;
}

static int load_segs(struct snap_sec *sec, struct x86_cpu_state *s)
{
	uint8_t b[SEG_BYTES];

	for (int i = 0; i < X86_NR_SEGS; i++) {
		if (snap_get(sec, seg_names[i], b, SEG_BYTES))
			return -1;
		if (seg_unpack(&s->seg[i], b))
			return snap_fail(sec, "segment %s: a field is out of range", seg_names[i]);
	}
	return 0;
}

int snap_cpu_load(struct snap_in *in, uint32_t id, struct x86_cpu_state *s)
{
	struct snap_sec *sec = snap_section(in, "cpu", id, 1, NULL);
	uint64_t dt[4], cr[5];
	uint8_t ev[EVENTS_BYTES];

	if (!sec)
		return -1;
	memset(s, 0, sizeof(*s));
	if (snap_get(sec, "gpr", s->gpr, sizeof(s->gpr)) || snap_get_u64(sec, "rip", &s->rip) ||
	    snap_get_u64(sec, "rflags", &s->rflags) || load_segs(sec, s) ||
	    snap_get(sec, "dtables", dt, sizeof(dt)) || snap_get(sec, "cr", cr, sizeof(cr)) ||
	    snap_get_u64(sec, "efer", &s->efer) || snap_get_u64(sec, "apic_base", &s->apic_base) ||
	    snap_get_u64(sec, "xcr0", &s->xcr0) || snap_get(sec, "dr", s->dr, sizeof(s->dr)) ||
	    snap_get_u64(sec, "tsc", &s->tsc) || load_msrs(sec, s) ||
	    snap_get(sec, "xsave", s->xsave, sizeof(s->xsave)) ||
	    snap_get(sec, "lapic", s->lapic, sizeof(s->lapic)) ||
	    snap_get(sec, "events", ev, sizeof(ev)) || snap_get_u32(sec, "mp_state", &s->mp_state))
		return -1;
	if (dt[1] > 0xffff || dt[3] > 0xffff)
		return snap_fail(sec, "a descriptor table limit is above 0xffff");
	s->gdt = (struct x86_dtable){ dt[0], (uint16_t)dt[1] };
	s->idt = (struct x86_dtable){ dt[2], (uint16_t)dt[3] };
	s->cr0 = cr[0];
	s->cr2 = cr[1];
	s->cr3 = cr[2];
	s->cr4 = cr[3];
	s->cr8 = cr[4];
	if (events_unpack(&s->events, ev))
		return snap_fail(sec, "pending events: a field is out of range");
	if (s->mp_state > X86_MP_SIPI_RECEIVED)
		return snap_fail(sec, "MP state %u is unknown", s->mp_state);
	return 0;
}
