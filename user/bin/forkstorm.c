/*
 * forkstorm [ms] [max]: spawns "sleeper ms" (default 60000) without waiting
 * until spawn fails (at most max, default 100000), kills and reaps every
 * child, then checks that spawning works again. A kernel that runs out of
 * processes must say -ENOMEM or -EAGAIN and give everything back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define DEFAULT_SLEEP_MS        "60000"
#define DEFAULT_MAX             100000
#define PROGRESS_EVERY          256

/* Spawns until failure or max; returns how many started, *err the failure. */
static long storm(const char *ms, long *pids, long max, long *err)
{
	const char *argv[] = { "sleeper", ms, NULL };
	long n = 0;

	*err = 0;
	while (n < max) {
		long pid = spawn("sleeper", argv);

		if (pid < 0) {
			*err = pid;
			break;
		}
		pids[n++] = pid;
		if (n % PROGRESS_EVERY == 0)
			printf("forkstorm: %ld children\n", n);
	}
	return n;
}

/* Kills every child and reaps them all; returns how many were reaped. */
static long reclaim(const long *pids, long n)
{
	long reaped = 0, pid, r;
	int status;

	for (long i = 0; i < n; i++)
		if ((r = kill((int)pids[i])) < 0)
			printf("forkstorm: kill %ld: %s\n", pids[i], kestrel_strerror(r));
	while ((pid = wait(-1, &status)) >= 0) {
		reaped++;
		if (KESTREL_WAIT_EXITED(status) ? KESTREL_WAIT_STATUS(status) != 0
		    : KESTREL_WAIT_KILLED(status) != KESTREL_KILL_BY_USER)
			printf("forkstorm: child %ld ended with status 0x%x\n", pid, status);
	}
	if (pid != -ECHILD)
		printf("forkstorm: wait: %s\n", kestrel_strerror(pid));
	return reaped;
}

static bool spawn_works(void)
{
	const char *argv[] = { "hello", "0", NULL };
	long pid = spawn("hello", argv);
	int status;

	if (pid < 0) {
		printf("forkstorm: spawn after reclaim: %s\n", kestrel_strerror(pid));
		return false;
	}
	return wait((int)pid, &status) == pid && KESTREL_WAIT_EXITED(status) &&
	       KESTREL_WAIT_STATUS(status) == 0;
}

int main(int argc, char **argv)
{
	const char *ms = argc > 1 ? argv[1] : DEFAULT_SLEEP_MS;
	long max = argc > 2 ? strtol(argv[2], NULL, 10) : DEFAULT_MAX;
	long *pids, started, reaped, err;
	bool ok;

	if (max <= 0 || !(pids = malloc((size_t)max * sizeof *pids))) {
		printf("forkstorm: cannot track %ld children\n", max);
		return 1;
	}
	started = storm(ms, pids, max, &err);
	if (err)
		printf("forkstorm: started %ld children, then spawn failed: %s (%s)\n", started,
		       kestrel_errname(err), kestrel_strerror(err));
	else
		printf("forkstorm: started %ld children and spawn never failed\n", started);
	reaped = reclaim(pids, started);
	printf("forkstorm: reclaimed %ld children\n", reaped);
	ok = (err == -ENOMEM || err == -EAGAIN) && reaped == started;
	ok &= spawn_works();
	printf("forkstorm: %s\n", ok ? "ok" : "FAILED");
	free(pids);
	return ok ? 0 : 1;
}
