/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sysarch guest's code that must be assembly: the 8086 program run in
 * virtual-8086 mode (copied below 1 MiB), the ring-0 entry points that
 * take interrupts from it, and the bodies of the 16-bit tasks.
 */
#define V86_CS 0x2000

	.code32
	.text

/* void v86_run(uint32_t ip, uint32_t eflags): IRET into the 8086 program until it leaves. */
	.globl	v86_run
v86_run:
	pushal
	movl	%esp, v86_kernel_esp
	movl	36(%esp), %eax
	movl	40(%esp), %ecx
	pushl	$0x6000                 /* GS */
	pushl	$0x5000                 /* FS */
	pushl	$0x4000                 /* DS */
	pushl	$0x4100                 /* ES */
	pushl	$0x3000                 /* SS */
	pushl	$0xfffe                 /* ESP */
	pushl	%ecx                    /* EFLAGS, VM set */
	pushl	$V86_CS
	pushl	%eax
	iretl

/* #GP from virtual-8086 mode: v86_gp() says whether to go back (0) or leave. */
	.globl	v86_gp_entry
v86_gp_entry:
	pushal
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	pushl	%esp
	call	v86_gp
	addl	$4, %esp
	testl	%eax, %eax
	jnz	v86_leave
	popal
	addl	$4, %esp                /* error code */
	iretl

v86_leave:
	movl	$0x10, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movl	v86_kernel_esp, %esp
	popal
	ret

/* INT n and INT3 from virtual-8086 mode: the frame of v86_gp with a zero error code. */
	.macro	v86_int_entry vec
	.globl	v86_int_\vec
v86_int_\vec:
	pushl	$0
	pushal
	movl	%ds, %eax
	movl	%eax, %ss:v86_entry_ds  /* DS as the handler found it */
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	pushl	$\vec
	leal	4(%esp), %eax
	pushl	%eax
	call	v86_int
	addl	$8, %esp
	popal
	addl	$4, %esp
	iretl
	.endm
	v86_int_entry 3
	v86_int_entry 0x30

/*
 * The 8086 program, assembled for offsets from v86_start (CS = 0x2000 when
 * it runs at 0x20000).  Its results go to DS:0 (DS = 0x4000).
 */
#define OFF(x) ((x) - v86_start)
	.section .rodata
	.code16
	.globl	v86_start, v86_end, v86_iopl0, v86_iopl3
v86_start:

/* At IOPL 0: every IOPL-sensitive instruction is #GP, INT3 is not; the bitmap lets COM1 through. */
v86_iopl0:
	movw	$OFF(msg0), %si
	call	puts
	cli
	sti
	pushfw
	popfw
	int	$0x30
	int3
	movb	$7, %al
	outb	%al, $0xf4              /* denied: would end the run with status 15 */
	movw	$0x3fd, %dx
	inb	%dx, %al                /* allowed */
	inw	%dx, %ax                /* 0x3fd allowed, 0x3fe denied */
	movw	$0x500, %dx
	inb	%dx, %al                /* beyond the TSS limit */
	movw	$OFF(msg0b), %si
	call	puts
	hlt

/* At IOPL 3: CLI/STI/PUSHF/POPF run, INT n reaches ring 0, IRET stays here. */
v86_iopl3:
	movw	$OFF(msg3), %si
	call	puts
	cli
	pushfw
	popw	0
	sti
	pushfw
	popw	2
	pushw	$0
	popfw
	pushfw
	popw	4
	movw	$0x1234, %ax
	int	$0x30
	movw	%ax, 6
	movw	%ds, 8
	movw	%sp, 10
	pushfw
	pushw	%cs
	pushw	$OFF(1f)
	iret
1:	movw	$0xaaaa, 12
	movb	$7, %al
	outb	%al, $0xf4              /* the bitmap still rules at IOPL 3 */
	movw	$OFF(msg3b), %si
	call	puts
	hlt

/* Writes the string at CS:SI to COM1, polling its line status. */
puts:
	movb	%cs:(%si), %bl
	testb	%bl, %bl
	jz	2f
	movw	$0x3fd, %dx
1:	inb	%dx, %al
	testb	$0x20, %al
	jz	1b
	movw	$0x3f8, %dx
	movb	%bl, %al
	outb	%al, %dx
	incw	%si
	jmp	puts
2:	ret

msg0:	.asciz	"v86: 8086 code at IOPL 0 writes COM1 through the I/O bitmap\n"
msg0b:	.asciz	"v86: 8086 code at IOPL 0 done\n"
msg3:	.asciz	"v86: 8086 code at IOPL 3\n"
msg3b:	.asciz	"v86: 8086 code at IOPL 3 done\n"
v86_end:

/*
 * The 16-bit tasks run with CS based at their code, DS at struct t16
 * (tss16.c) and a 16-bit stack.  Task A counts its runs, keeps its FLAGS
 * and TR, leaves marks in AX and BX and goes back by IRET (NT).
 */
	.text
	.globl	task16_a, task16_b
task16_a:
	incw	0
	pushfw
	popw	2
	str	4
	movw	$0xbeef, %ax
	movw	$0x1111, %bx
	iret
	jmp	task16_a

/*
 * Task B: #GP through an IDT task gate; the 16-bit error code is on its
 * stack.  ES is the main TSS: the interrupted EIP there skips the 2-byte
 * faulting MOV.
 */
task16_b:
	movw	%sp, 10
	popw	6
	incw	8
	addl	$2, %es:0x20
	iret
	jmp	task16_b

	.code32
