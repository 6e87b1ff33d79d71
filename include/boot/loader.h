/*
 * Kestrel's BIOS loader: disk layout, memory layout, the stage 2 header and
 * the real-mode call frame. Shared by boot/stage1.S, boot/stage2.S,
 * boot/loader.c and the linker scripts (tools/mkimage.py mirrors the header).
 */
#ifndef BOOT_LOADER_H
#define BOOT_LOADER_H

/*
 * Disk layout (512-byte sectors; 4Kn disks are not supported by BIOS boot),
 * a GPT disk written by tools/mkimage.py (its docstring has the whole map):
 *   LBA 0             stage 1: MBR code, protective MBR entry (0xEE), 0x55AA
 *   LBA 1 .. 33       primary GPT header and partition entry array
 *   LBA 34 .. 2047    stage 2 (header sector first) in a "BIOS boot" GPT entry
 *   LBA 2048 ..       the Kestrel partition (1 MiB aligned, GPT type
 *                     KESTREL_PART_GUID): kernel ELF file, then the initrd,
 *                     each starting on a sector boundary; then the EFI
 *                     system partition and the backup GPT at the disk's end
 */
#define DISK_SECTOR_SIZE        512
#define STAGE2_LBA              34      /* after the primary GPT (LBA 1 .. 33) */
#define PART_START_LBA          2048
#define MBR_DISK_SIG_OFF        0x1B8   /* 4-byte disk signature, then 2 zero bytes */
#define MBR_PART_TABLE_OFF      0x1BE   /* 4 entries of 16 bytes */
#define MBR_BOOT_SIG_OFF        0x1FE
#define MBR_BOOT_SIG            0xAA55

/*
 * Physical memory layout while the loader runs:
 *   0x000500            A20 probe dword (it aliases 0x100500 when A20 is off)
 *   0x000600 - 0x7BFF   stack, from BOOT_STACK_TOP down; also the kernel's
 *                       first stack
 *   0x007C00 - 0x7DFF   stage 1, where the BIOS put it
 *   0x008000            stage 2 header sector, 16-bit entry right after it;
 *                       real-mode code and data must end below 0x10000
 *                       (CS = DS = 0), 32-bit code, data and .bss (boot_info,
 *                       page tables) follow, all below STAGE2_LIMIT
 *   0x070000 - 0x77FFF  disk bounce buffer (INT 13h can only reach < 1 MiB)
 *   0x080000 - 0xFFFFF  not touched: EBDA, VGA memory, ROMs
 *   0x100000 - 8 MiB    kernel PT_LOAD segments at their p_paddr
 *   8 MiB - ...         the kernel ELF file as read (staging), then the
 *                       initrd at the next page boundary; the initrd stays
 *                       there and is handed over as module "initrd"
 * Everything above 1 MiB is checked against the E820 map before use; with
 * QEMU -m 32M a few MiB of kernel file plus initrd fit comfortably.
 */
#define A20_PROBE_ADDR          0x000500
#define BOOT_STACK_TOP          0x007C00
#define STAGE1_ADDR             0x007C00
#define STAGE2_LOAD_ADDR        0x008000
#define STAGE2_HDR_SIZE         DISK_SECTOR_SIZE
#define STAGE2_ENTRY_ADDR       (STAGE2_LOAD_ADDR + STAGE2_HDR_SIZE)
#define REAL_MODE_LIMIT         0x010000
#define STAGE2_LIMIT            0x070000
#define STAGE2_MAX_SECTORS      ((STAGE2_LIMIT - STAGE2_LOAD_ADDR) / DISK_SECTOR_SIZE)
#define BOUNCE_ADDR             0x070000
#define DISK_CHUNK_SECTORS      64      /* per INT 13h call; some BIOSes cap at 127 */
#define BOUNCE_SIZE             (DISK_CHUNK_SECTORS * DISK_SECTOR_SIZE)
#define LOADER_STAGING_ADDR     0x800000        /* kernel segments must end here */
#define LOADER_PAGE_SIZE        0x1000

/*
 * Stage 2 header: the first sector of stage 2. Stage 1 checks the magic
 * and reads `sectors` sectors; mkimage.py fills the rest. Offsets are
 * shared with assembly and tools/mkimage.py (which must match).
 */
#define STAGE2_MAGIC            0x3254534B      /* "KST2" */
#define STAGE2_HDR_VERSION      1
#define STAGE2_F_FILLED         (1u << 0)       /* mkimage.py wrote the table */
#define STAGE2_CMDLINE_LEN      256
#define STAGE2_HDR_MAGIC        0
#define STAGE2_HDR_SECTORS      4
#define STAGE2_HDR_VERSION_OFF  6
#define STAGE2_HDR_FLAGS        8
#define STAGE2_HDR_KERNEL_LBA   24
#define STAGE2_HDR_CMDLINE      64

