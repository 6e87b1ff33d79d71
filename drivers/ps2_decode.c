/*
 * PS/2 scan codes to HID usages (include/kernel/ps2.h). The keyboard
 * speaks scan code set 2; the i8042 translates it to set 1 (IBM PC AT
 * technical reference; Microsoft "Keyboard Scan Code Specification" rev
 * 1.3a, appendix C, lists set 1 and the HID usage of each key). Pure, so
 * tests/unit/test_ps2.c runs it on the host.
 */
#include <kernel/ps2.h>

#define SET1_FAKE_LSHIFT        0x2A    /* after E0: a fake shift, not a key */
#define SET1_FAKE_RSHIFT        0x36
#define SET1_PAUSE_MAKE_1       0x1D    /* E1 1D 45: Pause pressed */
#define SET1_PAUSE_MAKE_2       0x45
#define SET1_PAUSE_SEQ          2       /* bytes after E1 */
#define PS2_REPLY_ERROR         0x00    /* key detection error / buffer overrun */
#define PS2_REPLY_OVERRUN       0xFF
#define PS2_REPLY_ACK           0xFA
#define PS2_REPLY_RESEND        0xFE
#define PS2_REPLY_ECHO          0xEE

/* ACPI 6.x table 5.9 (FADT) and 5.10 (IA-PC boot architecture flags). */
#define FADT_REVISION           8       /* header byte: the FADT's revision */
#define FADT_IAPC_BOOT_ARCH     109     /* 2 bytes, ACPI 2.0+ (reserved in 1.0) */
#define FADT_BOOT_ARCH_REV      2
#define IAPC_BOOT_ARCH_8042     (1u << 1)

static const uint8_t set1_plain[PS2_SET1_CODES] = {
	[0x01] = HID_KEY_ESCAPE,
	[0x02] = HID_KEY_1, HID_KEY_1 + 1, HID_KEY_1 + 2, HID_KEY_1 + 3, HID_KEY_1 + 4,
	HID_KEY_1 + 5, HID_KEY_1 + 6, HID_KEY_1 + 7, HID_KEY_1 + 8, HID_KEY_0,
	[0x0C] = HID_KEY_MINUS, HID_KEY_EQUAL, HID_KEY_BACKSPACE, HID_KEY_TAB,
	[0x10] = HID_KEY_LETTER('q'), HID_KEY_LETTER('w'), HID_KEY_LETTER('e'),
	HID_KEY_LETTER('r'), HID_KEY_LETTER('t'), HID_KEY_LETTER('y'), HID_KEY_LETTER('u'),
	HID_KEY_LETTER('i'), HID_KEY_LETTER('o'), HID_KEY_LETTER('p'),
	[0x1A] = HID_KEY_LEFTBRACE, HID_KEY_RIGHTBRACE, HID_KEY_ENTER, HID_KEY_LEFTCTRL,
	[0x1E] = HID_KEY_LETTER('a'), HID_KEY_LETTER('s'), HID_KEY_LETTER('d'),
	HID_KEY_LETTER('f'), HID_KEY_LETTER('g'), HID_KEY_LETTER('h'), HID_KEY_LETTER('j'),
	HID_KEY_LETTER('k'), HID_KEY_LETTER('l'),
	[0x27] = HID_KEY_SEMICOLON, HID_KEY_APOSTROPHE, HID_KEY_GRAVE, HID_KEY_LEFTSHIFT,
	HID_KEY_BACKSLASH,
	[0x2C] = HID_KEY_LETTER('z'), HID_KEY_LETTER('x'), HID_KEY_LETTER('c'),
	HID_KEY_LETTER('v'), HID_KEY_LETTER('b'), HID_KEY_LETTER('n'), HID_KEY_LETTER('m'),
	[0x33] = HID_KEY_COMMA, HID_KEY_DOT, HID_KEY_SLASH, HID_KEY_RIGHTSHIFT,
	HID_KEY_KPASTERISK, HID_KEY_LEFTALT, HID_KEY_SPACE, HID_KEY_CAPSLOCK,
	[0x3B] = HID_KEY_F1, HID_KEY_F1 + 1, HID_KEY_F1 + 2, HID_KEY_F1 + 3, HID_KEY_F1 + 4,
	HID_KEY_F1 + 5, HID_KEY_F1 + 6, HID_KEY_F1 + 7, HID_KEY_F1 + 8, HID_KEY_F1 + 9,
	[0x45] = HID_KEY_NUMLOCK, HID_KEY_SCROLLLOCK,
	[0x47] = HID_KEY_KP1 + 6, HID_KEY_KP1 + 7, HID_KEY_KP9, HID_KEY_KPMINUS,
	HID_KEY_KP1 + 3, HID_KEY_KP1 + 4, HID_KEY_KP1 + 5, HID_KEY_KPPLUS,
	HID_KEY_KP1, HID_KEY_KP1 + 1, HID_KEY_KP1 + 2, HID_KEY_KP0, HID_KEY_KPDOT,
	[0x54] = HID_KEY_SYSRQ,                 /* Alt+Print Screen */
	[0x56] = HID_KEY_102ND, HID_KEY_F1 + 10, HID_KEY_F12,
	[0x59] = HID_KEY_KPEQUAL,
};

