/* wait with an optional status pointer (the system call always wants one). */
#include <kestrel.h>

long wait(int pid, int *status)
{
	int st;
	long r = sys_wait(pid, &st);

	if (r >= 0 && status)
		*status = st;
	return r;
}
