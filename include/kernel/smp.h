/* Multiprocessor start-up and cross-CPU operations (smp/). */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct platform_info;
struct vm_space;

#define AP_START_TIMEOUT_US     100000  /* an AP must report in within 100 ms */

/* Discover CPUs and interrupt controllers, bring up the APICs and start every AP. */
void smp_init(void);
const struct platform_info *smp_platform(void);
uint32_t smp_tick_hz(void);

/* IPIs (smp/ipi.c). */
void ipi_init(void);
void ipi_send(uint32_t cpu, uint32_t vector);
void ipi_send_all_but_self(uint32_t vector);
/* Cross-CPU TLB invalidation, acknowledged by every other online CPU. */
void tlb_shootdown(struct vm_space *vs, uint64_t va, uint64_t npages);
/* Run fn(arg) on CPU `cpu` from its interrupt handler and wait for it. */
void smp_call(uint32_t cpu, void (*fn)(void *), void *arg);

#endif
