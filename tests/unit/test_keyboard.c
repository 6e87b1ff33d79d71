/*
 * Host tests for kernel/keymap.c: US layout, Shift, Caps Lock (letters
 * only), Ctrl, Alt, Num Lock, the escape sequences, releases, unknown
 * usages, and the boot-report diff.
 */
#include "unit.h"
#include "../../kernel/keymap.c"

#define HID_KEY_B       HID_KEY_LETTER('b')
#define HID_KEY_C       HID_KEY_LETTER('c')
#define HID_KEY_D       HID_KEY_LETTER('d')
#define HID_KEY_H       HID_KEY_LETTER('h')
#define HID_KEY_I       HID_KEY_LETTER('i')
#define HID_KEY_Q       HID_KEY_LETTER('q')
#define HID_KEY_U       HID_KEY_LETTER('u')
#define HID_KEY_X       HID_KEY_LETTER('x')
#define HID_KEY_KP5     (HID_KEY_KP1 + 4)
#define HID_KEY_KP8     (HID_KEY_KP1 + 7)

/* Type a sequence of events, collecting every byte into buf (NUL-terminated). */
struct ev { uint8_t usage; bool down; };

static size_t type(struct kbd_state *st, const struct ev *evs, size_t nev, char *buf, size_t len)
{
	size_t total = 0;

	for (size_t i = 0; i < nev; i++) {
		char out[KBD_SEQ_MAX + 1];
		size_t n = kbd_translate(st, evs[i].usage, evs[i].down, out);
		if (n > KBD_SEQ_MAX)
			return (size_t)-1;
		for (size_t j = 0; j < n && total + 1 < len; j++)
			buf[total++] = out[j];
	}
	buf[total] = '\0';
	return total;
}

/* Press and release one key; the bytes it typed, as a string. */
static const char *tap(struct kbd_state *st, uint8_t usage)
{
	static char buf[2 * KBD_SEQ_MAX + 1];
	const struct ev evs[] = { { usage, true }, { usage, false } };

	type(st, evs, 2, buf, sizeof buf);
	return buf;
}

static const char *test_letters_digits_punctuation(void)
{
	static const char want[] = "abcdefghijklmnopqrstuvwxyz1234567890";
	static const struct { uint8_t usage; const char *s; } punct[] = {
		{ HID_KEY_MINUS, "-" }, { HID_KEY_EQUAL, "=" }, { HID_KEY_LEFTBRACE, "[" },
		{ HID_KEY_RIGHTBRACE, "]" }, { HID_KEY_BACKSLASH, "\\" },
		{ HID_KEY_SEMICOLON, ";" }, { HID_KEY_APOSTROPHE, "'" }, { HID_KEY_GRAVE, "`" },
		{ HID_KEY_COMMA, "," }, { HID_KEY_DOT, "." }, { HID_KEY_SLASH, "/" },
		{ HID_KEY_SPACE, " " }, { HID_KEY_ENTER, "\n" }, { HID_KEY_TAB, "\t" },
		{ HID_KEY_BACKSPACE, "\x7f" }, { HID_KEY_ESCAPE, "\x1b" },
		{ HID_KEY_KPENTER, "\n" }, { HID_KEY_KPPLUS, "+" }, { HID_KEY_KPSLASH, "/" },
	};
	struct kbd_state st;

	kbd_state_init(&st);
	for (uint8_t u = HID_KEY_A; u <= HID_KEY_0; u++) {
		char one[2] = { want[u - HID_KEY_A], 0 };
		UASSERT_STR(tap(&st, u), one);
	}
	for (size_t i = 0; i < sizeof punct / sizeof punct[0]; i++)
		UASSERT_STR(tap(&st, punct[i].usage), punct[i].s);
	return NULL;
}

