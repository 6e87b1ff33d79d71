/*
 * fibers: the M:N fiber library (kestrel/fiber.h) on every CPU, with the
 * kernel preempting the workers. Thousands of fibers add to a counter under
 * a fiber mutex (yielding inside it, so waiters park) and the total must be
 * exact; every join (from a thread or from a fiber) waits for its fiber
 * and returns its value; pinned fibers on one worker
 * take strict turns when they yield; fibers made by one fiber spread to
 * every worker by stealing; a fiber parked on a fiber mutex leaves its
 * worker free for the next fiber; each fiber keeps its own MXCSR and x87
 * control word; idle workers sleep instead of spinning. KTAP; the exit status is the number of failures.
 */
#include <stdio.h>
#include <kestrel.h>
#include <kestrel/fiber.h>
#include <kestrel/sync.h>
#include <ktap.h>

#define CASES                   9
#define COUNT_FIBERS            2000
#define COUNT_ROUNDS            20      /* locked increments per fiber */
#define YIELD_IN_LOCK_EVERY     4       /* rounds: yield while holding the mutex */
#define JOIN_MAGIC              UINT64_C(0xF1BE000000)
#define FAIR_FIBERS             16
#define FAIR_ROUNDS             200
#define STEAL_CHILDREN          256
#define STEAL_WORK              2000    /* busy iterations between yields */
#define BOUND_NS                (10 * NSEC_PER_SEC)     /* how long a broken case may hang */
#define MXCSR_DEFAULT           0x1F80
#define MXCSR_ROUND_ZERO        0x7F80  /* RC = 11b: round toward zero (SDM vol. 1, 10.2.3) */
#define FPUCW_DEFAULT           0x037F
#define FPUCW_ROUND_ZERO        0x0F7F  /* RC = 11b, bits 10-11 */
#define FPU_YIELDS              50
#define IDLE_SETTLE_MS          200     /* workers finish their steal attempts */
#define IDLE_MS                 1000
#define IDLE_TICKS_MAX          10      /* of about 4 x IDLE_MS of ticks if they spun */

/* ---------------------------------------------------------------- counter */

static fiber_mutex_t count_lock = FIBER_MUTEX_INITIALIZER;
static volatile uint64_t count;

static uint64_t counter_fiber(void *arg)
{
	for (int i = 0; i < COUNT_ROUNDS; i++) {
		fiber_mutex_lock(&count_lock);
		uint64_t v = count;     /* a plain read-modify-write: lost without the lock */
		if (i % YIELD_IN_LOCK_EVERY == 0)
			fiber_yield();
		count = v + 1;
		fiber_mutex_unlock(&count_lock);
	}
	return JOIN_MAGIC + (uintptr_t)arg;
}

static fiber_t *count_fibers[COUNT_FIBERS];

static void case_counter(void)
{
	int created = 0, bad_join = -1;

	for (int i = 0; i < COUNT_FIBERS; i++) {
		long r = fiber_create(&count_fibers[i], counter_fiber, (void *)(uintptr_t)i);
		if (r < 0) {
			printf("# fiber_create %d: %s\n", i, kestrel_strerror(r));
			break;
		}
		created++;
	}
	for (int i = 0; i < created; i++) {
		uint64_t v = 0;
		if (fiber_join(count_fibers[i], &v) < 0 || v != JOIN_MAGIC + (uint64_t)i)
			bad_join = i;
	}
	ktap_result(created == COUNT_FIBERS && count == (uint64_t)COUNT_FIBERS * COUNT_ROUNDS &&
		    count_lock.state == 0, "mutex-counter-exact",
		    "%d fibers, counter %lu, expected %lu, lock word %u", created, count,
		    (uint64_t)COUNT_FIBERS * COUNT_ROUNDS, count_lock.state);
	ktap_result(created == COUNT_FIBERS && bad_join < 0, "join-values",
		    "fiber %d joined with a wrong value", bad_join);
}

/* ---------------------------------------------------------------- fairness */

