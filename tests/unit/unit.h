/*
 * Minimal host unit-test framework: a test is `static const char *fn(void)`
 * returning NULL on pass or a reason on failure (HelenOS style). Output is
 * KTAP; the program exits 1 when any test failed.
 */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	const char *(*fn)(void);
};

static char unit_msg[512];

/* Fail the current test with a formatted reason (returns from the test). */
#define UFAIL(...) do { snprintf(unit_msg, sizeof unit_msg, __VA_ARGS__); \
	return unit_msg; } while (0)
#define UASSERT(cond) do { if (!(cond)) \
	UFAIL("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond); } while (0)
#define UASSERT_EQ(a, b) do { long long ua_ = (long long)(a), ub_ = (long long)(b); \
	if (ua_ != ub_) UFAIL("%s:%d: %s == %lld, expected %lld", \
			      __FILE__, __LINE__, #a, ua_, ub_); } while (0)
#define UASSERT_STR(a, b) do { const char *ua_ = (a), *ub_ = (b); \
	if (strcmp(ua_, ub_) != 0) UFAIL("%s:%d: %s == \"%s\", expected \"%s\"", \
					 __FILE__, __LINE__, #a, ua_, ub_); } while (0)

static inline int unit_run(const char *suite, const struct unit_test *t, int n)
{
	int failed = 0;

	printf("KTAP version 1\n# suite: %s\n1..%d\n", suite, n);
	for (int i = 0; i < n; i++) {
		const char *why = t[i].fn();
		if (why) {
			printf("not ok %d %s # %s\n", i + 1, t[i].name, why);
			failed++;
		} else {
			printf("ok %d %s\n", i + 1, t[i].name);
		}
	}
	printf("# %s: %d passed, %d failed\n", suite, n - failed, failed);
	return failed ? 1 : 0;
}

#define UNIT_MAIN(suite, ...) int main(void) { \
	static const struct unit_test tests_[] = { __VA_ARGS__ }; \
	return unit_run(suite, tests_, (int)(sizeof tests_ / sizeof tests_[0])); }
#define UTEST(fn) { #fn, fn }

#endif
