/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/kdecomp.h"

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* An output buffer that grows by doubling, never past its limit. */
struct outbuf {
	uint8_t *p;
	size_t len, cap, max;
};

static int outbuf_reserve(struct outbuf *o, size_t want)
{
	uint8_t *p;

	if (want > o->max)
		return -1;
	if (want <= o->cap)
		return 0;
	p = realloc(o->p, want);
	if (!p)
		return -1;
	o->p = p;
	o->cap = want;
	return 0;
}

/* Room for at least one more byte: 0, or -1 at the limit. */
static int outbuf_grow(struct outbuf *o)
{
	size_t want = o->cap ? o->cap * 2 : (size_t)16 << 20;

	if (o->len < o->cap)
		return 0;
	if (want > o->max)
		want = o->max;
	return want > o->len ? outbuf_reserve(o, want) : -1;
}

static int unpack_gzip(const uint8_t *in, size_t len, struct outbuf *o)
{
	z_stream z = { .next_in = (Bytef *)in, .avail_in = (uInt)len };
	int rc = Z_BUF_ERROR;     /* if no output room at all */

	if (len > UINT32_MAX || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	do {
		if (outbuf_grow(o))
			break;
		z.next_out = o->p + o->len;
		z.avail_out = (uInt)(o->cap - o->len);
		rc = inflate(&z, Z_NO_FLUSH);
		o->len = o->cap - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static int unpack_lzma_family(const uint8_t *in, size_t len, struct outbuf *o, int xz)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret rc;

	rc = xz ? lzma_stream_decoder(&s, UINT64_MAX, 0)   /* one stream, then the size */
		: lzma_alone_decoder(&s, UINT64_MAX);
	if (rc != LZMA_OK)
		return -1;
	s.next_in = in;
	s.avail_in = len;
	do {
		if (outbuf_grow(o))
			break;
		s.next_out = o->p + o->len;
		s.avail_out = o->cap - o->len;
		rc = lzma_code(&s, LZMA_FINISH);
		o->len = o->cap - s.avail_out;
	} while (rc == LZMA_OK);
	lzma_end(&s);
	return rc == LZMA_STREAM_END ? 0 : -1;
}

static int unpack_bzip2(const uint8_t *in, size_t len, struct outbuf *o)
{
	bz_stream s;
	int rc = BZ_OK;           /* if no output room at all */

	memset(&s, 0, sizeof(s));
	if (len > UINT32_MAX || BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return -1;
	s.next_in = (char *)in;
	s.avail_in = (unsigned)len;
	do {
		if (outbuf_grow(o))
			break;
		s.next_out = (char *)o->p + o->len;
		s.avail_out = (unsigned)(o->cap - o->len > UINT32_MAX ? UINT32_MAX : o->cap - o->len);
		rc = BZ2_bzDecompress(&s);
		o->len = (size_t)(s.next_out - (char *)o->p);
	} while (rc == BZ_OK && (s.avail_in || !s.avail_out));  /* no input left: truncated */
	BZ2_bzDecompressEnd(&s);
	return rc == BZ_STREAM_END ? 0 : -1;
}

/*
 * The kernel's LZ4 is the legacy frame: a magic, then blocks of at most
 * 8 MiB output, each led by its compressed size; a repeated magic (from
 * concatenated frames) is skipped, and the stream may end in padding.
 */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int unpack_lz4(const uint8_t *in, size_t len, struct outbuf *o)
{
	size_t pos = 4;

	while (pos < len) {
		uint32_t csize;
		size_t room;
		int n;

		if (len - pos < 4)
			return -1;
		csize = le32(in + pos);
		/* The kernel's build appends the unpacked size: it must agree. */
		if (len - pos == 4)
			return csize == o->len ? 0 : -1;
		if (csize == LZ4_LEGACY_MAGIC) {
			pos += 4;
			continue;
		}
		if (csize == 0)
			break;     /* zero padding after the stream */
		if (csize > len - pos - 4)
			return -1; /* a block cut short: corrupt, not the end */
		room = o->max - o->len < LZ4_LEGACY_BLOCK ? o->max - o->len : LZ4_LEGACY_BLOCK;
		if (!room || outbuf_reserve(o, o->len + room))
			return -1;
		n = LZ4_decompress_safe((const char *)in + pos + 4, (char *)o->p + o->len,
					(int)csize, (int)room);
		if (n < 0)
			return -1;
		o->len += (size_t)n;
		pos += 4 + csize;
	}
	return o->len ? 0 : -1;
}

static int unpack_zstd(const uint8_t *in, size_t len, struct outbuf *o)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t rc = 1;

	if (!z)
		return -1;
	while (ib.pos < ib.size && rc != 0) {
		ZSTD_outBuffer ob;

		if (outbuf_grow(o))
			break;
		ob = (ZSTD_outBuffer){ o->p + o->len, o->cap - o->len, 0 };
		rc = ZSTD_decompressStream(z, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(rc))
			break;
	}
	ZSTD_freeDStream(z);
	return rc == 0 ? 0 : -1;
}

enum kformat { KF_GZIP, KF_XZ, KF_LZMA, KF_BZIP2, KF_LZ4, KF_ZSTD, KF_NONE };

static const struct {
	const char *name;
	uint8_t magic[6];
	size_t n;
} formats[] = {
	[KF_GZIP] = { "gzip", { 0x1f, 0x8b }, 2 },
	[KF_XZ] = { "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6 },
	[KF_LZMA] = { "lzma", { 0x5d, 0, 0 }, 3 },
	[KF_BZIP2] = { "bzip2", { 'B', 'Z', 'h' }, 3 },
	[KF_LZ4] = { "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4 },
	[KF_ZSTD] = { "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
};

static enum kformat detect(const uint8_t *in, size_t len)
{
	for (int f = 0; f < KF_NONE; f++)
		if (len >= formats[f].n && !memcmp(in, formats[f].magic, formats[f].n))
			return (enum kformat)f;
	return KF_NONE;
}

const char *kdecomp_format(const uint8_t *in, size_t len)
{
	enum kformat f = detect(in, len);

	return f == KF_NONE ? NULL : formats[f].name;
}

int kdecomp(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len,
	    char *why, size_t why_len)
{
	struct outbuf o = { .max = max };
	enum kformat f = detect(in, len);
	int rc = -1;

	switch (f) {
	case KF_GZIP:  rc = unpack_gzip(in, len, &o); break;
	case KF_XZ:    rc = unpack_lzma_family(in, len, &o, 1); break;
	case KF_LZMA:  rc = unpack_lzma_family(in, len, &o, 0); break;
	case KF_BZIP2: rc = unpack_bzip2(in, len, &o); break;
	case KF_LZ4:   rc = unpack_lz4(in, len, &o); break;
	case KF_ZSTD:  rc = unpack_zstd(in, len, &o); break;
	case KF_NONE:
		snprintf(why, why_len, "unknown compression");
		return -1;
	}
	if (rc) {
		snprintf(why, why_len, "corrupt or oversized %s payload", formats[f].name);
		free(o.p);
		return -1;
	}
	*out = o.p;
	*out_len = o.len;
	return 0;
}
