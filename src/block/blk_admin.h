/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_BLOCK_BLK_ADMIN_H
#define VMON_BLOCK_BLK_ADMIN_H

/*
 * What vmon-img needs beyond the device-facing API of block.h: creating
 * images, allocation status, resizing, compressed writes, backing files,
 * internal snapshots and consistency checks.  Same conventions: negative
 * errno on failure; the functions that take err write a one-line reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

enum blk_prealloc { BLK_PREALLOC_OFF, BLK_PREALLOC_METADATA, BLK_PREALLOC_FALLOC, BLK_PREALLOC_FULL };

struct blk_create_opts {
	const char *format;          /* "raw" or "qcow2" */
	uint64_t size;
	const char *backing;         /* qcow2: backing file name as recorded, or NULL */
	const char *backing_fmt;     /* recorded backing format, or NULL */
	uint32_t cluster_size;       /* 0: 64 KiB */
	int version;                 /* 0: 3; or 2 ("compat=0.10") */
	unsigned refcount_bits;      /* 0: 16 */
	bool lazy_refcounts;
	bool extended_l2;
	bool zstd;                   /* compression_type=zstd */
	enum blk_prealloc prealloc;
	const char *data_file;       /* qcow2: external data file (created), or NULL */
	bool data_file_raw;
};

/* Creates (truncates) path as an empty image. */
int blk_create(const char *path, const struct blk_create_opts *o, char *err, size_t errlen);

/* Allocation status of a range, as qemu-img map reports it. */
enum {
	BLK_STATUS_DATA = 1,         /* reads data from some file (not known zero) */
	BLK_STATUS_ZERO = 2,         /* reads as zeroes */
	BLK_STATUS_ALLOCATED = 4,    /* this layer decides the contents (not the backing) */
	BLK_STATUS_OFFSET_VALID = 8, /* host_offset is where the data is in this layer's file */
	BLK_STATUS_COMPRESSED = 16,
};
struct blk_status {
	uint64_t pnum;               /* bytes from the start of the range alike (>0) */
	unsigned flags;
	uint64_t host_offset;
};
/* Status of this layer only (BLK_STATUS_ALLOCATED clear: look at the backing). */
int blk_block_status(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st);
/* Status through the chain: *depth is the layer that decides (0 = b), and
 * st->host_offset belongs to that layer's file; unallocated everywhere reads
 * as zero with *depth = -1. */
int blk_block_status_chain(struct blk *b, uint64_t off, uint64_t len, struct blk_status *st,
			   int *depth, struct blk **layer);

struct blk *blk_backing(const struct blk *b);
const char *blk_filename(const struct blk *b);
const char *blk_backing_name(const struct blk *b);    /* as recorded, or NULL */
const char *blk_backing_fmt(const struct blk *b);     /* as recorded, or NULL */
const char *blk_backing_path(const struct blk *b);    /* resolved, or NULL */
/* The last failure's reason when the driver left one, else "". */
const char *blk_last_error(const struct blk *b);

struct blk_info {
	uint64_t virtual_size;
	int64_t actual_size;         /* host bytes allocated */
	uint32_t cluster_size;       /* 0 for raw */
	int version;                 /* qcow2: 2 or 3 */
	unsigned refcount_bits;
	bool lazy_refcounts;
	bool corrupt;
	bool dirty;
	bool extended_l2;
	bool zstd;
	bool has_bitmaps;
	int nb_snapshots;
	int nb_bitmaps;
	const char *data_file;       /* qcow2 external data file name, or NULL */
	bool data_file_raw;
};
int blk_get_info(struct blk *b, struct blk_info *info);

/* Grows, or shrinks when shrink is set (qcow2: only when nothing past the
 * new end is allocated, and never with snapshots). */
int blk_truncate(struct blk *b, uint64_t size, bool shrink, char *err, size_t errlen);
/* Writes one whole cluster compressed (qcow2 only; the last cluster may be
 * short).  -ENOTSUP for formats without compression. */
int blk_write_compressed(struct blk *b, const void *buf, size_t len, uint64_t off);
/* The same in two steps, so that compression can run on several threads:
 * blk_compress (thread-safe, no I/O) compresses one cluster's data (the last
 * may be short) into out (a cluster's size); *clen = 0 when it does not get
 * smaller, and the data is then to be written with blk_pwrite.  Then
 * blk_write_compressed_data stores it for the cluster at off. */
int blk_compress(struct blk *b, const void *in, size_t len, void *out, size_t *clen);
int blk_write_compressed_data(struct blk *b, uint64_t off, const void *cdata, size_t clen);
uint32_t blk_cluster_size(const struct blk *b);   /* 0 for raw */
/* Records a new backing file name and format in the image (rebase -u). */
int blk_change_backing(struct blk *b, const char *name, const char *fmt);
/* Drops every allocated cluster so the image reads through to its backing. */
int blk_make_empty(struct blk *b);

/* cache=unsafe (qemu-img convert's default): flushes, the layer's own
 * included, do nothing.  Writes still reach the file in the order the
 * drivers issue them, so a killed process leaves a consistent image; a
 * host crash may not. */
void blk_set_cache_unsafe(struct blk *b, bool unsafe);

/* ---- qcow2 persistent dirty bitmaps (listed, kept, not tracked) ---- */
struct blk_bitmap {
	char name[1024];
	uint32_t flags;              /* bit 0 in_use, bit 1 auto */
	uint8_t granularity_bits;
};
/* Lists into *out (malloc'd); count, 0 when none, or negative errno. */
int blk_bitmap_list(struct blk *b, struct blk_bitmap **out);

/* ---- qcow2 internal snapshots ---- */
struct blk_snapshot {
	char id[128];
	char name[256];
	uint64_t vm_state_size;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t disk_size;
	uint64_t icount;             /* UINT64_MAX when absent */
};
/* Lists into *out (malloc'd, caller frees); count or negative errno. */
int blk_snapshot_list(struct blk *b, struct blk_snapshot **out);
int blk_snapshot_create(struct blk *b, const char *name, char *err, size_t errlen);
/* name matches a snapshot's id or its name. */
int blk_snapshot_apply(struct blk *b, const char *name, char *err, size_t errlen);
int blk_snapshot_delete(struct blk *b, const char *name, char *err, size_t errlen);

/* ---- consistency check ---- */
enum { BLK_FIX_LEAKS = 1, BLK_FIX_ERRORS = 2 };
struct blk_check_result {
	int corruptions, leaks, check_errors;
	int corruptions_fixed, leaks_fixed;
	uint64_t image_end_offset;
	uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
	bool supported;              /* false for formats without metadata (raw) */
	/* Messages, one per line, as the check found them (malloc'd). */
	char *log;
	size_t log_len;
};
int blk_check(struct blk *b, int fix, struct blk_check_result *r);
/* blk_open for checking: a corrupt image may open read-write (to repair),
 * and a dirty one is not repaired on the way in. */
struct blk *blk_open_for_check(const char *path, const struct blk_open_opts *opts,
			       char *err, size_t errlen);
void blk_check_result_free(struct blk_check_result *r);

#endif
