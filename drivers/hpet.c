/*
 * The HPET's main counter (IA-PC HPET spec 1.0a), found through the ACPI
 * HPET table. Only the counter is used: no comparator is armed and the
 * legacy replacement route (which would silence the PIT) is left alone.
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <kernel/clock.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/vmm.h>

#define HPET_MMIO_SIZE          0x400   /* spec 2.3.1: 1 KiB register block */
#define HPET_CAPS               0x000   /* general capabilities and ID */
#define HPET_CONFIG             0x010   /* general configuration */
#define   HPET_CFG_ENABLE       (1u << 0)
#define HPET_COUNTER            0x0F0   /* main counter value */
#define HPET_READ_BITS          32      /* low half only: a 32-bit read is atomic everywhere */
#define ACPI_LENGTH_OFFSET      4

static volatile uint32_t *hpet;

static uint64_t hpet_read(void)
{
	return hpet[HPET_COUNTER / 4];
}

int hpet_probe(struct clock_ref *ref)
{
	struct hpet_table t;
	const uint8_t *table;
	uint64_t pa, caps, hz;
	unsigned int bits;
	int rc;

	if (platform_acpi_table(boot_info(), "HPET", &pa) < 0) {
		kprintf("time: HPET: no ACPI HPET table\n");
		return -ENOENT;
	}
	table = phys_to_virt(pa);
	rc = hpet_table_parse(table, *(const uint32_t *)(table + ACPI_LENGTH_OFFSET), &t);
	if (rc < 0) {
		kprintf("time: HPET: %s\n", rc == -ENOSYS ? "registers not in memory space" :
			"bad ACPI HPET table");
		return rc;
	}
	if (!hpet)
		hpet = vmm_map_mmio(t.base, HPET_MMIO_SIZE);
	if (!hpet) {
		kprintf("time: HPET: cannot map 0x%lx\n", t.base);
		return -ENOMEM;
	}
	caps = hpet[HPET_CAPS / 4] | (uint64_t)hpet[HPET_CAPS / 4 + 1] << 32;
	if (hpet_caps_decode(caps, &hz, &bits) < 0) {
		kprintf("time: HPET at 0x%lx: bad capabilities 0x%lx\n", t.base, caps);
		return -EINVAL;
	}
	/* The counter runs only while enabled (spec 2.3.5); firmware may have left it off. */
	hpet[HPET_CONFIG / 4] |= HPET_CFG_ENABLE;
	*ref = (struct clock_ref){ .source = CLOCK_HPET, .hz = hz, .bits = HPET_READ_BITS,
				   .read = hpet_read };
	kprintf("time: HPET at 0x%lx, %lu Hz, %u-bit main counter\n", t.base, hz, bits);
	return 0;
}
