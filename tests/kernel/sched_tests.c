/*
 * test=sched: kernel threads on every CPU, preemption and fairness, affinity,
 * wake-up IPI latency, mutex and semaphore torture with a watchdog, a
 * producer/consumer wake-up storm, and create/exit/join churn without leaks.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/atomic.h>
#include <kernel/cpu.h>
#include <kernel/kernel.h>
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/sort.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/time.h>
#include <kernel/wait.h>

#define MAX_TEST_THREADS        32
#define SPREAD_THREADS          16
#define SPREAD_MS               300
#define FAIR_MS                 2000
#define FAIR_TOLERANCE_PCT      25
#define TORTURE_OPS             100000
#define WATCHDOG_STUCK_MS       5000
#define STORM_MESSAGES          100000
#define STORM_PAIRS             2
#define CHURN_CYCLES            10000

struct thread_report {
	uint64_t ops;                   /* work to do (ms or operations) */
	volatile uint64_t ran_on;
	volatile uint64_t ticks;
	volatile uint64_t progress;
	volatile bool done;
};

static struct thread_report reports[MAX_TEST_THREADS];

static void spin_for_ms(uint64_t ms)
{
	uint64_t end = time_ns() + ms * NS_PER_MS;

	while (time_ns() < end)
		cpu_relax();
}

static void busy_thread(void *arg)
{
	struct thread_report *r = arg;
	spin_for_ms(r->ops);
	r->ran_on = current_task()->ran_on;
	r->ticks = current_task()->ticks;
	r->done = true;
}

static const char *run_busy_threads(int n, uint64_t ms, uint64_t affinity)
{
	struct task *t[MAX_TEST_THREADS];

	for (int i = 0; i < n; i++) {
		reports[i] = (struct thread_report){ .ops = ms };
		t[i] = kthread_create_on(busy_thread, &reports[i], "busy", affinity);
		if (!t[i])
			return "kthread_create failed";
	}
	for (int i = 0; i < n; i++)
		kthread_join(t[i]);
	return NULL;
}

static const char *test_threads_on_every_cpu(void)
{
	uint64_t all = 0, want = 0;
	const char *why = run_busy_threads(SPREAD_THREADS, SPREAD_MS, CPU_ANY);

	if (why)
		return why;
	for (int i = 0; i < SPREAD_THREADS; i++)
		all |= reports[i].ran_on;
	for (uint32_t c = 0; c < ncpus; c++)
		want |= 1ull << c;
	kprintf("# sched: %d threads ran on CPU mask 0x%lx (online 0x%lx)\n", SPREAD_THREADS,
		all, want);
	if (all != want)
		return ktest_fail("threads ran on 0x%lx, CPUs online 0x%lx", all, want);
	return NULL;
}

static const char *fairness(int n)
{
	uint64_t sum = 0, mean;
	const char *why = run_busy_threads(n, FAIR_MS, CPU_ANY);

	if (why)
		return why;
	for (int i = 0; i < n; i++)
		sum += reports[i].ticks;
	mean = sum / n;
	kprintf("# sched: %d CPU-bound threads for %d ms, ticks:", n, FAIR_MS);
	for (int i = 0; i < n; i++)
		kprintf(" %lu", reports[i].ticks);
	kprintf(" (mean %lu)\n", mean);
	for (int i = 0; i < n; i++) {
		uint64_t d = reports[i].ticks > mean ? reports[i].ticks - mean : mean - reports[i].ticks;
		if (!reports[i].ticks || d * 100 > mean * FAIR_TOLERANCE_PCT)
			return ktest_fail("thread %d got %lu ticks, mean %lu (over %d%% off)", i,
					  reports[i].ticks, mean, FAIR_TOLERANCE_PCT);
	}
	return NULL;
}

static const char *test_fairness_4(void) { return fairness(4); }
static const char *test_fairness_8(void) { return fairness(8); }
static const char *test_fairness_16(void) { return fairness(16); }

/* A pinned thread that sleeps and yields must still only ever run on its CPU. */
static void pinned_thread(void *arg)
{
	struct thread_report *r = arg;

	for (int i = 0; i < 20; i++) {
		spin_for_ms(5);
		if (i % 2)
			sleep_ms(3);
		else
			sched_yield();
	}
	r->ran_on = current_task()->ran_on;
}

