/*
 * The keyboard layer every keyboard driver feeds (docs/keyboard.md).
 *
 * Keys are named by USB HID usage IDs of the Keyboard/Keypad page (0x07)
 * of the HID Usage Tables (HUT 1.3, section 10), whatever the hardware:
 * the PS/2 driver (drivers/i8042.c) translates scan codes to usages, a USB
 * HID keyboard delivers them already. Drivers that can light a keyboard's
 * Caps/Num/Scroll Lock LEDs register with kbd_register_leds(). The layer keeps the modifier and
 * lock state, turns key presses into bytes with a US layout and queues
 * the bytes on the console input (console_input(), kernel/syscall.c), the
 * same ring COM1 feeds; Ctrl-C there interrupts the foreground program.
 *
 * For a driver:
 *   kbd_key(usage, down)         one press (down) or release of one key.
 *                                Modifiers are keys too: 0xE0-0xE7.
 *   kbd_boot_report(&dev, rep)   a USB HID boot-protocol keyboard report
 *                                (8 bytes: modifier bitmap, reserved byte,
 *                                six key usages; HID 1.11 appendix B.1).
 *                                The layer diffs it against the previous
 *                                report of that device (struct kbd_report,
 *                                zero-initialised, one per keyboard) and
 *                                calls kbd_key for every change: key
 *                                releases first, then modifier changes,
 *                                then key presses. A report whose key
 *                                slots hold ErrorRollOver (0x01) is a
 *                                phantom state and changes nothing.
 * Both may be called from interrupt context on any CPU. The modifier
 * state is shared by all keyboards (one console), so a keyboard that goes
 * away should first release what it held: kbd_boot_report(&dev, all
 * zeros). The layer has no key repeat of its own: a PS/2 keyboard repeats
 * make codes itself, a USB boot keyboard does not (HID 1.11 leaves
 * typematic repeat to the host).
 *
 * The pure part (kernel/keymap.c, host-tested by tests/unit/test_keyboard.c):
 *   kbd_translate()  state + one key event -> bytes
 *   kbd_report_diff() previous + new boot report -> key events
 */
#ifndef KERNEL_KEYBOARD_H
#define KERNEL_KEYBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* HID Usage Tables 1.3, Keyboard/Keypad page (0x07), the usages named here. */
#define HID_KEY_NONE            0x00    /* no key in this report slot */
#define HID_KEY_ERR_ROLLOVER    0x01    /* too many keys down: report is a phantom state */
#define HID_KEY_POST_FAIL       0x02
#define HID_KEY_ERR_UNDEFINED   0x03
#define HID_KEY_A               0x04    /* ... 0x1D Z */
#define HID_KEY_Z               0x1D
#define HID_KEY_LETTER(c)       (HID_KEY_A + ((c) - 'a'))       /* c in 'a'..'z' */
#define HID_KEY_1               0x1E    /* ... 0x26 9 */
#define HID_KEY_0               0x27
#define HID_KEY_ENTER           0x28
#define HID_KEY_ESCAPE          0x29
#define HID_KEY_BACKSPACE       0x2A
#define HID_KEY_TAB             0x2B
#define HID_KEY_SPACE           0x2C
#define HID_KEY_MINUS           0x2D
#define HID_KEY_EQUAL           0x2E
#define HID_KEY_LEFTBRACE       0x2F
#define HID_KEY_RIGHTBRACE      0x30
#define HID_KEY_BACKSLASH       0x31
#define HID_KEY_NONUS_HASH      0x32
#define HID_KEY_SEMICOLON       0x33
#define HID_KEY_APOSTROPHE      0x34
#define HID_KEY_GRAVE           0x35
#define HID_KEY_COMMA           0x36
#define HID_KEY_DOT             0x37
#define HID_KEY_SLASH           0x38
#define HID_KEY_CAPSLOCK        0x39
#define HID_KEY_F1              0x3A    /* ... 0x45 F12 */
#define HID_KEY_F12             0x45
#define HID_KEY_SYSRQ           0x46    /* Print Screen */
#define HID_KEY_SCROLLLOCK      0x47
#define HID_KEY_PAUSE           0x48
#define HID_KEY_INSERT          0x49
#define HID_KEY_HOME            0x4A
#define HID_KEY_PAGEUP          0x4B
#define HID_KEY_DELETE          0x4C
#define HID_KEY_END             0x4D
#define HID_KEY_PAGEDOWN        0x4E
#define HID_KEY_RIGHT           0x4F
#define HID_KEY_LEFT            0x50
#define HID_KEY_DOWN            0x51
#define HID_KEY_UP              0x52
#define HID_KEY_NUMLOCK         0x53
#define HID_KEY_KPSLASH         0x54
#define HID_KEY_KPASTERISK      0x55
#define HID_KEY_KPMINUS         0x56
#define HID_KEY_KPPLUS          0x57
#define HID_KEY_KPENTER         0x58
#define HID_KEY_KP1             0x59    /* ... 0x61 keypad 9 */
#define HID_KEY_KP9             0x61
#define HID_KEY_KP0             0x62
#define HID_KEY_KPDOT           0x63
#define HID_KEY_102ND           0x64    /* Non-US \ and | */
#define HID_KEY_COMPOSE         0x65    /* Application */
#define HID_KEY_POWER           0x66
#define HID_KEY_KPEQUAL         0x67
#define HID_KEY_LEFTCTRL        0xE0    /* 0xE0-0xE7: the modifiers, bit (usage - 0xE0) */
#define HID_KEY_LEFTSHIFT       0xE1
#define HID_KEY_LEFTALT         0xE2
#define HID_KEY_LEFTMETA        0xE3
#define HID_KEY_RIGHTCTRL       0xE4
#define HID_KEY_RIGHTSHIFT      0xE5
#define HID_KEY_RIGHTALT        0xE6
#define HID_KEY_RIGHTMETA       0xE7

