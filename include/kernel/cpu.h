/*
 * Per-CPU state (docs/cpus.md): one struct cpu per CPU, reached
 * through the GS base. CPU ids are dense (boot CPU = 0); APIC ids are
 * hardware ids and never index arrays.
 */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <arch/gdt.h>

#define MAX_CPUS        64

/* Offsets used by assembly (syscall entry): checked in smp/percpu.c. */
#define CPU_OFF_SELF            0
#define CPU_OFF_ID              8
#define CPU_OFF_KERNEL_RSP      16      /* kernel stack top for syscalls */
#define CPU_OFF_USER_RSP        24      /* scratch: user RSP during syscall entry */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

struct task;

struct cpu {
	struct cpu *self;               /* gs:0, so this_cpu() is one load */
	uint32_t id;                    /* dense: 0 .. ncpus-1 */
	uint32_t apic_id;
	uint64_t kernel_rsp;
	uint64_t user_rsp;

	/* Set once at start-up. */
	volatile bool online;
	uint64_t stack_top;             /* idle/boot stack of this CPU */
	uint64_t ist_top[IST_COUNT];
	uint64_t startup_cycles;        /* INIT to online, TSC cycles */
	struct gdt_table gdt;
	struct tss tss;

	/* Owned by this CPU; read by others only for statistics. */
	volatile uint64_t ticks;        /* LAPIC timer interrupts */
	volatile uint64_t user_ticks;   /* ... of them taken in ring 3 */
	volatile uint64_t ipis_received;
	volatile uint64_t irqs;
	uint32_t lock_depth;            /* spinlocks held: no preemption while > 0 */

	struct task *current;           /* running task (scheduler) */
};

extern struct cpu cpus[MAX_CPUS];
extern uint32_t ncpus;                  /* CPUs known (including ones that failed) */
extern volatile uint32_t ncpus_online;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline uint32_t cpu_id(void)
{
	return this_cpu()->id;
}

/* The stack the CPU switches to on an interrupt or system call from ring 3. */
static inline void cpu_set_kernel_stack(struct cpu *c, uint64_t top)
{
	c->tss.rsp[0] = top;
}

/* Point this CPU's GS base at c (before anything uses this_cpu()). */
void percpu_set(struct cpu *c);
/* The boot CPU's struct cpu, as early as possible in boot. */
void percpu_init_bsp(void);
#endif

#endif