static uint32_t fair_gate, fair_arrived, fair_stop;
static uint64_t fair_counts[FAIR_FIBERS];

static uint64_t fair_fiber(void *arg)
{
	uint64_t *mine = arg;

	__atomic_fetch_add(&fair_arrived, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&fair_gate, __ATOMIC_ACQUIRE))
		fiber_futex_wait(&fair_gate, 0);
	while (!__atomic_load_n(&fair_stop, __ATOMIC_ACQUIRE)) {
		if (++*mine == FAIR_ROUNDS)
			__atomic_store_n(&fair_stop, 1, __ATOMIC_RELEASE);
		fiber_yield();
	}
	return 0;
}

/*
 * Pinned to one worker, yielding fibers go round in a fixed order: when
 * the first reaches FAIR_ROUNDS, every other has FAIR_ROUNDS or one less.
 */
static void case_fairness(void)
{
	fiber_t *f[FAIR_FIBERS];
	uint64_t lo = UINT64_MAX, hi = 0;
	int created = 0;

	for (int i = 0; i < FAIR_FIBERS; i++)
		created += fiber_create_on(&f[i], 0, fair_fiber, &fair_counts[i]) == 0;
	while (__atomic_load_n(&fair_arrived, __ATOMIC_ACQUIRE) < (uint32_t)created)
		yield();
	__atomic_store_n(&fair_gate, 1, __ATOMIC_RELEASE);
	fiber_futex_wake(&fair_gate, FUTEX_WAKE_ALL);
	for (int i = 0; i < created; i++) {
		fiber_join(f[i], NULL);
		lo = fair_counts[i] < lo ? fair_counts[i] : lo;
		hi = fair_counts[i] > hi ? fair_counts[i] : hi;
	}
	printf("# fairness: %d fibers on worker 0, yields per fiber %lu..%lu\n", created, lo, hi);
	ktap_result(created == FAIR_FIBERS && hi == FAIR_ROUNDS && hi - lo <= 1,
		    "fairness-round-robin", "%d fibers, counts %lu..%lu, expected %d or %d",
		    created, lo, hi, FAIR_ROUNDS - 1, FAIR_ROUNDS);
}

/* ---------------------------------------------------------------- stealing */

static uint32_t seen_mask;              /* bit w: a child ran on worker w */
static uint32_t kid_finished[STEAL_CHILDREN];   /* set by each child just before it returns */
static uint32_t bad_fiber_joins;        /* joins from a fiber that returned early or wrong */
static uint32_t all_mask;
static uint64_t steal_deadline;

static uint64_t steal_child(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	for (;;) {
		__atomic_fetch_or(&seen_mask, 1u << fiber_worker(), __ATOMIC_RELAXED);
		if ((__atomic_load_n(&seen_mask, __ATOMIC_RELAXED) & all_mask) == all_mask ||
		    clock_ns() > steal_deadline) {
			fiber_yield();          /* the parent may be joining right now */
			__atomic_store_n(&kid_finished[i], 1, __ATOMIC_RELEASE);
			return JOIN_MAGIC + i;
		}
		for (volatile int i = 0; i < STEAL_WORK; i++)
			;
		fiber_yield();
	}
}

/* One fiber makes all the children: they start on its worker's queue only. */
static uint64_t steal_parent(void *arg)
{
	fiber_t **kids = arg;
	uint64_t made = 0;

	for (int i = 0; i < STEAL_CHILDREN; i++)
		if (fiber_create(&kids[i], steal_child, (void *)(uintptr_t)i) == 0)
			made++;
		else
			kids[i] = NULL;
	for (int i = 0; i < STEAL_CHILDREN; i++) {
		uint64_t v = 0;
		if (kids[i] && (fiber_join(kids[i], &v) < 0 || v != JOIN_MAGIC + (uint64_t)i ||
				!__atomic_load_n(&kid_finished[i], __ATOMIC_ACQUIRE)))
			bad_fiber_joins++;
	}
	return made;
}

