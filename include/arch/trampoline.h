/*
 * The AP start-up trampoline (smp/trampoline.S) and its parameters. The
 * code is copied to a page below 1 MiB; the BSP fills struct
 * trampoline_params at TRAMPOLINE_PARAMS_OFFSET in that page before each
 * SIPI. Must match trampoline.S (offsets checked below).
 */
#ifndef ARCH_TRAMPOLINE_H
#define ARCH_TRAMPOLINE_H

#define TRAMPOLINE_PARAMS_OFFSET 0xF00
#define TP_CR3          0x00    /* 32-bit CR3 of the trampoline page tables */
#define TP_FLAGS        0x04    /* TP_FLAG_* */
#define TP_STACK        0x08    /* initial RSP (kernel virtual) */
#define TP_ENTRY        0x10    /* void ap_entry(struct cpu *) */
#define TP_CPU          0x18    /* struct cpu * */
#define TP_STARTED      0x20    /* AP writes 1 once it no longer needs the page */
#define TP_SIZE         0x28
#define TP_FLAG_NX      0x1     /* set EFER.NXE: the kernel's tables use NX */

/* Trampoline GDT selectors. */
#define TRAMP_SEL_CODE32 0x08
#define TRAMP_SEL_DATA   0x10
#define TRAMP_SEL_CODE64 0x18

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct trampoline_params {
	uint32_t cr3;
	uint32_t flags;
	uint64_t stack;
	uint64_t entry;
	uint64_t cpu;
	volatile uint32_t started;
	uint32_t reserved;
};
_Static_assert(offsetof(struct trampoline_params, cr3) == TP_CR3, "tp.cr3");
_Static_assert(offsetof(struct trampoline_params, flags) == TP_FLAGS, "tp.flags");
_Static_assert(offsetof(struct trampoline_params, stack) == TP_STACK, "tp.stack");
_Static_assert(offsetof(struct trampoline_params, entry) == TP_ENTRY, "tp.entry");
_Static_assert(offsetof(struct trampoline_params, cpu) == TP_CPU, "tp.cpu");
_Static_assert(offsetof(struct trampoline_params, started) == TP_STARTED, "tp.started");
_Static_assert(sizeof(struct trampoline_params) == TP_SIZE, "tp size");

extern const char trampoline_start[], trampoline_end[];
#endif

#endif
