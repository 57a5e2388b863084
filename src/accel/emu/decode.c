/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86 instruction decoder: prefixes, REX, the four opcode maps, ModRM/SIB,
 * displacement and immediates.  VEX, EVEX and XOP are measured but not
 * interpreted.  Operand forms come from decode_table.c.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define X86_MAX_INSN 15

struct cursor {
	const uint8_t *b;
	size_t len, pos;
};

/* Over-long beats truncated: a CPU would fault at byte 16 either way. */
static int need(const struct cursor *cur, size_t n)
{
	if (cur->pos + n > X86_MAX_INSN)
		return EMU_DECODE_TOO_LONG;
	if (cur->pos + n > cur->len)
		return EMU_DECODE_TRUNCATED;
	return 0;
}

static int fetch(struct cursor *cur, unsigned n, uint64_t *v)
{
	int r = need(cur, n);

	if (r)
		return r;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)cur->b[cur->pos + i] << (8 * i);
	cur->pos += n;
	return 0;
}

static int fetch_s(struct cursor *cur, unsigned n, uint64_t *v)
{
	int r = fetch(cur, n, v);

	if (!r)
		*v = emu_sext(*v, n);
	return r;
}

static void set_sizes(struct x86_insn *in, int addr_prefix)
{
	switch (in->mode) {
	case 64:
		in->addrsize = addr_prefix ? 4 : 8;
		break;
	case 32:
		in->addrsize = addr_prefix ? 2 : 4;
		break;
	default:
		in->addrsize = addr_prefix ? 4 : 2;
		break;
	}
}

static void set_opsize(struct x86_insn *in)
{
	uint32_t f = in->flags;

	if (f & F_O16) {
		in->opsize = 2;
	} else if (in->mode == 64) {
		if (in->rex & 8)
			in->opsize = 8;
		else if (f & (F_D64 | F_F64))
			in->opsize = in->opsize_prefix ? 2 : 8;
		else
			in->opsize = in->opsize_prefix ? 2 : 4;
	} else if (in->mode == 32) {
		in->opsize = in->opsize_prefix ? 2 : 4;
	} else {
		in->opsize = in->opsize_prefix ? 4 : 2;
	}
}

static int decode_modrm16(struct cursor *cur, struct x86_insn *in)
{
	static const uint8_t base[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP, 0xff, 0xff, X86_RBP, X86_RBX };
	static const uint8_t index[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI, X86_RSI, X86_RDI, 0xff, 0xff };
	unsigned rm = in->modrm & 7;
	uint64_t d = 0;
	int r = 0;

	in->base = base[rm];
	in->index = index[rm];
	if (in->mod == 0 && rm == 6) {
		in->base = 0xff;
		r = fetch_s(cur, 2, &d);
	} else if (in->mod == 1) {
		r = fetch_s(cur, 1, &d);
	} else if (in->mod == 2) {
		r = fetch_s(cur, 2, &d);
	}
	in->disp = (int64_t)d;
	return r;
}

static int decode_modrm32(struct cursor *cur, struct x86_insn *in)
{
	unsigned rm = in->modrm & 7;
	uint64_t v = 0;
	int r;

	in->base = rm | ((in->rex & 1) << 3);
	in->index = 0xff;
	if (rm == 4) {
		if ((r = fetch(cur, 1, &v)))
			return r;
		in->has_sib = 1;
		in->scale = v >> 6;
		in->index = ((v >> 3) & 7) | ((in->rex & 2) << 2);
		if (in->index == X86_RSP)
			in->index = 0xff;
		in->base = (v & 7) | ((in->rex & 1) << 3);
		if ((v & 7) == 5 && in->mod == 0) {
			in->base = 0xff;
			r = fetch_s(cur, 4, &v);
			in->disp = (int64_t)v;
			return r;
		}
	} else if (rm == 5 && in->mod == 0) {
		in->base = 0xff;
		in->rip_relative = in->mode == 64;
		r = fetch_s(cur, 4, &v);
		in->disp = (int64_t)v;
		return r;
	}
	v = 0;
	if (in->mod == 1)
		r = fetch_s(cur, 1, &v);
	else if (in->mod == 2)
		r = fetch_s(cur, 4, &v);
	else
		r = 0;
	in->disp = (int64_t)v;
	return r;
}

static int decode_modrm(struct cursor *cur, struct x86_insn *in)
{
	uint64_t v;
	int r = fetch(cur, 1, &v);

	if (r)
		return r;
	in->has_modrm = 1;
	in->modrm = v;
	in->mod = v >> 6;
	in->reg = ((v >> 3) & 7) | ((in->rex & 4) << 1);
	in->rm = (v & 7) | ((in->rex & 1) << 3);
	in->base = in->index = 0xff;
	/* MOV to/from CR/DR ignore mod: always registers, never a displacement. */
	if (in->flags & F_REG)
		in->mod = 3;
	if (in->mod == 3)
		return 0;
	return in->addrsize == 2 ? decode_modrm16(cur, in) : decode_modrm32(cur, in);
}

