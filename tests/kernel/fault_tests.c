/*
 * test=fault: a deliberate kernel page fault. The harness asserts on the
 * report (vector name, CR2, the victim's name in the backtrace) and on the
 * panic exit code.
 */
#include <stdint.h>
#include <kernel/kmalloc.h>
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

/* test=nx: run code copied to the heap; the direct map is no-execute. */
static void nx_run(void)
{
	static const uint8_t ret_insn = 0xC3;
	uint8_t *code = kmalloc(16);

	*code = ret_insn;
	kprintf("ktest: calling heap code at %p, expecting an NX page fault\n", code);
	((void (*)(void))code)();
	kprintf("ktest: heap code ran\n");
}
KTEST_SUITE_RUN(nx, nx_run);

/* test=rodata: write to a constant; CR0.WP makes ring 0 honour read-only pages. */
static const uint64_t ktest_constant = 42;

__attribute__((noinline)) void ktest_rodata_writer(volatile uint64_t *p)
{
	*p = 43;
	__asm__ volatile("" ::: "memory");
}

static void rodata_run(void)
{
	kprintf("ktest: writing to .rodata at %p, expecting a page fault\n", &ktest_constant);
	ktest_rodata_writer((volatile uint64_t *)&ktest_constant);
	kprintf("ktest: .rodata write went through\n");
}
KTEST_SUITE_RUN(rodata, rodata_run);

/* test=null: page 0 is never mapped. */
__attribute__((noinline)) uint64_t ktest_null_reader(volatile uint64_t *p)
{
	return *p;
}

static void null_run(void)
{
	kprintf("ktest: reading through NULL, expecting a page fault\n");
	kprintf("ktest: read 0x%lx\n", ktest_null_reader(NULL));
}
KTEST_SUITE_RUN(null, null_run);

/* test=stack_overflow: recurse into the boot stack's guard page. */
#define RECURSION_FRAME 512

__attribute__((noinline)) uint64_t ktest_recurse(uint64_t depth)
{
	volatile uint8_t frame[RECURSION_FRAME];

	frame[0] = (uint8_t)depth;
	if (depth > (1ul << 40))
		return frame[0];
	return ktest_recurse(depth + 1) + frame[0];
}

static void stack_overflow_run(void)
{
	kprintf("ktest: unbounded recursion, expecting a kernel stack overflow\n");
	kprintf("ktest: recursion returned %lu\n", ktest_recurse(0));
}
KTEST_SUITE_RUN(stack_overflow, stack_overflow_run);

/* test=double_free: the heap names the caller of a second kfree. */
__attribute__((noinline)) void ktest_double_free(void *p)
{
	kfree(p);
	kfree(p);
	__asm__ volatile("" ::: "memory");
}

static void double_free_run(void)
{
	kprintf("ktest: freeing a heap object twice, expecting a panic\n");
	ktest_double_free(kmalloc(40));
	kprintf("ktest: double free went unnoticed\n");
}
KTEST_SUITE_RUN(double_free, double_free_run);
