/*
 * Line input for the shell: reads the console (fd 0) and echoes what it
 * keeps, since the kernel console does not echo. Input is read in chunks
 * and the rest kept for the next call, so a pasted burst costs few system
 * calls; that state makes readline single-threaded.
 *
 * Editing: Backspace (BS or DEL) erases a character, Ctrl-U the line,
 * Ctrl-C abandons it (echoes ^C and returns an empty line; the kernel
 * passes Ctrl-C on only when no foreground program takes it, SYS_setfg).
 * Escape sequences (cursor keys from a terminal or a keyboard: ESC [ ...
 * final byte, ESC O x) are swallowed whole, not typed as text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <kestrel.h>

#define CH_CTRL_C       0x03    /* abandon the line */
#define CH_CTRL_U       0x15    /* erase the whole line */
#define CH_ESC          0x1B
#define CSI_INTRO       '['     /* ESC [ : control sequence (ECMA-48 5.4) */
#define SS3_INTRO       'O'     /* ESC O : one more byte follows (VT100 keypad) */
#define CSI_FINAL_FIRST 0x40    /* a CSI ends with a byte in 0x40-0x7E */
#define CSI_FINAL_LAST  0x7E
#define CSI_PARAM_FIRST 0x20    /* parameter and intermediate bytes: 0x20-0x3F */
#define CSI_PARAM_LAST  0x3F
#define CH_BACKSPACE    0x08
#define CH_DELETE       0x7F    /* what most terminals send for backspace */
#define CH_FIRST_PRINT  0x20
#define CH_LAST_PRINT   0x7E
#define INPUT_CHUNK     64

static char input[INPUT_CHUNK];
static size_t input_pos, input_len;
static bool after_cr;           /* a LF right after a CR ends no new line */

/* Next input byte, or a negative errno. */
static long next_char(char *c)
{
	if (input_pos == input_len) {
		long n = read(STDIN_FILENO, input, sizeof input);

		if (n < 0)
			return n;
		if (n == 0)
			return -EIO;    /* the kernel promised >= 1 byte */
		input_pos = 0;
		input_len = (size_t)n;
	}
	*c = input[input_pos++];
	return 0;
}

static void echo(const char *s, size_t len)
{
	write(STDOUT_FILENO, s, len);
}

static void erase(size_t *n, size_t count)
{
	for (; count && *n; count--, (*n)--)
		echo("\b \b", 3);
}

enum esc_state { ESC_NONE, ESC_SEEN, ESC_CSI, ESC_SS3 };

/* Consumes c if it belongs to an escape sequence; false: c is ordinary input. */
static bool swallow_escape(enum esc_state *st, char c)
{
	switch (*st) {
	case ESC_NONE:
		if (c != CH_ESC)
			return false;
		*st = ESC_SEEN;
		return true;
	case ESC_SEEN:
		if (c == CSI_INTRO || c == SS3_INTRO) {
			*st = c == CSI_INTRO ? ESC_CSI : ESC_SS3;
			return true;
		}
		if (c == CH_ESC)
			return true;    /* ESC ESC [ ...: Alt with a cursor key */
		*st = ESC_NONE;
		return false;           /* ESC x: Alt+x, the x is input */
	case ESC_CSI:
		if (c >= CSI_PARAM_FIRST && c <= CSI_PARAM_LAST)
			return true;
		*st = ESC_NONE;
		return c >= CSI_FINAL_FIRST && c <= CSI_FINAL_LAST;
	case ESC_SS3:
		*st = ESC_NONE;
		return true;
	}
	return false;
}

long readline(char *buf, size_t len)
{
	enum esc_state esc = ESC_NONE;
	size_t n = 0;
	char c;
	long r;

	if (len == 0)
		return -EINVAL;
	while ((r = next_char(&c)) == 0) {
		bool lf_after_cr = c == '\n' && after_cr;

		after_cr = c == '\r';
		if (lf_after_cr || swallow_escape(&esc, c))
			continue;
		if (c == '\r' || c == '\n') {
			echo("\n", 1);
			buf[n] = '\0';
			return (long)n;
		}
		if (c == CH_BACKSPACE || c == CH_DELETE)
			erase(&n, 1);
		else if (c == CH_CTRL_U)
			erase(&n, n);
		else if (c == CH_CTRL_C) {       /* the kernel left it to us: no foreground */
			echo("^C\n", 3);
			buf[0] = '\0';
			return 0;
		} else if (c >= CH_FIRST_PRINT && c <= CH_LAST_PRINT && n + 1 < len) {
			buf[n++] = c;
			echo(&c, 1);
		}
	}
	return r;
}
