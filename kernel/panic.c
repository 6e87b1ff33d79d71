/*
 * panic(): one report shape for panics and exceptions: "panic: <message>",
 * the registers, a symbolized frame-pointer backtrace, then stop. Under
 * test (a `test=` word) it exits QEMU with KTEST_EXIT_PANIC instead.
 */
#include <stdarg.h>
#include <stdint.h>
#include <arch/extable.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/atomic.h>
#include <kernel/cpu.h>
#include <kernel/ksyms.h>
#include <kernel/ktest.h>
#include <kernel/panic.h>
#include <kernel/fbcon.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/time.h>

#define BACKTRACE_MAX_DEPTH     32
#define KERNEL_HALF_START       0xFFFF800000000000ull

#define PANIC_WAIT_S            1               /* bounded wait for the others */
#define PANIC_WAIT_CYCLES       (1ull << 32)    /* the same before TSC calibration */

static volatile uint32_t panicking;
#define NO_CPU                  UINT32_MAX

static volatile uint32_t panic_cpu = NO_CPU;
static volatile uint32_t panic_print_lock;      /* one CPU's report at a time */
static volatile uint32_t cpus_stopped;
static void (*stop_others)(void);

void panic_set_stop_hook(void (*fn)(void))
{
	stop_others = fn;
}

int panic_in_progress(void)
{
	return panicking != 0;
}

static void print_symbol(uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		kprintf("%s+0x%lx", name, off);
	else
		kprintf("?");
}

/* Frame layout: [rbp] = caller's rbp, [rbp + 8] = return address. */
int backtrace_collect(uint64_t rbp, uint64_t *out, int max)
{
	int n = 0;
	uint64_t next, ret;

	/* Probed reads: a corrupt frame pointer must not fault inside a report. */
	while (n < max && rbp >= KERNEL_HALF_START && !(rbp & 7) &&
	       probe_read_u64((void *)rbp, &next) == 0 &&
	       probe_read_u64((void *)(rbp + 8), &ret) == 0) {
		if (ret < KERNEL_HALF_START)
			break;
		out[n++] = ret;
		if (next <= rbp)
			break;          /* frames must move up the stack */
		rbp = next;
	}
	return n;
}

void backtrace_from(uint64_t rip, uint64_t rbp)
{
	uint64_t frames[BACKTRACE_MAX_DEPTH];
	int n = backtrace_collect(rbp, frames, BACKTRACE_MAX_DEPTH);

	kprintf("backtrace:\n  #0  0x%016lx ", rip);
	print_symbol(rip);
	kprintf("\n");
	for (int i = 0; i < n; i++) {
		/* A return address points after the call: name the call site. */
		kprintf("  #%-2d 0x%016lx ", i + 1, frames[i]);
		print_symbol(frames[i] - 1);
		kprintf("\n");
	}
}

static void print_registers(const struct trap_frame *tf)
{
	kprintf("  RIP=0x%016lx ", tf->rip);
	print_symbol(tf->rip);
	kprintf("\n  CS=0x%04lx SS=0x%04lx RFLAGS=0x%016lx\n", tf->cs, tf->ss, tf->rflags);
	kprintf("  RAX=0x%016lx RBX=0x%016lx RCX=0x%016lx\n", tf->rax, tf->rbx, tf->rcx);
	kprintf("  RDX=0x%016lx RSI=0x%016lx RDI=0x%016lx\n", tf->rdx, tf->rsi, tf->rdi);
	kprintf("  RBP=0x%016lx RSP=0x%016lx R8 =0x%016lx\n", tf->rbp, tf->rsp, tf->r8);
	kprintf("  R9 =0x%016lx R10=0x%016lx R11=0x%016lx\n", tf->r9, tf->r10, tf->r11);
	kprintf("  R12=0x%016lx R13=0x%016lx R14=0x%016lx\n", tf->r12, tf->r13, tf->r14);
	kprintf("  R15=0x%016lx CR0=0x%016lx CR3=0x%016lx\n", tf->r15, read_cr0(), read_cr3());
	kprintf("  CR4=0x%016lx\n", read_cr4());
}

__attribute__((noreturn)) static void panic_stop(void)
{
	raw_spin_unlock(&panic_print_lock);
	/* Let the stopped CPUs print their state (up to a second) before we exit. */
	uint64_t deadline = rdtsc() + (tsc_hz() ? tsc_hz() * PANIC_WAIT_S : PANIC_WAIT_CYCLES);
	while (stop_others && cpus_stopped + 1 < ncpus_online && rdtsc() < deadline)
		cpu_relax();
	if (ktest_active())
		ktest_exit(KTEST_EXIT_PANIC);
	cpu_halt_forever();
}

static void panic_enter(void)
{
	irq_disable();
	if (xchg32(&panicking, 1) != 0) {
		if (panic_cpu != cpu_id())
			cpu_halt_forever();     /* another CPU reports; its NMI stops us */
		/* A panic while reporting a panic: say so once, then stop. */
		console_write("\npanic: nested panic, stopping\n", 31);
		if (ktest_active())
			ktest_exit(KTEST_EXIT_PANIC);
		cpu_halt_forever();
	}
	panic_cpu = cpu_id();
	raw_spin_lock(&panic_print_lock);
	console_force_unlock();
	fbcon_panic();          /* the report in white on red, drawn as it is written */
	if (stop_others)
		stop_others();
}

void panic_nmi_stop(const struct trap_frame *tf)
{
	raw_spin_lock(&panic_print_lock);
	console_force_unlock();
	kprintf("cpu %u (APIC id %u): stopped by the panic on CPU %u at %pS\n",
		cpu_id(), this_cpu()->apic_id, panic_cpu, (void *)tf->rip);
	backtrace_from(tf->rip, tf->rbp);
	fetch_add32(&cpus_stopped, 1);
	raw_spin_unlock(&panic_print_lock);
	cpu_halt_forever();
}

static void panic_report(const struct trap_frame *tf, const char *fmt, va_list ap)
{
	kprintf("\npanic: ");
	kvprintf(fmt, ap);
	kprintf("\n  on CPU %u (APIC id %u)\n", cpu_id(), this_cpu()->apic_id);
	print_registers(tf);
	if (tf->vector < T_EXCEPTIONS)
		trap_print_detail(tf);
	backtrace_from(tf->rip, tf->rbp);
}

void panic_frame(const struct trap_frame *tf, const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_report(tf, fmt, ap);
	va_end(ap);
	panic_stop();
}

void panic(const char *fmt, ...)
{
	struct trap_frame tf = { .vector = ~0ull };
	va_list ap;

	panic_enter();
	/* The caller's view: its RIP is our return address, its frame our parent's. */
	tf.rip = (uint64_t)__builtin_return_address(0);
	tf.rbp = *(uint64_t *)read_rbp();
	tf.rsp = read_rbp() + 16;
	__asm__ volatile("mov %%rbx, %0; mov %%r12, %1; mov %%r13, %2; mov %%r14, %3; mov %%r15, %4"
			 : "=m"(tf.rbx), "=m"(tf.r12), "=m"(tf.r13), "=m"(tf.r14), "=m"(tf.r15));
	__asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(tf.cs), "=r"(tf.ss));
	tf.rflags = read_rflags();
	va_start(ap, fmt);
	panic_report(&tf, fmt, ap);
	va_end(ap);
	panic_stop();
}
