/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Segmentation, paging and the software TLB's lookups and fills (tlb.c
 * flushes it).  Every guest memory access of the software CPU goes through
 * here: RAM through guest_mem_ptr(), anything else to the MMIO bus.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#define PTE_P   (1ULL << 0)
#define PTE_W   (1ULL << 1)
#define PTE_U   (1ULL << 2)
#define PTE_A   (1ULL << 5)
#define PTE_D   (1ULL << 6)
#define PTE_PS  (1ULL << 7)
#define PTE_G   (1ULL << 8)
#define PTE_NX  (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

#define PF_P    (1u << 0)
#define PF_W    (1u << 1)
#define PF_U    (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I    (1u << 4)

int emu_phys_read(struct emu_cpu *c, uint64_t pa, void *buf, unsigned size)
{
	uint8_t *p = buf;

	if (!guest_mem_read(c->env.mem, pa, buf, size))
		return 0;
	while (size) {
		unsigned n = size >= 8 && !(pa & 7) ? 8 : size >= 4 && !(pa & 3) ? 4 :
			     size >= 2 && !(pa & 1) ? 2 : 1;
		uint64_t v = ~0ULL;

		if (guest_mem_ptr(c->env.mem, pa, 1))
			guest_mem_read(c->env.mem, pa, &v, n = 1);
		else if (emu_io_check(c, EMU_IO_MMIO, pa))
			return -1;
		else if (c->env.mmio)
			v = bus_read(c->env.mmio, pa, n);
		memcpy(p, &v, n);
		p += n;
		pa += n;
		size -= n;
	}
	return 0;
}

int emu_phys_write(struct emu_cpu *c, uint64_t pa, const void *buf, unsigned size)
{
	const uint8_t *p = buf;
	uint8_t *h = guest_mem_ptr(c->env.mem, pa, size);

	if (h) {
		memcpy(h, buf, size);
		emu_note_write(c, h);
		emu_note_write(c, h + size - 1);
		return 0;
	}
	while (size) {
		unsigned n = size >= 8 && !(pa & 7) ? 8 : size >= 4 && !(pa & 3) ? 4 :
			     size >= 2 && !(pa & 1) ? 2 : 1;
		uint64_t v = 0;

		if ((h = guest_mem_ptr(c->env.mem, pa, 1))) {
			*h = *p;
			emu_note_write(c, h);
			n = 1;
		} else if (emu_io_check(c, EMU_IO_MMIO, pa)) {
			return -1;
		} else {
			memcpy(&v, p, n);
			if (c->env.mmio)
				bus_write(c->env.mmio, pa, n, v);
		}
		p += n;
		pa += n;
		size -= n;
	}
	return 0;
}

/* ---- segmentation ---- */

static int seg_fault(struct emu_cpu *c, int seg)
{
	return emu_raise(c, seg == X86_SS ? EXC_SS : EXC_GP, 0, 1);
}

static int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

int emu_linear_try(struct emu_cpu *c, int seg, uint64_t off, unsigned size, int acc,
		   uint64_t *lin)
{
	const struct x86_segment *s = &c->s->seg[seg];
	uint64_t last, limit_max;

	if (emu_64bit(c)) {
		uint64_t a = off + ((seg == X86_FS || seg == X86_GS) ? s->base : 0);

		if (!canonical(a) || !canonical(a + size - 1))
			return -1;
		*lin = a;
		return 0;
	}
	if (emu_protected(c) && !emu_v86(c)) {
		int code = s->type & 8;

		if (s->unusable || !s->present)
			return -1;
		if ((acc & ACC_WRITE) && (code || !(s->type & 2)))
			return -1;
		if (acc == ACC_READ && code && !(s->type & 2))
			return -1;
		last = off + size - 1;
		if (!code && (s->type & 4)) {
			/* Expand-down: valid offsets lie above the limit. */
			limit_max = s->db ? 0xffffffffULL : 0xffffULL;
			if (off <= s->limit || last > limit_max)
				return -1;
		} else if (last > s->limit || last < off) {
			return -1;
		}
	} else if (off + size - 1 > s->limit) {
		return -1;
	}
	*lin = (s->base + off) & 0xffffffffULL;
	return 0;
}

