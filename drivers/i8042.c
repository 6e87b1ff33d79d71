/*
 * The PS/2 keyboard through the 8042 controller (docs/keyboard.md).
 *
 * drivers/i8042_probe.c brings up the controller and the keyboard with
 * every wait bounded by clock time (time_ns()), so a machine without a
 * controller (QEMU -M q35,i8042=off: every port reads 0xFF) or without a
 * keyboard costs at most a few timeouts and one line. The keyboard speaks
 * scan code set 2 and the controller translates it to set 1 (command byte
 * bit 6), which drivers/ps2_decode.c turns into HID usages for the
 * keyboard layer (kernel/keyboard.c). The second (mouse) port stays
 * disabled. IRQ 1 arrives through the I/O APIC on the boot CPU; the
 * decoder is under i8042_lock because init (in the kinit thread, on any
 * CPU) drains once more after enabling the interrupt.
 */
#include <stdint.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/mmu.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/kernel.h>
#include <kernel/keyboard.h>
#include <kernel/printk.h>
#include <kernel/ps2.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/time.h>

#define IRQ_DRAIN_MAX           32      /* bytes one interrupt reads at most */
#define FADT_LENGTH_OFFSET      4       /* ACPI table header: length */

static spinlock_t i8042_lock = SPINLOCK_INIT("i8042");
/* Guarded by i8042_lock: */
static struct ps2_decoder decoder;
static struct i8042_leds leds;

static uint8_t port_in(uint16_t port)
{
	return inb(port);
}

static void port_out(uint16_t port, uint8_t v)
{
	outb(port, v);
}

static const struct i8042_io hw_io = {
	.in = port_in, .out = port_out, .now_ns = time_ns, .relax = cpu_relax,
};

/* Edge triggered: read everything, or the line never rises again. */
static void drain(void)
{
	struct kbd_event ev[IRQ_DRAIN_MAX];
	uint64_t flags = spin_lock_irqsave(&i8042_lock);
	int n = 0;
	uint8_t st;

	for (int i = 0; i < IRQ_DRAIN_MAX && ((st = inb(I8042_STATUS)) & I8042_STATUS_OBF); i++) {
		uint8_t byte = inb(I8042_DATA);

		if (st & I8042_STATUS_AUX)
			continue;       /* port 2 is disabled; a stray byte is dropped */
		if (i8042_leds_byte(&hw_io, &leds, byte))
			continue;       /* the keyboard answering an LED command */
		if (ps2_set1_decode(&decoder, byte, &ev[n]))
			n++;
	}
	spin_unlock_irqrestore(&i8042_lock, flags);
	for (int i = 0; i < n; i++)
		kbd_key(ev[i].usage, ev[i].down);
}

/* kbd_register_leds(): Caps, Num and Scroll Lock on the keyboard's LEDs. */
static void set_leds(uint8_t hid_leds)
{
	uint64_t flags = spin_lock_irqsave(&i8042_lock);

	i8042_leds_request(&hw_io, &leds, hid_leds);
	spin_unlock_irqrestore(&i8042_lock, flags);
}

static void i8042_irq(struct trap_frame *tf)
{
	(void)tf;
	drain();
}

/* "FADT: 8042" etc., for the one line; the probe decides. */
static const char *fadt_hint(void)
{
	uint64_t pa;
	const uint8_t *fadt;

	if (platform_acpi_table(boot_info(), "FACP", &pa) < 0)
		return "no FADT";
	fadt = phys_to_virt(pa);
	switch (fadt_has_8042(fadt, *(const uint32_t *)(fadt + FADT_LENGTH_OFFSET))) {
	case 1:
		return "FADT: 8042";
	case 0:
		return "FADT: no 8042";
	default:
		return "FADT: silent on 8042";
	}
}

void i8042_init(void)
{
	struct i8042_probe p;
	uint64_t t0 = time_ns();

	i8042_probe(&hw_io, &p);
	if (p.found == I8042_NONE) {
		kprintf("i8042: no PS/2 controller (%s; %s; %lu us)\n", p.why, fadt_hint(),
			(time_ns() - t0) / NS_PER_US);
		return;
	}
	if (p.found == I8042_NO_KEYBOARD) {
		kprintf("i8042: PS/2 controller, %s (%s; %lu us)\n", p.why, fadt_hint(),
			(time_ns() - t0) / NS_PER_US);
		return;
	}
	/*
	 * Bytes from here on belong to the interrupt handler. The pin is
	 * unmasked before the controller may raise it: an edge while masked
	 * would be lost and leave a byte that blocks every later one; the
	 * drain after it catches a byte that came in between.
	 */
	irq_register(VEC_IRQ_BASE + ISA_IRQ_KBD, i8042_irq);
	ioapic_mask_isa(ISA_IRQ_KBD, 0);
	if (!i8042_enable_irq(&hw_io, p.config)) {
		ioapic_mask_isa(ISA_IRQ_KBD, 1);
		kprintf("i8042: PS/2 controller, command byte not accepted (%s)\n", fadt_hint());
		return;
	}
	drain();
	kbd_register_leds(set_leds);
	kprintf("i8042: PS/2 keyboard on port 1, scan code set 2 translated to set 1, IRQ %u "
		"(%s; %lu us)\n", ISA_IRQ_KBD, fadt_hint(), (time_ns() - t0) / NS_PER_US);
}
