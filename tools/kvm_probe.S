/*
 * The accelerator probe (tools/accel.py): a one-sector boot disk that asks
 * of KVM what the kernel will ask of it in its first milliseconds. It goes
 * from real mode straight to long mode (SDM vol. 3, 9.8.5: PAE, LME, then
 * PE and PG in one CR0 write), runs x87 and SSE instructions (fninit,
 * ldmxcsr, fxsave, an x87 and an SSE add whose results are checked) and
 * CPUID, then writes a verdict to isa-debug-exit. A host whose KVM cannot
 * emulate one of these stops the guest ("KVM internal error") or never
 * reaches the exit; tools/accel.py then picks TCG.
 */
#define PROBE_ADDR              0x7C00
#define STACK_TOP               0x7C00
#define PML4_ADDR               0x1000  /* PML4, PDPT, PD: three pages */
#define PDPT_ADDR               0x2000
#define PD_ADDR                 0x3000
#define TABLE_DWORDS            (3 * 4096 / 4)
#define FXSAVE_ADDR             0x5000  /* 512 bytes, 16-byte aligned */
#define PTE_PRESENT_WRITE       0x003
#define PDE_2MIB_PAGE           0x083   /* present, writable, page size */

#define CR0_PE                  (1 << 0)
#define CR0_MP                  (1 << 1)
#define CR0_EM                  (1 << 2)
#define CR0_PG                  (1 << 31)
#define CR4_PAE                 (1 << 5)
#define CR4_OSFXSR              (1 << 9)
#define CR4_OSXMMEXCPT          (1 << 10)
#define MSR_EFER                0xC0000080
#define   EFER_LME              (1 << 8)
#define SYSCTL_PORT_A           0x92    /* bit 1: fast A20 */
#define   PORT_A_A20            0x02
#define MXCSR_DEFAULT           0x1F80  /* all exceptions masked */
#define CPUID_FEATURES          1
#define   CPUID_EDX_FXSR        (1 << 24)
#define   CPUID_EDX_SSE2        (1 << 26)

/* Must match PROBE_PASS/PROBE_FAIL in tools/accel.py: QEMU exits (v << 1) | 1. */
#define DEBUG_EXIT_PORT         0xF4
#define PROBE_PASS              0x2A
#define PROBE_FAIL              0x2B

#define SEL_CODE64              0x08
#define SEL_DATA                0x10

	.code16
	.section .text, "ax"
	.globl probe_start
probe_start:
	ljmp $0, $real_mode             /* CS = 0, whatever the BIOS used */
real_mode:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $STACK_TOP, %sp
	cld

	inb $SYSCTL_PORT_A, %al
	orb $PORT_A_A20, %al
	outb %al, $SYSCTL_PORT_A

	/* Identity-map the first 2 MiB with one large page. */
	movw $PML4_ADDR, %di
	movw $TABLE_DWORDS, %cx
	xorl %eax, %eax
	rep stosl
	movl $(PDPT_ADDR | PTE_PRESENT_WRITE), PML4_ADDR
	movl $(PD_ADDR | PTE_PRESENT_WRITE), PDPT_ADDR
	movl $PDE_2MIB_PAGE, PD_ADDR

	movl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $PML4_ADDR, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	lgdtl gdt_desc
	movl %cr0, %eax
	andl $~CR0_EM, %eax
	orl $(CR0_PE | CR0_MP | CR0_PG), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $long_mode

	.code64
long_mode:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	movl $CPUID_FEATURES, %eax
	cpuid
	andl $(CPUID_EDX_FXSR | CPUID_EDX_SSE2), %edx
	cmpl $(CPUID_EDX_FXSR | CPUID_EDX_SSE2), %edx
	jne fail

	/* What fpu_init_cpu() does first, and what OVMF does too. */
	fninit
	ldmxcsr mxcsr
	fxsave FXSAVE_ADDR
	cmpl $MXCSR_DEFAULT, FXSAVE_ADDR + 24    /* fxsave image: MXCSR at 24 */
	jne fail

	/* 1 + 1 on the x87 stack, 2 + 3 in an XMM register. */
	fld1
	fld1
	faddp
	fistpl scratch
	cmpl $2, scratch
	jne fail
	movl $2, %eax
	cvtsi2sd %eax, %xmm0
	movl $3, %eax
	cvtsi2sd %eax, %xmm1
	addsd %xmm1, %xmm0
	cvtsd2si %xmm0, %eax
	cmpl $5, %eax
	jne fail

	movb $PROBE_PASS, %al
	outb %al, $DEBUG_EXIT_PORT
	jmp halt
fail:
	movb $PROBE_FAIL, %al
	outb %al, $DEBUG_EXIT_PORT
halt:
	hlt
	jmp halt

	.balign 4
mxcsr:
	.long MXCSR_DEFAULT
scratch:
	.long 0
	.balign 8
gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF        /* 0x10: data, DPL 0 */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.org 510
	.byte 0x55, 0xAA                /* boot signature */
