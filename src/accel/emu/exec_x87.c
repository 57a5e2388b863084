/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x87.  The state is the FXSAVE image in x86_cpu_state.xsave (FCW, FSW,
 * abridged tag word, FOP/FIP/FDP, ST(i) at 32 + 16 * i).  The control
 * instructions (FNINIT, FNCLEX, FLDCW/FNSTCW, FNSTSW, FNSTENV/FLDENV,
 * FNSAVE/FRSTOR, FWAIT) are C on that image; loads, stores, arithmetic,
 * compares and transcendentals run on the host FPU (host_fp.c) from a stub
 * table holding every valid register form and the memory forms rewritten
 * to address [rdi], where the operand is staged.  Guest memory is read
 * before and written after the host instruction, and the state is committed
 * only when the write succeeded, so a #PF leaves the x87 untouched.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define FSW_ES 0x0080u
#define FSW_B 0x8000u
#define FSW_TOP(sw) (((sw) >> 11) & 7u)
#define FCW_BITS 0x1f3fu     /* bit 6 reads 1; bits 7 and 13-15 read 0 */
#define FCW_FIX(v) ((uint16_t)(((v) & FCW_BITS) | 0x40))

#if defined(__x86_64__)
/*
 * 512 register forms (D8..DF, ModRM C0..FF) then 64 memory forms (D8..DF,
 * /0../7 with ModRM [rdi]), 4 bytes each: the instruction, RET, INT3.
 */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"vmon_emu_x87_stubs:\n"
	".set vmon_x87_i, 0\n"
	".rept 512\n"
	".byte 0xd8 + (vmon_x87_i >> 6), 0xc0 + (vmon_x87_i & 63), 0xc3, 0xcc\n"
	".set vmon_x87_i, vmon_x87_i + 1\n"
	".endr\n"
	".set vmon_x87_i, 0\n"
	".rept 64\n"
	".byte 0xd8 + (vmon_x87_i >> 3), ((vmon_x87_i & 7) << 3) | 7, 0xc3, 0xcc\n"
	".set vmon_x87_i, vmon_x87_i + 1\n"
	".endr\n"
	".popsection\n");
extern const uint8_t vmon_emu_x87_stubs[];
#define X87_STUBS vmon_emu_x87_stubs
#else
#define X87_STUBS ((const uint8_t *)0)
#endif

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint8_t *fx(struct emu_cpu *c)
{
	return c->s->xsave;
}

/* ES and B follow "an unmasked exception flag is set". */
static void update_es(struct emu_cpu *c)
{
	uint16_t sw = rd16(fx(c) + EMU_FX_FSW), cw = rd16(fx(c) + EMU_FX_FCW);

	if (sw & ~cw & 0x3f)
		sw |= FSW_ES | FSW_B;
	else
		sw &= (uint16_t)~(FSW_ES | FSW_B);
	wr16(fx(c) + EMU_FX_FSW, sw);
}

static int x87_usable(struct emu_cpu *c)
{
	if (c->s->cr0 & (X86_CR0_EM | X86_CR0_TS))
		return emu_raise(c, EXC_NM, 0, 0);
	return 0;
}

/* A waiting instruction first reports an unmasked exception left pending. */
static int x87_waiting(struct emu_cpu *c)
{
	if (x87_usable(c))
		return -1;
	if (rd16(fx(c) + EMU_FX_FSW) & FSW_ES)
		return emu_raise(c, EXC_MF, 0, 0);
	return 0;
}

