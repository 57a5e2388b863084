/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_BLOCK_QCOW2_INT_H
#define VMON_BLOCK_QCOW2_INT_H

/*
 * The qcow2 driver's shared state (see docs/block.md for the design and
 * QEMU's docs/interop/qcow2.txt for the format).  Every entry point takes
 * q->lock; the functions declared here expect it held.
 */
#include <endian.h>
#include <pthread.h>

#include "block/block_int.h"

#define QCOW2_MAGIC 0x514649fbu

#define QCOW2_INCOMPAT_DIRTY    (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT  (1ull << 1)
#define QCOW2_INCOMPAT_DATAFILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESS (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2    (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN    0x1full
#define QCOW2_COMPAT_LAZY       (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_RAW (1ull << 1)

#define QCOW2_EXT_END          0x00000000u
#define QCOW2_EXT_BACKING_FMT  0xe2792acau
#define QCOW2_EXT_FEATURES     0x6803f857u
#define QCOW2_EXT_BITMAPS      0x23852875u
#define QCOW2_EXT_CRYPTO       0x0537be77u
#define QCOW2_EXT_DATAFILE     0x44415441u

#define QCOW_OFLAG_COPIED     (1ull << 63)
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO       1ull
#define L1E_OFFSET_MASK       0x00fffffffffffe00ull
#define L2E_OFFSET_MASK       0x00fffffffffffe00ull
#define REFT_OFFSET_MASK      0xfffffffffffffe00ull

/* Implementation limits, QEMU's. */
#define QCOW2_MAX_L1_BYTES     (32u << 20)
#define QCOW2_MAX_RT_BYTES     (8u << 20)
#define QCOW2_MAX_SNAPSHOTS    65536
#define QCOW2_MAX_SNAPTAB      (64u << 20)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_HOST_OFFSET  (1ull << 56)

struct qcache_ent {
	uint64_t off;        /* 0: free slot */
	uint8_t *data;
	uint64_t lru;
	int pin;
	bool dirty;
};

struct qcache {
	struct qcache_ent *e;
	int n;
	size_t size;         /* one table: a cluster */
	uint64_t tick;
	int last;            /* the last hit */
	bool is_l2;
};

struct qsnap {
	uint64_t l1_off;
	uint32_t l1_size;
	char *id, *name;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t vm_state_size;
	uint64_t disk_size;
	uint64_t icount;     /* UINT64_MAX: absent */
	uint32_t extra_size; /* as read; rewritten as at least 24 in v3 */
	uint8_t *extra;      /* unknown extra data beyond what we know, kept */
};

struct qcow2_plan;

/* An enabled persistent bitmap, kept up to date (qcow2_bitmap.c). */
struct qbitmap {
	uint64_t table_off;
	uint32_t table_size;
	unsigned gran_bits;
	uint64_t *table;              /* host order */
};

struct qcow2 {
	pthread_mutex_t lock;
	/* Guest reads in flight without the lock (qcow2_readv_unlocked). */
	pthread_mutex_t rd_lock;
	pthread_cond_t rd_cond;
	int readers;
	struct qcow2_plan *plan;      /* while a read is being planned */
	struct blk *b;
	struct blk_file *f;
	bool rw;

	uint32_t version;
	unsigned cluster_bits;
	uint64_t cs;                  /* cluster size */
	unsigned l2_bits;             /* log2 entries per L2 table */
	unsigned l2_entry_size;       /* 8, or 16 with extended L2 entries */
	bool ext_l2;
	uint64_t sc_size;             /* subcluster size (cs/32) with extended L2 */
	uint64_t incompat, compat, autoclear;
	unsigned refcount_order, refcount_bits;
	uint64_t refcount_max;
	unsigned rb_bits;             /* log2 refcount entries per refblock */
	uint32_t header_length;
	uint8_t compression_type;     /* 0 zlib, 1 zstd */
	uint8_t *header_tail;         /* unknown header bytes between 105 and header_length */

	uint64_t *l1;
	uint32_t l1_size;
	uint64_t l1_off;

	uint64_t *rt;
	uint64_t rt_off;
	uint32_t rt_clusters;
	uint64_t rt_size;             /* entries */

	struct qsnap *snaps;
	int nb_snaps;
	uint64_t snap_off;
	uint64_t snap_size;           /* bytes of the table */

	/* Header extensions we keep as they are, raw (type, length, data). */
	uint8_t *kept_exts;
	size_t kept_exts_len;
	bool has_bitmaps;
	uint32_t nb_bitmaps;
	uint64_t bm_dir_off, bm_dir_size;
	bool bitmaps_marked;          /* the bitmaps were looked at for writing */
	struct qbitmap *bms;          /* the enabled bitmaps we keep up to date */
	int nbms;

