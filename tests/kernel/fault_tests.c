/*
 * test=fault: a deliberate kernel page fault. The harness asserts on the
 * report (vector name, CR2, the victim's name in the backtrace) and on the
 * panic exit code.
 */
#include <stdint.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>

/* Canonical, never mapped: outside the boot identity map and the kernel half. */
#define FAULT_ADDRESS 0x00000DEAD0000000ull

__attribute__((noinline)) void ktest_fault_victim(volatile uint64_t *p)
{
	*p = 1;
	__asm__ volatile("" ::: "memory");
}

static void fault_run(void)
{
	kprintf("ktest: writing to 0x%016llx, expecting a page fault\n", FAULT_ADDRESS);
	ktest_fault_victim((volatile uint64_t *)FAULT_ADDRESS);
	kprintf("ktest: no page fault happened\n");
}

KTEST_SUITE_RUN(fault, fault_run);