int emu_linear(struct emu_cpu *c, int seg, uint64_t off, unsigned size, int acc, uint64_t *lin)
{
	if (emu_linear_try(c, seg, off, size, acc, lin))
		return seg_fault(c, seg);
	return 0;
}

/* ---- paging ---- */

static int pf(struct emu_cpu *c, uint64_t lin, uint32_t err)
{
	c->fault_cr2 = lin;
	return emu_raise(c, EXC_PF, err, 1);
}

/* Sets A (and D) in a paging entry atomically, as the CPU does. */
static void set_bits(struct emu_cpu *c, uint64_t pa, unsigned esize, uint64_t bits)
{
	void *p = guest_mem_ptr(c->env.mem, pa, esize);

	if (!p)
		return;
	if (esize == 8)
		__atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_SEQ_CST);
}

struct walk {
	uint64_t pa;          /* physical address of the 4K page */
	uint64_t leaf_pa;     /* where the leaf entry lives, for the D bit */
	unsigned leaf_esize;
	int user, write, nx, dirty;
	int global;           /* G in the leaf entry, under CR4.PGE */
	int rsvd;             /* the walk stopped at an entry with a reserved bit set */
};

/* Bits 62:52 of a PAE-paging entry are reserved; 4-level paging ignores them. */
#define PAE_HIGH_RSVD 0x7ff0000000000000ULL
/* PAE PDPTEs: bits 2:1 and 8:5, and 63:MAXPHYADDR. */
#define PDPTE_RSVD (0x1e6ULL | PAE_HIGH_RSVD | PTE_NX)

/*
 * MAXPHYADDR (CPUID 80000008H, 36 without the leaf), 1-GByte pages
 * (80000001H EDX[26]) and PSE-36 (1 EDX[17]) of the CPUID model, which
 * decide the reserved bits of paging entries.  Found once: the model
 * changes only with the state a caller hands emu (emu_mmu_reset).
 */
static void paging_model(struct emu_cpu *c)
{
	uint32_t a[4];
	unsigned m = 36, m32;

	emu_cpuid_model(c, 0x80000000, 0, a);
	if (a[0] >= 0x80000008) {
		emu_cpuid_model(c, 0x80000008, 0, a);
		m = a[0] & 0xff;
	}
	if (m < 32 || m > 52)
		m = 36;
	c->phys_rsvd = ((1ULL << 52) - 1) & ~((1ULL << m) - 1);
	emu_cpuid_model(c, 0x80000001, 0, a);
	c->gbpages = (a[3] >> 26) & 1;
	emu_cpuid_model(c, 1, 0, a);
	c->pse36 = (a[3] >> 17) & 1;
	/* 32-bit paging's 4-MByte pages: bits 21:(M-19) with M = min(MAXPHYADDR, 40)
	 * under PSE-36, else all of 21:13, are reserved. */
	m32 = m > 40 ? 40 : m;
	c->pse_rsvd = c->pse36 ? 0x3fe000ULL & ~((1ULL << (m32 - 19)) - 1) : 0x3fe000ULL;
	c->paging_known = 1;
}

static int read_entry(struct emu_cpu *c, uint64_t pa, unsigned esize, uint64_t *e)
{
	uint32_t v32;

	*e = 0;
	if (esize == 8)
		return guest_mem_read(c->env.mem, pa, e, 8);
	if (guest_mem_read(c->env.mem, pa, &v32, 4))
		return -1;
	*e = v32;
	return 0;
}

static int is_leaf(const struct x86_cpu_state *s, uint64_t e, int level, int pae)
{
	if (level == 1)
		return 1;
	if (!(e & PTE_PS))
		return 0;
	if (pae)
		return level == 2 || level == 3;
	return level == 2 && (s->cr4 & X86_CR4_PSE);
}

