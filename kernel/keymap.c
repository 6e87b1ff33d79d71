/*
 * Key events to bytes, US layout (include/kernel/keyboard.h). Pure: no
 * locks, no I/O, so tests/unit/test_keyboard.c runs it on the host.
 *
 * What a key types is what a VT100-style terminal sends for it, since the
 * shell reads the same ring from COM1: Enter '\n' (COM1's '\r' becomes
 * '\n' too), Backspace DEL (0x7F), Tab '\t', Esc 0x1B, the cursor and
 * editing keys ANSI CSI sequences (ESC [ A ...), Ctrl+letter the C0
 * control byte (Ctrl-C 0x03), Alt+key ESC before the key's bytes.
 */
#include <kernel/keyboard.h>

#define CH_ESC          0x1B
#define CH_DEL          0x7F    /* what Backspace sends, like most terminals */
#define CTRL_MASK       0x1F    /* Ctrl+key: the C0 control of the key's byte */
#define CH_FIRST_PRINT  0x20
#define LAYOUT_SIZE     (HID_KEY_102ND + 1)

/* US layout, usage -> byte unshifted / shifted; 0 where a key types nothing here. */
static const char us_plain[LAYOUT_SIZE] = {
	[HID_KEY_A] = 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
	'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
	[HID_KEY_1] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
	[HID_KEY_ENTER] = '\n', [HID_KEY_ESCAPE] = CH_ESC, [HID_KEY_BACKSPACE] = CH_DEL,
	[HID_KEY_TAB] = '\t', [HID_KEY_SPACE] = ' ',
	[HID_KEY_MINUS] = '-', [HID_KEY_EQUAL] = '=', [HID_KEY_LEFTBRACE] = '[',
	[HID_KEY_RIGHTBRACE] = ']', [HID_KEY_BACKSLASH] = '\\', [HID_KEY_NONUS_HASH] = '\\',
	[HID_KEY_SEMICOLON] = ';', [HID_KEY_APOSTROPHE] = '\'', [HID_KEY_GRAVE] = '`',
	[HID_KEY_COMMA] = ',', [HID_KEY_DOT] = '.', [HID_KEY_SLASH] = '/',
	[HID_KEY_KPSLASH] = '/', [HID_KEY_KPASTERISK] = '*', [HID_KEY_KPMINUS] = '-',
	[HID_KEY_KPPLUS] = '+', [HID_KEY_KPENTER] = '\n',
	[HID_KEY_102ND] = '\\',
};

static const char us_shift[LAYOUT_SIZE] = {
	[HID_KEY_A] = 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M',
	'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
	[HID_KEY_1] = '!', '@', '#', '$', '%', '^', '&', '*', '(', ')',
	[HID_KEY_ENTER] = '\n', [HID_KEY_ESCAPE] = CH_ESC, [HID_KEY_BACKSPACE] = CH_DEL,
	[HID_KEY_TAB] = '\t', [HID_KEY_SPACE] = ' ',
	[HID_KEY_MINUS] = '_', [HID_KEY_EQUAL] = '+', [HID_KEY_LEFTBRACE] = '{',
	[HID_KEY_RIGHTBRACE] = '}', [HID_KEY_BACKSLASH] = '|', [HID_KEY_NONUS_HASH] = '|',
	[HID_KEY_SEMICOLON] = ':', [HID_KEY_APOSTROPHE] = '"', [HID_KEY_GRAVE] = '~',
	[HID_KEY_COMMA] = '<', [HID_KEY_DOT] = '>', [HID_KEY_SLASH] = '?',
	[HID_KEY_KPSLASH] = '/', [HID_KEY_KPASTERISK] = '*', [HID_KEY_KPMINUS] = '-',
	[HID_KEY_KPPLUS] = '+', [HID_KEY_KPENTER] = '\n',
	[HID_KEY_102ND] = '|',
};

/* The cursor and editing keys: the CSI sequence after ESC [ (ECMA-48, xterm). */
static const char *const csi_keys[] = {
	[HID_KEY_INSERT - HID_KEY_INSERT] = "2~",
	[HID_KEY_HOME - HID_KEY_INSERT] = "H",
	[HID_KEY_PAGEUP - HID_KEY_INSERT] = "5~",
	[HID_KEY_DELETE - HID_KEY_INSERT] = "3~",
	[HID_KEY_END - HID_KEY_INSERT] = "F",
	[HID_KEY_PAGEDOWN - HID_KEY_INSERT] = "6~",
	[HID_KEY_RIGHT - HID_KEY_INSERT] = "C",
	[HID_KEY_LEFT - HID_KEY_INSERT] = "D",
	[HID_KEY_DOWN - HID_KEY_INSERT] = "B",
	[HID_KEY_UP - HID_KEY_INSERT] = "A",
};

/* Keypad 1-9, 0 and . with Num Lock off: the keys printed under the digits. */
static const uint8_t keypad_nav[HID_KEY_KPDOT - HID_KEY_KP1 + 1] = {
	HID_KEY_END, HID_KEY_DOWN, HID_KEY_PAGEDOWN, HID_KEY_LEFT, HID_KEY_NONE,
	HID_KEY_RIGHT, HID_KEY_HOME, HID_KEY_UP, HID_KEY_PAGEUP, HID_KEY_INSERT,
	HID_KEY_DELETE,
};
static const char keypad_digits[HID_KEY_KPDOT - HID_KEY_KP1 + 1] = "1234567890.";

void kbd_state_init(struct kbd_state *st)
{
	st->mods = 0;
	st->caps_lock = false;
	st->num_lock = true;
	st->scroll_lock = false;
}

