/*
 * What the three parts of struct boot_info construction share (boot/
 * bootinfo.c, bootinfo_mmap.c, bootinfo_mb2.c): unaligned reads, bounded
 * string copies and the memory-map normalizer. Built for the kernel, the
 * -m32 stage 2 and the host unit tests alike.
 */
#ifndef BOOT_BOOTINFO_INTERNAL_H
#define BOOT_BOOTINFO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <boot/bootinfo.h>
#include <kernel/string.h>

#define ACPI_RSDP_V1_SIZE       20      /* ACPI 1.0 RSDP */
#define ACPI_RSDP_V2_SIZE       36      /* ACPI 2.0+ RSDP with XSDT address */

/*
 * Raw entries in place: E820 arrays and multiboot2 map entries share the
 * first 24 bytes' layout, only the stride and the meaning of the last
 * dword (ACPI attributes vs. reserved) differ.
 */
struct mmap_source {
	const uint8_t *entries;
	uint32_t count;
	uint32_t stride;
	bool has_attr;
};

/*
 * Replace bi's memory map with src's entries sorted, disjoint and merged,
 * overlaps resolved to the most restrictive type; -ENOSPC (and
 * BOOT_INFO_F_MMAP_TRUNC) when they do not fit.
 */
int bootinfo_normalize_mmap(struct boot_info *bi, const struct mmap_source *src);

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);        /* no alignment assumed */
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Copies a string of at most srcmax bytes (terminated or not), always terminating dst. */
void bootinfo_copy_string(char *dst, size_t dstsize, const void *src, size_t srcmax);

#endif
