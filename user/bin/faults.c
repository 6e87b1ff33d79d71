/*
 * faults: the fault isolation suite. For each case of fault_cases.h it
 * runs "faulter <case>" and checks that the kernel killed it with the
 * expected exception (and that this process, the parent, lives on).
 * KTAP; the exit status is the number of failures.
 */
#include <stdio.h>
#include <kestrel.h>
#include <ktap.h>
#include "fault_cases.h"

static void check_case(const struct fault_case *c)
{
	const char *argv[] = { "faulter", c->name, NULL };
	long pid = spawn("faulter", argv), r;
	int status, killed;

	if (pid < 0) {
		ktap_result(false, c->name, "spawn faulter: %s", kestrel_errname(pid));
		return;
	}
	r = wait((int)pid, &status);
	if (r < 0) {
		ktap_result(false, c->name, "wait: %s", kestrel_errname(r));
		return;
	}
	killed = KESTREL_WAIT_KILLED(status);
	if (KESTREL_WAIT_EXITED(status))
		ktap_result(false, c->name, "got exit status %d, expected %s",
			    KESTREL_WAIT_STATUS(status), kestrel_vector_name(c->vector));
	else if (killed == KESTREL_KILL_BY_USER)
		ktap_result(false, c->name, "got killed by kill(), expected %s",
			    kestrel_vector_name(c->vector));
	else
		ktap_result(killed == KESTREL_KILL_VECTOR(c->vector), c->name,
			    "got %s, expected %s", kestrel_vector_name(killed - KESTREL_KILL_VECTOR(0)),
			    kestrel_vector_name(c->vector));
}

int main(void)
{
	ktap_begin("faults", FAULT_CASES);
	for (int i = 0; i < FAULT_CASES; i++)
		check_case(&fault_cases[i]);
	return ktap_end();
}
