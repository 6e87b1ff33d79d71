/*
 * Local APIC (Intel SDM vol. 3, ch. 10): registers as MMIO offsets (xAPIC);
 * in x2APIC mode the same register is MSR 0x800 + offset / 16.
 */
#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_ID                0x020
#define LAPIC_VERSION           0x030
#define LAPIC_TPR               0x080   /* task priority */
#define LAPIC_EOI               0x0B0
#define LAPIC_LDR               0x0D0
#define LAPIC_DFR               0x0E0   /* xAPIC only */
#define LAPIC_SVR               0x0F0   /* spurious-interrupt vector */
#define   LAPIC_SVR_ENABLE      (1u << 8)
#define LAPIC_ESR               0x280   /* error status */
#define LAPIC_ICR_LO            0x300   /* interrupt command */
#define LAPIC_ICR_HI            0x310   /* xAPIC: destination in bits 31:24 */
#define   LAPIC_DM_FIXED        (0u << 8)
#define   LAPIC_DM_NMI          (4u << 8)
#define   LAPIC_DM_INIT         (5u << 8)
#define   LAPIC_DM_STARTUP      (6u << 8)
#define   LAPIC_DS_PENDING      (1u << 12)      /* delivery status (xAPIC) */
#define   LAPIC_LEVEL_ASSERT    (1u << 14)
#define   LAPIC_TRIGGER_LEVEL   (1u << 15)
#define   LAPIC_DEST_SELF       (1u << 18)
#define   LAPIC_DEST_ALL_BUT_SELF (3u << 18)
#define LAPIC_LVT_TIMER         0x320
#define   LAPIC_TIMER_ONESHOT   (0u << 17)      /* LVT timer mode, bits 18:17 (SDM 10.5.4) */
#define   LAPIC_TIMER_PERIODIC  (1u << 17)
#define   LAPIC_TIMER_TSC_DEADLINE (2u << 17)
#define LAPIC_LVT_LINT0         0x350
#define LAPIC_LVT_LINT1         0x360
#define LAPIC_LVT_ERROR         0x370
#define   LAPIC_LVT_MASKED      (1u << 16)
#define   LAPIC_LVT_NMI         (4u << 8)
#define   LAPIC_LVT_EXTINT      (7u << 8)
#define LAPIC_TIMER_INIT        0x380
#define LAPIC_TIMER_CURRENT     0x390
#define LAPIC_TIMER_DIV         0x3E0
#define   LAPIC_TIMER_DIV_16    0x3

#define MSR_TSC_DEADLINE        0x6E0   /* IA32_TSC_DEADLINE (SDM 10.5.4.1) */
#define MSR_X2APIC_BASE         0x800
#define MSR_X2APIC_ICR          0x830   /* 64-bit ICR, destination in 63:32 */
#define APIC_BASE_BSP           (1u << 8)       /* IA32_APIC_BASE bits */
#define APIC_BASE_EXTD          (1u << 10)      /* x2APIC mode */
#define APIC_BASE_ENABLE        (1u << 11)
#define APIC_BASE_ADDR_MASK     0xFFFFFF000ull

/* Interrupt vectors the kernel uses (exceptions are 0-31). */
#define VEC_TIMER               0x20
#define VEC_IRQ_BASE            0x30    /* ISA IRQ n through the IOAPIC: 0x30 + n */
#define VEC_PIC_BASE            0x50    /* 8259s remapped here, then masked */
#define VEC_USB                 0x60    /* every xHCI controller's MSI/MSI-X message */
#define VEC_RESCHEDULE          0xF0
#define VEC_TLB_SHOOTDOWN       0xF1
#define VEC_CALL                0xF2    /* generic cross-CPU call / IPI test */
#define VEC_LAPIC_ERROR         0xFE
#define VEC_SPURIOUS            0xFF

void lapic_init(void);                  /* this CPU; the boot CPU first */
bool lapic_x2apic(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* LINT0 unmasked in ExtINT mode: the 8259s deliver to this CPU (no IOAPIC). */
void lapic_lint0_extint(void);
uint32_t lapic_read_esr(void);
/* Sends an IPI; dest is an APIC id (ignored for shorthand destinations). */
void lapic_send_ipi(uint32_t dest, uint32_t icr_lo);
void lapic_send_ipi_all_but_self(uint32_t vector);
/*
 * This CPU's tick at hz: TSC-deadline mode when the CPU has it (re-armed by
 * lapic_timer_tick()), else periodic from the calibrated LAPIC rate.
 */
void lapic_timer_start(uint32_t hz);
/* Call first in the timer interrupt: arms the next deadline (nothing in periodic mode). */
void lapic_timer_tick(void);
/*
 * Picks the mode and finds the timer's rate (boot CPU, after time_init()):
 * the TSC rate in TSC-deadline mode, else CPUID 0x15's core crystal or a
 * measurement against time_init()'s source; returns ticks/second and sets
 * *how to a phrase for the log ("periodic, calibrated against the HPET").
 */
uint64_t lapic_timer_calibrate(const char **how);

#endif
