/* SPDX-License-Identifier: Apache-2.0 */
/* Entry points of the tasks guest that must be assembly: gate targets, ring 3 code, task bodies. */
	.code32
	.text

/* 0x68: call gate to the same level. */
	.globl	gate_same
gate_same:
	movw	%cs, same_cs
	movl	4(%esp), %eax
	movl	%eax, same_ret_cs
	lret

/* 0x38: call gate from ring 3, two parameters copied: keep the frame as it arrived. */
	.globl	gate_inner
gate_inner:
	pushl	%esi
	pushl	%edi
	pushl	%ecx
	leal	12(%esp), %esi
	movl	$inner_frame, %edi
	movl	$6, %ecx
	rep movsl
	movw	%cs, inner_cs
	movw	%ss, inner_ss
	movl	%esp, inner_esp
	popl	%ecx
	popl	%edi
	popl	%esi
	lret	$8

/* 0x78: call gate back to the kernel: continue where enter_user was called. */
	.globl	gate_exit
gate_exit:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	kernel_esp, %esp
	popal
	ret

/* void enter_user(void): run user_code in ring 3 until it calls gate 0x78. */
	.globl	enter_user
enter_user:
	pushal
	movl	%esp, kernel_esp
	pushl	$0x23
	pushl	$user_stack_top
	pushl	$0x2
	pushl	$0x1b
	pushl	$user_code
	iret

/* Ring 3: a call with two parameters through gate 0x38, then gates it may not use. */
user_code:
	movl	$0x23, %eax
	movl	%eax, %ds
	movl	%eax, %es
	pushl	$0x1111
	pushl	$0x2222
	lcall	$0x3b, $0
	movl	%esp, user_esp_after
	movw	%cs, user_cs_after
	.globl	user_gp_insn
user_gp_insn:
	lcall	$0x5b, $0               /* gate DPL 0: #GP(0x58) */
	.globl	user_np_insn
user_np_insn:
	lcall	$0x63, $0               /* not present: #NP(0x60) */
	lcall	$0x7b, $0

/* Task A: counts its runs and goes back by IRET (NT set) or by JMP to the main TSS. */
	.globl	task_a
task_a:
	incl	a_runs
	pushfl
	popl	a_eflags
	str	a_tr
	cmpl	$0, a_jmp_back
	jne	1f
	iret
	jmp	task_a
1:	ljmp	$0x28, $0
	jmp	task_a

/* Task B: an INT through a task gate. */
	.globl	task_b
task_b:
	incl	b_runs
	pushfl
	popl	b_eflags
	iret
	jmp	task_b

/* Task C: #GP through a task gate; the error code is on this task's stack.
 * Skips the 2-byte faulting MOV in the interrupted task's saved EIP. */
	.globl	task_c
task_c:
	popl	c_error
	incl	c_runs
	addl	$2, tss_main + 0x20
	iret
	jmp	task_c

	.bss
	.align	16
	.skip	4096
user_stack_top:
