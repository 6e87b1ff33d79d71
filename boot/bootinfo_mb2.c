/*
 * GRUB's multiboot2 information (Multiboot2 spec 3.6, "Boot information")
 * into struct boot_info: command line, loader name, modules, memory map,
 * framebuffer, ACPI RSDP and the EFI tags that mark a UEFI boot.
 */
#include <kernel/errno.h>
#include "bootinfo_internal.h"

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
#define ACPI_RSDP_V1_REVISION   0
#define ACPI_RSDP_V2_REVISION   2

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
	bootinfo_copy_string(m->name, sizeof m->name, t->data + MB2_MODULE_FIXED_SIZE,
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
	bootinfo_normalize_mmap(bi, &src);       /* truncation is flagged, not fatal */
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
		bootinfo_copy_string(bi->cmdline, sizeof bi->cmdline, t->data, t->len);
		return 0;
	case MB2_TAG_LOADER_NAME:
		bootinfo_copy_string(bi->loader_name, sizeof bi->loader_name, t->data, t->len);
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
		bootinfo_copy_string(bi->boot_path, sizeof bi->boot_path, BOOT_PATH_GRUB_UEFI,
			    sizeof bi->boot_path);
	return 0;
}

