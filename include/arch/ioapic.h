/* I/O APIC (Intel 82093AA datasheet) and the legacy 8259 PICs. */
#ifndef ARCH_IOAPIC_H
#define ARCH_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct platform_info;

#define ISA_IRQ_PIT     0
#define ISA_IRQ_KBD     1
#define ISA_IRQ_COM1    4
#define ISA_IRQ_COUNT   16

/* Maps every IOAPIC, masks all pins, and routes the ISA IRQs we use. */
void ioapic_init(const struct platform_info *pi, uint32_t bsp_apic_id);
void ioapic_mask_isa(uint8_t irq, int masked);
/* The APIC id of the AP chosen for device interrupts (boot CPU's id above 254), or -1. */
int64_t ioapic_other_dest(void);

/* Remap the 8259s away from the exception vectors, then mask them. */
void pic_disable(void);
/*
 * No IOAPIC: the 8259s at VEC_IRQ_BASE (the vectors the IOAPIC would use),
 * all lines masked but the cascade, their output on the boot CPU's LINT0
 * as ExtINT. Then pic_mask_irq() opens lines.
 */
void pic_legacy_init(void);
bool pic_legacy(void);
void pic_mask_irq(uint8_t irq, bool masked);
/*
 * For the interrupt path: true if vector is an 8259 line in legacy mode,
 * after the 8259 got its EOI (none for a spurious IRQ 7/15); the LAPIC
 * then needs none (ExtINT is not in its ISR).
 */
bool pic_eoi_vector(unsigned int vector);

#endif
