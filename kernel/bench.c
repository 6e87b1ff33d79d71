/* Benchmark driver: times BENCH_ROUNDS rounds with the TSC, prints the median. */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/bench.h>
#include <kernel/printk.h>
#include <kernel/sort.h>

uint64_t bench_run(const struct bench *b)
{
	uint64_t samples[BENCH_ROUNDS];

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		if (b->setup)
			b->setup();
		uint64_t t0 = rdtsc();
		b->run(b->iterations);
		uint64_t t1 = rdtsc();
		if (b->teardown)
			b->teardown();
		samples[r] = (t1 - t0) / b->iterations;
	}
	sort_u64(samples, BENCH_ROUNDS);
	kprintf("bench: %s: %lu cycles/%s (median of %d rounds x %lu; min %lu, max %lu)\n",
		b->name, samples[BENCH_ROUNDS / 2], b->unit, BENCH_ROUNDS, b->iterations,
		samples[0], samples[BENCH_ROUNDS - 1]);
	return samples[BENCH_ROUNDS / 2];
}