static void case_stealing(int nworkers)
{
	static fiber_t *kids[STEAL_CHILDREN];
	struct fiber_stats before, after;
	uint64_t made = 0, steals = 0;
	fiber_t *parent;

	all_mask = (1u << nworkers) - 1;
	steal_deadline = clock_ns() + BOUND_NS;
	fiber_stats(&before);
	if (fiber_create(&parent, steal_parent, kids) == 0)
		fiber_join(parent, &made);
	fiber_stats(&after);
	for (int w = 0; w < nworkers; w++) {
		steals += after.steals[w] - before.steals[w];
		printf("# worker %d: %lu fiber runs, %lu steals, %lu idle sleeps\n", w,
		       after.runs[w], after.steals[w], after.sleeps[w]);
	}
	ktap_result(made == STEAL_CHILDREN && bad_fiber_joins == 0, "join-from-fiber",
		    "%lu children, %u joins returned before the child ended or with a wrong value",
		    made, bad_fiber_joins);
	if (nworkers < 2)
		ktap_skip("stealing-reaches-every-worker", "one worker");
	else
		ktap_result(made == STEAL_CHILDREN && seen_mask == all_mask && steals > 0,
			    "stealing-reaches-every-worker",
			    "%lu children, ran on workers 0x%x of 0x%x, %lu steals", made,
			    seen_mask, all_mask, steals);
}

/* ---------------------------------------------------------------- parking */

static fiber_mutex_t park_lock = FIBER_MUTEX_INITIALIZER;
static uint32_t a_waiting, a_got_lock, b_ran, b_saw_a_waiting;
static int a_worker = -1, b_worker = -1;

static uint64_t park_a(void *arg)
{
	(void)arg;
	a_worker = fiber_worker();
	__atomic_store_n(&a_waiting, 1, __ATOMIC_SEQ_CST);
	fiber_mutex_lock(&park_lock);           /* main holds it: A parks */
	__atomic_store_n(&a_got_lock, 1, __ATOMIC_SEQ_CST);
	fiber_mutex_unlock(&park_lock);
	return 0;
}

static uint64_t park_b(void *arg)
{
	(void)arg;
	b_worker = fiber_worker();
	/* Same worker, cooperative: B runs only while A is switched out, parked. */
	b_saw_a_waiting = __atomic_load_n(&a_waiting, __ATOMIC_SEQ_CST) &&
			  !__atomic_load_n(&a_got_lock, __ATOMIC_SEQ_CST);
	__atomic_store_n(&b_ran, 1, __ATOMIC_RELEASE);
	futex_wake(&b_ran, 1);
	return 0;
}

static void case_parking(int nworkers)
{
	int w = nworkers - 1;
	uint64_t deadline = clock_ns() + BOUND_NS;
	fiber_t *a, *b;
	bool ok;

	fiber_mutex_lock(&park_lock);           /* from an ordinary thread: a kernel futex path */
	if (fiber_create_on(&a, w, park_a, NULL) < 0) {
		ktap_result(false, "park-keeps-worker", "fiber_create_on failed");
		fiber_mutex_unlock(&park_lock);
		return;
	}
	while (!__atomic_load_n(&a_waiting, __ATOMIC_ACQUIRE) && clock_ns() < deadline)
		sleep_ms(1);
	if (fiber_create_on(&b, w, park_b, NULL) < 0)
		b = NULL;
	while (b && !__atomic_load_n(&b_ran, __ATOMIC_ACQUIRE) && clock_ns() < deadline)
		futex_wait(&b_ran, 0, deadline - clock_ns());
	ok = b && __atomic_load_n(&b_ran, __ATOMIC_ACQUIRE);
	if (!ok) {
		/* A blocked its worker: B can never run. Leave them; exit ends the process. */
		ktap_result(false, "park-keeps-worker", "fiber B never ran on worker %d while A waited",
			    w);
		return;
	}
	fiber_mutex_unlock(&park_lock);
	fiber_join(a, NULL);
	fiber_join(b, NULL);
	ktap_result(b_saw_a_waiting && a_got_lock && a_worker == w && b_worker == w,
		    "park-keeps-worker", "B saw A parked: %u, A got the lock: %u, workers %d and %d "
		    "(pinned to %d)", b_saw_a_waiting, a_got_lock, a_worker, b_worker, w);
}

