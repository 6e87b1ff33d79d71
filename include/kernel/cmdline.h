/*
 * Kernel command line (kernel/cmdline.c): words separated by blanks, each
 * `key=value` or a bare `flag`; double quotes group blanks into a value.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_ABSENT  (-1)    /* cmdline_get*(): the key is not there */

/*
 * Copies the value of the LAST word whose key is `key` (later words, e.g.
 * appended from QEMU fw_cfg, override earlier ones) into out, without its
 * quotes; a bare word has the value "". Returns the value's length,
 * CMDLINE_ABSENT, or -ERANGE when it was cut to fit. out is always
 * terminated when outlen > 0. A NULL cmdline is an empty one.
 */
int cmdline_get(const char *cmdline, const char *key, char *out, size_t outlen);

/* True when some word has the key `key`, with or without a value. */
bool cmdline_has(const char *cmdline, const char *key);

/*
 * Appends words to the string in dst (a buffer of dstlen bytes), with one
 * separating space when both are non-empty. Returns 0, -EINVAL when dst
 * is not terminated within dstlen, or -ERANGE (dst unchanged) when the
 * result would not fit.
 */
int cmdline_append(char *dst, size_t dstlen, const char *words);

/*
 * Parses the value of `key` as decimal or 0x-hex with an optional K, M or
 * G (binary) suffix. Returns 0, CMDLINE_ABSENT, -EINVAL when malformed or
 * -ERANGE when it overflows 64 bits; *out is only written on success.
 */
int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);

#endif
