/*
 * AP start-up (Intel SDM vol. 3, 8.4.4; MP spec B.4): for each AP in turn,
 * INIT assert and deassert, 10 ms, STARTUP IPI, 200 us, a second STARTUP
 * only if the AP has not answered, then an ESR check and a 100 ms wait for
 * it to report in. An AP that does not answer is reported, put back into
 * wait-for-SIPI with another INIT, and skipped.
 */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/fpu.h>
#include <arch/gdt.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/mmu.h>
#include <arch/platform.h>
#include <arch/trampoline.h>
#include <arch/trap.h>
#include <arch/uaccess.h>
#include <arch/x86.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/kernel.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define INIT_DELAY_US           10000
#define SIPI_DELAY_US           200
#define DEFAULT_TICK_HZ         100
#define MAX_TICK_HZ             10000

static struct platform_info platform;
static uint64_t ap_timeout_us = AP_START_TIMEOUT_US;
static uint32_t tick_hz = DEFAULT_TICK_HZ;
static struct vm_space *tramp_space;
static struct trampoline_params *tramp_params;
static uint64_t tramp_pa;

uint32_t smp_tick_hz(void)
{
	return tick_hz;
}

static void timer_tick(struct trap_frame *tf)
{
	(void)tf;
	lapic_timer_tick();
	this_cpu()->ticks++;
	watchdog_tick();
	sched_tick();
}

static void lapic_error(struct trap_frame *tf)
{
	(void)tf;
	kprintf("lapic: error interrupt on CPU %u, ESR 0x%x\n", cpu_id(), lapic_read_esr());
}

/* Per-CPU tables and stacks: GDT, TSS with IST stacks, GS base. */
static bool cpu_prepare(struct cpu *c)
{
	c->self = c;
	c->stack_top = kstack_alloc();
	if (!c->stack_top)
		return false;
	for (int i = 0; i < IST_COUNT; i++) {
		c->ist_top[i] = kstack_alloc();
		if (!c->ist_top[i])
			return false;
		c->tss.ist[i] = c->ist_top[i];
	}
	return true;
}

static void cpu_release(struct cpu *c)
{
	if (c->stack_top)
		kstack_free(c->stack_top);
	for (int i = 0; i < IST_COUNT; i++)
		if (c->ist_top[i])
			kstack_free(c->ist_top[i]);
	memset(c, 0, sizeof(*c));
}

/*
 * Fault injection (kernel words, each with a boot test in test_boot.py):
 * fault_phantom_apic=<id> adds a CPU that does not exist, so its SIPI goes
 * unanswered; fault_slow_ap_ms=<ms> makes every AP wait that long before
 * it reports online, as a slow or descheduled vCPU would.
 */
static uint64_t slow_ap_ms;

/* Where every AP arrives from the trampoline, on its own stack. */
static __attribute__((noreturn)) void ap_entry(struct cpu *c)
{
	vmm_switch(&kernel_space);
	write_cr4(read_cr4() | CR4_PGE);
	percpu_set(c);
	gdt_load(&c->gdt, &c->tss);
	idt_load();
	fpu_init_cpu();
	cpu_pat_init();
	syscall_init_cpu();
	arch_uaccess_init_cpu();
	lapic_init();
	sched_init_cpu();
	lapic_timer_start(tick_hz);
	if (slow_ap_ms)
		mdelay(slow_ap_ms);
	c->online = true;
	fetch_add32(&ncpus_online, 1);
	sched_idle_loop();
}

static bool smp_start_ap(struct cpu *c)
{
	uint32_t esr;

	tramp_params->cr3 = (uint32_t)tramp_space->pml4;
	tramp_params->flags = boot_cpu_info.has_nx ? TP_FLAG_NX : 0;
	tramp_params->stack = c->stack_top;
	tramp_params->entry = (uint64_t)ap_entry;
	tramp_params->cpu = (uint64_t)c;
	tramp_params->started = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_read_esr();
	lapic_send_ipi(c->apic_id, LAPIC_DM_INIT | LAPIC_LEVEL_ASSERT | LAPIC_TRIGGER_LEVEL);
	lapic_send_ipi(c->apic_id, LAPIC_DM_INIT | LAPIC_TRIGGER_LEVEL);
	udelay(INIT_DELAY_US);
	for (int sipi = 0; sipi < 2 && !tramp_params->started; sipi++) {
		lapic_send_ipi(c->apic_id, LAPIC_DM_STARTUP | (uint32_t)(tramp_pa >> PAGE_SHIFT));
		udelay(SIPI_DELAY_US);
	}
	esr = lapic_read_esr();
	if (esr)
		kprintf("smp: APIC error 0x%x starting APIC id %u\n", esr, c->apic_id);
	for (uint64_t t0 = time_ns(); !c->online; ) {
		if (time_ns() - t0 > ap_timeout_us * 1000ull) {
			/* Park it again so it cannot run off with the next AP's parameters. */
			lapic_send_ipi(c->apic_id, LAPIC_DM_INIT | LAPIC_LEVEL_ASSERT | LAPIC_TRIGGER_LEVEL);
			return false;
		}
		cpu_relax();
	}
	return true;
}

