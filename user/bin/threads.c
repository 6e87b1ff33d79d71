/*
 * threads: THREADS threads share this process's memory. Each adds
 * index * 1000 into its own slot of a shared array and bumps a shared
 * counter ROUNDS times with a lock-free atomic add; the joins must return
 * each thread's value and the memory must hold every update. KTAP.
 */
#include <stdio.h>
#include <kestrel.h>
#include <ktap.h>

#define THREADS         4
#define ROUNDS          100000          /* atomic increments per thread */
#define SLOT_STEP       1000
#define JOIN_MAGIC      UINT64_C(0x7E57000000)  /* join value = magic + index */

struct shared {
	uint64_t slots[THREADS];
	uint64_t counter;
	long tids[THREADS];             /* what gettid() said inside each thread */
	int go;                         /* start together, so the adds overlap */
};

static struct shared shared;

struct thread_arg {
	int index;
};

static uint64_t worker(void *p)
{
	const struct thread_arg *a = p;

	shared.tids[a->index] = gettid();
	while (!__atomic_load_n(&shared.go, __ATOMIC_ACQUIRE))
		yield();
	shared.slots[a->index] += (uint64_t)a->index * SLOT_STEP;
	for (int i = 0; i < ROUNDS; i++)
		__atomic_fetch_add(&shared.counter, 1, __ATOMIC_RELAXED);
	return JOIN_MAGIC + (uint64_t)a->index;
}

/* Creates the threads; returns how many were started. */
static int start_threads(struct thread_arg *args, long *tids)
{
	int started = 0;

	for (int i = 0; i < THREADS; i++) {
		args[i].index = i;
		tids[i] = thread_create(worker, &args[i]);
		if (tids[i] < 0)
			printf("# thread_create %d: %s\n", i, kestrel_strerror(tids[i]));
		else
			started++;
	}
	return started;
}

int main(void)
{
	struct thread_arg args[THREADS];
	long tids[THREADS];
	uint64_t values[THREADS] = { 0 };
	int started, joined = 0, distinct = 1;
	long self = gettid();

	ktap_begin("threads", 6);
	started = start_threads(args, tids);
	ktap_result(started == THREADS, "create", "%d of %d threads started", started, THREADS);
	__atomic_store_n(&shared.go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < THREADS; i++) {
		long r = tids[i] < 0 ? tids[i] : thread_join((int)tids[i], &values[i]);

		if (r < 0)
			printf("# thread_join %d: %s\n", i, kestrel_strerror(r));
		else
			joined++;
	}
	ktap_result(joined == started, "join", "%d of %d joins worked", joined, started);

	int bad_value = -1, bad_slot = -1;
	for (int i = 0; i < THREADS; i++) {
		if (values[i] != JOIN_MAGIC + (uint64_t)i && bad_value < 0)
			bad_value = i;
		if (shared.slots[i] != (uint64_t)i * SLOT_STEP && bad_slot < 0)
			bad_slot = i;
		for (int j = 0; j < i; j++)
			distinct &= shared.tids[i] != shared.tids[j];
		distinct &= shared.tids[i] != self && shared.tids[i] > 0;
	}
	ktap_result(bad_value < 0, "join values", "thread %d returned 0x%lx", bad_value,
		    bad_value < 0 ? 0 : values[bad_value]);
	ktap_result(bad_slot < 0, "shared slots", "slot %d holds %lu", bad_slot,
		    bad_slot < 0 ? 0 : shared.slots[bad_slot]);
	ktap_result(shared.counter == (uint64_t)THREADS * ROUNDS, "atomic counter",
		    "counter %lu, expected %lu", shared.counter, (uint64_t)THREADS * ROUNDS);
	ktap_result(distinct, "distinct tids", "gettid() values repeat or match the main thread");
	return ktap_end();
}
