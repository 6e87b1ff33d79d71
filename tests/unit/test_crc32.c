/* Host tests for kernel/crc32.c: the standard check values, chaining, and
 * agreement with a bit-at-a-time reference on random data. */
#include "unit.h"
#include "../../kernel/crc32.c"

#include <stdlib.h>

/* The CRC-32 definition itself, one bit at a time (no table). */
static uint32_t crc32_reference(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return ~c;
}

static const char *test_check_values(void)
{
	/* The catalogue's check value for CRC-32/ISO-HDLC, and zlib's. */
	UASSERT_EQ(crc32_update(0, "123456789", 9), 0xCBF43926u);
	UASSERT_EQ(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
	UASSERT_EQ(crc32_update(0, "", 0), 0);
	UASSERT_EQ(crc32_update(0, "a", 1), 0xE8B7BE43u);
	return NULL;
}

static const char *test_chaining(void)
{
	static const char s[] = "123456789";

	for (size_t cut = 0; cut <= 9; cut++)
		UASSERT_EQ(crc32_update(crc32_update(0, s, cut), s + cut, 9 - cut), 0xCBF43926u);
	return NULL;
}

static const char *test_matches_reference(void)
{
	static uint8_t buf[4096];

	srand(11);
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand() % (int)sizeof buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rand();
		UASSERT_EQ(crc32_update(0, buf, n), crc32_reference(buf, n));
	}
	return NULL;
}

static const char *test_single_bit_changes_the_crc(void)
{
	static uint8_t buf[512];
	uint32_t base = crc32_update(0, buf, sizeof buf);

	for (size_t bit = 0; bit < sizeof buf * 8; bit += 37) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		UASSERT(crc32_update(0, buf, sizeof buf) != base);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	return NULL;
}

UNIT_MAIN("crc32",
	  UTEST(test_check_values),
	  UTEST(test_chaining),
	  UTEST(test_matches_reference),
	  UTEST(test_single_bit_changes_the_crc))
