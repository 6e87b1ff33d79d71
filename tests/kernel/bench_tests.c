/* test=bench: the benchmark table; each later subsystem adds its rows here. */
#include <stdint.h>
#include <kernel/bench.h>
#include <kernel/kernel.h>
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/sort.h>
#include <kernel/proc.h>
#include <kernel/vmm.h>
#include <kernel/cpu.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/wait.h>
#include <arch/x86.h>

#define MAP_PAGES       1000
#define MAP_VA          0x40000000ul

static void bench_frame(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		pmm_free_frame(pmm_alloc_frame());
}

static void bench_kmalloc_64(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		kfree(kmalloc(64));
}

static void bench_kmalloc_4k(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		kfree(kmalloc(4096));
}

static struct vm_space *map_space;
static uint64_t map_frame;

static void map_setup(void)
{
	map_space = vmm_create();
	map_frame = pmm_alloc_frame();
	if (!map_space || !map_frame)
		panic("bench: out of memory");
}

static void map_teardown(void)
{
	vmm_destroy(map_space);
	pmm_free_frame(map_frame);
}

/* Map 1,000 pages (all onto one frame) and unmap them again. */
static void bench_map_unmap(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		if (vmm_map(map_space, MAP_VA, map_frame, 1, VM_USER | VM_WRITE) < 0)
			panic("bench: map failed");
		for (uint64_t p = 1; p < MAP_PAGES; p++)
			vmm_map(map_space, MAP_VA + p * 4096, map_frame, 1, VM_USER | VM_WRITE);
		if (vmm_unmap(map_space, MAP_VA, MAP_PAGES) != MAP_PAGES)
			panic("bench: unmap failed");
	}
}

/* ---------------------------------------------------------------- SMP */

static spinlock_t bench_lock = SPINLOCK_INIT("bench");

static void bench_spin_uncontended(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		spin_lock(&bench_lock);
		spin_unlock(&bench_lock);
	}
}

static void ipi_nop(void *arg)
{
	(void)arg;
}

static void bench_ipi_roundtrip(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		smp_call(ncpus - 1, ipi_nop, NULL);
}

#define CONTENDED_OPS 20000
static volatile uint32_t contended_cpus;
static volatile uint64_t contended_counter;

static void contended_worker(void *arg)
{
	(void)arg;
	if (cpu_id() >= contended_cpus)
		return;
	for (int i = 0; i < CONTENDED_OPS; i++) {
		spin_lock(&bench_lock);
		contended_counter++;
		spin_unlock(&bench_lock);
	}
}

/* Lock+unlock pairs per second of all CPUs together, as cycles per pair. */
static void bench_contended(uint32_t n)
{
	uint64_t samples[BENCH_ROUNDS];

	if (n > ncpus_online)
		return;
	contended_cpus = n;
	for (int r = 0; r < BENCH_ROUNDS; r++) {
		uint64_t t0 = rdtsc();
		smp_run_on_all(contended_worker, NULL);
		samples[r] = (rdtsc() - t0) / ((uint64_t)n * CONTENDED_OPS);
	}
	sort_u64(samples, BENCH_ROUNDS);
	kprintf("bench: spinlock_contended_%ucpu: %lu cycles/lock+unlock (median of %d rounds x %d per CPU)\n",
		n, samples[BENCH_ROUNDS / 2], BENCH_ROUNDS, CONTENDED_OPS);
}

/* ---------------------------------------------------------------- scheduler */

static volatile bool yield_stop;

static void yielder(void *arg)
{
	(void)arg;
	while (!yield_stop)
		sched_yield();
}

static struct task *yield_partner;

static void yield_setup(void)
{
	yield_stop = false;
	yield_partner = kthread_create_on(yielder, NULL, "yielder", 1ull << cpu_id());
	sched_yield();
}

static void yield_teardown(void)
{
	yield_stop = true;
	kthread_join(yield_partner);
}

/* Each yield: a switch to the partner and its yield back, two switches. */
static void bench_yield(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		sched_yield();
}

