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
#include <kernel/vmm.h>

/*
 * Firmware tables may be anywhere, above 4 GiB too (64-bit XSDT entries,
 * X_DSDT). They are read through the direct map: everything below 4 GiB
 * is in it from the first C code on (the boot alias), and above, all
 * non-reserved memory-map ranges up to a 1 GiB boundary once the VMM has
 * run (mm/vmm.c, direct_map_end()). Its end is found once, by asking the
 * page tables about the last page of each GiB, and cached.
 */
#define DIRECT_ALWAYS_LIMIT     PMM_LOW_LIMIT
#define DIRECT_MAP_STEP         (1ull << 30)    /* the direct map's end is a GiB boundary */
#define XAPIC_DEFAULT_BASE      0xFEE00000ull

static uint64_t direct_end;     /* 0: not measured yet */

static uint64_t direct_map_extent(void)
{
	uint64_t end = DIRECT_ALWAYS_LIMIT;

	if (direct_end)
		return direct_end;
	if (!kernel_space.pml4)
		return DIRECT_ALWAYS_LIMIT;     /* before the VMM: the boot alias only */
	while (end <= UINT64_MAX - DIRECT_MAP_BASE - DIRECT_MAP_STEP &&
	       vmm_translate(&kernel_space,
			     (uint64_t)phys_to_virt(end + DIRECT_MAP_STEP - PAGE_SIZE), NULL, NULL))
		end += DIRECT_MAP_STEP;
	direct_end = end;
	return end;
}

static bool direct_mapped(uint64_t pa, size_t len)
{
	uint64_t last = pa + len - 1;

	if (len == 0 || last < pa)
		return false;
	return last < DIRECT_ALWAYS_LIMIT || last < direct_map_extent();
}

static const void *direct_read(uint64_t pa, size_t len, void *ctx)
{
	(void)ctx;
	return direct_mapped(pa, len) ? phys_to_virt(pa) : NULL;
}

const void *platform_phys_read(uint64_t pa, size_t len)
{
	return direct_read(pa, len, NULL);
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
