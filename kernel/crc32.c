/* CRC-32, table driven, one byte at a time (include/kernel/crc32.h). */
#include <kernel/crc32.h>
#include <stdbool.h>

#define CRC32_POLY_REFLECTED    0xEDB88320u     /* x^32 + x^26 + ... + 1, bit reversed */
#define CRC32_XOR               0xFFFFFFFFu     /* initial value and final XOR */
#define CRC32_TABLE_SIZE        256
#define BITS_PER_BYTE           8

/* Filled on first use: no 1 KiB of constants in stage 2's image. Callers
 * are single-threaded (boot CPU before SMP, or stage 2). */
static uint32_t table[CRC32_TABLE_SIZE];
static bool table_ready;

static void table_fill(void)
{
	for (uint32_t i = 0; i < CRC32_TABLE_SIZE; i++) {
		uint32_t c = i;

		for (int bit = 0; bit < BITS_PER_BYTE; bit++)
			c = (c & 1) ? (c >> 1) ^ CRC32_POLY_REFLECTED : c >> 1;
		table[i] = c;
	}
	table_ready = true;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!table_ready)
		table_fill();
	crc ^= CRC32_XOR;
	while (len--)
		crc = table[(crc ^ *p++) & 0xFFu] ^ (crc >> BITS_PER_BYTE);
	return crc ^ CRC32_XOR;
}
