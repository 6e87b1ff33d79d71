/*
 * Host tests for kernel/format.c: every combination of flags, width,
 * precision, length modifier and edge value is compared with the host's
 * snprintf (C99), including return values and truncation at every size.
 */
#include "unit.h"
#include "../../kernel/format.c"

#include <stdint.h>
#include <stdlib.h>

typedef int (*snprintf_fn)(char *buf, size_t size, const char *fmt, ...);

enum len_mod { M_HH, M_H, M_NONE, M_L, M_LL, M_Z, M_J, M_T, M_COUNT };
static const char *const len_text[M_COUNT] = { "hh", "h", "", "l", "ll", "z", "j", "t" };

/* Edge values as bit patterns; each run converts them to the argument type. */
static const uint64_t int_values[] = {
	0, 1, 7, 42, (uint64_t)-1, (uint64_t)-42, 127, (uint64_t)-128, 255, 256, 300,
	32767, (uint64_t)-32768, 65535, 0x7FFFFFFF, (uint64_t)INT32_MIN, 0xFFFFFFFFu,
	0x100000000ull, 1234567890123ull, (uint64_t)-9876543210ll,
	(uint64_t)INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX, 0xDEADBEEFCAFEF00Dull,
};

/* "*" arguments: width first, then precision (C99 7.19.6.1p5). */
#define CALL_STARS(fn, buf, size, fmt, stars, w, p, val) \
	((stars) == 0 ? fn(buf, size, fmt, val) : \
	 (stars) == 1 ? fn(buf, size, fmt, w, val) : \
	 (stars) == 2 ? fn(buf, size, fmt, p, val) : fn(buf, size, fmt, w, p, val))

/* Runs fn with v converted to the type that conversion + modifier expects. */
static int run_int(snprintf_fn fn, char *buf, size_t size, const char *fmt, int stars,
		   int w, int p, enum len_mod m, bool is_signed, uint64_t v)
{
	switch (m) {
	case M_L:
		return is_signed ? CALL_STARS(fn, buf, size, fmt, stars, w, p, (long)v)
				 : CALL_STARS(fn, buf, size, fmt, stars, w, p, (unsigned long)v);
	case M_LL:
		return is_signed ? CALL_STARS(fn, buf, size, fmt, stars, w, p, (long long)v)
				 : CALL_STARS(fn, buf, size, fmt, stars, w, p, (unsigned long long)v);
	case M_Z:
	case M_T:
		return is_signed ? CALL_STARS(fn, buf, size, fmt, stars, w, p, (ptrdiff_t)v)
				 : CALL_STARS(fn, buf, size, fmt, stars, w, p, (size_t)v);
	case M_J:
		return is_signed ? CALL_STARS(fn, buf, size, fmt, stars, w, p, (intmax_t)v)
				 : CALL_STARS(fn, buf, size, fmt, stars, w, p, (uintmax_t)v);
	default:        /* int, and hh/h which take the promoted int */
		return is_signed ? CALL_STARS(fn, buf, size, fmt, stars, w, p, (int)v)
				 : CALL_STARS(fn, buf, size, fmt, stars, w, p, (unsigned int)v);
	}
}

struct int_case {
	const char *fmt;
	int stars, w, p;
	enum len_mod m;
	bool is_signed;
	uint64_t v;
};

/*
 * Output into an exactly sized heap buffer (ASan catches any write past
 * it) must be the host output cut at size-1, and the return value the
 * full length.
 */
static const char *check_truncation(const struct int_case *c, const char *want, int want_len)
{
	for (size_t size = 0; size <= (size_t)want_len + 1; size++) {
		char *buf = size ? malloc(size) : NULL;
		size_t keep = size ? size - 1 : 0;
		int n;

		if (size)
			memset(buf, 'Z', size);
		n = run_int(ksnprintf, buf, size, c->fmt, c->stars, c->w, c->p, c->m,
			    c->is_signed, c->v);
		bool ok = n == want_len &&
			  (!size || (memcmp(buf, want, keep) == 0 && buf[keep] == '\0'));
		free(buf);
		if (!ok)
			UFAIL("\"%s\" v=%#llx size %zu: got %d, want %d \"%.80s\"", c->fmt,
			      (unsigned long long)c->v, size, n, want_len, want);
	}
	return NULL;
}

