/*
 * struct boot_info: what every boot path hands to kernel_main().
 * Built by our stage 2 (compiled -m32) or converted from multiboot2 tags
 * (64-bit), so the layout uses fixed-width types only and is checked below.
 */
#ifndef BOOT_BOOT_INFO_H
#define BOOT_BOOT_INFO_H

#define BOOT_INFO_MAGIC         0x4B455354u     /* "KEST": struct is valid */
#define BOOT_INFO_VERSION       1u

/*
 * Kernel entry contract (both paths): the 64-bit entry `kernel_entry64`
 * is entered in long mode, interrupts off, with paging on and at least
 * [0, 4 GiB) identity mapped plus KERNEL_VMA_BASE -> physical 0 for 1 GiB,
 *   EDI = KESTREL_LOADER_MAGIC, ESI = physical address of a struct boot_info, or
 *   EDI = MULTIBOOT2_BOOTLOADER_MAGIC, ESI = physical address of the mb2 info.
 * Our loader finds kernel_entry64 through an ELF note (see below), GRUB
 * enters the 32-bit stub in boot/multiboot2.S.
 */
#define KESTREL_LOADER_MAGIC    0x4B4C4452u     /* "KLDR" */
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36D76289u

/* ELF note (PT_NOTE) in the kernel: name "Kestrel", desc = 64-bit vaddr. */
#define KESTREL_NOTE_NAME       "Kestrel"
#define KESTREL_NOTE_ENTRY64    1u

#define KERNEL_VMA_BASE         0xFFFFFFFF80000000
#define KERNEL_PHYS_BASE        0x100000        /* 1 MiB */

/* Memory map entry types (same numbering as E820 / multiboot2). */
#define BOOT_MEM_USABLE         1u
#define BOOT_MEM_RESERVED       2u
#define BOOT_MEM_ACPI_RECLAIM   3u
#define BOOT_MEM_ACPI_NVS       4u
#define BOOT_MEM_BAD            5u

#define BOOT_INFO_MAX_MMAP      128
#define BOOT_INFO_MAX_MODULES   8
#define BOOT_INFO_CMDLINE_LEN   256
#define BOOT_INFO_NAME_LEN      64

/* Boot paths, the words the banner prints. */
#define BOOT_PATH_LOADER        "kestrel-bios"
#define BOOT_PATH_GRUB_BIOS     "grub-bios"
#define BOOT_PATH_GRUB_UEFI     "grub-uefi"

#ifndef __ASSEMBLER__
#include <stdint.h>

struct boot_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;          /* BOOT_MEM_* */
	uint32_t reserved;
};

struct boot_module {
	uint64_t start;         /* physical, inclusive */
	uint64_t end;           /* physical, exclusive */
	char name[BOOT_INFO_NAME_LEN];  /* module command line */
};

#define BOOT_FB_TYPE_INDEXED    0u
#define BOOT_FB_TYPE_RGB        1u
#define BOOT_FB_TYPE_TEXT       2u

struct boot_framebuffer {
	uint64_t addr;          /* physical; 0 = none */
	uint32_t pitch;         /* bytes per line */
	uint32_t width;         /* pixels, or characters for text */
	uint32_t height;
	uint8_t bpp;
	uint8_t type;           /* BOOT_FB_TYPE_* */
	uint8_t red_pos, red_size;
	uint8_t green_pos, green_size;
	uint8_t blue_pos, blue_size;
	uint8_t reserved[2];
};

struct boot_info {
	uint32_t magic;                 /* BOOT_INFO_MAGIC */
	uint32_t version;               /* BOOT_INFO_VERSION */
	uint32_t size;                  /* sizeof(struct boot_info) */
	uint32_t mmap_count;
	struct boot_mmap_entry mmap[BOOT_INFO_MAX_MMAP]; /* sorted, disjoint */
	uint32_t module_count;
	uint32_t rsdp_length;           /* bytes valid in rsdp[]; 0 = unknown */
	struct boot_module modules[BOOT_INFO_MAX_MODULES];
	uint64_t rsdp_addr;             /* physical address of the RSDP, 0 = unknown */
	uint8_t rsdp[36];               /* copy of the RSDP (v1: 20 bytes, v2: 36) */
	uint32_t rsdp_revision;
	struct boot_framebuffer fb;
	uint64_t kernel_phys_start;     /* filled by the kernel from linker symbols */
	uint64_t kernel_phys_end;
	uint32_t boot_drive;            /* BIOS drive number (our loader), else 0 */
	uint32_t flags;                 /* BOOT_INFO_F_* */
	char cmdline[BOOT_INFO_CMDLINE_LEN];
	char boot_path[32];             /* BOOT_PATH_* */
	char loader_name[BOOT_INFO_NAME_LEN];
};

#define BOOT_INFO_F_EFI         (1u << 0)       /* booted by UEFI firmware */
#define BOOT_INFO_F_MMAP_TRUNC  (1u << 1)       /* memory map had too many entries */

/*
 * The layout must be identical for stage 2 (-m32) and the kernel (-m64):
 * these offsets are checked in both compilations.
 */
#define BOOT_INFO_SIZE          4192
_Static_assert(sizeof(struct boot_mmap_entry) == 24, "boot_mmap_entry layout");
_Static_assert(sizeof(struct boot_module) == 80, "boot_module layout");
_Static_assert(sizeof(struct boot_framebuffer) == 32, "boot_framebuffer layout");
_Static_assert(__builtin_offsetof(struct boot_info, mmap) == 16, "boot_info.mmap");
_Static_assert(__builtin_offsetof(struct boot_info, modules) == 16 + 24 * BOOT_INFO_MAX_MMAP + 8,
	       "boot_info.modules");
_Static_assert(__builtin_offsetof(struct boot_info, rsdp_addr) == 3736, "boot_info.rsdp_addr");
_Static_assert(__builtin_offsetof(struct boot_info, fb) == 3784, "boot_info.fb");
_Static_assert(__builtin_offsetof(struct boot_info, kernel_phys_start) == 3816, "boot_info.kernel_phys_start");
_Static_assert(sizeof(struct boot_info) == BOOT_INFO_SIZE, "boot_info size (m32 vs m64)");

#endif /* __ASSEMBLER__ */

#endif
