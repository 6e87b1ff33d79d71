/*
 * sysnum: system-call numbers the kernel does not know must return -ENOSYS
 * and change nothing. KTAP (as a subtest); exit status = failures.
 */
#include <stdio.h>
#include <kestrel.h>
#include <kestrel/sys.h>
#include <errno.h>
#include <ktap.h>

static const long numbers[] = { SYS_COUNT, SYS_COUNT + 1, 1000, 0x7fffffff, -1 };

int main(void)
{
	int n = (int)(sizeof(numbers) / sizeof(numbers[0]));

	ktap_begin("sysnum", n);
	for (int i = 0; i < n; i++) {
		char name[32];
		long r = kestrel_syscall0(numbers[i]);

		snprintf(name, sizeof name, "syscall %ld", numbers[i]);
		ktap_result(r == -ENOSYS, name, "got %ld, expected -ENOSYS", r);
	}
	return ktap_end();
}
