/* AP start-up and interrupt routing decisions (include/arch/apic_calc.h). */
#include <arch/apic_calc.h>
#include <arch/platform.h>
#include <kernel/string.h>

#define INTEL_FAMILY_P6         6       /* every Intel core since the Pentium Pro */
#define AMD_FAMILY_K8           0xF     /* Athlon 64 / Opteron and later */
#define HYGON_FAMILY_DHYANA     0x18

uint32_t apic_init_delay_us(const char *vendor, unsigned int family, bool hypervisor)
{
	if (hypervisor)
		return 0;
	if (strcmp(vendor, "GenuineIntel") == 0 && family == INTEL_FAMILY_P6)
		return 0;
	if (strcmp(vendor, "AuthenticAMD") == 0 && family >= AMD_FAMILY_K8)
		return 0;
	if (strcmp(vendor, "HygonGenuine") == 0 && family >= HYGON_FAMILY_DHYANA)
		return 0;
	return APIC_INIT_DELAY_LEGACY_US;
}

enum irq_dest_choice apic_irq_dest(const struct platform_info *pi, uint32_t bsp_apic_id,
				   uint32_t *dest)
{
	*dest = bsp_apic_id;
	if (bsp_apic_id <= IOAPIC_DEST_MAX)
		return IRQ_DEST_BSP;
	for (uint32_t i = 0; i < pi->ncpu; i++) {
		const struct platform_cpu *c = &pi->cpus[i];

		if (c->enabled && c->apic_id <= IOAPIC_DEST_MAX) {
			*dest = c->apic_id;
			return IRQ_DEST_OTHER;
		}
	}
	return IRQ_DEST_NONE;
}
