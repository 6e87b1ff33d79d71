/*
 * The boot CPU's static stacks (arch/x86_64/entry.S): the boot stack and the
 * IST stacks, each with an unmapped guard page below it (the VMM leaves it out).
 */
#ifndef ARCH_STACK_H
#define ARCH_STACK_H

#define STATIC_STACK_SIZE       (16 * 1024)
#define STACK_GUARD_SIZE        4096
#define STATIC_STACK_STRIDE     (STACK_GUARD_SIZE + STATIC_STACK_SIZE)
#define STATIC_STACK_BOOT       0       /* then IST_DF, IST_NMI, IST_MC (arch/gdt.h) */
#define STATIC_STACK_COUNT      4

#ifndef __ASSEMBLER__
#include <stdint.h>

extern char static_stacks[];

static inline uint64_t static_stack_guard(int i)
{
	return (uint64_t)static_stacks + (uint64_t)i * STATIC_STACK_STRIDE;
}

static inline uint64_t static_stack_top(int i)
{
	return static_stack_guard(i) + STATIC_STACK_STRIDE;
}
#endif

#endif