static void empty_fn(void *arg)
{
	(void)arg;
}

static void bench_thread_lifecycle(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		kthread_join(kthread_create_on(empty_fn, NULL, "bench", 1ull << cpu_id()));
}

static struct mutex bench_mutex = MUTEX_INIT("bench");

static void bench_mutex_uncontended(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		mutex_lock(&bench_mutex);
		mutex_unlock(&bench_mutex);
	}
}

uint64_t sched_measure_wakeup(uint32_t target, bool *tick);

static void bench_wakeup(void)
{
	uint64_t samples[BENCH_ROUNDS];
	bool tick;

	if (ncpus_online < 2)
		return;
	for (int r = 0; r < BENCH_ROUNDS; r++)
		samples[r] = sched_measure_wakeup(ncpus - 1, &tick);
	sort_u64(samples, BENCH_ROUNDS);
	kprintf("bench: wakeup_halted_cpu_ipi: %lu cycles (median of %d; create to first run)\n",
		samples[BENCH_ROUNDS / 2], BENCH_ROUNDS);
}

static void bench_ap_startup(void)
{
	for (uint32_t c = 1; c < ncpus; c++)
		kprintf("bench: ap_startup_cpu%u: %lu cycles (INIT to online, measured at boot)\n", c,
			cpus[c].startup_cycles);
}

/* The ring-3 side: user/bin/bench prints its own "bench:" lines. */
static void bench_user(void)
{
	char *argv[] = { "bench" };
	int status, pid = proc_spawn("bench", 1, argv, proc_kernel_parent());

	if (pid < 0 || proc_wait(proc_kernel_parent(), pid, &status, NULL) < 0 || status != 0)
		kprintf("bench: user benchmarks failed (pid %d, status 0x%x)\n", pid, status);
	/* Two processes pinned to one CPU yielding to each other: switches with CR3 writes. */
	char *yargv[] = { "yielder", "20000" };
	uint64_t cpu = 1ull << (ncpus - 1);
	int a = proc_spawn_on("yielder", 2, yargv, proc_kernel_parent(), cpu);
	int b = proc_spawn_on("yielder", 2, yargv, proc_kernel_parent(), cpu);
	if (a < 0 || b < 0 || proc_wait(proc_kernel_parent(), a, &status, NULL) < 0 ||
	    proc_wait(proc_kernel_parent(), b, &status, NULL) < 0)
		kprintf("bench: process yield benchmark failed\n");
}

static const struct bench benches[] = {
	{ "pmm_alloc_free_frame", "op", 1000, 0, bench_frame, 0 },
	{ "kmalloc_kfree_64", "op", 1000, 0, bench_kmalloc_64, 0 },
	{ "kmalloc_kfree_4096", "op", 1000, 0, bench_kmalloc_4k, 0 },
	{ "vmm_map_unmap_1000_pages", "1000 pages", 1, map_setup, bench_map_unmap, map_teardown },
	{ "spinlock_uncontended", "lock+unlock", 10000, 0, bench_spin_uncontended, 0 },
	{ "ipi_roundtrip", "round trip", 200, 0, bench_ipi_roundtrip, 0 },
	{ "thread_switch_yield", "2 switches", 1000, yield_setup, bench_yield, yield_teardown },
	{ "thread_create_run_exit_join", "thread", 200, 0, bench_thread_lifecycle, 0 },
	{ "mutex_uncontended", "lock+unlock", 10000, 0, bench_mutex_uncontended, 0 },
};

static void bench_all(void)
{
	kprintf("bench: guest TSC cycles, median of %d rounds\n", BENCH_ROUNDS);
	for (unsigned int i = 0; i < ARRAY_SIZE(benches); i++)
		bench_run(&benches[i]);
	bench_contended(1);
	bench_contended(2);
	bench_contended(4);
	bench_wakeup();
	bench_ap_startup();
	bench_user();
	ktest_exit(KTEST_EXIT_PASS);
}
KTEST_SUITE_RUN(bench, bench_all);
