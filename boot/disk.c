/* Disk reads through the BIOS: INT 13h extended reads (EDD 3.0), retried after a reset. */
#include <kernel/string.h>
#include "stage2.h"

#define INT_DISK                0x13
#define   DISK_RESET            0x00    /* AH */
#define   DISK_EXT_READ         0x42    /* AH, EDD 3.0 */
#define   DISK_RETRIES          3

/* EDD 3.0 disk address packet */
struct disk_address_packet {
	uint8_t size;
	uint8_t reserved;
	uint16_t count;                 /* in: sectors wanted; out: sectors read */
	uint16_t offset, segment;       /* buffer, real-mode form */
	uint64_t lba;
} __attribute__((packed));
_Static_assert(sizeof(struct disk_address_packet) == 16, "EDD 3.0 DAP");

/* The BIOS reads this, so it lives in .bss below 1 MiB. */
static struct disk_address_packet dap;

static bool disk_read_chunk(uint32_t drive, uint64_t lba, uint16_t count)
{
	for (int attempt = 0; attempt < DISK_RETRIES; attempt++) {
		struct bios_regs r = { .eax = DISK_EXT_READ << 8, .edx = drive };

		dap = (struct disk_address_packet){ .size = sizeof dap, .count = count,
			.offset = rm_off(phys(BOUNCE_ADDR)), .segment = rm_seg(phys(BOUNCE_ADDR)),
			.lba = lba };
		r.ds = rm_seg(&dap);
		r.esi = rm_off(&dap);
		bios_int(INT_DISK, &r);
		/* The BIOS writes back how many sectors it really read. */
		if (!(r.eflags & EFLAGS_CF) && dap.count == count)
			return true;
		r = (struct bios_regs){ .eax = DISK_RESET << 8, .edx = drive };
		bios_int(INT_DISK, &r);
	}
	return false;
}

void disk_read(uint32_t drive, uint64_t lba, uint64_t bytes, uint32_t dest)
{
	while (bytes) {
		uint32_t n = bytes < BOUNCE_SIZE ? (uint32_t)bytes : BOUNCE_SIZE;
		uint16_t sectors = (uint16_t)((n + DISK_SECTOR_SIZE - 1) / DISK_SECTOR_SIZE);

		if (!disk_read_chunk(drive, lba, sectors))
			die("disk read error at LBA %llu (drive 0x%x)", lba, drive);
		memcpy(phys(dest), phys(BOUNCE_ADDR), n);
		lba += sectors;
		dest += n;
		bytes -= n;
	}
}
