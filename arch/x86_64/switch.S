/*
 * Kernel context switch: save the callee-saved registers on the old
 * task's stack, switch stacks, restore the new task's. Everything else
 * (CR3, TSS.RSP0, FPU state) is done in C around it (sched/sched.c).
 */
#include <arch/asm.h>
#include <kernel/sched.h>

	.text
/* struct task *context_switch(struct task *prev, struct task *next): returns prev, in next */
BEGIN_FUNC(context_switch)
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, TASK_OFF_SAVED_RSP(%rdi)
	movq TASK_OFF_SAVED_RSP(%rsi), %rsp
	movq %rdi, %rax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
END_FUNC(context_switch)

/*
 * A new task's first "return" from context_switch lands here, with the
 * task we switched from in RAX (see task_stack_init in sched/task.c).
 */
BEGIN_FUNC(task_trampoline)
	xorl %ebp, %ebp
	pushq %rbp                      /* a zero frame ends backtraces */
	movq %rsp, %rbp
	movq %rax, %rdi
	call sched_finish_switch
	call task_entry
	ud2                             /* task_entry does not return */
END_FUNC(task_trampoline)
