/*
 * AP start-up (Intel SDM vol. 3, 8.4.4; MP spec B.4), all APs at once:
 * INIT to every AP, one INIT wait (none on modern CPUs or under a
 * hypervisor, arch/x86_64/apic_calc.c), a STARTUP IPI to every AP, 200 us,
 * a second STARTUP to those not heard from. Every AP runs the one
 * trampoline page and finds its own struct ap_boot by APIC id; it reports
 * in and waits. When all have arrived (or the timeout has passed: those
 * are reported, put back into wait-for-SIPI with another INIT, and
 * skipped), the boot CPU gives the arrived ones dense CPU ids in table
 * order and releases them to set themselves up in parallel.
 * `smp_serial` starts them one at a time instead, the same way.
 */
#include <stdint.h>
#include <arch/apic_calc.h>
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

#define SIPI_DELAY_US           200     /* SDM 8.4.4.1: between the STARTUP IPIs */
#define SIPI_TRIES              2
#define DEFAULT_TICK_HZ         100
#define MAX_TICK_HZ             10000

static struct platform_info platform;
static uint64_t ap_timeout_us = AP_START_TIMEOUT_US;
static uint32_t tick_hz = DEFAULT_TICK_HZ;
static struct vm_space *tramp_space;
static struct trampoline_params *tramp_params;
static uint64_t tramp_pa;
static uint32_t init_delay_us;
static bool start_serial;               /* one AP at a time (smp_serial, or APIC ids unreadable) */
static struct ap_boot ap_boot[MAX_CPUS];

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

/* An AP's stacks, allocated before it starts. */
static bool ap_boot_prepare(struct ap_boot *b, uint32_t apic_id)
{
	memset(b, 0, sizeof(*b));
	b->apic_id = apic_id;
	b->state = AP_STARTING;
	b->stack = kstack_alloc();
	if (!b->stack)
		return false;
	for (int i = 0; i < IST_COUNT; i++)
		if (!(b->ist[i] = kstack_alloc()))
			return false;
	return true;
}

/* Only once the AP is stopped (never started, or parked with INIT). */
static void ap_boot_release(struct ap_boot *b)
{
	if (b->stack)
		kstack_free(b->stack);
	for (int i = 0; i < IST_COUNT; i++)
		if (b->ist[i])
			kstack_free(b->ist[i]);
	memset(b, 0, sizeof(*b));
}

/* The next dense CPU id for an AP that has arrived: GDT, TSS with IST stacks. */
static struct cpu *cpu_assign(struct ap_boot *b)
{
	struct cpu *c = &cpus[ncpus];

	memset(c, 0, sizeof(*c));
	c->self = c;
	c->id = ncpus++;
	c->apic_id = b->apic_id;
	c->stack_top = b->stack;
	for (int i = 0; i < IST_COUNT; i++) {
		c->ist_top[i] = b->ist[i];
		c->tss.ist[i] = b->ist[i];
	}
	return c;
}

/*
 * Fault injection (kernel words, each with a boot test in test_boot.py):
 * fault_phantom_apic=<id> adds a CPU that does not exist, so its SIPI goes
 * unanswered; fault_slow_ap_ms=<ms> makes every AP wait that long before
 * it reports in, as a slow or descheduled vCPU would; fault_no_low_page
 * leaves the trampoline without a page below 1 MiB.
 */
static uint64_t slow_ap_ms;

