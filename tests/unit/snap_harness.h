/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_SNAP_HARNESS_H
#define VMON_TESTS_SNAP_HARNESS_H

/*
 * Helpers for the state save/load tests: a saved stream kept in a buffer,
 * and a hostile-stream run that rewrites one section field by field
 * (dropped, resized, overwritten) and loads each variant into a fresh
 * device, which must either take it or refuse it with an error recorded,
 * and then still work (the ASan build checks the "still work").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"

#define HARNESS_MAX_FIELDS 32
#define HARNESS_MAX_STREAM 65536

struct saved {
	uint8_t buf[HARNESS_MAX_STREAM];
	size_t len;
};

/* Copies what o holds into s and frees o; 0, or -1 if it does not fit. */
static inline int saved_take(struct saved *s, struct snap_out *o)
{
	const void *d = snap_out_data(o, &s->len);
	int rc = d && s->len <= sizeof(s->buf) ? 0 : -1;

	if (!rc)
		memcpy(s->buf, d, s->len);
	snap_out_free(o);
	return rc;
}

static inline struct snap_in *saved_parse(const struct saved *s)
{
	char err[256];

	return snap_in_parse(s->buf, s->len, err, sizeof(err));
}

/* One field of a section, pointing into the stream. */
struct harness_field {
	char name[32];
	const uint8_t *data;
	uint32_t len;
};

struct harness_section {
	char name[32];
	uint32_t instance, version;
	struct harness_field f[HARNESS_MAX_FIELDS];
	int n;
};

static inline uint32_t harness_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Finds section name (any instance if instance is ~0u) in the stream; 0 or -1. */
static inline int harness_find(const struct saved *s, const char *name, uint32_t instance,
			       struct harness_section *out)
{
	const uint8_t *p = s->buf, *end = s->buf + s->len;

	while (p < end) {
		uint8_t nl = *p;
		const uint8_t *body, *bend;

		memset(out, 0, sizeof(*out));
		memcpy(out->name, p + 1, nl);
		out->instance = harness_u32(p + 1 + nl);
		out->version = harness_u32(p + 5 + nl);
		body = p + 13 + nl;
		bend = body + harness_u32(p + 9 + nl);
		p = bend;
		if (strcmp(out->name, name) || (instance != ~0u && out->instance != instance))
			continue;
		while (body < bend && out->n < HARNESS_MAX_FIELDS) {
			struct harness_field *f = &out->f[out->n++];
			uint8_t fl = *body;

			memcpy(f->name, body + 1, fl);
			f->name[fl] = 0;
			f->len = harness_u32(body + 1 + fl);
			f->data = body + 5 + fl;
			body = f->data + f->len;
		}
		return 0;
	}
	return -1;
}

/* The field's bytes in a saved section, or NULL. */
static inline const struct harness_field *harness_field(const struct harness_section *sec,
							const char *name)
{
	for (int i = 0; i < sec->n; i++)
		if (!strcmp(sec->f[i].name, name))
			return &sec->f[i];
	return NULL;
}

/*
 * Re-encodes sec into out with field skip left out (-1: none) and field
 * edit given bytes (NULL: as saved) of len bytes.
 */
static inline int harness_encode(const struct harness_section *sec, uint32_t version, int skip,
				 int edit, const uint8_t *bytes, uint32_t len, struct saved *out)
{
	struct snap_out *o = snap_out_new();

	snap_begin(o, sec->name, sec->instance, version);
	for (int i = 0; i < sec->n; i++) {
		if (i == skip)
			continue;
		if (i == edit)
			snap_put(o, sec->f[i].name, bytes, len);
		else
			snap_put(o, sec->f[i].name, sec->f[i].data, sec->f[i].len);
	}
	return saved_take(out, o);
}

/* What a hostile run does with a device kind. */
struct harness_target {
	void *(*create)(void);
	int (*load)(void *dev, struct snap_in *in);
	void (*poke)(void *dev);          /* uses every register after a load */
	void (*destroy)(void *dev);
	const char *const *variable;      /* fields whose length may vary; NULL-ended */
};

static inline int harness_is_variable(const struct harness_target *t, const char *name)
{
	for (const char *const *v = t->variable; v && *v; v++)
		if (!strcmp(*v, name))
			return 1;
	return 0;
}

/* Loads one variant: 1 taken, 0 refused with an error, -1 refused silently. */
static inline int harness_try(const struct harness_target *t, const struct saved *s)
{
	struct snap_in *in = saved_parse(s);
	void *dev;
	int rc;

	if (!in)
		return -1;
	dev = t->create();
	if (!dev) {
		snap_in_free(in);
		return -1;
	}
	rc = t->load(dev, in) ? (snap_in_error(in)[0] ? 0 : -1) : 1;
	t->poke(dev);
	t->destroy(dev);
	snap_in_free(in);
	return rc;
}

/*
 * Runs every variant of section name.instance of a good stream; NULL when
 * each behaved, else what went wrong (a static string).
 */
static inline const char *harness_hostile(const struct harness_target *t, const struct saved *good,
					  const char *name, uint32_t instance)
{
	static struct harness_section sec;
	static struct saved bad;
	static uint8_t bytes[4096 + 1];
	static char why[160];
	int rc;

	if (harness_find(good, name, instance, &sec))
		return "section not in the stream";
	if (harness_try(t, good) != 1)
		return "the good stream is refused";
	if (harness_encode(&sec, sec.version + 1, -1, -1, NULL, 0, &bad) || harness_try(t, &bad) != 0)
		return "a newer version is not refused";
	bad.len = 0;
	if (harness_try(t, &bad) != 0)
		return "a missing section is not refused";
	srand(1);
	for (int i = 0; i < sec.n; i++) {
		const struct harness_field *f = &sec.f[i];
		uint32_t len = f->len > 4096 ? 4096 : f->len;

		snprintf(why, sizeof(why), "field %s: dropped, not refused", f->name);
		if (harness_encode(&sec, sec.version, i, -1, NULL, 0, &bad) || harness_try(t, &bad) != 0)
			return why;
		memcpy(bytes, f->data, len);
		bytes[len] = 0;
		snprintf(why, sizeof(why), "field %s: one byte longer, not refused", f->name);
		if (harness_encode(&sec, sec.version, -1, i, bytes, len + 1, &bad))
			return why;
		rc = harness_try(t, &bad);
		if (rc < 0 || (rc && !harness_is_variable(t, f->name)))
			return why;
		snprintf(why, sizeof(why), "field %s: one byte shorter, not refused", f->name);
		if (len && harness_encode(&sec, sec.version, -1, i, bytes, len - 1, &bad))
			return why;
		rc = len ? harness_try(t, &bad) : 0;
		if (rc < 0 || (rc && !harness_is_variable(t, f->name)))
			return why;
		snprintf(why, sizeof(why), "field %s: a refusal without an error", f->name);
		for (uint32_t at = 0; at < len && at < 64; at++) {
			static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x7f, 0x80, 0xff };

			for (size_t k = 0; k < sizeof(vals); k++) {
				memcpy(bytes, f->data, len);
				bytes[at] = vals[k];
				if (harness_encode(&sec, sec.version, -1, i, bytes, len, &bad) ||
				    harness_try(t, &bad) < 0)
					return why;
			}
		}
		for (int r = 0; r < 16; r++) {
			for (uint32_t k = 0; k < len; k++)
				bytes[k] = (uint8_t)(r ? rand() : 0xff);
			if (harness_encode(&sec, sec.version, -1, i, bytes, len, &bad) ||
			    harness_try(t, &bad) < 0)
				return why;
		}
	}
	return NULL;
}

#endif
