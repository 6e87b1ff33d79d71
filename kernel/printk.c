/*
 * kprintf: formats with kernel/format.c straight into every console. One
 * lock keeps lines from different CPUs from interleaving mid-line.
 */
#include <stdarg.h>
#include <kernel/console.h>
#include <kernel/format.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <arch/x86.h>

/* Raw lock: the lock-debug reports themselves print through here. */
static volatile uint32_t console_lock;

static void console_putc(char c, void *ctx)
{
	(void)ctx;
	serial_putc(c);
	vga_putc(c);
}

void console_write(const char *s, unsigned long len)
{
	while (len--)
		console_putc(*s++, 0);
}

int kvprintf(const char *fmt, va_list ap)
{
	uint64_t flags = read_rflags();
	int n;

	irq_disable();
	raw_spin_lock(&console_lock);
	n = kvformat(console_putc, 0, fmt, ap);
	raw_spin_unlock(&console_lock);
	if (flags & RFLAGS_IF)
		irq_enable();
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

void console_force_unlock(void)
{
	raw_spin_unlock(&console_lock);
}

void console_write_locked(const char *s, unsigned long len)
{
	uint64_t flags = read_rflags();

	irq_disable();
	raw_spin_lock(&console_lock);
	console_write(s, len);
	raw_spin_unlock(&console_lock);
	if (flags & RFLAGS_IF)
		irq_enable();
}
