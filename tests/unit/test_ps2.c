/*
 * Host tests for drivers/ps2_decode.c: scan code set 1 to HID usages (the
 * main and extended tables, releases, fake shifts, Pause, keyboard replies
 * in the stream, unknown codes), typing through kernel/keymap.c, and the
 * FADT 8042 flag on QEMU's dumps in tests/unit/data/.
 */
#include "unit.h"
#include "../../drivers/ps2_decode.c"
#include "../../kernel/keymap.c"

#include <dirent.h>
#include <stdlib.h>

#define DATA_DIR        "tests/unit/data"

/* Feed bytes; the events as "+04 -e1 ..." (like test_keyboard's diff). */
static const char *decode(struct ps2_decoder *d, const uint8_t *bytes, size_t n)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct kbd_event ev;
		if (ps2_set1_decode(d, bytes[i], &ev))
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%c%02x",
						len ? " " : "", ev.down ? '+' : '-', ev.usage);
	}
	return buf;
}
#define DECODE(d, ...) decode(d, (const uint8_t[]){ __VA_ARGS__ }, \
			      sizeof((const uint8_t[]){ __VA_ARGS__ }))

static const char *test_letters_and_digits(void)
{
	/* The rows of a PC keyboard in set 1 order. */
	static const struct { uint8_t first; const char *keys; } rows[] = {
		{ 0x02, "1234567890" }, { 0x10, "qwertyuiop" }, { 0x1E, "asdfghjkl" },
		{ 0x2C, "zxcvbnm" },
	};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
		for (size_t i = 0; rows[r].keys[i]; i++) {
			char c = rows[r].keys[i];
			uint8_t want = c >= 'a' ? HID_KEY_LETTER(c) :
				       c == '0' ? HID_KEY_0 : (uint8_t)(HID_KEY_1 + (c - '1'));
			UASSERT_EQ(ps2_set1_usage((uint8_t)(rows[r].first + i), false), want);
		}
	return NULL;
}

static const char *test_make_break_and_modifiers(void)
{
	struct ps2_decoder d = { 0 };

	UASSERT_STR(DECODE(&d, 0x1E, 0x9E), "+04 -04");                 /* a */
	UASSERT_STR(DECODE(&d, 0x2A, 0x36, 0xB6, 0xAA), "+e1 +e5 -e5 -e1");
	UASSERT_STR(DECODE(&d, 0x1D, 0x38, 0x9D, 0xB8), "+e0 +e2 -e0 -e2");
	UASSERT_STR(DECODE(&d, 0x1C, 0x0E, 0x0F, 0x39, 0x01, 0x3A),
		    "+28 +2a +2b +2c +29 +39");                             /* Enter BS Tab Space Esc Caps */
	/* Typematic repeat: the make code again, a press each time. */
	UASSERT_STR(DECODE(&d, 0x1E, 0x1E, 0x1E, 0x9E), "+04 +04 +04 -04");
	return NULL;
}

static const char *test_extended(void)
{
	struct ps2_decoder d = { 0 };

	UASSERT_STR(DECODE(&d, 0xE0, 0x48, 0xE0, 0xC8), "+52 -52");     /* Up */
	UASSERT_STR(DECODE(&d, 0xE0, 0x4B, 0xE0, 0x4D, 0xE0, 0x50), "+50 +4f +51");
	UASSERT_STR(DECODE(&d, 0xE0, 0x1D, 0xE0, 0x38, 0xE0, 0x1C, 0xE0, 0x35),
		    "+e4 +e6 +58 +54");     /* right Ctrl, right Alt, keypad Enter and / */
	UASSERT_STR(DECODE(&d, 0xE0, 0x53, 0xE0, 0x47, 0xE0, 0x4F, 0xE0, 0x52),
		    "+4c +4a +4d +49");
	/* The same codes without E0 are the keypad and left-hand keys. */
	UASSERT_STR(DECODE(&d, 0x48, 0x1D, 0x38, 0x1C, 0x35), "+60 +e0 +e2 +28 +38");
	/* Print Screen with its fake shift: E0 2A E0 37 ... E0 B7 E0 AA. */
	UASSERT_STR(DECODE(&d, 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA), "+46 -46");
	/* A fake right shift around keypad / with Shift held. */
	UASSERT_STR(DECODE(&d, 0xE0, 0xB6, 0xE0, 0x35, 0xE0, 0xB5, 0xE0, 0x36), "+54 -54");
	/* An unknown extended code (multimedia keys) yields nothing and resets the prefix. */
	UASSERT_STR(DECODE(&d, 0xE0, 0x10, 0x1E), "+04");
	return NULL;
}

