/* Kernel console output: kprintf goes to every console (serial, VGA). */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Raw write to the consoles, no formatting (panic and trap paths). */
void console_write(const char *s, unsigned long len);
/* console_write under the console lock: user output (fd 1/2), not kept in the kernel log. */
void console_write_locked(const char *s, unsigned long len);
/* Panic path only: take the console even if another context holds it. */
void console_force_unlock(void);

#endif