static const char *check_int_case(const struct int_case *c, bool truncate)
{
	char want[512], got[512];
	int hn = run_int((snprintf_fn)snprintf, want, sizeof want, c->fmt, c->stars,
			 c->w, c->p, c->m, c->is_signed, c->v);
	int kn = run_int(ksnprintf, got, sizeof got, c->fmt, c->stars, c->w, c->p, c->m,
			 c->is_signed, c->v);

	if (hn < 0 || hn >= (int)sizeof want)
		UFAIL("host snprintf failed for \"%s\"", c->fmt);
	if (kn != hn || strcmp(got, want) != 0)
		UFAIL("\"%s\" (w=%d p=%d) v=%#llx: got %d \"%.80s\", want %d \"%.80s\"", c->fmt,
		      c->w, c->p, (unsigned long long)c->v, kn, got, hn, want);
	return truncate ? check_truncation(c, want, hn) : NULL;
}

static const char *const widths[] = { "", "1", "3", "8", "25", "*" };
static const char *const precisions[] = { "", ".", ".0", ".1", ".5", ".22", ".*" };
static const int star_values[] = { -12, -1, 0, 4, 17 };
#define NFLAGS 5
static const char flag_chars[NFLAGS] = { '-', '0', '+', ' ', '#' };

static void build_fmt(char *fmt, unsigned int flags, const char *width, const char *prec,
		      enum len_mod m, char conv)
{
	char *p = fmt;

	*p++ = '[';
	*p++ = '%';
	for (int i = 0; i < NFLAGS; i++)
		if (flags & (1u << i))
			*p++ = flag_chars[i];
	p += sprintf(p, "%s%s%s%c]", width, prec, len_text[m], conv);
}

/* The whole cross product for one conversion character. */
static const char *check_conversion(char conv, unsigned int *counter)
{
	bool is_signed = conv == 'd' || conv == 'i';
	char fmt[32];

	for (unsigned int flags = 0; flags < (1u << NFLAGS); flags++)
	for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
	for (size_t pi = 0; pi < sizeof precisions / sizeof precisions[0]; pi++)
	for (int m = 0; m < M_COUNT; m++) {
		int stars = (strchr(widths[wi], '*') != NULL) |
			    (strchr(precisions[pi], '*') != NULL) << 1;

		build_fmt(fmt, flags, widths[wi], precisions[pi], (enum len_mod)m, conv);
		for (size_t vi = 0; vi < sizeof int_values / sizeof int_values[0]; vi++) {
			unsigned int n = (*counter)++;
			struct int_case c = {
				fmt, stars, star_values[n % 5], star_values[(n / 5) % 5],
				(enum len_mod)m, is_signed, int_values[vi],
			};
			/* Truncation at every size for a spread-out sample. */
			const char *why = check_int_case(&c, n % 29 == 0);
			if (why)
				return why;
		}
	}
	return NULL;
}

static const char *test_integers_match_host(void)
{
	static const char convs[] = "diuxX";
	unsigned int counter = 0;

	for (const char *c = convs; *c; c++) {
		const char *why = check_conversion(*c, &counter);
		if (why)
			return why;
	}
	UASSERT(counter > 100000);      /* the table really ran */
	return NULL;
}

