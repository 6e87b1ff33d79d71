/*
 * The ACPI power-management timer (ACPI 6.x 4.8.2.1): a free-running
 * 3.579545 MHz counter, 24 or 32 bits wide, at the I/O port the FADT names.
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/x86.h>
#include <kernel/clock.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/smp.h>

#define ACPI_LENGTH_OFFSET      4

static uint16_t pm_port;
static uint32_t pm_mask;

static uint64_t pmtimer_read(void)
{
	return inl(pm_port) & pm_mask;
}

int pmtimer_probe(struct clock_ref *ref)
{
	struct pm_timer_block blk;
	const uint8_t *fadt;
	uint64_t pa;
	int rc;

	if (platform_acpi_table(boot_info(), "FACP", &pa) < 0) {
		kprintf("time: ACPI PM timer: no FADT\n");
		return -ENOENT;
	}
	fadt = phys_to_virt(pa);
	rc = fadt_pm_timer(fadt, *(const uint32_t *)(fadt + ACPI_LENGTH_OFFSET), &blk);
	if (rc < 0) {
		kprintf("time: ACPI PM timer: %s\n", rc == -ENOENT ? "the FADT names none" :
			rc == -ENOSYS ? "not in I/O space (unsupported)" : "bad FADT");
		return rc;
	}
	pm_port = blk.port;
	pm_mask = blk.bits == 32 ? UINT32_MAX : (1u << blk.bits) - 1;
	*ref = (struct clock_ref){ .source = CLOCK_PMTIMER, .hz = PM_TIMER_HZ, .bits = blk.bits,
				   .read = pmtimer_read };
	kprintf("time: ACPI PM timer at port 0x%x, %u-bit\n", blk.port, blk.bits);
	return 0;
}
