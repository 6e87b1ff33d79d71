/* In-guest benchmarks (test=bench): guest TSC cycles, median over rounds. */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

#include <stdint.h>

#define BENCH_ROUNDS    15

struct bench {
	const char *name;
	const char *unit;               /* what one iteration is */
	uint64_t iterations;            /* per round */
	void (*setup)(void);            /* optional, outside the timing */
	void (*run)(uint64_t iterations);
	void (*teardown)(void);         /* optional */
};

/* Runs b for BENCH_ROUNDS rounds and prints "bench: <name>: <median> cycles/<unit>". */
uint64_t bench_run(const struct bench *b);

#endif
