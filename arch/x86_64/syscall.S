/*
 * SYSCALL entry (Intel SDM vol. 2B SYSCALL; vol. 3 5.8.8): swapgs, switch
 * to the task's kernel stack from struct cpu, build a struct trap_frame
 * like an interrupt's, and call syscall_dispatch(). Return with SYSRET,
 * except when the return RIP is not canonical: SYSRET would then fault
 * in ring 0 on the user's stack (the Intel SYSRET hazard), so IRETQ is
 * used, which faults, if at all, in ring 3.
 */
#include <arch/asm.h>
#include <arch/gdt.h>
#include <arch/trap.h>
#include <kernel/cpu.h>

#define SYSCALL_VECTOR  0x100   /* trap_frame.vector of a system call: no IDT vector */
#define CANONICAL_SHIFT 47

	.text
BEGIN_FUNC(syscall_entry)
	swapgs
	movq %rsp, %gs:CPU_OFF_USER_RSP
	movq %gs:CPU_OFF_KERNEL_RSP, %rsp
	pushq $SEL_UDATA                /* ss */
	pushq %gs:CPU_OFF_USER_RSP      /* rsp */
	pushq %r11                      /* rflags */
	pushq $SEL_UCODE                /* cs */
	pushq %rcx                      /* rip */
	pushq $0                        /* error */
	pushq $SYSCALL_VECTOR
	PUSH_GPRS
	cld
	movq TF_RIP(%rsp), %rax
	pushq %rax
	pushq %rbp
	movq %rsp, %rbp
	sti
	leaq 16(%rsp), %rdi
	call syscall_dispatch
	cli
	addq $16, %rsp
	/* The frame may have been changed (thread start, signals): check RIP. */
	movq TF_RIP(%rsp), %rcx
	movq %rcx, %rax
	sarq $CANONICAL_SHIFT, %rax
	jnz syscall_return_iret
	POP_GPRS
	movq TF_RIP - TF_VECTOR(%rsp), %rcx
	movq TF_RFLAGS - TF_VECTOR(%rsp), %r11
	movq TF_RSP - TF_VECTOR(%rsp), %rsp
	swapgs
	sysretq
syscall_return_iret:
	movl $1, %r12d                  /* trap_return swaps GS back, then pops r12 */
	jmp trap_return
END_FUNC(syscall_entry)

/* void user_enter(struct trap_frame *tf): first entry of a task into ring 3. */
BEGIN_FUNC(user_enter)
	movq %rdi, %rsp
	movl $1, %r12d                  /* trap_return swaps GS, then pops r12 */
	jmp trap_return
END_FUNC(user_enter)
