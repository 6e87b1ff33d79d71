/*
 * The 8254 PIT (Intel 82C54 datasheet), channel 2 only: its gate and output
 * are visible in port 0x61, so it can time a wait without an interrupt.
 * Used to calibrate the TSC and the LAPIC timer.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/sort.h>
#include <kernel/time.h>

#define PIT_HZ                  1193182u
#define PIT_CH2_DATA            0x42
#define PIT_COMMAND             0x43
#define   PIT_SEL_CH2           (2u << 6)
#define   PIT_ACCESS_LOHI       (3u << 4)
#define   PIT_MODE0             (0u << 1)       /* interrupt on terminal count */
#define PORT_B                  0x61            /* system control port B */
#define   PORTB_GATE2           0x01
#define   PORTB_SPEAKER         0x02
#define   PORTB_OUT2            0x20
#define PIT_MAX_MS              50
#define CALIBRATE_MS            10
#define CALIBRATE_ROUNDS        5
#define NS_PER_S                1000000000ull

#define NS_SHIFT                32      /* ns = cycles * ns_mult >> NS_SHIFT */
#define US_SHIFT                20      /* cycles = us * cyc_mult >> US_SHIFT */

static uint64_t tsc_freq;
static uint64_t tsc_boot;
/* Fixed-point factors: no 128-bit division (libgcc) in a freestanding kernel. */
static uint64_t ns_mult, cyc_mult;

void pit_wait_ms(unsigned int ms)
{
	uint32_t count = PIT_HZ / 1000 * (ms > PIT_MAX_MS ? PIT_MAX_MS : ms);
	uint8_t b = inb(PORT_B) & ~(PORTB_GATE2 | PORTB_SPEAKER);

	outb(PORT_B, b);                                /* gate low: hold */
	outb(PIT_COMMAND, PIT_SEL_CH2 | PIT_ACCESS_LOHI | PIT_MODE0);
	outb(PIT_CH2_DATA, count & 0xFF);
	outb(PIT_CH2_DATA, count >> 8);
	outb(PORT_B, b | PORTB_GATE2);                  /* gate high: count */
	while (!(inb(PORT_B) & PORTB_OUT2))
		cpu_relax();
	outb(PORT_B, b);
}

void time_init(void)
{
	uint64_t samples[CALIBRATE_ROUNDS];

	for (int r = 0; r < CALIBRATE_ROUNDS; r++) {
		uint64_t t0 = rdtsc();
		pit_wait_ms(CALIBRATE_MS);
		samples[r] = (rdtsc() - t0) * (1000 / CALIBRATE_MS);
	}
	/* Median: one round disturbed by the host (TCG) does not skew it. */
	sort_u64(samples, CALIBRATE_ROUNDS);
	tsc_freq = samples[CALIBRATE_ROUNDS / 2];
	if (!tsc_freq)
		panic("time: the TSC does not advance");
	ns_mult = (NS_PER_S << NS_SHIFT) / tsc_freq;
	cyc_mult = (tsc_freq << US_SHIFT) / 1000000;
	tsc_boot = rdtsc();
	kprintf("time: TSC %lu.%03lu MHz (PIT channel 2, median of %d)\n", tsc_freq / 1000000,
		tsc_freq / 1000 % 1000, CALIBRATE_ROUNDS);
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
