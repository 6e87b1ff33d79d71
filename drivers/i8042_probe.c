/*
 * Bringing up the 8042 and the keyboard on its port 1 (include/kernel/ps2.h):
 * the sequence of the IBM PC AT technical reference and of the PS/2
 * keyboard commands, as QEMU's hw/input/pckbd.c and ps2.c model them.
 * Port I/O and the clock come through struct i8042_io, so
 * tests/unit/test_ps2.c runs it against controller models that are
 * absent, stuck, failing or keyboard-less and checks every wait ends.
 */
#include <kernel/ps2.h>
#include <kernel/time.h>

static uint8_t status(const struct i8042_io *io)
{
	return io->in(I8042_STATUS);
}

/* Wait until status & mask == want, at most ms; false on timeout. */
static bool wait_status(const struct i8042_io *io, uint8_t mask, uint8_t want, uint64_t ms)
{
	uint64_t deadline = io->now_ns() + ms * NS_PER_MS;

	do {
		if ((status(io) & mask) == want)
			return true;
		io->relax();
	} while (io->now_ns() < deadline);
	return (status(io) & mask) == want;
}

static bool write_port(const struct i8042_io *io, uint16_t port, uint8_t v)
{
	if (!wait_status(io, I8042_STATUS_IBF, 0, I8042_TIMEOUT_MS))
		return false;
	io->out(port, v);
	return true;
}

/* write_port for interrupt context: a short bound, the controller takes a byte in microseconds. */
static bool write_port_now(const struct i8042_io *io, uint16_t port, uint8_t v)
{
	uint64_t deadline = io->now_ns() + I8042_IRQ_WRITE_US * NS_PER_US;

	while (status(io) & I8042_STATUS_IBF)
		if (io->now_ns() >= deadline)
			return false;
	io->out(port, v);
	return true;
}

/* A byte from the output buffer within ms, or -1. */
static int read_data(const struct i8042_io *io, uint64_t ms)
{
	if (!wait_status(io, I8042_STATUS_OBF, I8042_STATUS_OBF, ms))
		return -1;
	return io->in(I8042_DATA);
}

static bool command(const struct i8042_io *io, uint8_t cmd)
{
	return write_port(io, I8042_CMD, cmd);
}

/* A controller command answered by one byte; -1 on timeout. */
static int command_read(const struct i8042_io *io, uint8_t cmd)
{
	return command(io, cmd) ? read_data(io, I8042_TIMEOUT_MS) : -1;
}

static bool write_config(const struct i8042_io *io, uint8_t config)
{
	return command(io, I8042_CMD_WRITE_CONFIG) && write_port(io, I8042_DATA, config);
}

/* One byte to the keyboard, resent when it asks; its reply or -1. */
static int kbd_send(const struct i8042_io *io, uint8_t v)
{
	int r = -1;

	for (int i = 0; i < KBD_SEND_TRIES; i++) {
		if (!write_port(io, I8042_DATA, v))
			return -1;
		r = read_data(io, I8042_TIMEOUT_MS);
		if (r != KBD_RESEND)
			return r;
	}
	return r;
}

/* The controller, up to a tested port 1; NULL or why it is not usable. */
static const char *controller_init(const struct i8042_io *io, uint8_t *config)
{
	int c;

	if (status(io) == I8042_STATUS_ABSENT)
		return "status port reads 0xff";
	/* Quiet both ports, then drop whatever the firmware left behind. */
	if (!command(io, I8042_CMD_DISABLE_PORT1) || !command(io, I8042_CMD_DISABLE_PORT2))
		return "commands not accepted";
	for (int i = 0; i < I8042_FLUSH_MAX && (status(io) & I8042_STATUS_OBF); i++)
		io->in(I8042_DATA);
	if ((c = command_read(io, I8042_CMD_READ_CONFIG)) < 0)
		return "no command byte";
	*config = (uint8_t)((c & ~(I8042_CONFIG_PORT1_IRQ | I8042_CONFIG_PORT2_IRQ)) |
			    I8042_CONFIG_TRANSLATE | I8042_CONFIG_PORT2_CLOCK_OFF);
	if (!write_config(io, *config))
		return "command byte not accepted";
	if ((c = command_read(io, I8042_CMD_SELF_TEST)) != I8042_SELF_TEST_OK)
		return c < 0 ? "no answer to the self-test" : "self-test failed";
	/* Some controllers reset the command byte in the self-test. */
	if (!write_config(io, *config))
		return "command byte not accepted";
	if ((c = command_read(io, I8042_CMD_TEST_PORT1)) != I8042_PORT_TEST_OK)
		return c < 0 ? "no answer to the port 1 test" : "port 1 test failed";
	return NULL;
}