/* The four PDPTEs at cr3 into the registers; 1 when a present one has a reserved bit. */
static int pdpte_fill(struct emu_cpu *c, uint64_t cr3)
{
	uint64_t e[4];
	int bad = 0;

	for (unsigned i = 0; i < 4; i++) {
		if (read_entry(c, (cr3 & 0xffffffe0ULL) + 8 * i, 8, &e[i]))
			e[i] = 0;
		if ((e[i] & PTE_P) && (e[i] & (PDPTE_RSVD | c->phys_rsvd)))
			bad = 1;
	}
	memcpy(c->pdpte, e, sizeof(e));
	c->pdpte_cr3 = cr3;
	c->pdpte_loaded = 1;
	return bad;
}

int emu_pdpte_load(struct emu_cpu *c, uint64_t cr0, uint64_t cr3, uint64_t cr4)
{
	uint64_t keep[4], keep_cr3 = c->pdpte_cr3;
	int keep_loaded = c->pdpte_loaded;

	if (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE) || emu_long_mode(c))
		return 0;
	if (!c->paging_known)
		paging_model(c);
	memcpy(keep, c->pdpte, sizeof(keep));
	if (!pdpte_fill(c, cr3))
		return 0;
	memcpy(c->pdpte, keep, sizeof(keep));
	c->pdpte_cr3 = keep_cr3;
	c->pdpte_loaded = keep_loaded;
	return emu_gp(c, 0);
}

/*
 * First-level table for lin; 32-bit PAE goes through the PDPTE registers
 * here, which MOV to CR0/CR3/CR4 load and check (emu_pdpte_load).  A new
 * CR3 from elsewhere (a task switch, the caller's state) loads them on the
 * first walk unchecked: a reserved bit there is a #PF with RSVD.
 */
static int walk_root(struct emu_cpu *c, uint64_t lin, int *levels, uint64_t *table, struct walk *w)
{
	struct x86_cpu_state *s = c->s;
	uint64_t pdpte;

	if (emu_long_mode(c)) {
		*levels = (s->cr4 & X86_CR4_LA57) ? 5 : 4;
		*table = s->cr3 & PTE_ADDR;
		return 0;
	}
	*levels = 2;
	if (!(s->cr4 & X86_CR4_PAE)) {
		*table = s->cr3 & 0xfffff000ULL;
		return 0;
	}
	if (!c->pdpte_loaded || c->pdpte_cr3 != s->cr3)
		pdpte_fill(c, s->cr3);
	pdpte = c->pdpte[(lin >> 30) & 3];
	if (!(pdpte & PTE_P))
		return -1;
	if (pdpte & (PDPTE_RSVD | c->phys_rsvd)) {
		w->rsvd = 1;
		return -1;
	}
	*table = pdpte & PTE_ADDR;
	return 0;
}

/*
 * The reserved bits of a present entry at level l (1: PTE) given the
 * high ones of its format (rsvd): PS in a PML4E or PML5E, in a PDPTE
 * without 1-GByte pages, and the low bits of a large page's frame.
 */
static uint64_t entry_rsvd(const struct emu_cpu *c, uint64_t e, int l, int pae, uint64_t rsvd)
{
	if (!pae)
		return l == 2 && (e & PTE_PS) && (c->s->cr4 & X86_CR4_PSE) ? c->pse_rsvd : 0;
	if (l >= 4)
		return rsvd | PTE_PS;
	if (l == 1 || !(e & PTE_PS))
		return rsvd;
	if (l == 3)
		return rsvd | (c->gbpages ? 0x3fffe000ULL : PTE_PS);
	return rsvd | 0x1fe000ULL;
}

/*
 * Walks the tables for lin.  Permissions accumulate over the levels and A
 * bits are set on the way; D is the caller's, once the access is allowed.
 * Entries outside RAM read as not present: page tables never live in MMIO.
 */
