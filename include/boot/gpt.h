/*
 * The GUID partition table as stage 2 reads it (UEFI 2.10, 5.3) and the
 * Kestrel partition type. tools/mkimage.py writes the same structures.
 */
#ifndef BOOT_GPT_H
#define BOOT_GPT_H

#include <stdint.h>

#define GPT_HEADER_LBA          1
#define GPT_SIGNATURE           0x5452415020494645ull  /* "EFI PART", little endian */
#define GPT_HEADER_MIN_SIZE     92
#define GPT_ENTRY_MIN_SIZE      128     /* 128 x 2^n bytes (UEFI 2.10, 5.3.2) */
#define GPT_NAME_UNITS          36      /* UTF-16LE code units */
#define GPT_GUID_SIZE           16

/*
 * Kestrel's partition type GUID 075CCA39-8580-412A-AD46-E41030E6378B (a
 * random UUID of our own, docs/architecture.md), in its on-disk byte order
 * (the first three fields little endian).
 */
#define KESTREL_PART_GUID_BYTES { 0x39, 0xca, 0x5c, 0x07, 0x80, 0x85, 0x2a, 0x41, \
				  0xad, 0x46, 0xe4, 0x10, 0x30, 0xe6, 0x37, 0x8b }

struct gpt_header {
	uint64_t signature;             /* GPT_SIGNATURE */
	uint32_t revision;
	uint32_t header_size;           /* bytes the header CRC covers */
	uint32_t header_crc32;          /* computed with this field 0 */
	uint32_t reserved;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	uint8_t disk_guid[GPT_GUID_SIZE];
	uint64_t entries_lba;
	uint32_t entry_count;
	uint32_t entry_size;
	uint32_t entries_crc32;
} __attribute__((packed));

struct gpt_entry {
	uint8_t type_guid[GPT_GUID_SIZE];       /* all zero: unused entry */
	uint8_t unique_guid[GPT_GUID_SIZE];
	uint64_t first_lba;
	uint64_t last_lba;              /* inclusive */
	uint64_t attributes;
	uint16_t name[GPT_NAME_UNITS];
} __attribute__((packed));

_Static_assert(sizeof(struct gpt_header) == GPT_HEADER_MIN_SIZE, "GPT header, UEFI 5.3.2");
_Static_assert(__builtin_offsetof(struct gpt_header, header_crc32) == 16, "GPT header CRC");
_Static_assert(__builtin_offsetof(struct gpt_header, entries_lba) == 72, "GPT entries LBA");
_Static_assert(sizeof(struct gpt_entry) == GPT_ENTRY_MIN_SIZE, "GPT entry, UEFI 5.3.3");
_Static_assert(__builtin_offsetof(struct gpt_entry, first_lba) == 32, "GPT entry LBAs");

#endif
