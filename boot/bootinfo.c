/*
 * struct boot_info construction: E820 normalization (ACPI 6.x ch. 15,
 * "System Address Map Interfaces") and multiboot2 conversion (Multiboot2
 * spec 3.6, "Boot information"). Built for the kernel, -m32 stage 2 and host.
 */
#include <boot/bootinfo.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Multiboot2 information structure (spec 3.6.1 - 3.6.x). */
#define MB2_INFO_HEADER_SIZE    8       /* u32 total_size, u32 reserved */
#define MB2_TAG_HEADER_SIZE     8       /* u32 type, u32 size */
#define MB2_TAG_ALIGN           8
#define MB2_TAG_END             0
#define MB2_TAG_CMDLINE         1
#define MB2_TAG_LOADER_NAME     2
#define MB2_TAG_MODULE          3
#define MB2_TAG_MMAP            6
#define MB2_TAG_FRAMEBUFFER     8
#define MB2_TAG_EFI32_SYSTAB    11
#define MB2_TAG_EFI64_SYSTAB    12
#define MB2_TAG_ACPI_OLD_RSDP   14
#define MB2_TAG_ACPI_NEW_RSDP   15
#define MB2_TAG_EFI_MMAP        17
#define MB2_TAG_EFI32_IMAGE     19
#define MB2_TAG_EFI64_IMAGE     20
#define MB2_MODULE_FIXED_SIZE   8       /* u32 mod_start, u32 mod_end, then the string */
#define MB2_MMAP_FIXED_SIZE     8       /* u32 entry_size, u32 entry_version */
#define MB2_MMAP_ENTRY_MIN      24      /* u64 base, u64 length, u32 type, u32 reserved */
#define MB2_FB_COMMON_SIZE      24      /* addr, pitch, width, height, bpp, type, u16 rsvd */
#define MB2_FB_RGB_SIZE         6       /* position and mask size of red, green, blue */
#define ACPI_RSDP_V1_SIZE       20      /* ACPI 1.0 RSDP */
#define ACPI_RSDP_V2_SIZE       36      /* ACPI 2.0+ RSDP with XSDT address */
#define ACPI_RSDP_V1_REVISION   0
#define ACPI_RSDP_V2_REVISION   2

/* ---------------------------------------------------------------- helpers */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);        /* no alignment assumed */
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Copies a string of at most srcmax bytes (terminated or not), always terminating dst. */
static void copy_string(char *dst, size_t dstsize, const void *src, size_t srcmax)
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
		copy_string(bi->boot_path, sizeof bi->boot_path, boot_path, sizeof bi->boot_path);
}

/* ---------------------------------------------------------------- memory map */

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
static int mmap_normalize(struct boot_info *bi, const struct mmap_source *src)
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
	return mmap_normalize(bi, &src);
}

/* ---------------------------------------------------------------- multiboot2 */

/* One tag: its payload (after the 8-byte header) and where that lies physically. */
struct mb2_tag {
	uint32_t type;
	const uint8_t *data;
	uint32_t len;
	uint64_t phys;
};

static int mb2_module(struct boot_info *bi, const struct mb2_tag *t)
{
	struct boot_module *m;
	uint32_t start, end;

	if (t->len < MB2_MODULE_FIXED_SIZE)
		return -EINVAL;
	start = rd32(t->data);
	end = rd32(t->data + 4);        /* exclusive, as GRUB fills it */
	if (end < start)
		return -EINVAL;
	/* TODO: boot_info has no flag for dropped modules; extra ones are ignored. */
	if (bi->module_count == BOOT_INFO_MAX_MODULES)
		return 0;
	m = &bi->modules[bi->module_count++];
	m->start = start;
	m->end = end;
	copy_string(m->name, sizeof m->name, t->data + MB2_MODULE_FIXED_SIZE,
		    t->len - MB2_MODULE_FIXED_SIZE);
	return 0;
}

/* Entries go through the E820 normalizer; their last dword is reserved, not ACPI attrs. */
static int mb2_mmap(struct boot_info *bi, const struct mb2_tag *t)
{
	struct mmap_source src;
	uint32_t entry_size;

	if (t->len < MB2_MMAP_FIXED_SIZE)
		return -EINVAL;
	entry_size = rd32(t->data);
	if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % MB2_TAG_ALIGN != 0)
		return -EINVAL;
	src.entries = t->data + MB2_MMAP_FIXED_SIZE;
	/* Trailing bytes short of a whole entry are ignored. */
	src.count = (t->len - MB2_MMAP_FIXED_SIZE) / entry_size;
	src.stride = entry_size;
	src.has_attr = false;
	mmap_normalize(bi, &src);       /* truncation is flagged, not fatal */
	return 0;
}

