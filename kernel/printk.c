/*
 * kprintf: formats with kernel/format.c straight into every console and
 * the kernel log (kernel/klog.c). One lock keeps lines from different CPUs
 * from interleaving mid-line; it also guards the log.
 */
#include <stdarg.h>
#include <kernel/console.h>
#include <kernel/fbcon.h>
#include <kernel/format.h>
#include <kernel/klog.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <arch/x86.h>

/* Raw lock: the lock-debug reports themselves print through here. */
static volatile uint32_t console_lock;

static void console_out(char c)
{
	serial_putc(c);
	vga_putc(c);
	fbcon_putc(c);
}

/* Kernel output: the consoles and the log. */
static void console_putc(char c, void *ctx)
{
	(void)ctx;
	klog_putc(c);
	console_out(c);
}

/* Raw, for the panic and trap paths: logged too, a panic report belongs in dmesg. */
void console_write(const char *s, unsigned long len)
{
	while (len--)
		console_putc(*s++, 0);
}

uint64_t console_lock_irqsave(void)
{
	uint64_t flags = read_rflags();

	irq_disable();
	raw_spin_lock(&console_lock);
	return flags;
}

void console_unlock_irqrestore(uint64_t flags)
{
	raw_spin_unlock(&console_lock);
	if (flags & RFLAGS_IF)
		irq_enable();
}

int kvprintf(const char *fmt, va_list ap)
{
	uint64_t flags = console_lock_irqsave();
	int n = kvformat(console_putc, 0, fmt, ap);

	console_unlock_irqrestore(flags);
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

/* User programs' output (SYS_write): the consoles only, not the kernel log. */
void console_write_locked(const char *s, unsigned long len)
{
	uint64_t flags = console_lock_irqsave();

	while (len--)
		console_out(*s++);
	console_unlock_irqrestore(flags);
}