/* Selectors of stage 2's GDT (boot/stage2.S). */
#define BOOT_SEL_CODE32         0x08
#define BOOT_SEL_DATA32         0x10    /* also the data segment in long mode */
#define BOOT_SEL_CODE16         0x18    /* 16-bit protected mode, on the way to real mode */
#define BOOT_SEL_DATA16         0x20
#define BOOT_SEL_CODE64         0x28

/* struct bios_regs offsets, for stage2.S. */
#define BIOS_REGS_EAX           0
#define BIOS_REGS_EBX           4
#define BIOS_REGS_ECX           8
#define BIOS_REGS_EDX           12
#define BIOS_REGS_ESI           16
#define BIOS_REGS_EDI           20
#define BIOS_REGS_EBP           24
#define BIOS_REGS_EFLAGS        28
#define BIOS_REGS_DS            32
#define BIOS_REGS_ES            34
#define BIOS_REGS_SIZE          36
#define   EFLAGS_CF             (1u << 0)

#ifndef __ASSEMBLER__
#include <stdint.h>

struct stage2_header {
	uint32_t magic;                 /* STAGE2_MAGIC */
	uint16_t sectors;               /* whole stage 2 incl. this sector (link time) */
	uint16_t version;               /* STAGE2_HDR_VERSION */
	/* Written by tools/mkimage.py: */
	uint32_t flags;                 /* STAGE2_F_* */
	uint32_t part_lba;              /* the Kestrel partition, as in the GPT */
	uint32_t part_sectors;
	uint32_t reserved0;
	uint64_t kernel_lba;            /* absolute LBA of the kernel ELF file */
	uint64_t kernel_size;           /* bytes */
	uint64_t initrd_lba;            /* absolute LBA of the initrd */
	uint64_t initrd_size;           /* bytes, 0 = no initrd */
	uint8_t reserved1[8];
	char cmdline[STAGE2_CMDLINE_LEN];       /* default kernel command line, NUL-terminated */
	uint8_t reserved2[STAGE2_HDR_SIZE - STAGE2_HDR_CMDLINE - STAGE2_CMDLINE_LEN];
};

#define STAGE2_HDR_OFF(f)       __builtin_offsetof(struct stage2_header, f)
_Static_assert(sizeof(struct stage2_header) == STAGE2_HDR_SIZE, "stage2_header size");
_Static_assert(STAGE2_HDR_OFF(sectors) == STAGE2_HDR_SECTORS, "hdr.sectors");
_Static_assert(STAGE2_HDR_OFF(version) == STAGE2_HDR_VERSION_OFF, "hdr.version");
_Static_assert(STAGE2_HDR_OFF(flags) == STAGE2_HDR_FLAGS, "hdr.flags");
_Static_assert(STAGE2_HDR_OFF(kernel_lba) == STAGE2_HDR_KERNEL_LBA, "hdr.kernel_lba");
_Static_assert(STAGE2_HDR_OFF(cmdline) == STAGE2_HDR_CMDLINE, "hdr.cmdline");

/* Registers in and out of a real-mode BIOS call (boot/stage2.S: bios_int). */
struct bios_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
	uint32_t eflags;                /* out only; EFLAGS_CF reports most errors */
	uint16_t ds, es;                /* real-mode segments */
};

_Static_assert(__builtin_offsetof(struct bios_regs, ebx) == BIOS_REGS_EBX, "bios_regs.ebx");
_Static_assert(__builtin_offsetof(struct bios_regs, ebp) == BIOS_REGS_EBP, "bios_regs.ebp");
_Static_assert(__builtin_offsetof(struct bios_regs, eflags) == BIOS_REGS_EFLAGS,
	       "bios_regs.eflags");
_Static_assert(__builtin_offsetof(struct bios_regs, ds) == BIOS_REGS_DS, "bios_regs.ds");
_Static_assert(__builtin_offsetof(struct bios_regs, es) == BIOS_REGS_ES, "bios_regs.es");
_Static_assert(sizeof(struct bios_regs) == BIOS_REGS_SIZE, "bios_regs size");
_Static_assert(BIOS_REGS_SIZE % 4 == 0, "stage2.S copies bios_regs with movsl");

/* Implemented in boot/stage2.S. */
extern struct stage2_header stage2_header;
/* Drop to real mode, run INT vector with *regs, come back; updates *regs. */
void bios_int(uint32_t vector, struct bios_regs *regs);
/* PAE + EFER.LME + paging with this PML4, then jump per the kernel contract. */
__attribute__((noreturn))
void boot_enter_long_mode(uint32_t pml4, uint32_t boot_info, uint32_t entry_lo, uint32_t entry_hi);

/* boot/loader.c, called by stage2.S in 32-bit protected mode. */
__attribute__((noreturn)) void loader_main(uint32_t boot_drive);

#endif /* __ASSEMBLER__ */

#endif
