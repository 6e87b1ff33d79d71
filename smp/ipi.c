/*
 * Inter-processor interrupts: reschedule (just wakes a halted CPU), TLB
 * shootdown with acknowledgement, cross-CPU calls, and the NMI that stops
 * the other CPUs when one panics. A CPU waiting for another CPU's answer
 * keeps serving requests addressed to itself, so two CPUs asking each
 * other at the same time (with interrupts off) cannot deadlock.
 */
#include <stdint.h>
#include <arch/lapic.h>
#include <arch/mmu.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/atomic.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define FLUSH_ALL_THRESHOLD     32      /* pages; beyond this flush everything */

struct call_slot {
	spinlock_t lock;                /* one caller at a time per target */
	void (*volatile fn)(void *);
	void *volatile arg;
	volatile uint32_t done;
};

static spinlock_t shootdown_lock = SPINLOCK_INIT("tlb_shootdown");
/* Guarded by shootdown_lock (written by the initiator, read by targets): */
static struct vm_space *volatile sd_space;
static volatile uint64_t sd_va, sd_npages;
static volatile uint32_t sd_pending[MAX_CPUS];  /* target CPU still has to flush */
static struct call_slot call_slots[MAX_CPUS];

static void tlb_flush_all(void)
{
	uint64_t cr4 = read_cr4();

	/* Toggling CR4.PGE also drops global (kernel) entries (SDM 4.10.4.1). */
	write_cr4(cr4 & ~CR4_PGE);
	write_cr4(cr4);
}

static uint64_t shootdowns_served[MAX_CPUS];   /* each written by its own CPU */

uint64_t tlb_shootdowns_received(uint32_t cpu)
{
	return __atomic_load_n(&shootdowns_served[cpu], __ATOMIC_RELAXED);
}

static void flush_range(struct vm_space *vs, uint64_t va, uint64_t npages)
{
	if (vs == &kernel_space || (read_cr3() & PAGE_MASK) == vs->pml4) {
		if (npages > FLUSH_ALL_THRESHOLD)
			tlb_flush_all();
		else
			for (uint64_t i = 0; i < npages; i++)
				invlpg(va + i * PAGE_SIZE);
	}
}

static void shootdown_serve(void)
{
	uint32_t me = cpu_id();

	if (!sd_pending[me])
		return;
	flush_range(sd_space, sd_va, sd_npages);
	shootdowns_served[me]++;
	__atomic_store_n(&sd_pending[me], 0, __ATOMIC_RELEASE);
}

