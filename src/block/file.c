/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host files for the block layer: whole-length positional I/O, flush,
 * hole punching, and the bouncing O_DIRECT (cache=none) needs when a
 * caller's buffer, offset or length is not aligned to the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"

#define MAX_IOV 1024

void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- iovecs ---- */

size_t iov_size(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

int iov_slice(const struct iovec *iov, int iovcnt, size_t off, size_t len,
	      struct iovec *out, int max)
{
	int n = 0;

	for (int i = 0; i < iovcnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		if (n == max)
			return -1;
		out[n].iov_base = (char *)iov[i].iov_base + off;
		out[n].iov_len = take;
		n++;
		len -= take;
		off = 0;
	}
	return len ? -1 : n;
}

void iov_to_buf(const struct iovec *iov, int iovcnt, size_t off, void *buf, size_t len)
{
	char *p = buf;

	for (int i = 0; i < iovcnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		memcpy(p, (char *)iov[i].iov_base + off, take);
		p += take;
		len -= take;
		off = 0;
	}
}

void iov_from_buf(const struct iovec *iov, int iovcnt, size_t off, const void *buf, size_t len)
{
	const char *p = buf;

	for (int i = 0; i < iovcnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		memcpy((char *)iov[i].iov_base + off, p, take);
		p += take;
		len -= take;
		off = 0;
	}
}

void iov_memset(const struct iovec *iov, int iovcnt, size_t off, int c, size_t len)
{
	for (int i = 0; i < iovcnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		memset((char *)iov[i].iov_base + off, c, take);
		len -= take;
		off = 0;
	}
}

bool buf_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i = 0;

	for (; i < len && ((uintptr_t)(p + i) & 7); i++)
		if (p[i])
			return false;
	for (; i + 32 <= len; i += 32) {
		const uint64_t *q = (const uint64_t *)(p + i);
		if (q[0] | q[1] | q[2] | q[3])
			return false;
	}
	for (; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- opening ---- */

/* The alignment O_DIRECT wants: the device's logical block size, found by
 * trying an aligned read of 512 bytes (EINVAL means it wants more). */
static unsigned probe_align(int fd)
{
	int ssz = 0;
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
		return (unsigned)ssz;
	for (unsigned a = 512; a <= 4096; a <<= 1) {
		void *buf;
		if (posix_memalign(&buf, 4096, a))
			return 4096;
		ssize_t r = pread(fd, buf, a, 0);
		free(buf);
		if (r >= 0)
			return a;
		if (errno != EINVAL)
			return a;
	}
	return 4096;
}

int file_open(struct blk_file *f, const char *path, bool rw, bool direct,
	      char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO named by a hostile image must not hang the open;
	 * anything but a regular file or block device is refused below. */
	int flags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK;
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (direct)
		flags |= O_DIRECT;
	int fd = open(path, flags);
	if (fd < 0 && direct && errno == EINVAL) {
		errf(err, errlen, "%s: the file system does not support cache=none (O_DIRECT)", path);
		return -EINVAL;
	}
	if (fd < 0) {
		int e = errno;
		errf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		errf(err, errlen, "%s: not a regular file or block device", path);
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f->fd = fd;
	f->direct = direct;
	f->align = direct ? probe_align(fd) : 1;
	pthread_mutex_init(&f->rmw, NULL);
	return 0;
}

void file_close(struct blk_file *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		pthread_mutex_destroy(&f->rmw);
	}
	f->fd = -1;
}

/* ---- plain I/O ---- */

static int raw_preadv_all(int fd, struct iovec *iov, int iovcnt, uint64_t off)
{
	while (iovcnt > 0) {
		ssize_t r = preadv(fd, iov, iovcnt > IOV_MAX ? IOV_MAX : iovcnt, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {       /* end of file: the rest reads as zeroes */
			for (int i = 0; i < iovcnt; i++)
				memset(iov[i].iov_base, 0, iov[i].iov_len);
			return 0;
		}
		off += (uint64_t)r;
		while (iovcnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static int raw_pwritev_all(int fd, struct iovec *iov, int iovcnt, uint64_t off)
{
	while (iovcnt > 0) {
		ssize_t r = pwritev(fd, iov, iovcnt > IOV_MAX ? IOV_MAX : iovcnt, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		off += (uint64_t)r;
		while (iovcnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static bool iov_aligned(const struct iovec *iov, int iovcnt, uint64_t off, unsigned a)
{
	if (off % a)
		return false;
	for (int i = 0; i < iovcnt; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) % a)
			return false;
	return true;
}

/* Copies iov into a private array (the helpers above advance it). */
static struct iovec *iov_dup(const struct iovec *iov, int iovcnt, struct iovec *stack, int nstack)
{
	struct iovec *v = iovcnt <= nstack ? stack : malloc(sizeof(*v) * (size_t)iovcnt);
	if (v)
		memcpy(v, iov, sizeof(*v) * (size_t)iovcnt);
	return v;
}

/* Bounced O_DIRECT I/O through one aligned buffer covering the request. */
static int bounce_io(struct blk_file *f, const struct iovec *iov, int iovcnt,
		     uint64_t off, bool write)
{
	size_t len = iov_size(iov, iovcnt);
	uint64_t a = f->align;
	uint64_t start = off / a * a, end = (off + len + a - 1) / a * a;
	size_t blen = (size_t)(end - start);
	const size_t chunk_max = 4u << 20;
	int ret = 0;

	if (blen > chunk_max) {   /* keep the bounce buffer bounded: split */
		size_t done = 0;
		while (done < len && !ret) {
			size_t n = chunk_max - (size_t)((off + done) % a) - a;
			if (n > len - done)
				n = len - done;
			struct iovec sub[MAX_IOV];
			int cnt = iov_slice(iov, iovcnt, done, n, sub, MAX_IOV);
			if (cnt < 0)
				return -EINVAL;
			ret = bounce_io(f, sub, cnt, off + done, write);
			done += n;
		}
		return ret;
	}
	void *buf;
	if (posix_memalign(&buf, 4096, blen))
		return -ENOMEM;
	struct iovec bv = { buf, blen };
	if (write) {
		pthread_mutex_lock(&f->rmw);
		if (start != off || end != off + len) {
			/* Partial blocks at either end: read them first. */
			struct iovec hv = { buf, (size_t)a };
			ret = raw_preadv_all(f->fd, &hv, 1, start);
			if (!ret && end - a != start) {
				struct iovec tv = { (char *)buf + blen - a, (size_t)a };
				ret = raw_preadv_all(f->fd, &tv, 1, end - a);
			}
		}
		if (!ret) {
			iov_to_buf(iov, iovcnt, 0, (char *)buf + (off - start), len);
			ret = raw_pwritev_all(f->fd, &bv, 1, start);
		}
		pthread_mutex_unlock(&f->rmw);
	} else {
		ret = raw_preadv_all(f->fd, &bv, 1, start);
		if (!ret)
			iov_from_buf(iov, iovcnt, 0, (char *)buf + (off - start), len);
	}
	free(buf);
	return ret;
}

/* Whole-length vectored I/O; O_DIRECT files bounce unaligned requests. */
static int file_iov(struct blk_file *f, const struct iovec *iov, int iovcnt, uint64_t off,
		    bool write)
{
	struct iovec stack[16];
	int ret;

	if (f->direct && !iov_aligned(iov, iovcnt, off, f->align))
		return bounce_io(f, iov, iovcnt, off, write);
	struct iovec *v = iov_dup(iov, iovcnt, stack, 16);
	if (!v)
		return -ENOMEM;
	ret = write ? raw_pwritev_all(f->fd, v, iovcnt, off) : raw_preadv_all(f->fd, v, iovcnt, off);
	if (v != stack)
		free(v);
	return ret;
}

int file_preadv(struct blk_file *f, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return file_iov(f, iov, iovcnt, off, false);
}

int file_pwritev(struct blk_file *f, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return file_iov(f, iov, iovcnt, off, true);
}

int file_pread(struct blk_file *f, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { buf, len };
	return file_preadv(f, &v, 1, off);
}

int file_pwrite(struct blk_file *f, const void *buf, size_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };
	return file_pwritev(f, &v, 1, off);
}

int file_flush(struct blk_file *f)
{
	if (f->unsafe)
		return 0;
	while (fdatasync(f->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int64_t file_size(struct blk_file *f)
{
	struct stat st;
	uint64_t sz;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(f->fd, BLKGETSIZE64, &sz) < 0)
			return -errno;
		return (int64_t)sz;
	}
	return st.st_size;
}

int64_t file_allocated(struct blk_file *f)
{
	struct stat st;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	return (int64_t)st.st_blocks * 512;
}

int file_truncate(struct blk_file *f, uint64_t size)
{
	struct stat st;

	if (fstat(f->fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		int64_t cur = file_size(f);
		return cur >= 0 && (uint64_t)cur >= size ? 0 : -ENOSPC;
	}
	if (ftruncate(f->fd, (off_t)size) < 0)
		return -errno;
	return 0;
}

int file_punch(struct blk_file *f, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	return errno == EOPNOTSUPP || errno == ENOSYS ? -ENOTSUP : -errno;
}

int file_zero(struct blk_file *f, uint64_t off, uint64_t len, bool may_unmap)
{
	if (!len)
		return 0;
	if (may_unmap && file_punch(f, off, len) == 0)
		return 0;
	if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0) {
		/* ZERO_RANGE with KEEP_SIZE leaves the size; extend if needed. */
		int64_t sz = file_size(f);
		if (sz >= 0 && (uint64_t)sz < off + len && file_truncate(f, off + len) < 0)
			goto slow;
		return 0;
	}
slow:;
	size_t bl = 1u << 20;
	void *z;
	if (posix_memalign(&z, 4096, bl))
		return -ENOMEM;
	memset(z, 0, bl);
	int ret = 0;
	while (len && !ret) {
		size_t n = len < bl ? (size_t)len : bl;
		ret = file_pwrite(f, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

int file_data_status(struct blk_file *f, uint64_t off, uint64_t len, uint64_t *pnum, bool *data)
{
	off_t d = lseek(f->fd, (off_t)off, SEEK_DATA);

	if (d < 0) {
		if (errno == ENXIO) {       /* past the last data: a hole to the end */
			*data = false;
			*pnum = len;
			return 0;
		}
		*data = true;               /* no SEEK_DATA: say data */
		*pnum = len;
		return 0;
	}
	if ((uint64_t)d > off) {
		*data = false;
		*pnum = (uint64_t)d - off < len ? (uint64_t)d - off : len;
		return 0;
	}
	off_t h = lseek(f->fd, (off_t)off, SEEK_HOLE);
	*data = true;
	if (h < 0 || (uint64_t)h <= off)
		*pnum = len;
	else
		*pnum = (uint64_t)h - off < len ? (uint64_t)h - off : len;
	return 0;
}
