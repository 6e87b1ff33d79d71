/*
 * Process entry. The kernel starts a program here with the stack of
 * user/README.md "Process start state": rsp -> argc, argv[0..argc-1], NULL,
 * envp NULL, strings above; rsp 16-byte aligned; other registers zero.
 */
#include <arch/asm.h>
#include <uapi/kestrel/syscall.h>

	.section .text.start, "ax", @progbits
BEGIN_FUNC(_start)
	xorl	%ebp, %ebp		/* outermost frame: backtraces stop here */
	movq	(%rsp), %rdi		/* argc */
	leaq	8(%rsp), %rsi		/* argv */
	leaq	8(%rsi,%rdi,8), %rdx	/* envp: just past argv[argc] == NULL */
	andq	$-16, %rsp		/* SysV: aligned before the call, whatever we were given */
	call	main
	movl	%eax, %edi
	call	exit
	ud2				/* exit does not return */
END_FUNC(_start)

	.section .note.GNU-stack, "", @progbits
