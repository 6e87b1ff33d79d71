/*
 * The kernel's keyboard (include/kernel/keyboard.h): one translation state
 * for every keyboard, under a lock because PS/2 (IRQ 1) and USB keyboards
 * deliver events on any CPU. The bytes go to the console input ring, the
 * one COM1 feeds, after the lock is dropped (console_input() takes its
 * own wait-queue lock and may interrupt the foreground program); so do
 * the LED listeners, which talk to their keyboards under their own locks.
 */
#include <kernel/keyboard.h>
#include <kernel/spinlock.h>
#include <kernel/syscall.h>

typedef void (*led_fn)(uint8_t leds);

static spinlock_t kbd_lock = SPINLOCK_INIT("keyboard");
/* Guarded by kbd_lock: */
static struct kbd_state kbd = { .num_lock = true };
static uint64_t nevents;
static led_fn led_listeners[KBD_LED_LISTENERS];

/* Copy the listeners out, to call them with no lock held. */
static int listeners(led_fn out[KBD_LED_LISTENERS])
{
	int n = 0;

	for (int i = 0; i < KBD_LED_LISTENERS; i++)
		if (led_listeners[i])
			out[n++] = led_listeners[i];
	return n;
}

void kbd_key(uint8_t usage, bool down)
{
	char out[KBD_SEQ_MAX];
	led_fn fns[KBD_LED_LISTENERS];
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	uint8_t leds_before = kbd_led_bits(&kbd);
	size_t n = kbd_translate(&kbd, usage, down, out);
	uint8_t leds = kbd_led_bits(&kbd);
	int nfns = leds != leds_before ? listeners(fns) : 0;

	nevents++;
	spin_unlock_irqrestore(&kbd_lock, flags);
	if (n)
		console_input(out, n);
	for (int i = 0; i < nfns; i++)
		fns[i](leds);
}

void kbd_boot_report(struct kbd_report *r, const uint8_t report[KBD_BOOT_REPORT_LEN])
{
	struct kbd_event ev[KBD_REPORT_EVENTS_MAX];
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	size_t n = kbd_report_diff(r, report, ev);

	spin_unlock_irqrestore(&kbd_lock, flags);
	for (size_t i = 0; i < n; i++)
		kbd_key(ev[i].usage, ev[i].down);
}

uint8_t kbd_leds(void)
{
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	uint8_t leds = kbd_led_bits(&kbd);

	spin_unlock_irqrestore(&kbd_lock, flags);
	return leds;
}

int kbd_register_leds(void (*fn)(uint8_t leds))
{
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	uint8_t leds = kbd_led_bits(&kbd);
	int slot = -1;

	for (int i = 0; i < KBD_LED_LISTENERS && slot < 0; i++)
		if (!led_listeners[i])
			slot = i;
	if (slot >= 0)
		led_listeners[slot] = fn;
	spin_unlock_irqrestore(&kbd_lock, flags);
	if (slot >= 0)
		fn(leds);
	return slot < 0 ? -1 : 0;
}

uint64_t kbd_events(void)
{
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	uint64_t n = nevents;

	spin_unlock_irqrestore(&kbd_lock, flags);
	return n;
}
