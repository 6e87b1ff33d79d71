/*
 * init: the first process. Starts one worker per online CPU, reaps them,
 * then runs the shell; when the shell ends, the machine halts. It also
 * reaps any other child it is given (orphans, if the kernel reparents them).
 */
#include <stdio.h>
#include <kestrel.h>

#define ARG_MAX_LEN     16

/* Spawns program with one argument; returns the pid or a negative errno. */
static long spawn1(const char *program, const char *arg)
{
	const char *argv[] = { program, arg, NULL };

	return spawn(program, argv);
}

/* Waits until `count` of the given pids have ended; returns how many failed. */
static int reap_workers(const long *pids, int count)
{
	int failed = 0;

	for (int left = count; left > 0;) {
		int status;
		long pid = wait(-1, &status);

		if (pid < 0) {
			printf("init: wait: %s\n", kestrel_strerror(pid));
			return failed + left;
		}
		for (int i = 0; i < count; i++) {
			if (pids[i] != pid)
				continue;
			left--;
			if (!KESTREL_WAIT_EXITED(status) || KESTREL_WAIT_STATUS(status)) {
				failed++;
				printf("init: worker %d (pid %ld) failed: status 0x%x\n", i, pid, status);
			}
		}
	}
	return failed;
}

static void run_workers(void)
{
	struct kestrel_sysinfo si;
	long r = sysinfo(&si);
	int n = r < 0 || si.cpus_online == 0 ? 1 : (int)si.cpus_online;
	long pids[n];
	int started = 0;

	printf("init: starting %d workers\n", n);
	for (int i = 0; i < n; i++) {
		char arg[ARG_MAX_LEN];

		snprintf(arg, sizeof arg, "%d", i);
		pids[started] = spawn1("worker", arg);
		if (pids[started] < 0)
			printf("init: spawn worker %d: %s\n", i, kestrel_strerror(pids[started]));
		else
			started++;
	}
	printf("init: %d workers done, %d failed\n", started, reap_workers(pids, started));
}

/* Runs sh until it exits; reaps whatever else ends meanwhile. */
static void run_shell(void)
{
	const char *argv[] = { "sh", NULL };
	long sh = spawn("sh", argv);
	int status;
	long pid;

	if (sh < 0) {
		printf("init: spawn sh: %s\n", kestrel_strerror(sh));
		return;
	}
	/* The shell's halt and reboot commands: init's privilege, handed on. */
	long r = setpriv((int)sh, KESTREL_PRIV_POWER);
	if (r < 0)
		printf("init: setpriv sh: %s\n", kestrel_strerror(r));
	while ((pid = wait(-1, &status)) >= 0 && pid != sh)
		;
	if (pid < 0)
		printf("init: wait: %s\n", kestrel_strerror(pid));
	else
		printf("init: sh exited (status 0x%x)\n", status);
}

int main(void)
{
	run_workers();
	run_shell();
	printf("init: halting\n");
	halt();
	printf("init: halt failed\n");
	return 1;
}
