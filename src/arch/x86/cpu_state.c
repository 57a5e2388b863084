/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/cpu_state.h"

#include <string.h>

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