static const uint8_t set1_ext[PS2_SET1_CODES] = {
	[0x1C] = HID_KEY_KPENTER, [0x1D] = HID_KEY_RIGHTCTRL,
	[0x35] = HID_KEY_KPSLASH, [0x37] = HID_KEY_SYSRQ, [0x38] = HID_KEY_RIGHTALT,
	[0x46] = HID_KEY_PAUSE,                 /* Ctrl+Pause (Break) */
	[0x47] = HID_KEY_HOME, [0x48] = HID_KEY_UP, [0x49] = HID_KEY_PAGEUP,
	[0x4B] = HID_KEY_LEFT, [0x4D] = HID_KEY_RIGHT, [0x4F] = HID_KEY_END,
	[0x50] = HID_KEY_DOWN, [0x51] = HID_KEY_PAGEDOWN, [0x52] = HID_KEY_INSERT,
	[0x53] = HID_KEY_DELETE,
	[0x5B] = HID_KEY_LEFTMETA, [0x5C] = HID_KEY_RIGHTMETA, [0x5D] = HID_KEY_COMPOSE,
	[0x5E] = HID_KEY_POWER,
};

uint8_t ps2_set1_usage(uint8_t code, bool extended)
{
	if (code >= PS2_SET1_CODES)
		return HID_KEY_NONE;
	return extended ? set1_ext[code] : set1_plain[code];
}

bool ps2_set1_decode(struct ps2_decoder *d, uint8_t byte, struct kbd_event *ev)
{
	uint8_t code = byte & (uint8_t)~PS2_SET1_BREAK, usage;
	bool ext = d->prefix == PS2_SET1_EXT;

	if (d->prefix == PS2_SET1_PAUSE) {
		if (d->pause_bytes++ == 0) {
			d->pause_first = byte;
			return false;
		}
		d->prefix = 0;
		/* E1 1D 45 presses Pause, E1 9D C5 releases it; anything else is noise. */
		if ((d->pause_first & (uint8_t)~PS2_SET1_BREAK) != SET1_PAUSE_MAKE_1 ||
		    code != SET1_PAUSE_MAKE_2 ||
		    (d->pause_first & PS2_SET1_BREAK) != (byte & PS2_SET1_BREAK))
			return false;
		*ev = (struct kbd_event){ HID_KEY_PAUSE, !(byte & PS2_SET1_BREAK) };
		return true;
	}
	switch (byte) {
	case PS2_SET1_EXT:
		d->prefix = PS2_SET1_EXT;
		return false;
	case PS2_SET1_PAUSE:
		d->prefix = PS2_SET1_PAUSE;
		d->pause_bytes = 0;
		return false;
	case PS2_REPLY_ERROR: case PS2_REPLY_OVERRUN: case PS2_REPLY_ACK:
	case PS2_REPLY_RESEND: case PS2_REPLY_ECHO:
		d->prefix = 0;
		return false;
	}
	d->prefix = 0;
	if (ext && (code == SET1_FAKE_LSHIFT || code == SET1_FAKE_RSHIFT))
		return false;
	usage = ps2_set1_usage(code, ext);
	if (usage == HID_KEY_NONE)
		return false;
	*ev = (struct kbd_event){ usage, !(byte & PS2_SET1_BREAK) };
	return true;
}

int fadt_has_8042(const void *fadt, size_t len)
{
	const uint8_t *f = fadt;

	if (len < FADT_IAPC_BOOT_ARCH + 2 || f[0] != 'F' || f[1] != 'A' || f[2] != 'C' ||
	    f[3] != 'P' || f[FADT_REVISION] < FADT_BOOT_ARCH_REV)
		return -1;
	return (f[FADT_IAPC_BOOT_ARCH] | f[FADT_IAPC_BOOT_ARCH + 1] << 8) & IAPC_BOOT_ARCH_8042 ? 1 : 0;
}
