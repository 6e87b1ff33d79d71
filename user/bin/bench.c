/*
 * bench: user-side micro-benchmarks in TSC cycles, reported like the
 * kernel's (kernel/bench.c): "bench: <name>: <median> cycles/<unit> (...)",
 * the median of BENCH_ROUNDS rounds.
 */
#include <stdio.h>
#include <kestrel.h>
#include <kestrel/fiber.h>
#include <kestrel/sync.h>

#define BENCH_ROUNDS    15

struct bench {
	const char *name;
	const char *unit;
	uint64_t iterations;            /* per round */
	bool (*run)(uint64_t iterations);       /* false: the operation failed */
};

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static bool run_getpid(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (getpid() < 0)
			return false;
	return true;
}

static bool run_yield(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (yield() < 0)
			return false;
	return true;
}

static uint64_t thread_nop(void *arg)
{
	return (uintptr_t)arg;
}

static bool run_thread(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		long tid = thread_create(thread_nop, NULL);

		if (tid < 0 || thread_join((int)tid, NULL) < 0)
			return false;
	}
	return true;
}

static bool spawn_wait(const char *prog, const char *argv[], uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		long pid = spawn(prog, argv);
		int status;

		if (pid < 0 || wait((int)pid, &status) != pid || !KESTREL_WAIT_EXITED(status))
			return false;
	}
	return true;
}

/*
 * Futex ping-pong with a partner thread started once: main stores 1 and
 * wakes, the partner sleeps while the word is 0, stores 0 and wakes, main
 * sleeps while it is 1. One iteration is one wake+wait each way.
 */
static uint32_t pingpong;
static long partner_tid = -1;

static uint64_t pong(void *arg)
{
	(void)arg;
	for (;;) {
		while (__atomic_load_n(&pingpong, __ATOMIC_ACQUIRE) == 0)
			futex_wait(&pingpong, 0, 0);
		__atomic_store_n(&pingpong, 0, __ATOMIC_RELEASE);
		futex_wake(&pingpong, 1);
	}
	return 0;
}

static bool run_futex(uint64_t n)
{
	if (partner_tid < 0 && (partner_tid = thread_create(pong, NULL)) < 0)
		return false;
	for (uint64_t i = 0; i < n; i++) {
		__atomic_store_n(&pingpong, 1, __ATOMIC_RELEASE);
		if (futex_wake(&pingpong, 1) < 0)
			return false;
		while (__atomic_load_n(&pingpong, __ATOMIC_ACQUIRE) == 1)
			futex_wait(&pingpong, 1, 0);
	}
	return true;
}

static uint64_t fiber_nop(void *arg)
{
	return (uintptr_t)arg;
}

/* Inside a fiber, so create, run, exit and join are all fiber operations. */
static uint64_t fiber_driver(void *arg)
{
	uint64_t n = (uintptr_t)arg;

	for (uint64_t i = 0; i < n; i++) {
		fiber_t *f;
		if (fiber_create(&f, fiber_nop, NULL) < 0 || fiber_join(f, NULL) < 0)
			return 0;
	}
	return 1;
}

static bool run_fiber(uint64_t n)
{
	fiber_t *driver;
	uint64_t ok = 0;

	if (fiber_create(&driver, fiber_driver, (void *)(uintptr_t)n) < 0 ||
	    fiber_join(driver, &ok) < 0)
		return false;
	return ok == 1;
}

static bool run_spawn(uint64_t n)
{
	const char *argv[] = { "hello", "0", NULL };

	return spawn_wait("hello", argv, n);
}

/* true prints nothing: process creation and teardown alone. */
static bool run_spawn_true(uint64_t n)
{
	const char *argv[] = { "true", NULL };

	return spawn_wait("true", argv, n);
}

/* mmap of twice the machine's memory: must fail with -ENOMEM and cost nothing. */
static bool run_mmap_enomem(uint64_t n)
{
	struct kestrel_sysinfo si;

	if (sysinfo(&si) < 0)
		return false;
	for (uint64_t i = 0; i < n; i++)
		if (sys_mmap(NULL, si.mem_total_pages * KESTREL_PAGE_SIZE * 2,
			     PROT_READ | PROT_WRITE) != -ENOMEM)
			return false;
	return true;
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Returns false when an operation failed (nothing is reported then). */
static bool bench_run(const struct bench *b)
{
	uint64_t samples[BENCH_ROUNDS];

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		uint64_t t0 = rdtsc();

		if (!b->run(b->iterations)) {
			printf("bench: %s: failed\n", b->name);
			return false;
		}
		samples[r] = (rdtsc() - t0) / b->iterations;
	}
	sort_u64(samples, BENCH_ROUNDS);
	printf("bench: %s: %lu cycles/%s (median of %d rounds x %lu; min %lu, max %lu)\n",
	       b->name, samples[BENCH_ROUNDS / 2], b->unit, BENCH_ROUNDS, b->iterations,
	       samples[0], samples[BENCH_ROUNDS - 1]);
	return true;
}

static const struct bench benches[] = {
	{ "user null syscall (getpid)", "call", 1000, run_getpid },
	{ "user yield", "call", 1000, run_yield },
	{ "user thread create+exit+join", "thread", 20, run_thread },
	{ "user spawn+exit+wait (hello)", "process", 4, run_spawn },
	{ "user spawn+exit+wait (true)", "process", 4, run_spawn_true },
	{ "user mmap beyond memory (ENOMEM)", "call", 100, run_mmap_enomem },
	/* Last: these leave a sleeping partner thread and idle fiber workers behind. */
	{ "user futex wake+wait round trip", "round trip", 200, run_futex },
	{ "user fiber create+run+exit+join", "fiber", 1000, run_fiber },
};

int main(void)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
		failed += !bench_run(&benches[i]);
	return failed;
}
