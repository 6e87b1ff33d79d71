/* The struct cpu array and the GS base that points each CPU at its own entry. */
#include <stddef.h>
#include <arch/msr.h>
#include <arch/x86.h>
#include <kernel/cpu.h>

_Static_assert(offsetof(struct cpu, self) == CPU_OFF_SELF, "cpu.self");
_Static_assert(offsetof(struct cpu, id) == CPU_OFF_ID, "cpu.id");
_Static_assert(offsetof(struct cpu, kernel_rsp) == CPU_OFF_KERNEL_RSP, "cpu.kernel_rsp");
_Static_assert(offsetof(struct cpu, user_rsp) == CPU_OFF_USER_RSP, "cpu.user_rsp");

struct cpu cpus[MAX_CPUS];
uint32_t ncpus = 1;
volatile uint32_t ncpus_online = 1;

void percpu_set(struct cpu *c)
{
	c->self = c;
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	/* Until ring 3 exists, swapgs must find the same pointer. */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void percpu_init_bsp(void)
{
	cpus[0].id = 0;
	cpus[0].online = true;
	percpu_set(&cpus[0]);
}

