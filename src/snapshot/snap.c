/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Section stream encoding, little-endian as the machines it describes:
 *   section: u8 name_len, name, u32 instance, u32 version, u32 body_len, body
 *   body:    fields, each u8 name_len, name, u32 len, bytes
 * The parser checks every length once, up front, so lookups never run off
 * the end.
 */
#include "snapshot/snap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define SNAP_NAME_MAX 31

struct snap_out {
	struct buf b;
	size_t body_at;      /* where the open section's body_len sits; 0 if none */
	int oom;
};

struct snap_sec {
	struct snap_in *in;
	char name[SNAP_NAME_MAX + 1];
	uint32_t instance, version;
	const uint8_t *body;
	size_t len;
};

struct snap_in {
	uint8_t *data;
	struct snap_sec *sec;
	size_t nsec;
	char err[256];
};

/* ---- writing ---- */

struct snap_out *snap_out_new(void)
{
	return calloc(1, sizeof(struct snap_out));
}

void snap_out_free(struct snap_out *o)
{
	if (!o)
		return;
	buf_free(&o->b);
	free(o);
}

static void out_bytes(struct snap_out *o, const void *p, size_t n)
{
	if (!o->oom && buf_append(&o->b, p, n))
		o->oom = 1;
}

static void out_u32(struct snap_out *o, uint32_t v)
{
	out_bytes(o, &v, 4);
}

static void out_name(struct snap_out *o, const char *name)
{
	size_t n = strlen(name);
	uint8_t n8 = n > SNAP_NAME_MAX ? SNAP_NAME_MAX : (uint8_t)n;

	out_bytes(o, &n8, 1);
	out_bytes(o, name, n8);
}

static void out_close(struct snap_out *o)
{
	uint32_t body;

	if (!o->body_at || o->oom)
		return;
	body = (uint32_t)(o->b.len - o->body_at - 4);
	memcpy(o->b.data + o->body_at, &body, 4);
	o->body_at = 0;
}

void snap_begin(struct snap_out *o, const char *name, uint32_t instance, uint32_t version)
{
	out_close(o);
	out_name(o, name);
	out_u32(o, instance);
	out_u32(o, version);
	o->body_at = o->b.len;
	out_u32(o, 0);
}

void snap_put(struct snap_out *o, const char *field, const void *data, size_t len)
{
	out_name(o, field);
	out_u32(o, (uint32_t)len);
	out_bytes(o, data, len);
}

void snap_put_u64(struct snap_out *o, const char *field, uint64_t v)
{
	snap_put(o, field, &v, sizeof(v));
}

void snap_put_u32(struct snap_out *o, const char *field, uint32_t v)
{
	snap_put(o, field, &v, sizeof(v));
}

void snap_put_u8(struct snap_out *o, const char *field, uint8_t v)
{
	snap_put(o, field, &v, sizeof(v));
}

const void *snap_out_data(struct snap_out *o, size_t *len)
{
	out_close(o);
	if (o->oom)
		return NULL;
	*len = o->b.len;
	return o->b.data ? (const void *)o->b.data : (const void *)"";
}

/* ---- reading ---- */

