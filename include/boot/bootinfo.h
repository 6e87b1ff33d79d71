/*
 * Building and checking struct boot_info (boot/bootinfo.c) from BIOS E820
 * data (stage 2, -m32) or multiboot2 tags (kernel). Fixed-width types only.
 */
#ifndef BOOT_BOOTINFO_H
#define BOOT_BOOTINFO_H

#include <boot/boot_info.h>
#include <stdint.h>

/*
 * One entry as BIOS INT 15h, AX=E820h returns it (ACPI 3.0 "Address Range
 * Descriptor Structure" with the extended attributes dword).
 */
struct e820_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;          /* BOOT_MEM_* numbering; others are reserved */
	uint32_t acpi_attr;     /* E820_ATTR_* */
} __attribute__((packed));

#define E820_ENTRY_SIZE         24      /* with the ACPI 3.0 attributes */
#define E820_ENTRY_SIZE_LEGACY  20      /* what pre-ACPI-3.0 BIOSes return */
_Static_assert(sizeof(struct e820_entry) == E820_ENTRY_SIZE, "e820_entry layout");

/*
 * ACPI 3.0 extended attributes. An entry with bit 0 clear must be ignored.
 * A BIOS that returns only 20 bytes leaves the dword alone, so callers
 * preset acpi_attr = E820_ATTR_ENABLED before each call (as ACPI advises).
 */
#define E820_ATTR_ENABLED       (1u << 0)
#define E820_ATTR_NONVOLATILE   (1u << 1)

/* Zeroes bi and fills magic, version, size and boot_path (BOOT_PATH_*). */
void bootinfo_init(struct boot_info *bi, const char *boot_path);

/*
 * Replaces bi->mmap with the normalized form of raw[0..n): sorted,
 * disjoint, adjacent same-type ranges merged, every byte typed with the
 * most restrictive type claimed for it (BAD > NVS > RESERVED >
 * ACPI_RECLAIM > USABLE; unknown types are RESERVED). Zero-length and
 * ACPI-disabled entries are dropped, ranges past 2^64 are clamped.
 * Returns 0, or -ENOSPC when more than BOOT_INFO_MAX_MMAP entries were
 * needed: then the map is exact up to the last entry kept (everything
 * above is left out, never wrongly typed) and BOOT_INFO_F_MMAP_TRUNC is set.
 */
int bootinfo_add_e820(struct boot_info *bi, const struct e820_entry *raw, uint32_t n);

/*
 * Fills bi (from scratch) from the multiboot2 information at mbi, whose
 * physical address is mbi_phys; at most avail bytes at mbi may be read.
 * Returns 0, or -EINVAL for a malformed structure (bi->magic is then 0 so
 * it never validates). A truncated memory map is not an error (see above).
 */
int bootinfo_from_multiboot2(struct boot_info *bi, const void *mbi, uint64_t mbi_phys,
			     uint64_t avail);

/* 0 when bi is self-consistent (header, counts, map, strings), else -EINVAL. */
int bootinfo_validate(const struct boot_info *bi);

/* Total bytes of BOOT_MEM_USABLE memory in the map. */
uint64_t bootinfo_usable_bytes(const struct boot_info *bi);

#endif
