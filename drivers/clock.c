/*
 * The TSC rate (docs/cpus.md, "Time: TSC and LAPIC timer"): from CPUID
 * 0x15/0x16 when the CPU states it, else measured against the HPET, else
 * the ACPI PM timer, else PIT channel 2; clocksource=cpuid|hpet|pmtimer|pit
 * tries that one first. A source is dropped, with a line saying why, when
 * it is absent, does not count, or yields an implausible TSC rate, so a
 * machine without a PIT or without an HPET still gets a right rate.
 * Every wait here is bounded in TSC cycles assuming the fastest plausible
 * TSC, since the real rate is what is being measured.
 */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/x86.h>
#include <kernel/clock.h>
#include <kernel/cmdline.h>
#include <kernel/kernel.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/time.h>

/*
 * One window, not a median of several: both ends are bracketed by the
 * tightest of SAMPLE_TRIES counter reads, so a host stall inside a bracket
 * does not count, and a stall in between does not matter (the reference
 * and the counter both run on). The TSC window is against the chosen
 * reference; the LAPIC timer's, later, against the TSC, which is exact
 * and cheap to read, so a shorter window gives the same precision.
 */
#define CALIBRATE_MS            10      /* the TSC against the reference */
#define COUNTER_CALIBRATE_MS    2       /* another counter (LAPIC timer) against the TSC */
#define SAMPLE_TRIES            5       /* reads per endpoint: keep the tightest bracket */
/*
 * A round may take at most this many times its nominal length, at the
 * fastest plausible TSC: beyond, the reference counts too slowly to trust.
 */
#define ROUND_SLACK             8
#define ROUND_MAX_CYCLES(ms)    (TSC_MAX_HZ / MS_PER_S * (ms) * ROUND_SLACK)
/*
 * A counter that has not changed in this many reads is stopped: the
 * slowest reference (PIT, 1.19 MHz) moves every 0.84 us, while this many
 * reads (I/O or uncached MMIO, ~0.5 us or more each) take tens of ms.
 */
#define REF_STALL_READS         100000

#define NS_SHIFT                32      /* ns = cycles * ns_mult >> NS_SHIFT */
#define US_SHIFT                20      /* cycles = us * cyc_mult >> US_SHIFT */

static uint64_t tsc_freq;
static uint64_t tsc_boot;
/* Fixed-point factors: no 128-bit division (libgcc) in a freestanding kernel. */
static uint64_t ns_mult, cyc_mult;
static struct clock_ref ref;            /* the source in use */
static uint64_t crystal_hz;

static uint64_t tsc_read(void)
{
	return rdtsc();
}

/*
 * One endpoint: the reference read bracketed by two reads of the counter,
 * the tightest bracket of SAMPLE_TRIES, the counter taken at its middle.
 * A vCPU preempted by the host between the two reads widens only that try.
 */
struct sample {
	uint64_t ref, counter;
};

static void take_sample(const struct clock_ref *r, uint64_t (*read)(void), unsigned int bits,
			struct sample *s)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t c0 = read(), v = r->read(), c1 = read();
		uint64_t span = counter_delta(c0, c1, bits);

		if (span < best) {
			best = span;
			s->ref = v;
			s->counter = c0 + span / 2;
		}
	}
}

/* The rate of `read` in Hz over one window of ms against r, or 0 if r stopped or crawled. */
static uint64_t measure_window(const struct clock_ref *r, uint64_t (*read)(void),
			       unsigned int bits, uint64_t ms)
{
	uint64_t window = r->hz * ms / MS_PER_S, last, t0 = rdtsc();
	struct sample a, b;
	uint32_t still = 0;

	take_sample(r, read, bits, &a);
	for (last = a.ref;;) {
		uint64_t now = r->read();

		if (counter_delta(a.ref, now, r->bits) >= window)
			break;
		if (now == last) {
			if (++still >= REF_STALL_READS)
				return 0;
		} else {
			still = 0;
			last = now;
		}
		if (rdtsc() - t0 > ROUND_MAX_CYCLES(ms))
			return 0;
		cpu_relax();
	}
	take_sample(r, read, bits, &b);
	return muldiv64(counter_delta(a.counter, b.counter, bits), r->hz,
			counter_delta(a.ref, b.ref, r->bits));
}

uint64_t time_measure_rate(uint64_t (*read)(void), unsigned int bits)
{
	/* After time_init() the TSC is the reference: its rate is known now. */
	const struct clock_ref tsc = { .source = ref.source, .hz = tsc_freq, .bits = 64,
				       .read = tsc_read };

	return measure_window(&tsc, read, bits, COUNTER_CALIBRATE_MS);
}

/* Whether the reference moves at all within REF_STALL_READS reads. */
static bool ref_counts(void)
{
	uint64_t first = ref.read();

	for (uint32_t i = 0; i < REF_STALL_READS; i++) {
		if (ref.read() != first)
			return true;
		cpu_relax();
	}
	return false;
}