/* Modifier bitmap: byte 0 of a boot report, bit n = usage 0xE0 + n (HID 1.11 B.1). */
#define KBD_MOD_LCTRL           0x01
#define KBD_MOD_LSHIFT          0x02
#define KBD_MOD_LALT            0x04
#define KBD_MOD_LMETA           0x08
#define KBD_MOD_RCTRL           0x10
#define KBD_MOD_RSHIFT          0x20
#define KBD_MOD_RALT            0x40
#define KBD_MOD_RMETA           0x80
#define KBD_MOD_CTRL            (KBD_MOD_LCTRL | KBD_MOD_RCTRL)
#define KBD_MOD_SHIFT           (KBD_MOD_LSHIFT | KBD_MOD_RSHIFT)
#define KBD_MOD_ALT             (KBD_MOD_LALT | KBD_MOD_RALT)

/* Keyboard LEDs: the boot output report's bits (HID 1.11 B.1), also kbd_leds(). */
#define KBD_LED_NUM_LOCK        0x01
#define KBD_LED_CAPS_LOCK       0x02
#define KBD_LED_SCROLL_LOCK     0x04
#define KBD_LED_LISTENERS       4       /* drivers that can register for LED changes */

/* Boot keyboard input report (HID 1.11 appendix B.1). */
#define KBD_BOOT_REPORT_LEN     8
#define KBD_REPORT_MODS         0       /* byte: modifier bitmap */
#define KBD_REPORT_KEYS         2       /* bytes 2-7: usages of the keys down */
#define KBD_REPORT_NKEYS        6

/* Longest byte sequence one key press gives: Alt (ESC) + ESC [ 5 ~. */
#define KBD_SEQ_MAX             5
/* Most events one report diff gives: 8 modifiers + 6 releases + 6 presses. */
#define KBD_REPORT_EVENTS_MAX   (8 + 2 * KBD_REPORT_NKEYS)

/* Translation state: which modifiers are down and which locks are on. */
struct kbd_state {
	uint8_t mods;           /* KBD_MOD_* bits of the modifiers down */
	bool caps_lock;         /* toggled by each Caps Lock press; letters only */
	bool num_lock;          /* keypad digits (on) or keypad cursor keys (off) */
	bool scroll_lock;       /* toggled by Scroll Lock; only its LED shows it */
};

/* One keyboard's last boot report, for the diff. Zero-initialise. */
struct kbd_report {
	uint8_t prev[KBD_BOOT_REPORT_LEN];
};

struct kbd_event {
	uint8_t usage;
	bool down;
};

/* ---- pure (kernel/keymap.c) */

/* Num Lock on, everything else off: what a PC has after power-on. */
void kbd_state_init(struct kbd_state *st);
/*
 * Apply one key event to st and write the bytes it types to out (at most
 * KBD_SEQ_MAX); returns how many. Releases, modifiers, locks and usages
 * without a meaning here (F keys, unknown usages) type nothing.
 */
size_t kbd_translate(struct kbd_state *st, uint8_t usage, bool down, char out[KBD_SEQ_MAX]);
/* The lock state as KBD_LED_* bits. */
uint8_t kbd_led_bits(const struct kbd_state *st);
/*
 * Compare a new boot report with r->prev, write the key events to ev (at
 * most KBD_REPORT_EVENTS_MAX) and remember the report; returns how many.
 * An ErrorRollOver report gives none and is not remembered.
 */
size_t kbd_report_diff(struct kbd_report *r, const uint8_t report[KBD_BOOT_REPORT_LEN],
		       struct kbd_event ev[KBD_REPORT_EVENTS_MAX]);

/* ---- the kernel's keyboard (kernel/keyboard.c) */

void kbd_key(uint8_t usage, bool down);
void kbd_boot_report(struct kbd_report *r, const uint8_t report[KBD_BOOT_REPORT_LEN]);
/* The LEDs the keyboards should show now (KBD_LED_*). */
uint8_t kbd_leds(void);
/*
 * Call fn(leds) whenever a key changes the lock state, from whatever
 * context delivered that key (interrupts possibly off, no keyboard lock
 * held), and once now so a new keyboard starts in step. -1 when all
 * KBD_LED_LISTENERS slots are taken.
 */
int kbd_register_leds(void (*fn)(uint8_t leds));
/* Key events and typed bytes since boot, for tests and diagnostics. */
uint64_t kbd_events(void);

#endif
