/* CPU identification and per-CPU early setup (x86-64). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define CPU_VENDOR_LEN  13
#define CPU_BRAND_LEN   49

struct cpu_info {
	char vendor[CPU_VENDOR_LEN];    /* "GenuineIntel" */
	char brand[CPU_BRAND_LEN];      /* CPUID 0x80000002-4, trimmed */
	unsigned int family, model, stepping;
	bool has_nx, has_1g_pages, has_x2apic, has_smep, has_smap, has_umip;
	bool hypervisor;                /* CPUID.1:ECX[31]: running in a VM */
	bool has_tsc_deadline;          /* CPUID.1:ECX[24]: LVT timer TSC-deadline mode */
	bool has_invariant_tsc;         /* CPUID.80000007H:EDX[8]: constant rate in all states */
	bool has_pat;                   /* CPUID.1:EDX[16]: page attribute table */
	bool has_pcid;                  /* CPUID.1:ECX[17]: process-context identifiers (CR4.PCIDE) */
	bool has_invpcid;               /* CPUID.(7,0):EBX[10]: the INVPCID instruction */
	bool has_erms;                  /* CPUID.(7,0):EBX[9]: fast REP MOVSB/STOSB */
	uint32_t max_leaf;              /* CPUID.0:EAX, highest basic leaf */
	/* CPUID 0x15 (TSC/core crystal ratio), zero when max_leaf is below it (SDM vol. 2A). */
	uint32_t tsc_ratio_den;         /* EAX: denominator of TSC / crystal */
	uint32_t tsc_ratio_num;         /* EBX: numerator; 0: ratio not enumerated */
	uint32_t crystal_hz;            /* ECX: core crystal clock, 0: not enumerated */
	uint32_t base_mhz;              /* CPUID 0x16 EAX[15:0]: base frequency, 0: unknown */
};

extern struct cpu_info boot_cpu_info;

/* GDT, TSS with IST stacks and IDT for the boot CPU (and its PAT). */
void cpu_early_init(void);
/*
 * Program this CPU's PAT (every CPU, the same value): the power-on entries,
 * except entry 4, write-combining, for VM_WC mappings (include/kernel/vmm.h).
 */
void cpu_pat_init(void);

#endif
