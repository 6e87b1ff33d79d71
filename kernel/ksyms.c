/* Address -> symbol lookups in the table tools/mksyms.py embeds (binary search). */
#include <stdint.h>
#include <kernel/ksyms.h>
#include <kernel/string.h>

extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_offsets[];
extern const char ksyms_names[];
extern const char __text_start[], __text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *off)
{
	uint64_t lo = 0, hi = ksyms_count;

	if (hi == 0 || addr < (uint64_t)__text_start || addr >= (uint64_t)__text_end)
		return NULL;
	/* Find the last symbol whose address is <= addr. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ksyms_addrs[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (off)
		*off = addr - ksyms_addrs[lo];
	return &ksyms_names[ksyms_name_offsets[lo]];
}

uint64_t ksym_address(const char *name)
{
	for (uint64_t i = 0; i < ksyms_count; i++)
		if (strcmp(&ksyms_names[ksyms_name_offsets[i]], name) == 0)
			return ksyms_addrs[i];
	return 0;
}
