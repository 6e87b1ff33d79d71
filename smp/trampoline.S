/*
 * AP start-up trampoline: real mode -> protected mode -> long mode (Intel
 * SDM vol. 3, 9.9; MP spec B.4). A SIPI starts the AP at CS = page >> 4,
 * IP = 0. Position independent: the AP computes its base from CS and fixes
 * up its own GDT pointer and far-jump targets, so the BSP patches nothing;
 * it only fills struct trampoline_params and one struct ap_boot per AP
 * (include/arch/trampoline.h). Every AP of a wave runs this page at once:
 * the only stores before long mode are the same values to the same
 * places, and each AP takes its own stack from the block with its APIC id.
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
	movl %ebx, %r8d                 /* R8 = page base (CPUID clobbers EBX) */

	/* This AP's APIC id: CPUID 0xB EDX (x2APIC id) or CPUID 1 EBX[31:24]. */
	testl $TP_FLAG_X2APIC_ID, PARAM(TP_FLAGS)(%r8)
	jz 1f
	movl $CPUID_LEAF_TOPOLOGY, %eax
	xorl %ecx, %ecx
	cpuid
	movl %edx, %r9d
	jmp 2f
1:	movl $CPUID_LEAF_FEATURES, %eax
	cpuid
	shrl $CPUID_1_APIC_ID_SHIFT, %ebx
	movl %ebx, %r9d

	/* Its struct ap_boot: the one with that id (or the only one, TP_FLAG_ANY). */
2:	movq PARAM(TP_TABLE)(%r8), %rdi
	movl PARAM(TP_COUNT)(%r8), %ecx
	testl %ecx, %ecx
	jz tr_lost
	testl $TP_FLAG_ANY, PARAM(TP_FLAGS)(%r8)
	jnz tr_found
3:	cmpl AB_APIC_ID(%rdi), %r9d
	je tr_found
	addq $AB_SIZE, %rdi
	decl %ecx
	jnz 3b
tr_lost:
	lock incl PARAM(TP_LOST)(%r8)   /* counted for the boot CPU's report */
4:	cli
	hlt
	jmp 4b

tr_found:
	movq AB_STACK(%rdi), %rsp
	movq PARAM(TP_ENTRY)(%r8), %rax
	xorl %ebp, %ebp
	pushq $0                        /* no return address: backtraces end here */
	jmp *%rax                       /* ap_entry(struct ap_boot *) */

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
