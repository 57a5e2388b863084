/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Floating point by the host's own FPU: the guest's x87/SSE register image
 * is loaded into the host FPU with FXRSTOR, one instruction of a stub table
 * runs on it, and FXSAVE takes the result back.  The host then gets its own
 * FPU state back.  This gives bit-exact x87 and SSE arithmetic (rounding,
 * precision control, NaN propagation, flags) without a soft-float library,
 * which is why the stub tables exist only on x86-64 hosts.
 */
#include <string.h>

#include "accel/emu/emu_int.h"

#if defined(__x86_64__)

int emu_host_fp_available(void)
{
	return 1;
}

/*
 * The red zone below RSP may hold the caller's locals: step over it before
 * the CALL pushes anything.  Only registers carry the pointers, so no
 * operand is addressed relative to the moved RSP.
 */
void emu_host_fp_run(struct emu_host_fp *r)
{
	uint8_t host[512] __attribute__((aligned(16)));
	uint64_t fl = (r->rflags & EMU_FLAGS_ARITH) | X86_RFLAGS_FIXED;
	uint64_t rax = r->rax;

	__asm__ volatile(
		"fxsave64 (%[host])\n\t"
		"fxrstor64 (%[img])\n\t"
		"sub $128, %%rsp\n\t"
		"pushfq\n\t"
		"push %[fl]\n\t"
		"popfq\n\t"
		"call *%[stub]\n\t"
		"pushfq\n\t"
		"pop %[fl]\n\t"
		"popfq\n\t"
		"add $128, %%rsp\n\t"
		"fxsave64 (%[img])\n\t"
		"fxrstor64 (%[host])\n\t"
		: [fl] "+r"(fl), "+a"(rax)
		: [host] "r"(host), [img] "r"(r->img), [stub] "r"(r->stub), "D"(r->mem)
		: "memory", "cc");
	r->rflags = (r->rflags & ~EMU_FLAGS_ARITH) | (fl & EMU_FLAGS_ARITH);
	r->rax = rax;
}

#else

int emu_host_fp_available(void)
{
	return 0;
}

void emu_host_fp_run(struct emu_host_fp *r)
{
	(void)r;
}

#endif

/* The host image: the guest's FXSAVE region with a MXCSR that masks everything. */
void emu_host_fp_load(struct emu_host_fp *r, const struct x86_cpu_state *s)
{
	uint32_t mxcsr;

	memcpy(r->img, s->xsave, 512);
	memcpy(&mxcsr, s->xsave + 24, 4);
	mxcsr |= 0x1f80;     /* all exception masks: the caller judges the flags */
	memcpy(r->img + 24, &mxcsr, 4);
	memset(r->img + 28, 0, 4);
}
