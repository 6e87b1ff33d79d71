/*
 * Host tests for drivers/ps2_decode.c: scan code set 1 to HID usages (the
 * main and extended tables, releases, fake shifts, Pause, keyboard replies
 * in the stream, unknown codes), typing through kernel/keymap.c, and the
 * FADT 8042 flag on QEMU's dumps in tests/unit/data/, and the controller
 * bring-up (drivers/i8042_probe.c) against a model 8042 that can be
 * absent, busy forever, failing its tests, without a keyboard, or with a
 * keyboard that never answers: every case ends, within its timeouts of
 * the model's clock, with the right verdict.
 */
#include "unit.h"
#include "../../drivers/ps2_decode.c"
#include "../../drivers/i8042_probe.c"
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


/* ---- a model 8042 with a keyboard, on a virtual clock */

#define MODEL_ACCESS_NS         1000    /* every port access takes 1 us */
#define MODEL_QUEUE             64
#define MODEL_GARBAGE           0x42
#define MODEL_POWER_ON_CONFIG   (I8042_CONFIG_PORT1_IRQ | I8042_CONFIG_TRANSLATE | 0x04)
#define KBD_LOG_MAX             32

struct model {
	/* behaviour */
	bool absent;                    /* every read 0xFF */
	bool busy;                      /* input buffer full forever */
	bool flood;                     /* output buffer full forever (garbage) */
	uint8_t self_test, port_test;   /* replies */
	bool keyboard, kbd_resend, kbd_no_bat;
	bool kbd_led_silent;            /* no answer to KBD_CMD_SET_LEDS */
	/* state */
	uint8_t config;
	uint8_t q[MODEL_QUEUE];
	unsigned int qh, qt;
	bool want_config, want_arg, want_leds;
	uint8_t leds;                   /* the keyboard's LED byte */
	uint8_t kbd_log[KBD_LOG_MAX];
	unsigned int nkbd;
	uint64_t now;
};

static struct model m;

static void push(uint8_t v)
{
	if (m.qt - m.qh < MODEL_QUEUE)
		m.q[m.qt++ % MODEL_QUEUE] = v;
}

static uint8_t model_in(uint16_t port)
{
	m.now += MODEL_ACCESS_NS;
	if (m.absent)
		return I8042_STATUS_ABSENT;
	if (port == I8042_STATUS)
		return (uint8_t)((m.qt != m.qh || m.flood ? I8042_STATUS_OBF : 0) |
				 (m.busy ? I8042_STATUS_IBF : 0));
	if (m.qt != m.qh)
		return m.q[m.qh++ % MODEL_QUEUE];
	return m.flood ? MODEL_GARBAGE : 0;
}

static void keyboard_byte(uint8_t v)
{
	if (!m.keyboard)
		return;
	if (m.kbd_resend) {
		push(KBD_RESEND);
		return;
	}
	if (m.nkbd < KBD_LOG_MAX)
		m.kbd_log[m.nkbd++] = v;
	if (v == KBD_CMD_SET_LEDS && !m.want_arg && m.kbd_led_silent)
		return;
	push(KBD_ACK);
	if (m.want_leds)
		m.leds = v;
	m.want_leds = !m.want_arg && !m.want_leds && v == KBD_CMD_SET_LEDS;
	if (m.want_arg)
		m.want_arg = false;
	else if (v == KBD_CMD_RESET && !m.kbd_no_bat)
		push(KBD_BAT_OK);
	else if (v == KBD_CMD_SET_SCANCODE)
		m.want_arg = true;
}

