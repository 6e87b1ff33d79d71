/*
 * Line input for the shell: reads the console (fd 0) and echoes what it
 * keeps, since the kernel console does not echo. Input is read in chunks
 * and the rest kept for the next call, so a pasted burst costs few system
 * calls; that state makes readline single-threaded.
 */
#include <stdbool.h>
#include <stdio.h>
#include <kestrel.h>

#define CH_CTRL_U       0x15    /* erase the whole line */
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

long readline(char *buf, size_t len)
{
	size_t n = 0;
	char c;
	long r;

	if (len == 0)
		return -EINVAL;
	while ((r = next_char(&c)) == 0) {
		bool lf_after_cr = c == '\n' && after_cr;

		after_cr = c == '\r';
		if (lf_after_cr)
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
		else if (c >= CH_FIRST_PRINT && c <= CH_LAST_PRINT && n + 1 < len) {
			buf[n++] = c;
			echo(&c, 1);
		}
	}
	return r;
}