/* Reset the keyboard on port 1 and start it; NULL or why not. */
static const char *keyboard_init(const struct i8042_io *io)
{
	int r;

	if ((r = kbd_send(io, KBD_CMD_RESET)) != KBD_ACK)
		return r < 0 ? "no keyboard on port 1" : "keyboard refused reset";
	if ((r = read_data(io, KBD_BAT_TIMEOUT_MS)) != KBD_BAT_OK)
		return r < 0 ? "keyboard self-test: no answer" : "keyboard self-test failed";
	if (kbd_send(io, KBD_CMD_SET_SCANCODE) != KBD_ACK ||
	    kbd_send(io, KBD_SCANCODE_SET2) != KBD_ACK)
		return "keyboard refused scan code set 2";
	if (kbd_send(io, KBD_CMD_ENABLE) != KBD_ACK)
		return "keyboard refused enable";
	return NULL;
}

void i8042_probe(const struct i8042_io *io, struct i8042_probe *out)
{
	*out = (struct i8042_probe){ .found = I8042_NONE };
	out->why = controller_init(io, &out->config);
	if (out->why)
		return;
	out->found = I8042_NO_KEYBOARD;
	if (!command(io, I8042_CMD_ENABLE_PORT1)) {
		out->why = "port 1 cannot be enabled";
		return;
	}
	out->why = keyboard_init(io);
	if (out->why) {
		command(io, I8042_CMD_DISABLE_PORT1);
		return;
	}
	out->found = I8042_KEYBOARD;
}

bool i8042_enable_irq(const struct i8042_io *io, uint8_t config)
{
	return write_config(io, (uint8_t)((config | I8042_CONFIG_PORT1_IRQ) &
					  ~I8042_CONFIG_PORT1_CLOCK_OFF));
}

uint8_t i8042_led_byte(uint8_t hid_leds)
{
	return (uint8_t)((hid_leds & KBD_LED_SCROLL_LOCK ? KBD_PS2_LED_SCROLL : 0) |
			 (hid_leds & KBD_LED_NUM_LOCK ? KBD_PS2_LED_NUM : 0) |
			 (hid_leds & KBD_LED_CAPS_LOCK ? KBD_PS2_LED_CAPS : 0));
}

/* Send one byte of the exchange and enter phase; back to idle if the controller will not take it. */
static void leds_send(const struct i8042_io *io, struct i8042_leds *l, uint8_t byte,
		      enum i8042_led_phase phase)
{
	if (!write_port_now(io, I8042_DATA, byte)) {
		l->errors++;
		l->phase = LEDS_IDLE;
		return;
	}
	if (phase != l->phase)
		l->resends = 0;
	l->phase = phase;
	l->since_ns = io->now_ns();
}

/* The keyboard asked for the last byte again: resend it, or give the exchange up. */
static void leds_resend(const struct i8042_io *io, struct i8042_leds *l)
{
	if (++l->resends > KBD_SEND_TRIES) {
		l->errors++;
		l->phase = LEDS_IDLE;
		return;
	}
	leds_send(io, l, l->phase == LEDS_WAIT_CMD_ACK ? KBD_CMD_SET_LEDS : l->sent, l->phase);
}

void i8042_leds_request(const struct i8042_io *io, struct i8042_leds *l, uint8_t hid_leds)
{
	l->want = i8042_led_byte(hid_leds);
	if (l->phase != LEDS_IDLE && io->now_ns() - l->since_ns < I8042_TIMEOUT_MS * NS_PER_MS)
		return;                 /* sent when the exchange under way ends */
	if (l->phase != LEDS_IDLE)
		l->errors++;            /* the keyboard never answered the last one */
	l->phase = LEDS_IDLE;
	leds_send(io, l, KBD_CMD_SET_LEDS, LEDS_WAIT_CMD_ACK);
}

bool i8042_leds_byte(const struct i8042_io *io, struct i8042_leds *l, uint8_t byte)
{
	if (l->phase == LEDS_IDLE || (byte != KBD_ACK && byte != KBD_RESEND))
		return false;
	if (byte == KBD_RESEND) {
		leds_resend(io, l);
		return true;
	}
	if (l->phase == LEDS_WAIT_CMD_ACK) {
		l->sent = l->want;
		leds_send(io, l, l->sent, LEDS_WAIT_ARG_ACK);
		return true;
	}
	l->phase = LEDS_IDLE;
	if (l->want != l->sent)         /* asked for again meanwhile */
		leds_send(io, l, KBD_CMD_SET_LEDS, LEDS_WAIT_CMD_ACK);
	return true;
}