uint8_t kbd_led_bits(const struct kbd_state *st)
{
	return (uint8_t)((st->num_lock ? KBD_LED_NUM_LOCK : 0) |
			 (st->caps_lock ? KBD_LED_CAPS_LOCK : 0) |
			 (st->scroll_lock ? KBD_LED_SCROLL_LOCK : 0));
}

static bool is_letter(uint8_t usage)
{
	return usage >= HID_KEY_A && usage <= HID_KEY_Z;
}

/* Ctrl+key: the C0 control byte, or 0 when the key has none (Ctrl+1 types nothing). */
static char ctrl_byte(char c)
{
	if (c >= 'a' && c <= 'z')
		return (char)(c & CTRL_MASK);
	if (c >= '@' && c <= '_')       /* @ A-Z [ \ ] ^ _ */
		return (char)(c & CTRL_MASK);
	if (c == ' ')
		return 0;               /* Ctrl+Space is NUL: not worth queueing */
	if (c == '?')
		return CH_DEL;
	return 0;
}

size_t kbd_translate(struct kbd_state *st, uint8_t usage, bool down, char out[KBD_SEQ_MAX])
{
	bool shift = st->mods & KBD_MOD_SHIFT;
	size_t n = 0;
	char c = 0;

	if (usage >= HID_KEY_LEFTCTRL && usage <= HID_KEY_RIGHTMETA) {
		uint8_t bit = (uint8_t)(1u << (usage - HID_KEY_LEFTCTRL));
		st->mods = down ? st->mods | bit : st->mods & (uint8_t)~bit;
		return 0;
	}
	if (!down)
		return 0;
	if (usage == HID_KEY_CAPSLOCK) {
		st->caps_lock = !st->caps_lock;
		return 0;
	}
	if (usage == HID_KEY_NUMLOCK) {
		st->num_lock = !st->num_lock;
		return 0;
	}
	if (usage == HID_KEY_SCROLLLOCK) {
		st->scroll_lock = !st->scroll_lock;
		return 0;
	}
	if (usage >= HID_KEY_KP1 && usage <= HID_KEY_KPDOT) {
		/* Shift inverts Num Lock on the keypad, as on a PC. */
		if (st->num_lock != shift)
			c = keypad_digits[usage - HID_KEY_KP1];
		else
			usage = keypad_nav[usage - HID_KEY_KP1];
	}
	if (st->mods & KBD_MOD_ALT)
		out[n++] = CH_ESC;
	if (usage >= HID_KEY_INSERT && usage <= HID_KEY_UP && !c) {
		const char *seq = csi_keys[usage - HID_KEY_INSERT];
		out[n++] = CH_ESC;
		out[n++] = '[';
		while (*seq)
			out[n++] = *seq++;
		return n;
	}
	if (!c && usage < LAYOUT_SIZE) {
		/* Caps Lock shifts letters only; with Shift held it unshifts them. */
		bool upper = is_letter(usage) ? shift != st->caps_lock : shift;
		c = upper ? us_shift[usage] : us_plain[usage];
	}
	/* Ctrl changes printable bytes only: Ctrl+Enter is still Enter. */
	if (c >= CH_FIRST_PRINT && c < CH_DEL && (st->mods & KBD_MOD_CTRL))
		c = ctrl_byte(c);
	if (!c)
		return 0;       /* nothing typed: drop the Alt ESC too */
	out[n++] = c;
	return n;
}

static bool holds(const uint8_t *keys, uint8_t usage)
{
	for (int i = 0; i < KBD_REPORT_NKEYS; i++)
		if (keys[i] == usage)
			return true;
	return false;
}

/* A real key usage in a report slot (not empty, not an error code). */
static bool is_key(uint8_t usage)
{
	return usage > HID_KEY_ERR_UNDEFINED;
}

/* Is slot i the first slot holding its usage? A repeated usage counts once. */
static bool first_of(const uint8_t *keys, int i)
{
	for (int j = 0; j < i; j++)
		if (keys[j] == keys[i])
			return false;
	return true;
}

size_t kbd_report_diff(struct kbd_report *r, const uint8_t report[KBD_BOOT_REPORT_LEN],
		       struct kbd_event ev[KBD_REPORT_EVENTS_MAX])
{
	const uint8_t *old_keys = &r->prev[KBD_REPORT_KEYS], *new_keys = &report[KBD_REPORT_KEYS];
	uint8_t old_mods = r->prev[KBD_REPORT_MODS], new_mods = report[KBD_REPORT_MODS];
	size_t n = 0;

	/* HID 1.11 B.1: too many keys down fills the key slots with ErrorRollOver. */
	for (int i = 0; i < KBD_REPORT_NKEYS; i++)
		if (new_keys[i] == HID_KEY_ERR_ROLLOVER)
			return 0;
	for (int i = 0; i < KBD_REPORT_NKEYS; i++)
		if (is_key(old_keys[i]) && first_of(old_keys, i) && !holds(new_keys, old_keys[i]))
			ev[n++] = (struct kbd_event){ old_keys[i], false };
	for (int bit = 0; bit < 8; bit++) {
		uint8_t m = (uint8_t)(1u << bit);
		if ((old_mods ^ new_mods) & m)
			ev[n++] = (struct kbd_event){ (uint8_t)(HID_KEY_LEFTCTRL + bit), new_mods & m };
	}
	for (int i = 0; i < KBD_REPORT_NKEYS; i++)
		if (is_key(new_keys[i]) && first_of(new_keys, i) && !holds(old_keys, new_keys[i]))
			ev[n++] = (struct kbd_event){ new_keys[i], true };
	for (int i = 0; i < KBD_BOOT_REPORT_LEN; i++)
		r->prev[i] = report[i];
	return n;
}
