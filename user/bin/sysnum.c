/*
 * sysnum: system-call numbers the kernel does not know must return -ENOSYS
 * and change nothing. KTAP; exit status = failures.
 */
#include <stdio.h>
#include <kestrel.h>
#include <kestrel/sys.h>
#include <errno.h>

static const long numbers[] = { SYS_COUNT, SYS_COUNT + 1, 1000, 0x7fffffff, -1 };

int main(void)
{
	int n = (int)(sizeof(numbers) / sizeof(numbers[0])), failed = 0;

	printf("KTAP version 1\n# suite: sysnum\n1..%d\n", n);
	for (int i = 0; i < n; i++) {
		long r = kestrel_syscall0(numbers[i]);
		if (r == -ENOSYS) {
			printf("ok %d syscall %ld\n", i + 1, numbers[i]);
		} else {
			printf("not ok %d syscall %ld # got %ld, expected -ENOSYS\n", i + 1, numbers[i], r);
			failed++;
		}
	}
	printf("# sysnum: %d passed, %d failed\n", n - failed, failed);
	return failed;
}