static void model_out(uint16_t port, uint8_t v)
{
	m.now += MODEL_ACCESS_NS;
	if (m.absent || m.busy)
		return;
	if (port == I8042_DATA) {
		if (m.want_config)
			m.config = v;
		else
			keyboard_byte(v);
		m.want_config = false;
		return;
	}
	switch (v) {
	case I8042_CMD_READ_CONFIG: push(m.config); break;
	case I8042_CMD_WRITE_CONFIG: m.want_config = true; break;
	case I8042_CMD_SELF_TEST: push(m.self_test); m.config = MODEL_POWER_ON_CONFIG; break;
	case I8042_CMD_TEST_PORT1: push(m.port_test); break;
	case I8042_CMD_DISABLE_PORT1: m.config |= I8042_CONFIG_PORT1_CLOCK_OFF; break;
	case I8042_CMD_ENABLE_PORT1: m.config &= (uint8_t)~I8042_CONFIG_PORT1_CLOCK_OFF; break;
	case I8042_CMD_DISABLE_PORT2: m.config |= I8042_CONFIG_PORT2_CLOCK_OFF; break;
	}
}

static uint64_t model_now(void)
{
	return m.now;
}

static void model_relax(void)
{
	m.now += MODEL_ACCESS_NS;
}

static const struct i8042_io model_io = { model_in, model_out, model_now, model_relax };

/* A PC's 8042 with a keyboard, a byte the firmware left behind in its buffer. */
static void model_reset(void)
{
	m = (struct model){ .self_test = I8042_SELF_TEST_OK, .port_test = I8042_PORT_TEST_OK,
			    .keyboard = true, .config = MODEL_POWER_ON_CONFIG };
	push(0x1E);
}

/* Probe the model; the verdict, and the model time it took in *ms. */
static struct i8042_probe probe(uint64_t *ms)
{
	struct i8042_probe p;

	m.now = 0;
	i8042_probe(&model_io, &p);
	*ms = m.now / NS_PER_MS;
	return p;
}

static const char *test_probe_keyboard(void)
{
	static const uint8_t sent[] = { KBD_CMD_RESET, KBD_CMD_SET_SCANCODE, KBD_SCANCODE_SET2,
					KBD_CMD_ENABLE };
	uint64_t ms;
	struct i8042_probe p;

	model_reset();
	p = probe(&ms);
	UASSERT_EQ(p.found, I8042_KEYBOARD);
	UASSERT(p.why == NULL);
	UASSERT_EQ(ms, 0);
	/* Translation on, port 2 off, no IRQ yet; the keyboard got reset, set 2, enable. */
	UASSERT_EQ(p.config & (I8042_CONFIG_TRANSLATE | I8042_CONFIG_PORT2_CLOCK_OFF |
			       I8042_CONFIG_PORT1_IRQ | I8042_CONFIG_PORT2_IRQ),
		   I8042_CONFIG_TRANSLATE | I8042_CONFIG_PORT2_CLOCK_OFF);
	UASSERT_EQ(m.nkbd, sizeof sent);
	UASSERT(memcmp(m.kbd_log, sent, sizeof sent) == 0);
	UASSERT(m.qt == m.qh);          /* every reply consumed, the stale byte flushed */
	UASSERT(i8042_enable_irq(&model_io, p.config));
	UASSERT_EQ(m.config & (I8042_CONFIG_PORT1_IRQ | I8042_CONFIG_PORT1_CLOCK_OFF |
			       I8042_CONFIG_TRANSLATE), I8042_CONFIG_PORT1_IRQ | I8042_CONFIG_TRANSLATE);
	return NULL;
}

/* The ways a controller goes wrong. */
static void setup_absent(void) { m.absent = true; }
static void setup_busy(void) { m.busy = true; }
static void setup_self_test_fails(void) { m.self_test = 0xFC; }
static void setup_port_test_fails(void) { m.port_test = 0x01; }
static void setup_no_keyboard(void) { m.keyboard = false; }
static void setup_resend(void) { m.kbd_resend = true; }
static void setup_no_bat(void) { m.kbd_no_bat = true; }