static int cpuid_probe(struct clock_ref *r)
{
	const struct cpu_info *ci = &boot_cpu_info;
	const struct cpuid_tsc_info c = { ci->max_leaf, ci->tsc_ratio_den, ci->tsc_ratio_num,
					  ci->crystal_hz, ci->base_mhz };
	uint64_t hz = cpuid_tsc_hz(&c);

	if (!hz) {
		kprintf("time: CPUID: %s (max leaf 0x%x)\n", cpuid_tsc_problem(&c), c.max_leaf);
		return -1;
	}
	/* The TSC itself, at the stated rate, is the reference for the LAPIC timer. */
	*r = (struct clock_ref){ .source = CLOCK_CPUID, .hz = hz, .bits = 64, .read = tsc_read };
	crystal_hz = cpuid_crystal_hz(&c);
	return 0;
}

/* Fills ref and tsc_freq from source s, or says why not and returns false. */
static bool try_source(enum clock_source s)
{
	static int (*const probe[CLOCK_SOURCES])(struct clock_ref *) = {
		[CLOCK_CPUID] = cpuid_probe, [CLOCK_HPET] = hpet_probe,
		[CLOCK_PMTIMER] = pmtimer_probe, [CLOCK_PIT] = pit_probe,
	};
	const char *name = clock_source_name(s);

	crystal_hz = 0;
	if (probe[s](&ref) < 0)
		return false;
	if (s == CLOCK_CPUID) {
		tsc_freq = ref.hz;
		return true;
	}
	if (!ref_counts()) {
		kprintf("time: %s does not count (the same value for %u reads); skipped\n", name,
			REF_STALL_READS);
		return false;
	}
	tsc_freq = measure_window(&ref, tsc_read, 64, CALIBRATE_MS);
	if (!tsc_freq) {
		kprintf("time: %s stopped or crawled during calibration (a %d ms window "
			"took over %d times that); skipped\n", name, CALIBRATE_MS, ROUND_SLACK);
		return false;
	}
	if (!tsc_hz_plausible(tsc_freq)) {
		kprintf("time: %s gives a TSC of %lu Hz, outside %lu..%lu; skipped\n", name,
			tsc_freq, (uint64_t)TSC_MIN_HZ, (uint64_t)TSC_MAX_HZ);
		return false;
	}
	return true;
}

void time_init(void)
{
	char word[CLOCK_WORD_LEN] = "";
	enum clock_source order[CLOCK_SOURCES], forced;
	size_t n;
	bool found = false;

	if (cmdline_get(boot_info()->cmdline, "clocksource", word, sizeof(word)) == CMDLINE_ABSENT)
		word[0] = '\0';
	forced = clock_source_parse(word);
	if (forced == CLOCK_BAD)
		kprintf("time: unknown clocksource=%s (cpuid, hpet, pmtimer, pit); choosing "
			"automatically\n", word);
	n = clock_source_order(forced, order);
	for (size_t i = 0; i < n && !found; i++) {
		found = try_source(order[i]);
		if (!found && i == 0 && forced < CLOCK_SOURCES)
			kprintf("time: clocksource=%s unusable; trying the others\n", word);
	}
	if (!found)
		panic("time: no usable time source (CPUID 0x15, HPET, ACPI PM timer, PIT)");
	ns_mult = (NS_PER_S << NS_SHIFT) / tsc_freq;
	cyc_mult = (tsc_freq << US_SHIFT) / 1000000;
	tsc_boot = rdtsc();
	if (ref.source == CLOCK_CPUID)
		kprintf("time: TSC %lu.%03lu MHz (CPUID 0x15)\n", tsc_freq / 1000000,
			tsc_freq / 1000 % 1000);
	else
		kprintf("time: TSC %lu.%03lu MHz (%s, one %d ms window)\n", tsc_freq / 1000000,
			tsc_freq / 1000 % 1000, clock_source_name(ref.source), CALIBRATE_MS);
	kprintf("time: invariant TSC %s, TSC-deadline timer %s\n",
		boot_cpu_info.has_invariant_tsc ? "yes" : "no",
		boot_cpu_info.has_tsc_deadline ? "yes" : "no");
}

const char *time_source_name(void)
{
	return clock_source_name(ref.source);
}

uint64_t time_crystal_hz(void)
{
	return crystal_hz;
}

uint64_t tsc_hz(void)
{
	return tsc_freq;
}

uint64_t cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)((unsigned __int128)cycles * ns_mult >> NS_SHIFT);
}

uint64_t time_ns(void)
{
	return cycles_to_ns(rdtsc() - tsc_boot);
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + (uint64_t)((unsigned __int128)us * cyc_mult >> US_SHIFT);

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

void mdelay(uint64_t ms)
{
	udelay(ms * 1000);
}
