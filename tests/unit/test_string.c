/*
 * Host tests for kernel/string.c. The functions are renamed kstr_* while
 * included: under their own names GCC would treat calls as builtins (fold
 * or inline them) and the host program would interpose libc's copies.
 */
#include "unit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define memcpy  kstr_memcpy
#define memmove kstr_memmove
#define memset  kstr_memset
#define memcmp  kstr_memcmp
#define strlen  kstr_strlen
#define strnlen kstr_strnlen
#define strcmp  kstr_strcmp
#define strncmp kstr_strncmp
#define strchr  kstr_strchr
#define strlcpy kstr_strlcpy
#define strlcat kstr_strlcat
#include "../../kernel/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strlcpy
#undef strlcat

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/*
 * Lengths around the 8-byte steps of the x86-64 word loop (REP MOVSQ) and
 * its byte tail, and page-sized ones, at every alignment.
 */
static const size_t lengths[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23, 24, 25, 31, 32, 33,
	39, 40, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4095, 4096, 4097, 8191,
};
#define NLENGTHS (sizeof lengths / sizeof lengths[0])

/*
 * Every length and alignment, into exact heap blocks: ASan sees overruns
 * of the C loops; guard bytes around the copy catch the assembly's.
 */
static const char *test_memcpy(void)
{
	for (size_t li = 0; li < NLENGTHS; li++) {
		size_t n = lengths[li];
		for (size_t off = 0; off < 8; off++) {
			unsigned char *src = malloc(n + off + 1), *dst = malloc(n + off + 1);
			for (size_t i = 0; i < n + off + 1; i++) {
				src[i] = (unsigned char)(i * 7 + 1);
				dst[i] = 0xCC;
			}
			void *r = kstr_memcpy(dst + off, src + off, n);
			bool ok = r == dst + off && memcmp(dst + off, src + off, n) == 0;
			for (size_t i = 0; i < n + off + 1; i++)
				if ((i < off || i >= off + n) && dst[i] != 0xCC)
					ok = false;
			free(src);
			free(dst);
			if (!ok)
				UFAIL("memcpy n=%zu off=%zu", n, off);
		}
	}
	return NULL;
}

/* All overlapping moves inside a small buffer, against a copy-through-temp reference. */
static const char *test_memmove_overlap(void)
{
	enum { LEN = 24 };
	unsigned char buf[LEN], want[LEN], tmp[LEN];

	for (size_t dst = 0; dst < LEN; dst++) {
		for (size_t src = 0; src < LEN; src++) {
			size_t max = LEN - (dst > src ? dst : src);
			for (size_t n = 0; n <= max; n++) {
				for (size_t i = 0; i < LEN; i++)
					buf[i] = want[i] = (unsigned char)(i + 'A');
				memcpy(tmp, want + src, n);
				memcpy(want + dst, tmp, n);
				if (kstr_memmove(buf + dst, buf + src, n) != buf + dst ||
				    memcmp(buf, want, LEN) != 0)
					UFAIL("memmove dst=%zu src=%zu n=%zu", dst, src, n);
			}
		}
	}
	return NULL;
}

static const char *test_memset_lengths(void)
{
	for (size_t li = 0; li < NLENGTHS; li++) {
		size_t n = lengths[li];
		for (size_t off = 0; off < 8; off++) {
			unsigned char *b = malloc(n + off + 1);
			bool ok;
			memset(b, 0xCC, n + off + 1);
			ok = kstr_memset(b + off, 0x5A, n) == b + off;
			for (size_t i = 0; i < n + off + 1; i++)
				if (b[i] != (i >= off && i < off + n ? 0x5A : 0xCC))
					ok = false;
			free(b);
			if (!ok)
				UFAIL("memset n=%zu off=%zu", n, off);
		}
	}
	return NULL;
}

/* Long overlapping moves both ways, through the word loop. */
static const char *test_memmove_long(void)
{
	enum { LEN = 300 };
	unsigned char buf[LEN], want[LEN], tmp[LEN];
	static const size_t shifts[] = { 1, 3, 7, 8, 9, 16, 100 };

	for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
		for (int dir = 0; dir < 2; dir++) {
			size_t n = LEN - shifts[k], dst = dir ? shifts[k] : 0, src = dir ? 0 : shifts[k];
			for (size_t i = 0; i < LEN; i++)
				buf[i] = want[i] = (unsigned char)(i * 13 + 5);
			memcpy(tmp, want + src, n);
			memcpy(want + dst, tmp, n);
			if (kstr_memmove(buf + dst, buf + src, n) != buf + dst || memcmp(buf, want, LEN))
				UFAIL("memmove dst=%zu src=%zu n=%zu", dst, src, n);
		}
	}
	return NULL;
}

static const char *test_memset(void)
{
	unsigned char b[16];

	memset(b, 0x11, sizeof b);
	UASSERT(kstr_memset(b + 2, 0x1AB, 5) == b + 2);        /* converted to unsigned char */
	for (size_t i = 0; i < sizeof b; i++)
		UASSERT_EQ(b[i], i >= 2 && i < 7 ? 0xAB : 0x11);
	kstr_memset(b, -1, 1);
	UASSERT_EQ(b[0], 0xFF);
	kstr_memset(b, 0, 0);
	UASSERT_EQ(b[0], 0xFF);
	return NULL;
}

