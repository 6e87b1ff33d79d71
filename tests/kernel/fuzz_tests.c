/*
 * test=fuzz: user/bin/fuzz runs random system calls from many processes
 * and threads on every CPU, with spawn/kill churn (fuzz_seed=, fuzz_seconds=,
 * fuzz_procs= on the command line; tests/boot/fuzz.py picks and prints the
 * seed). Then the kernel checks itself once the fuzz processes are gone:
 * free frames and heap objects back to their baseline, no spinlock held on
 * any CPU, run queues empty, the process table as before.
 *
 * A fuzzchild can start programs of its own: spawn() with a name it found
 * in memory that ps() or dmesg() wrote (say "fuzzchild"). Such a grandchild
 * outlives its parent as an orphan, and may sleep for years (a random
 * sleep_ms). It is not leaked, only alive: after each run the test kills
 * every process that was not there before the fuzzing, and then asks
 * that all of them were freed.
 */
#include <stdint.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/format.h>
#include <kernel/kernel.h>
#include <kernel/kmalloc.h>
#include <kernel/futex.h>
#include <kernel/ktest.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define FUZZ_DEFAULT_SECONDS    20
#define FUZZ_DEFAULT_PROCS      4
#define FUZZ_WARMUP_SECONDS     3
#define SETTLE_MS               20      /* between looks while the reaper finishes */
#define SETTLE_TRIES            250     /* 5 s */
#define ARG_LEN                 24

struct baseline {
	uint64_t frames;
	uint64_t heap_objects;
	uint32_t procs;
};

static struct baseline base;
static uint64_t fuzz_seed;
static int first_fuzz_pid;              /* every pid from here on is the fuzzers' */

static struct baseline measure(void)
{
	struct kmalloc_stats st;
	struct baseline b;

	kstack_drain_cache();
	kmalloc_stats(&st);
	b.frames = pmm_free_count();
	b.heap_objects = st.allocations;
	b.procs = proc_count();
	return b;
}

static uint64_t word(const char *key, uint64_t dflt)
{
	uint64_t v = dflt;

	cmdline_get_u64(boot_info()->cmdline, key, &v);
	return v;
}

/* Orphans the fuzz run left alive (see the top): killed, then freed by the reaper. */
static void kill_strays(void)
{
	static struct kestrel_proc_info info[PROC_MAX];
	int n = proc_list(info, PROC_MAX), killed = 0;

	for (int i = 0; i < n; i++) {
		if (info[i].pid < first_fuzz_pid || info[i].state == KESTREL_PROC_STATE_ZOMBIE)
			continue;
		if (proc_kill(info[i].pid, KESTREL_KILL_BY_USER << 8) == 0) {
			kprintf("# fuzz: killed pid %d (%s, parent %d), left running by the fuzzers\n",
				info[i].pid, info[i].name, info[i].ppid);
			killed++;
		}
	}
	if (killed)
		kprintf("# fuzz: %d orphans killed\n", killed);
}

/* Runs fuzz SEED SECONDS PROCS and waits for it; returns its wait status. */
static int run_fuzz(uint64_t seed, uint64_t seconds, uint64_t procs)
{
	char s[ARG_LEN], t[ARG_LEN], p[ARG_LEN];
	char *argv[] = { "fuzz", s, t, p };
	int status, pid;

	ksnprintf(s, sizeof(s), "%lu", seed);
	ksnprintf(t, sizeof(t), "%lu", seconds);
	ksnprintf(p, sizeof(p), "%lu", procs);
	pid = proc_spawn("fuzz", 4, argv, proc_kernel_parent());
	if (pid < 0)
		return pid;
	if (!first_fuzz_pid)
		first_fuzz_pid = pid;
	if (proc_wait(proc_kernel_parent(), pid, &status, NULL) != pid)
		return -1;
	kill_strays();
	return status;
}

