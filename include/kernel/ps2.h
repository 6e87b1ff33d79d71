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

/* ---- the 8042 controller (IBM PC AT technical reference) */

#define I8042_DATA              0x60    /* read: output buffer; write: to the keyboard */
#define I8042_STATUS            0x64    /* read: status register */
#define I8042_CMD               0x64    /* write: controller command */
#define   I8042_STATUS_OBF      0x01    /* output buffer full: a byte to read at 0x60 */
#define   I8042_STATUS_IBF      0x02    /* input buffer full: controller busy */
#define   I8042_STATUS_AUX      0x20    /* the byte in the output buffer is from port 2 */
#define   I8042_STATUS_ABSENT   0xFF    /* what an empty I/O port reads */

#define I8042_CMD_READ_CONFIG   0x20    /* -> the command byte */
#define I8042_CMD_WRITE_CONFIG  0x60    /* <- the command byte */
#define I8042_CMD_DISABLE_PORT2 0xA7
#define I8042_CMD_SELF_TEST     0xAA    /* -> I8042_SELF_TEST_OK */
#define   I8042_SELF_TEST_OK    0x55
#define I8042_CMD_TEST_PORT1    0xAB    /* -> 0 when the clock and data lines are fine */
#define   I8042_PORT_TEST_OK    0x00
#define I8042_CMD_DISABLE_PORT1 0xAD
#define I8042_CMD_ENABLE_PORT1  0xAE

#define I8042_CONFIG_PORT1_IRQ  0x01    /* command byte: IRQ 1 on keyboard data */
#define I8042_CONFIG_PORT2_IRQ  0x02    /* IRQ 12 on port 2 data */
#define I8042_CONFIG_PORT1_CLOCK_OFF 0x10
#define I8042_CONFIG_PORT2_CLOCK_OFF 0x20
#define I8042_CONFIG_TRANSLATE  0x40    /* set 2 -> set 1 translation */

/* Keyboard commands and replies (IBM PS/2 keyboard). */
#define KBD_CMD_SET_LEDS        0xED    /* then the LED byte */
#define   KBD_PS2_LED_SCROLL    0x01
#define   KBD_PS2_LED_NUM       0x02
#define   KBD_PS2_LED_CAPS      0x04
#define KBD_CMD_SET_SCANCODE    0xF0    /* then the set number */
#define   KBD_SCANCODE_SET2     0x02
#define KBD_CMD_ENABLE          0xF4    /* start sending scan codes */
#define KBD_CMD_RESET           0xFF    /* -> ACK, then the self-test (BAT) result */
#define KBD_ACK                 0xFA
#define KBD_RESEND              0xFE
#define KBD_BAT_OK              0xAA

#define I8042_TIMEOUT_MS        500     /* one controller or keyboard answer (as long as Linux waits) */
#define KBD_BAT_TIMEOUT_MS      1000    /* the keyboard's self-test after reset (~500 ms at most) */
#define KBD_SEND_TRIES          3       /* a byte the keyboard asks to resend */
#define I8042_FLUSH_MAX         64      /* stale bytes drained at start */
#define I8042_IRQ_WRITE_US      1000    /* input buffer wait for a write from interrupt context */

/* Port I/O and a clock: the real ones in drivers/i8042.c, a model in tests/unit/test_ps2.c. */
struct i8042_io {
	uint8_t (*in)(uint16_t port);
	void (*out)(uint16_t port, uint8_t v);
	uint64_t (*now_ns)(void);
	void (*relax)(void);    /* between two status polls */
};

enum i8042_found {
	I8042_NONE,             /* no controller, or one that does not work */
	I8042_NO_KEYBOARD,      /* a working controller, nothing usable on port 1 */
	I8042_KEYBOARD,         /* port 1 enabled, keyboard reset, set 2, scanning */
};

struct i8042_probe {
	enum i8042_found found;
	const char *why;        /* what failed, for the one line; NULL with a keyboard */
	uint8_t config;         /* the command byte to keep (IRQs still off) */
};

/*
 * Find the controller and the keyboard on port 1 and start it, with every
 * wait bounded by I8042_TIMEOUT_MS (KBD_BAT_TIMEOUT_MS for the keyboard's
 * self-test) of io->now_ns() time (drivers/i8042_probe.c). Port 2 is left
 * disabled; without a keyboard port 1 is disabled again.
 */
void i8042_probe(const struct i8042_io *io, struct i8042_probe *out);
/* Write the command byte with the keyboard's IRQ and clock on; false if refused. */
bool i8042_enable_irq(const struct i8042_io *io, uint8_t config);

/*
 * The keyboard's LEDs, set with KBD_CMD_SET_LEDS and its argument, each
 * answered by an ACK that arrives among the scan codes: a small state
 * machine driven by requests and by the bytes the interrupt handler reads,
 * so nothing waits for the keyboard. A request while one is under way is
 * sent when it ends (the newest wins); an exchange the keyboard never
 * answers is abandoned by the next request after I8042_TIMEOUT_MS, one it
 * keeps asking to resend after KBD_SEND_TRIES resends.
 * The caller serialises (drivers/i8042.c: under i8042_lock).
 */
enum i8042_led_phase { LEDS_IDLE, LEDS_WAIT_CMD_ACK, LEDS_WAIT_ARG_ACK };

struct i8042_leds {
	enum i8042_led_phase phase;
	uint8_t want;           /* KBD_PS2_LED_* to show */
	uint8_t sent;           /* the argument of the exchange under way */
	uint64_t since_ns;      /* when that exchange's last byte went out */
	uint8_t resends;        /* of the byte under way, at most KBD_SEND_TRIES */
	uint32_t errors;        /* writes the controller did not take */
};

/* HID LED bits (KBD_LED_*) to the keyboard's LED byte. */
uint8_t i8042_led_byte(uint8_t hid_leds);
/* Show hid_leds (KBD_LED_*). */
void i8042_leds_request(const struct i8042_io *io, struct i8042_leds *l, uint8_t hid_leds);
/* A byte from the keyboard: true if it was an answer to the LED exchange (consumed). */
bool i8042_leds_byte(const struct i8042_io *io, struct i8042_leds *l, uint8_t byte);

/* Find and start the PS/2 keyboard; prints one line saying what it found. */
void i8042_init(void);

#endif