static int walk(struct emu_cpu *c, uint64_t lin, struct walk *w)
{
	struct x86_cpu_state *s = c->s;
	int pae = !!(s->cr4 & X86_CR4_PAE), levels, shift;
	unsigned esize = pae ? 8 : 4;
	uint64_t table, e = 0, nxe = s->efer & X86_EFER_NXE, rsvd;
	uint64_t addr_mask = pae ? PTE_ADDR : 0xfffff000ULL;

	w->user = w->write = 1;
	w->nx = w->rsvd = 0;
	if (!c->paging_known)
		paging_model(c);
	rsvd = c->phys_rsvd | (emu_long_mode(c) ? 0 : PAE_HIGH_RSVD) | (nxe ? 0 : PTE_NX);
	if (walk_root(c, lin, &levels, &table, w))
		return -1;
	shift = pae ? 12 + 9 * (levels - 1) : 22;
	for (int l = levels; l >= 1; l--) {
		unsigned idx = (lin >> shift) & (pae ? 511 : 1023);
		uint64_t epa = table + idx * esize;

		if (read_entry(c, epa, esize, &e) || !(e & PTE_P))
			return -1;
		if (e & entry_rsvd(c, e, l, pae, rsvd)) {
			w->rsvd = 1;
			return -1;
		}
		if (nxe && pae && (e & PTE_NX))
			w->nx = 1;
		if (!(e & PTE_U))
			w->user = 0;
		if (!(e & PTE_W))
			w->write = 0;
		if (!(e & PTE_A))
			set_bits(c, epa, esize, PTE_A);
		if (is_leaf(s, e, l, pae)) {
			uint64_t off_mask = (1ULL << shift) - 1, base;

			if (l > 1 && pae)
				base = e & PTE_ADDR & ~off_mask;
			else if (l > 1)   /* PSE-36: bits 13-20 are address bits 32-39 */
				base = (e & 0xffc00000ULL) | ((e & 0x1fe000ULL) << 19);
			else
				base = e & addr_mask;
			w->pa = base | (lin & off_mask & ~0xfffULL);
			w->dirty = !!(e & PTE_D);
			w->global = (e & PTE_G) && (s->cr4 & X86_CR4_PGE);
			w->leaf_pa = epa;
			w->leaf_esize = esize;
			return 0;
		}
		table = e & addr_mask;
		shift -= pae ? 9 : 10;
	}
	return -1;
}

/* Supervisor access to a user page under SMAP: AC only helps at CPL < 3. */
static int smap_blocks(struct emu_cpu *c, int acc, int cpl)
{
	if (!(c->s->cr4 & X86_CR4_SMAP))
		return 0;
	if (acc & ACC_SUPER)
		return 1;
	return cpl < 3 && !(c->s->rflags & X86_RFLAGS_AC) ? 1 : cpl == 3;
}

/*
 * The W, U and I bits of a #PF error code for an access: I only where
 * instruction fetches can fault on their own (NXE under PAE or 4-level
 * paging, or SMEP).
 */
static uint32_t pf_access_bits(struct emu_cpu *c, int acc)
{
	int cpl = (acc & ACC_SUPER) ? 0 : emu_cpl(c);
	const struct x86_cpu_state *s = c->s;
	int fetch_faults = ((s->efer & X86_EFER_NXE) && (s->cr4 & X86_CR4_PAE)) ||
			   (s->cr4 & X86_CR4_SMEP);

	return ((acc & ACC_WRITE) ? PF_W : 0) | (cpl == 3 ? PF_U : 0) |
	       ((acc & ACC_EXEC) && fetch_faults ? PF_I : 0);
}

/* Whether entry t allows the access: U/S, NX, SMEP, SMAP, R/W with CR0.WP. */
static int perm_ok(struct emu_cpu *c, const struct emu_tlb_entry *t, int acc)
{
	int cpl = emu_cpl(c);
	int user = !(acc & ACC_SUPER) && cpl == 3, write = acc & ACC_WRITE, exec = acc & ACC_EXEC;

	if (user && !t->user)
		return 0;
	if (exec && t->nx)
		return 0;
	if (!user && t->user) {
		if (exec && (c->s->cr4 & X86_CR4_SMEP))
			return 0;
		if (!exec && smap_blocks(c, acc, cpl))
			return 0;
	}
	return !write || t->write || (!user && !(c->s->cr0 & X86_CR0_WP));
}

/*
 * The walk's result into slot i, permissions not yet checked.  D is cached
 * as the entry had it, as a CPU's TLB does: a write to a page already
 * dirty needs no second walk.
 */
