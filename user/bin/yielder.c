/*
 * yielder <n>: calls SYS_yield n times and prints the cycles per call.
 * make bench starts two on one CPU, so each yield is a switch to the other
 * process and back (two switches, each with a CR3 write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <kestrel.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	uint64_t t0;

	if (n <= 0)
		return 1;
	sys_yield();                    /* let the partner start */
	t0 = rdtsc();
	for (long i = 0; i < n; i++)
		sys_yield();
	printf("bench: process_yield_pinned_pid%ld: %lu cycles/yield (2 processes on one CPU, "
	       "%ld yields, cpu %ld)\n", (long)getpid(), (unsigned long)((rdtsc() - t0) / (uint64_t)n), n,
	       (long)cpu_id());
	return 0;
}
