/* SPDX-License-Identifier: Apache-2.0 */
#include "guest.h"

/* Where formatted characters go: COM1, or a bounded buffer. */
struct sink {
	char *buf;
	size_t size, len;
};

uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
	uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
	uint32_t qhi = hi / d, r = hi % d, qlo;

	/* r < d, so the 64/32 divl cannot overflow. */
	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	if (rem)
		*rem = r;
	return ((uint64_t)qhi << 32) | qlo;
}

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		serial_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

struct spec {
	int zero, left, alt, width, prec, lng;
};

static void emit_padded(struct sink *s, const char *str, size_t n, const struct spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;
	char fill = sp->zero && !sp->left ? '0' : ' ';

	if (fill == '0' && n && *str == '-') {
		emit(s, *str++);
		n--;
	}
	for (; !sp->left && pad > 0; pad--)
		emit(s, fill);
	while (n--)
		emit(s, *str++);
	for (; pad > 0; pad--)
		emit(s, ' ');
}

static void emit_number(struct sink *s, uint64_t v, int neg, uint32_t base,
			int upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = sizeof(tmp);
	uint32_t r;

	do {
		v = udiv64(v, base, &r);
		tmp[--i] = digits[r];
	} while (v);
	if (sp->alt && base == 16) {
		tmp[--i] = upper ? 'X' : 'x';
		tmp[--i] = '0';
	}
	if (neg)
		tmp[--i] = '-';
	emit_padded(s, tmp + i, sizeof(tmp) - (size_t)i, sp);
}

/* strlen, but a precision may cut it short (or the string lacks a NUL). */
static size_t bounded_len(const char *str, int prec)
{
	size_t n = 0;

	while ((prec < 0 || n < (size_t)prec) && str[n])
		n++;
	return n;
}

static uint64_t arg_unsigned(va_list *ap, int lng)
{
	if (lng >= 2)
		return va_arg(*ap, unsigned long long);
	if (lng == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(va_list *ap, int lng)
{
	if (lng >= 2)
		return va_arg(*ap, long long);
	if (lng == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '0')
			sp->zero = 1;
		else if (*f == '-')
			sp->left = 1;
		else if (*f == '#')
			sp->alt = 1;
		else
			break;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	sp->prec = -1;
	if (*f == '.') {
		sp->prec = 0;
		for (f++; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (; *f == 'l'; f++)
		sp->lng++;
	return f;
}

static void format_one(struct sink *s, char conv, const struct spec *sp, va_list *ap)
{
	const char *str;
	int64_t sv;
	char c;

	switch (conv) {
	case 'd':
	case 'i':
		sv = arg_signed(ap, sp->lng);
		emit_number(s, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, sv < 0, 10, 0, sp);
		break;
	case 'u':
		emit_number(s, arg_unsigned(ap, sp->lng), 0, 10, 0, sp);
		break;
	case 'x':
	case 'X':
		emit_number(s, arg_unsigned(ap, sp->lng), 0, 16, conv == 'X', sp);
		break;
	case 'p':
		emit(s, '0');
		emit(s, 'x');
		emit_number(s, (uintptr_t)va_arg(*ap, void *), 0, 16, 0, sp);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_padded(s, &c, 1, sp);
		break;
	case 's':
		str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		emit_padded(s, str, bounded_len(str, sp->prec), sp);
		break;
	default:
		emit(s, '%');
		if (conv)
			emit(s, conv);
		break;
	}
}

static size_t format(struct sink *s, const char *f, va_list ap)
{
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*f) {
		if (*f != '%') {
			emit(s, *f++);
			continue;
		}
		f = parse_spec(f + 1, &sp);
		if (!*f)
			break;
		format_one(s, *f++, &sp, &aq);
	}
	va_end(aq);
	if (s->buf && s->size)
		s->buf[s->len < s->size ? s->len : s->size - 1] = 0;
	return s->len;
}

int gvprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };

	return (int)format(&s, fmt, ap);
}

int gprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = gvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int gsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct sink s = { .buf = buf, .size = size };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = (int)format(&s, fmt, ap);
	va_end(ap);
	return n;
}
