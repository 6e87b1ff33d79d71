/*
 * Power off and reset (ACPI 6.x 4.8.3.2 PM1 control, 4.8.3.7 sleep
 * control register, 7.4.2 \_S5, 4.8.3.6 reset register). Off: what
 * acpi_power_plan() (arch/x86_64/acpi_power.c) decides from the FADT and
 * the DSDT's \_S5 package: SLP_TYPa | SLP_EN into PM1a_CNT (and PM1b_CNT)
 * after switching the chipset to ACPI mode if needed, or on
 * hardware-reduced ACPI into SLEEP_CONTROL_REG; a line saying why when
 * neither is possible; then QEMU's exit port; then a halt with a message.
 * Reset: the FADT reset register, the 8042 keyboard controller, then a
 * triple fault.
 */
#include <stdint.h>
#include <arch/acpi_power.h>
#include <arch/mmu.h>
#include <arch/platform.h>
#include <arch/x86.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/power.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/time.h>
#include <kernel/vmm.h>

#define ACPI_LENGTH_OFFSET      4
#define ACPI_HDR_LEN            36
#define ACPI_ENABLE_WAIT_MS     300
#define OFF_WAIT_MS             500     /* for the platform to cut power */
#define KBC_STATUS              0x64
#define   KBC_INPUT_FULL        0x02
#define KBC_CMD_RESET           0xFE
#define KBC_WAIT_SPINS          100000

/* A whole ACPI table at pa through the direct map, or NULL. */
static const uint8_t *acpi_table_at(uint64_t pa, uint32_t *len)
{
	const uint8_t *h = pa ? platform_phys_read(pa, ACPI_HDR_LEN) : NULL;

	if (!h)
		return NULL;
	memcpy(len, h + ACPI_LENGTH_OFFSET, sizeof *len);
	return *len >= ACPI_HDR_LEN ? platform_phys_read(pa, *len) : NULL;
}

static const uint8_t *acpi_table(const char *sig, uint32_t *len)
{
	uint64_t pa;

	if (platform_acpi_table(boot_info(), sig, &pa) < 0)
		return NULL;
	return acpi_table_at(pa, len);
}

static void acpi_power_off(void)
{
	uint32_t flen = 0, dlen = 0;
	const uint8_t *fadt = acpi_table("FACP", &flen);
	const uint8_t *dsdt = fadt ? acpi_table_at(acpi_fadt_dsdt(fadt, flen), &dlen) : NULL;
	struct power_plan p;

	acpi_power_plan(fadt, flen, dsdt, dlen, &p);
	switch (p.method) {
	case POWER_NONE:
		kprintf("power: ACPI power-off impossible: %s\n", p.why);
		return;
	case POWER_SLEEP_REG:
		kprintf("power: hardware-reduced ACPI: SLP_TYPa %u into SLEEP_CONTROL_REG at %s "
			"%#lx\n", p.slp_typa, p.sleep_space == ACPI_GAS_SPACE_IO ? "port" : "address",
			p.sleep_addr);
		if (p.sleep_space == ACPI_GAS_SPACE_IO) {
			outb((uint16_t)p.sleep_addr, p.sleep_value);
		} else {
			volatile uint8_t *reg = vmm_map_mmio(p.sleep_addr, 1);

			if (!reg) {
				kprintf("power: cannot map SLEEP_CONTROL_REG at %#lx\n", p.sleep_addr);
				return;
			}
			*reg = p.sleep_value;
		}
		break;
	case POWER_PM1:
		/* Still in legacy (SMM) mode: ask the firmware to hand over, bounded. */
		if (!(inw(p.pm1a) & PM1_SCI_EN) && p.smi_cmd && p.acpi_enable) {
			outb(p.smi_cmd, p.acpi_enable);
			for (int ms = 0; ms < ACPI_ENABLE_WAIT_MS && !(inw(p.pm1a) & PM1_SCI_EN); ms++)
				mdelay(1);
		}
		outw(p.pm1a, (uint16_t)(p.slp_typa << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
		if (p.pm1b)
			outw(p.pm1b, (uint16_t)(p.slp_typb << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
		break;
	}
	mdelay(OFF_WAIT_MS);
	kprintf("power: still running %d ms after the ACPI sleep request\n", OFF_WAIT_MS);
}

void power_off(void)
{
	kprintf("kestrel: powering off\n");
	acpi_power_off();
	irq_disable();
	/* QEMU's test device, when present, ends QEMU with a success status. */
	outl(QEMU_DEBUG_EXIT_PORT, KTEST_EXIT_PASS);
	kprintf("kestrel: power off failed; it is now safe to switch the machine off\n");
	cpu_halt_forever();
}

static void acpi_reset(void)
{
	uint32_t flen, flags;
	const uint8_t *fadt = acpi_table("FACP", &flen);
	uint64_t port;

	if (!fadt || flen < FADT_RESET_VALUE + 1)
		return;
	memcpy(&flags, fadt + FADT_FLAGS, sizeof flags);
	if (!(flags & FADT_F_RESET_REG_SUP))
		return;
	memcpy(&port, fadt + FADT_RESET_REG + ACPI_GAS_ADDRESS, sizeof port);
	if (fadt[FADT_RESET_REG] == ACPI_GAS_SPACE_IO && port <= UINT16_MAX)
		outb((uint16_t)port, fadt[FADT_RESET_VALUE]);
	mdelay(OFF_WAIT_MS);
}

void power_reboot(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	kprintf("kestrel: rebooting\n");
	acpi_reset();
	irq_disable();
	for (int i = 0; i < KBC_WAIT_SPINS && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
		cpu_relax();
	outb(KBC_STATUS, KBC_CMD_RESET);
	/* A triple fault resets every PC. */
	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	cpu_halt_forever();
}