static __attribute__((noreturn)) void ap_stop(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Where every AP arrives from the trampoline, on its own stack. */
static __attribute__((noreturn)) void ap_entry(struct ap_boot *b)
{
	uint32_t expect = AP_STARTING;
	struct cpu *c;

	/* A slow vCPU arrives late (fault injection); only the TSC is used here. */
	if (slow_ap_ms)
		mdelay(slow_ap_ms);
	if (!__atomic_compare_exchange_n(&b->state, &expect, AP_ARRIVED, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		ap_stop();              /* given up on: the boot CPU parks us with INIT */
	/* Released or parked by the boot CPU, which bounds its own wait. */
	while (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) != AP_RELEASED)
		cpu_relax();
	c = b->cpu;
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
	c->startup_cycles = rdtsc() - b->t0;
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	fetch_add32(&ncpus_online, 1);
	sched_idle_loop();
}

/* Park an AP in wait-for-SIPI again, so it cannot run off with a later wave's blocks. */
static void ap_park(uint32_t apic_id)
{
	lapic_send_ipi(apic_id, LAPIC_DM_INIT | LAPIC_LEVEL_ASSERT | LAPIC_TRIGGER_LEVEL);
}

static bool ap_has_arrived(struct ap_boot *b)
{
	return __atomic_load_n(&b->state, __ATOMIC_ACQUIRE) != AP_STARTING;
}

/*
 * One wave: INIT and STARTUP to blocks[0..n), wait for them to arrive,
 * give the arrived ones CPU ids and release them, wait for them to come
 * online. Blocks of APs that did not arrive are released here.
 */
static void smp_start_wave(struct ap_boot *blocks, uint32_t n)
{
	uint64_t t0, deadline_ns;
	uint32_t esr, arrived = 0;
	uint32_t first = ncpus;

	tramp_params->cr3 = (uint32_t)tramp_space->pml4;
	tramp_params->entry = (uint64_t)ap_entry;
	tramp_params->table = (uint64_t)blocks;
	tramp_params->count = n;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_read_esr();
	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++) {
		blocks[i].t0 = t0;
		lapic_send_ipi(blocks[i].apic_id,
			       LAPIC_DM_INIT | LAPIC_LEVEL_ASSERT | LAPIC_TRIGGER_LEVEL);
		lapic_send_ipi(blocks[i].apic_id, LAPIC_DM_INIT | LAPIC_TRIGGER_LEVEL);
	}
	if (init_delay_us)
		udelay(init_delay_us);
	for (int sipi = 0; sipi < SIPI_TRIES; sipi++) {
		bool sent = false;

		for (uint32_t i = 0; i < n; i++) {
			if (sipi > 0 && ap_has_arrived(&blocks[i]))
				continue;
			lapic_send_ipi(blocks[i].apic_id,
				       LAPIC_DM_STARTUP | (uint32_t)(tramp_pa >> PAGE_SHIFT));
			sent = true;
		}
		if (sent)
			udelay(SIPI_DELAY_US);
	}
	esr = lapic_read_esr();
	if (esr)
		kprintf("smp: APIC error 0x%x after the STARTUP IPIs\n", esr);

	/* Arrival, bounded: the stragglers are given up on and parked. */
	deadline_ns = time_ns() + ap_timeout_us * 1000ull;
	for (;;) {
		arrived = 0;
		for (uint32_t i = 0; i < n; i++)
			arrived += ap_has_arrived(&blocks[i]);
		if (arrived == n || time_ns() > deadline_ns)
			break;
		cpu_relax();
	}
	for (uint32_t i = 0; i < n; i++) {
		struct ap_boot *b = &blocks[i];
		uint32_t expect = AP_STARTING;

		if (__atomic_compare_exchange_n(&b->state, &expect, AP_ABANDONED, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			ap_park(b->apic_id);
			kprintf("smp: CPU with APIC id %u did not start; skipped\n", b->apic_id);
			ap_boot_release(b);
			continue;
		}
		b->cpu = cpu_assign(b);
		__atomic_store_n(&b->state, AP_RELEASED, __ATOMIC_RELEASE);
	}
	/* Released APs run our own set-up code: bounded as well, and loud if not. */
	deadline_ns = time_ns() + ap_timeout_us * 1000ull;
	for (uint32_t id = first; id < ncpus; id++) {
		struct cpu *c = &cpus[id];

		while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && time_ns() <= deadline_ns)
			cpu_relax();
		if (c->online) {
			kprintf("cpu %u: APIC id %u online (%lu us)\n", c->id, c->apic_id,
				cycles_to_ns(c->startup_cycles) / 1000);
		} else {
			/* Its id stays taken (ids are dense); every user checks cpus[].online. */
			ap_park(c->apic_id);
			kprintf("smp: cpu %u (APIC id %u) arrived but did not finish starting; "
				"parked\n", c->id, c->apic_id);
		}
	}
	if (tramp_params->lost) {
		kprintf("smp: %u CPUs ran the trampoline but found no block for their APIC id\n",
			tramp_params->lost);
		tramp_params->lost = 0;
	}
}

/* The trampoline page and its page tables; false (said why) when there are none. */
static bool trampoline_setup(void)
{
	/* fault_no_low_page: as on a machine whose first MiB is all taken. */
	tramp_pa = cmdline_has(boot_info()->cmdline, "fault_no_low_page") ? 0 :
		   pmm_trampoline_page();
	if (!tramp_pa) {
		kprintf("smp: no usable page below 1 MiB for the AP trampoline; running on the "
			"boot CPU only\n");
		return false;
	}
	memcpy(phys_to_virt(tramp_pa), trampoline_start, (size_t)(trampoline_end - trampoline_start));
	tramp_params = (struct trampoline_params *)((char *)phys_to_virt(tramp_pa) +
						    TRAMPOLINE_PARAMS_OFFSET);
	/* The kernel half plus the trampoline page identity-mapped (docs/memory.md). */
	tramp_space = vmm_create();
	if (!tramp_space || vmm_map(tramp_space, tramp_pa, tramp_pa, 1, VM_WRITE | VM_EXEC) < 0 ||
	    tramp_space->pml4 >= PMM_LOW_LIMIT) {
		kprintf("smp: no page tables below 4 GiB for the AP trampoline; running on the "
			"boot CPU only\n");
		return false;
	}
	tramp_params->flags = boot_cpu_info.has_nx ? TP_FLAG_NX : 0;
	return true;
}

/*
 * How the APs will tell their APIC id: CPUID 0xB's x2APIC id where the
 * leaf exists, else CPUID 1's 8-bit initial id. Checked on the boot CPU
 * against its LAPIC's own id register: when they differ (firmware
 * renumbered the APICs), an AP cannot find its block by id, so they are
 * started one at a time (TP_FLAG_ANY).
 */
static void apic_id_source(void)
{
	uint32_t id;

	if (boot_cpu_info.max_leaf >= CPUID_LEAF_TOPOLOGY && cpuid(CPUID_LEAF_TOPOLOGY, 0).ebx) {
		tramp_params->flags |= TP_FLAG_X2APIC_ID;
		id = cpuid(CPUID_LEAF_TOPOLOGY, 0).edx;
	} else {
		id = cpuid(CPUID_LEAF_FEATURES, 0).ebx >> CPUID_1_APIC_ID_SHIFT;
	}
	if (id != cpus[0].apic_id && !start_serial) {
		kprintf("smp: CPUID says APIC id %u, the LAPIC says %u; starting the APs one at "
			"a time\n", id, cpus[0].apic_id);
		start_serial = true;
	}
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
	uint32_t bsp_apic = cpus[0].apic_id, n = 0;

	for (uint32_t i = 0; i < platform.ncpu; i++) {
		uint32_t apic_id = platform.cpus[i].apic_id;

		if (apic_id == bsp_apic)
			continue;
		if (!platform.cpus[i].enabled) {
			kprintf("smp: APIC id %u is online-capable only (hot-plug); not started\n", apic_id);
			continue;
		}
		if (n + 1 == MAX_CPUS) {
			kprintf("smp: more than %d CPUs, APIC id %u and later ignored\n", MAX_CPUS, apic_id);
			break;
		}
		if (!ap_boot_prepare(&ap_boot[n], apic_id)) {
			kprintf("smp: out of memory for CPU with APIC id %u\n", apic_id);
			ap_boot_release(&ap_boot[n]);
			break;
		}
		n++;
	}
	if (!n)
		return;
	apic_id_source();
	kprintf("smp: starting %u AP%s %s, INIT wait %u us\n", n, n == 1 ? "" : "s",
		start_serial ? "one at a time" : "in parallel", init_delay_us);
	if (start_serial) {
		tramp_params->flags |= TP_FLAG_ANY;
		for (uint32_t i = 0; i < n; i++)
			smp_start_wave(&ap_boot[i], 1);
	} else {
		smp_start_wave(ap_boot, n);
	}
}

void smp_init(void)
{
	const struct boot_info *bi = boot_info();
	uint64_t hz, timer_hz, delay;
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
	start_serial = cmdline_has(bi->cmdline, "smp_serial");
	init_delay_us = apic_init_delay_us(boot_cpu_info.vendor, boot_cpu_info.family,
					   boot_cpu_info.hypervisor);
	if (cmdline_get_u64(bi->cmdline, "init_delay_us", &delay) == 0 && delay <= UINT32_MAX)
		init_delay_us = (uint32_t)delay;
	if (platform.ncpu > 1 && trampoline_setup())
		smp_start_aps();
	if (ioapic_other_dest() >= 0) {
		bool up = false;

		for (uint32_t i = 0; i < ncpus; i++)
			up |= cpus[i].online && cpus[i].apic_id == (uint64_t)ioapic_other_dest();
		if (!up)
			kprintf("ioapic: the CPU with APIC id %ld, which takes device interrupts, is "
				"not online: they are lost\n", ioapic_other_dest());
	}
	kprintf("smp: %u CPUs online\n", ncpus_online);
	watchdog_init();
	irq_enable();
}
