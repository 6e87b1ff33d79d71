/*
 * kernel_entry64: where both boot paths enter the kernel in long mode
 * (contract in include/boot/boot_info.h). Also emits the ELF note through
 * which our loader finds this entry.
 */
#include <arch/asm.h>
#include <arch/stack.h>
#include <boot/boot_info.h>

	.section .text.entry, "ax"
	.code64
/* EDI = boot magic, ESI = physical address of the boot information. */
BEGIN_FUNC(kernel_entry64)
	cli
	cld
	movabsq $static_stacks + (STATIC_STACK_BOOT + 1) * STATIC_STACK_STRIDE, %rsp
	xorl %ebp, %ebp                 /* backtraces stop at a zero frame */
	movl %edi, %edi
	movl %esi, %esi
	call arch_boot_entry
1:	cli
	hlt
	jmp 1b
END_FUNC(kernel_entry64)

	.section .note.kestrel, "a", @note
	.balign 4
	.long 2f - 1f                   /* namesz */
	.long 4f - 3f                   /* descsz */
	.long KESTREL_NOTE_ENTRY64
1:	.asciz KESTREL_NOTE_NAME
2:	.balign 4
3:	.quad kernel_entry64
4:	.balign 4

	/* [guard][stack] x STATIC_STACK_COUNT; guards stay unmapped (mm/vmm.c). */
	.section .bss.stacks, "aw", @nobits
	.balign 4096
	.globl static_stacks
static_stacks:
	.skip STATIC_STACK_STRIDE * STATIC_STACK_COUNT