static struct emu_tlb_entry *tlb_fill(struct emu_cpu *c, unsigned i, uint64_t lin,
				      const struct walk *w)
{
	struct emu_tlb_entry *t = &c->tlb[i];

	*t = (struct emu_tlb_entry){
		.vpn = lin >> 12, .tag_r = ~0ULL, .tag_w = ~0ULL, .ppn = w->pa >> 12,
		.user = (uint8_t)w->user, .write = (uint8_t)w->write, .nx = (uint8_t)w->nx,
		.dirty = (uint8_t)w->dirty, .global = (uint8_t)w->global,
		.host = guest_mem_ptr(c->env.mem, w->pa & ~0xfffULL, 0x1000),
	};
	emu_tlb_mark(c, i, w->global);
	return t;
}

/*
 * A miss (or a first write to a clean page): walk, fill, check, set D.  Out
 * of line: the walk's frame would cost every hit.
 */
static __attribute__((noinline)) int tlb_refill(struct emu_cpu *c, unsigned i, uint64_t lin, int acc)
{
	struct emu_tlb_entry *t;
	struct walk w;

	c->tlb_stats.walks++;
	if (walk(c, lin, &w)) {
		emu_tlb_empty(&c->tlb[i]);
		return pf(c, lin, pf_access_bits(c, acc) | (w.rsvd ? PF_P | PF_RSVD : 0));
	}
	t = tlb_fill(c, i, lin, &w);
	if (!perm_ok(c, t, acc)) {
		t->vpn = ~0ULL;
		return pf(c, lin, PF_P | pf_access_bits(c, acc));
	}
	if ((acc & ACC_WRITE) && !w.dirty) {
		set_bits(c, w.leaf_pa, w.leaf_esize, PTE_D);
		t->dirty = 1;
	}
	return 0;
}

/* emu_translate, and the TLB entry it went through (NULL without paging). */
static int translate(struct emu_cpu *c, uint64_t lin, int acc, uint64_t *phys,
		     const struct emu_tlb_entry **te)
{
	unsigned i = (lin >> 12) % EMU_TLB_SIZE;
	struct emu_tlb_entry *t = &c->tlb[i];

	*te = NULL;
	if (!(c->s->cr0 & X86_CR0_PG)) {
		*phys = lin;
		return 0;
	}
	/* Such an access passed here in this context before (emu_fast_ptr's test). */
	if (!(acc & (ACC_SUPER | ACC_EXEC)) &&
	    emu_tlb_tagged(c, lin, acc & ACC_WRITE, emu_tlb_ctx(c))) {
		*te = t;
		*phys = (t->ppn << 12) | (lin & 0xfff);
		return 0;
	}
	/*
	 * A hit that the entry refuses walks again: a #PF drops the entries of
	 * its address (SDM vol. 3 4.10.4.1), and guests count on that when they
	 * make a page writable without a flush.
	 */
	if (t->vpn != lin >> 12 || ((acc & ACC_WRITE) && !t->dirty) || !perm_ok(c, t, acc)) {
		if (tlb_refill(c, i, lin, acc))
			return -1;
	}
	/*
	 * Passed in this context: the next such access is a fast-tag hit.  Not
	 * while alignment checking is on: the fast forms do not check, so no
	 * tag of that context (CPL 3 with AC) may exist while CR0.AM is set
	 * (its changes flush the TLB).
	 */
	if (t->host && !(acc & (ACC_SUPER | ACC_EXEC)) && !emu_ac_on(c)) {
		uint64_t tag = (lin >> 12) | emu_tlb_ctx(c);

		t->tag_r = tag;
		if (acc & ACC_WRITE)
			t->tag_w = tag;
	}
	*te = t;
	*phys = (t->ppn << 12) | (lin & 0xfff);
	return 0;
}

int emu_translate(struct emu_cpu *c, uint64_t lin, int acc, uint64_t *phys)
{
	const struct emu_tlb_entry *t;

	return translate(c, lin, acc, phys, &t);
}

/* ---- accesses ---- */