static const char *test_shift(void)
{
	static const char digits[] = "!@#$%^&*()";
	struct kbd_state st;

	kbd_state_init(&st);
	kbd_translate(&st, HID_KEY_LEFTSHIFT, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_A), "A");
	UASSERT_STR(tap(&st, HID_KEY_Z), "Z");
	for (uint8_t u = HID_KEY_1; u <= HID_KEY_0; u++) {
		char one[2] = { digits[u - HID_KEY_1], 0 };
		UASSERT_STR(tap(&st, u), one);
	}
	UASSERT_STR(tap(&st, HID_KEY_MINUS), "_");
	UASSERT_STR(tap(&st, HID_KEY_SLASH), "?");
	UASSERT_STR(tap(&st, HID_KEY_APOSTROPHE), "\"");
	UASSERT_STR(tap(&st, HID_KEY_GRAVE), "~");
	UASSERT_STR(tap(&st, HID_KEY_BACKSLASH), "|");
	kbd_translate(&st, HID_KEY_LEFTSHIFT, false, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_A), "a");
	/* Right Shift works as well, and both held then one released still shifts. */
	kbd_translate(&st, HID_KEY_RIGHTSHIFT, true, (char[KBD_SEQ_MAX]){ 0 });
	kbd_translate(&st, HID_KEY_LEFTSHIFT, true, (char[KBD_SEQ_MAX]){ 0 });
	kbd_translate(&st, HID_KEY_LEFTSHIFT, false, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_DOT), ">");
	return NULL;
}

static const char *test_caps_lock_letters_only(void)
{
	struct kbd_state st;

	kbd_state_init(&st);
	UASSERT_STR(tap(&st, HID_KEY_CAPSLOCK), "");
	UASSERT(st.caps_lock);
	UASSERT_STR(tap(&st, HID_KEY_Q), "Q");
	UASSERT_STR(tap(&st, HID_KEY_1), "1");
	UASSERT_STR(tap(&st, HID_KEY_SEMICOLON), ";");
	/* Shift with Caps Lock: letters lower case, the rest shifted. */
	kbd_translate(&st, HID_KEY_LEFTSHIFT, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_Q), "q");
	UASSERT_STR(tap(&st, HID_KEY_1), "!");
	kbd_translate(&st, HID_KEY_LEFTSHIFT, false, (char[KBD_SEQ_MAX]){ 0 });
	/* The release of Caps Lock does not toggle it back; the next press does. */
	kbd_translate(&st, HID_KEY_CAPSLOCK, false, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT(st.caps_lock);
	UASSERT_STR(tap(&st, HID_KEY_CAPSLOCK), "");
	UASSERT(!st.caps_lock);
	UASSERT_STR(tap(&st, HID_KEY_Q), "q");
	return NULL;
}

static const char *test_ctrl(void)
{
	struct kbd_state st;

	kbd_state_init(&st);
	kbd_translate(&st, HID_KEY_LEFTCTRL, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_C), "\x03");
	UASSERT_STR(tap(&st, HID_KEY_A), "\x01");
	UASSERT_STR(tap(&st, HID_KEY_U), "\x15");
	UASSERT_STR(tap(&st, HID_KEY_LEFTBRACE), "\x1b");
	UASSERT_STR(tap(&st, HID_KEY_BACKSLASH), "\x1c");
	UASSERT_STR(tap(&st, HID_KEY_1), "");          /* Ctrl+1 types nothing */
	UASSERT_STR(tap(&st, HID_KEY_ENTER), "\n");    /* Ctrl does not change Enter */
	/* Ctrl+Shift+C and Ctrl with Caps Lock are still Ctrl-C. */
	kbd_translate(&st, HID_KEY_RIGHTSHIFT, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_C), "\x03");
	kbd_translate(&st, HID_KEY_RIGHTSHIFT, false, (char[KBD_SEQ_MAX]){ 0 });
	tap(&st, HID_KEY_CAPSLOCK);
	UASSERT_STR(tap(&st, HID_KEY_C), "\x03");
	kbd_translate(&st, HID_KEY_LEFTCTRL, false, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_C), "C");
	/* Right Ctrl too. */
	kbd_translate(&st, HID_KEY_RIGHTCTRL, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_D), "\x04");
	return NULL;
}

static const char *test_alt_and_escape_sequences(void)
{
	struct kbd_state st;

	kbd_state_init(&st);
	UASSERT_STR(tap(&st, HID_KEY_UP), "\x1b[A");
	UASSERT_STR(tap(&st, HID_KEY_DOWN), "\x1b[B");
	UASSERT_STR(tap(&st, HID_KEY_RIGHT), "\x1b[C");
	UASSERT_STR(tap(&st, HID_KEY_LEFT), "\x1b[D");
	UASSERT_STR(tap(&st, HID_KEY_HOME), "\x1b[H");
	UASSERT_STR(tap(&st, HID_KEY_END), "\x1b[F");
	UASSERT_STR(tap(&st, HID_KEY_DELETE), "\x1b[3~");
	UASSERT_STR(tap(&st, HID_KEY_PAGEUP), "\x1b[5~");
	kbd_translate(&st, HID_KEY_LEFTALT, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_X), "\x1bx");
	UASSERT_STR(tap(&st, HID_KEY_PAGEDOWN), "\x1b\x1b[6~");       /* the longest */
	UASSERT_STR(tap(&st, HID_KEY_F1), "");         /* no ESC alone */
	kbd_translate(&st, HID_KEY_LEFTALT, false, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_X), "x");
	return NULL;
}