/* A group entry supplies the operation and adds its flags to the opcode's. */
static void apply_group(struct x86_insn *in, uint32_t base_flags, uint16_t grp)
{
	const struct emu_group *g = &emu_groups[grp];
	const struct emu_opdesc *d = &g->reg[(in->modrm >> 3) & 7];

	if (in->mod == 3 && g->mod3 && g->mod3[in->modrm & 077].name)
		d = &g->mod3[in->modrm & 077];
	in->name = d->name;
	in->op = d->op;
	in->flags = (base_flags & ~F_GROUP) | d->flags;
}

static int imm_size(const struct x86_insn *in, unsigned kind, unsigned *n1, unsigned *n2)
{
	unsigned z = in->opsize == 2 ? 2 : 4;

	*n1 = *n2 = 0;
	switch (kind) {
	case IMM_B:
	case IMM_RELB:
		*n1 = 1;
		break;
	case IMM_W:
		*n1 = 2;
		break;
	case IMM_Z:
	case IMM_RELZ:
		*n1 = z;
		break;
	case IMM_V:
		*n1 = in->opsize;
		break;
	case IMM_MOFFS:
		*n1 = in->addrsize;
		break;
	case IMM_FAR:
		*n1 = z;
		*n2 = 2;
		break;
	case IMM_ENTER:
		*n1 = 2;
		*n2 = 1;
		break;
	case IMM_GRP3:
		if (((in->modrm >> 3) & 7) < 2)
			*n1 = (in->flags & F_BYTE) ? 1 : z;
		break;
	}
	return 0;
}

static int decode_imm(struct cursor *cur, struct x86_insn *in)
{
	unsigned kind = F_GET_IMM(in->flags), n1, n2;
	int r;

	imm_size(in, kind, &n1, &n2);
	in->imm_size = n1;
	in->imm2_size = n2;
	if (n1) {
		int sx = kind == IMM_RELB || kind == IMM_RELZ || kind == IMM_Z ||
			 (in->flags & F_SIGNIMM) ||
			 (kind == IMM_GRP3 && !(in->flags & F_BYTE));
		r = sx ? fetch_s(cur, n1, &in->imm) : fetch(cur, n1, &in->imm);
		if (r)
			return r;
	}
	if (n2 && (r = fetch(cur, n2, &in->imm2)))
		return r;
	return 0;
}

/*
 * VEX (C4/C5), EVEX (62) and XOP (8F): only the length matters, since the
 * CPU model has no AVX.  Legacy 66/F2/F3/REX/LOCK before them is #UD.
 */
static int decode_vex(struct cursor *cur, struct x86_insn *in, uint8_t lead)
{
	uint64_t p0 = 0, p1 = 0, p2 = 0, op, v;
	unsigned map;
	int r, imm = 0, modrm = 1;

	cur->pos++;
	if (lead == 0xc5) {
		if ((r = fetch(cur, 1, &p0)))
			return r;
		map = 1;
		in->vex = X86_VEX_VEX;
	} else if (lead == 0x62) {
		if ((r = fetch(cur, 1, &p0)) || (r = fetch(cur, 1, &p1)) ||
		    (r = fetch(cur, 1, &p2)))
			return r;
		map = p0 & 7;
		in->vex = X86_VEX_EVEX;
	} else {
		if ((r = fetch(cur, 1, &p0)) || (r = fetch(cur, 1, &p1)))
			return r;
		map = p0 & 0x1f;
		in->vex = lead == 0x8f ? X86_VEX_XOP : X86_VEX_VEX;
	}
	if ((r = fetch(cur, 1, &op)))
		return r;
	in->opcode = op;
	in->map = X86_MAP_OTHER;
	in->name = lead == 0x62 ? "evex" : lead == 0x8f ? "xop" : "vex";
	in->op = OP_VECTOR;
	if (in->vex == X86_VEX_XOP) {
		imm = map == 8 ? 1 : map == 10 ? 4 : 0;
	} else if (map == 1) {
		imm = emu_vex_map1_has_imm(op);
		if (op == 0x77 && in->vex == X86_VEX_VEX)
			modrm = 0;     /* vzeroupper/vzeroall */
	} else if (map == 3) {
		imm = 1;
	}
	in->flags = F_INV;
	if (modrm && (r = decode_modrm(cur, in)))
		return r;
	if (imm && (r = fetch(cur, imm, &v)))
		return r;
	in->imm = imm ? v : 0;
	in->imm_size = imm;
	return 0;
}

static int is_vex_lead(const struct cursor *cur, int mode, uint8_t b)
{
	uint8_t next;

	if (b != 0xc4 && b != 0xc5 && b != 0x62 && b != 0x8f)
		return 0;
	if (cur->pos + 1 >= cur->len)
		return 0;     /* let the legacy decode report truncation */
	next = cur->b[cur->pos + 1];
	if (b == 0x8f)
		return (next & 0x1f) >= 8;
	return mode == 64 || (next & 0xc0) == 0xc0;
}

