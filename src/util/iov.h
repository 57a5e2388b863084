/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_UTIL_IOV_H
#define VMON_UTIL_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Copies between bytes [skip, skip+len) of a scatter list and a flat buffer;
 * returns the bytes copied (fewer when the list is shorter). */
size_t iov_copy_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t iov_copy_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
			 size_t len);
/* Describes bytes [skip, skip+len) of iov in out (at most max entries);
 * the number of entries, or -1 if they do not fit or iov is too short. */
int iov_sub(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *out,
	    unsigned max);

#endif