/* Hand-picked cases whose expected text is written out. */
static const char *test_integer_known_values(void)
{
	char b[64];

	UASSERT_EQ(ksnprintf(b, sizeof b, "%lld", (long long)INT64_MIN), 20);
	UASSERT_STR(b, "-9223372036854775808");
	ksnprintf(b, sizeof b, "%ld|%jd", (long)INT64_MIN, (intmax_t)INT64_MIN);
	UASSERT_STR(b, "-9223372036854775808|-9223372036854775808");
	ksnprintf(b, sizeof b, "%d", INT32_MIN);
	UASSERT_STR(b, "-2147483648");
	ksnprintf(b, sizeof b, "%08d|%-8d|%+.3d", -123, -123, 7);
	UASSERT_STR(b, "-0000123|-123    |+007");
	ksnprintf(b, sizeof b, "%llu %llx %llX", ~0ull, ~0ull, 0xabcdefull);
	UASSERT_STR(b, "18446744073709551615 ffffffffffffffff ABCDEF");
	ksnprintf(b, sizeof b, "%zu %zd %zx", (size_t)SIZE_MAX, (ptrdiff_t)-5, (size_t)255);
	UASSERT_STR(b, "18446744073709551615 -5 ff");
	ksnprintf(b, sizeof b, "%hhd %hhu %hd %hu", 200, 300, 40000, 70000);
	UASSERT_STR(b, "-56 44 -25536 4464");
	ksnprintf(b, sizeof b, "[%.0d][%.0x][%#x][%#08x][%#.4X]", 0, 0u, 0u, 0x1fu, 0xabu);
	UASSERT_STR(b, "[][][0][0x00001f][0X00AB]");
	return NULL;
}

static const char *test_star_width_precision(void)
{
	char b[64];

	ksnprintf(b, sizeof b, "[%*d][%-*d][%*d]", 5, 42, 5, 42, -5, 42);
	UASSERT_STR(b, "[   42][42   ][42   ]");
	ksnprintf(b, sizeof b, "[%.*d][%.*d][%0*d]", 4, 7, -1, 7, 6, -7);
	UASSERT_STR(b, "[0007][7][-00007]");
	ksnprintf(b, sizeof b, "[%*.*s]", 6, 2, "abcdef");
	UASSERT_STR(b, "[    ab]");
	return NULL;
}

static const char *test_strings_match_host(void)
{
	static const char *const fmts[] = {
		"%s", "[%10s]", "[%-10s]", "[%.3s]", "[%.0s]", "[%.s]", "[%8.3s]",
		"[%-8.3s]", "[%1s]", "[%.40s]", "[%30.29s]", "%s%s",
	};
	static const char *const strs[] = {
		"", "a", "hello", "exactly-ten", "with spaces and\ttabs",
		"0123456789012345678901234567890123456789xyz",
	};

	for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
		for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++) {
			char want[128], got[128];
			int hn = snprintf(want, sizeof want, fmts[f], strs[s], "!");
			int kn = ksnprintf(got, sizeof got, fmts[f], strs[s], "!");
			if (kn != hn || strcmp(got, want) != 0)
				UFAIL("\"%s\" \"%s\": got %d \"%s\", want %d \"%s\"", fmts[f],
				      strs[s], kn, got, hn, want);
		}
	}
	return NULL;
}

/* With a precision, %s must not read past it: the array is unterminated. */
static const char *test_string_precision_unterminated(void)
{
	char *raw = malloc(4);
	char b[16];
	int n;

	memcpy(raw, "abcd", 4);         /* no NUL: ASan flags any read of raw[4] */
	n = ksnprintf(b, sizeof b, "%.4s|%.*s", raw, 2, raw);
	free(raw);
	UASSERT_EQ(n, 7);
	UASSERT_STR(b, "abcd|ab");
	return NULL;
}

static const char *test_null_string(void)
{
	char *volatile null = NULL;     /* hidden from GCC's format checker */
	char b[32];

	UASSERT_EQ(ksnprintf(b, sizeof b, "%s", null), 6);
	UASSERT_STR(b, "(null)");
	ksnprintf(b, sizeof b, "[%8s][%-7s][%.3s]", null, null, null);
	UASSERT_STR(b, "[  (null)][(null) ][(nu]");
	return NULL;
}

