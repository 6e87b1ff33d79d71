/*
 * kvformat: printf-style formatting for the kernel, following C99 7.19.6.1
 * for %d %i %u %x %X %c %s %%, flags "-0+ #", width and precision (also "*")
 * and the hh h l ll z j t modifiers. %p is always "0x" + 16 hex digits.
 * Anything else is printed literally without consuming an argument.
 */
#include <kernel/format.h>
#include <kernel/string.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define PTR_HEX_DIGITS  16      /* %p: fixed width, so columns line up in dumps */

enum fmt_length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG,
		  LEN_SIZE, LEN_INTMAX, LEN_PTRDIFF };

/* One parsed conversion specification. */
struct fmt_spec {
	bool left;              /* '-' */
	bool zero;              /* '0' */
	bool plus;              /* '+' */
	bool space;             /* ' ' */
	bool alt;               /* '#' */
	bool width_star;
	bool prec_star;
	bool has_prec;
	unsigned int width;
	unsigned int prec;
	enum fmt_length length;
	char conv;
};

struct fmt_sink {
	void (*out)(char c, void *ctx);
	void *ctx;
	size_t count;
};

static void emit(struct fmt_sink *s, char c)
{
	s->out(c, s->ctx);
	s->count++;
}

static void emit_rep(struct fmt_sink *s, char c, size_t n)
{
	while (n--)
		emit(s, c);
}

static void emit_mem(struct fmt_sink *s, const char *p, size_t n)
{
	while (n--)
		emit(s, *p++);
}

static size_t pad_for(unsigned int width, size_t len)
{
	return width > len ? width - len : 0;
}

/* Decimal digits at *p; saturates instead of overflowing. */
static unsigned int parse_uint(const char **p)
{
	unsigned int v = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++) {
		unsigned int d = (unsigned int)(**p - '0');
		v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
	}
	return v;
}

static void parse_flags(const char **p, struct fmt_spec *sp)
{
	for (;; (*p)++) {
		switch (**p) {
		case '-': sp->left = true; break;
		case '0': sp->zero = true; break;
		case '+': sp->plus = true; break;
		case ' ': sp->space = true; break;
		case '#': sp->alt = true; break;
		default: return;
		}
	}
}

static enum fmt_length parse_length(const char **p)
{
	char c = **p;

	switch (c) {
	case 'h':
	case 'l':
		(*p)++;
		if (**p == c) {
			(*p)++;
			return c == 'h' ? LEN_CHAR : LEN_LLONG;
		}
		return c == 'h' ? LEN_SHORT : LEN_LONG;
	case 'z': (*p)++; return LEN_SIZE;
	case 'j': (*p)++; return LEN_INTMAX;
	case 't': (*p)++; return LEN_PTRDIFF;
	default: return LEN_INT;
	}
}

/*
 * Parses the specification after '%' without consuming arguments, so an
 * unknown conversion can be printed literally. *p ends on the conversion.
 */
static void parse_spec(const char **p, struct fmt_spec *sp)
{
	*sp = (struct fmt_spec){ 0 };
	parse_flags(p, sp);
	if (**p == '*') {
		sp->width_star = true;
		(*p)++;
	} else {
		sp->width = parse_uint(p);
	}
	if (**p == '.') {
		(*p)++;
		sp->has_prec = true;
		if (**p == '*') {
			sp->prec_star = true;
			(*p)++;
		} else {
			sp->prec = parse_uint(p);
		}
	}
	sp->length = parse_length(p);
	sp->conv = **p;
}

/* C99: the width argument comes first; negative width means '-' flag,
 * negative precision means "no precision". */
static void fetch_stars(struct fmt_spec *sp, va_list *ap)
{
	if (sp->width_star) {
		int w = va_arg(*ap, int);
		if (w < 0) {
			sp->left = true;
			sp->width = w == INT_MIN ? (unsigned int)INT_MAX : (unsigned int)-w;
		} else {
			sp->width = (unsigned int)w;
		}
	}
	if (sp->prec_star) {
		int pr = va_arg(*ap, int);
		sp->has_prec = pr >= 0;
		sp->prec = pr >= 0 ? (unsigned int)pr : 0;
	}
}

