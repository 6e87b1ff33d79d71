/*
 * The AP start-up trampoline (smp/trampoline.S) and its parameters. The
 * code is copied to a page below 1 MiB; the BSP fills struct
 * trampoline_params at TRAMPOLINE_PARAMS_OFFSET in that page before a
 * wave of SIPIs, and one struct ap_boot per AP; every AP of the wave runs
 * the same page at once and picks its block by APIC id. Must match
 * trampoline.S (offsets checked below).
 */
#ifndef ARCH_TRAMPOLINE_H
#define ARCH_TRAMPOLINE_H

#define TRAMPOLINE_PARAMS_OFFSET 0xF00
/* struct trampoline_params: shared by every AP of one start-up wave. */
#define TP_CR3          0x00    /* 32-bit CR3 of the trampoline page tables */
#define TP_FLAGS        0x04    /* TP_FLAG_* */
#define TP_ENTRY        0x08    /* void ap_entry(struct ap_boot *) */
#define TP_TABLE        0x10    /* struct ap_boot[TP_COUNT] (kernel virtual) */
#define TP_COUNT        0x18    /* blocks in the table */
#define TP_LOST         0x1C    /* APs that found no block with their APIC id */
#define TP_SIZE         0x20
#define TP_FLAG_NX      0x1     /* set EFER.NXE: the kernel's tables use NX */
#define TP_FLAG_X2APIC_ID 0x2   /* APIC id from CPUID 0xB EDX (x2APIC id), else CPUID 1 EBX[31:24] */
#define TP_FLAG_ANY     0x4     /* one AP at a time: take block 0 without looking */

/*
 * struct ap_boot: one per AP, in kernel memory; the AP finds its own by
 * APIC id and arrives in ap_entry() on its stack. Offsets used by assembly.
 */
#define AB_APIC_ID      0x00
#define AB_STATE        0x04
#define AB_STACK        0x08
#define AB_SIZE         0x40

/* CPUID leaves the trampoline reads its APIC id from (SDM vol. 2A, CPUID). */
#define CPUID_LEAF_FEATURES     0x1
#define   CPUID_1_APIC_ID_SHIFT 24  /* EBX[31:24]: initial APIC id */
#define CPUID_LEAF_TOPOLOGY     0xB /* EDX: x2APIC id of this logical processor */

/* Trampoline GDT selectors. */
#define TRAMP_SEL_CODE32 0x08
#define TRAMP_SEL_DATA   0x10
#define TRAMP_SEL_CODE64 0x18

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>
#include <arch/gdt.h>

struct trampoline_params {
	uint32_t cr3;
	uint32_t flags;
	uint64_t entry;
	uint64_t table;
	uint32_t count;
	volatile uint32_t lost;
};
_Static_assert(offsetof(struct trampoline_params, cr3) == TP_CR3, "tp.cr3");
_Static_assert(offsetof(struct trampoline_params, flags) == TP_FLAGS, "tp.flags");
_Static_assert(offsetof(struct trampoline_params, entry) == TP_ENTRY, "tp.entry");
_Static_assert(offsetof(struct trampoline_params, table) == TP_TABLE, "tp.table");
_Static_assert(offsetof(struct trampoline_params, count) == TP_COUNT, "tp.count");
_Static_assert(offsetof(struct trampoline_params, lost) == TP_LOST, "tp.lost");
_Static_assert(sizeof(struct trampoline_params) == TP_SIZE, "tp size");

/* struct ap_boot.state: AP and boot CPU move it on with compare-and-swap. */
enum ap_state {
	AP_STARTING,            /* INIT/SIPI sent, not heard from */
	AP_ARRIVED,             /* the AP runs ap_entry() and waits for its CPU slot */
	AP_ABANDONED,           /* the boot CPU gave up first: the AP must stop */
	AP_RELEASED,            /* the boot CPU filled in cpu: the AP sets itself up */
};

struct cpu;

struct ap_boot {
	uint32_t apic_id;
	volatile uint32_t state;        /* enum ap_state */
	uint64_t stack;                 /* initial RSP (kernel virtual) */
	struct cpu *volatile cpu;       /* set before AP_RELEASED */
	uint64_t ist[IST_COUNT];        /* IST stack tops */
	uint64_t t0;                    /* TSC when its INIT went out */
	uint64_t reserved;
};
_Static_assert(offsetof(struct ap_boot, apic_id) == AB_APIC_ID, "ab.apic_id");
_Static_assert(offsetof(struct ap_boot, state) == AB_STATE, "ab.state");
_Static_assert(offsetof(struct ap_boot, stack) == AB_STACK, "ab.stack");
_Static_assert(sizeof(struct ap_boot) == AB_SIZE, "ab size (IST_COUNT changed?)");

extern const char trampoline_start[], trampoline_end[];
#endif

#endif
