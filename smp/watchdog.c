/*
 * Hard-lockup watchdog: a CPU's timer tick stops when it runs with
 * interrupts off, so on every tick each CPU looks at the next one's tick
 * count (CPU n watches CPU n+1, the last watches CPU 0). One that has not
 * moved for watchdog_ms (default WATCHDOG_DEFAULT_MS) is reported through
 * panic(), whose NMI makes the stuck CPU print where it is, with its
 * backtrace. Halted idle CPUs still take their ticks, so they never trip it.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/kernel.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/time.h>

/*
 * Linux reports a hard lockup after 10 s. Under emulation on a loaded host
 * a vCPU thread can go without the host CPU for seconds, so the default
 * is twice that; watchdog_ms=0 turns it off.
 */
#define WATCHDOG_DEFAULT_MS     20000

/* Indexed by the watched CPU; only its one watcher writes an entry. */
static uint64_t seen_ticks[MAX_CPUS];
static uint64_t seen_at_tsc[MAX_CPUS];
static uint64_t limit_cycles;           /* 0: off */
static uint32_t suspended;              /* watchdog_suspend() nesting */

void watchdog_suspend(void)
{
	__atomic_fetch_add(&suspended, 1, __ATOMIC_ACQ_REL);
}

void watchdog_resume(void)
{
	__atomic_fetch_sub(&suspended, 1, __ATOMIC_ACQ_REL);
}

void watchdog_init(void)
{
	uint64_t ms = WATCHDOG_DEFAULT_MS;

	cmdline_get_u64(boot_info()->cmdline, "watchdog_ms", &ms);
	limit_cycles = ms * (tsc_hz() / MS_PER_S);
	if (ms)
		kprintf("watchdog: a CPU without a timer tick for %lu ms is reported\n", ms);
	else
		kprintf("watchdog: off (watchdog_ms=0)\n");
}

/* From every CPU's timer tick, interrupts off. */
void watchdog_tick(void)
{
	uint32_t n = ncpus_online, me = cpu_id(), c;
	uint64_t now, ticks;

	if (!limit_cycles || n < 2 || panic_in_progress())
		return;
	c = (me + 1) % n;
	if (!cpus[c].online)
		return;
	now = rdtsc();
	ticks = cpus[c].ticks;
	if (ticks != seen_ticks[c] || !seen_at_tsc[c] ||
	    __atomic_load_n(&suspended, __ATOMIC_ACQUIRE)) {
		seen_ticks[c] = ticks;
		seen_at_tsc[c] = now;
		return;
	}
	if (now - seen_at_tsc[c] > limit_cycles)
		panic("watchdog: CPU %u (APIC id %u) has taken no timer tick for %lu ms: "
		      "stuck with interrupts off", c, cpus[c].apic_id,
		      cycles_to_ns(now - seen_at_tsc[c]) / NS_PER_MS);
}
