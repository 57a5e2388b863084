/* SPDX-License-Identifier: Apache-2.0 */
#include "guest.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Returns the start of the word at s that begins with prefix of length n. */
static const char *find_word(const char *s, const char *prefix, size_t n, int whole)
{
	while (s && *s) {
		while (is_blank(*s))
			s++;
		if (!strncmp(s, prefix, n) && (!whole || !s[n] || is_blank(s[n])))
			return s;
		while (*s && !is_blank(*s))
			s++;
	}
	return NULL;
}

const char *cmdline_value(const char *cmdline, const char *key)
{
	char prefix[32];
	size_t n = strlen(key);
	const char *w;

	if (n + 2 > sizeof(prefix))
		return NULL;
	memcpy(prefix, key, n);
	prefix[n++] = '=';
	prefix[n] = 0;
	w = find_word(cmdline, prefix, n, 0);
	return w ? w + n : NULL;
}

int cmdline_has(const char *cmdline, const char *word)
{
	return find_word(cmdline, word, strlen(word), 1) != NULL;
}

static int digit_value(char c, int base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v < base ? v : -1;
}

uint64_t parse_num(const char *s, uint64_t def)
{
	uint64_t v = 0;
	int base = 10, d, any = 0;

	if (!s)
		return def;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; (d = digit_value(*s, base)) >= 0; s++, any = 1)
		v = v * (uint64_t)base + (uint64_t)d;
	return any ? v : def;
}