static const char *test_memcmp(void)
{
	UASSERT_EQ(kstr_memcmp("abc", "abc", 3), 0);
	UASSERT_EQ(kstr_memcmp("abc", "abd", 2), 0);
	UASSERT_EQ(kstr_memcmp("x", "y", 0), 0);
	UASSERT(kstr_memcmp("abc", "abd", 3) < 0);
	UASSERT(kstr_memcmp("abd", "abc", 3) > 0);
	/* Bytes compare as unsigned char: 0x80 > 0x01. */
	UASSERT(kstr_memcmp("\x80", "\x01", 1) > 0);
	UASSERT(kstr_memcmp("\x01", "\xff", 1) < 0);
	/* Compares past NUL bytes (it is not a string function). */
	UASSERT(kstr_memcmp("a\0b", "a\0c", 3) < 0);
	return NULL;
}

static const char *test_strlen_strnlen(void)
{
	char *raw = malloc(5);

	UASSERT_EQ(kstr_strlen(""), 0);
	UASSERT_EQ(kstr_strlen("kestrel"), 7);
	UASSERT_EQ(kstr_strnlen("kestrel", 3), 3);
	UASSERT_EQ(kstr_strnlen("kestrel", 100), 7);
	UASSERT_EQ(kstr_strnlen("kestrel", 0), 0);
	memcpy(raw, "abcde", 5);                /* unterminated: must not read raw[5] */
	size_t n = kstr_strnlen(raw, 5);
	free(raw);
	UASSERT_EQ(n, 5);
	return NULL;
}

/* Results compared by sign with the host's libc. */
static const char *test_strcmp_strncmp(void)
{
	static const char *const s[] = { "", "a", "ab", "abc", "abd", "b", "\xe9", "A", "ab\x80" };
	static const size_t ns[] = { 0, 1, 2, 3, 10 };

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		for (size_t j = 0; j < sizeof s / sizeof s[0]; j++) {
			if (sign(kstr_strcmp(s[i], s[j])) != sign(strcmp(s[i], s[j])))
				UFAIL("strcmp(\"%s\", \"%s\")", s[i], s[j]);
			for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
				if (sign(kstr_strncmp(s[i], s[j], ns[k])) !=
				    sign(strncmp(s[i], s[j], ns[k])))
					UFAIL("strncmp(\"%s\", \"%s\", %zu)", s[i], s[j], ns[k]);
		}
	}
	/* strncmp stops at the terminator: bytes after it do not count. */
	UASSERT_EQ(kstr_strncmp("ab\0x", "ab\0y", 4), 0);
	UASSERT(kstr_strcmp("\xe9", "a") > 0);  /* unsigned comparison */
	return NULL;
}

static const char *test_strchr(void)
{
	const char *s = "hello\xe9world";

	UASSERT(kstr_strchr(s, 'l') == s + 2);
	UASSERT(kstr_strchr(s, 'h') == s);
	UASSERT(kstr_strchr(s, 'z') == NULL);
	UASSERT(kstr_strchr(s, '\0') == s + 11);        /* the terminator is found */
	UASSERT(kstr_strchr(s, 0xe9) == s + 5);         /* c is converted to char */
	UASSERT(kstr_strchr(s, 0x100 + 'w') == s + 6);
	UASSERT(kstr_strchr("", 'a') == NULL);
	return NULL;
}

static const char *test_strlcpy(void)
{
	char b[8];

	memset(b, 'Z', sizeof b);
	UASSERT_EQ(kstr_strlcpy(b, "abc", sizeof b), 3);
	UASSERT_STR(b, "abc");
	UASSERT_EQ(kstr_strlcpy(b, "abcdefghij", sizeof b), 10);       /* truncated */
	UASSERT_STR(b, "abcdefg");
	UASSERT_EQ(kstr_strlcpy(b, "1234567", sizeof b), 7);           /* exact fit */
	UASSERT_STR(b, "1234567");
	UASSERT_EQ(kstr_strlcpy(b, "xyz", 1), 3);
	UASSERT_STR(b, "");
	memcpy(b, "keep", 5);
	UASSERT_EQ(kstr_strlcpy(b, "xyz", 0), 3);                      /* size 0: untouched */
	UASSERT_STR(b, "keep");
	UASSERT_EQ(kstr_strlcpy(NULL, "xyz", 0), 3);
	return NULL;
}

static const char *test_strlcat(void)
{
	char b[8] = "ab";

	UASSERT_EQ(kstr_strlcat(b, "cd", sizeof b), 4);
	UASSERT_STR(b, "abcd");
	UASSERT_EQ(kstr_strlcat(b, "efghij", sizeof b), 10);           /* truncated */
	UASSERT_STR(b, "abcdefg");
	UASSERT_EQ(kstr_strlcat(b, "x", sizeof b), 8);                 /* full */
	UASSERT_STR(b, "abcdefg");
	UASSERT_EQ(kstr_strlcat(b, "", sizeof b), 7);

	/* dst not terminated within size: returns size + strlen(src), no write. */
	char raw[4] = { 'w', 'x', 'y', 'z' };
	UASSERT_EQ(kstr_strlcat(raw, "abc", sizeof raw), 7);
	UASSERT(memcmp(raw, "wxyz", 4) == 0);
	UASSERT_EQ(kstr_strlcat(raw, "abc", 0), 3);

	char e[4] = "";
	UASSERT_EQ(kstr_strlcat(e, "abc", sizeof e), 3);
	UASSERT_STR(e, "abc");
	return NULL;
}

UNIT_MAIN("string",
	  UTEST(test_memcpy),
	  UTEST(test_memmove_overlap),
	  UTEST(test_memmove_long),
	  UTEST(test_memset),
	  UTEST(test_memset_lengths),
	  UTEST(test_memcmp),
	  UTEST(test_strlen_strnlen),
	  UTEST(test_strcmp_strncmp),
	  UTEST(test_strchr),
	  UTEST(test_strlcpy),
	  UTEST(test_strlcat))
