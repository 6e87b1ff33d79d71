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
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define LAPIC_MMIO_SIZE         0x1000
#define TPR_ACCEPT_ALL          0
#define ICR_DELIVERY_SPIN       1000000
#define CALIBRATE_MS            10

static bool x2apic;
static volatile uint32_t *mmio;         /* xAPIC register window */
static uint64_t timer_hz;               /* LAPIC timer ticks per second at DIV_16 */

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

uint64_t lapic_timer_calibrate(void)
{
	uint64_t ticks;

	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
	pit_wait_ms(CALIBRATE_MS);
	ticks = UINT32_MAX - lapic_read(LAPIC_TIMER_CURRENT);
	lapic_write(LAPIC_TIMER_INIT, 0);
	timer_hz = ticks * (1000 / CALIBRATE_MS);
	return timer_hz;
}

void lapic_timer_start(uint32_t hz)
{
	if (!timer_hz)
		panic("lapic: timer started before calibration");
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)(timer_hz / hz));
}
