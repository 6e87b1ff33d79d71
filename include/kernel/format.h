/*
 * The printf engine behind kprintf and ksnprintf (kernel/format.c): a
 * C99 7.19.6.1 subset, see format.c for what is supported.
 */
#ifndef KERNEL_FORMAT_H
#define KERNEL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Formats into a character sink: out(c, ctx) is called once per produced
 * character. Returns the number of characters produced (INT_MAX if more).
 */
int kvformat(void (*out)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/*
 * C99 snprintf semantics: writes at most size-1 characters plus a NUL
 * (nothing when size is 0, buf may then be NULL) and returns the length
 * the full output would have had.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Kernel extension %pS: prints a code address as "symbol+0xoffset" through
 * this lookup (kernel/ksyms.c), or as %p when it returns NULL or is unset.
 */
typedef const char *(*kformat_symbolizer_fn)(uint64_t addr, uint64_t *off);
void kformat_set_symbolizer(kformat_symbolizer_fn fn);

#endif
