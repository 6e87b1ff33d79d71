/*
 * Stage 2 reads the GPT (include/boot/gpt.h) and checks that its header
 * table names the GPT's Kestrel partition. The BIOS path needs no partition
 * table (the table's absolute LBAs say where the kernel is), so a missing or
 * damaged GPT is one warning line and the boot goes on; a valid GPT whose
 * Kestrel partition lies elsewhere means the table is stale (the disk was
 * repartitioned), and reading its LBAs would load something else: that halts.
 */
#include <boot/gpt.h>
#include <kernel/crc32.h>
#include <kernel/string.h>
#include "stage2.h"

#define GPT_ENTRIES_MAX_BYTES   (128u * GPT_ENTRY_MIN_SIZE)     /* what mkimage.py writes */

static uint8_t header_sector[DISK_SECTOR_SIZE];
static uint8_t entry_array[GPT_ENTRIES_MAX_BYTES];
static const uint8_t kestrel_type[GPT_GUID_SIZE] = KESTREL_PART_GUID_BYTES;

/* NULL when the header at LBA 1 is sound (UEFI 2.10, 5.3.2), else why not. */
static const char *header_problem(struct gpt_header *g)
{
	uint32_t stored = g->header_crc32, crc;

	if (g->signature != GPT_SIGNATURE)
		return "no \"EFI PART\" signature at LBA 1";
	if (g->header_size < GPT_HEADER_MIN_SIZE || g->header_size > DISK_SECTOR_SIZE)
		return "header size out of range";
	g->header_crc32 = 0;
	crc = crc32_update(0, header_sector, g->header_size);
	g->header_crc32 = stored;
	if (crc != stored)
		return "header CRC32 mismatch";
	if (g->my_lba != GPT_HEADER_LBA)
		return "header's own LBA is not 1";
	if (g->entry_size < GPT_ENTRY_MIN_SIZE || (g->entry_size & (g->entry_size - 1)))
		return "entry size not 128 x 2^n";
	if ((uint64_t)g->entry_count * g->entry_size > GPT_ENTRIES_MAX_BYTES)
		return "entry array larger than stage 2 checks";
	return NULL;
}

void gpt_check(uint32_t drive, const struct stage2_header *h)
{
	struct gpt_header *g = (struct gpt_header *)header_sector;
	const char *why;
	uint32_t bytes;

	disk_read(drive, GPT_HEADER_LBA, DISK_SECTOR_SIZE, (uint32_t)(uintptr_t)header_sector);
	why = header_problem(g);
	if (!why) {
		bytes = g->entry_count * g->entry_size;
		disk_read(drive, g->entries_lba, bytes, (uint32_t)(uintptr_t)entry_array);
		if (crc32_update(0, entry_array, bytes) != g->entries_crc32)
			why = "entry array CRC32 mismatch";
	}
	if (why) {
		say("warning: no valid GPT (%s); using the image table as it is", why);
		return;
	}
	for (uint32_t i = 0; i < g->entry_count; i++) {
		const struct gpt_entry *e = (const void *)(entry_array + i * g->entry_size);

		if (memcmp(e->type_guid, kestrel_type, GPT_GUID_SIZE) != 0)
			continue;
		if (e->first_lba != h->part_lba || e->last_lba < e->first_lba ||
		    e->last_lba - e->first_lba + 1 != h->part_sectors)
			die("image table does not match GPT entry %u (Kestrel, LBA %llu-%llu): "
			    "rebuild the image with tools/mkimage.py", i + 1, e->first_lba, e->last_lba);
		say("GPT: Kestrel partition is entry %u, LBA %llu-%llu", i + 1, e->first_lba,
		    e->last_lba);
		return;
	}
	die("the GPT has no Kestrel partition (type 075CCA39-8580-412A-AD46-E41030E6378B)");
}
