/*
 * test=fibers: the futex system call and the user-level synchronisation
 * and fiber libraries built on it (user/bin/futex.c, user/bin/fibers.c),
 * each a KTAP subtest from ring 3. Also checks that no futex waiter is
 * left queued in the kernel once the programs are gone.
 */
#include <stdint.h>
#include <kernel/futex.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/proc.h>

/* Spawn name with no arguments and wait; expect exit status 0. */
static const char *expect_success(char *name)
{
	char *argv[] = { name };
	int status, pid = proc_spawn(name, 1, argv, proc_kernel_parent());

	if (pid < 0)
		return ktest_fail("%s: spawn failed (%d)", name, pid);
	if (proc_wait(proc_kernel_parent(), pid, &status, NULL) != pid)
		return ktest_fail("%s: wait failed", name);
	if (!KESTREL_WAIT_EXITED(status) || KESTREL_WAIT_STATUS(status) != 0)
		return ktest_fail("%s: wait status 0x%x, expected exit 0", name, status);
	return NULL;
}

static const char *test_futex_program(void)
{
	const char *why = expect_success("futex");

	if (!why && futex_waiters() != 0)
		why = ktest_fail("%lu futex waiters still queued", futex_waiters());
	return why;
}

static const char *test_fibers_program(void)
{
	const char *why = expect_success("fibers");

	if (!why && futex_waiters() != 0)
		why = ktest_fail("%lu futex waiters still queued", futex_waiters());
	return why;
}

KTEST_SUITE(fibers,
	KTEST_CASE(test_futex_program),
	KTEST_CASE(test_fibers_program));
