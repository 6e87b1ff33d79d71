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

UNIT_MAIN("apic_calc", UTEST(init_delay_modern), UTEST(init_delay_legacy),
	  UTEST(init_delay_hypervisor))