static const char *test_affinity(void)
{
	uint32_t target = ncpus - 1;
	struct task *pinned, *load[4];
	struct thread_report r = { 0 };

	for (int i = 0; i < 4; i++) {
		reports[i] = (struct thread_report){ .ops = 150 };
		load[i] = kthread_create(busy_thread, &reports[i], "load");
	}
	pinned = kthread_create_on(pinned_thread, &r, "pinned", 1ull << target);
	if (!pinned)
		return "kthread_create failed";
	kthread_join(pinned);
	for (int i = 0; i < 4; i++)
		kthread_join(load[i]);
	if (r.ran_on != 1ull << target)
		return ktest_fail("thread pinned to CPU %u ran on mask 0x%lx", target, r.ran_on);
	return NULL;
}

/* ---------------------------------------------------------------- wake-up IPI */

static volatile uint64_t wake_t1, wake_tick1;

static void wake_probe(void *arg)
{
	(void)arg;
	wake_t1 = rdtsc();
	wake_tick1 = this_cpu()->ticks;
}

/*
 * Cycles from queuing a thread on a halted CPU until it runs there; *tick
 * says whether that CPU's timer ticked in between (without the IPI the
 * thread could only start at a tick).
 */
uint64_t sched_measure_wakeup(uint32_t target, bool *tick)
{
	struct task *t;
	uint64_t t0, tick0;

	/* Let the target go idle and halt. */
	while (sched_nr_ready(target) || !cpus[target].current->is_idle)
		sleep_ms(1);
	sleep_ms(2);
	tick0 = cpus[target].ticks;
	t0 = rdtsc();
	t = kthread_create_on(wake_probe, NULL, "wake", 1ull << target);
	kthread_join(t);
	*tick = wake_tick1 != tick0;
	return wake_t1 - t0;
}

#define WAKE_SAMPLES 7

static const char *test_wakeup_ipi_latency(void)
{
	uint64_t tick_ns = 1000000000ull / smp_tick_hz(), ns[WAKE_SAMPLES];
	int before_tick = 0;

	if (ncpus_online < 2)
		return ktest_skip("one CPU: no halted CPU to wake");
	for (int i = 0; i < WAKE_SAMPLES; i++) {
		bool tick;
		ns[i] = cycles_to_ns(sched_measure_wakeup(ncpus - 1, &tick));
		before_tick += !tick;
	}
	sort_u64(ns, WAKE_SAMPLES);
	kprintf("# sched: wake-up of a halted CPU: median %lu us, max %lu us, %d of %d before "
		"its next tick (a tick is %lu us)\n", ns[WAKE_SAMPLES / 2] / 1000,
		ns[WAKE_SAMPLES - 1] / 1000, before_tick, WAKE_SAMPLES, tick_ns / 1000);
	/* A thread started by the tick, not the IPI, always has a tick in between. */
	if (before_tick <= WAKE_SAMPLES / 2)
		return ktest_fail("only %d of %d wake-ups beat the next tick", before_tick, WAKE_SAMPLES);
	if (ns[WAKE_SAMPLES / 2] > tick_ns / 4)
		return ktest_fail("median wake-up %lu us, a tick is %lu us",
				  ns[WAKE_SAMPLES / 2] / 1000, tick_ns / 1000);
	return NULL;
}

/* ---------------------------------------------------------------- placement */

/*
 * A thread created and joined at once runs on the joiner's CPU: the join
 * pulls it off the idle CPU it was queued on before that CPU woke up.
 */
#define PULL_SAMPLES    10

static volatile uint32_t pull_ran_on;

static void pull_child(void *arg)
{
	(void)arg;
	pull_ran_on = cpu_id();
}

static volatile uint32_t pull_local;

static void pull_body(void *arg)
{
	(void)arg;
	pull_local = 0;
	for (int i = 0; i < PULL_SAMPLES; i++) {
		pull_ran_on = UINT32_MAX;
		kthread_join(kthread_create(pull_child, NULL, "pull_child"));
		pull_local += pull_ran_on == cpu_id();
	}
}

static const char *test_join_runs_child_here(void)
{
	uint64_t pulls0 = sched_pulls(), pulled;

	if (ncpus_online < 2)
		return ktest_skip("one CPU: every thread runs here anyway");
	/* Pinned, so "here" stays one CPU; the children may run anywhere. */
	kthread_join(kthread_create_on(pull_body, NULL, "pull_body", 1ull << 0));
	pulled = sched_pulls() - pulls0;
	kprintf("# sched: %u of %d created+joined threads ran on the joiner's CPU, %lu pulled\n",
		pull_local, PULL_SAMPLES, pulled);
	/*
	 * The creator's CPU is busy, so placement puts each child on an idle
	 * one; the join must take it back (the joiner's CPU, idle once the
	 * joiner sleeps, may also steal it: that is luck, not the rule).
	 */
	if (pull_local <= PULL_SAMPLES / 2 || pulled <= PULL_SAMPLES / 2)
		return ktest_fail("%u of %d joined threads ran on the joiner's CPU, %lu pulled by "
				  "the join", pull_local, PULL_SAMPLES, pulled);
	return NULL;
}

/* ---------------------------------------------------------------- torture + watchdog */

static struct mutex tmutex = MUTEX_INIT("ktest_mutex");
static struct semaphore tsem;
static volatile uint64_t tcounter;
static volatile uint32_t sem_inside, sem_max_inside;
static volatile bool watchdog_stop, watchdog_fired;

static void mutex_worker(void *arg)
{
	struct thread_report *r = arg;

	for (uint64_t i = 0; i < r->ops; i++) {
		mutex_lock(&tmutex);
		uint64_t v = tcounter;
		if ((i & 63) == 0)
			sched_yield();  /* get preempted/descheduled while holding it */
		tcounter = v + 1;
		mutex_unlock(&tmutex);
		r->progress++;
	}
	r->done = true;
}

static void sem_worker(void *arg)
{
	struct thread_report *r = arg;

	for (uint64_t i = 0; i < r->ops; i++) {
		sem_down(&tsem);
		uint32_t in = fetch_add32(&sem_inside, 1) + 1;
		if (in > sem_max_inside)
			sem_max_inside = in;
		if ((i & 31) == 0)
			sched_yield();
		fetch_add32(&sem_inside, (uint32_t)-1);
		sem_up(&tsem);
		r->progress++;
	}
	r->done = true;
}

/* Reports any worker whose progress stalls for WATCHDOG_STUCK_MS. */
static void watchdog(void *arg)
{
	int n = (int)(uint64_t)arg;
	uint64_t last[MAX_TEST_THREADS], since = time_ns();

	for (int i = 0; i < n; i++)
		last[i] = reports[i].progress;
	while (!watchdog_stop) {
		sleep_ms(100);
		bool moved = false;
		for (int i = 0; i < n; i++)
			if (reports[i].progress != last[i] || reports[i].done) {
				moved = true;
				last[i] = reports[i].progress;
			}
		if (moved) {
			since = time_ns();
		} else if (time_ns() - since > WATCHDOG_STUCK_MS * NS_PER_MS) {
			for (int i = 0; i < n; i++)
				if (!reports[i].done)
					kprintf("# watchdog: worker %d stuck at %lu ops\n", i, reports[i].progress);
			watchdog_fired = true;
			return;
		}
	}
}

static const char *torture(void (*fn)(void *), int nthreads)
{
	struct task *t[MAX_TEST_THREADS], *wd;

	watchdog_stop = watchdog_fired = false;
	for (int i = 0; i < nthreads; i++) {
		reports[i] = (struct thread_report){ .ops = TORTURE_OPS / nthreads };
		t[i] = kthread_create(fn, &reports[i], "torture");
		if (!t[i])
			return "kthread_create failed";
	}
	wd = kthread_create(watchdog, (void *)(uint64_t)nthreads, "watchdog");
	for (int i = 0; i < nthreads; i++) {
		while (!reports[i].done && !watchdog_fired)
			sleep_ms(20);
		if (watchdog_fired)
			return "watchdog: workers stuck (see above)";
		kthread_join(t[i]);
	}
	watchdog_stop = true;
	kthread_join(wd);
	return NULL;
}

static int torture_threads(void)
{
	int n = (int)ncpus_online * 2;

	return n > MAX_TEST_THREADS ? MAX_TEST_THREADS : n;
}

static const char *test_mutex_torture(void)
{
	int n = torture_threads();
	uint64_t expect = (uint64_t)(TORTURE_OPS / n) * n;
	const char *why;

	tcounter = 0;
	if ((why = torture(mutex_worker, n)))
		return why;
	if (tcounter != expect)
		return ktest_fail("counter %lu, expected %lu", tcounter, expect);
	return NULL;
}

static const char *test_semaphore_torture(void)
{
	int n = torture_threads();
	const char *why;

	sem_init(&tsem, 2, "ktest_sem");
	sem_inside = sem_max_inside = 0;
	if ((why = torture(sem_worker, n)))
		return why;
	if (sem_max_inside > 2 || sem_inside != 0 || tsem.count != 2)
		return ktest_fail("%u inside at once (limit 2), %u left inside, count %ld",
				  sem_max_inside, sem_inside, tsem.count);
	return NULL;
}

