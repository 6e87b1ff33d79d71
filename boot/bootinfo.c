/*
 * struct boot_info: initialisation, the checks the kernel runs on whatever a
 * loader handed it, and the usable-memory total. The memory map is built in
 * boot/bootinfo_mmap.c, the multiboot2 conversion is boot/bootinfo_mb2.c.
 */
#include <kernel/errno.h>
#include "bootinfo_internal.h"

/* Copies a string of at most srcmax bytes (terminated or not), always terminating dst. */
void bootinfo_copy_string(char *dst, size_t dstsize, const void *src, size_t srcmax)
{
	size_t n = strnlen(src, srcmax);

	if (n > dstsize - 1)
		n = dstsize - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void bootinfo_init(struct boot_info *bi, const char *boot_path)
{
	memset(bi, 0, sizeof *bi);
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof *bi;
	if (boot_path)
		bootinfo_copy_string(bi->boot_path, sizeof bi->boot_path, boot_path, sizeof bi->boot_path);
}

/* ---------------------------------------------------------------- checks */

static bool terminated(const char *s, size_t size)
{
	return strnlen(s, size) < size;
}

static bool mmap_valid(const struct boot_info *bi)
{
	uint64_t prev_last = 0;

	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		uint64_t last = e->base + (e->length - 1);

		if (e->length == 0 || last < e->base)
			return false;           /* empty or wrapping past 2^64 */
		if (e->type < BOOT_MEM_USABLE || e->type > BOOT_MEM_BAD)
			return false;
		if (i > 0 && e->base <= prev_last)
			return false;           /* unsorted or overlapping */
		prev_last = last;
	}
	return true;
}

static bool modules_valid(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];

		if (m->end < m->start || !terminated(m->name, sizeof m->name))
			return false;
	}
	return true;
}

int bootinfo_validate(const struct boot_info *bi)
{
	if (!bi || bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION ||
	    bi->size != sizeof *bi)
		return -EINVAL;
	if (bi->mmap_count > BOOT_INFO_MAX_MMAP || bi->module_count > BOOT_INFO_MAX_MODULES)
		return -EINVAL;
	if (bi->rsdp_length != 0 && bi->rsdp_length != ACPI_RSDP_V1_SIZE &&
	    bi->rsdp_length != ACPI_RSDP_V2_SIZE)
		return -EINVAL;
	if (!terminated(bi->cmdline, sizeof bi->cmdline) ||
	    !terminated(bi->boot_path, sizeof bi->boot_path) ||
	    !terminated(bi->loader_name, sizeof bi->loader_name))
		return -EINVAL;
	if (!mmap_valid(bi) || !modules_valid(bi))
		return -EINVAL;
	return 0;
}

uint64_t bootinfo_usable_bytes(const struct boot_info *bi)
{
	uint64_t total = 0;
	uint32_t n = bi->mmap_count < BOOT_INFO_MAX_MMAP ? bi->mmap_count : BOOT_INFO_MAX_MMAP;

	for (uint32_t i = 0; i < n; i++) {
		if (bi->mmap[i].type != BOOT_MEM_USABLE)
			continue;
		/* Disjoint ranges can only sum to 2^64 itself: saturate. */
		total = bi->mmap[i].length > UINT64_MAX - total ? UINT64_MAX
							      : total + bi->mmap[i].length;
	}
	return total;
}
