/*
 * KTAP reporting for the test programs (see include/ktap.h). User suites
 * always run under a kernel test (test=user), so their documents are KTAP
 * subtests: indented by four spaces (KTAP spec, "Subtests").
 */
#include <stdarg.h>
#include <stdio.h>
#include <ktap.h>

#define KTAP_REASON_MAX 160
#define KTAP_INDENT     "    "

static const char *ktap_suite;
static int ktap_cases, ktap_done, ktap_failed;

void ktap_begin(const char *suite, int cases)
{
	ktap_suite = suite;
	ktap_cases = cases;
	ktap_done = ktap_failed = 0;
	printf(KTAP_INDENT "KTAP version 1\n" KTAP_INDENT "# suite: %s\n" KTAP_INDENT "1..%d\n",
	       suite, cases);
}

bool ktap_result(bool ok, const char *name, const char *reason_fmt, ...)
{
	char reason[KTAP_REASON_MAX];
	va_list ap;

	ktap_done++;
	if (ok) {
		printf(KTAP_INDENT "ok %d %s\n", ktap_done, name);
		return true;
	}
	va_start(ap, reason_fmt);
	vsnprintf(reason, sizeof reason, reason_fmt, ap);
	va_end(ap);
	ktap_failed++;
	printf(KTAP_INDENT "not ok %d %s # %s\n", ktap_done, name, reason);
	return false;
}

void ktap_skip(const char *name, const char *reason)
{
	ktap_done++;
	printf(KTAP_INDENT "ok %d %s # SKIP %s\n", ktap_done, name, reason);
}

int ktap_end(void)
{
	/* A plan that does not match what ran is a failure of its own. */
	int off_plan = ktap_cases > ktap_done ? ktap_cases - ktap_done : ktap_done - ktap_cases;
	int failed = ktap_failed + off_plan;

	if (off_plan)
		printf(KTAP_INDENT "# %s: planned %d cases, ran %d\n", ktap_suite, ktap_cases, ktap_done);
	printf(KTAP_INDENT "# %s: %d passed, %d failed\n", ktap_suite, ktap_done - ktap_failed, failed);
	return failed > KTAP_MAX_STATUS ? KTAP_MAX_STATUS : failed;
}
