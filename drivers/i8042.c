/*
 * The PS/2 keyboard through the 8042 controller (docs/keyboard.md).
 *
 * References: the IBM PC AT technical reference (8042 commands, status
 * and command byte), the IBM keyboard commands (reset, set scan code set,
 * enable), and how QEMU's hw/input/pckbd.c and ps2.c model them.
 *
 * Every wait is bounded by I8042_TIMEOUT_MS of clock time (time_ns()), so
 * a machine without a controller (QEMU -M q35,i8042=off: every port reads
 * 0xFF) or without a keyboard costs at most a few timeouts and one line.
 * The keyboard speaks scan code set 2 and the controller translates it to
 * set 1 (command byte bit 6), which drivers/ps2_decode.c turns into HID
 * usages for the keyboard layer (kernel/keyboard.c). The second (mouse)
 * port stays disabled. IRQ 1 arrives through the I/O APIC on the boot
 * CPU; the decoder is under i8042_lock because init (in the kinit thread,
 * on any CPU) drains once more after enabling the interrupt.
 */
#include <stdint.h>
#include <arch/ioapic.h>
#include <arch/lapic.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <kernel/keyboard.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/ps2.h>
#include <kernel/smp.h>
#include <kernel/time.h>
#include <kernel/spinlock.h>
#include <arch/mmu.h>

#define I8042_DATA              0x60    /* read: output buffer; write: to the keyboard */
#define I8042_STATUS            0x64    /* read: status register */
#define I8042_CMD               0x64    /* write: controller command */
#define   STATUS_OBF            0x01    /* output buffer full: a byte to read at 0x60 */
#define   STATUS_IBF            0x02    /* input buffer full: controller busy */
#define   STATUS_AUX            0x20    /* the byte in the output buffer is from port 2 */
#define   STATUS_ABSENT         0xFF    /* what an empty I/O port reads */

#define CMD_READ_CONFIG         0x20    /* -> the command byte */
#define CMD_WRITE_CONFIG        0x60    /* <- the command byte */
#define CMD_DISABLE_PORT2       0xA7
#define CMD_SELF_TEST           0xAA    /* -> SELF_TEST_OK */
#define   SELF_TEST_OK          0x55
#define CMD_TEST_PORT1          0xAB    /* -> 0 when the clock and data lines are fine */
#define   PORT_TEST_OK          0x00
#define CMD_DISABLE_PORT1       0xAD
#define CMD_ENABLE_PORT1        0xAE

#define CONFIG_PORT1_IRQ        0x01    /* command byte: IRQ 1 on keyboard data */
#define CONFIG_PORT2_IRQ        0x02
#define CONFIG_PORT1_CLOCK_OFF  0x10
#define CONFIG_PORT2_CLOCK_OFF  0x20
#define CONFIG_TRANSLATE        0x40    /* set 2 -> set 1 translation */

#define KBD_CMD_SET_SCANCODE    0xF0    /* then the set number */
#define   KBD_SCANCODE_SET2     0x02
#define KBD_CMD_ENABLE          0xF4    /* start sending scan codes */
#define KBD_CMD_RESET           0xFF    /* -> ACK, then BAT result */
#define KBD_ACK                 0xFA
#define KBD_RESEND              0xFE
#define KBD_BAT_OK              0xAA

#define I8042_TIMEOUT_MS        50      /* one controller or keyboard answer */
#define KBD_BAT_TIMEOUT_MS      1000    /* the keyboard's self-test after reset (up to ~500 ms) */
#define KBD_SEND_TRIES          3       /* a byte the keyboard asks to resend */
#define FLUSH_MAX               64      /* stale bytes drained at start */
#define IRQ_DRAIN_MAX           32      /* bytes one interrupt reads at most */
#define FADT_LENGTH_OFFSET      4

static spinlock_t i8042_lock = SPINLOCK_INIT("i8042");
static struct ps2_decoder decoder;      /* guarded by i8042_lock */

static uint8_t status(void)
{
	return inb(I8042_STATUS);
}

/* Wait until status & mask == want, at most ms; false on timeout. */
static bool wait_status(uint8_t mask, uint8_t want, uint64_t ms)
{
	uint64_t deadline = time_ns() + ms * NS_PER_MS;

	do {
		if ((status() & mask) == want)
			return true;
		cpu_relax();
	} while (time_ns() < deadline);
	return (status() & mask) == want;
}

static bool write_port(uint16_t port, uint8_t v)
{
	if (!wait_status(STATUS_IBF, 0, I8042_TIMEOUT_MS))
		return false;
	outb(port, v);
	return true;
}

/* A byte from the output buffer within ms, or -1. */
static int read_data(uint64_t ms)
{
	if (!wait_status(STATUS_OBF, STATUS_OBF, ms))
		return -1;
	return inb(I8042_DATA);
}

/* A controller command with no answer. */
static bool command(uint8_t cmd)
{
	return write_port(I8042_CMD, cmd);
}

/* A controller command answered by one byte; -1 on timeout. */
static int command_read(uint8_t cmd)
{
	return command(cmd) ? read_data(I8042_TIMEOUT_MS) : -1;
}

static bool write_config(uint8_t config)
{
	return command(CMD_WRITE_CONFIG) && write_port(I8042_DATA, config);
}

/* One byte to the keyboard, resent when it asks; the reply (ACK) or -1. */
static int kbd_send(uint8_t v)
{
	int r = -1;

	for (int i = 0; i < KBD_SEND_TRIES; i++) {
		if (!write_port(I8042_DATA, v))
			return -1;
		r = read_data(I8042_TIMEOUT_MS);
		if (r != KBD_RESEND)
			return r;
	}
	return r;
}

/* Edge triggered: read everything, or the line never rises again. */
static void drain(void)
{
	struct kbd_event ev[IRQ_DRAIN_MAX];
	uint64_t flags = spin_lock_irqsave(&i8042_lock);
	int n = 0;
	uint8_t st;

	for (int i = 0; i < IRQ_DRAIN_MAX && ((st = status()) & STATUS_OBF); i++) {
		uint8_t byte = inb(I8042_DATA);

		if (st & STATUS_AUX)
			continue;       /* port 2 is disabled; a stray byte is dropped */
		if (ps2_set1_decode(&decoder, byte, &ev[n]))
			n++;
	}
	spin_unlock_irqrestore(&i8042_lock, flags);
	for (int i = 0; i < n; i++)
		kbd_key(ev[i].usage, ev[i].down);
}

static void i8042_irq(struct trap_frame *tf)
{
	(void)tf;
	drain();
}

/* "FADT: 8042 flag set" etc., for the one line; the probe decides. */
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

/* The controller, up to a working port 1; NULL or why it is not usable. */
static const char *controller_init(uint8_t *config)
{
	int c;

	if (status() == STATUS_ABSENT)
		return "status port reads 0xff";
	/* Quiet both ports, then drop whatever the firmware left behind. */
	if (!command(CMD_DISABLE_PORT1) || !command(CMD_DISABLE_PORT2))
		return "commands not accepted";
	for (int i = 0; i < FLUSH_MAX && (status() & STATUS_OBF); i++)
		inb(I8042_DATA);
	if ((c = command_read(CMD_READ_CONFIG)) < 0)
		return "no command byte";
	*config = (uint8_t)((c & ~(CONFIG_PORT1_IRQ | CONFIG_PORT2_IRQ)) | CONFIG_TRANSLATE |
			    CONFIG_PORT2_CLOCK_OFF);
	if (!write_config(*config))
		return "command byte not accepted";
	if ((c = command_read(CMD_SELF_TEST)) != SELF_TEST_OK)
		return c < 0 ? "no answer to the self-test" : "self-test failed";
	/* Some controllers reset the command byte in the self-test. */
	if (!write_config(*config))
		return "command byte not accepted";
	if ((c = command_read(CMD_TEST_PORT1)) != PORT_TEST_OK)
		return c < 0 ? "no answer to the port 1 test" : "port 1 test failed";
	return NULL;
}

/* Reset the keyboard on port 1 and start it; NULL or why not. */
static const char *keyboard_init(void)
{
	int r;

	if ((r = kbd_send(KBD_CMD_RESET)) != KBD_ACK)
		return r < 0 ? "no keyboard on port 1" : "keyboard refused reset";
	if ((r = read_data(KBD_BAT_TIMEOUT_MS)) != KBD_BAT_OK)
		return r < 0 ? "keyboard self-test: no answer" : "keyboard self-test failed";
	if (kbd_send(KBD_CMD_SET_SCANCODE) != KBD_ACK || kbd_send(KBD_SCANCODE_SET2) != KBD_ACK)
		return "keyboard refused scan code set 2";
	if (kbd_send(KBD_CMD_ENABLE) != KBD_ACK)
		return "keyboard refused enable";
	return NULL;
}

void i8042_init(void)
{
	uint8_t config = 0;
	const char *why = controller_init(&config);

	if (why) {
		kprintf("i8042: no PS/2 controller (%s; %s)\n", why, fadt_hint());
		return;
	}
	if (!command(CMD_ENABLE_PORT1)) {
		kprintf("i8042: PS/2 controller, port 1 cannot be enabled (%s)\n", fadt_hint());
		return;
	}
	why = keyboard_init();
	if (why) {
		command(CMD_DISABLE_PORT1);
		kprintf("i8042: PS/2 controller, %s (%s)\n", why, fadt_hint());
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
	config = (uint8_t)((config | CONFIG_PORT1_IRQ) & ~CONFIG_PORT1_CLOCK_OFF);
	if (!write_config(config)) {
		ioapic_mask_isa(ISA_IRQ_KBD, 1);
		command(CMD_DISABLE_PORT1);
		kprintf("i8042: PS/2 controller, command byte not accepted (%s)\n", fadt_hint());
		return;
	}
	drain();
	kprintf("i8042: PS/2 keyboard on port 1, scan code set 2 translated to set 1, IRQ %u (%s)\n",
		ISA_IRQ_KBD, fadt_hint());
}
