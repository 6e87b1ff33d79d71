/*
 * printf and friends on top of the kernel's formatting engine
 * (kernel/format.c, compiled into this library). Each call formats into a
 * stack buffer and writes it out, so there is no shared state to lock.
 */
#include <stdio.h>
#include <string.h>
#include <kernel/format.h>
#include <kestrel.h>

#define OUT_CHUNK       256     /* one SYS_write per this many bytes */

struct out_buf {
	int fd;
	size_t used;
	char buf[OUT_CHUNK];
};

/* Console writes may be partial; a failed write drops the rest of the text. */
static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		long n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void out_flush(struct out_buf *o)
{
	write_all(o->fd, o->buf, o->used);
	o->used = 0;
}

static void out_char(char c, void *ctx)
{
	struct out_buf *o = ctx;

	if (o->used == sizeof o->buf)
		out_flush(o);
	o->buf[o->used++] = c;
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
	struct out_buf o = { .fd = fd };
	int n = kvformat(out_char, &o, fmt, ap);

	out_flush(&o);
	return n;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	return vdprintf(STDOUT_FILENO, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(STDOUT_FILENO, fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

int putchar(int c)
{
	char ch = (char)c;

	return write(STDOUT_FILENO, &ch, 1) == 1 ? (unsigned char)ch : -1;
}
