/*
 * Stage 2, assembly part: the header sector, the 16-bit entry that enters
 * 32-bit protected mode and calls loader_main(), the real-mode BIOS call
 * thunk bios_int(), and the final switch to long mode (Intel SDM vol. 3,
 * 9.9 "Mode switching" and 9.8.5 "Initializing IA-32e mode").
 */
#include <arch/asm.h>
#include <arch/msr.h>
#include <boot/boot_info.h>
#include <boot/loader.h>

#define CR0_PE_BIT              (1 << 0)
#define CR0_PG_BIT              (1 << 31)
#define CR4_PAE_BIT             (1 << 5)
#define REAL_MODE_IVT_LIMIT     0x3FF   /* 256 vectors x 4 bytes at 0 */

/* Flat descriptors (SDM vol. 3, 3.4.5): base 0; G = 4 KiB units, D = 32-bit, L = 64-bit. */
#define GDT_CODE32              0x00CF9A000000FFFF      /* limit 4 GiB, exec/read */
#define GDT_DATA32              0x00CF92000000FFFF      /* limit 4 GiB, read/write */
#define GDT_CODE16              0x00009A000000FFFF      /* limit 64 KiB: real-mode compatible */
#define GDT_DATA16              0x000092000000FFFF
#define GDT_CODE64              0x00AF9A000000FFFF      /* L = 1, D = 0 */

/*
 * The header sector. Stage 1 checks the magic and loads `sectors` sectors;
 * tools/mkimage.py fills the table after the first 8 bytes (loader.h).
 */
	.section .stage2.header, "a"
	.globl stage2_header
	.type stage2_header, @object
stage2_header:
	.long STAGE2_MAGIC
	.word stage2_sectors            /* boot/boot.ld: loaded image size */
	.word STAGE2_HDR_VERSION
	.fill STAGE2_HDR_SIZE - (. - stage2_header), 1, 0
	.size stage2_header, . - stage2_header

/* Stage 1 jumps here (0:STAGE2_ENTRY_ADDR) with DL = boot drive. */
	.section .text16, "ax"
	.code16
BEGIN_FUNC(stage2_entry16)
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $BOOT_STACK_TOP, %esp
	cld
	movb %dl, boot_drive
	lgdtl gdt_desc
	movl %cr0, %eax
	orl $CR0_PE_BIT, %eax
	movl %eax, %cr0
	ljmpl $BOOT_SEL_CODE32, $stage2_entry32
END_FUNC(stage2_entry16)

	.text
	.code32
BEGIN_LOCAL_FUNC(stage2_entry32)
	movw $BOOT_SEL_DATA32, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $BOOT_STACK_TOP, %esp
	/* .bss is not on disk, and the BIOS left whatever it left there. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movzbl boot_drive, %eax
	pushl %eax
	call loader_main
1:	cli
	hlt
	jmp 1b
END_FUNC(stage2_entry32)

/*
 * void bios_int(uint32_t vector, struct bios_regs *regs)
 *
 * Runs one BIOS service in real mode and comes back to protected mode.
 * A round trip per call instead of unreal mode because BIOS services (USB
 * and AHCI disk emulation, SMM, APM) may reload segment registers or switch
 * modes themselves, which silently ends unreal mode; this way the C code
 * always runs in plain 32-bit protected mode and copies bounce-buffer
 * chunks above 1 MiB with an ordinary memcpy.
 * Interrupts stay off in protected mode (there is no IDT); in real mode the
 * BIOS gets its IVT back and interrupts on for the call.
 */
BEGIN_FUNC(bios_int)
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %eax
	movl (, %eax, 4), %eax          /* IVT entry (4 bytes): offset, segment */
	movl %eax, bios_vector
	movl 24(%esp), %esi
	movl $bios_regs_rm, %edi        /* real mode can only reach < 64 KiB */
	movl $(BIOS_REGS_SIZE / 4), %ecx
	rep movsl
	/* 16-bit segments first, so real mode starts with 64 KiB limits. */
	ljmpl $BOOT_SEL_CODE16, $bios_int_pm16
END_FUNC(bios_int)

	.section .text16, "ax"
	.code16
BEGIN_LOCAL_FUNC(bios_int_pm16)
	movw $BOOT_SEL_DATA16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl %cr0, %eax
	andl $~CR0_PE_BIT, %eax
	movl %eax, %cr0
	ljmp $0, $bios_int_real
