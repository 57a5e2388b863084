/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multiboot v1 entry for 32-bit guests.  The loader leaves EAX = magic and
 * EBX = MBI in flat protected mode with paging off, but the spec promises no
 * usable GDT, so load our own before touching a segment register.
 * With -DMB_AOUT_KLUDGE the header carries load addresses (flag 16), for
 * images loaded as flat binaries rather than ELF.
 */
#define MB_HEADER_MAGIC 0x1BADB002
#ifdef MB_AOUT_KLUDGE
#define MB_FLAGS 0x00010003
#else
#define MB_FLAGS 0x00000003     /* page-align modules, want memory info */
#endif

	.section .multiboot, "a"
	.align	4
mb_header:
	.long	MB_HEADER_MAGIC
	.long	MB_FLAGS
	.long	-(MB_HEADER_MAGIC + MB_FLAGS)
#ifdef MB_AOUT_KLUDGE
	.long	mb_header               /* header_addr */
	.long	__image_start           /* load_addr */
	.long	__data_end              /* load_end_addr */
	.long	__bss_end               /* bss_end_addr */
	.long	_start                  /* entry_addr */
#endif

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
	movl	$__bss_start, %edi      /* the loader should zero .bss; be sure */
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	movl	$boot_stack_top, %esp
	pushl	%ebx
	pushl	%ebp
	call	serial_init
	call	idt_init
	call	guest_main
	pushl	%eax
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
	.align	16
	.globl	boot_stack_top
boot_stack:
	.skip	16384
boot_stack_top:
