/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_SNAPSHOT_SNAP_H
#define VMON_SNAPSHOT_SNAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The device-state half of a snapshot: a self-describing stream of named,
 * versioned sections, each a list of named fields.  Every part of the
 * machine writes its state into one section (snap_begin ... fields ...) and
 * reads it back by name (snap_section ... snap_get ...).  A reader never
 * trusts the stream: a missing section or field, or one of another size,
 * is an error naming the section and field, never a short read.
 * docs/snapshot.md has the file layout.
 */

struct snap_out;     /* sections being written */
struct snap_in;      /* a whole stream, parsed and checked */
struct snap_sec;     /* one section of a snap_in, being read */

struct snap_out *snap_out_new(void);
void snap_out_free(struct snap_out *o);
/* Starts a section; the previous one ends.  name is at most 31 bytes. */
void snap_begin(struct snap_out *o, const char *name, uint32_t instance, uint32_t version);
void snap_put(struct snap_out *o, const char *field, const void *data, size_t len);
void snap_put_u64(struct snap_out *o, const char *field, uint64_t v);
void snap_put_u32(struct snap_out *o, const char *field, uint32_t v);
void snap_put_u8(struct snap_out *o, const char *field, uint8_t v);
/* The encoded stream (valid until the next call on o); NULL if out of memory. */
const void *snap_out_data(struct snap_out *o, size_t *len);

/* Parses data (copied); NULL after one error in err. */
struct snap_in *snap_in_parse(const void *data, size_t len, char *err, size_t errlen);
void snap_in_free(struct snap_in *in);
/*
 * Finds a section; NULL and an error (see snap_in_error) if absent or if its
 * version is above max_version.  *version (may be NULL) gets its version.
 */
struct snap_sec *snap_section(struct snap_in *in, const char *name, uint32_t instance,
			      uint32_t max_version, uint32_t *version);
/* 1 if the stream has this section, without making its absence an error. */
int snap_has(struct snap_in *in, const char *name, uint32_t instance);
/* Copies the field into data; -1 (and the error) unless it is exactly len bytes. */
int snap_get(struct snap_sec *s, const char *field, void *data, size_t len);
int snap_get_u64(struct snap_sec *s, const char *field, uint64_t *v);
int snap_get_u32(struct snap_sec *s, const char *field, uint32_t *v);
int snap_get_u8(struct snap_sec *s, const char *field, uint8_t *v);
/* A field of any size: its bytes (inside the stream) and length, or NULL. */
const void *snap_get_var(struct snap_sec *s, const char *field, size_t *len);
/*
 * Records a semantic error found by a loader ("queue size 3 is not a power
 * of two") against the section; always returns -1.
 */
int snap_fail(struct snap_sec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first error met, "" if none. */
const char *snap_in_error(const struct snap_in *in);

#endif