static void call_serve(void)
{
	struct call_slot *s = &call_slots[cpu_id()];
	/* Claim the request first: a nested wait inside fn serves only new ones. */
	void (*fn)(void *) = __atomic_exchange_n(&s->fn, NULL, __ATOMIC_ACQ_REL);

	if (!fn)
		return;
	fn(s->arg);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

/* What a CPU does while it waits for another CPU: answer what is asked of it. */
static void ipi_serve_pending(void)
{
	shootdown_serve();
	call_serve();
}

/*
 * A CPU that does not answer an IPI is either slow (a starved vCPU) or stuck
 * with interrupts off, which the watchdog reports. Waiting on is right
 * either way (a TLB left stale would be worse), but not silently: one line
 * after IPI_ACK_WARN_MS names the CPU.
 */
#define IPI_ACK_WARN_MS         2000

struct ack_wait {
	uint64_t start;
	bool warned;
};

static void ack_wait_check(struct ack_wait *w, uint32_t cpu, const char *what)
{
	uint64_t ms;

	if (w->warned)
		return;
	ms = cycles_to_ns(rdtsc() - w->start) / NS_PER_MS;
	if (ms < IPI_ACK_WARN_MS)
		return;
	w->warned = true;
	kprintf("ipi: CPU %u has not answered the %s after %lu ms; still waiting\n", cpu, what,
		ms);
}

/*
 * targets: the CPUs that must flush (mm/vmm.c decides, see tlb_changed()).
 * The caller may have moved to a target CPU since: that one flushes here.
 */
void tlb_shootdown(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t targets)
{
	uint64_t flags = read_rflags();
	uint32_t me;

	irq_disable();
	me = cpu_id();
	if (targets & (1ull << me)) {
		flush_range(vs, va, npages);
		targets &= ~(1ull << me);
	}
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		if ((targets & (1ull << c)) && (c >= ncpus || !cpus[c].online))
			targets &= ~(1ull << c);
	if (!targets)
		goto out;
	while (!spin_trylock(&shootdown_lock)) {
		ipi_serve_pending();
		cpu_relax();
	}
	sd_space = vs;
	sd_va = va;
	sd_npages = npages;
	for (uint32_t c = 0; c < ncpus; c++)
		sd_pending[c] = (targets >> c) & 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (uint32_t c = 0; c < ncpus; c++)
		if (sd_pending[c])
			ipi_send(c, VEC_TLB_SHOOTDOWN);
	for (uint32_t c = 0; c < ncpus; c++) {
		struct ack_wait w = { rdtsc(), false };

		while (__atomic_load_n(&sd_pending[c], __ATOMIC_ACQUIRE)) {
			call_serve();
			cpu_relax();
			ack_wait_check(&w, c, "TLB shootdown");
		}
	}
	spin_unlock(&shootdown_lock);
out:
	if (flags & RFLAGS_IF)
		irq_enable();
}

/*
 * Post fn(arg) to `cpu` and return at once; the slot stays ours until
 * smp_call_wait(cpu). Runs with interrupts off until then.
 */
static uint64_t smp_call_post(uint32_t cpu, void (*fn)(void *), void *arg)
{
	struct call_slot *s = &call_slots[cpu];
	uint64_t flags = read_rflags();

	irq_disable();
	while (!spin_trylock(&s->lock)) {
		ipi_serve_pending();
		cpu_relax();
	}
	s->arg = arg;
	s->done = 0;
	__atomic_store_n(&s->fn, fn, __ATOMIC_RELEASE);
	ipi_send(cpu, VEC_CALL);
	return flags;
}

static void smp_call_finish(uint32_t cpu, uint64_t flags)
{
	struct call_slot *s = &call_slots[cpu];
	struct ack_wait w = { rdtsc(), false };

	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		ipi_serve_pending();
		cpu_relax();
		/* Only a call not yet taken is unanswered; a running fn may take long. */
		if (__atomic_load_n(&s->fn, __ATOMIC_ACQUIRE))
			ack_wait_check(&w, cpu, "cross-CPU call");
		else
			w.start = rdtsc();
	}
	spin_unlock(&s->lock);
	if (flags & RFLAGS_IF)
		irq_enable();
}

void smp_call_post_async(uint32_t cpu, void (*fn)(void *), void *arg)
{
	uint64_t flags = smp_call_post(cpu, fn, arg);

	if (flags & RFLAGS_IF)
		irq_enable();
}

void smp_call_wait(uint32_t cpu)
{
	uint64_t flags = read_rflags();

	irq_disable();
	smp_call_finish(cpu, flags);
}

void smp_call(uint32_t cpu, void (*fn)(void *), void *arg)
{
	if (cpu == cpu_id()) {
		fn(arg);
		return;
	}
	smp_call_finish(cpu, smp_call_post(cpu, fn, arg));
}

void smp_run_on_all(void (*fn)(void *), void *arg)
{
	uint32_t me = cpu_id();
	uint64_t flags = read_rflags();

	/* Every CPU runs fn with interrupts off for as long as it takes. */
	watchdog_suspend();
	irq_disable();
	for (uint32_t c = 0; c < ncpus; c++)
		if (c != me && cpus[c].online)
			smp_call_post(c, fn, arg);
	fn(arg);
	for (uint32_t c = 0; c < ncpus; c++)
		if (c != me && cpus[c].online)
			smp_call_finish(c, 0);
	watchdog_resume();
	if (flags & RFLAGS_IF)
		irq_enable();
}

void ipi_send(uint32_t cpu, uint32_t vector)
{
	lapic_send_ipi(cpus[cpu].apic_id, LAPIC_DM_FIXED | vector);
}

static void on_reschedule(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->ipis_received++;
}

static void on_shootdown(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->ipis_received++;
	shootdown_serve();
}

static void on_call(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->ipis_received++;
	call_serve();
}

static void stop_others(void)
{
	if (ncpus_online > 1)
		lapic_send_ipi(0, LAPIC_DEST_ALL_BUT_SELF | LAPIC_DM_NMI);
}

void ipi_init(void)
{
	for (int i = 0; i < MAX_CPUS; i++)
		spin_init(&call_slots[i].lock, "smp_call");
	irq_register(VEC_RESCHEDULE, on_reschedule);
	irq_register(VEC_TLB_SHOOTDOWN, on_shootdown);
	irq_register(VEC_CALL, on_call);
	vmm_set_shootdown_hook(tlb_shootdown);
	panic_set_stop_hook(stop_others);
}
