/* Multiprocessor start-up and cross-CPU operations (smp/). */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct platform_info;
struct vm_space;

#define AP_START_TIMEOUT_US     100000  /* an AP must report in within 100 ms */
#define AP_START_TIMEOUT_VM_US  2000000 /* under a hypervisor (CPUID.1:ECX[31]) */

struct boot_info;
/* ACPI MADT, else MP table, else the boot CPU alone (arch/x86_64/platform.c). */
void platform_discover(const struct boot_info *bi, struct platform_info *pi, uint32_t bsp_apic_id);

/* Physical address of an ACPI table by signature; negative if there is none. */
int platform_acpi_table(const struct boot_info *bi, const char sig[4], uint64_t *pa);

/* Discover CPUs and interrupt controllers, bring up the APICs and start every AP. */
void smp_init(void);
uint32_t smp_tick_hz(void);
/* Hard-lockup watchdog (smp/watchdog.c): init once, then from every timer tick. */
void watchdog_init(void);
void watchdog_tick(void);
/* Work that keeps CPUs' interrupts off on purpose, for long (nests). */
void watchdog_suspend(void);
void watchdog_resume(void);

/* IPIs (smp/ipi.c). */
void ipi_init(void);
void ipi_send(uint32_t cpu, uint32_t vector);
/* Cross-CPU TLB invalidation, acknowledged by every other online CPU. */
void tlb_shootdown(struct vm_space *vs, uint64_t va, uint64_t npages, uint64_t targets);
/* Shootdown IPIs this CPU has served (tests: who was interrupted). */
uint64_t tlb_shootdowns_received(uint32_t cpu);
/* Run fn(arg) on CPU `cpu` from its interrupt handler and wait for it. */
void smp_call(uint32_t cpu, void (*fn)(void *), void *arg);
/* Post fn(arg) to another CPU and return; smp_call_wait(cpu) waits for it. */
void smp_call_post_async(uint32_t cpu, void (*fn)(void *), void *arg);
void smp_call_wait(uint32_t cpu);
/* Run fn(arg) on every online CPU at the same time (this one included); wait for all. */
void smp_run_on_all(void (*fn)(void *), void *arg);

#endif
