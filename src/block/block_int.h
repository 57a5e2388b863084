/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_BLOCK_BLOCK_INT_H
#define VMON_BLOCK_BLOCK_INT_H

/*
 * Inside the block layer: the host file helper every driver reads and
 * writes through (O_DIRECT bouncing lives here), the driver table, and
 * struct blk itself.  Nothing outside src/block/ includes this.
 */
#include <pthread.h>
#include <stdarg.h>
#include <sys/types.h>

#include "block/block.h"
#include "block/blk_admin.h"

/* ---- host files ---- */

struct blk_file {
	int fd;
	bool direct;          /* opened O_DIRECT: I/O must be aligned */
	unsigned align;       /* buffer, offset and length alignment when direct */
	pthread_mutex_t rmw;  /* serialises unaligned read-modify-write when direct */
	bool unsafe;          /* cache=unsafe: flushes do nothing (writes keep their order) */
};

int file_open(struct blk_file *f, const char *path, bool rw, bool direct,
	      char *err, size_t errlen);
void file_close(struct blk_file *f);
/* Whole-length I/O; reads past the end of the file return zeroes. */
int file_pread(struct blk_file *f, void *buf, size_t len, uint64_t off);
int file_pwrite(struct blk_file *f, const void *buf, size_t len, uint64_t off);
int file_preadv(struct blk_file *f, const struct iovec *iov, int iovcnt, uint64_t off);
int file_pwritev(struct blk_file *f, const struct iovec *iov, int iovcnt, uint64_t off);
int file_flush(struct blk_file *f);
int64_t file_size(struct blk_file *f);
int file_truncate(struct blk_file *f, uint64_t size);
/* Deallocates (reads back as zeroes) when the file system can; else -ENOTSUP. */
int file_punch(struct blk_file *f, uint64_t off, uint64_t len);
/* Reads back as zeroes afterwards, whatever the file system. */
int file_zero(struct blk_file *f, uint64_t off, uint64_t len, bool may_unmap);
/* Bytes of the file actually allocated on the host. */
int64_t file_allocated(struct blk_file *f);
/* Whether [off, off+len) holds data (true) or a hole (false); *pnum bytes alike. */
int file_data_status(struct blk_file *f, uint64_t off, uint64_t len, uint64_t *pnum, bool *data);

/* ---- iovec helpers ---- */

size_t iov_size(const struct iovec *iov, int iovcnt);
/* Describes bytes [off, off+len) of iov in out (at most max entries); count or -1. */
int iov_slice(const struct iovec *iov, int iovcnt, size_t off, size_t len,
	      struct iovec *out, int max);
void iov_to_buf(const struct iovec *iov, int iovcnt, size_t off, void *buf, size_t len);
void iov_from_buf(const struct iovec *iov, int iovcnt, size_t off, const void *buf, size_t len);
void iov_memset(const struct iovec *iov, int iovcnt, size_t off, int c, size_t len);
bool buf_is_zero(const void *buf, size_t len);

/* ---- drivers ---- */

struct blk_driver {
	const char *name;
	/* 0..100: how surely the first bytes of a file are this format. */
	int (*probe)(const uint8_t *buf, size_t len);
	/* Reads the image's metadata; sets b->size, b->backing_name/fmt. */
	int (*open)(struct blk *b, char *err, size_t errlen);
	void (*close)(struct blk *b);
	int (*preadv)(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*pwritev)(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*flush)(struct blk *b);
	int (*discard)(struct blk *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);
	int (*block_status)(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st);
	int (*truncate)(struct blk *b, uint64_t size, bool shrink, char *err, size_t errlen);
	int (*create)(const char *path, const struct blk_create_opts *o, char *err, size_t errlen);
	int (*write_compressed)(struct blk *b, const void *buf, size_t len, uint64_t off);
	int (*change_backing)(struct blk *b, const char *name, const char *fmt);
	int (*make_empty)(struct blk *b);
	int (*info)(struct blk *b, struct blk_info *info);
};

extern const struct blk_driver blk_raw_driver;
extern const struct blk_driver blk_qcow2_driver;

struct blk {
	const struct blk_driver *drv;
	void *priv;
	char *filename;
	struct blk_file file;
	uint64_t size;
	bool readonly;
	enum blk_cache cache;
	bool no_backing;      /* opened alone: no backing chain, no other file written */
	bool creating;        /* ... unless its creator opened it (blk_open_opts.creating) */
	struct blk *backing;
	char *backing_name;   /* as the image records it */
	char *backing_fmt;    /* as the image records it, or NULL */
	char *backing_path;   /* backing_name resolved against the image's directory */
	char errmsg[256];     /* why the last failed call failed, when a driver knows */
};

/* Set while blk_open_for_check opens: a corrupt image opens read-write and
 * a dirty one is left for the check to report. */
extern __thread bool blk_opening_for_check;

/* Reads from the backing chain, zeroes where there is none or past its end. */
int blk_read_backing(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t off);
void blk_set_error(struct blk *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* name as a path: relative to the directory of image (malloc'd). */
char *blk_resolve_relative(const char *image, const char *name);
void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