/*
 * The alignment #AC asks of an operand of size bytes (SDM Table 6-7):
 * words, dwords, qwords and 16-byte operands their size (MOVUPS too, as
 * this AMD host does), an 80-bit x87 value 8, the FNSTENV/FNSAVE images 2
 * or 4 by their operand size, FXSAVE/XSAVE areas 16 (they #GP first).
 */
static unsigned natural_align(unsigned size)
{
	switch (size) {
	case 2: case 4: case 8: case 16:
		return size;
	case 10:
		return 8;
	case 14: case 94:
		return 2;
	case 28: case 108:
		return 4;
	}
	return size >= 512 ? 16 : 1;
}

/*
 * An instruction's own data access, translated and about to move bytes:
 * #AC (error code 0) when misaligned with alignment checking on (page
 * faults come first, as the SDM's priorities have it), and the data
 * breakpoints it meets.
 */
static int data_checks(struct emu_cpu *c, uint64_t lin, unsigned size, int acc)
{
	unsigned align = (unsigned)acc >> 8;

	if (!align)
		align = natural_align(size);
	if ((lin & (align - 1)) && emu_ac_on(c))
		return emu_raise(c, EXC_AC, 0, 1);
	if (emu_dr7_armed(c->s))
		emu_data_breakpoints(c, lin, size, acc & ACC_WRITE);
	return 0;
}

static uint64_t lin_mask(struct emu_cpu *c)
{
	return emu_long_mode(c) ? ~0ULL : 0xffffffffULL;
}

/* The host address of RAM at lin after translate() gave t and pa, or NULL. */
static uint8_t *host_of(struct emu_cpu *c, const struct emu_tlb_entry *t, uint64_t lin,
			uint64_t pa, unsigned size)
{
	if (!t)
		return guest_mem_ptr(c->env.mem, pa, size);
	return t->host ? t->host + (lin & 0xfff) : NULL;
}

/*
 * The host address of lin when its fast tag matches, as translate's first
 * test: then the access needs no check at all, for a tag is never made
 * while alignment checking is on (nor left when CR0.AM changes), unless a
 * data breakpoint is armed.  Else NULL.
 */
static uint8_t *tag_host(struct emu_cpu *c, uint64_t lin, int acc)
{
	const struct emu_tlb_entry *t;

	if ((acc & (ACC_SUPER | ACC_EXEC)) || emu_dr7_armed(c->s))
		return NULL;
	t = emu_tlb_tagged(c, lin, acc & ACC_WRITE, emu_tlb_ctx(c));
	return t ? t->host + (lin & 0xfff) : NULL;
}

/* An access within one page: through the host pointer when it is RAM. */
static int access_page(struct emu_cpu *c, uint64_t lin, void *buf, unsigned size, int acc)
{
	const struct emu_tlb_entry *t;
	uint64_t pa = 0;
	uint8_t *h = tag_host(c, lin, acc);

	if (!h) {
		if (translate(c, lin, acc, &pa, &t))
			return -1;
		if ((acc & ACC_DATA) && data_checks(c, lin, size, acc))
			return -1;
		h = host_of(c, t, lin, pa, size);
	}
	if (!h)
		return (acc & ACC_WRITE) ? emu_phys_write(c, pa, buf, size)
					 : emu_phys_read(c, pa, buf, size);
	if (acc & ACC_WRITE) {
		memcpy(h, buf, size);
		emu_note_write(c, h);
	} else {
		memcpy(buf, h, size);
	}
	return 0;
}

/*
 * Both pages of a page-crossing access are translated before any byte
 * moves, so a fault on the second page leaves memory untouched.  Within one
 * page of RAM the TLB's host pointer makes the access one memcpy.
 */
