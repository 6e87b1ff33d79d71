/*
 * worker <n>: keeps a CPU busy for WORK_NS of clock_ns time (a xorshift
 * chain, so the loop cannot be optimised away), reporting its CPU and
 * progress every quarter. Exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define WORK_NS         (2 * NSEC_PER_SEC)
#define REPORTS         4               /* progress lines: 25%, 50%, 75%, 100% */
#define CHUNK           20000           /* rounds between clock reads */

/* Marsaglia, "Xorshift RNGs" (2003), the 64-bit 13/7/17 triple. */
static uint64_t xorshift64(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	uint64_t start = clock_ns(), now = start, x = UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)n;
	uint64_t rounds = 0;
	int reported = 0;

	while (reported < REPORTS) {
		for (int i = 0; i < CHUNK; i++)
			x = xorshift64(x);
		rounds += CHUNK;
		now = clock_ns();
		while (reported < REPORTS && now - start >= WORK_NS / REPORTS * (uint64_t)(reported + 1)) {
			reported++;
			printf("worker %d: cpu %d progress %d%%\n", n, cpu_id(), reported * 100 / REPORTS);
		}
	}
	printf("worker %d: done, %lu rounds in %lu ms (checksum %lx)\n", n, rounds,
	       (now - start) / NSEC_PER_MSEC, x);
	return 0;
}
