/*
 * First code of every thread made by thread_create (user/lib/thread.c). The
 * kernel enters with rdi = the struct thread_start at the top of the new
 * stack; the stack pointer is realigned here, so its exact value does not
 * matter. Calls fn(arg), then SYS_thread_exit with fn's return value.
 */
#include <arch/asm.h>
#include <uapi/kestrel/syscall.h>
#include "thread.h"

	.text
BEGIN_FUNC(thread_entry)
	xorl	%ebp, %ebp		/* outermost frame */
	andq	$-16, %rsp		/* SysV: 16-byte aligned before a call */
	movq	THREAD_START_FN(%rdi), %rax
	movq	THREAD_START_ARG(%rdi), %rdi
	call	*%rax
	movq	%rax, %rdi		/* the join value */
	movl	$SYS_thread_exit, %eax
	syscall
	ud2				/* SYS_thread_exit does not return */
END_FUNC(thread_entry)

	.section .note.GNU-stack, "", @progbits
