/* SPDX-License-Identifier: Apache-2.0 */
/* Running a case on both accelerators, and shrinking one that differs. */
#include <string.h>

#include "dt_reduce.h"

int dt_pair_run(struct dt_pair *p, struct dt_case *c, enum dt_verdict *v)
{
	if (dt_case_assemble(c))
		return -1;
	p->runs++;
	dt_vm_run(p->ref, &c->in, &p->oref);
	dt_vm_run(p->emu, &c->in, &p->oemu);
	/* emu stopping (an instruction it lacks) is a difference; KVM, a failure. */
	if (p->oref.vector == DT_END_ERROR)
		return -1;
	*v = dt_compare(c, &p->oref, &p->oemu);
	return 0;
}

static int still_differs(struct dt_pair *p, struct dt_case *c)
{
	enum dt_verdict v;

	return !dt_case_reads_undefined(c) && dt_pair_run(p, c, &v) == 0 && v == DT_DIFF;
}

/* One pass dropping single items, last first (later ones depend on earlier). */
static int drop_items(struct dt_pair *p, struct dt_case *c)
{
	struct dt_item saved[DT_MAX_ITEMS];
	int changed = 0;

	for (int i = c->n - 1; i >= 0 && c->n > 1; i--) {
		int n = c->n;

		memcpy(saved, c->item, sizeof(c->item[0]) * (size_t)n);
		memmove(&c->item[i], &c->item[i + 1], sizeof(c->item[0]) * (size_t)(n - i - 1));
		c->n = n - 1;
		if (still_differs(p, c)) {
			changed = 1;
			continue;
		}
		memcpy(c->item, saved, sizeof(c->item[0]) * (size_t)n);
		c->n = n;
	}
	return changed;
}

/* Tries value for the len bytes at field; keeps it if the case still differs. */
static void try_simplify(struct dt_pair *p, struct dt_case *c, void *field, const void *value,
			 size_t len)
{
	uint8_t old[DT_DATA_SIZE];

	if (!memcmp(field, value, len))
		return;
	memcpy(old, field, len);
	memcpy(field, value, len);
	if (!still_differs(p, c))
		memcpy(field, old, len);
}

static void simplify_state(struct dt_pair *p, struct dt_case *c)
{
	static const uint8_t zero[DT_DATA_SIZE];
	struct dt_input *in = &c->in;
	uint64_t flags = 0;
	uint32_t mxcsr = 0x1f80;

	for (int i = 0; i < 16; i++)
		if (i != X86_RSP)
			try_simplify(p, c, &in->gpr[i], zero, 8);
	try_simplify(p, c, &in->rflags, &flags, 8);
	try_simplify(p, c, &in->mxcsr, &mxcsr, 4);
	for (int i = 0; i < DT_NR_XMM; i++)
		try_simplify(p, c, in->xmm[i], zero, 16);
	try_simplify(p, c, &in->x87, &(struct dt_x87){ .fcw = 0x37f }, sizeof(in->x87));
	try_simplify(p, c, in->stack, zero, DT_STACK_SIZE);
	try_simplify(p, c, in->data, zero, DT_DATA_SIZE);
	for (int off = 0; off < DT_DATA_SIZE; off += 256)
		try_simplify(p, c, in->data + off, zero, 256);
	/* What is left of the data area, 16 bytes at a time where it is short. */
	for (int off = 0, tries = 0; off < DT_DATA_SIZE && tries < 128; off += 16)
		if (memcmp(in->data + off, zero, 16)) {
			try_simplify(p, c, in->data + off, zero, 16);
			tries++;
		}
}

void dt_reduce(struct dt_pair *p, struct dt_case *c)
{
	while (drop_items(p, c))
		;
	simplify_state(p, c);
	while (drop_items(p, c))
		;
	still_differs(p, c);
}