static const char *test_keypad_num_lock(void)
{
	struct kbd_state st;

	kbd_state_init(&st);
	UASSERT_STR(tap(&st, HID_KEY_KP1), "1");
	UASSERT_STR(tap(&st, HID_KEY_KP9), "9");
	UASSERT_STR(tap(&st, HID_KEY_KP0), "0");
	UASSERT_STR(tap(&st, HID_KEY_KPDOT), ".");
	UASSERT_STR(tap(&st, HID_KEY_NUMLOCK), "");
	UASSERT_STR(tap(&st, HID_KEY_KP8), "\x1b[A");
	UASSERT_STR(tap(&st, HID_KEY_KP5), "");
	UASSERT_STR(tap(&st, HID_KEY_KPDOT), "\x1b[3~");
	kbd_translate(&st, HID_KEY_LEFTSHIFT, true, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_KP8), "8");
	return NULL;
}

static const char *test_releases_and_unknown_type_nothing(void)
{
	struct kbd_state st;
	char out[KBD_SEQ_MAX];

	kbd_state_init(&st);
	UASSERT_EQ(kbd_translate(&st, HID_KEY_A, false, out), 0);
	for (unsigned u = 0; u < 256; u++) {
		struct kbd_state before = st;
		size_t n = kbd_translate(&st, (uint8_t)u, false, out);
		UASSERT_EQ(n, 0);
		/* A release changes nothing but its own modifier bit. */
		if (u < HID_KEY_LEFTCTRL)
			UASSERT(memcmp(&before, &st, sizeof st) == 0);
	}
	/* Unknown or meaningless usages: nothing typed, no state change, never too long. */
	static const uint8_t silent[] = { HID_KEY_NONE, HID_KEY_ERR_ROLLOVER, HID_KEY_POST_FAIL,
		HID_KEY_ERR_UNDEFINED, HID_KEY_F1, HID_KEY_F12, HID_KEY_SYSRQ, HID_KEY_PAUSE,
		HID_KEY_COMPOSE, HID_KEY_POWER, HID_KEY_KPEQUAL, 0x68, 0xA5,
		0xDF, 0xE8, 0xFF };
	for (size_t i = 0; i < sizeof silent; i++) {
		struct kbd_state before = st;
		UASSERT_EQ(kbd_translate(&st, silent[i], true, out), 0);
		UASSERT(memcmp(&before, &st, sizeof st) == 0);
	}
	/* Every usage with every modifier combination stays within KBD_SEQ_MAX. */
	for (unsigned mods = 0; mods < 256; mods++)
		for (unsigned u = 0; u < 0xE0; u++) {
			struct kbd_state s = { .mods = (uint8_t)mods, .num_lock = mods & 1 };
			UASSERT(kbd_translate(&s, (uint8_t)u, true, out) <= KBD_SEQ_MAX);
		}
	return NULL;
}

static const char *test_lock_leds(void)
{
	struct kbd_state st;

	kbd_state_init(&st);
	UASSERT_EQ(kbd_led_bits(&st), KBD_LED_NUM_LOCK);       /* power-on state */
	UASSERT_STR(tap(&st, HID_KEY_CAPSLOCK), "");
	UASSERT_EQ(kbd_led_bits(&st), KBD_LED_NUM_LOCK | KBD_LED_CAPS_LOCK);
	UASSERT_STR(tap(&st, HID_KEY_SCROLLLOCK), "");
	UASSERT_STR(tap(&st, HID_KEY_NUMLOCK), "");
	UASSERT_EQ(kbd_led_bits(&st), KBD_LED_CAPS_LOCK | KBD_LED_SCROLL_LOCK);
	/* Releases and other keys leave the LEDs alone. */
	kbd_translate(&st, HID_KEY_CAPSLOCK, false, (char[KBD_SEQ_MAX]){ 0 });
	UASSERT_STR(tap(&st, HID_KEY_LETTER('a')), "A");
	UASSERT_EQ(kbd_led_bits(&st), KBD_LED_CAPS_LOCK | KBD_LED_SCROLL_LOCK);
	UASSERT_STR(tap(&st, HID_KEY_SCROLLLOCK), "");
	UASSERT_EQ(kbd_led_bits(&st), KBD_LED_CAPS_LOCK);
	return NULL;
}

