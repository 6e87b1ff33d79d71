/*
 * Entry stubs for all 256 IDT vectors and the common path that saves a
 * struct trap_frame (include/arch/trap.h) and calls trap_dispatch().
 * Vectors 8, 10-14, 17, 21, 29, 30 get an error code from the CPU
 * (SDM vol. 3, 6.13); the others push a 0 so the frame is uniform.
 */
#include <arch/asm.h>
#include <arch/msr.h>
#include <arch/trap.h>

#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
			   (v) == 21 || (v) == 29 || (v) == 30)
#define STUB_ALIGN 16

	.text
BEGIN_LOCAL_FUNC(trap_common)
	PUSH_GPRS
	cld
	/*
	 * GS: from ring 3 the user's GS base is live, swap in the kernel's.
	 * NMI, #DF and #MC can also hit in kernel mode between SYSCALL and its
	 * swapgs, so for them the GS base itself decides (a kernel one is
	 * negative). R12 remembers whether to swap back; it is restored from
	 * the frame at the end anyway.
	 */
	xorl %r12d, %r12d
	testb $3, TF_CS(%rsp)
	jnz 1f
	cmpq $T_NMI, TF_VECTOR(%rsp)
	je 2f
	cmpq $T_DF, TF_VECTOR(%rsp)
	je 2f
	cmpq $T_MC, TF_VECTOR(%rsp)
	jne 3f
2:	movl $MSR_GS_BASE, %ecx
	rdmsr
	testl %edx, %edx
	js 3f
1:	swapgs
	movl $1, %r12d
3:
	/* Make the interrupted frame the caller's frame so backtraces cross traps. */
	movq TF_RIP(%rsp), %rax
	pushq %rax
	pushq %rbp
	movq %rsp, %rbp
	leaq 16(%rsp), %rdi
	call trap_dispatch
	addq $16, %rsp
	/* From here on this is also how a new user task first enters ring 3. */
	.globl trap_return
trap_return:
	testl %r12d, %r12d
	jz 1f
	swapgs
1:	POP_GPRS
	addq $16, %rsp          /* vector and error code */
	iretq
END_FUNC(trap_common)

	.balign STUB_ALIGN
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept IDT_VECTORS
1:	.if HAS_ERROR_CODE(vec) == 0
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.org 1b + STUB_ALIGN, 0xCC      /* fails to assemble if a stub outgrows it */
	.set vec, vec + 1
	.endr
	.globl trap_stubs_end
trap_stubs_end:

