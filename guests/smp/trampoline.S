/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AP start-up.  smp_tramp_start..smp_tramp_end is copied to SMP_TRAMP_BASE
 * (below 1 MiB, page aligned) and entered by the SIPI in real mode at
 * (BASE >> 4):0000; it loads the guest's GDT and jumps to ap_entry32 in the
 * kernel image, which takes a stack slot with lock xadd and calls ap_main.
 */
#define AP_STACK_SIZE 4096
#define AP_MAX 63

	.section .rodata
	.code16
	.globl	smp_tramp_start, smp_tramp_end
smp_tramp_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	tramp_gdt_desc - smp_tramp_start
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $ap_entry32
	.align	4
	.word	0
tramp_gdt_desc:
	.word	31                      /* the 4-entry GDT of entry32.S */
	.long	gdt
smp_tramp_end:

	.text
	.code32
ap_entry32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$1, %eax
	lock xaddl %eax, ap_next        /* eax = this AP's slot */
	cmpl	$AP_MAX, %eax
	jae	2f
	movl	%eax, %ebx
	incl	%eax
	shll	$12, %eax
	addl	$ap_stacks, %eax
	movl	%eax, %esp
	pushl	%ebx
	call	ap_main
2:	cli
	hlt
	jmp	2b

	.data
	.align	4
ap_next:
	.long	0

	.bss
	.align	16
ap_stacks:
	.skip	AP_STACK_SIZE * AP_MAX
