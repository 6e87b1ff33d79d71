/* Host tests for kernel/cmdline.c: lookup, quoting, override order, append, numbers. */
#include "unit.h"
#include "../../kernel/cmdline.c"

#include <stdlib.h>

/* Looks key up into an exactly sized heap buffer so ASan sees any overrun. */
static int get_exact(const char *cmdline, const char *key, size_t outlen, char *copy)
{
	char *out = outlen ? malloc(outlen) : NULL;
	int n;

	if (out)
		memset(out, 'X', outlen);
	n = cmdline_get(cmdline, key, out, outlen);
	if (out) {
		memcpy(copy, out, outlen);
		free(out);
	}
	return n;
}

static const char *test_get_basic(void)
{
	const char *c = "root=/dev/sda1 quiet test=smp console=ttyS0,115200";
	char v[64];

	UASSERT_EQ(cmdline_get(c, "test", v, sizeof v), 3);
	UASSERT_STR(v, "smp");
	UASSERT_EQ(cmdline_get(c, "root", v, sizeof v), 9);
	UASSERT_STR(v, "/dev/sda1");
	UASSERT_EQ(cmdline_get(c, "console", v, sizeof v), 12);
	UASSERT_STR(v, "ttyS0,115200");
	return NULL;
}

static const char *test_bare_flag_is_empty_value(void)
{
	char v[8] = "junk";

	UASSERT_EQ(cmdline_get("a=1 quiet b=2", "quiet", v, sizeof v), 0);
	UASSERT_STR(v, "");
	UASSERT_EQ(cmdline_get("debug=", "debug", v, sizeof v), 0);
	UASSERT_STR(v, "");
	UASSERT(cmdline_has("a=1 quiet b=2", "quiet"));
	UASSERT(cmdline_has("a=1 quiet b=2", "a"));
	UASSERT(cmdline_has("debug=", "debug"));
	return NULL;
}

static const char *test_absent_terminates_out(void)
{
	char v[8];

	memset(v, 'X', sizeof v);
	UASSERT_EQ(cmdline_get("a=1 b=2", "c", v, sizeof v), CMDLINE_ABSENT);
	UASSERT_STR(v, "");
	UASSERT(!cmdline_has("a=1 b=2", "c"));
	return NULL;
}

static const char *test_last_occurrence_wins(void)
{
	char v[16];

	UASSERT_EQ(cmdline_get("test=a foo test=bb", "test", v, sizeof v), 2);
	UASSERT_STR(v, "bb");
	/* A later bare word overrides an earlier value, and vice versa. */
	UASSERT_EQ(cmdline_get("test=a test", "test", v, sizeof v), 0);
	UASSERT_EQ(cmdline_get("test test=c", "test", v, sizeof v), 1);
	UASSERT_STR(v, "c");
	return NULL;
}

static const char *test_key_matches_whole_word_key(void)
{
	char v[16];

	UASSERT_EQ(cmdline_get("tests=1 mytest=2 test_x=3 testy", "test", v, sizeof v),
		   CMDLINE_ABSENT);
	UASSERT(!cmdline_has("tests=1 mytest=2 test_x=3 testy", "test"));
	UASSERT_EQ(cmdline_get("test=1 tests=2", "test", v, sizeof v), 1);
	UASSERT_STR(v, "1");
	UASSERT_EQ(cmdline_get("tests=2 test=1", "tests", v, sizeof v), 1);
	UASSERT_STR(v, "2");
	UASSERT(!cmdline_has("test=1", "tes"));
	UASSERT(!cmdline_has("test=1", "test=1"));  /* keys never contain '=' */
	UASSERT(!cmdline_has("quiet", "quiet2"));
	return NULL;
}

static const char *test_value_may_contain_equals(void)
{
	char v[16];

	UASSERT_EQ(cmdline_get("opt=a=b", "opt", v, sizeof v), 3);
	UASSERT_STR(v, "a=b");
	UASSERT(!cmdline_has("opt=a=b", "opt=a"));
	return NULL;
}

