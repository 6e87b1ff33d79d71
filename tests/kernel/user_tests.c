/*
 * test=user: ring 3 from the kernel's side. The kernel spawns programs from
 * the initrd and checks what wait() returns: exit statuses, the user-side
 * suites (threads, fault isolation, bad pointers, FPU), every CPU running
 * ring-3 code, fairness between processes, spawn churn and a fork storm
 * with everything reclaimed.
 */
#include <stdint.h>
#include <arch/trap.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/format.h>
#include <kernel/time.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/vmm.h>

#define FAIR_PROCS              8
#define FAIR_MS                 "3000"
#define FAIR_TOLERANCE_PCT      25
#define FAIR_START_DELAY_MS     1500
#define SPREAD_MS               "400"
#define CHURN_CYCLES            10000
#define WARMUP_CYCLES           20

/* Spawn argv[0] with argv, wait for it; returns the wait status or a negative errno. */
static int run(int argc, char *argv[], uint64_t *ticks)
{
	int status, pid = proc_spawn(argv[0], argc, argv, proc_kernel_parent());

	if (pid < 0)
		return pid;
	if (proc_wait(proc_kernel_parent(), pid, &status, ticks) != pid)
		return -1;
	return status;
}

static const char *expect_exit(char *name, char *arg, int want)
{
	char *argv[] = { name, arg };
	int status = run(arg ? 2 : 1, argv, NULL);

	if (status < 0)
		return ktest_fail("%s: spawn failed (%d)", name, status);
	if (!KESTREL_WAIT_EXITED(status) || KESTREL_WAIT_STATUS(status) != want)
		return ktest_fail("%s: wait status 0x%x, expected exit %d", name, status, want);
	return NULL;
}

static const char *test_exit_status_reaches_parent(void)
{
	const char *why = expect_exit("hello", "42", 42);

	return why ? why : expect_exit("hello", "0", 0);
}

static const char *test_bad_program_refused(void)
{
	char *argv[] = { "no-such-program" };

	KT_ASSERT(run(1, argv, NULL) == -ENOENT);
	return NULL;
}

static const char *test_user_threads(void) { return expect_exit("threads", NULL, 0); }
static const char *test_unknown_syscalls(void) { return expect_exit("sysnum", NULL, 0); }
static const char *test_fpu_per_task(void) { return expect_exit("fpu", NULL, 0); }

static const char *test_fault_isolation(void)
{
	return expect_exit("faults", NULL, 0);
}

static const char *test_bad_pointers(void)
{
	uint64_t fixups = kernel_fixups;
	const char *why = expect_exit("badptr", NULL, 0);

	kprintf("# user: bad-pointer suite: %lu kernel accesses recovered by fixups, 0 kernel faults\n",
		kernel_fixups - fixups);
	return why;
}

/* One busy process per CPU: every CPU must take timer ticks in ring 3. */
static const char *test_every_cpu_runs_ring3(void)
{
	uint64_t before[MAX_CPUS];
	int pids[MAX_CPUS], status;
	char *argv[] = { "spin", SPREAD_MS };

	for (uint32_t c = 0; c < ncpus; c++)
		before[c] = cpus[c].user_ticks;
	for (uint32_t c = 0; c < ncpus; c++)
		pids[c] = proc_spawn("spin", 2, argv, proc_kernel_parent());
	for (uint32_t c = 0; c < ncpus; c++)
		if (pids[c] < 0 || proc_wait(proc_kernel_parent(), pids[c], &status, NULL) < 0)
			return "spawn/wait failed";
	for (uint32_t c = 0; c < ncpus; c++)
		if (cpus[c].user_ticks == before[c])
			return ktest_fail("cpu %u never ran ring-3 code", c);
	return NULL;
}

static const char *test_fairness(void)
{
	int pids[FAIR_PROCS], status;
	uint64_t ticks[FAIR_PROCS], sum = 0, mean;
	char start[24];
	char *argv[] = { "spin", FAIR_MS, start };

	/* All start together, well after the last spawn even on a slow host. */
	ksnprintf(start, sizeof(start), "%lu", time_ns() + FAIR_START_DELAY_MS * 1000000ul);
	for (int i = 0; i < FAIR_PROCS; i++)
		pids[i] = proc_spawn("spin", 3, argv, proc_kernel_parent());
	for (int i = 0; i < FAIR_PROCS; i++) {
		if (pids[i] < 0 || proc_wait(proc_kernel_parent(), pids[i], &status, &ticks[i]) < 0)
			return "spawn/wait failed";
		sum += ticks[i];
	}
	mean = sum / FAIR_PROCS;
	kprintf("# user: %d busy processes on %u CPUs, ticks:", FAIR_PROCS, ncpus_online);
	for (int i = 0; i < FAIR_PROCS; i++)
		kprintf(" %lu", ticks[i]);
	kprintf(" (mean %lu)\n", mean);
	for (int i = 0; i < FAIR_PROCS; i++) {
		uint64_t d = ticks[i] > mean ? ticks[i] - mean : mean - ticks[i];
		if (!ticks[i] || d * 100 > mean * FAIR_TOLERANCE_PCT)
			return ktest_fail("process %d got %lu ticks, mean %lu", i, ticks[i], mean);
	}
	return NULL;
}

