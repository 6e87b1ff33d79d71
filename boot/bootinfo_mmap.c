/*
 * The boot_info memory map from raw E820-shaped entries (ACPI 6.x ch. 15,
 * "System Address Map Interfaces"): sorted, disjoint, merged, and never
 * usable where any entry says otherwise. Used by stage 2 and by the
 * multiboot2 conversion.
 */
#include <kernel/errno.h>
#include "bootinfo_internal.h"

/*
 * Overlaps are resolved by rank: a byte claimed by several entries gets
 * the highest-ranked type, so memory is never usable unless every entry
 * covering it says so. Rank 0 = not covered.
 */
enum mem_rank { RANK_NONE, RANK_USABLE, RANK_ACPI_RECLAIM, RANK_RESERVED, RANK_NVS, RANK_BAD };

static const uint32_t rank_type[] = {
	[RANK_USABLE] = BOOT_MEM_USABLE,
	[RANK_ACPI_RECLAIM] = BOOT_MEM_ACPI_RECLAIM,
	[RANK_RESERVED] = BOOT_MEM_RESERVED,
	[RANK_NVS] = BOOT_MEM_ACPI_NVS,
	[RANK_BAD] = BOOT_MEM_BAD,
};

static enum mem_rank type_rank(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_USABLE: return RANK_USABLE;
	case BOOT_MEM_ACPI_RECLAIM: return RANK_ACPI_RECLAIM;
	case BOOT_MEM_ACPI_NVS: return RANK_NVS;
	case BOOT_MEM_BAD: return RANK_BAD;
	default: return RANK_RESERVED;  /* ACPI: treat undefined types as reserved */
	}
}


/* Closed range [first, last]: the end of a range reaching 2^64 is representable. */
struct mmap_range {
	uint64_t first;
	uint64_t last;
	enum mem_rank rank;
};

static bool source_get(const struct mmap_source *src, uint32_t i, struct mmap_range *r)
{
	struct e820_entry e;

	memcpy(&e, src->entries + (size_t)i * src->stride, sizeof e);
	if (e.length == 0)
		return false;
	if (src->has_attr && !(e.acpi_attr & E820_ATTR_ENABLED))
		return false;
	r->first = e.base;
	/* Clamp ranges that would wrap around the top of the address space. */
	r->last = e.length - 1 > UINT64_MAX - e.base ? UINT64_MAX : e.base + (e.length - 1);
	r->rank = type_rank(e.type);
	return true;
}

/*
 * The rank at address pos, and in *seg_last the last address up to which
 * that rank stays the same (the next start or end of any entry).
 */
static enum mem_rank probe(const struct mmap_source *src, uint64_t pos, uint64_t *seg_last)
{
	enum mem_rank rank = RANK_NONE;
	uint64_t last = UINT64_MAX;
	struct mmap_range r;

	for (uint32_t i = 0; i < src->count; i++) {
		if (!source_get(src, i, &r))
			continue;
		if (r.first <= pos && pos <= r.last) {
			if (r.rank > rank)
				rank = r.rank;
			if (r.last < last)
				last = r.last;
		} else if (r.first > pos && r.first - 1 < last) {
			last = r.first - 1;
		}
	}
	*seg_last = last;
	return rank;
}

/* Appends [first, last], merging with the previous entry when adjacent and alike. */
static bool mmap_emit(struct boot_info *bi, uint64_t first, uint64_t last, uint32_t type)
{
	if (bi->mmap_count) {
		struct boot_mmap_entry *prev = &bi->mmap[bi->mmap_count - 1];

		/* The length of [0, 2^64) does not fit a u64: keep two entries. */
		if (prev->type == type && prev->base + prev->length == first &&
		    last - prev->base != UINT64_MAX) {
			prev->length = last - prev->base + 1;
			return true;
		}
	}
	if (bi->mmap_count == BOOT_INFO_MAX_MMAP)
		return false;
	bi->mmap[bi->mmap_count].base = first;
	bi->mmap[bi->mmap_count].length = last - first + 1;
	bi->mmap[bi->mmap_count].type = type;
	bi->mmap[bi->mmap_count].reserved = 0;
	bi->mmap_count++;
	return true;
}

/*
 * A sweep from address 0 upwards over all entry boundaries instead of
 * sort + merge: it needs no scratch memory (stage 2's stack is small),
 * accepts more raw entries than bi->mmap holds and emits the result
 * already sorted, disjoint and merged. O(n^2) for n raw entries (at most
 * a few hundred): each step scans all entries, there are <= 2n + 1 steps.
 */
int bootinfo_normalize_mmap(struct boot_info *bi, const struct mmap_source *src)
{
	uint64_t pos = 0, last;

	bi->mmap_count = 0;
	bi->flags &= ~BOOT_INFO_F_MMAP_TRUNC;
	for (;;) {
		enum mem_rank rank = probe(src, pos, &last);

		if (rank != RANK_NONE && !mmap_emit(bi, pos, last, rank_type[rank])) {
			bi->flags |= BOOT_INFO_F_MMAP_TRUNC;
			return -ENOSPC;
		}
		if (last == UINT64_MAX)
			return 0;
		pos = last + 1;
	}
}

int bootinfo_add_e820(struct boot_info *bi, const struct e820_entry *raw, uint32_t n)
{
	struct mmap_source src = { (const uint8_t *)raw, n, sizeof *raw, true };

	if (!raw && n)
		return -EINVAL;
	return bootinfo_normalize_mmap(bi, &src);
}

