/*
 * Multiboot2 header and the 32-bit entry stub GRUB jumps to (Multiboot2
 * spec 3.1, i386 machine state): check for long mode, build the boot page
 * tables, enable PAE + EFER.LME + paging and enter kernel_entry64 with the
 * same contract as our own loader (include/boot/boot_info.h).
 */
#include <arch/asm.h>
#include <arch/msr.h>
#include <boot/boot_info.h>

#define MB2_HEADER_MAGIC        0xE85250D6
#define MB2_ARCH_I386           0
#define MB2_TAG_END             0
#define MB2_TAG_INFO_REQUEST    1
#define MB2_TAG_FRAMEBUFFER     5       /* header tag: ask for a linear graphics mode */
#define MB2_TAG_OPTIONAL        1       /* flags: boot even if unsupported */
/*
 * The framebuffer we ask for (Multiboot2 spec 3.1.10): 0 x 0 = the loader's
 * choice of size (GRUB: the firmware's preferred GOP or VBE mode), 32 bpp
 * preferred. Optional: GRUB boots us in text mode when it has no such mode.
 */
#define MB2_FB_WIDTH            0
#define MB2_FB_HEIGHT           0
#define MB2_FB_DEPTH            32
/* Boot information tag types we ask for (Multiboot2 spec 3.6). */
#define MBI_CMDLINE             1
#define MBI_LOADER_NAME         2
#define MBI_MODULE              3
#define MBI_MMAP                6
#define MBI_FRAMEBUFFER         8
#define MBI_ACPI_OLD            14
#define MBI_ACPI_NEW            15

#define PAGE_SIZE               4096
#define PTE_P                   0x1
#define PTE_W                   0x2
#define PTE_PS                  0x80    /* 2 MiB page in a PD entry */
#define BOOT_PD_COUNT           4       /* 4 x 1 GiB = identity [0, 4 GiB) */
#define PD_ENTRIES              512
#define PML4_HIGH_SLOT          511     /* 0xFFFFFF80_00000000 */
#define PDPT_KERNEL_SLOT        510     /* 0xFFFFFFFF_80000000 */
#define EFLAGS_ID               (1 << 21)
#define CPUID_EXT_MAX           0x80000000
#define CPUID_EXT_FEATURES      0x80000001
#define CPUID_EDX_LM            (1 << 29)
#define CR0_PG_BIT              (1 << 31)
#define CR4_PAE_BIT             (1 << 5)
#define SEL_BOOT_CODE64         0x08
#define SEL_BOOT_DATA           0x10
#define COM1                    0x3F8
#define VGA_TEXT                0xB8000
#define VGA_ATTR                0x4F00  /* white on red */

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
mb2_info_request:
	.short MB2_TAG_INFO_REQUEST
	.short MB2_TAG_OPTIONAL
	.long mb2_info_request_end - mb2_info_request
	.long MBI_CMDLINE, MBI_LOADER_NAME, MBI_MODULE, MBI_MMAP
	.long MBI_FRAMEBUFFER, MBI_ACPI_OLD, MBI_ACPI_NEW
mb2_info_request_end:
	.balign 8
mb2_framebuffer_request:
	.short MB2_TAG_FRAMEBUFFER
	.short MB2_TAG_OPTIONAL
	.long mb2_framebuffer_request_end - mb2_framebuffer_request
	.long MB2_FB_WIDTH, MB2_FB_HEIGHT, MB2_FB_DEPTH
mb2_framebuffer_request_end:
	.balign 8
	.short MB2_TAG_END
	.short 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
/* EAX = multiboot2 magic, EBX = physical address of the boot information. */
BEGIN_FUNC(mb2_entry32)
	cli
	cld
	movl %eax, %edi
	movl %ebx, %esi
	movl $boot32_stack_top, %esp

	cmpl $MULTIBOOT2_BOOTLOADER_MAGIC, %edi
	movl $msg_magic, %ebx
	jne boot32_fail

	/* CPUID exists if EFLAGS.ID can be toggled. */
	pushfl
	popl %eax
	movl %eax, %ecx
	xorl $EFLAGS_ID, %eax
	pushl %eax
	popfl
	pushfl
	popl %eax
	pushl %ecx
	popfl
	xorl %ecx, %eax
	movl $msg_no_lm, %ebx
	jz boot32_fail

	movl $CPUID_EXT_MAX, %eax
	cpuid
	cmpl $CPUID_EXT_FEATURES, %eax
	movl $msg_no_lm, %ebx
	jb boot32_fail
	movl $CPUID_EXT_FEATURES, %eax
	cpuid
	testl $CPUID_EDX_LM, %edx
	movl $msg_no_lm, %ebx
	jz boot32_fail

	call boot32_build_page_tables

	movl $boot_pml4, %eax
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

	lgdt boot_gdt_desc
	ljmp $SEL_BOOT_CODE64, $mb2_entry64