/* Frames and heap after draining the caches that hold memory on purpose. */
static void snapshot(uint64_t *frames, struct kmalloc_stats *st)
{
	kstack_drain_cache();
	user_drain_shared();
	*frames = pmm_free_count();
	kmalloc_stats(st);
}

static const char *test_spawn_churn(void)
{
	char *argv[] = { "true" };
	struct kmalloc_stats st0, st1;
	uint64_t frames0, frames1, cycles = CHURN_CYCLES;

	/* churn=N: a shorter run for the slower boot paths of the matrix. */
	cmdline_get_u64(boot_info()->cmdline, "churn", &cycles);
	for (int i = 0; i < WARMUP_CYCLES; i++)
		run(1, argv, NULL);
	snapshot(&frames0, &st0);
	for (uint64_t i = 0; i < cycles; i++) {
		int status = run(1, argv, NULL);
		if (status != 0)
			return ktest_fail("cycle %lu: status %d", i, status);
	}
	snapshot(&frames1, &st1);
	kprintf("# user: %lu spawn+exit+wait cycles, free frames %lu -> %lu, heap objects %lu -> %lu\n",
		cycles, frames0, frames1, st0.allocations, st1.allocations);
	if (frames1 != frames0 || st1.allocations != st0.allocations)
		return "memory not back to its baseline";
	return NULL;
}

/*
 * Two processes of one program map the same text frames; they outlive
 * neither the processes nor the cache, and the frames come back.
 */
#define TEXT_VA         0x400000ul      /* user/user.ld: text first */

/* Two sleepers at once: pa[i] gets each one's text frame; the number of cached segments. */
static const char *two_sleepers(uint64_t *pa, uint32_t *segs)
{
	char *argv[] = { "sleeper", "300" };
	int pid[2], status;

	for (int i = 0; i < 2; i++)
		pid[i] = proc_spawn("sleeper", 2, argv, proc_kernel_parent());
	for (int i = 0; i < 2; i++)
		if (pid[i] < 0 || !proc_translate(pid[i], TEXT_VA, &pa[i]))
			pa[i] = 0;
	for (int i = 0; i < 2; i++)
		if (pid[i] >= 0 && (proc_wait(proc_kernel_parent(), pid[i], &status, NULL) != pid[i] ||
				    status))
			return ktest_fail("sleeper %d: status 0x%x", pid[i], status);
	*segs = user_shared_segments();
	return pid[0] < 0 || pid[1] < 0 ? ktest_fail("spawn: %d %d", pid[0], pid[1]) : NULL;
}

static const char *test_shared_text(void)
{
	struct kmalloc_stats st0, st1;
	uint64_t frames0, frames1, pa[2];
	uint32_t segs;
	const char *err;

	/* Once first, so the heap's slabs and page tables this needs exist already. */
	if ((err = two_sleepers(pa, &segs)))
		return err;
	snapshot(&frames0, &st0);
	if ((err = two_sleepers(pa, &segs)))
		return err;
	snapshot(&frames1, &st1);
	kprintf("# user: text of two sleepers at 0x%lx and 0x%lx, %u shared segments cached\n",
		pa[0], pa[1], segs);
	if (!pa[0] || !pa[1])
		return ktest_fail("text not mapped while the processes lived");
	if (pa[0] != pa[1])
		return ktest_fail("two processes of one program have their own text frames");
	if (!segs || user_shared_segments())
		return ktest_fail("%u shared segments cached, %u after draining", segs,
				  user_shared_segments());
	/*
	 * One frame either way: the heap keeps a slab per class, and which
	 * slab the few long-lived objects sit in varies. test_spawn_churn
	 * checks exactly over 10,000 spawns, which share text as well.
	 */
	if (frames1 + 1 < frames0 || frames1 > frames0 + 1 || st1.allocations != st0.allocations)
		return ktest_fail("frames %lu -> %lu, heap objects %lu -> %lu", frames0, frames1,
				  st0.allocations, st1.allocations);
	return NULL;
}

static const char *test_fork_storm(void)
{
	struct kmalloc_stats st0, st1;
	uint64_t frames0, frames1;
	uint32_t procs = proc_count();
	const char *why;

	/* The first storm may grow kernel page tables for stacks; they stay. */
	why = expect_exit("forkstorm", NULL, 0);
	if (why)
		return why;
	snapshot(&frames0, &st0);
	why = expect_exit("forkstorm", NULL, 0);
	if (why)
		return why;
	snapshot(&frames1, &st1);
	kprintf("# user: fork storm: free frames %lu -> %lu, heap objects %lu -> %lu\n",
		frames0, frames1, st0.allocations, st1.allocations);
	if (proc_count() != procs)
		return ktest_fail("%u processes left, %u before", proc_count(), procs);
	if (frames1 != frames0 || st1.allocations != st0.allocations)
		return "memory not back to its baseline";
	return NULL;
}

/*
 * user/bin/limits: privilege (kill, halt, reboot, setpriv, setfg) against a
 * sibling it must not touch, memory and children limits, concurrent sbrk.
 */
static const char *test_privilege_and_limits(void)
{
	char *sargv[] = { "sleeper", "60000" };
	char pidbuf[16];
	int sibling = proc_spawn("sleeper", 2, sargv, proc_kernel_parent()), status;
	const char *why;

	if (sibling < 0)
		return ktest_fail("spawn sleeper: %d", sibling);
	ksnprintf(pidbuf, sizeof(pidbuf), "%d", sibling);
	why = expect_exit("limits", pidbuf, 0);
	/* The sibling must still be alive for the kernel to end it. */
	int killed = proc_kill(sibling, KESTREL_KILL_BY_USER << 8);
	proc_wait(proc_kernel_parent(), sibling, &status, NULL);
	if (killed < 0 && !why)
		why = ktest_fail("the sibling (pid %d) ended before limits did (status 0x%x)",
				 sibling, status);
	return why;
}

KTEST_SUITE(user,
	KTEST_CASE(test_exit_status_reaches_parent),
	KTEST_CASE(test_bad_program_refused),
	KTEST_CASE(test_user_threads),
	KTEST_CASE(test_unknown_syscalls),
	KTEST_CASE(test_fpu_per_task),
	KTEST_CASE(test_fault_isolation),
	KTEST_CASE(test_bad_pointers),
	KTEST_CASE(test_privilege_and_limits),
	KTEST_CASE(test_every_cpu_runs_ring3),
	KTEST_CASE(test_fairness),
	KTEST_CASE(test_spawn_churn),
	KTEST_CASE(test_shared_text),
	KTEST_CASE(test_fork_storm));

/*
 * test=frame_faults (fault_frame_every=N, default FRAME_FAULT_EVERY): every
 * Nth frame allocation fails while user programs start, allocate, make
 * threads and exit. Each must either run or fail cleanly (a spawn error,
 * or the program's own ENOMEM), the kernel must not panic, and once the
 * injection stops every frame and heap object is back.
 */
#define FRAME_FAULT_EVERY       37      /* prime: a spawn needs about 20 frames */
#define FRAME_FAULT_ROUNDS      60

static const char *test_frame_faults_nothing_lost(void)
{
	char *progs[][2] = { { "hello", "0" }, { "threads", NULL }, { "forkstorm", "100" } };
	struct kmalloc_stats st0, st1;
	uint64_t frames0, frames1, every = FRAME_FAULT_EVERY;
	uint32_t procs = proc_count(), ran = 0, refused = 0, failed = 0;

	cmdline_get_u64(boot_info()->cmdline, "fault_frame_every", &every);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		run(progs[i][1] ? 2 : 1, progs[i], NULL);      /* caches to their size */
	snapshot(&frames0, &st0);
	pmm_fail_every(every);
	for (int r = 0; r < FRAME_FAULT_ROUNDS; r++) {
		char **argv = progs[r % (sizeof(progs) / sizeof(progs[0]))];
		int status = run(argv[1] ? 2 : 1, argv, NULL);

		if (status < 0)
			refused++;
		else if (KESTREL_WAIT_EXITED(status) && KESTREL_WAIT_STATUS(status) == 0)
			ran++;
		else
			failed++;
	}
	pmm_fail_every(0);
	snapshot(&frames1, &st1);
	kprintf("# frame_faults: every %lu: %u ran, %u refused at spawn, %u failed inside; "
		"free frames %lu -> %lu, heap objects %lu -> %lu\n", every, ran, refused, failed,
		frames0, frames1, st0.allocations, st1.allocations);
	if (proc_count() != procs)
		return ktest_fail("%u processes left, %u before", proc_count(), procs);
	if (frames1 != frames0 || st1.allocations != st0.allocations)
		return "memory not back to its baseline";
	if (!ran)
		return "nothing ran at all: the injection is too dense to test anything";
	return NULL;
}

KTEST_SUITE(frame_faults, KTEST_CASE(test_frame_faults_nothing_lost));
