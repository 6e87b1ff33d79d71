/*
 * Finding the CPUs and interrupt controllers: the ACPI MADT (RSDP from the
 * boot loader, or found by scanning), then the Intel MP table as fallback,
 * then the boot CPU alone. The table parsers live in kernel/acpi.c and
 * kernel/mptable.c; this file gives them memory access and a log.
 */
#include <stdarg.h>
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/platform.h>
#include <boot/boot_info.h>
#include <kernel/cmdline.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/string.h>

/* Firmware tables live below 4 GiB, which the direct map always covers. */
#define FIRMWARE_TABLE_LIMIT    PMM_LOW_LIMIT
#define XAPIC_DEFAULT_BASE      0xFEE00000ull

static const void *direct_read(uint64_t pa, size_t len, void *ctx)
{
	(void)ctx;
	if (pa >= FIRMWARE_TABLE_LIMIT || len > FIRMWARE_TABLE_LIMIT - pa)
		return NULL;
	return phys_to_virt(pa);
}

static void platform_log(void *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

static int try_acpi(const struct boot_info *bi, struct platform_info *pi)
{
	uint64_t rsdp;

	if (bi->rsdp_length)
		return acpi_parse_madt_rsdp(direct_read, NULL, bi->rsdp, bi->rsdp_length, pi,
					    platform_log);
	if (bi->rsdp_addr)
		return acpi_parse_madt(direct_read, NULL, bi->rsdp_addr, pi, platform_log);
	if (acpi_find_rsdp(direct_read, NULL, &rsdp, platform_log) < 0)
		return -1;
	return acpi_parse_madt(direct_read, NULL, rsdp, pi, platform_log);
}

static int try_mp(struct platform_info *pi)
{
	uint64_t mpf;

	if (mp_find_floating(direct_read, NULL, &mpf, platform_log) < 0)
		return -1;
	return mp_parse(direct_read, NULL, mpf, pi, platform_log);
}

/* Fills pi; never fails: without tables the boot CPU runs alone. */
void platform_discover(const struct boot_info *bi, struct platform_info *pi, uint32_t bsp_apic_id)
{
	bool acpi_off = cmdline_has(bi->cmdline, "noacpi");

	if ((acpi_off || try_acpi(bi, pi) < 0) && try_mp(pi) < 0) {
		kprintf("platform: no ACPI MADT and no MP table; running on the boot CPU only\n");
		memset(pi, 0, sizeof(*pi));
		pi->source = "none";
		pi->lapic_addr = XAPIC_DEFAULT_BASE;
		pi->pic_present = true;
		pi->ncpu = 1;
		pi->cpus[0].apic_id = bsp_apic_id;
		pi->cpus[0].enabled = true;
	}
	kprintf("platform: %s: %u CPUs, %u I/O APICs, %u IRQ overrides%s\n", pi->source,
		pi->ncpu, pi->nioapic, pi->noverride, pi->skipped_cpus ? " (some CPUs skipped)" : "");
}

/* Physical address of ACPI table sig (e.g. "FACP"), found the way discovery found the MADT. */
int platform_acpi_table(const struct boot_info *bi, const char sig[4], uint64_t *pa)
{
	uint64_t rsdp;

	if (bi->rsdp_length)
		return acpi_find_table_rsdp(direct_read, NULL, bi->rsdp, bi->rsdp_length, sig, pa,
					    NULL);
	if (bi->rsdp_addr)
		return acpi_find_table(direct_read, NULL, bi->rsdp_addr, sig, pa, NULL);
	if (acpi_find_rsdp(direct_read, NULL, &rsdp, NULL) < 0)
		return -1;
	return acpi_find_table(direct_read, NULL, rsdp, sig, pa, NULL);
}