/* The same load, shorter: caches and page tables grow to their size first. */
static const char *test_fuzz_warmup(void)
{
	int status;

	fuzz_seed = word("fuzz_seed", time_ns());
	status = run_fuzz(fuzz_seed ^ 1, FUZZ_WARMUP_SECONDS,
			  word("fuzz_procs", FUZZ_DEFAULT_PROCS));
	if (status < 0 || !KESTREL_WAIT_EXITED(status) || KESTREL_WAIT_STATUS(status))
		return ktest_fail("warm-up fuzz: status 0x%x", status);
	base = measure();
	return NULL;
}

static const char *test_fuzz_run(void)
{
	uint64_t seconds = word("fuzz_seconds", FUZZ_DEFAULT_SECONDS);
	int status;

	kprintf("# fuzz: seed %lu, %lu s (replay: make fuzz FUZZ_SEED=%lu FUZZ_SECONDS=%lu)\n",
		fuzz_seed, seconds, fuzz_seed, seconds);
	status = run_fuzz(fuzz_seed, seconds, word("fuzz_procs", FUZZ_DEFAULT_PROCS));
	if (status < 0 || !KESTREL_WAIT_EXITED(status) || KESTREL_WAIT_STATUS(status))
		return ktest_fail("fuzz: status 0x%x (seed %lu)", status, fuzz_seed);
	return NULL;
}

/* The reaper frees the last processes a moment after their parent's wait. */
static struct baseline settle(void)
{
	struct baseline now = measure();

	for (int i = 0; i < SETTLE_TRIES && (now.frames != base.frames ||
					     now.heap_objects != base.heap_objects ||
					     now.procs != base.procs); i++) {
		sleep_ms(SETTLE_MS);
		now = measure();
	}
	return now;
}

static const char *test_fuzz_nothing_leaked(void)
{
	struct baseline now = settle();

	kprintf("# fuzz: free frames %lu -> %lu, heap objects %lu -> %lu, processes %u -> %u\n",
		base.frames, now.frames, base.heap_objects, now.heap_objects, base.procs,
		now.procs);
	if (now.frames != base.frames || now.heap_objects != base.heap_objects ||
	    now.procs != base.procs) {
		proc_dump();
		return ktest_fail("not back to the baseline (seed %lu)", fuzz_seed);
	}
	return NULL;
}

static const char *test_fuzz_no_lock_held(void)
{
	for (uint32_t c = 0; c < ncpus_online; c++) {
		/* This CPU holds none here; the others are idle. */
		if (cpus[c].lock_depth)
			return ktest_fail("CPU %u holds %u spinlocks", c, cpus[c].lock_depth);
	}
	return NULL;
}

static const char *test_fuzz_run_queues_empty(void)
{
	uint32_t busy = 0, cpu = 0;

	for (int i = 0; i < SETTLE_TRIES; i++) {
		busy = 0;
		for (uint32_t c = 0; c < ncpus_online; c++)
			if (sched_nr_ready(c)) {
				busy++;
				cpu = c;
			}
		if (!busy)
			return NULL;
		sleep_ms(SETTLE_MS);
	}
	return ktest_fail("%u run queues still hold tasks (CPU %u: %u)", busy, cpu,
			  sched_nr_ready(cpu));
}

/* Every futex waiter left with its thread: none may stay queued in a bucket. */
static const char *test_fuzz_no_futex_waiter(void)
{
	if (futex_waiters())
		return ktest_fail("%lu futex waiters still queued (seed %lu)", futex_waiters(),
				  fuzz_seed);
	return NULL;
}

KTEST_SUITE(fuzz,
	KTEST_CASE(test_fuzz_warmup),
	KTEST_CASE(test_fuzz_run),
	KTEST_CASE(test_fuzz_nothing_leaked),
	KTEST_CASE(test_fuzz_no_lock_held),
	KTEST_CASE(test_fuzz_run_queues_empty),
	KTEST_CASE(test_fuzz_no_futex_waiter));
