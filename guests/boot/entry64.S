/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multiboot v1 entry for 64-bit guests: starts in 32-bit protected mode
 * (multiboot cannot enter long mode), identity-maps the low 4 GiB with
 * 2 MiB pages, enables PAE, EFER.LME and paging, and calls guest_main in
 * 64-bit mode.  Assembled into an ELF64 object and shipped as ELF32.
 */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003
#define MSR_EFER 0xc0000080

	.section .multiboot, "a"
	.align	4
	.long	MB_HEADER_MAGIC
	.long	MB_FLAGS
	.long	-(MB_HEADER_MAGIC + MB_FLAGS)

	.code32
	.text
	.globl	_start
_start:
	cli
	cld
	movl	%eax, %ebp
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl	$pdpt, %eax
	orl	$0x3, %eax
	movl	%eax, pml4
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$pd, %eax
	orl	$0x3, %eax
	movl	%eax, pdpt(, %ecx, 8)
	incl	%ecx
	cmpl	$4, %ecx
	jb	2b
	xorl	%ecx, %ecx
3:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0x83, %eax             /* present, writable, 2 MiB page */
	movl	%eax, pd(, %ecx, 8)
	movl	%ecx, %eax
	shrl	$11, %eax               /* bits 32+ of the address of page ecx */
	movl	%eax, pd + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$2048, %ecx
	jb	3b

	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$(1 << 5), %eax         /* PAE */
	movl	%eax, %cr4
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$(1 << 8), %eax         /* LME */
	wrmsr
	movl	%cr0, %eax
	orl	$(1 << 31), %eax        /* PG: with LME this activates long mode */
	movl	%eax, %cr0
	ljmp	$0x18, $long_entry

	.code64
long_entry:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movq	$boot_stack_top, %rsp
	movl	%ebx, %r12d
	movl	%ebp, %r13d
	call	serial_init
	movl	%r13d, %edi
	movl	%r12d, %esi
	call	guest_main
	movl	%eax, %edi
	call	guest_exit

	.section .rodata
	.align	8
	.globl	gdt, gdt_desc
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff      /* 0x08: 32-bit code, flat */
	.quad	0x00cf92000000ffff      /* 0x10: data, flat */
	.quad	0x00af9a000000ffff      /* 0x18: 64-bit code */
gdt_end:
	.align	4
	.word	0
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

	.bss
	.align	4096
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4 * 4096
	.align	16
	.globl	boot_stack_top
boot_stack:
	.skip	16384
boot_stack_top:
