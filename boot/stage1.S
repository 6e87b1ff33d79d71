/*
 * Stage 1: the MBR. Loads stage 2 from STAGE2_LBA (right after the primary
 * GPT) with INT 13h extended reads (EDD 3.0: AH=41h check, AH=42h read) and
 * jumps to it with DL = BIOS boot drive. Code ends before the disk signature
 * and partition table, where tools/mkimage.py writes the protective MBR
 * entry (real BIOSes want a table on USB sticks).
 */
#include <arch/uart16550.h>
#include <boot/loader.h>

#define MBR_BPB_END             0x5A    /* jmp, nop, 87 bytes of FAT32 BPB */
#define INT10_TELETYPE          0x0E    /* AH: write AL, advance cursor */
#define INT13_CHECK_EXT         0x41
#define   EXT_CHECK_IN          0x55AA  /* BX in */
#define   EXT_CHECK_OUT         0xAA55  /* BX out when extensions exist */
#define   EXT_HAS_DAP           0x01    /* CX bit 0: AH=42h-44h, 47h, 48h */
#define INT13_EXT_READ          0x42
#define DAP_SIZE                16      /* disk address packet, EDD 3.0 */
#define PARAGRAPH_SHIFT         4       /* real-mode segment = address >> 4 */
#define SECTOR_PARAGRAPHS_SHIFT 5       /* 512 bytes = 32 paragraphs */
#define UART_PORT(reg)          ((COM1_PORT + (reg)) & 0xFF)

	.code16
	.section .text, "ax"
	.globl stage1_start
stage1_start:
	jmp stage1_far
	nop
	/*
	 * Room for a FAT-style BIOS parameter block, as in GRUB's and DOS's
	 * MBRs: some BIOSes booting USB media patch geometry into it, so no
	 * code lives here. Zeroes are no valid BPB, so those BIOSes still see
	 * a partitioned hard disk, not a floppy.
	 */
	.org MBR_BPB_END
stage1_far:
	/* Some BIOSes enter at 07C0:0000; CS = 0 makes our offsets right. */
	ljmp $0, $stage1_main

stage1_main:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $BOOT_STACK_TOP, %sp
	sti
	cld
	movb %dl, boot_drive

	movb $INT13_CHECK_EXT, %ah
	movw $EXT_CHECK_IN, %bx
	int $0x13
	jc no_ext
	cmpw $EXT_CHECK_OUT, %bx
	jne no_ext
	testb $EXT_HAS_DAP, %cl
	jz no_ext

	/* The header sector says how many sectors stage 2 has. */
	movl $STAGE2_LBA, %eax
	movw $(STAGE2_LOAD_ADDR >> PARAGRAPH_SHIFT), %bx
	movw $1, %cx
	call read_sectors
	cmpl $STAGE2_MAGIC, STAGE2_LOAD_ADDR + STAGE2_HDR_MAGIC
	jne no_stage2
	movw STAGE2_LOAD_ADDR + STAGE2_HDR_SECTORS, %di
	decw %di                        /* sectors after the header; 0 wraps */
	cmpw $(STAGE2_MAX_SECTORS - 1), %di
	ja no_stage2

	/* The rest, DISK_CHUNK_SECTORS at a time: EAX = LBA, BX = segment. */
	incl %eax
	addw $(DISK_SECTOR_SIZE >> PARAGRAPH_SHIFT), %bx
next_chunk:
	testw %di, %di
	jz stage2_loaded
	movw $DISK_CHUNK_SECTORS, %cx
	cmpw %cx, %di
	jae 1f
	movw %di, %cx
1:	call read_sectors
	subw %cx, %di
	movzwl %cx, %ecx
	addl %ecx, %eax
	shlw $SECTOR_PARAGRAPHS_SHIFT, %cx
	addw %cx, %bx
	jmp next_chunk

stage2_loaded:
	movb boot_drive, %dl
	ljmp $0, $STAGE2_ENTRY_ADDR

/* Read CX sectors at LBA EAX to BX:0000 or fail. Keeps all registers. */
read_sectors:
	pushal
	pushl $0                        /* DAP, built on the stack: LBA 63..32 */
	pushl %eax                      /* LBA 31..0 */
	pushw %bx                       /* buffer segment */
	pushw $0                        /* buffer offset */
	pushw %cx                       /* sector count */
	pushw $DAP_SIZE                 /* size, reserved byte */
	movw %sp, %si                   /* DS = SS = 0 */
	movb $INT13_EXT_READ, %ah
	movb boot_drive, %dl
	int $0x13
	jc disk_error
	addw $DAP_SIZE, %sp
	popal
	ret

no_ext:
	movw $msg_no_ext, %si
	jmp fail
no_stage2:
	movw $msg_no_stage2, %si
	jmp fail
disk_error:
	movw $msg_disk, %si
/* Print "Kestrel: " and the message at SI on screen and COM1, then halt. */
fail:
	xorw %ax, %ax
	movw %ax, %ds
	pushw %si
	movw $uart_init, %si            /* COM1 115200 8N1, FIFOs on */
	movb $(COM1_PORT >> 8), %dh
	movw $UART_INIT_STEPS, %cx
1:	lodsw                           /* AL = port low byte, AH = value */
	movb %al, %dl
	movb %ah, %al
	outb %al, %dx
	loop 1b
	movw $msg_prefix, %si
	call puts
	popw %si
	call puts
halt:
	cli
	hlt
	jmp halt

puts:
	lodsb
	testb %al, %al
	jz 2f
	pushaw
	movb $INT10_TELETYPE, %ah
	xorw %bx, %bx                   /* page 0 */
	int $0x10
	movw $(COM1_PORT + UART_LSR), %dx
1:	inb %dx, %al                    /* a missing UART reads 0xFF: no hang */
	testb $LSR_THRE, %al
	jz 1b
	popaw
	movw $COM1_PORT, %dx
	outb %al, %dx
	jmp puts
2:	ret

/* (port low byte, value) pairs, in order. */
uart_init:
	.byte UART_PORT(UART_IER), 0
	.byte UART_PORT(UART_LCR), LCR_DLAB
	.byte UART_PORT(UART_DATA), UART_DIVISOR & 0xFF
	.byte UART_PORT(UART_IER), UART_DIVISOR >> 8
	.byte UART_PORT(UART_LCR), LCR_8N1
	.byte UART_PORT(UART_FCR), (FCR_ENABLE | FCR_CLEAR | FCR_TRIG_14)
	.byte UART_PORT(UART_MCR), MCR_DTR_RTS
	.set UART_INIT_STEPS, (. - uart_init) / 2

msg_prefix:     .asciz "Kestrel: "
msg_no_ext:     .asciz "no INT13 extensions\r\n"
msg_no_stage2:  .asciz "stage2 missing\r\n"
msg_disk:       .asciz "disk read error\r\n"
boot_drive:     .byte 0

	/* Disk signature (0 on a GPT disk) and partition table: tools/mkimage.py. */
	.org MBR_DISK_SIG_OFF
	.org MBR_BOOT_SIG_OFF
	.word MBR_BOOT_SIG

	.section .note.GNU-stack, "", @progbits
