/*
 * churn [n]: spawns "hello 0" and waits for it, n times (default 10000),
 * checking every wait status; a leak in process creation or teardown
 * shows up as spawn failures long before n. Exit status = failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>
#include <ktap.h>

#define DEFAULT_ROUNDS  10000
#define PROGRESS_EVERY  1000
#define REPORT_FIRST    5       /* failures described in full; the rest are counted */

/* One spawn + wait; returns NULL or why it failed (into buf). */
static const char *one_round(char *buf, size_t len)
{
	const char *argv[] = { "hello", "0", NULL };
	long pid = spawn("hello", argv), r;
	int status;

	if (pid < 0) {
		snprintf(buf, len, "spawn: %s", kestrel_errname(pid));
		return buf;
	}
	r = wait((int)pid, &status);
	if (r != pid) {
		snprintf(buf, len, "wait(%ld) returned %ld", pid, r);
		return buf;
	}
	if (!KESTREL_WAIT_EXITED(status) || KESTREL_WAIT_STATUS(status) != 0) {
		snprintf(buf, len, "status 0x%x", status);
		return buf;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_ROUNDS;
	uint64_t start = clock_ns();
	long failures = 0;

	printf("churn: %ld rounds of spawn + wait\n", rounds);
	for (long i = 1; i <= rounds; i++) {
		char why[96];

		if (one_round(why, sizeof why) && ++failures <= REPORT_FIRST)
			printf("churn: round %ld: %s\n", i, why);
		if (i % PROGRESS_EVERY == 0)
			printf("churn: %ld/%ld, %ld failures, %lu ms\n", i, rounds, failures,
			       (clock_ns() - start) / NSEC_PER_MSEC);
	}
	printf("churn: done, %ld failures\n", failures);
	return failures > KTAP_MAX_STATUS ? KTAP_MAX_STATUS : (int)failures;
}
