/* CRC-32 (kernel/crc32.c), shared by the kernel and stage 2. */
#ifndef KERNEL_CRC32_H
#define KERNEL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32 of IEEE 802.3, ISO-HDLC and zlib's crc32(), which UEFI's GPT
 * uses (reflected polynomial 0xEDB88320, initial value and final XOR all
 * ones). crc32_update(crc32_update(0, a), b) == crc32 of a followed by b;
 * start with 0.
 */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
