/*
 * Formatted output on the console. The engine is the kernel's kvformat
 * (kernel/format.c: %d %i %u %x %X %c %s %p %%, flags, width, precision,
 * hh h l ll z j t). Output is unbuffered: each call is written with as few
 * SYS_write calls as possible (one when it fits in 256 bytes), so lines
 * from different processes and threads do not mix.
 */
#ifndef USER_STDIO_H
#define USER_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define STDIN_FILENO    0
#define STDOUT_FILENO   1
#define STDERR_FILENO   2

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vdprintf(int fd, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int puts(const char *s);
int putchar(int c);

#endif