static int mb2_framebuffer(struct boot_info *bi, const struct mb2_tag *t)
{
	struct boot_framebuffer *fb = &bi->fb;
	uint8_t type;

	if (t->len < MB2_FB_COMMON_SIZE)
		return -EINVAL;
	type = t->data[21];
	if (type == BOOT_FB_TYPE_RGB && t->len < MB2_FB_COMMON_SIZE + MB2_FB_RGB_SIZE)
		return -EINVAL;
	memset(fb, 0, sizeof *fb);
	if (type > BOOT_FB_TYPE_TEXT)
		return 0;               /* reserved for future expansion: not usable */
	fb->addr = rd64(t->data);
	fb->pitch = rd32(t->data + 8);
	fb->width = rd32(t->data + 12);
	fb->height = rd32(t->data + 16);
	fb->bpp = t->data[20];
	fb->type = type;
	if (type == BOOT_FB_TYPE_RGB) {
		const uint8_t *c = t->data + MB2_FB_COMMON_SIZE;

		fb->red_pos = c[0];
		fb->red_size = c[1];
		fb->green_pos = c[2];
		fb->green_size = c[3];
		fb->blue_pos = c[4];
		fb->blue_size = c[5];
	}
	return 0;
}

/* The tag holds a copy of the RSDP; its address is that of the copy. */
static int mb2_rsdp(struct boot_info *bi, const struct mb2_tag *t, uint32_t size,
		    uint32_t revision)
{
	if (t->len < size)
		return -EINVAL;
	if (bi->rsdp_length > size)
		return 0;               /* an ACPI 2.0 RSDP wins over a 1.0 one */
	memset(bi->rsdp, 0, sizeof bi->rsdp);
	memcpy(bi->rsdp, t->data, size);
	bi->rsdp_length = size;
	bi->rsdp_revision = revision;
	bi->rsdp_addr = t->phys;
	return 0;
}

static int mb2_tag(struct boot_info *bi, const struct mb2_tag *t)
{
	switch (t->type) {
	case MB2_TAG_CMDLINE:
		copy_string(bi->cmdline, sizeof bi->cmdline, t->data, t->len);
		return 0;
	case MB2_TAG_LOADER_NAME:
		copy_string(bi->loader_name, sizeof bi->loader_name, t->data, t->len);
		return 0;
	case MB2_TAG_MODULE:
		return mb2_module(bi, t);
	case MB2_TAG_MMAP:
		return mb2_mmap(bi, t);
	case MB2_TAG_FRAMEBUFFER:
		return mb2_framebuffer(bi, t);
	case MB2_TAG_ACPI_OLD_RSDP:
		return mb2_rsdp(bi, t, ACPI_RSDP_V1_SIZE, ACPI_RSDP_V1_REVISION);
	case MB2_TAG_ACPI_NEW_RSDP:
		return mb2_rsdp(bi, t, ACPI_RSDP_V2_SIZE, ACPI_RSDP_V2_REVISION);
	case MB2_TAG_EFI32_SYSTAB:
	case MB2_TAG_EFI64_SYSTAB:
	case MB2_TAG_EFI_MMAP:
	case MB2_TAG_EFI32_IMAGE:
	case MB2_TAG_EFI64_IMAGE:
		bi->flags |= BOOT_INFO_F_EFI;   /* only UEFI firmware gives these */
		return 0;
	default:
		return 0;               /* unknown or unused: skipped */
	}
}

/* Walks the tags; every read is checked against total_size first. */
static int mb2_walk(struct boot_info *bi, const uint8_t *mbi, uint64_t mbi_phys,
		    uint32_t total)
{
	uint64_t off = MB2_INFO_HEADER_SIZE;

	for (;;) {
		struct mb2_tag t;
		uint32_t size;
		int err;

		if (off > total || total - off < MB2_TAG_HEADER_SIZE)
			return -EINVAL;         /* ran out before the end tag */
		t.type = rd32(mbi + off);
		size = rd32(mbi + off + 4);
		if (size < MB2_TAG_HEADER_SIZE || size > total - off)
			return -EINVAL;
		if (t.type == MB2_TAG_END)
			return size == MB2_TAG_HEADER_SIZE ? 0 : -EINVAL;
		t.data = mbi + off + MB2_TAG_HEADER_SIZE;
		t.len = size - MB2_TAG_HEADER_SIZE;
		t.phys = mbi_phys + off + MB2_TAG_HEADER_SIZE;
		err = mb2_tag(bi, &t);
		if (err)
			return err;
		/* Tags start 8-byte aligned; size excludes the padding. */
		off = (off + size + MB2_TAG_ALIGN - 1) & ~(uint64_t)(MB2_TAG_ALIGN - 1);
	}
}

int bootinfo_from_multiboot2(struct boot_info *bi, const void *mbi, uint64_t mbi_phys,
			     uint64_t avail)
{
	uint32_t total;
	int err;

	bootinfo_init(bi, BOOT_PATH_GRUB_BIOS);
	if (!mbi || avail < MB2_INFO_HEADER_SIZE) {
		bi->magic = 0;
		return -EINVAL;
	}
	total = rd32(mbi);
	if (total < MB2_INFO_HEADER_SIZE + MB2_TAG_HEADER_SIZE || total > avail)
		err = -EINVAL;
	else
		err = mb2_walk(bi, mbi, mbi_phys, total);
	if (err) {
		bi->magic = 0;          /* never mistaken for a valid boot_info */
		return err;
	}
	if (bi->flags & BOOT_INFO_F_EFI)
		copy_string(bi->boot_path, sizeof bi->boot_path, BOOT_PATH_GRUB_UEFI,
			    sizeof bi->boot_path);
	return 0;
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