/* ---------------------------------------------------------------- wake-up storm */

/* A one-slot channel: every message needs the producer and consumer to alternate. */
struct channel {
	struct wait_queue wq;
	volatile uint64_t slot;         /* 0: empty */
	volatile uint64_t received, sum;
	uint64_t count;
};

static struct channel chans[STORM_PAIRS];
static volatile uint64_t storm_wakeups;

static void producer(void *arg)
{
	struct channel *ch = arg;

	for (uint64_t i = 1; i <= ch->count; i++) {
		wait_event(&ch->wq, ch->slot == 0);
		ch->slot = i;
		fetch_add64(&storm_wakeups, (uint64_t)wake_up_all(&ch->wq));
	}
}

static void consumer(void *arg)
{
	struct channel *ch = arg;

	for (uint64_t i = 1; i <= ch->count; i++) {
		wait_event(&ch->wq, ch->slot != 0);
		ch->sum += ch->slot;
		ch->received++;
		ch->slot = 0;
		fetch_add64(&storm_wakeups, (uint64_t)wake_up_all(&ch->wq));
	}
}

static const char *test_wakeup_storm(void)
{
	struct task *t[2 * STORM_PAIRS];
	uint32_t n = ncpus_online;

	storm_wakeups = 0;
	for (int p = 0; p < STORM_PAIRS; p++) {
		chans[p] = (struct channel){ .count = STORM_MESSAGES / STORM_PAIRS };
		wq_init(&chans[p].wq, "ktest_channel");
		/* Producer and consumer on different CPUs when there are several. */
		t[2 * p] = kthread_create_on(producer, &chans[p], "producer", 1ull << ((2 * p) % n));
		t[2 * p + 1] = kthread_create_on(consumer, &chans[p], "consumer",
						 1ull << ((2 * p + 1) % n));
	}
	for (int i = 0; i < 2 * STORM_PAIRS; i++)
		kthread_join(t[i]);
	kprintf("# sched: %d messages, %lu wake-ups\n", STORM_MESSAGES, storm_wakeups);
	for (int p = 0; p < STORM_PAIRS; p++) {
		uint64_t c = chans[p].count;
		if (chans[p].received != c || chans[p].sum != c * (c + 1) / 2)
			return ktest_fail("channel %d: %lu of %lu messages, sum %lu", p,
					  chans[p].received, c, chans[p].sum);
	}
	if (storm_wakeups < STORM_MESSAGES)
		return ktest_fail("only %lu wake-ups", storm_wakeups);
	return NULL;
}

/* ---------------------------------------------------------------- churn */

static void empty_thread(void *arg)
{
	(void)arg;
}

static const char *test_churn(void)
{
	struct kmalloc_stats st0, st1;
	uint64_t frames0;

	kthread_join(kthread_create(empty_thread, NULL, "warm"));
	frames0 = pmm_free_count();
	kmalloc_stats(&st0);
	for (int i = 0; i < CHURN_CYCLES; i++) {
		struct task *t = kthread_create(empty_thread, NULL, "churn");
		if (!t)
			return ktest_fail("kthread_create failed at cycle %d", i);
		if (kthread_join(t) != 0)
			return "wrong exit status";
	}
	kmalloc_stats(&st1);
	if (st1.allocations != st0.allocations || st1.bytes_in_use != st0.bytes_in_use)
		return ktest_fail("heap: %lu allocations / %lu bytes, was %lu / %lu",
				  st1.allocations, st1.bytes_in_use, st0.allocations, st0.bytes_in_use);
	if (pmm_free_count() != frames0)
		return ktest_fail("%ld frames leaked", (long)(frames0 - pmm_free_count()));
	return NULL;
}

KTEST_SUITE(sched,
	KTEST_CASE(test_threads_on_every_cpu),
	KTEST_CASE(test_fairness_4),
	KTEST_CASE(test_fairness_8),
	KTEST_CASE(test_fairness_16),
	KTEST_CASE(test_affinity),
	KTEST_CASE(test_wakeup_ipi_latency),
	KTEST_CASE(test_join_runs_child_here),
	KTEST_CASE(test_mutex_torture),
	KTEST_CASE(test_semaphore_torture),
	KTEST_CASE(test_wakeup_storm),
	KTEST_CASE(test_churn));
