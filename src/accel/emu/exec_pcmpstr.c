/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSE4.2 string compares PCMPESTRM/PCMPESTRI/PCMPISTRM/PCMPISTRI (66 0F3A
 * 60-63): a matrix of element compares between xmm (a) and xmm/m128 (b),
 * forced by the string lengths, aggregated (equal any, ranges, equal each,
 * equal ordered), negated, and given out as an index in ECX or a mask in
 * XMM0, with CF ZF SF OF describing the result.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

struct pcmpstr {
	int64_t a[16], b[16];
	unsigned n, la, lb;
	uint8_t imm;
};

static void elements(const uint8_t *p, uint8_t imm, int64_t out[16])
{
	unsigned words = imm & 1, sgn = (imm >> 1) & 1, n = words ? 8 : 16;

	for (unsigned i = 0; i < n; i++) {
		uint64_t v = words ? (uint64_t)p[2 * i] | (uint64_t)p[2 * i + 1] << 8 : p[i];

		out[i] = sgn ? (int64_t)emu_sext(v, words ? 2 : 1) : (int64_t)v;
	}
}

/* Explicit length: |reg| saturated to n. */
static unsigned explicit_len(uint64_t v, int wide, unsigned n)
{
	int64_t s = wide ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
	uint64_t m = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;

	return m > n ? n : (unsigned)m;
}

static unsigned implicit_len(const int64_t *e, unsigned n)
{
	unsigned i = 0;

	while (i < n && e[i] != 0)
		i++;
	return i;
}

/* BoolRes[i][j] for a element i and b element j, forced for invalid ones. */
static int boolres(const struct pcmpstr *p, unsigned i, unsigned j)
{
	unsigned agg = (p->imm >> 2) & 3;
	int av = i < p->la, bv = j < p->lb;

	switch (agg) {
	case 0:
		return av && bv && p->a[i] == p->b[j];
	case 1:
		if (!av || !bv)
			return 0;
		return (i & 1) ? p->b[j] <= p->a[i] : p->b[j] >= p->a[i];
	case 2:
		if (!av && !bv)
			return 1;
		return av && bv && p->a[i] == p->b[j];
	}
	if (!av)
		return 1;
	return bv && p->a[i] == p->b[j];
}

static uint32_t aggregate(const struct pcmpstr *p)
{
	unsigned agg = (p->imm >> 2) & 3, n = p->n;
	uint32_t r = 0;

	for (unsigned j = 0; j < n; j++) {
		int bit = agg == 3;

		for (unsigned i = 0; i < n; i++) {
			if (agg == 0)
				bit |= boolres(p, i, j);
			else if (agg == 1 && !(i & 1))
				bit |= boolres(p, i, j) && boolres(p, i + 1, j);
			else if (agg == 2 && i == j)
				bit = boolres(p, i, j);
			else if (agg == 3 && i < n - j)
				bit &= boolres(p, i, j + i);
		}
		r |= (uint32_t)bit << j;
	}
	return r;
}

static uint32_t polarity(const struct pcmpstr *p, uint32_t r)
{
	uint32_t all = (1u << p->n) - 1, valid = (1u << p->lb) - 1;

	switch ((p->imm >> 4) & 3) {
	case 1: return ~r & all;
	case 3: return (r ^ valid) & all;
	}
	return r;
}

int emu_exec_pcmpstr(struct emu_cpu *c)
{
	const struct x86_insn *in = &c->insn;
	uint8_t op = in->opcode, s[16], *x0;
	struct pcmpstr p;
	uint32_t res;
	uint64_t fl;

	if (emu_sse_src(c, 0, 16, 0, s))
		return -1;
	p.imm = (uint8_t)in->imm;
	p.n = (p.imm & 1) ? 8 : 16;
	elements(emu_xmm(c, in->reg), p.imm, p.a);
	elements(s, p.imm, p.b);
	if (op <= 0x61) {
		p.la = explicit_len(c->s->gpr[X86_RAX], in->rex & 8, p.n);
		p.lb = explicit_len(c->s->gpr[X86_RDX], in->rex & 8, p.n);
	} else {
		p.la = implicit_len(p.a, p.n);
		p.lb = implicit_len(p.b, p.n);
	}
	res = polarity(&p, aggregate(&p));
	if (op & 1) {
		unsigned idx = p.n;

		if (res)
			idx = (p.imm & 0x40) ? 31 - (unsigned)__builtin_clz(res)
					     : (unsigned)__builtin_ctz(res);
		emu_reg_set(c, X86_RCX, 4, 0, idx);
	} else {
		x0 = emu_xmm(c, 0);
		memset(x0, 0, 16);
		if (!(p.imm & 0x40)) {
			memcpy(x0, &res, 4);
		} else {
			unsigned es = 16 / p.n;

			for (unsigned j = 0; j < p.n; j++)
				if (res & (1u << j))
					memset(x0 + es * j, 0xff, es);
		}
	}
	fl = c->s->rflags & ~EMU_FLAGS_ARITH;
	if (res)
		fl |= X86_RFLAGS_CF;
	if (p.lb < p.n)
		fl |= X86_RFLAGS_ZF;
	if (p.la < p.n)
		fl |= X86_RFLAGS_SF;
	if (res & 1)
		fl |= X86_RFLAGS_OF;
	c->s->rflags = fl;
	return 0;
}