bios_int_real:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss                   /* SP = our ESP, which is below 64 KiB */
	lidtl real_mode_idt
	movw bios_regs_rm + BIOS_REGS_ES, %ax
	movw %ax, %es
	pushw bios_regs_rm + BIOS_REGS_DS
	movl bios_regs_rm + BIOS_REGS_EAX, %eax
	movl bios_regs_rm + BIOS_REGS_EBX, %ebx
	movl bios_regs_rm + BIOS_REGS_ECX, %ecx
	movl bios_regs_rm + BIOS_REGS_EDX, %edx
	movl bios_regs_rm + BIOS_REGS_ESI, %esi
	movl bios_regs_rm + BIOS_REGS_EDI, %edi
	movl bios_regs_rm + BIOS_REGS_EBP, %ebp
	popw %ds
	/* INT n by hand (no self-modifying code): FLAGS with IF = 1, then far call. */
	sti
	pushfw
	cli
	lcallw *%cs:bios_vector
	cli
	/* DS may be anything now: store through CS (= 0). */
	movl %eax, %cs:bios_regs_rm + BIOS_REGS_EAX
	movl %ebx, %cs:bios_regs_rm + BIOS_REGS_EBX
	movl %ecx, %cs:bios_regs_rm + BIOS_REGS_ECX
	movl %edx, %cs:bios_regs_rm + BIOS_REGS_EDX
	movl %esi, %cs:bios_regs_rm + BIOS_REGS_ESI
	movl %edi, %cs:bios_regs_rm + BIOS_REGS_EDI
	movl %ebp, %cs:bios_regs_rm + BIOS_REGS_EBP
	movw %ds, %cs:bios_regs_rm + BIOS_REGS_DS
	movw %es, %cs:bios_regs_rm + BIOS_REGS_ES
	pushfl
	popl %cs:bios_regs_rm + BIOS_REGS_EFLAGS
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl gdt_desc                  /* in case the BIOS loaded its own */
	movl %cr0, %eax
	orl $CR0_PE_BIT, %eax
	movl %eax, %cr0
	ljmpl $BOOT_SEL_CODE32, $bios_int_pm32
END_FUNC(bios_int_pm16)

	.text
	.code32
BEGIN_LOCAL_FUNC(bios_int_pm32)
	movw $BOOT_SEL_DATA32, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movzwl %sp, %esp                /* a BIOS may leave junk in ESP[31:16] */
	cld
	movl $bios_regs_rm, %esi
	movl 24(%esp), %edi
	movl $(BIOS_REGS_SIZE / 4), %ecx
	rep movsl
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
END_FUNC(bios_int_pm32)

/*
 * void boot_enter_long_mode(uint32_t pml4, uint32_t boot_info,
 *                           uint32_t entry_lo, uint32_t entry_hi)
 * SDM vol. 3 9.8.5: CR4.PAE, CR3, EFER.LME, then CR0.PG activates IA-32e
 * mode; a far jump to a 64-bit code segment leaves compatibility mode.
 * Then the kernel contract: EDI = KESTREL_LOADER_MAGIC, ESI = boot_info.
 */
BEGIN_FUNC(boot_enter_long_mode)
	cli
	movl 4(%esp), %eax
	movl 8(%esp), %esi
	movl 12(%esp), %ebx
	movl 16(%esp), %ebp
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE_BIT, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG_BIT, %eax
	movl %eax, %cr0
	ljmpl $BOOT_SEL_CODE64, $long_mode64

	.code64
long_mode64:
	movw $BOOT_SEL_DATA32, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	/* Register upper halves are undefined after the switch: 32-bit moves clear them. */
	movl %ebx, %ebx
	movl %ebp, %ebp
	shlq $32, %rbp
	orq %rbp, %rbx
	movl %esi, %esi
	movl $KESTREL_LOADER_MAGIC, %edi
	movl $BOOT_STACK_TOP, %esp
	xorl %ebp, %ebp
	jmp *%rbx
END_FUNC(boot_enter_long_mode)

/* Data real mode must reach (DS = 0): below 64 KiB, checked in boot.ld. */
	.section .data16, "aw"
	.balign 8
gdt:
	.quad 0
gdt_code32:	.quad GDT_CODE32
gdt_data32:	.quad GDT_DATA32
gdt_code16:	.quad GDT_CODE16
gdt_data16:	.quad GDT_DATA16
gdt_code64:	.quad GDT_CODE64
gdt_end:
	.if (gdt_code32 - gdt != BOOT_SEL_CODE32) || (gdt_data32 - gdt != BOOT_SEL_DATA32) || \
	    (gdt_code16 - gdt != BOOT_SEL_CODE16) || (gdt_data16 - gdt != BOOT_SEL_DATA16) || \
	    (gdt_code64 - gdt != BOOT_SEL_CODE64)
	.error "GDT order does not match the BOOT_SEL_* selectors in loader.h"
	.endif
	.balign 4
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
real_mode_idt:
	.word REAL_MODE_IVT_LIMIT
	.long 0
bios_vector:
	.long 0                         /* IVT entry of the current bios_int */
bios_regs_rm:
	.fill BIOS_REGS_SIZE, 1, 0
boot_drive:
	.byte 0

	.section .note.GNU-stack, "", @progbits
