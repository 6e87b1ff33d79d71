/*
 * Kernel command line parsing. Grammar (Linux-like): words separated by
 * blanks (space, tab, CR, LF: fw_cfg strings often end in a newline); a `"`
 * toggles quoting so blanks inside quotes stay in the word, and an
 * unterminated quote runs to the end. word = key [ "=" value ].
 */
#include <kernel/cmdline.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define CMDLINE_U64_MAX_TEXT    64      /* longer values are not numbers we accept */

/* One word of the command line: [start, start + len), key is its prefix. */
struct cmdline_word {
	const char *start;
	size_t len;
	size_t keylen;
	bool has_value;         /* key is followed by '=' */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Finds the word at or after p; returns the position after it, or NULL. */
static const char *next_word(const char *p, struct cmdline_word *w)
{
	bool quoted = false;

	while (is_blank(*p))
		p++;
	if (!*p)
		return NULL;
	w->start = p;
	for (; *p && (quoted || !is_blank(*p)); p++)
		if (*p == '"')
			quoted = !quoted;
	w->len = (size_t)(p - w->start);
	for (w->keylen = 0; w->keylen < w->len && w->start[w->keylen] != '='; w->keylen++)
		;
	w->has_value = w->keylen < w->len;
	return p;
}

/* The last word whose key is exactly `key` (a whole key, not a prefix). */
static bool find_last(const char *cmdline, const char *key, struct cmdline_word *found)
{
	size_t keylen = strlen(key);
	struct cmdline_word w;
	const char *p = cmdline;
	bool any = false;

	if (!cmdline || keylen == 0)
		return false;
	while ((p = next_word(p, &w)) != NULL) {
		if (w.keylen == keylen && memcmp(w.start, key, keylen) == 0) {
			*found = w;
			any = true;
		}
	}
	return any;
}

int cmdline_get(const char *cmdline, const char *key, char *out, size_t outlen)
{
	struct cmdline_word w;
	size_t len = 0;

	if (outlen)
		out[0] = '\0';
	if (!find_last(cmdline, key, &w))
		return CMDLINE_ABSENT;
	/* The value is everything after '=', with the quote characters removed. */
	for (size_t i = w.keylen + w.has_value; i < w.len; i++) {
		if (w.start[i] == '"')
			continue;
		if (len + 1 < outlen)
			out[len] = w.start[i];
		len++;
	}
	if (len >= outlen) {
		if (outlen)
			out[outlen - 1] = '\0';
		return -ERANGE;
	}
	out[len] = '\0';
	return (int)len;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	struct cmdline_word w;

	return find_last(cmdline, key, &w);
}

int cmdline_append(char *dst, size_t dstlen, const char *words)
{
	size_t used = strnlen(dst, dstlen);
	size_t add = strlen(words);
	size_t sep = used && add ? 1 : 0;

	if (used == dstlen)
		return -EINVAL;
	if (add + sep >= dstlen - used)
		return -ERANGE;
	if (sep)
		dst[used] = ' ';
	memcpy(dst + used + sep, words, add + 1);
	return 0;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Binary multiplier shift for a size suffix, or -1 if c is not one. */
static int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	default: return -1;
	}
}

/* "123", "0x7f", "64K", "0x10M": all of s must be consumed. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	const char *digits;
	int d, shift;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (digits = s; (d = digit_value(*s)) >= 0 && (unsigned int)d < base; s++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	if (s == digits)
		return -EINVAL;
	if ((shift = suffix_shift(*s)) >= 0) {
		if (v > UINT64_MAX >> shift)
			return -ERANGE;
		v <<= shift;
		s++;
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
	char text[CMDLINE_U64_MAX_TEXT];
	int n = cmdline_get(cmdline, key, text, sizeof text);

	if (n == CMDLINE_ABSENT)
		return CMDLINE_ABSENT;
	if (n < 0)
		return -EINVAL;
	return parse_u64(text, out);
}