/* Legacy prefixes and REX; REX counts only right before the opcode. */
static int decode_prefixes(struct cursor *cur, struct x86_insn *in, int *addr_prefix)
{
	static const int8_t segs[] = { [0x26] = X86_ES, [0x2e] = X86_CS, [0x36] = X86_SS,
				       [0x3e] = X86_DS, [0x64] = X86_FS, [0x65] = X86_GS };
	int r;

	for (;;) {
		uint8_t b;

		if ((r = need(cur, 1)))
			return r;
		b = cur->b[cur->pos];
		if (in->mode == 64 && (b & 0xf0) == 0x40) {
			in->rex = b;
			cur->pos++;
			continue;
		}
		switch (b) {
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			if (in->mode != 64)
				in->seg = segs[b];
			break;
		case 0x64: case 0x65:
			in->seg = segs[b];
			break;
		case 0x66:
			in->opsize_prefix = 1;
			break;
		case 0x67:
			*addr_prefix = 1;
			break;
		case 0xf0:
			in->lock = 1;
			break;
		case 0xf2: case 0xf3:
			in->rep = b;
			break;
		default:
			return 0;
		}
		in->rex = 0;
		cur->pos++;
	}
}

static int decode_opcode(struct cursor *cur, struct x86_insn *in, const struct emu_opdesc **d)
{
	uint64_t b;
	int r;

	if ((r = fetch(cur, 1, &b)))
		return r;
	if (b != 0x0f) {
		in->map = X86_MAP_ONE;
		in->opcode = b;
		*d = &emu_map_one[b];
		if (b == 0x63 && in->mode == 64) {
			static const struct emu_opdesc movsxd = {
				"movsxd", OP_MOVSXD, F_MODRM | F_DST(OPND_G) | F_SRC(OPND_E) };
			*d = &movsxd;
		}
		return 0;
	}
	if ((r = fetch(cur, 1, &b)))
		return r;
	if (b == 0x38 || b == 0x3a) {
		int three8 = b == 0x38;

		if ((r = fetch(cur, 1, &b)))
			return r;
		in->map = three8 ? X86_MAP_0F38 : X86_MAP_0F3A;
		in->opcode = b;
		*d = three8 ? &emu_map_0f38[b] : &emu_map_0f3a[b];
		return 0;
	}
	in->map = X86_MAP_0F;
	in->opcode = b;
	*d = &emu_map_0f[b];
	return 0;
}

/* Encoding rules that make a complete instruction #UD. */
static int check_valid(const struct x86_insn *in)
{
	uint32_t f = in->flags;

	if (f & F_INV)
		return EMU_DECODE_INVALID;
	if ((f & F_I64) && in->mode == 64)
		return EMU_DECODE_INVALID;
	if ((f & F_MEM) && in->mod == 3)
		return EMU_DECODE_INVALID;
	if (in->lock && (!(f & F_LOCK) || in->mod == 3 || !in->has_modrm))
		return EMU_DECODE_INVALID;
	return 0;
}

int emu_decode(const uint8_t *bytes, size_t len, int mode, struct x86_insn *out)
{
	struct cursor cur = { bytes, len, 0 };
	struct x86_insn *in = out;
	const struct emu_opdesc *d = NULL;
	int addr_prefix = 0, r;

	memset(in, 0, sizeof(*in));
	in->mode = mode == 64 || mode == 32 ? mode : 16;
	in->seg = -1;
	in->base = in->index = 0xff;
	in->name = "(bad)";
	r = decode_prefixes(&cur, in, &addr_prefix);
	set_sizes(in, addr_prefix);
	if (!r && is_vex_lead(&cur, in->mode, cur.b[cur.pos])) {
		uint8_t lead = cur.b[cur.pos];

		in->opsize = in->mode == 16 ? 2 : 4;
		r = decode_vex(&cur, in, lead);
		in->len = cur.pos;
		if (r)
			return r;
		/* A VEX after 66/F2/F3/LOCK/REX is #UD; without AVX all are anyway. */
		return EMU_DECODE_INVALID;
	}
	if (!r)
		r = decode_opcode(&cur, in, &d);
	if (r) {
		in->len = cur.pos;
		return r;
	}
	in->name = d->name;
	in->op = d->op;
	in->flags = d->flags;
	set_opsize(in);
	if (in->flags & F_MODRM) {
		if ((r = decode_modrm(&cur, in))) {
			in->len = cur.pos;
			return r;
		}
		if (in->flags & F_GROUP) {
			apply_group(in, in->flags, d->op);
			set_opsize(in);
		}
	}
	if ((in->flags & F_I64) && in->mode == 64) {
		in->len = cur.pos;
		return EMU_DECODE_INVALID;
	}
	r = decode_imm(&cur, in);
	in->len = cur.pos;
	if (r)
		return r;
	return check_valid(in);
}
