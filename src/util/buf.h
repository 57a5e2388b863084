/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_UTIL_BUF_H
#define VMON_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; zero-initialised it is empty. */
struct buf {
	uint8_t *data;
	size_t len, cap;
};

/* Appends n bytes, doubling the capacity as needed; -1 and b unchanged if out of memory. */
int buf_append(struct buf *b, const void *p, size_t n);
void buf_free(struct buf *b);

#endif
