/*
 * fuzz SEED SECONDS PROCS: keeps PROCS fuzzchild processes running for
 * SECONDS, each with a seed derived from SEED, several threads and a short
 * life; respawns each one that ends (by its own faults, its own kill(), or
 * its time), and now and then kills one early (spawn/kill churn). At the
 * end it kills and reaps every child. test=fuzz (tests/kernel/fuzz_tests.c)
 * then checks the kernel's own invariants. Prints a summary; exit 0 unless
 * the kernel stopped letting it spawn or reap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define MAX_PROCS               8
#define CHILD_THREADS           "3"
#define CHILD_MIN_MS            200
#define CHILD_SPREAD_MS         800
#define KILL_ONE_IN             8       /* of each round: kill a random child early */
#define ROUND_MS                50
#define ARG_LEN                 24
#define SPAWN_FAILS_MAX         200     /* in a row: the kernel stopped spawning */
#define REPORT_EVERY_NS         10000000000ull
#define PS_MAX                  64      /* the kernel's process table (PROC_MAX) */

struct stats {
	uint64_t spawned, exited, faulted, killed_by_us, killed_self, spawn_fails;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

static long start_child(uint64_t seed, struct stats *st)
{
	char s[ARG_LEN], ms[ARG_LEN];
	const char *argv[] = { "fuzzchild", s, ms, CHILD_THREADS, NULL };

	snprintf(s, sizeof s, "%llu", (unsigned long long)seed);
	snprintf(ms, sizeof ms, "%llu", (unsigned long long)(CHILD_MIN_MS + rnd() % CHILD_SPREAD_MS));
	long pid = spawn("fuzzchild", argv);
	if (pid < 0)
		st->spawn_fails++;
	else
		st->spawned++;
	return pid;
}

static void account(int status, bool we_killed, struct stats *st)
{
	if (KESTREL_WAIT_EXITED(status))
		st->exited++;
	else if (KESTREL_WAIT_KILLED(status) == KESTREL_KILL_BY_USER)
		*(we_killed ? &st->killed_by_us : &st->killed_self) += 1;
	else
		st->faulted++;
}

/* Wait for slot i's child and free the slot for a new one. */
static void reap(long *pids, int i, const bool *we_killed, struct stats *st)
{
	int status;

	if (wait((int)pids[i], &status) == pids[i])
		account(status, we_killed[i], st);
	pids[i] = 0;
}

/* wait() blocks: reap only the children that ps says have ended. */
static void reap_ended(long *pids, int n, const bool *we_killed, struct stats *st)
{
	struct kestrel_proc_info info[PS_MAX];
	long k = ps(info, PS_MAX);

	for (long j = 0; j < k; j++) {
		if (info[j].state != KESTREL_PROC_STATE_ZOMBIE)
			continue;
		for (int i = 0; i < n; i++)
			if (pids[i] == info[j].pid)
				reap(pids, i, we_killed, st);
	}
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? (uint64_t)strtol(argv[1], NULL, 0) : 1;
	uint64_t seconds = argc > 2 ? (uint64_t)strtol(argv[2], NULL, 0) : 10;
	int n = argc > 3 ? (int)strtol(argv[3], NULL, 0) : 4;
	long pids[MAX_PROCS] = { 0 };
	bool we_killed[MAX_PROCS] = { false };
	struct stats st = { 0 };
	uint64_t start = clock_ns(), end = start + seconds * 1000000000ull;
	uint64_t next_report = start + REPORT_EVERY_NS, child_seed = seed;
	uint64_t fails_in_row = 0;

	if (n < 1 || n > MAX_PROCS)
		n = 4;
	rng_state = seed * 2 + 1;
	printf("fuzz: seed %llu, %llu s, %d processes of %s threads\n", (unsigned long long)seed,
	       (unsigned long long)seconds, n, CHILD_THREADS);
	while (clock_ns() < end && fails_in_row < SPAWN_FAILS_MAX) {
		for (int i = 0; i < n; i++) {
			if (pids[i] > 0)
				continue;
			long pid = start_child(child_seed++, &st);
			fails_in_row = pid < 0 ? fails_in_row + 1 : 0;
			pids[i] = pid > 0 ? pid : 0;
			we_killed[i] = false;
		}
		if (rnd() % KILL_ONE_IN == 0) {
			int i = (int)(rnd() % (uint64_t)n);
			if (pids[i] > 0 && kill((int)pids[i]) == 0)
				we_killed[i] = true;
		}
		sleep_ms(ROUND_MS);
		reap_ended(pids, n, we_killed, &st);
		if (clock_ns() >= next_report) {
			printf("fuzz: %llu s: %llu spawned, %llu faulted, %llu exited\n",
			       (unsigned long long)((clock_ns() - start) / 1000000000ull),
			       (unsigned long long)st.spawned, (unsigned long long)st.faulted,
			       (unsigned long long)st.exited);
			next_report += REPORT_EVERY_NS;
		}
	}
	for (int i = 0; i < n; i++)
		if (pids[i] > 0) {
			we_killed[i] |= kill((int)pids[i]) == 0;
			reap(pids, i, we_killed, &st);
		}
	printf("fuzz: done: %llu spawned (%llu refused), %llu exited, %llu faulted, "
	       "%llu killed themselves, %llu killed by us\n", (unsigned long long)st.spawned,
	       (unsigned long long)st.spawn_fails, (unsigned long long)st.exited,
	       (unsigned long long)st.faulted, (unsigned long long)st.killed_self,
	       (unsigned long long)st.killed_by_us);
	if (fails_in_row >= SPAWN_FAILS_MAX) {
		printf("fuzz: %llu spawns in a row failed\n", (unsigned long long)fails_in_row);
		return 1;
	}
	return 0;
}
