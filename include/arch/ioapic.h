/* I/O APIC (Intel 82093AA datasheet) and the legacy 8259 PICs. */
#ifndef ARCH_IOAPIC_H
#define ARCH_IOAPIC_H

#include <stdint.h>

struct platform_info;

#define ISA_IRQ_PIT     0
#define ISA_IRQ_KBD     1
#define ISA_IRQ_COM1    4
#define ISA_IRQ_COUNT   16

/* Maps every IOAPIC, masks all pins, and routes the ISA IRQs we use. */
void ioapic_init(const struct platform_info *pi, uint32_t bsp_apic_id);
void ioapic_mask_isa(uint8_t irq, int masked);

/* Remap the 8259s away from the exception vectors, then mask them. */
void pic_disable(void);

#endif