static int in_fail(struct snap_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int in_fail(struct snap_in *in, const char *fmt, ...)
{
	va_list ap;

	if (in->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* A name at p (u8 length, bytes) inside [p, end); its end, or NULL. */
static const uint8_t *take_name(const uint8_t *p, const uint8_t *end, char *name)
{
	size_t n;

	if (p >= end || *p == 0 || *p > SNAP_NAME_MAX || (size_t)(end - p - 1) < *p)
		return NULL;
	n = *p;
	memcpy(name, p + 1, n);
	name[n] = 0;
	if (strlen(name) != n)
		return NULL;
	return p + 1 + n;
}

static const uint8_t *take_u32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
	if ((size_t)(end - p) < 4)
		return NULL;
	memcpy(v, p, 4);
	return p + 4;
}

/* Walks a body's fields: the next one's name, bytes and length, or NULL at the end. */
static const uint8_t *next_field(const uint8_t *p, const uint8_t *end, char *name,
				 const uint8_t **data, uint32_t *len)
{
	p = take_name(p, end, name);
	if (p)
		p = take_u32(p, end, len);
	if (!p || (size_t)(end - p) < *len)
		return NULL;
	*data = p;
	return p + *len;
}

static int check_body(struct snap_in *in, const struct snap_sec *s)
{
	const uint8_t *p = s->body, *end = s->body + s->len, *data;
	char name[SNAP_NAME_MAX + 1];
	uint32_t len;

	while (p < end) {
		p = next_field(p, end, name, &data, &len);
		if (!p)
			return in_fail(in, "section %s.%u: malformed field", s->name, s->instance);
	}
	return 0;
}

static int add_section(struct snap_in *in, const struct snap_sec *s)
{
	struct snap_sec *n;

	for (size_t i = 0; i < in->nsec; i++)
		if (!strcmp(in->sec[i].name, s->name) && in->sec[i].instance == s->instance)
			return in_fail(in, "section %s.%u appears twice", s->name, s->instance);
	n = realloc(in->sec, (in->nsec + 1) * sizeof(*n));
	if (!n)
		return in_fail(in, "out of memory");
	in->sec = n;
	in->sec[in->nsec++] = *s;
	return 0;
}

struct snap_in *snap_in_parse(const void *data, size_t len, char *err, size_t errlen)
{
	struct snap_in *in = calloc(1, sizeof(*in));
	const uint8_t *p, *end;

	if (!in || !(in->data = malloc(len ? len : 1))) {
		snprintf(err, errlen, "out of memory");
		free(in);
		return NULL;
	}
	memcpy(in->data, data, len);
	p = in->data;
	end = p + len;
	while (p < end) {
		struct snap_sec s = { .in = in };
		uint32_t body;

		p = take_name(p, end, s.name);
		if (p)
			p = take_u32(p, end, &s.instance);
		if (p)
			p = take_u32(p, end, &s.version);
		if (p)
			p = take_u32(p, end, &body);
		if (!p || (size_t)(end - p) < body) {
			in_fail(in, "malformed section header at byte %zu",
				(size_t)((p ? p : end) - in->data));
			break;
		}
		s.body = p;
		s.len = body;
		p += body;
		if (check_body(in, &s) || add_section(in, &s))
			break;
	}
	if (in->err[0]) {
		snprintf(err, errlen, "%s", in->err);
		snap_in_free(in);
		return NULL;
	}
	for (size_t i = 0; i < in->nsec; i++)
		in->sec[i].in = in;
	return in;
}

void snap_in_free(struct snap_in *in)
{
	if (!in)
		return;
	free(in->sec);
	free(in->data);
	free(in);
}

static struct snap_sec *find(struct snap_in *in, const char *name, uint32_t instance)
{
	for (size_t i = 0; i < in->nsec; i++)
		if (!strcmp(in->sec[i].name, name) && in->sec[i].instance == instance)
			return &in->sec[i];
	return NULL;
}

int snap_has(struct snap_in *in, const char *name, uint32_t instance)
{
	return find(in, name, instance) != NULL;
}

struct snap_sec *snap_section(struct snap_in *in, const char *name, uint32_t instance,
			      uint32_t max_version, uint32_t *version)
{
	struct snap_sec *s = find(in, name, instance);

	if (!s) {
		in_fail(in, "section %s.%u missing", name, instance);
		return NULL;
	}
	if (s->version > max_version) {
		in_fail(in, "section %s.%u has version %u, this vmon reads up to %u", name,
			instance, s->version, max_version);
		return NULL;
	}
	if (version)
		*version = s->version;
	return s;
}

const void *snap_get_var(struct snap_sec *s, const char *field, size_t *len)
{
	const uint8_t *p = s->body, *end = s->body + s->len, *data;
	char name[SNAP_NAME_MAX + 1];
	uint32_t n;

	while (p < end && (p = next_field(p, end, name, &data, &n)))
		if (!strcmp(name, field)) {
			*len = n;
			return data;
		}
	in_fail(s->in, "section %s.%u: field %s missing", s->name, s->instance, field);
	return NULL;
}

int snap_get(struct snap_sec *s, const char *field, void *data, size_t len)
{
	size_t n;
	const void *p = snap_get_var(s, field, &n);

	if (!p)
		return -1;
	if (n != len)
		return in_fail(s->in, "section %s.%u: field %s has %zu bytes, expected %zu",
			       s->name, s->instance, field, n, len);
	memcpy(data, p, len);
	return 0;
}

int snap_get_u64(struct snap_sec *s, const char *field, uint64_t *v)
{
	return snap_get(s, field, v, sizeof(*v));
}

int snap_get_u32(struct snap_sec *s, const char *field, uint32_t *v)
{
	return snap_get(s, field, v, sizeof(*v));
}

int snap_get_u8(struct snap_sec *s, const char *field, uint8_t *v)
{
	return snap_get(s, field, v, sizeof(*v));
}

int snap_fail(struct snap_sec *s, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return in_fail(s->in, "section %s.%u: %s", s->name, s->instance, msg);
}

const char *snap_in_error(const struct snap_in *in)
{
	return in->err;
}