	/* External data file: guest clusters live there at their guest offsets. */
	bool has_df;
	bool df_raw;                  /* the data file is a consistent raw image too */
	bool df_ro;                   /* opened read-only: data writes fail */
	bool no_backing;              /* opened alone (blk_open_opts.no_backing) */
	char *df_name;
	struct blk_file df;

	struct qcache l2c, rbc;
	bool l2_dep_rc;               /* dirty L2 tables need the refcounts written first */
	bool lazy;                    /* lazy refcounts in effect (image marked dirty) */
	bool corrupt;                 /* stop writing */
	uint64_t free_idx;            /* no free cluster below this */
	uint64_t free_byte_off;       /* packing compressed clusters */
	uint64_t alloc_end;           /* past the highest cluster allocated while open */
	uint64_t file_end;            /* the file's size when opened */

	uint8_t *dbuf;                /* the last decompressed cluster */
	uint64_t dbuf_entry;          /* its L2 entry (0: none) */
	uint8_t *cbuf;                /* compressed bytes */
	uint8_t *tmp;                 /* one cluster of scratch */
};

static inline struct qcow2 *QS(struct blk *b) { return b->priv; }
/* Whether a standard L2 entry names a host cluster: a nonzero offset, or
 * with an external data file also offset 0 with COPIED set. */
static inline bool l2e_has_host(const struct qcow2 *q, uint64_t e)
{
	return (e & 0x00fffffffffffe00ull) ||
	       (q->has_df && (e & (1ull << 63)) && !(e & (1ull << 62)));
}

/* Where guest data clusters are: the image, or its external data file. */
static inline struct blk_file *dataf(struct qcow2 *q) { return q->has_df ? &q->df : q->f; }

static inline uint64_t be64_at(const void *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static inline uint32_t be32_at(const void *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint16_t be16_at(const void *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static inline void put_be64(void *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static inline void put_be32(void *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void put_be16(void *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }

static inline uint64_t cl_round_up(const struct qcow2 *q, uint64_t v) { return (v + q->cs - 1) & ~(q->cs - 1); }
static inline uint64_t cl_off(const struct qcow2 *q, uint64_t v) { return v & (q->cs - 1); }

/* Most iovec pieces one slice of a request is cut into. */
#define QCOW2_SLICE_MAX 1024

/* L2 entries: standard (8 bytes) or extended (16, with a subcluster bitmap). */
static inline uint64_t qcow2_l2_get(const struct qcow2 *q, const uint8_t *l2, uint64_t i)
{
	return be64_at(l2 + i * q->l2_entry_size);
}

static inline uint64_t qcow2_l2_bitmap(const struct qcow2 *q, const uint8_t *l2, uint64_t i)
{
	return q->ext_l2 ? be64_at(l2 + i * 16 + 8) : 0;
}

static inline void qcow2_l2_set(const struct qcow2 *q, uint8_t *l2, uint64_t i, uint64_t e, uint64_t bm)
{
	put_be64(l2 + i * q->l2_entry_size, e);
	if (q->ext_l2)
		put_be64(l2 + i * 16 + 8, bm);
}

/* qcow2_cache.c */
int qcache_init(struct qcache *c, int n, size_t size, bool is_l2);
void qcache_free(struct qcache *c);
/* Pins and returns the table at off; reads it when read is set, else zeroes it. */
int qcache_get(struct qcow2 *q, struct qcache *c, uint64_t off, bool read, uint8_t **data);
void qcache_put(struct qcache *c, uint8_t *data, bool dirty);
/* Writes every dirty table (respecting the dependency) and optionally syncs. */
int qcache_writeback(struct qcow2 *q, struct qcache *c);
void qcache_drop(struct qcache *c, uint64_t off);
void qcache_drop_all(struct qcache *c);
/* Refcounts, then L2 tables, then fdatasync. */
int qcow2_flush_caches(struct qcow2 *q, bool sync);

/* qcow2_refcount.c */
int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *rc);
int qcow2_update_refcount(struct qcow2 *q, uint64_t cluster, int64_t delta);
/* n contiguous clusters with refcount 1; returns the host offset or negative errno. */
int64_t qcow2_alloc_clusters(struct qcow2 *q, uint64_t n);
/* Byte range for compressed data (packs several into one cluster). */
int64_t qcow2_alloc_bytes(struct qcow2 *q, uint64_t size);
/* Drops one reference from each cluster of [off, off+len), in order: the
 * references must already be gone from the (written back) metadata. */
int qcow2_free_range(struct qcow2 *q, uint64_t off, uint64_t len);
/* Frees what an L2 entry points to (after the entry left the metadata). */
int qcow2_free_l2_entry(struct qcow2 *q, uint64_t entry);
int qcow2_refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t value);
uint64_t rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i);
void rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v);

/* qcow2_read.c */
int qcow2_readv(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off);
/* A guest read: takes q->lock itself, does the I/O without it. */
int qcow2_readv_unlocked(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off);
/* Waits until no read without the lock is in flight (q->lock held). */
void qcow2_drain_readers(struct qcow2 *q);
/* [off, off+len) of the guest disk into buf (q->lock held). */
int qcow2_read_buf(struct qcow2 *q, void *buf, uint64_t off, uint64_t len);
/* A data cluster offset from an L2 entry: unaligned or out of range marks
 * the image corrupt (-EIO). */
int qcow2_check_host(struct qcow2 *q, uint64_t host, uint64_t voff);

/* qcow2_cluster.c */
/* The L2 table for voff, pinned in the cache, or *l2 = NULL when none. */
int qcow2_get_l2(struct qcow2 *q, uint64_t voff, uint8_t **l2);
int qcow2_writev(struct qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t off);
/* discard: 0 write zeroes, 1 discard (zero flag over a backing file), 2 drop all */
int qcow2_zero_range(struct qcow2 *q, uint64_t off, uint64_t len, bool unmap, int discard);
int qcow2_write_compressed_cluster(struct qcow2 *q, const void *buf, size_t len, uint64_t off);
/* Compresses one cluster (len <= cs, zero padded) into out (cs bytes); 0: does not fit. No lock needed. */
size_t qcow2_compress(const struct qcow2 *q, const void *buf, size_t len, uint8_t *out);
int qcow2_write_compressed_data(struct qcow2 *q, uint64_t off, const void *cdata, size_t clen);
int qcow2_status(struct qcow2 *q, uint64_t off, uint64_t len, struct blk_status *st);
int qcow2_decompress(struct qcow2 *q, uint64_t entry, uint8_t *out);
void qcow2_compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len);
/* The L2 table for voff, ours alone (allocated or copied), pinned. */
int qcow2_get_l2_alloc(struct qcow2 *q, uint64_t voff, uint8_t **l2);
/* Grows the active L1 table to at least n entries. */
int qcow2_grow_l1(struct qcow2 *q, uint64_t n);
uint64_t qcow2_l1_entries_for(const struct qcow2 *q, uint64_t size);

