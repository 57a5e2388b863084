/* SPDX-License-Identifier: Apache-2.0 */
#include "util/iov.h"

#include <stdint.h>
#include <string.h>

/* Calls fn on each piece of [skip, skip+len); the bytes covered. */
static size_t iov_walk(const struct iovec *iov, unsigned n, size_t skip, size_t len,
		       void (*fn)(void *seg, size_t done, size_t c, void *arg), void *arg)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip < len - done ? l - skip : len - done;
		fn((uint8_t *)iov[i].iov_base + skip, done, c, arg);
		done += c;
		skip = 0;
	}
	return done;
}

static void to_buf(void *seg, size_t done, size_t c, void *buf)
{
	memcpy((uint8_t *)buf + done, seg, c);
}

static void from_buf(void *seg, size_t done, size_t c, void *buf)
{
	memcpy(seg, (const uint8_t *)buf + done, c);
}

size_t iov_copy_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
	return iov_walk(iov, n, skip, len, to_buf, buf);
}

size_t iov_copy_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
			 size_t len)
{
	return iov_walk(iov, n, skip, len, from_buf, (void *)buf);
}

int iov_sub(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *out,
	    unsigned max)
{
	unsigned k = 0;
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (k == max)
			return -1;
		c = l - skip < len - done ? l - skip : len - done;
		out[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, c };
		done += c;
		skip = 0;
	}
	return done == len ? (int)k : -1;
}