/* ---------------------------------------------------------------- FPU control */

static uint32_t get_mxcsr(void)
{
	uint32_t v;

	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static uint16_t get_fpucw(void)
{
	uint16_t v;

	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

static uint32_t fpu_bad;                /* atomic: fibers that saw another's control words */

static uint64_t fpu_fiber(void *arg)
{
	bool odd = (uintptr_t)arg & 1;
	uint32_t mx = odd ? MXCSR_ROUND_ZERO : MXCSR_DEFAULT;
	uint16_t cw = odd ? FPUCW_ROUND_ZERO : FPUCW_DEFAULT;

	if (get_mxcsr() != MXCSR_DEFAULT || get_fpucw() != FPUCW_DEFAULT)
		__atomic_fetch_add(&fpu_bad, 1, __ATOMIC_RELAXED);      /* a new fiber starts clean */
	__asm__ volatile("ldmxcsr %0" :: "m"(mx));
	__asm__ volatile("fldcw %0" :: "m"(cw));
	for (int i = 0; i < FPU_YIELDS; i++) {
		fiber_yield();
		if (get_mxcsr() != mx || get_fpucw() != cw) {
			__atomic_fetch_add(&fpu_bad, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return 0;
}

static void case_fpu_control(void)
{
	fiber_t *f[4];
	int created = 0;

	for (int i = 0; i < 4; i++)
		created += fiber_create_on(&f[i], 0, fpu_fiber, (void *)(uintptr_t)i) == 0;
	for (int i = 0; i < created; i++)
		fiber_join(f[i], NULL);
	ktap_result(created == 4 && fpu_bad == 0, "mxcsr-fpucw-per-fiber",
		    "%d fibers, %u saw control words that were not theirs", created, fpu_bad);
}

/* ---------------------------------------------------------------- idle */

/* Timer ticks this process's threads have run, from ps(). */
static uint64_t my_ticks(void)
{
	static struct kestrel_proc_info info[64];
	long n = ps(info, sizeof info / sizeof info[0]), pid = getpid();

	for (long i = 0; i < n; i++)
		if (info[i].pid == pid)
			return info[i].cpu_ticks;
	return 0;
}

/* With nothing to run, the workers must sleep on their futex words, not spin. */
static void case_idle(int nworkers)
{
	struct fiber_stats st;
	uint64_t t0, t1, sleeps = 0;

	sleep_ms(IDLE_SETTLE_MS);
	t0 = my_ticks();
	sleep_ms(IDLE_MS);
	t1 = my_ticks();
	fiber_stats(&st);
	for (int w = 0; w < nworkers; w++)
		sleeps += st.sleeps[w];
	ktap_result(t1 - t0 <= IDLE_TICKS_MAX && sleeps > 0, "idle-workers-sleep",
		    "%d idle workers ran %lu ticks in %d ms (at most %d), %lu idle sleeps", nworkers,
		    t1 - t0, IDLE_MS, IDLE_TICKS_MAX, sleeps);
}

int main(void)
{
	struct kestrel_sysinfo si;
	long n;

	ktap_begin("fibers", CASES);
	sysinfo(&si);
	n = fiber_init(0);
	ktap_result(n == (long)si.cpus_online || (n == FIBER_MAX_WORKERS &&
						  si.cpus_online > FIBER_MAX_WORKERS),
		    "one-worker-per-cpu", "fiber_init: %ld workers, %u CPUs", n, si.cpus_online);
	if (n < 1)
		return ktap_end();
	case_counter();
	case_fairness();
	case_stealing((int)n);
	case_parking((int)n);
	case_fpu_control();
	case_idle((int)n);
	return ktap_end();
}