static const char *test_probe_bad_controllers(void)
{
	static const struct {
		const char *name;
		void (*setup)(void);
		enum i8042_found found;
		const char *why;
		uint64_t min_ms, max_ms;        /* model time the probe may take */
	} cases[] = {
		{ "absent", setup_absent, I8042_NONE, "status port reads 0xff", 0, 1 },
		{ "busy", setup_busy, I8042_NONE, "commands not accepted",
		  I8042_TIMEOUT_MS, I8042_TIMEOUT_MS + 1 },
		{ "self-test", setup_self_test_fails, I8042_NONE, "self-test failed", 0, 1 },
		{ "port test", setup_port_test_fails, I8042_NONE, "port 1 test failed", 0, 1 },
		{ "no keyboard", setup_no_keyboard, I8042_NO_KEYBOARD,
		  "no keyboard on port 1", I8042_TIMEOUT_MS, I8042_TIMEOUT_MS + 1 },
		{ "resend", setup_resend, I8042_NO_KEYBOARD, "keyboard refused reset",
		  0, 1 },
		{ "no BAT", setup_no_bat, I8042_NO_KEYBOARD,
		  "keyboard self-test: no answer", KBD_BAT_TIMEOUT_MS, KBD_BAT_TIMEOUT_MS + 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t ms;
		struct i8042_probe p;

		model_reset();
		cases[i].setup();
		p = probe(&ms);
		if (p.found != cases[i].found || !p.why || strcmp(p.why, cases[i].why) != 0 ||
		    ms < cases[i].min_ms || ms > cases[i].max_ms)
			UFAIL("%s: found %d (want %d), why '%s' (want '%s'), %llu ms (want %llu-%llu)",
			      cases[i].name, p.found, cases[i].found, p.why ? p.why : "(null)",
			      cases[i].why, (unsigned long long)ms,
			      (unsigned long long)cases[i].min_ms, (unsigned long long)cases[i].max_ms);
		/* Without a keyboard, port 1 is disabled again. */
		if (p.found == I8042_NO_KEYBOARD && !(m.config & I8042_CONFIG_PORT1_CLOCK_OFF))
			UFAIL("%s: port 1 left enabled", cases[i].name);
	}
	return NULL;
}

/* Feed the model's replies to the LED machine as the interrupt handler would. */
static int pump(struct i8042_leds *l)
{
	int others = 0, guard = 0;

	while (m.qt != m.qh && guard++ < 1000)
		if (!i8042_leds_byte(&model_io, l, model_in(I8042_DATA)))
			others++;
	return others;
}

static bool kbd_log_is(const uint8_t *want, unsigned int n)
{
	return m.nkbd == n && memcmp(m.kbd_log, want, n) == 0;
}

static const char *test_leds(void)
{
	struct i8042_leds l = { 0 };
	uint64_t ms;

	UASSERT_EQ(i8042_led_byte(KBD_LED_NUM_LOCK), KBD_PS2_LED_NUM);
	UASSERT_EQ(i8042_led_byte(KBD_LED_CAPS_LOCK), KBD_PS2_LED_CAPS);
	UASSERT_EQ(i8042_led_byte(KBD_LED_SCROLL_LOCK), KBD_PS2_LED_SCROLL);
	model_reset();
	UASSERT_EQ(probe(&ms).found, I8042_KEYBOARD);
	/* One exchange: ED, ACK, the LED byte, ACK. */
	m.nkbd = 0;
	i8042_leds_request(&model_io, &l, KBD_LED_NUM_LOCK | KBD_LED_CAPS_LOCK);
	UASSERT_EQ(pump(&l), 0);
	UASSERT(kbd_log_is((const uint8_t[]){ KBD_CMD_SET_LEDS, 0x06 }, 2));
	UASSERT_EQ(m.leds, KBD_PS2_LED_NUM | KBD_PS2_LED_CAPS);
	UASSERT_EQ(l.phase, LEDS_IDLE);
	/* Requests during an exchange: the newest is what gets sent. */
	m.nkbd = 0;
	i8042_leds_request(&model_io, &l, KBD_LED_NUM_LOCK);
	i8042_leds_request(&model_io, &l, KBD_LED_CAPS_LOCK);
	i8042_leds_request(&model_io, &l, KBD_LED_SCROLL_LOCK);
	UASSERT_EQ(pump(&l), 0);
	UASSERT(kbd_log_is((const uint8_t[]){ KBD_CMD_SET_LEDS, KBD_PS2_LED_SCROLL }, 2));
	UASSERT_EQ(m.leds, KBD_PS2_LED_SCROLL);
	/* A request after the LED byte went out starts a second exchange. */
	m.nkbd = 0;
	i8042_leds_request(&model_io, &l, KBD_LED_NUM_LOCK);
	UASSERT(!i8042_leds_byte(&model_io, &l, 0x1E));        /* a scan code is not ours */
	i8042_leds_byte(&model_io, &l, model_in(I8042_DATA)); /* ACK of ED: byte sent */
	i8042_leds_request(&model_io, &l, KBD_LED_CAPS_LOCK);
	UASSERT_EQ(pump(&l), 0);
	UASSERT(kbd_log_is((const uint8_t[]){ KBD_CMD_SET_LEDS, KBD_PS2_LED_NUM,
					      KBD_CMD_SET_LEDS, KBD_PS2_LED_CAPS }, 4));
	UASSERT_EQ(m.leds, KBD_PS2_LED_CAPS);
	UASSERT_EQ(l.errors, 0);
	/* Not ours while idle: a stray ACK goes to the decoder (which drops it). */
	UASSERT(!i8042_leds_byte(&model_io, &l, KBD_ACK));
	return NULL;
}

static const char *test_leds_bad_keyboards(void)
{
	struct i8042_leds l = { 0 };
	uint64_t ms;

	/* A keyboard that never answers ED: nothing more is sent until the timeout. */
	model_reset();
	UASSERT_EQ(probe(&ms).found, I8042_KEYBOARD);
	m.kbd_led_silent = true;
	m.nkbd = 0;
	i8042_leds_request(&model_io, &l, KBD_LED_CAPS_LOCK);
	UASSERT_EQ(pump(&l), 0);
	i8042_leds_request(&model_io, &l, KBD_LED_NUM_LOCK);
	UASSERT_EQ(m.nkbd, 1);
	m.now += (I8042_TIMEOUT_MS + 1) * NS_PER_MS;
	i8042_leds_request(&model_io, &l, KBD_LED_NUM_LOCK);
	UASSERT_EQ(m.nkbd, 2);
	UASSERT_EQ(l.errors, 1);
	/* A keyboard that always asks to resend: given up after KBD_SEND_TRIES resends. */
	model_reset();
	UASSERT_EQ(probe(&ms).found, I8042_KEYBOARD);
	m.kbd_resend = true;
	l = (struct i8042_leds){ 0 };
	i8042_leds_request(&model_io, &l, KBD_LED_CAPS_LOCK);
	UASSERT_EQ(pump(&l), 0);
	UASSERT(m.qt == m.qh);
	UASSERT_EQ(l.phase, LEDS_IDLE);
	UASSERT_EQ(l.errors, 1);
	/* A controller that stays busy: the write is refused at once, nothing waits. */
	model_reset();
	m.busy = true;
	l = (struct i8042_leds){ 0 };
	m.now = 0;
	i8042_leds_request(&model_io, &l, KBD_LED_CAPS_LOCK);
	UASSERT_EQ(l.phase, LEDS_IDLE);
	UASSERT_EQ(l.errors, 1);
	UASSERT(m.now <= (I8042_IRQ_WRITE_US + 10) * NS_PER_US);
	return NULL;
}

static const char *test_probe_flooding_controller_ends(void)
{
	uint64_t ms;

	/* A byte always waiting: the flush stops after I8042_FLUSH_MAX, the probe goes on. */
	model_reset();
	m.flood = true;
	probe(&ms);
	UASSERT(ms <= 2 * KBD_BAT_TIMEOUT_MS);
	return NULL;
}

UNIT_MAIN("ps2",
	  UTEST(test_letters_and_digits),
	  UTEST(test_make_break_and_modifiers),
	  UTEST(test_extended),
	  UTEST(test_pause_and_noise),
	  UTEST(test_type_through_keymap),
	  UTEST(test_fadt_8042_flag),
	  UTEST(test_probe_keyboard),
	  UTEST(test_probe_bad_controllers),
	  UTEST(test_probe_flooding_controller_ends),
	  UTEST(test_leds),
	  UTEST(test_leds_bad_keyboards))
