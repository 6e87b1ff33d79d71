/*
 * Power off and reset (ACPI 6.x 4.8.3.2 PM1 control, 7.4.2 \_S5, 4.8.3.6
 * reset register). Off: SLP_TYPa from the DSDT's \_S5 package with SLP_EN
 * into PM1a_CNT (and PM1b_CNT), after switching the chipset to ACPI mode
 * if needed; then QEMU's exit port; then a halt with a message. Reset: the
 * FADT reset register, the 8042 keyboard controller, then a triple fault.
 */
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/x86.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/pmm.h>
#include <kernel/power.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/time.h>

/* FADT offsets (ACPI 6.x table 5.9). */
#define FADT_DSDT               40
#define FADT_SMI_CMD            48
#define FADT_ACPI_ENABLE        52
#define FADT_PM1A_CNT           64
#define FADT_PM1B_CNT           68
#define FADT_FLAGS              112
#define   FADT_RESET_REG_SUP    (1u << 10)
#define FADT_RESET_REG          116     /* generic address structure */
#define FADT_RESET_VALUE        128
#define FADT_X_DSDT             140
#define GAS_SPACE_IO            1
#define ACPI_HDR_LEN            36
#define PM1_SCI_EN              (1u << 0)
#define PM1_SLP_TYP_SHIFT       10
#define PM1_SLP_EN              (1u << 13)
#define AML_NAME_OP             0x08
#define AML_PACKAGE_OP          0x12
#define AML_BYTE_PREFIX         0x0A
#define AML_ZERO_OP             0x00
#define AML_ONE_OP              0x01
#define ACPI_ENABLE_WAIT_MS     300
#define OFF_WAIT_MS             500     /* for the platform to cut power */
#define KBC_STATUS              0x64
#define   KBC_INPUT_FULL        0x02
#define KBC_CMD_RESET           0xFE
#define KBC_WAIT_SPINS          100000

static const uint8_t *acpi_table(const char *sig, uint32_t *len)
{
	uint64_t pa;

	if (platform_acpi_table(boot_info(), sig, &pa) < 0)
		return NULL;
	*len = *(const uint32_t *)((const uint8_t *)phys_to_virt(pa) + 4);
	return phys_to_virt(pa);
}

/* One AML integer (ByteConst, Zero or One) at *p; -1 if it is something else. */
static int aml_small_int(const uint8_t **p, const uint8_t *end)
{
	if (*p >= end)
		return -1;
	if (**p == AML_BYTE_PREFIX && *p + 1 < end) {
		int v = (*p)[1];
		*p += 2;
		return v;
	}
	if (**p == AML_ZERO_OP || **p == AML_ONE_OP)
		return *(*p)++;
	return -1;
}

/* SLP_TYPa and SLP_TYPb of \_S5 in the DSDT: Name(_S5_, Package() { a, b, ... }). */
static bool dsdt_s5(const uint8_t *dsdt, uint32_t len, int *a, int *b)
{
	const uint8_t *end = dsdt + len;

	for (const uint8_t *p = dsdt + ACPI_HDR_LEN; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) != 0 || (p[-1] != AML_NAME_OP && p[-2] != AML_NAME_OP))
			continue;
		const uint8_t *q = p + 4;
		if (*q++ != AML_PACKAGE_OP)
			continue;
		q += 1 + (*q >> 6);             /* PkgLength: lead byte + follow bytes */
		q++;                            /* NumElements */
		*a = aml_small_int(&q, end);
		*b = aml_small_int(&q, end);
		return *a >= 0;
	}
	return false;
}

static void acpi_power_off(void)
{
	uint32_t flen, dlen;
	const uint8_t *fadt = acpi_table("FACP", &flen), *dsdt;
	uint64_t dsdt_pa;
	int a, b = 0;

	if (!fadt || flen < FADT_PM1B_CNT + 4)
		return;
	dsdt_pa = flen >= FADT_X_DSDT + 8 && *(const uint64_t *)(fadt + FADT_X_DSDT) ?
		  *(const uint64_t *)(fadt + FADT_X_DSDT) : *(const uint32_t *)(fadt + FADT_DSDT);
	if (!dsdt_pa || dsdt_pa >= PMM_LOW_LIMIT)
		return;
	dsdt = phys_to_virt(dsdt_pa);
	dlen = *(const uint32_t *)(dsdt + 4);
	if (!dsdt_s5(dsdt, dlen, &a, &b)) {
		kprintf("power: no \\_S5 object in the DSDT\n");
		return;
	}
	uint16_t pm1a = (uint16_t)*(const uint32_t *)(fadt + FADT_PM1A_CNT);
	uint16_t pm1b = (uint16_t)*(const uint32_t *)(fadt + FADT_PM1B_CNT);
	uint32_t smi = *(const uint32_t *)(fadt + FADT_SMI_CMD);
	uint8_t enable = fadt[FADT_ACPI_ENABLE];

	/* Still in legacy (SMM) mode: ask the firmware to hand over. */
	if (!(inw(pm1a) & PM1_SCI_EN) && smi && enable) {
		outb((uint16_t)smi, enable);
		for (int ms = 0; ms < ACPI_ENABLE_WAIT_MS && !(inw(pm1a) & PM1_SCI_EN); ms++)
			mdelay(1);
	}
	outw(pm1a, (uint16_t)(a << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	if (pm1b)
		outw(pm1b, (uint16_t)(b << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	mdelay(OFF_WAIT_MS);
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
	uint32_t flen;
	const uint8_t *fadt = acpi_table("FACP", &flen);

	if (!fadt || flen < FADT_RESET_VALUE + 1 ||
	    !(*(const uint32_t *)(fadt + FADT_FLAGS) & FADT_RESET_REG_SUP))
		return;
	if (fadt[FADT_RESET_REG] == GAS_SPACE_IO)
		outb((uint16_t)*(const uint64_t *)(fadt + FADT_RESET_REG + 4), fadt[FADT_RESET_VALUE]);
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