END_FUNC(mb2_entry32)

/*
 * Identity map [0, 4 GiB) with 2 MiB pages and alias its first 2 GiB at
 * KERNEL_VMA. Preserves EDI and ESI (the boot magic and info pointer).
 */
BEGIN_LOCAL_FUNC(boot32_build_page_tables)
	pushl %edi
	movl $boot_page_tables, %edi
	movl $(boot_page_tables_end - boot_page_tables) / 4, %ecx
	xorl %eax, %eax
	rep stosl
	popl %edi

	movl $boot_pdpt_low + PTE_P + PTE_W, boot_pml4
	movl $boot_pdpt_high + PTE_P + PTE_W, boot_pml4 + PML4_HIGH_SLOT * 8

	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd + PTE_P + PTE_W, %eax
	movl %eax, boot_pdpt_low(, %ecx, 8)
	incl %ecx
	cmpl $BOOT_PD_COUNT, %ecx
	jb 1b
	movl $boot_pd + PTE_P + PTE_W, boot_pdpt_high + PDPT_KERNEL_SLOT * 8
	movl $boot_pd + PAGE_SIZE + PTE_P + PTE_W, boot_pdpt_high + (PDPT_KERNEL_SLOT + 1) * 8

	/* PD entry i maps physical i * 2 MiB; i < 2048 keeps it below 4 GiB. */
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $PTE_P + PTE_W + PTE_PS, %eax
	movl %eax, boot_pd(, %ecx, 8)
	incl %ecx
	cmpl $BOOT_PD_COUNT * PD_ENTRIES, %ecx
	jb 2b
	ret
END_FUNC(boot32_build_page_tables)

/* Print "Kestrel: <EBX string>" on COM1 and the VGA text screen, then halt. */
BEGIN_LOCAL_FUNC(boot32_fail)
	movl $VGA_TEXT, %edi
	movl $msg_prefix, %esi
	call boot32_puts
	movl %ebx, %esi
	call boot32_puts
1:	cli
	hlt
	jmp 1b
END_FUNC(boot32_fail)

/* ESI = string, EDI = VGA cursor (advanced). Polls the UART's THR-empty bit. */
BEGIN_LOCAL_FUNC(boot32_puts)
1:	lodsb
	testb %al, %al
	jz 3f
	movb %al, %ah
	movw $COM1 + 5, %dx
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movw $COM1, %dx
	movb %ah, %al
	outb %al, %dx
	movzbw %ah, %ax
	orw $VGA_ATTR, %ax
	movw %ax, (%edi)
	addl $2, %edi
	jmp 1b
3:	ret
END_FUNC(boot32_puts)

	.code64
BEGIN_LOCAL_FUNC(mb2_entry64)
	movw $SEL_BOOT_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movl %edi, %edi         /* zero-extend magic and info pointer */
	movl %esi, %esi
	movabsq $kernel_entry64, %rax
	jmp *%rax
END_FUNC(mb2_entry64)

	.section .boot.data, "aw"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF        /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_desc:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

msg_prefix:     .asciz "\r\nKestrel: "
msg_magic:      .asciz "not started by a multiboot2 loader; halting.\r\n"
msg_no_lm:      .asciz "CPU does not support long mode (x86-64); halting.\r\n"

	.section .boot.bss, "aw", @nobits
	.balign PAGE_SIZE
boot_page_tables:
	.globl boot_pml4
boot_pml4:      .skip PAGE_SIZE
boot_pdpt_low:  .skip PAGE_SIZE
boot_pdpt_high: .skip PAGE_SIZE
boot_pd:        .skip PAGE_SIZE * BOOT_PD_COUNT
boot_page_tables_end:
	.balign 16
	.skip 1024
boot32_stack_top:
