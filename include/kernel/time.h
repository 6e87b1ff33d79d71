/*
 * Time keeping: the TSC rate from CPUID or measured against a reference
 * counter (HPET, ACPI PM timer or PIT, drivers/clock.c); delays and timestamps.
 */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

#define MS_PER_S                UINT64_C(1000)
#define US_PER_S                UINT64_C(1000000)
#define NS_PER_US               UINT64_C(1000)
#define NS_PER_MS               UINT64_C(1000000)
#define NS_PER_S                UINT64_C(1000000000)

/* Finds the TSC rate (clocksource= may force a source); call once on the boot CPU. */
void time_init(void);
uint64_t tsc_hz(void);
void udelay(uint64_t us);
void mdelay(uint64_t ms);
/* Nanoseconds since time_init(), monotonic. */
uint64_t time_ns(void);
uint64_t cycles_to_ns(uint64_t cycles);

/* The source time_init() used, as on its line: "HPET", "CPUID 0x15", ... */
const char *time_source_name(void);
/* The core crystal rate when CPUID 0x15 states it and is the source, else 0. */
uint64_t time_crystal_hz(void);
/*
 * Ticks per second of a counter (read() returns its low `bits` bits,
 * counting up), measured against the TSC, whose rate time_init() found,
 * over one short window. 0 if the TSC seemed to stop.
 */
uint64_t time_measure_rate(uint64_t (*read)(void), unsigned int bits);

#endif
