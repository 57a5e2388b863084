/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Triple fault on purpose: with an IDT limit of 0, ud2's #UD cannot be
 * delivered (#GP), nor can that (#DF): shutdown.  vmon must exit with
 * status 3; reaching the debug-exit write is a failure.  Not int3: the
 * development host's software KVM cannot emulate it (host-kvm.md) and
 * reports an emulation failure instead of faulting.
 */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

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
	movl	$msg, %esi
1:	lodsb                           /* the loader's DS is flat (multiboot spec) */
	testb	%al, %al
	jz	2f
	movw	$0x3f8, %dx
	outb	%al, %dx
	jmp	1b
2:	lidt	empty_idt
	ud2
	movl	$0x11, %eax             /* survived: GUEST_FAIL */
	outl	%eax, $0xf4
3:	hlt
	jmp	3b

	.section .rodata
msg:	.asciz	"triple: faulting now\n"
	.align	4
	.word	0
empty_idt:
	.word	0
	.long	0
