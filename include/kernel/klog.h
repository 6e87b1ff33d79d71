/*
 * The kernel log (kernel/klog.c): a fixed ring holding everything kprintf
 * and the panic path wrote since boot, each line prefixed with
 * "[seconds.microseconds cN] " (time since time_init(), CPU id). User
 * programs' console output (SYS_write) is not logged. Read by SYS_dmesg and
 * by tools/gdb/kestrel.py (kestrel-dmesg), which finds klog_buf and
 * klog_head by name in a stopped kernel (docs/debugging.md).
 *
 * The log is guarded by the console lock of kernel/printk.c, the raw lock
 * panic() takes over with console_force_unlock(): writers already hold it
 * while they print, so the log adds no lock a panic could find held, and
 * nothing here allocates.
 */
#ifndef KERNEL_KLOG_H
#define KERNEL_KLOG_H

#include <stddef.h>
#include <stdint.h>

#define KLOG_SIZE               (64 * 1024)     /* bytes; a power of two */

/* Appends one byte (a line prefix first at a line start). Caller holds the console lock. */
void klog_putc(char c);

/*
 * [*start, *end): absolute log positions of the newest whole lines that fit
 * in max bytes, oldest first. Positions count every byte ever logged, so a
 * position stays meaningful while the ring wraps underneath a reader.
 */
void klog_tail(uint64_t max, uint64_t *start, uint64_t *end);
/*
 * Copies bytes from absolute position pos on, at most len and never past
 * end; returns the count, 0 if pos has already been overwritten.
 */
size_t klog_read(uint64_t pos, uint64_t end, char *buf, size_t len);

/* The console lock, for log readers (kernel/printk.c). Returns the RFLAGS to restore. */
uint64_t console_lock_irqsave(void);
void console_unlock_irqrestore(uint64_t flags);

#endif