static const char *test_pause_and_noise(void)
{
	struct ps2_decoder d = { 0 };

	UASSERT_STR(DECODE(&d, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5), "+48 -48");
	/* The 1D/45 of Pause are not Ctrl and Num Lock. */
	UASSERT_STR(DECODE(&d, 0xE1, 0x1D, 0x45), "+48");
	/* A broken E1 sequence gives nothing, and the decoder recovers. */
	UASSERT_STR(DECODE(&d, 0xE1, 0x1D, 0xC5, 0x1E), "+04");
	/* Keyboard replies in the stream: ACK, resend, echo, errors, BAT failure. */
	UASSERT_STR(DECODE(&d, 0xFA, 0xFE, 0xEE, 0x00, 0xFF), "");
	/* Codes without a key. */
	UASSERT_STR(DECODE(&d, 0x55, 0x5A, 0x7F, 0x60, 0xE0, 0x00), "");
	UASSERT_EQ(ps2_set1_usage(0x80, false), 0);
	UASSERT_EQ(ps2_set1_usage(0xFF, true), 0);
	UASSERT_EQ(d.prefix, 0);
	return NULL;
}

static const char *test_type_through_keymap(void)
{
	/* "Hi!" Enter, Ctrl-C, keypad 7 with Num Lock, as PS/2 bytes. */
	static const uint8_t bytes[] = {
		0x2A, 0x23, 0xA3, 0xAA, 0x17, 0x97, 0x36, 0x02, 0x82, 0xB6, 0x1C, 0x9C,
		0x1D, 0x2E, 0xAE, 0x9D, 0x47, 0xC7, 0xE0, 0x48, 0xE0, 0xC8,
	};
	struct ps2_decoder d = { 0 };
	struct kbd_state st;
	char buf[32];
	size_t len = 0;

	kbd_state_init(&st);
	for (size_t i = 0; i < sizeof bytes; i++) {
		struct kbd_event ev;
		if (ps2_set1_decode(&d, bytes[i], &ev))
			len += kbd_translate(&st, ev.usage, ev.down, buf + len);
	}
	buf[len] = '\0';
	UASSERT_STR(buf, "Hi!\n\x03" "7\x1b[A");
	return NULL;
}

/* QEMU's FADT from a dump directory into a heap copy of its exact size. */
static uint8_t *load_fadt(const char *config, size_t *n)
{
	char dir[128], path[384];
	struct dirent *e;
	uint8_t *buf = NULL;
	DIR *dp;

	snprintf(dir, sizeof dir, "%s/%s", DATA_DIR, config);
	dp = opendir(dir);
	if (!dp)
		return NULL;
	while ((e = readdir(dp)) && !buf) {
		size_t len = strlen(e->d_name);
		FILE *f;
		if (len < 9 || strcmp(e->d_name + len - 9, "-FACP.bin") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			break;
		fseek(f, 0, SEEK_END);
		*n = (size_t)ftell(f);
		rewind(f);
		buf = malloc(*n);
		if (buf && fread(buf, 1, *n, f) != *n) {
			free(buf);
			buf = NULL;
		}
		fclose(f);
	}
	closedir(dp);
	return buf;
}

static const char *test_fadt_8042_flag(void)
{
	size_t n = 0;
	uint8_t *q35 = load_fadt("q35-smp4", &n), *pc;
	int r_q35, r_short, r_cleared, r_sig;

	if (!q35)
		UFAIL("no FACP dump in %s/q35-smp4 (run from the tree's root)", DATA_DIR);
	/* q35: FADT revision 3, IAPC_BOOT_ARCH 0x0002. */
	r_q35 = fadt_has_8042(q35, n);
	r_short = fadt_has_8042(q35, FADT_IAPC_BOOT_ARCH + 1);
	q35[FADT_IAPC_BOOT_ARCH] &= (uint8_t)~IAPC_BOOT_ARCH_8042;
	r_cleared = fadt_has_8042(q35, n);
	q35[0] = 'X';
	r_sig = fadt_has_8042(q35, n);
	free(q35);
	UASSERT_EQ(r_q35, 1);
	UASSERT_EQ(r_short, -1);
	UASSERT_EQ(r_cleared, 0);
	UASSERT_EQ(r_sig, -1);
	/* pc (SeaBIOS/QEMU i440FX): a revision 1 FADT, where the field is reserved. */
	pc = load_fadt("pc-smp4", &n);
	if (!pc)
		UFAIL("no FACP dump in %s/pc-smp4", DATA_DIR);
	r_q35 = fadt_has_8042(pc, n);
	free(pc);
	UASSERT_EQ(r_q35, -1);
	return NULL;
}

UNIT_MAIN("ps2",
	  UTEST(test_letters_and_digits),
	  UTEST(test_make_break_and_modifiers),
	  UTEST(test_extended),
	  UTEST(test_pause_and_noise),
	  UTEST(test_type_through_keymap),
	  UTEST(test_fadt_8042_flag))