/* qcow2_header.c */
int qcow2_write_header_field(struct qcow2 *q, unsigned off, const void *data, size_t len);
int qcow2_mark_dirty(struct qcow2 *q);
int qcow2_mark_clean(struct qcow2 *q);
int qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int qcow2_write_l1_entry(struct qcow2 *q, uint32_t idx);
bool qcow2_overlaps_metadata(struct qcow2 *q, uint64_t off, uint64_t len);
/* The first cluster (header, extensions, backing file name) into buf. */
int qcow2_build_header(struct qcow2 *q, uint64_t size, const char *bname, const char *bfmt,
		       uint8_t *buf, size_t cap);
/* Writes the first cluster anew, for another backing file. */
int qcow2_rewrite_header(struct qcow2 *q, const char *bname, const char *bfmt);
/* Before any change: a corrupt image refuses, lazy refcounts set the dirty
 * bit, enabled bitmaps are loaded.  0 or -errno. */
int qcow2_prepare_write(struct qcow2 *q);
/* The driver's resize (block.h truncate). */
int qcow2_truncate(struct blk *b, uint64_t size, bool shrink, char *err, size_t errlen);

/* qcow2_bitmap.c */
/* Before the first change: the enabled bitmaps, loaded to be kept up to date. */
int qcow2_bitmaps_prepare(struct qcow2 *q);
/* Sets the bits of [off, off+len) in every enabled bitmap, on disk. */
int qcow2_bitmaps_mark(struct qcow2 *q, uint64_t off, uint64_t len);

/* qcow2_create.c: the driver's create (blk_create). */
int qcow2_create(const char *path, const struct blk_create_opts *o, char *err, size_t errlen);

/* qcow2_snapshot.c */
int qcow2_read_snapshots(struct qcow2 *q, char *err, size_t errlen);
void qcow2_free_snapshots(struct qcow2 *q);
int qcow2_update_tree_refcounts(struct qcow2 *q, uint64_t *l1, uint32_t l1_size, int addend, bool active);

/* qcow2_check.c */
int qcow2_check(struct qcow2 *q, int fix, struct blk_check_result *r);

#endif