int emu_fwait(struct emu_cpu *c)
{
	if ((c->s->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
		return emu_raise(c, EXC_NM, 0, 0);
	if (rd16(fx(c) + EMU_FX_FSW) & FSW_ES)
		return emu_raise(c, EXC_MF, 0, 0);
	return 0;
}

/*
 * A new TOP keeps the physical registers; the image holds them in stack
 * order (slot i is R((TOP + i) & 7)), so the slots rotate.
 */
static void set_top(struct emu_cpu *c, unsigned top)
{
	uint8_t *x = fx(c), old[128];
	unsigned cur = FSW_TOP(rd16(x + EMU_FX_FSW));
	uint16_t sw = rd16(x + EMU_FX_FSW) & (uint16_t)~(7u << 11);

	if (cur != top) {
		memcpy(old, x + EMU_FX_ST, 128);
		for (unsigned i = 0; i < 8; i++)
			memcpy(x + EMU_FX_ST + 16 * i, old + 16 * ((top + i - cur) & 7), 16);
	}
	wr16(x + EMU_FX_FSW, (uint16_t)(sw | top << 11));
}

static void fninit(struct emu_cpu *c)
{
	uint8_t *x = fx(c);

	set_top(c, 0);

	wr16(x + EMU_FX_FCW, 0x037f);
	wr16(x + EMU_FX_FSW, 0);
	x[EMU_FX_FTW] = 0;
	memset(x + EMU_FX_FOP, 0, 18);    /* FOP, FIP, FDP */
	emu_xinuse(c, 1);
}

/* The full two-bit tag of physical register p, from the abridged one. */
static unsigned full_tag(struct emu_cpu *c, unsigned p)
{
	const uint8_t *x = fx(c);
	unsigned i = (p - FSW_TOP(rd16(x + EMU_FX_FSW))) & 7;
	const uint8_t *r = x + EMU_FX_ST + 16 * i;
	uint64_t mant;
	unsigned exp = rd16(r + 8) & 0x7fff;

	if (!((x[EMU_FX_FTW] >> p) & 1))
		return 3;
	memcpy(&mant, r, 8);
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return (mant >> 63) ? 0 : 2;
}

/*
 * Real-address and virtual-8086 mode keep the x87 instruction and data
 * pointers as linear addresses (segment base + offset), and store them in
 * the real-mode layouts of FNSTENV/FNSAVE (SDM Vol. 1 Figures 8-10, 8-12;
 * AMD's manual says the same of the pointers).
 */
static int real_format(const struct emu_cpu *c)
{
	return !emu_protected(c) || emu_v86(c);
}

static uint64_t x87_pointer(const struct emu_cpu *c, int seg, uint64_t off)
{
	return real_format(c) ? (c->s->seg[seg].base + off) & 0xffffffffULL : off;
}

/*
 * The FNSTENV/FNSAVE image of the environment: seven fields, words with
 * 16-bit operands (14 bytes), dwords otherwise (28): FCW, FSW, FTW, then
 * the instruction pointer, FOP, the data pointer and one more.  Protected
 * mode: the pointers' offsets, FOP at bit 16 beside FCS, then FDS (FCS and
 * FDS zero: CPUID.7.EBX[13]).  Real-address and virtual-8086 mode: each
 * pointer's bits 15:0, then its high bits at bit 12 of the next field
 * (19:16 of them in the 16-bit image), beside FOP for the instruction
 * pointer.  Reserved halves of the 32-bit image read as ones.
 */
static unsigned env_image(struct emu_cpu *c, uint8_t *e)
{
	const uint8_t *x = fx(c);
	uint32_t f[7], fip, fdp, ones;
	unsigned fop = rd16(x + EMU_FX_FOP) & 0x7ff;
	int real = real_format(c);

	memcpy(&fip, x + EMU_FX_FIP, 4);
	memcpy(&fdp, x + EMU_FX_FDP, 4);
	f[0] = rd16(x + EMU_FX_FCW);
	f[1] = rd16(x + EMU_FX_FSW);
	f[2] = 0;
	for (unsigned p = 0; p < 8; p++)
		f[2] |= full_tag(c, p) << (2 * p);
	if (real) {
		f[3] = fip & 0xffff;
		f[4] = (fip >> 16) << 12 | fop;
		f[5] = fdp & 0xffff;
		f[6] = (fdp >> 16) << 12;
	} else {
		f[3] = fip;
		f[4] = fop << 16;
		f[5] = fdp;
		f[6] = 0;
	}
	if (c->insn.opsize == 2) {
		for (unsigned i = 0; i < 7; i++)
			wr16(e + 2 * i, (uint16_t)f[i]);
		return 14;
	}
	ones = real ? 0x2f : 0x47;      /* the fields whose upper half is reserved */
	for (unsigned i = 0; i < 7; i++) {
		uint32_t d = f[i] | ((ones >> i) & 1 ? 0xffff0000u : 0);

		memcpy(e + 4 * i, &d, 4);
	}
	return 28;
}

static void env_load(struct emu_cpu *c, const uint8_t *e)
{
	uint8_t *x = fx(c);
	unsigned ftw = 0;
	uint32_t f[7];
	uint64_t fip, fdp;
	uint16_t fop;
	int o16 = c->insn.opsize == 2;

	for (unsigned i = 0; i < 7; i++) {
		if (o16)
			f[i] = rd16(e + 2 * i);
		else
			memcpy(&f[i], e + 4 * i, 4);
	}
	if (real_format(c)) {
		uint32_t high = o16 ? 0xf : 0xffff;

		fip = (f[3] & 0xffff) | (uint64_t)(f[4] >> 12 & high) << 16;
		fop = f[4] & 0x7ff;
		fdp = (f[5] & 0xffff) | (uint64_t)(f[6] >> 12 & high) << 16;
	} else {
		fip = f[3];
		fop = (f[4] >> 16) & 0x7ff;
		fdp = f[5];
	}
	wr16(x + EMU_FX_FCW, FCW_FIX(f[0]));
	set_top(c, FSW_TOP(f[1]));
	wr16(x + EMU_FX_FSW, (uint16_t)f[1]);
	for (unsigned p = 0; p < 8; p++)
		if (((f[2] >> (2 * p)) & 3) != 3)
			ftw |= 1u << p;
	x[EMU_FX_FTW] = (uint8_t)ftw;
	wr16(x + EMU_FX_FOP, fop);
	memcpy(x + EMU_FX_FIP, &fip, 8);
	memcpy(x + EMU_FX_FDP, &fdp, 8);
	update_es(c);
	emu_xinuse(c, 1);
}

/* FNSTENV (/6 of D9), FLDENV (/4 of D9), FNSAVE (/6 of DD), FRSTOR (/4 of DD). */
static int env_op(struct emu_cpu *c, int save, int regs)
{
	uint8_t img[28 + 80];
	uint8_t *x = fx(c);
	int seg;
	uint64_t off = emu_ea(c, &seg);
	unsigned n;

	if (save) {
		n = env_image(c, img);
		for (unsigned i = 0; regs && i < 8; i++)
			memcpy(img + n + 10 * i, x + EMU_FX_ST + 16 * i, 10);
		if (emu_write(c, seg, off, img, n + (regs ? 80 : 0)))
			return -1;
		if (regs) {
			fninit(c);
		} else {
			wr16(x + EMU_FX_FCW, rd16(x + EMU_FX_FCW) | 0x3f);
			update_es(c);
		}
		return 0;
	}
	n = c->insn.opsize == 2 ? 14 : 28;
	if (emu_read(c, seg, off, img, n + (regs ? 80 : 0)))
		return -1;
	env_load(c, img);
	for (unsigned i = 0; regs && i < 8; i++) {
		memcpy(x + EMU_FX_ST + 16 * i, img + n + 10 * i, 10);
		memset(x + EMU_FX_ST + 16 * i + 10, 0, 6);
	}
	return 0;
}

static int control_word(struct emu_cpu *c, int load)
{
	int seg;
	uint64_t off = emu_ea(c, &seg), v;

	if (!load)
		return emu_write_u(c, seg, off, 2, rd16(fx(c) + EMU_FX_FCW));
	if (emu_read_u(c, seg, off, 2, &v))
		return -1;
	wr16(fx(c) + EMU_FX_FCW, FCW_FIX(v));
	update_es(c);
	emu_xinuse(c, 1);
	return 0;
}

/* Memory forms: operand size, and whether the host reads or writes it. */
enum { M_UD, M_RD, M_WR, M_C };
static const struct { uint8_t kind, size; } mem_form[8][8] = {
	/* D8: m32fp arithmetic */
	{ {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4} },
	/* D9: FLD m32, -, FST(P) m32, FLDENV, FLDCW, FNSTENV, FNSTCW */
	{ {M_RD, 4}, {M_UD, 0}, {M_WR, 4}, {M_WR, 4}, {M_C, 0}, {M_C, 0}, {M_C, 0}, {M_C, 0} },
	/* DA: m32int arithmetic */
	{ {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4}, {M_RD, 4} },
	/* DB: FILD m32, FISTTP/FIST/FISTP m32, -, FLD m80, -, FSTP m80 */
	{ {M_RD, 4}, {M_WR, 4}, {M_WR, 4}, {M_WR, 4}, {M_UD, 0}, {M_RD, 10}, {M_UD, 0}, {M_WR, 10} },
	/* DC: m64fp arithmetic */
	{ {M_RD, 8}, {M_RD, 8}, {M_RD, 8}, {M_RD, 8}, {M_RD, 8}, {M_RD, 8}, {M_RD, 8}, {M_RD, 8} },
	/* DD: FLD m64, FISTTP/FST/FSTP m64, FRSTOR, -, FNSAVE, FNSTSW */
	{ {M_RD, 8}, {M_WR, 8}, {M_WR, 8}, {M_WR, 8}, {M_C, 0}, {M_UD, 0}, {M_C, 0}, {M_C, 0} },
	/* DE: m16int arithmetic */
	{ {M_RD, 2}, {M_RD, 2}, {M_RD, 2}, {M_RD, 2}, {M_RD, 2}, {M_RD, 2}, {M_RD, 2}, {M_RD, 2} },
	/* DF: FILD m16, FISTTP/FIST/FISTP m16, FBLD, FILD m64, FBSTP, FISTP m64 */
	{ {M_RD, 2}, {M_WR, 2}, {M_WR, 2}, {M_WR, 2}, {M_RD, 10}, {M_RD, 8}, {M_WR, 10}, {M_WR, 8} },
};

/* Valid register forms by ModRM.reg: a bitmap of the valid rm values. */
static const uint8_t reg_form[8][8] = {
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },   /* D8 */
	{ 0xff, 0xff, 0x01, 0x00, 0x33, 0x7f, 0xff, 0xff },   /* D9 */
	{ 0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x00, 0x00 },   /* DA */
	{ 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00 },   /* DB (/4: C) */
	{ 0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff },   /* DC */
	{ 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },   /* DD */
	{ 0xff, 0xff, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff },   /* DE */
	{ 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00 },   /* DF (/4 rm0: C) */
};

/*
 * Whether the host left a store's destination alone, as an unmasked
 * invalid-operation, overflow or underflow exception makes it do: asked
 * only when buf (filled with zeros before) still holds zeros, by running
 * the stub again on ones.
 */
static int store_suppressed(struct emu_cpu *c, unsigned idx, const uint8_t *buf, unsigned size)
{
	struct emu_host_fp r;
	uint8_t ones[16];

	for (unsigned i = 0; i < size; i++)
		if (buf[i])
			return 0;
	memset(ones, 0xff, sizeof(ones));
	emu_host_fp_load(&r, c->s);
	r.stub = X87_STUBS + 4 * idx;
	r.mem = ones;
	r.rax = 0;
	r.rflags = c->s->rflags;
	emu_host_fp_run(&r);
	for (unsigned i = 0; i < size; i++)
		if (ones[i] != 0xff)
			return 0;
	return 1;
}

/* Runs stub number idx on the host with the operand at buf; ea: its x87 data pointer (x87_pointer). */
static int host_run(struct emu_cpu *c, unsigned idx, uint8_t *buf, int is_mem, uint64_t ea)
{
	struct emu_host_fp r;
	uint64_t fip;
	uint8_t *x = fx(c);
	uint16_t fop = (uint16_t)(((c->insn.opcode & 7) << 8) | c->insn.modrm);

	if (!emu_host_fp_available())
		return emu_unimpl(c);
	emu_host_fp_load(&r, c->s);
	r.stub = X87_STUBS + 4 * idx;
	r.mem = buf;
	r.rax = 0;
	r.rflags = c->s->rflags;
	emu_host_fp_run(&r);
	if (is_mem && mem_form[c->insn.opcode & 7][(c->insn.modrm >> 3) & 7].kind == M_WR) {
		unsigned size = mem_form[c->insn.opcode & 7][(c->insn.modrm >> 3) & 7].size;
		int seg;
		uint64_t off = emu_ea(c, &seg);

		if (!store_suppressed(c, idx, buf, size) && emu_write(c, seg, off, buf, size))
			return -1;
	}
	memcpy(x, r.img, 24);
	memcpy(x + EMU_FX_ST, r.img + EMU_FX_ST, 128);
	wr16(x + EMU_FX_FOP, fop);
	fip = x87_pointer(c, X86_CS, c->insn_rip);
	memcpy(x + EMU_FX_FIP, &fip, 8);
	if (is_mem)
		memcpy(x + EMU_FX_FDP, &ea, 8);
	c->s->rflags = r.rflags;
	emu_xinuse(c, 1);
	return 0;
}

static int mem_op(struct emu_cpu *c)
{
	unsigned op = c->insn.opcode & 7, reg = (c->insn.modrm >> 3) & 7;
	uint8_t buf[16] = { 0 };
	int seg;
	uint64_t off;

	switch (mem_form[op][reg].kind) {
	case M_UD:
		return emu_ud(c);
	case M_C:
		if (op == 1 && reg == 7)
			return x87_usable(c) ? -1 : control_word(c, 0);
		if (op == 5 && reg == 7) {     /* FNSTSW m16 */
			off = emu_ea(c, &seg);
			return x87_usable(c) ? -1 :
			       emu_write_u(c, seg, off, 2, rd16(fx(c) + EMU_FX_FSW));
		}
		if (reg == 6)
			return x87_usable(c) ? -1 : env_op(c, 1, op == 5);
		if (x87_waiting(c))
			return -1;
		return reg == 5 ? control_word(c, 1) : env_op(c, 0, op == 5);
	}
	if (x87_waiting(c))
		return -1;
	off = emu_ea(c, &seg);
	if (mem_form[op][reg].kind == M_RD && emu_read(c, seg, off, buf, mem_form[op][reg].size))
		return -1;
	return host_run(c, 512 + op * 8 + reg, buf, 1, x87_pointer(c, seg, off));
}

static int reg_op(struct emu_cpu *c)
{
	unsigned op = c->insn.opcode & 7, reg = (c->insn.modrm >> 3) & 7, rm = c->insn.modrm & 7;

	if (op == 3 && reg == 4) {     /* FNENI, FNDISI, FNCLEX, FNINIT, FNSETPM */
		if (rm > 4)
			return emu_ud(c);
		if (x87_usable(c))
			return -1;
		if (rm == 3) {
			fninit(c);
		} else if (rm == 2) {
			wr16(fx(c) + EMU_FX_FSW, rd16(fx(c) + EMU_FX_FSW) & 0x7f00);
			emu_xinuse(c, 1);
		}
		return 0;
	}
	if (op == 7 && reg == 4 && rm == 0) {     /* FNSTSW AX */
		if (x87_usable(c))
			return -1;
		emu_reg_set(c, X86_RAX, 2, 0, rd16(fx(c) + EMU_FX_FSW));
		return 0;
	}
	if (!((reg_form[op][reg] >> rm) & 1))
		return emu_ud(c);
	if (x87_waiting(c))
		return -1;
	return host_run(c, op * 64 + (c->insn.modrm & 63), NULL, 0, 0);
}

int emu_exec_x87(struct emu_cpu *c)
{
	return c->insn.mod == 3 ? reg_op(c) : mem_op(c);
}

/* ---- MMX registers: the x87 registers' significands ---- */

/* MMX instructions set TOP to 0 and tag every register valid: MMi is Ri. */
uint8_t *emu_mmx_enter(struct emu_cpu *c)
{
	uint8_t *x = fx(c);

	set_top(c, 0);
	x[EMU_FX_FTW] = 0xff;
	emu_xinuse(c, 1);
	return x + EMU_FX_ST;
}

/* A written MMX register's exponent and sign read as all ones. */
void emu_mmx_written(struct emu_cpu *c, unsigned r)
{
	wr16(fx(c) + EMU_FX_ST + 16 * (r & 7) + 8, 0xffff);
}

/* EMMS empties every tag; as the hardware does, TOP also becomes 0. */
void emu_emms(struct emu_cpu *c)
{
	emu_mmx_enter(c);
	fx(c)[EMU_FX_FTW] = 0;
	emu_xinuse(c, 1);
}

int emu_x87_check(struct emu_cpu *c)
{
	return x87_waiting(c);
}
