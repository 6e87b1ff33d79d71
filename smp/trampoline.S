/*
 * AP start-up trampoline: real mode -> protected mode -> long mode (Intel
 * SDM vol. 3, 9.9; MP spec B.4). A SIPI starts the AP at CS = page >> 4,
 * IP = 0. Position independent: the AP computes its base from CS and fixes
 * up its own GDT pointer and far-jump targets, so the BSP patches nothing;
 * it only fills struct trampoline_params (include/arch/trampoline.h).
 */
#include <arch/asm.h>
#include <arch/msr.h>
#include <arch/trampoline.h>

#define CR0_PE_BIT      (1 << 0)
#define CR0_WP_BIT      (1 << 16)
#define CR0_PG_BIT      (1 << 31)
#define CR4_PAE_BIT     (1 << 5)
#define OFF(sym)        ((sym) - trampoline_start)
#define PARAM(field)    (TRAMPOLINE_PARAMS_OFFSET + (field))

	.section .rodata.trampoline, "a"
	.balign 4096
	.globl trampoline_start
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movw %ax, %ss
	movzwl %ax, %ebx
	shll $4, %ebx                   /* EBX = physical base of this page */

	leal OFF(tr_gdt)(%ebx), %eax
	movl %eax, OFF(tr_gdtr) + 2
	leal OFF(tr_pm32)(%ebx), %eax
	movl %eax, OFF(tr_far32)
	leal OFF(tr_lm64)(%ebx), %eax
	movl %eax, OFF(tr_far64)

	lgdtl OFF(tr_gdtr)
	movl %cr0, %eax
	orl $CR0_PE_BIT, %eax
	movl %eax, %cr0
	ljmpl *OFF(tr_far32)

	.code32
tr_pm32:
	movw $TRAMP_SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $CR4_PAE_BIT, %eax
	movl %eax, %cr4
	movl PARAM(TP_CR3)(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	testl $TP_FLAG_NX, PARAM(TP_FLAGS)(%ebx)
	jz 1f
	orl $EFER_NXE, %eax
1:	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG_BIT | CR0_WP_BIT), %eax
	movl %eax, %cr0
	ljmpl *OFF(tr_far64)(%ebx)

	.code64
tr_lm64:
	movw $TRAMP_SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %ebx, %ebx
	movq PARAM(TP_STACK)(%rbx), %rsp
	movq PARAM(TP_CPU)(%rbx), %rdi
	movq PARAM(TP_ENTRY)(%rbx), %rax
	xorl %ebp, %ebp
	pushq $0                        /* no return address: backtraces end here */
	movl $1, PARAM(TP_STARTED)(%rbx)        /* the page may be reused now */
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF        /* TRAMP_SEL_CODE32 */
	.quad 0x00CF92000000FFFF        /* TRAMP_SEL_DATA */
	.quad 0x00AF9A000000FFFF        /* TRAMP_SEL_CODE64 */
tr_gdt_end:
tr_gdtr:
	.short tr_gdt_end - tr_gdt - 1
	.long 0                         /* base: filled in by the AP */
tr_far32:
	.long 0
	.short TRAMP_SEL_CODE32
tr_far64:
	.long 0
	.short TRAMP_SEL_CODE64

	/* Fails to assemble if the code grows into the parameter block. */
	.org trampoline_start + TRAMPOLINE_PARAMS_OFFSET, 0
	.skip TP_SIZE
	.globl trampoline_end
trampoline_end:
