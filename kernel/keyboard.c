/*
 * The kernel's keyboard (include/kernel/keyboard.h): one translation state
 * for every keyboard, under a lock because PS/2 (IRQ 1) and USB keyboards
 * deliver events on any CPU. The bytes go to the console input ring, the
 * one COM1 feeds, after the lock is dropped (console_input() takes its
 * own wait-queue lock and may interrupt the foreground program).
 */
#include <kernel/keyboard.h>
#include <kernel/spinlock.h>
#include <kernel/syscall.h>

static spinlock_t kbd_lock = SPINLOCK_INIT("keyboard");
/* Guarded by kbd_lock: */
static struct kbd_state kbd = { .num_lock = true };
static uint64_t nevents;

void kbd_key(uint8_t usage, bool down)
{
	char out[KBD_SEQ_MAX];
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	size_t n = kbd_translate(&kbd, usage, down, out);

	nevents++;
	spin_unlock_irqrestore(&kbd_lock, flags);
	if (n)
		console_input(out, n);
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

uint64_t kbd_events(void)
{
	uint64_t flags = spin_lock_irqsave(&kbd_lock);
	uint64_t n = nevents;

	spin_unlock_irqrestore(&kbd_lock, flags);
	return n;
}
