/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A boot sector: entered in real mode at 0000:7C00 (vmon --flat, or a
 * BIOS).  There is no BIOS under vmon, so it talks to COM1 directly,
 * checks it really runs in real mode at the address it was linked for,
 * and ends through isa-debug-exit.
 */
#define COM1 0x3f8
#define PASS 0x10
#define FAIL 0x11

	.code16
	.text
	.globl	_start
_start:
	cli
	cld
	ljmp	$0, $1f                 /* normalise CS:IP (some BIOSes use 07C0:0000) */
1:	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp

	call	uart_init
	movw	$msg_hello, %si
	call	puts

	smsw	%ax                     /* CR0.PE must be clear */
	testw	$1, %ax
	jnz	fail
	call	2f                      /* where are we really? */
2:	popw	%ax
	cmpw	$2b, %ax
	jne	fail

	movw	$msg_ok, %si
	call	puts
	movl	$PASS, %eax
	jmp	exit
fail:
	movw	$msg_fail, %si
	call	puts
	movl	$FAIL, %eax
exit:
	movw	$0xf4, %dx
	outl	%eax, %dx               /* ends the VM */
3:	hlt
	jmp	3b

uart_init:
	movw	$COM1 + 1, %dx
	xorb	%al, %al
	outb	%al, %dx                /* IER: no interrupts */
	movw	$COM1 + 3, %dx
	movb	$0x80, %al
	outb	%al, %dx                /* DLAB */
	movw	$COM1, %dx
	movb	$1, %al
	outb	%al, %dx                /* divisor 1: 115200 baud */
	incw	%dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$COM1 + 3, %dx
	movb	$3, %al
	outb	%al, %dx                /* 8N1 */
	ret

/* Prints the NUL-terminated string at DS:SI. */
puts:
	lodsb
	testb	%al, %al
	jz	2f
	movb	%al, %ah
	movw	$COM1 + 5, %dx
	movw	$0xffff, %cx
1:	inb	%dx, %al                /* wait (bounded) for THR empty */
	testb	$0x20, %al
	loopz	1b
	movw	$COM1, %dx
	movb	%ah, %al
	outb	%al, %dx
	jmp	puts
2:	ret

msg_hello:	.asciz	"realmode: hello from 16-bit code\n"
msg_ok:		.asciz	"realmode: ok\n"
msg_fail:	.asciz	"realmode: FAIL: not in real mode at 0000:7c00\n"

	.org	510
	.byte	0x55, 0xaa