static void trampoline_setup(void)
{
	tramp_pa = pmm_trampoline_page();
	if (!tramp_pa)
		panic("smp: no page below 1 MiB for the trampoline");
	memcpy(phys_to_virt(tramp_pa), trampoline_start, (size_t)(trampoline_end - trampoline_start));
	tramp_params = (struct trampoline_params *)((char *)phys_to_virt(tramp_pa) +
						    TRAMPOLINE_PARAMS_OFFSET);
	/* The kernel half plus the trampoline page identity-mapped (docs/memory.md). */
	tramp_space = vmm_create();
	if (!tramp_space || vmm_map(tramp_space, tramp_pa, tramp_pa, 1, VM_WRITE | VM_EXEC) < 0)
		panic("smp: cannot build the trampoline page tables");
	if (tramp_space->pml4 >= PMM_LOW_LIMIT)
		panic("smp: trampoline PML4 above 4 GiB");
}

static void inject_faults(const struct boot_info *bi)
{
	uint64_t phantom;

	cmdline_get_u64(bi->cmdline, "fault_slow_ap_ms", &slow_ap_ms);
	if (cmdline_get_u64(bi->cmdline, "fault_phantom_apic", &phantom) < 0)
		return;
	if (platform.ncpu >= PLATFORM_MAX_CPUS || phantom > UINT32_MAX) {
		kprintf("smp: fault_phantom_apic=%lu: no room in the CPU table; ignored\n", phantom);
		return;
	}
	platform.cpus[platform.ncpu++] = (struct platform_cpu){ .apic_id = (uint32_t)phantom,
								.enabled = true };
	kprintf("smp: fault injection: a phantom CPU with APIC id %lu\n", phantom);
}

static void smp_start_aps(void)
{
	uint32_t bsp_apic = cpus[0].apic_id;

	for (uint32_t i = 0; i < platform.ncpu; i++) {
		uint32_t apic_id = platform.cpus[i].apic_id;
		struct cpu *c = &cpus[ncpus];
		uint64_t t0;

		if (apic_id == bsp_apic)
			continue;
		if (!platform.cpus[i].enabled) {
			kprintf("smp: APIC id %u is online-capable only (hot-plug); not started\n", apic_id);
			continue;
		}
		if (ncpus == MAX_CPUS) {
			kprintf("smp: more than %d CPUs, APIC id %u and later ignored\n", MAX_CPUS, apic_id);
			break;
		}
		c->id = ncpus;
		c->apic_id = apic_id;
		if (!cpu_prepare(c)) {
			kprintf("smp: out of memory for CPU with APIC id %u\n", apic_id);
			cpu_release(c);
			break;
		}
		t0 = rdtsc();
		if (smp_start_ap(c)) {
			c->startup_cycles = rdtsc() - t0;
			kprintf("cpu %u: APIC id %u online (%lu us)\n", c->id, apic_id,
				cycles_to_ns(c->startup_cycles) / 1000);
			ncpus++;
		} else {
			kprintf("smp: CPU with APIC id %u did not start; skipped\n", apic_id);
			cpu_release(c);
		}
	}
}

void smp_init(void)
{
	const struct boot_info *bi = boot_info();
	uint64_t hz, timer_hz;
	const char *timer_how;

	if (cmdline_get_u64(bi->cmdline, "hz", &hz) == 0 && hz > 0 && hz <= MAX_TICK_HZ)
		tick_hz = (uint32_t)hz;
	/*
	 * Real APs answer in microseconds. Emulated ones are host threads that
	 * may wait for a host core (QEMU TCG on a loaded machine): give them longer.
	 */
	if (boot_cpu_info.hypervisor)
		ap_timeout_us = AP_START_TIMEOUT_VM_US;
	cmdline_get_u64(bi->cmdline, "ap_timeout_us", &ap_timeout_us);
	pic_disable();
	lapic_init();
	cpus[0].apic_id = lapic_id();
	platform_discover(bi, &platform, cpus[0].apic_id);
	inject_faults(bi);
	kprintf("cpu 0: APIC id %u online (boot CPU, %s)\n", cpus[0].apic_id,
		lapic_x2apic() ? "x2APIC" : "xAPIC");
	ioapic_init(&platform, cpus[0].apic_id);
	irq_register(VEC_TIMER, timer_tick);
	irq_register(VEC_LAPIC_ERROR, lapic_error);
	ipi_init();
	timer_hz = lapic_timer_calibrate(&timer_how);
	kprintf("lapic: timer %lu Hz (%s), tick %u Hz\n", timer_hz, timer_how, tick_hz);
	lapic_timer_start(tick_hz);
	trampoline_setup();
	smp_start_aps();
	kprintf("smp: %u CPUs online\n", ncpus_online);
	watchdog_init();
	irq_enable();
}
