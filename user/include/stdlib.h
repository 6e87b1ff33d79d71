/* Memory allocation, process exit and number parsing for Kestrel programs. */
#ifndef USER_STDLIB_H
#define USER_STDLIB_H

#include <stddef.h>

/*
 * Small blocks come from the SYS_sbrk heap (a free list with coalescing),
 * big ones from SYS_mmap; see user/lib/umalloc.c. Thread-safe.
 */
void *malloc(size_t size);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);

/* Ends the whole process (all threads) with status & 0xFF. */
__attribute__((noreturn)) void exit(int status);
/* Reports "abort" on stderr and exits with status ABORT_STATUS. */
#define ABORT_STATUS    127
__attribute__((noreturn)) void abort(void);

/*
 * C99 7.20.1.4 without errno: out-of-range values saturate at LONG_MIN,
 * LONG_MAX or ULONG_MAX. base 0 means decimal, 0x-prefixed hex or 0-prefixed octal.
 */
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
int atoi(const char *s);

#endif