static const char *test_chars_match_host(void)
{
	static const char *const fmts[] = { "%c", "[%3c]", "[%-3c]", "[%1c]", "%c%c" };
	static const int chars[] = { 'x', ' ', '%', 0x7f, 0xe9 };

	for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
		for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
			char want[16], got[16];
			int hn = snprintf(want, sizeof want, fmts[f], chars[i], 'y');
			int kn = ksnprintf(got, sizeof got, fmts[f], chars[i], 'y');
			if (kn != hn || memcmp(got, want, (size_t)hn + 1) != 0)
				UFAIL("\"%s\" char %#x: got \"%s\", want \"%s\"", fmts[f],
				      chars[i], got, want);
		}
	}
	return NULL;
}

/* %c of NUL produces a character (counted), like C99. */
static const char *test_char_nul(void)
{
	char b[8];

	memset(b, 'Z', sizeof b);
	UASSERT_EQ(ksnprintf(b, sizeof b, "a%cb", 0), 3);
	UASSERT(b[0] == 'a' && b[1] == '\0' && b[2] == 'b' && b[3] == '\0');
	return NULL;
}

static const char *test_pointer(void)
{
	char b[64], want[64];
	int x;

	UASSERT_EQ(ksnprintf(b, sizeof b, "%p", (void *)0), 18);
	UASSERT_STR(b, "0x0000000000000000");
	ksnprintf(b, sizeof b, "%p", (void *)0xffffffff80001234ull);
	UASSERT_STR(b, "0xffffffff80001234");
	ksnprintf(b, sizeof b, "[%20p][%-20p]", (void *)0x1a, (void *)0x1a);
	UASSERT_STR(b, "[  0x000000000000001a][0x000000000000001a  ]");
	snprintf(want, sizeof want, "0x%016jx", (uintmax_t)(uintptr_t)&x);
	ksnprintf(b, sizeof b, "%p", (void *)&x);
	UASSERT_STR(b, want);
	return NULL;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
/* Unknown conversions are printed as written and consume no argument. */
static const char *test_unknown_conversion_literal(void)
{
	char b[64];

	UASSERT_EQ(ksnprintf(b, sizeof b, "%y"), 2);
	UASSERT_STR(b, "%y");
	ksnprintf(b, sizeof b, "a%-5.2qb %d", 42);
	UASSERT_STR(b, "a%-5.2qb 42");
	ksnprintf(b, sizeof b, "%*k%d", 7);
	UASSERT_STR(b, "%*k7");
	ksnprintf(b, sizeof b, "%n|%d", 5);     /* %n is never honoured */
	UASSERT_STR(b, "%n|5");
	UASSERT_EQ(ksnprintf(b, sizeof b, "100%"), 4);
	UASSERT_STR(b, "100%");
	ksnprintf(b, sizeof b, "x%ll");
	UASSERT_STR(b, "x%ll");
	ksnprintf(b, sizeof b, "%08");
	UASSERT_STR(b, "%08");
	ksnprintf(b, sizeof b, "%%|%d%%", 3);
	UASSERT_STR(b, "%|3%");
	ksnprintf(b, sizeof b, "[%05p]", (void *)0x1a);    /* '0' ignored for %p */
	UASSERT_STR(b, "[0x000000000000001a]");
	return NULL;
}
#pragma GCC diagnostic pop

static const char *test_snprintf_size_zero_and_one(void)
{
	char b[4] = "abc";

	UASSERT_EQ(ksnprintf(NULL, 0, "%d-%s", 12345, "xyz"), 9);
	UASSERT_EQ(ksnprintf(b, 0, "%d", 9), 1);
	UASSERT_STR(b, "abc");                  /* size 0: untouched */
	UASSERT_EQ(ksnprintf(b, 1, "%d", 9), 1);
	UASSERT_STR(b, "");
	UASSERT_EQ(ksnprintf(b, sizeof b, "%s", ""), 0);
	UASSERT_STR(b, "");
	return NULL;
}

static const char *test_long_output_truncated(void)
{
	char b[16];

	memset(b, 'Z', sizeof b);
	UASSERT_EQ(ksnprintf(b, sizeof b, "%300d|%s", 1, "tail"), 305);
	UASSERT_STR(b, "               ");
	return NULL;
}

struct collect {
	char buf[64];
	size_t n;
};

static void collect_out(char c, void *ctx)
{
	struct collect *cl = ctx;

	if (cl->n < sizeof cl->buf)
		cl->buf[cl->n] = c;
	cl->n++;
}

static int call_kvformat(struct collect *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int call_kvformat(struct collect *cl, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvformat(collect_out, cl, fmt, ap);
	va_end(ap);
	return n;
}

/* kvformat calls the sink once per character and counts them all. */
static const char *test_kvformat_sink(void)
{
	struct collect cl = { .n = 0 };
	int n = call_kvformat(&cl, "%s=%#x%c", "key", 0x2au, '\0');

	UASSERT_EQ(n, 9);
	UASSERT_EQ(cl.n, 9);
	UASSERT(memcmp(cl.buf, "key=0x2a\0", 9) == 0);
	return NULL;
}

/* kvsnprintf leaves the caller's va_list usable through va_copy. */
static int twice(char *a, char *b, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int twice(char *a, char *b, size_t n, const char *fmt, ...)
{
	va_list ap, ap2;
	int r;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	r = kvsnprintf(a, n, fmt, ap);
	r += kvsnprintf(b, n, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	return r;
}

static const char *test_kvsnprintf_va_list(void)
{
	char a[32], b[32];

	UASSERT_EQ(twice(a, b, sizeof a, "%d %s %lld", -1, "two", 3ll), 16);
	UASSERT_STR(a, "-1 two 3");
	UASSERT_STR(b, "-1 two 3");
	return NULL;
}

static const char *fake_symbolizer(uint64_t addr, uint64_t *off)
{
	if (addr >= 0x1000 && addr < 0x1100) {
		*off = addr - 0x1000;
		return "some_function";
	}
	return NULL;
}

/* %pS symbolizes through the hook, falls back to %p, and consumes one argument. */
static const char *test_symbol_pointer(void)
{
	char buf[128];

	kformat_set_symbolizer(NULL);
	ksnprintf(buf, sizeof buf, "[%pS]", (void *)0x1010);
	UASSERT_STR(buf, "[0x0000000000001010]");
	kformat_set_symbolizer(fake_symbolizer);
	ksnprintf(buf, sizeof buf, "[%pS] %d", (void *)0x1010, 7);
	UASSERT_STR(buf, "[some_function+0x10] 7");
	ksnprintf(buf, sizeof buf, "%pS|%pS|%s", (void *)0x1000, (void *)0x2000, "end");
	UASSERT_STR(buf, "some_function+0x0|0x0000000000002000|end");
	kformat_set_symbolizer(NULL);
	return NULL;
}

UNIT_MAIN("format",
	  UTEST(test_symbol_pointer),
	  UTEST(test_integers_match_host),
	  UTEST(test_integer_known_values),
	  UTEST(test_star_width_precision),
	  UTEST(test_strings_match_host),
	  UTEST(test_string_precision_unterminated),
	  UTEST(test_null_string),
	  UTEST(test_chars_match_host),
	  UTEST(test_char_nul),
	  UTEST(test_pointer),
	  UTEST(test_unknown_conversion_literal),
	  UTEST(test_snprintf_size_zero_and_one),
	  UTEST(test_long_output_truncated),
	  UTEST(test_kvformat_sink),
	  UTEST(test_kvsnprintf_va_list))
