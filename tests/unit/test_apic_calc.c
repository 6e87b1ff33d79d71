/* Host tests for arch/x86_64/apic_calc.c: the INIT wait and the interrupt destination. */
#include "unit.h"
#include "../../arch/x86_64/apic_calc.c"

static const char *init_delay_modern(void)
{
	UASSERT_EQ(apic_init_delay_us("GenuineIntel", 6, false), 0);           /* Skylake-SP */
	UASSERT_EQ(apic_init_delay_us("AuthenticAMD", 0x17, false), 0);        /* EPYC */
	UASSERT_EQ(apic_init_delay_us("AuthenticAMD", 0xF, false), 0);         /* qemu64 */
	UASSERT_EQ(apic_init_delay_us("HygonGenuine", 0x18, false), 0);
	return NULL;
}

static const char *init_delay_legacy(void)
{
	UASSERT_EQ(apic_init_delay_us("GenuineIntel", 0xF, false), APIC_INIT_DELAY_LEGACY_US);
	UASSERT_EQ(apic_init_delay_us("GenuineIntel", 5, false), APIC_INIT_DELAY_LEGACY_US);
	UASSERT_EQ(apic_init_delay_us("AuthenticAMD", 6, false), APIC_INIT_DELAY_LEGACY_US);
	UASSERT_EQ(apic_init_delay_us("HygonGenuine", 0x17, false), APIC_INIT_DELAY_LEGACY_US);
	UASSERT_EQ(apic_init_delay_us("CentaurHauls", 6, false), APIC_INIT_DELAY_LEGACY_US);
	UASSERT_EQ(apic_init_delay_us("", 0, false), APIC_INIT_DELAY_LEGACY_US);
	return NULL;
}

static const char *init_delay_hypervisor(void)
{
	UASSERT_EQ(apic_init_delay_us("GenuineIntel", 0xF, true), 0);
	UASSERT_EQ(apic_init_delay_us("CentaurHauls", 6, true), 0);
	return NULL;
}

static struct platform_info pi;

static void cpus(const uint32_t *ids, const bool *enabled, uint32_t n)
{
	memset(&pi, 0, sizeof pi);
	for (uint32_t i = 0; i < n; i++)
		pi.cpus[i] = (struct platform_cpu){ .apic_id = ids[i], .x2apic = ids[i] > 254,
						    .enabled = enabled ? enabled[i] : true };
	pi.ncpu = n;
}

static const char *dest_bsp_fits(void)
{
	static const uint32_t ids[] = { 0, 1, 2, 3 };
	uint32_t dest = 77;

	cpus(ids, NULL, 4);
	UASSERT_EQ(apic_irq_dest(&pi, 0, &dest), IRQ_DEST_BSP);
	UASSERT_EQ(dest, 0);
	UASSERT_EQ(apic_irq_dest(&pi, 254, &dest), IRQ_DEST_BSP);    /* the last id that fits */
	UASSERT_EQ(dest, 254);
	return NULL;
}

/* A boot CPU above 254 (x2APIC, no remapping): the first enabled CPU that fits. */
static const char *dest_other_cpu(void)
{
	static const uint32_t ids[] = { 300, 255, 256, 9, 3 };
	static const bool enabled[] = { true, true, true, false, true };
	uint32_t dest = 0;

	cpus(ids, enabled, 5);
	UASSERT_EQ(apic_irq_dest(&pi, 300, &dest), IRQ_DEST_OTHER);
	UASSERT_EQ(dest, 3);                    /* 255 is broadcast, 9 is only online-capable */
	cpus(ids, NULL, 5);
	UASSERT_EQ(apic_irq_dest(&pi, 255, &dest), IRQ_DEST_OTHER);
	UASSERT_EQ(dest, 9);
	return NULL;
}

static const char *dest_none_fits(void)
{
	static const uint32_t ids[] = { 256, 257, 255, 0x10000 };
	uint32_t dest = 0;

	cpus(ids, NULL, 4);
	UASSERT_EQ(apic_irq_dest(&pi, 256, &dest), IRQ_DEST_NONE);
	cpus(ids, NULL, 0);
	UASSERT_EQ(apic_irq_dest(&pi, 256, &dest), IRQ_DEST_NONE);
	return NULL;
}

UNIT_MAIN("apic_calc", UTEST(init_delay_modern), UTEST(init_delay_legacy),
	  UTEST(init_delay_hypervisor), UTEST(dest_bsp_fits), UTEST(dest_other_cpu),
	  UTEST(dest_none_fits))
