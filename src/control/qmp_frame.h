/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CONTROL_QMP_FRAME_H
#define VMON_CONTROL_QMP_FRAME_H

/*
 * Cuts a QMP byte stream into messages before any JSON parsing: one JSON
 * object or array, brackets balanced outside strings, however it is split
 * across reads, several per read, spanning lines or not.  Single-quoted
 * strings and \' (QEMU's extensions) come out as plain JSON.  Recovery is
 * by line: anything else at the top level (a scalar, a stray word, binary)
 * runs to the end of its line as one message, for the parser to reject; an
 * object that meets a byte JSON cannot have there, or a raw newline inside
 * a string, ends at once and the rest of its line is dropped, so a broken
 * line never swallows the next.  Messages longer than max_len or nested
 * deeper than max_depth are reported instead, and skipped to the end of
 * their line.  Memory use is bounded by max_len whatever the input.
 */
#include <stddef.h>

enum qmp_frame_kind {
	QMP_FRAME_MSG,          /* msg/len: one candidate JSON text */
	QMP_FRAME_TOO_LONG,     /* a message passed max_len (skipped) */
	QMP_FRAME_TOO_DEEP,     /* a message nested deeper than max_depth (skipped) */
};

/* Called for every message; msg is valid only during the call. */
typedef void (*qmp_frame_fn)(void *opaque, enum qmp_frame_kind kind, const char *msg, size_t len);

struct qmp_frame {
	char *buf;
	size_t len, cap, max_len;
	int max_depth;
	int mode;               /* enum in qmp_frame.c */
	int depth;
	int quote;              /* inside a string opened by this quote, or 0 */
	int esc;                /* a backslash waits for the next byte */
};

void qmp_frame_init(struct qmp_frame *f, size_t max_len, int max_depth);
void qmp_frame_free(struct qmp_frame *f);
/* Drops a partial message (the client went away). */
void qmp_frame_reset(struct qmp_frame *f);
/* Feeds len bytes; fn runs for each message completed.  0, or -1 when out
 * of memory (the partial message is dropped). */
int qmp_frame_feed(struct qmp_frame *f, const char *data, size_t len, qmp_frame_fn fn,
		   void *opaque);

#endif
