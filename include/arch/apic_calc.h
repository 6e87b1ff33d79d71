/*
 * Decisions of the AP start-up and interrupt routing that depend only on
 * what the CPU and the tables say (arch/x86_64/apic_calc.c), host-tested
 * in tests/unit/test_apic_calc.c.
 */
#ifndef ARCH_APIC_CALC_H
#define ARCH_APIC_CALC_H

#include <stdbool.h>
#include <stdint.h>

/* Intel SDM vol. 3, 8.4.4.1: the MP initialization sequence's INIT wait. */
#define APIC_INIT_DELAY_LEGACY_US       10000

/*
 * How long to wait between INIT and the first STARTUP IPI. The SDM's
 * sequence waits 10 ms, a figure from the 82489DX and early P6 era. Linux
 * (smp_quirk_init_udelay) waits nothing on Intel family 6, AMD family 0xF
 * and later, and Hygon family 0x18 and later; a hypervisor's virtual CPUs
 * (CPUID.1:ECX[31]) have no INIT latency to wait out either. Anything
 * else gets the 10 ms.
 */
uint32_t apic_init_delay_us(const char *vendor, unsigned int family, bool hypervisor);

struct platform_info;

/*
 * The I/O APIC's destination field is 8 bits (82093AA datasheet, 3.2.4;
 * physical mode), and 0xFF means every CPU, so a CPU with an x2APIC id
 * above 254 cannot be named without interrupt remapping (VT-d / AMD-Vi),
 * which Kestrel does not program.
 */
#define IOAPIC_DEST_MAX         0xFE

enum irq_dest_choice {
	IRQ_DEST_BSP,           /* the boot CPU's id fits */
	IRQ_DEST_OTHER,         /* it does not: *dest is the first enabled CPU whose id fits */
	IRQ_DEST_NONE,          /* no CPU's id fits: device interrupts cannot be delivered */
};

/* Where device interrupts go, without interrupt remapping. */
enum irq_dest_choice apic_irq_dest(const struct platform_info *pi, uint32_t bsp_apic_id,
				   uint32_t *dest);

#endif
