/*
 * The PS/2 keyboard behind the i8042 controller (drivers/i8042.c, docs/keyboard.md)
 * and the pure decoding it needs (drivers/ps2_decode.c, host-tested by
 * tests/unit/test_ps2.c).
 */
#ifndef KERNEL_PS2_H
#define KERNEL_PS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/keyboard.h>

/* Scan code set 1 bytes (what the controller's translation delivers). */
#define PS2_SET1_BREAK          0x80    /* make code | 0x80: the key's release */
#define PS2_SET1_EXT            0xE0    /* the next code is from the extended table */
#define PS2_SET1_PAUSE          0xE1    /* Pause: E1 1D 45 (press), E1 9D C5 (release) */
#define PS2_SET1_CODES          0x80

/* Decoder state between bytes: a pending E0 or E1 prefix. Zero-initialise. */
struct ps2_decoder {
	uint8_t prefix;         /* 0, PS2_SET1_EXT or PS2_SET1_PAUSE */
	uint8_t pause_bytes;    /* bytes of the E1 sequence seen after E1 */
	uint8_t pause_first;    /* the first of them */
};

/*
 * One byte of scan code set 1 from the keyboard: true with *ev filled when
 * it completes a key event. Prefixes, the fake shifts some keyboards wrap
 * around extended keys (E0 2A, E0 AA, E0 36, E0 B6), keyboard replies that
 * reach the data stream (ACK 0xFA, resend, echo, overrun) and codes with
 * no Keyboard-page usage give false.
 */
bool ps2_set1_decode(struct ps2_decoder *d, uint8_t byte, struct kbd_event *ev);
/* The HID usage of a set 1 make code (extended: after E0), 0 if none. */
uint8_t ps2_set1_usage(uint8_t code, bool extended);

/*
 * The ACPI FADT's word on an 8042 (IAPC_BOOT_ARCH bit 1, FADT revision 2+):
 * 1 present, 0 absent, -1 when the table cannot say (too short, older
 * revision, not a FADT). A hint only: drivers/i8042.c probes anyway.
 */
int fadt_has_8042(const void *fadt, size_t len);

/* Find and start the PS/2 keyboard; prints one line saying what it found. */
void i8042_init(void);

#endif