static int access_lin(struct emu_cpu *c, uint64_t lin, void *buf, unsigned size, int acc)
{
	uint8_t *p = buf;

	if ((lin & 0xfff) + size <= 0x1000)
		return access_page(c, lin, buf, size, acc);

	while (size) {
		uint64_t pa[2], l = lin;
		unsigned first = 0x1000 - (lin & 0xfff), n[2], chunks;

		n[0] = size < first ? size : first;
		n[1] = size - n[0];
		chunks = n[1] ? 2 : 1;
		if (n[1] > 0x1000)
			n[1] = 0x1000;
		for (unsigned i = 0; i < chunks; i++) {
			if (emu_translate(c, l, acc, &pa[i]))
				return -1;
			l = (l + n[i]) & lin_mask(c);
		}
		if ((acc & ACC_DATA) && p == buf && data_checks(c, lin, size, acc))
			return -1;
		for (unsigned i = 0; i < chunks; i++) {
			if ((acc & ACC_WRITE) ? emu_phys_write(c, pa[i], p, n[i])
					      : emu_phys_read(c, pa[i], p, n[i]))
				return -1;
			p += n[i];
			size -= n[i];
			lin = (lin + n[i]) & lin_mask(c);
		}
	}
	return 0;
}

/*
 * Code runs mostly from one page at a time: the last page that passed the
 * execute checks at this privilege is kept until the next TLB flush.
 */
int emu_fetch_page(struct emu_cpu *c, uint64_t lin, const uint8_t **p, unsigned *avail)
{
	const struct emu_tlb_entry *t;
	int user = emu_cpl(c) == 3;
	uint64_t pa;

	*avail = 0x1000 - (lin & 0xfff);
	if (translate(c, lin, ACC_EXEC, &pa, &t))
		return -1;
	*p = host_of(c, t, lin, pa, *avail);
	if (*p && t) {
		c->fetch_vpn = lin >> 12;
		c->fetch_host = (uint8_t *)*p - (lin & 0xfff);
		c->fetch_user = user;
	}
	return 0;
}

int emu_peek(struct emu_cpu *c, uint64_t lin, void *buf, unsigned size)
{
	int r = access_lin(c, lin, buf, size, ACC_READ);

	c->fault = -1;
	c->unimplemented = c->io_stopped = 0;
	return r;
}

int emu_read_lin(struct emu_cpu *c, uint64_t lin, void *buf, unsigned size, int acc)
{
	return access_lin(c, lin, buf, size, acc & ~ACC_WRITE);
}

int emu_write_lin(struct emu_cpu *c, uint64_t lin, const void *buf, unsigned size, int acc)
{
	return access_lin(c, lin, (void *)buf, size, acc | ACC_WRITE);
}

int emu_read(struct emu_cpu *c, int seg, uint64_t off, void *buf, unsigned size)
{
	uint64_t lin;

	if (emu_linear(c, seg, off, size, ACC_READ, &lin))
		return -1;
	return emu_read_lin(c, lin, buf, size, ACC_READ | ACC_DATA);
}

int emu_write_al(struct emu_cpu *c, int seg, uint64_t off, const void *buf, unsigned size,
		 unsigned align)
{
	uint64_t lin;

	if (emu_linear(c, seg, off, size, ACC_WRITE, &lin))
		return -1;
	return emu_write_lin(c, lin, buf, size, ACC_WRITE | ACC_DATA | ACC_ALIGN(align));
}

int emu_write(struct emu_cpu *c, int seg, uint64_t off, const void *buf, unsigned size)
{
	return emu_write_al(c, seg, off, buf, size, 0);
}

int emu_read_u(struct emu_cpu *c, int seg, uint64_t off, unsigned size, uint64_t *v)
{
	*v = 0;
	return emu_read(c, seg, off, v, size);
}

int emu_write_u(struct emu_cpu *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
	return emu_write(c, seg, off, &v, size);
}

int emu_host_ptr(struct emu_cpu *c, int seg, uint64_t off, unsigned size, void **p)
{
	uint64_t lin, pa;

	*p = NULL;
	if (emu_linear(c, seg, off, size, ACC_WRITE, &lin))
		return -1;
	if ((lin & 0xfff) + size > 0x1000)
		return 0;
	if (emu_translate(c, lin, ACC_WRITE, &pa) || data_checks(c, lin, size, ACC_WRITE))
		return -1;
	*p = guest_mem_ptr(c->env.mem, pa, size);
	if (*p)
		emu_note_write(c, *p);
	return 0;
}