static const char *test_quoted_values(void)
{
	char v[32];

	UASSERT_EQ(cmdline_get("x=0 key=\"a b\" y=1", "key", v, sizeof v), 3);
	UASSERT_STR(v, "a b");
	UASSERT_EQ(cmdline_get("x=0 key=\"a b\" y=1", "y", v, sizeof v), 1);
	UASSERT_STR(v, "1");
	UASSERT_EQ(cmdline_get("key=\"tab\there\"", "key", v, sizeof v), 8);
	UASSERT_STR(v, "tab\there");
	/* Quotes group; they are not part of the value, wherever they are. */
	UASSERT_EQ(cmdline_get("key=a\"b c\"d", "key", v, sizeof v), 5);
	UASSERT_STR(v, "ab cd");
	UASSERT_EQ(cmdline_get("key=\"\" z", "key", v, sizeof v), 0);
	UASSERT_STR(v, "");
	UASSERT_EQ(cmdline_get("key=\"x=y z\"", "key", v, sizeof v), 5);
	UASSERT_STR(v, "x=y z");
	return NULL;
}

static const char *test_unterminated_quote_runs_to_end(void)
{
	const char *c = "a=1 key=\"a b c=d  e";
	char v[32];

	UASSERT_EQ(cmdline_get(c, "key", v, sizeof v), 10);
	UASSERT_STR(v, "a b c=d  e");
	UASSERT(!cmdline_has(c, "c"));  /* inside the quoted word */
	UASSERT_EQ(cmdline_get(c, "a", v, sizeof v), 1);
	UASSERT_EQ(cmdline_get("key=\"", "key", v, sizeof v), 0);
	return NULL;
}

static const char *test_empty_and_null_cmdline(void)
{
	char v[4];

	UASSERT_EQ(cmdline_get("", "a", v, sizeof v), CMDLINE_ABSENT);
	UASSERT_EQ(cmdline_get(NULL, "a", v, sizeof v), CMDLINE_ABSENT);
	UASSERT_EQ(cmdline_get(" \t \n", "a", v, sizeof v), CMDLINE_ABSENT);
	UASSERT(!cmdline_has("", "a"));
	UASSERT(!cmdline_has(NULL, "a"));
	/* An empty key matches nothing, not even a word starting with '='. */
	UASSERT(!cmdline_has("=x a", ""));
	UASSERT_EQ(cmdline_get("=x", "", v, sizeof v), CMDLINE_ABSENT);
	return NULL;
}

static const char *test_blanks_separate(void)
{
	const char *c = "  a=1 \t\t b=2\t\r\nflag\n";
	char v[8];

	UASSERT_EQ(cmdline_get(c, "a", v, sizeof v), 1);
	UASSERT_STR(v, "1");
	UASSERT_EQ(cmdline_get(c, "b", v, sizeof v), 1);
	UASSERT_STR(v, "2");
	UASSERT_EQ(cmdline_get(c, "flag", v, sizeof v), 0);
	return NULL;
}

static const char *test_truncation(void)
{
	char copy[16];

	UASSERT_EQ(get_exact("k=abcdef", "k", 4, copy), -ERANGE);
	UASSERT_STR(copy, "abc");
	UASSERT_EQ(get_exact("k=abcdef", "k", 6, copy), -ERANGE);      /* no room for NUL */
	UASSERT_STR(copy, "abcde");
	UASSERT_EQ(get_exact("k=abcdef", "k", 7, copy), 6);
	UASSERT_STR(copy, "abcdef");
	UASSERT_EQ(get_exact("k=\"a b\"", "k", 3, copy), -ERANGE);
	UASSERT_STR(copy, "a ");
	UASSERT_EQ(get_exact("k=abc", "k", 1, copy), -ERANGE);
	UASSERT_STR(copy, "");
	UASSERT_EQ(get_exact("k", "k", 1, copy), 0);
	/* outlen 0: nothing written (out may be NULL), presence still reported. */
	UASSERT_EQ(cmdline_get("k", "k", NULL, 0), -ERANGE);
	UASSERT_EQ(cmdline_get("k", "j", NULL, 0), CMDLINE_ABSENT);
	return NULL;
}

static const char *test_append(void)
{
	char b[32] = "";
	char v[8];

	UASSERT_EQ(cmdline_append(b, sizeof b, "test=a"), 0);
	UASSERT_STR(b, "test=a");               /* no leading space */
	UASSERT_EQ(cmdline_append(b, sizeof b, "quiet test=b"), 0);
	UASSERT_STR(b, "test=a quiet test=b");
	UASSERT_EQ(cmdline_append(b, sizeof b, ""), 0);
	UASSERT_STR(b, "test=a quiet test=b");  /* no trailing space */
	/* The appended (fw_cfg) words override the earlier ones. */
	UASSERT_EQ(cmdline_get(b, "test", v, sizeof v), 1);
	UASSERT_STR(v, "b");
	return NULL;
}

