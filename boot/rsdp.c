/*
 * The ACPI RSDP as a BIOS leaves it (ACPI 6.x 5.2.5.1): the first KiB of the
 * EBDA, then the BIOS ROM area, checksums checked. The kernel reads the
 * tables; the loader only passes the pointer on in boot_info.
 */
#include <kernel/string.h>
#include "stage2.h"

/* ACPI 6.x 5.2.5: RSDP search areas */
#define BDA_EBDA_SEGMENT        0x40E   /* word: EBDA segment */
#define EBDA_LOW                0x80000 /* a sane EBDA lies in [EBDA_LOW, EBDA_HIGH) */
#define EBDA_HIGH               0xA0000
#define EBDA_SEARCH_LEN         1024
#define BIOS_ROM_START          0xE0000
#define BIOS_ROM_END            0x100000
#define RSDP_ALIGN              16
#define RSDP_SIGNATURE          "RSD PTR "
#define RSDP_SIGNATURE_LEN      8
#define RSDP_REVISION_2         2       /* ACPI 2.0+: XSDT, length, extended checksum */
#define RSDP_V1_LEN             20
#define RSDP_REVISION_OFF       15
#define RSDP_LENGTH_OFF         20
#define RSDP_V2_LEN             36

static uint8_t byte_sum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* Signature, ACPI 1.0 checksum, and for revision 2+ the extended checksum. */
static bool rsdp_valid(const uint8_t *p)
{
	uint32_t len;

	if (memcmp(p, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN) != 0 || byte_sum(p, RSDP_V1_LEN) != 0)
		return false;
	if (p[RSDP_REVISION_OFF] < RSDP_REVISION_2)
		return true;
	memcpy(&len, p + RSDP_LENGTH_OFF, sizeof len);
	return len >= RSDP_V2_LEN && byte_sum(p, RSDP_V2_LEN) == 0;
}

static const uint8_t *rsdp_scan(uint32_t start, uint32_t end)
{
	uint32_t a = (uint32_t)align_up(start, RSDP_ALIGN);

	for (; a + RSDP_V1_LEN <= end; a += RSDP_ALIGN)
		if (rsdp_valid(phys(a)))
			return phys(a);
	return NULL;
}

/* ACPI 6.x 5.2.5.1: first KiB of the EBDA, then the BIOS ROM area. */
void rsdp_find(struct boot_info *bi)
{
	const uint16_t *ebda_seg = phys(BDA_EBDA_SEGMENT);
	uint32_t ebda = (uint32_t)*ebda_seg << 4;
	const uint8_t *p = NULL;

	if (ebda >= EBDA_LOW && ebda < EBDA_HIGH)
		p = rsdp_scan(ebda, ebda + EBDA_SEARCH_LEN);
	if (!p)
		p = rsdp_scan(BIOS_ROM_START, BIOS_ROM_END);
	if (!p)
		return;
	bi->rsdp_revision = p[RSDP_REVISION_OFF];
	bi->rsdp_length = bi->rsdp_revision >= RSDP_REVISION_2 ? RSDP_V2_LEN : RSDP_V1_LEN;
	bi->rsdp_addr = (uintptr_t)p;
	memcpy(bi->rsdp, p, bi->rsdp_length);
}
