/* SPDX-License-Identifier: Apache-2.0 */
#include "control/qmp_frame.h"

#include <stdlib.h>
#include <string.h>

enum { FR_IDLE, FR_VALUE, FR_SCALAR, FR_SKIP };

void qmp_frame_init(struct qmp_frame *f, size_t max_len, int max_depth)
{
	*f = (struct qmp_frame){ .max_len = max_len, .max_depth = max_depth, .mode = FR_IDLE };
}

void qmp_frame_free(struct qmp_frame *f)
{
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
	qmp_frame_reset(f);
}

void qmp_frame_reset(struct qmp_frame *f)
{
	f->len = 0;
	f->mode = FR_IDLE;
	f->depth = 0;
	f->quote = 0;
	f->esc = 0;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What JSON allows between its strings: anything else breaks the message. */
static int is_json_outside_string(unsigned char c)
{
	return is_space(c) || strchr("{}[],:\"'-+.", c) || (c >= '0' && c <= '9') ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 0, 1 when the message would pass max_len, -1 when out of memory. */
static int append(struct qmp_frame *f, char c)
{
	if (f->len >= f->max_len)
		return 1;
	if (f->len == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		char *b;

		if (cap > f->max_len)
			cap = f->max_len;
		b = realloc(f->buf, cap);
		if (!b)
			return -1;
		f->buf = b;
		f->cap = cap;
	}
	f->buf[f->len++] = c;
	return 0;
}

static int append2(struct qmp_frame *f, char a, char b)
{
	int r = append(f, a);

	return r ? r : append(f, b);
}

static void emit(struct qmp_frame *f, int then, qmp_frame_fn fn, void *opaque)
{
	size_t len = f->len;

	qmp_frame_reset(f);
	f->mode = then;
	fn(opaque, QMP_FRAME_MSG, f->buf, len);
}

/* Drops the message and everything up to the end of its line. */
static void skip(struct qmp_frame *f, enum qmp_frame_kind why, unsigned char c,
		 qmp_frame_fn fn, void *opaque)
{
	qmp_frame_reset(f);
	f->mode = c == '\n' ? FR_IDLE : FR_SKIP;
	fn(opaque, why, NULL, 0);
}

/*
 * A byte inside a string, appended as JSON wants it: QEMU also takes
 * single-quoted strings and \' in any string, which become ordinary JSON
 * here ('a"b' is "a\"b").  -1 out of memory, 1 too long.
 */
static int string_byte(struct qmp_frame *f, unsigned char c)
{
	if (f->esc) {
		f->esc = 0;
		if (c == '\'')
			return append(f, '\'');
		return append2(f, '\\', (char)c);
	}
	if (c == '\\') {
		f->esc = 1;             /* appended with the next byte */
		return 0;
	}
	if (c == f->quote) {
		f->quote = 0;
		return append(f, '"');
	}
	if (c == '"')
		return append2(f, '\\', '"');
	return append(f, (char)c);
}

/* A byte of an object or array outside strings. */
static int value_byte(struct qmp_frame *f, unsigned char c, qmp_frame_fn fn, void *opaque)
{
	int r;

	if (c == '"' || c == '\'') {
		f->quote = c;
		return append(f, '"');
	}
	r = append(f, (char)c);
	if (r)
		return r;
	if (!is_json_outside_string(c)) {
		emit(f, FR_SKIP, fn, opaque);
	} else if (c == '{' || c == '[') {
		if (++f->depth > f->max_depth)
			skip(f, QMP_FRAME_TOO_DEEP, c, fn, opaque);
	} else if ((c == '}' || c == ']') && --f->depth == 0) {
		emit(f, FR_IDLE, fn, opaque);
	}
	return 0;
}

/* Handles data[0], or more when skipping; returns how many bytes it used. */
static size_t step(struct qmp_frame *f, const char *data, size_t n, qmp_frame_fn fn,
		   void *opaque, int *oom)
{
	unsigned char c = (unsigned char)data[0];
	const char *nl;
	int r = 0;

	switch (f->mode) {
	case FR_SKIP:
		nl = memchr(data, '\n', n);
		if (!nl)
			return n;
		f->mode = FR_IDLE;
		return (size_t)(nl - data) + 1;
	case FR_IDLE:
		if (is_space(c))
			return 1;
		f->mode = c == '{' || c == '[' ? FR_VALUE : FR_SCALAR;
		r = f->mode == FR_SCALAR ? append(f, (char)c) : value_byte(f, c, fn, opaque);
		break;
	case FR_VALUE:
		/* JSON strings hold no raw newline: the message is broken there. */
		if (f->quote && c == '\n')
			emit(f, FR_IDLE, fn, opaque);
		else
			r = f->quote ? string_byte(f, c) : value_byte(f, c, fn, opaque);
		break;
	case FR_SCALAR:
		if (c == '\n')
			emit(f, FR_IDLE, fn, opaque);
		else
			r = append(f, (char)c);
		break;
	}
	if (r < 0) {
		*oom = 1;
		qmp_frame_reset(f);
		f->mode = c == '\n' ? FR_IDLE : FR_SKIP;
	} else if (r > 0) {
		skip(f, QMP_FRAME_TOO_LONG, c, fn, opaque);
	}
	return 1;
}

int qmp_frame_feed(struct qmp_frame *f, const char *data, size_t len, qmp_frame_fn fn,
		   void *opaque)
{
	int oom = 0;

	while (len) {
		size_t used = step(f, data, len, fn, opaque, &oom);

		data += used;
		len -= used;
	}
	return oom ? -1 : 0;
}
