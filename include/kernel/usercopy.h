/*
 * The only ways the kernel touches user memory (docs/syscalls.md): every
 * pointer is range-checked, and a fault during the copy becomes -EFAULT
 * through an exception fixup instead of a kernel fault. With SMAP on, user
 * pages are reachable only inside these helpers (STAC/CLAC).
 */
#ifndef KERNEL_USERCOPY_H
#define KERNEL_USERCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [addr, addr + len) lies in the user half, above page 0, without wrapping. */
bool user_range_ok(uint64_t addr, uint64_t len);
/* Every page of the range is mapped in the current space (writable if asked). */
bool user_range_mapped(uint64_t addr, uint64_t len, bool write);
int copy_from_user(void *dst, uint64_t src, size_t len);
int copy_to_user(uint64_t dst, const void *src, size_t len);
/* Copies a NUL-terminated string; its length, -EFAULT, or -ERANGE if longer than max-1. */
int strncpy_from_user(char *dst, uint64_t src, size_t max);

#endif
