/*
 * Local APIC driver (Intel SDM vol. 3, ch. 10): xAPIC through MMIO at the
 * IA32_APIC_BASE address, or x2APIC through MSRs when the CPU offers it.
 * If the firmware left x2APIC on we must stay there (leaving it needs a
 * full disable, SDM 10.12.5), so that case simply keeps x2APIC.
 */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/msr.h>
#include <arch/x86.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/format.h>
#include <kernel/kernel.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define LAPIC_MMIO_SIZE         0x1000
#define TPR_ACCEPT_ALL          0
#define ICR_DELIVERY_SPIN       1000000
#define TIMER_DIVISOR           16      /* LAPIC_TIMER_DIV_16 */
#define HOW_LEN                 64
#define LAPIC_MODE_WORD_LEN     16      /* lapic_timer= value */
#define CRYSTAL_AGREEMENT       100     /* stated and measured rates within 1/100 */

static bool x2apic;
static volatile uint32_t *mmio;         /* xAPIC register window */
static uint64_t timer_hz;               /* LAPIC timer ticks per second at DIV_16,
					   or the TSC rate in TSC-deadline mode */
static bool tsc_deadline;
static uint64_t deadline_period;        /* TSC cycles per tick */
static uint64_t next_deadline[MAX_CPUS];
static char timer_how[HOW_LEN];

static uint32_t lapic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

bool lapic_x2apic(void)
{
	return x2apic;
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);

	return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_read_esr(void)
{
	/* The ESR latches on a write (SDM 10.5.3). */
	lapic_write(LAPIC_ESR, 0);
	return lapic_read(LAPIC_ESR);
}

static void lapic_enable_mode(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_EXTD) && boot_cpu_info.has_x2apic)
		base |= APIC_BASE_ENABLE | APIC_BASE_EXTD;
	base |= APIC_BASE_ENABLE;
	wrmsr(MSR_APIC_BASE, base);
	x2apic = base & APIC_BASE_EXTD;
	if (!x2apic && !mmio) {
		mmio = vmm_map_mmio(base & APIC_BASE_ADDR_MASK, LAPIC_MMIO_SIZE);
		if (!mmio)
			panic("lapic: cannot map the xAPIC registers");
	}
}

void lapic_init(void)
{
	lapic_enable_mode();
	lapic_write(LAPIC_TPR, TPR_ACCEPT_ALL);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, VEC_LAPIC_ERROR);
	/* LINT0 (ExtINT from the 8259s) stays masked: the IOAPIC routes IRQs. */
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_NMI);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
	lapic_read_esr();
	lapic_eoi();
}

void lapic_lint0_extint(void)
{
	/* Virtual wire (MP spec 3.6.2.2): the 8259's INTR on this CPU's LINT0. */
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_EXTINT);
}

static void lapic_wait_icr(void)
{
	if (x2apic)
		return;         /* x2APIC has no delivery-status bit */
	for (int i = 0; i < ICR_DELIVERY_SPIN && (lapic_read(LAPIC_ICR_LO) & LAPIC_DS_PENDING); i++)
		cpu_relax();
}

void lapic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
	uint64_t flags = read_rflags();

	irq_disable();
	if (x2apic) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | icr_lo);
	} else {
		lapic_wait_icr();
		lapic_write(LAPIC_ICR_HI, dest << 24);
		lapic_write(LAPIC_ICR_LO, icr_lo);
		lapic_wait_icr();
	}
	if (flags & RFLAGS_IF)
		irq_enable();
}

void lapic_send_ipi_all_but_self(uint32_t vector)
{
	lapic_send_ipi(0, LAPIC_DEST_ALL_BUT_SELF | LAPIC_DM_FIXED | vector);
}

/* The count-down as a count-up, for time_measure_rate(). */
static uint64_t lapic_timer_elapsed(void)
{
	return UINT32_MAX - lapic_read(LAPIC_TIMER_CURRENT);
}

/* One-shot from UINT32_MAX (68 s at 62.5 MHz), masked, measured, stopped. */
static uint64_t lapic_timer_measure(void)
{
	uint64_t hz;

	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_TIMER_ONESHOT);
	lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
	hz = time_measure_rate(lapic_timer_elapsed, 32);
	lapic_write(LAPIC_TIMER_INIT, 0);
	return hz;
}

uint64_t lapic_timer_calibrate(const char **how)
{
	uint64_t crystal = time_crystal_hz();
	char mode[LAPIC_MODE_WORD_LEN] = "";

	*how = timer_how;
	/* lapic_timer=periodic keeps the periodic mode on a CPU with TSC-deadline. */
	cmdline_get(boot_info()->cmdline, "lapic_timer", mode, sizeof(mode));
	if (boot_cpu_info.has_tsc_deadline && strcmp(mode, "periodic") != 0) {
		tsc_deadline = true;
		timer_hz = tsc_hz();
		ksnprintf(timer_how, sizeof(timer_how), "TSC-deadline, TSC from %s",
			  time_source_name());
		return timer_hz;
	}
	timer_hz = lapic_timer_measure();
	if (!timer_hz)
		panic("lapic: the timer could not be measured against the TSC");
	if (crystal) {
		/*
		 * The timer counts the core crystal on CPUs with leaf 0x15 (SDM
		 * 10.5.4), but a hypervisor may state a crystal its emulated
		 * timer does not use: the stated rate wins only if it agrees.
		 */
		uint64_t stated = crystal / TIMER_DIVISOR;
		uint64_t diff = stated > timer_hz ? stated - timer_hz : timer_hz - stated;

		if (diff <= stated / CRYSTAL_AGREEMENT) {
			timer_hz = stated;
			ksnprintf(timer_how, sizeof(timer_how), "periodic, CPUID 0x15 core crystal");
			return timer_hz;
		}
		kprintf("lapic: CPUID 0x15 crystal %lu Hz gives %lu Hz, measured %lu Hz; "
			"using the measurement\n", crystal, stated, timer_hz);
	}
	ksnprintf(timer_how, sizeof(timer_how), "periodic, against the TSC from the %s",
		  time_source_name());
	return timer_hz;
}

static void lapic_deadline_arm(uint64_t deadline)
{
	next_deadline[cpu_id()] = deadline;
	wrmsr(MSR_TSC_DEADLINE, deadline);
}

void lapic_timer_tick(void)
{
	uint64_t next, now;

	if (!tsc_deadline)
		return;
	/* From the last deadline, so ticks do not drift; after a long stall, from now. */
	next = next_deadline[cpu_id()] + deadline_period;
	now = rdtsc();
	if ((int64_t)(next - now) <= 0)
		next = now + deadline_period;
	lapic_deadline_arm(next);
}

void lapic_timer_start(uint32_t hz)
{
	if (!timer_hz)
		panic("lapic: timer started before calibration");
	if (tsc_deadline) {
		deadline_period = timer_hz / hz;
		lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE | VEC_TIMER);
		/*
		 * SDM 10.5.4.1: the LVT write must take effect before the MSR is
		 * written, or the deadline may be ignored; an xAPIC MMIO store
		 * and WRMSR are not ordered with each other without a fence.
		 */
		__asm__ volatile("mfence" ::: "memory");
		lapic_deadline_arm(rdtsc() + deadline_period);
		return;
	}
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VEC_TIMER);
	/* At least 1: a count of 0 stops the timer, and with it the scheduler. */
	lapic_write(LAPIC_TIMER_INIT, timer_hz / hz ? (uint32_t)(timer_hz / hz) : 1);
}
