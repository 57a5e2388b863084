/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/cpu_state.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"

void x86_seg_real(struct x86_segment *seg, uint16_t selector, int code)
{
	*seg = (struct x86_segment){
		.base = (uint64_t)selector << 4, .limit = 0xffff,
		.selector = selector, .type = code ? 0xb : 0x3,
		.s = 1, .present = 1,
	};
}

void x86_seg_flat(struct x86_segment *seg, uint16_t selector, int code, int bits)
{
	*seg = (struct x86_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector,
		.type = code ? 0xb : 0x3, .s = 1, .present = 1, .g = 1,
		.db = bits == 32, .l = bits == 64 && code,
	};
}

void x86_cpu_state_reset(struct x86_cpu_state *s, int bsp)
{
	memset(s, 0, sizeof(*s));
	s->rip = 0xfff0;
	s->rflags = X86_RFLAGS_FIXED;
	s->gpr[X86_RDX] = 0x600;      /* family/model/stepping, as after reset */
	for (int i = 0; i < X86_NR_SEGS; i++)
		x86_seg_real(&s->seg[i], 0, 0);
	s->seg[X86_CS].selector = 0xf000;
	s->seg[X86_CS].base = 0xffff0000;
	s->seg[X86_CS].type = 0xb;
	s->seg[X86_TR] = (struct x86_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->seg[X86_LDTR] = (struct x86_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s->gdt.limit = 0xffff;
	s->idt.limit = 0xffff;
	s->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	s->xcr0 = 1;
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->apic_base = X86_APIC_DEFAULT_BASE | X86_APIC_BASE_ENABLE |
		       (bsp ? X86_APIC_BASE_BSP : 0);
	/* FXSAVE region: FCW = 0x37f, MXCSR = 0x1f80. */
	s->xsave[0] = 0x7f;
	s->xsave[1] = 0x03;
	s->xsave[24] = 0x80;
	s->xsave[25] = 0x1f;
	s->mp_state = bsp ? X86_MP_RUNNABLE : X86_MP_UNINITIALIZED;
}

/* Through log_err: the console may be raw, and lines need \r\n there. */
void x86_cpu_state_log(const struct x86_cpu_state *s)
{
	static const char *const gpr[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi",
		"rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	static const char *const seg[] = { "es", "cs", "ss", "ds", "fs", "gs", "tr", "ldtr" };

	log_err("  rip=%016llx rflags=%08llx", (unsigned long long)s->rip,
		(unsigned long long)s->rflags);
	for (int i = 0; i < X86_NR_GPRS; i += 4)
		log_err("  %-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx",
			gpr[i], (unsigned long long)s->gpr[i],
			gpr[i + 1], (unsigned long long)s->gpr[i + 1],
			gpr[i + 2], (unsigned long long)s->gpr[i + 2],
			gpr[i + 3], (unsigned long long)s->gpr[i + 3]);
	for (int i = 0; i < X86_NR_SEGS; i++)
		log_err("  %-4s sel=%04x base=%016llx limit=%08x type=%x s=%d dpl=%d p=%d l=%d db=%d g=%d",
			seg[i], s->seg[i].selector, (unsigned long long)s->seg[i].base,
			s->seg[i].limit, s->seg[i].type, s->seg[i].s, s->seg[i].dpl,
			s->seg[i].present, s->seg[i].l, s->seg[i].db, s->seg[i].g);
	log_err("  gdt=%016llx/%04x idt=%016llx/%04x apic_base=%llx",
		(unsigned long long)s->gdt.base, s->gdt.limit,
		(unsigned long long)s->idt.base, s->idt.limit,
		(unsigned long long)s->apic_base);
	log_err("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
		(unsigned long long)s->cr0, (unsigned long long)s->cr2,
		(unsigned long long)s->cr3, (unsigned long long)s->cr4,
		(unsigned long long)s->efer);
}

void x86_code_log(const uint8_t *bytes, int n)
{
	char line[3 * 16 + 1] = "";

	if (n > 16)
		n = 16;
	for (int i = 0; i < n; i++)
		snprintf(line + 3 * i, sizeof(line) - 3 * (size_t)i, " %02x", bytes[i]);
	log_err("  code at rip:%s", n > 0 ? line : " (unavailable)");
}
