/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupt stubs for vectors 0-63 (32-bit): push a uniform frame, call idt_dispatch. */
	.code32
	.text

	.macro stub vec
isr_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushl	$0                      /* no error code from the CPU */
	.endif
	pushl	$\vec
	jmp	isr_common
	.endm

	.altmacro
	.set	v, 0
	.rept	64
	stub	%v
	.set	v, v + 1
	.endr

isr_common:
	pushal
	cld
	pushl	%esp
	call	idt_dispatch
	addl	$4, %esp
	popal
	addl	$8, %esp                /* vector and error code */
	iretl

	.macro stub_addr vec
	.long	isr_\vec
	.endm

	.section .rodata
	.globl	isr_stubs
	.align	4
isr_stubs:
	.set	v, 0
	.rept	64
	stub_addr %v
	.set	v, v + 1
	.endr
