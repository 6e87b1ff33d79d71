/* CPU identification and per-CPU early setup (x86-64). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdbool.h>

#define CPU_VENDOR_LEN  13
#define CPU_BRAND_LEN   49

struct cpu_info {
	char vendor[CPU_VENDOR_LEN];    /* "GenuineIntel" */
	char brand[CPU_BRAND_LEN];      /* CPUID 0x80000002-4, trimmed */
	unsigned int family, model, stepping;
	bool has_nx, has_1g_pages, has_x2apic, has_smep, has_smap, has_umip;
	bool hypervisor;                /* CPUID.1:ECX[31]: running in a VM */
};

extern struct cpu_info boot_cpu_info;

/* GDT, TSS with IST stacks and IDT for the boot CPU. */
void cpu_early_init(void);

#endif
