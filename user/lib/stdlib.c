/* exit, abort and number parsing (C99 7.20.1.4, saturating instead of errno). */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

void exit(int status)
{
	sys_exit(status);
}

void abort(void)
{
	dprintf(STDERR_FILENO, "abort\n");
	sys_exit(ABORT_STATUS);
}

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Value of c as a digit, or 36 (more than any base) when it is none. */
static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a') + 10;
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A') + 10;
	return 36;
}

/* Skips the 0x/0 prefix that base 0 or 16 allows; returns the base in use. */
static int parse_prefix(const char **p, int base)
{
	bool hex = (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X') &&
		   digit_value((*p)[2]) < 16;

	if ((base == 0 || base == 16) && hex) {
		*p += 2;
		return 16;
	}
	if (base == 0)
		return (*p)[0] == '0' ? 8 : 10;
	return base;
}

/*
 * The magnitude of an optionally signed number; *overflow is set when it
 * does not fit in unsigned long. *end is s when there are no digits.
 */
static unsigned long parse_magnitude(const char *s, char **end, int base,
				     bool *neg, bool *overflow)
{
	const char *p = s, *digits;
	unsigned long v = 0;

	*neg = *overflow = false;
	while (is_space(*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if (base < 0 || base == 1 || base > 36) {
		if (end)
			*end = (char *)s;
		return 0;
	}
	base = parse_prefix(&p, base);
	for (digits = p; digit_value(*p) < (unsigned)base; p++) {
		unsigned d = digit_value(*p);

		if (v > (ULONG_MAX - d) / (unsigned)base)
			*overflow = true;
		else
			v = v * (unsigned)base + d;
	}
	if (end)
		*end = (char *)(p == digits ? s : p);
	return v;
}

long strtol(const char *s, char **end, int base)
{
	bool neg, overflow;
	unsigned long v = parse_magnitude(s, end, base, &neg, &overflow);

	if (neg)
		return overflow || v > LONG_MAX ? LONG_MIN : -(long)v;
	return overflow || v > LONG_MAX ? LONG_MAX : (long)v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	bool neg, overflow;
	unsigned long v = parse_magnitude(s, end, base, &neg, &overflow);

	if (overflow)
		return ULONG_MAX;
	return neg ? 0 - v : v;
}

int atoi(const char *s)
{
	long v = strtol(s, NULL, 10);

	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}
