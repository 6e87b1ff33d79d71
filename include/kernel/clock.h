/*
 * Time sources (docs/cpus.md, "Time: TSC and LAPIC timer"): the counters
 * that can tell the TSC and LAPIC timer rates, and the pure arithmetic and
 * table decoding behind them (drivers/clock_calc.c, host-tested in
 * tests/unit/test_clock.c). drivers/clock.c chooses one at boot.
 */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In the order time_init() tries them when clocksource= does not force one. */
enum clock_source {
	CLOCK_CPUID,            /* CPUID 0x15/0x16: the CPU states its TSC rate */
	CLOCK_HPET,             /* ACPI HPET table, main counter */
	CLOCK_PMTIMER,          /* ACPI FADT PM_TMR_BLK / X_PM_TMR_BLK */
	CLOCK_PIT,              /* 8254 channel 2, counter latched and read back */
	CLOCK_SOURCES,
	CLOCK_AUTO = CLOCK_SOURCES,     /* clocksource= absent or "auto" */
	CLOCK_BAD,                      /* clocksource= names nothing we know */
};

#define CLOCK_WORD_LEN          16      /* longest clocksource= value kept */

/* clocksource= value ("cpuid", "hpet", "pmtimer", "pit", "auto") to a source. */
enum clock_source clock_source_parse(const char *word);
const char *clock_source_word(enum clock_source s);
/* As named on the serial lines: "CPUID 0x15", "HPET", "ACPI PM timer", "PIT channel 2". */
const char *clock_source_name(enum clock_source s);
/*
 * The order to try the sources in: a forced one first, then the others in
 * enum order. Fills order[CLOCK_SOURCES] (each source once) and returns
 * CLOCK_SOURCES.
 */
size_t clock_source_order(enum clock_source forced, enum clock_source order[CLOCK_SOURCES]);

/* The raw CPUID 0x15/0x16 words (SDM vol. 2A, CPUID leaves 15H and 16H). */
struct cpuid_tsc_info {
	uint32_t max_leaf;      /* CPUID.0:EAX */
	uint32_t den;           /* 15H EAX: TSC / crystal ratio denominator */
	uint32_t num;           /* 15H EBX: numerator (0: not enumerated) */
	uint32_t crystal_hz;    /* 15H ECX: core crystal (0: not enumerated) */
	uint32_t base_mhz;      /* 16H EAX[15:0]: base frequency (0: not enumerated) */
};

/*
 * TSC rate the CPU states, or 0: crystal * num / den, the crystal from
 * 15H ECX or, when that is 0, derived from the 16H base frequency (the TSC
 * runs at the base frequency, so the TSC rate is the base frequency).
 */
uint64_t cpuid_tsc_hz(const struct cpuid_tsc_info *c);
/*
 * Core crystal rate, or 0 when 15H ECX does not state it. On CPUs that
 * enumerate leaf 15H the LAPIC timer counts this clock (SDM vol. 3, 10.5.4).
 */
uint64_t cpuid_crystal_hz(const struct cpuid_tsc_info *c);
/* Why cpuid_tsc_hz() is 0, for the log ("max leaf 0xd", ...), or NULL. */
const char *cpuid_tsc_problem(const struct cpuid_tsc_info *c);

/* ACPI "HPET" description table (IA-PC HPET spec 1.0a, 3.2.4). */
struct hpet_table {
	uint64_t base;          /* physical address of the register block */
	uint8_t number;         /* HPET sequence number */
	uint16_t min_tick;      /* main counter minimum clock tick in periodic mode */
};

/* 0, -EINVAL (too short, bad signature) or -ENOSYS (not in system memory). */
int hpet_table_parse(const void *table, size_t len, struct hpet_table *out);
/*
 * General capabilities register (HPET spec 2.3.4) to the main counter's
 * rate and width: 0, or -EINVAL when the period is 0 or above the spec's
 * 100 ns maximum.
 */
int hpet_caps_decode(uint64_t caps, uint64_t *hz, unsigned int *bits);

/* Where the ACPI PM timer is (ACPI 6.x 4.8.2.1, FADT table 5.9). */
struct pm_timer_block {
	uint16_t port;          /* system I/O port of the 4-byte PM_TMR */
	unsigned int bits;      /* 24, or 32 with FADT flag TMR_VAL_EXT */
};

/*
 * 0; -EINVAL: not a FADT or too short; -ENOENT: no PM timer (both blocks 0);
 * -ENOSYS: X_PM_TMR_BLK not in system I/O space, or a bad length.
 */
int fadt_pm_timer(const void *fadt, size_t len, struct pm_timer_block *out);

#define PM_TIMER_HZ             3579545u        /* ACPI 6.x 4.8.2.1 */
#define PIT_HZ                  1193182u        /* 8254 input clock, 14.31818 MHz / 12 */

/* to - from for a counter that wraps at 2^bits (bits 1..64). */
uint64_t counter_delta(uint64_t from, uint64_t to, unsigned int bits);
/* a * b / c through a 128-bit product, without 128-bit division (libgcc); c > 0. */
uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c);

/*
 * TSC rates a calibration may believe: anything outside means the reference
 * did not count what it claims (a missing PIT reads as "done at once").
 */
#define TSC_MIN_HZ              50000000ull     /* 50 MHz */
#define TSC_MAX_HZ              20000000000ull  /* 20 GHz */
bool tsc_hz_plausible(uint64_t hz);

/* ------------------------------------------------------------ drivers */

/*
 * A reference counter: read() returns its low `bits` bits, counting up
 * at hz. Each probe fills one or prints why it cannot and returns < 0.
 */
struct clock_ref {
	enum clock_source source;
	uint64_t hz;
	unsigned int bits;
	uint64_t (*read)(void);
};

int hpet_probe(struct clock_ref *ref);
int pmtimer_probe(struct clock_ref *ref);
int pit_probe(struct clock_ref *ref);

#endif