static uintmax_t fetch_unsigned(enum fmt_length len, va_list *ap)
{
	switch (len) {
	case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG: return va_arg(*ap, unsigned long);
	case LEN_LLONG: return va_arg(*ap, unsigned long long);
	case LEN_SIZE: return va_arg(*ap, size_t);
	case LEN_INTMAX: return va_arg(*ap, uintmax_t);
	case LEN_PTRDIFF: return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static intmax_t fetch_signed(enum fmt_length len, va_list *ap)
{
	switch (len) {
	case LEN_CHAR: return (signed char)va_arg(*ap, int);
	case LEN_SHORT: return (short)va_arg(*ap, int);
	case LEN_LONG: return va_arg(*ap, long);
	case LEN_LLONG: return va_arg(*ap, long long);
	case LEN_SIZE: return va_arg(*ap, ptrdiff_t);   /* signed size_t */
	case LEN_INTMAX: return va_arg(*ap, intmax_t);
	case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

/* Writes the digits of v in reverse order; returns how many. */
static size_t digits_rev(char *buf, uintmax_t v, unsigned int base, bool upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = 0;

	do {
		buf[n++] = set[v % base];
		v /= base;
	} while (v);
	return n;
}

/*
 * Prints prefix (sign or 0x), precision zeros, digits, padded to width.
 * C99: precision 0 with value 0 prints no digits; '0' is ignored with '-'
 * or with a precision.
 */
static void put_number(struct fmt_sink *s, const struct fmt_spec *sp, uintmax_t mag,
		       const char *prefix, unsigned int base, bool upper)
{
	char digits[sizeof(uintmax_t) * CHAR_BIT / 3 + 1];
	size_t nd = 0, plen = 0, zeros, body;

	if (mag != 0 || !sp->has_prec || sp->prec != 0)
		nd = digits_rev(digits, mag, base, upper);
	while (prefix[plen])
		plen++;
	zeros = sp->has_prec && sp->prec > nd ? sp->prec - nd : 0;
	body = plen + zeros + nd;
	if (sp->zero && !sp->left && !sp->has_prec) {
		zeros += pad_for(sp->width, body);
		body = plen + zeros + nd;
	}
	if (!sp->left)
		emit_rep(s, ' ', pad_for(sp->width, body));
	emit_mem(s, prefix, plen);
	emit_rep(s, '0', zeros);
	while (nd)
		emit(s, digits[--nd]);
	if (sp->left)
		emit_rep(s, ' ', pad_for(sp->width, body));
}

static void put_signed(struct fmt_sink *s, const struct fmt_spec *sp, va_list *ap)
{
	intmax_t v = fetch_signed(sp->length, ap);
	/* Negate in unsigned arithmetic: -INTMAX_MIN would overflow. */
	uintmax_t mag = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
	const char *prefix = v < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "";

	put_number(s, sp, mag, prefix, 10, false);
}

static void put_unsigned(struct fmt_sink *s, const struct fmt_spec *sp, va_list *ap)
{
	uintmax_t v = fetch_unsigned(sp->length, ap);
	bool hex = sp->conv == 'x' || sp->conv == 'X';
	const char *prefix = "";

	if (hex && sp->alt && v != 0)
		prefix = sp->conv == 'X' ? "0X" : "0x";
	put_number(s, sp, v, prefix, hex ? 16 : 10, sp->conv == 'X');
}

static void put_pointer(struct fmt_sink *s, const struct fmt_spec *sp, va_list *ap)
{
	struct fmt_spec hex = { .left = sp->left, .width = sp->width,
				.has_prec = true, .prec = PTR_HEX_DIGITS };

	put_number(s, &hex, (uintptr_t)va_arg(*ap, void *), "0x", 16, false);
}

static kformat_symbolizer_fn symbolizer;

void kformat_set_symbolizer(kformat_symbolizer_fn fn)
{
	symbolizer = fn;
}

/* %pS: "name+0xoff" when the symbolizer knows the address, else like %p. */
static void put_symbol(struct fmt_sink *s, const struct fmt_spec *sp, va_list *ap)
{
	va_list peek;
	uint64_t addr, off = 0;
	const char *name;

	va_copy(peek, *ap);
	addr = (uintptr_t)va_arg(peek, void *);
	va_end(peek);
	name = symbolizer ? symbolizer(addr, &off) : NULL;
	if (!name) {
		put_pointer(s, sp, ap);
		return;
	}
	(void)va_arg(*ap, void *);
	emit_mem(s, name, strlen(name));
	emit_mem(s, "+0x", 3);
	struct fmt_spec hex = { .prec = 1, .has_prec = true };
	put_number(s, &hex, off, "", 16, false);
}

static void put_string(struct fmt_sink *s, const struct fmt_spec *sp, va_list *ap)
{
	const char *str = va_arg(*ap, const char *);
	size_t len = 0;

	if (!str)
		str = "(null)";
	/* With a precision the array need not be terminated (C99 7.19.6.1p8). */
	while ((!sp->has_prec || len < sp->prec) && str[len])
		len++;
	if (!sp->left)
		emit_rep(s, ' ', pad_for(sp->width, len));
	emit_mem(s, str, len);
	if (sp->left)
		emit_rep(s, ' ', pad_for(sp->width, len));
}

static void put_char(struct fmt_sink *s, const struct fmt_spec *sp, va_list *ap)
{
	char c = (char)va_arg(*ap, int);

	if (!sp->left)
		emit_rep(s, ' ', pad_for(sp->width, 1));
	emit(s, c);
	if (sp->left)
		emit_rep(s, ' ', pad_for(sp->width, 1));
}

/* Runs one known conversion; returns false for an unknown one. */
static bool convert(struct fmt_sink *s, struct fmt_spec *sp, va_list *ap)
{
	switch (sp->conv) {
	case 'd': case 'i': case 'u': case 'x': case 'X':
	case 'p': case 's': case 'c':
		break;
	case '%':
		emit(s, '%');
		return true;
	default:
		return false;
	}
	fetch_stars(sp, ap);
	switch (sp->conv) {
	case 'd': case 'i': put_signed(s, sp, ap); break;
	case 'p': put_pointer(s, sp, ap); break;
	case 's': put_string(s, sp, ap); break;
	case 'c': put_char(s, sp, ap); break;
	default: put_unsigned(s, sp, ap); break;
	}
	return true;
}

int kvformat(void (*out)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
{
	struct fmt_sink s = { out, ctx, 0 };
	struct fmt_spec sp;
	va_list args;

	/* A va_list parameter cannot be passed on by address portably. */
	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt;

		if (*fmt != '%') {
			emit(&s, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &sp);
		if (sp.conv == 'p' && fmt[1] == 'S') {
			put_symbol(&s, &sp, &args);
			fmt += 2;
		} else if (convert(&s, &sp, &args)) {
			fmt++;
		} else {
			/* Unknown or cut-off directive: show it as written. */
			if (*fmt)
				fmt++;
			emit_mem(&s, start, (size_t)(fmt - start));
		}
	}
	va_end(args);
	return s.count > INT_MAX ? INT_MAX : (int)s.count;
}

struct snbuf {
	char *buf;
	size_t size;
	size_t pos;
};

static void snbuf_out(char c, void *ctx)
{
	struct snbuf *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct snbuf b = { buf, size, 0 };
	int n = kvformat(snbuf_out, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