/* Run a report through the diff and render its events as "+04 -e1 ...". */
static const char *diff(struct kbd_report *r, const uint8_t rep[KBD_BOOT_REPORT_LEN])
{
	static char buf[KBD_REPORT_EVENTS_MAX * 4 + 1];
	struct kbd_event ev[KBD_REPORT_EVENTS_MAX + 1];
	size_t n = kbd_report_diff(r, rep, ev), len = 0;

	if (n > KBD_REPORT_EVENTS_MAX)
		return "(too many)";
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%c%02x", i ? " " : "",
					ev[i].down ? '+' : '-', ev[i].usage);
	buf[len] = '\0';
	return buf;
}

static const char *test_report_diff(void)
{
	struct kbd_report r = { { 0 } };

	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, HID_KEY_A }), "+04");
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, HID_KEY_A }), "");      /* held */
	/* Shift down and B pressed in one report: the modifier comes first. */
	UASSERT_STR(diff(&r, (const uint8_t[8]){ KBD_MOD_LSHIFT, 0, HID_KEY_A, HID_KEY_B }),
		    "+e1 +05");
	/* A key moving slots is not a change; releases come before presses. */
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, HID_KEY_B, HID_KEY_C }), "-04 -e1 +06");
	/* ErrorRollOver: no events, and the state is kept for the next real report. */
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, 1, 1, 1, 1, 1, 1 }), "");
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, HID_KEY_C }), "-05");
	/* A usage repeated in one report is one key. */
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, HID_KEY_C, HID_KEY_D, HID_KEY_D }), "+07");
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0 }), "-06 -07");
	/* The most one report can change. */
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0xFF, 0, 4, 5, 6, 7, 8, 9 }),
		    "+e0 +e1 +e2 +e3 +e4 +e5 +e6 +e7 +04 +05 +06 +07 +08 +09");
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0, 10, 11, 12, 13, 14, 15 }),
		    "-04 -05 -06 -07 -08 -09 -e0 -e1 -e2 -e3 -e4 -e5 -e6 -e7 "
		    "+0a +0b +0c +0d +0e +0f");
	/* The reserved byte is ignored; POSTFail and ErrorUndefined are not keys. */
	UASSERT_STR(diff(&r, (const uint8_t[8]){ 0, 0xAA, 2, 3 }),
		    "-0a -0b -0c -0d -0e -0f");
	return NULL;
}

static const char *test_report_then_translate(void)
{
	/* "Hi!\n" as a USB keyboard would send it. */
	static const uint8_t reports[][8] = {
		{ KBD_MOD_LSHIFT, 0, HID_KEY_H }, { 0 }, { 0, 0, HID_KEY_I }, { 0 },
		{ KBD_MOD_RSHIFT, 0, HID_KEY_1 }, { KBD_MOD_RSHIFT }, { 0, 0, HID_KEY_ENTER }, { 0 },
	};
	struct kbd_report r = { { 0 } };
	struct kbd_state st;
	char buf[16];
	size_t len = 0;

	kbd_state_init(&st);
	for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
		struct kbd_event ev[KBD_REPORT_EVENTS_MAX];
		size_t n = kbd_report_diff(&r, reports[i], ev);
		for (size_t j = 0; j < n; j++)
			len += kbd_translate(&st, ev[j].usage, ev[j].down, buf + len);
	}
	buf[len] = '\0';
	UASSERT_STR(buf, "Hi!\n");
	UASSERT_EQ(st.mods, 0);
	return NULL;
}

UNIT_MAIN("keyboard",
	  UTEST(test_letters_digits_punctuation),
	  UTEST(test_shift),
	  UTEST(test_caps_lock_letters_only),
	  UTEST(test_ctrl),
	  UTEST(test_alt_and_escape_sequences),
	  UTEST(test_keypad_num_lock),
	  UTEST(test_lock_leds),
	  UTEST(test_releases_and_unknown_type_nothing),
	  UTEST(test_report_diff),
	  UTEST(test_report_then_translate))
