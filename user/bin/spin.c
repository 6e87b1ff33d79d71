/*
 * spin <ms> [start_ns]: burns CPU for ms milliseconds of clock_ns time,
 * then prints how many rounds of work it got done. With start_ns (a
 * clock_ns value) it first sleeps until then, so that processes spawned
 * one after another all compete over the same window (the fairness test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

#define DEFAULT_MS      1000
#define CHUNK           1000    /* rounds between clock reads */

int main(int argc, char **argv)
{
	long ms = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_MS;
	uint64_t start = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;

	while (clock_ns() < start)
		sleep_ms((start - clock_ns()) / NSEC_PER_MSEC + 1);
	uint64_t deadline = clock_ns() + (uint64_t)(ms < 0 ? 0 : ms) * NSEC_PER_MSEC;
	uint64_t iterations = 0;
	volatile uint64_t sink = 0;     /* keeps the work loop real */

	while (clock_ns() < deadline) {
		for (int i = 0; i < CHUNK; i++)
			sink += (uint64_t)i;
		iterations += CHUNK;
	}
	printf("spin %ld: %lu iterations\n", getpid(), iterations);
	return 0;
}