static const char *test_append_exact_fit_and_overflow(void)
{
	char b[8] = "abc";
	char before[8];

	UASSERT_EQ(cmdline_append(b, sizeof b, "def"), 0);  /* "abc def" + NUL = 8 */
	UASSERT_STR(b, "abc def");
	memcpy(before, b, sizeof b);
	UASSERT_EQ(cmdline_append(b, sizeof b, "g"), -ERANGE);
	UASSERT(memcmp(b, before, sizeof b) == 0);

	char c[8] = "abcd";
	memcpy(before, c, sizeof c);
	UASSERT_EQ(cmdline_append(c, sizeof c, "efg"), -ERANGE);       /* needs 9 */
	UASSERT(memcmp(c, before, sizeof c) == 0);

	char e[4] = "";
	UASSERT_EQ(cmdline_append(e, sizeof e, "xyz"), 0);
	UASSERT_STR(e, "xyz");
	return NULL;
}

static const char *test_append_unterminated_dst(void)
{
	char b[4] = { 'a', 'b', 'c', 'd' };

	UASSERT_EQ(cmdline_append(b, sizeof b, "x"), -EINVAL);
	UASSERT(memcmp(b, "abcd", 4) == 0);
	UASSERT_EQ(cmdline_append(b, 0, "x"), -EINVAL);
	return NULL;
}

static const char *test_u64_values(void)
{
	static const struct { const char *text; uint64_t want; } ok[] = {
		{ "n=0", 0 }, { "n=42", 42 }, { "n=0x1000", 0x1000 }, { "n=0XfF", 255 },
		{ "n=512M", 512ull << 20 }, { "n=64K", 64ull << 10 }, { "n=2g", 2ull << 30 },
		{ "n=0x10k", 16ull << 10 }, { "n=0xBM", 11ull << 20 },
		{ "n=18446744073709551615", UINT64_MAX }, { "n=0xFFFFFFFFFFFFFFFF", UINT64_MAX },
		{ "n=17179869183G", 17179869183ull << 30 }, { "n=\"16M\"", 16ull << 20 },
		{ "n=007", 7 }, { "n=1 n=2", 2 },
	};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = 12345;
		int r = cmdline_get_u64(ok[i].text, "n", &v);
		if (r != 0 || v != ok[i].want)
			UFAIL("\"%s\": r=%d v=%#llx want %#llx", ok[i].text, r,
			      (unsigned long long)v, (unsigned long long)ok[i].want);
	}
	return NULL;
}

static const char *test_u64_errors(void)
{
	static const struct { const char *text; int want; } bad[] = {
		{ "n", -EINVAL }, { "n=", -EINVAL }, { "n=-1", -EINVAL }, { "n=+1", -EINVAL },
		{ "n=12Q", -EINVAL }, { "n=0x", -EINVAL }, { "n=K", -EINVAL },
		{ "n=1KK", -EINVAL }, { "n=\" 1\"", -EINVAL }, { "n=1.5", -EINVAL },
		{ "n=0xG", -EINVAL }, { "n=1e3", -EINVAL }, { "n=0x1g2", -EINVAL },
		{ "n=18446744073709551616", -ERANGE }, { "n=0x10000000000000000", -ERANGE },
		{ "n=17179869184G", -ERANGE }, { "n=99999999999999999999999", -ERANGE },
		{ "n=1 n=x", -EINVAL }, { "m=1", CMDLINE_ABSENT }, { "", CMDLINE_ABSENT },
		{ "n=00000000000000000000000000000000000000000000000000000000000000001", -EINVAL },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 12345;
		int r = cmdline_get_u64(bad[i].text, "n", &v);
		if (r != bad[i].want || v != 12345)
			UFAIL("\"%s\": r=%d (want %d) v=%llu", bad[i].text, r, bad[i].want,
			      (unsigned long long)v);
	}
	return NULL;
}

UNIT_MAIN("cmdline",
	  UTEST(test_get_basic),
	  UTEST(test_bare_flag_is_empty_value),
	  UTEST(test_absent_terminates_out),
	  UTEST(test_last_occurrence_wins),
	  UTEST(test_key_matches_whole_word_key),
	  UTEST(test_value_may_contain_equals),
	  UTEST(test_quoted_values),
	  UTEST(test_unterminated_quote_runs_to_end),
	  UTEST(test_empty_and_null_cmdline),
	  UTEST(test_blanks_separate),
	  UTEST(test_truncation),
	  UTEST(test_append),
	  UTEST(test_append_exact_fit_and_overflow),
	  UTEST(test_append_unterminated_dst),
	  UTEST(test_u64_values),
	  UTEST(test_u64_errors))
