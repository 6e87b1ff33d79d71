/*
 * The fiber context switch (user/lib/fiber.c): fiber_switch(save, next)
 * pushes what the SysV AMD64 ABI makes callee-saved -- rbx, rbp, r12-r15,
 * MXCSR's control bits and the x87 control word (ABI 3.2.1, 3.2.3) -- in
 * the frame of fiber_switch.h, stores rsp at *save, loads next and pops
 * the frame found there (loading MXCSR and the control word only when
 * they differ from the ones being left). Everything else is caller-saved, so the C caller
 * has already spilled what it needs. rdi = save, rsi = next.
 */
#include <arch/asm.h>
#include "fiber_switch.h"

	.text
BEGIN_FUNC(fiber_switch)
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$(FRAME_R15 - FRAME_MXCSR), %rsp
	stmxcsr	FRAME_MXCSR(%rsp)
	fnstcw	FRAME_FPUCW(%rsp)
	movl	FRAME_MXCSR(%rsp), %eax	/* rax, rcx: caller-saved scratch */
	movzwl	FRAME_FPUCW(%rsp), %ecx
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	/* Loading a control register is slow; fibers rarely change them. */
	cmpl	FRAME_MXCSR(%rsp), %eax
	je	1f
	ldmxcsr	FRAME_MXCSR(%rsp)
1:	cmpw	FRAME_FPUCW(%rsp), %cx
	je	2f
	fldcw	FRAME_FPUCW(%rsp)
2:	addq	$(FRAME_R15 - FRAME_MXCSR), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
END_FUNC(fiber_switch)

/* Reached by fiber_switch's ret with r12 = the new struct fiber. */
BEGIN_FUNC(fiber_trampoline)
	xorl	%ebp, %ebp		/* outermost frame */
	movq	%r12, %rdi
	andq	$-16, %rsp		/* SysV: 16-byte aligned before a call */
	call	fiber_main
	ud2				/* fiber_main does not return */
END_FUNC(fiber_trampoline)

	.section .note.GNU-stack, "", @progbits
