/*
 * x86 user-memory protection (SDM vol. 3, 4.6): SMEP (no kernel execution
 * of user pages), SMAP (no kernel access to user pages outside a stac/clac
 * bracket) and UMIP (no sgdt/sidt/str in ring 3), each on when the CPU has it.
 * kernel/usercopy.c brackets every user access with the two calls below.
 */
#ifndef ARCH_UACCESS_H
#define ARCH_UACCESS_H

#include <stdbool.h>

extern bool arch_smap_on;

/* SMEP, SMAP and UMIP into this CPU's CR4, as boot_cpu_info says it has them. */
void arch_uaccess_init_cpu(void);

static inline void arch_user_access_begin(void)
{
	if (arch_smap_on)
		__asm__ volatile("stac" ::: "memory");
}

static inline void arch_user_access_end(void)
{
	if (arch_smap_on)
		__asm__ volatile("clac" ::: "memory");
}

#endif
