/* SPDX-License-Identifier: Apache-2.0 */
#include <bzlib.h>
#include <lz4.h>
#include <lz4hc.h>
#include <lzma.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "arch/x86/kdecomp.h"
#include "test.h"

/*
 * Every payload format a Linux bzImage may carry, compressed here by the
 * real libraries the way the kernel's build does it, then unpacked by
 * kdecomp().  The kernel's build appends the uncompressed size as a 4-byte
 * trailer to every format but gzip (scripts/Makefile.lib, size_append), so
 * each format is also tried with that trailer.
 */

#define MiB (1ULL << 20)
#define DATA_LEN (3 * MiB + 12345)
#define BIG_LEN (9 * MiB + 777)          /* more than one 8 MiB LZ4 block */
#define SMALL_LEN (256 * 1024 + 99)      /* for the many corruption rounds */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8 * MiB)
#define NO_LIMIT (256 * MiB)
#define TEST_SECONDS 10

struct buf {
	uint8_t *p;
	size_t len;
};

enum fmt { F_GZIP, F_XZ, F_XZ_X86, F_LZMA, F_BZIP2, F_LZ4, F_LZ4HC, F_ZSTD, F_ZSTD_CHECK, F_NR };

static const struct {
	const char *label, *name;
	int checksummed;          /* corruption is always detected */
} fmts[F_NR] = {
	[F_GZIP] = { "gzip", "gzip", 1 },
	[F_XZ] = { "xz", "xz", 1 },
	[F_XZ_X86] = { "xz+x86 BCJ", "xz", 1 },
	[F_LZMA] = { "lzma", "lzma", 0 },
	[F_BZIP2] = { "bzip2", "bzip2", 1 },
	[F_LZ4] = { "lz4", "lz4", 0 },
	[F_LZ4HC] = { "lz4 HC", "lz4", 0 },
	[F_ZSTD] = { "zstd", "zstd", 0 },
	[F_ZSTD_CHECK] = { "zstd+checksum", "zstd", 1 },
};

static uint8_t *data, *small, *big;
static struct buf packed[F_NR], packed_small[F_NR];

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Something like an executable: noise, runs of zeros, repeated text, and
 * bytes from a small alphabet, in 4 KiB pieces. */
static uint8_t *make_data(size_t len, uint64_t seed)
{
	static const char text[] = "vmon test payload: the quick brown fox jumps over the lazy dog. ";
	uint8_t *p = malloc(len);

	if (!p)
		return NULL;
	rng_state = seed;
	for (size_t at = 0; at < len; at += 4096) {
		size_t n = len - at < 4096 ? len - at : 4096;
		uint32_t kind = rng() % 4;

		for (size_t i = 0; i < n; i++) {
			switch (kind) {
			case 0: p[at + i] = 0; break;
			case 1: p[at + i] = (uint8_t)rng(); break;
			case 2: p[at + i] = (uint8_t)text[(at / 4096 + i) % (sizeof(text) - 1)]; break;
			default: p[at + i] = (uint8_t)"\x00\x48\x89\xe5\xc3\xff"[rng() % 6]; break;
			}
		}
	}
	return p;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ---- the compressors ---------------------------------------------------- */

static int pack_gzip(const uint8_t *in, size_t len, struct buf *out)
{
	z_stream z = { 0 };
	int rc;

	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	out->p = malloc(deflateBound(&z, len));
	if (!out->p) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out->p;
	z.avail_out = (uInt)deflateBound(&z, len);
	rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* xz as the kernel's scripts/xz_wrap.sh makes it: CRC32, optionally the
 * x86 branch filter in front of LZMA2. */
static int pack_xz(const uint8_t *in, size_t len, struct buf *out, int x86)
{
	size_t cap = lzma_stream_buffer_bound(len), pos = 0;
	lzma_options_lzma opt;
	lzma_filter filters[3];
	int n = 0;

	if (lzma_lzma_preset(&opt, 1))
		return -1;
	if (x86)
		filters[n++] = (lzma_filter){ LZMA_FILTER_X86, NULL };
	filters[n++] = (lzma_filter){ LZMA_FILTER_LZMA2, &opt };
	filters[n] = (lzma_filter){ LZMA_VLI_UNKNOWN, NULL };
	out->p = malloc(cap);
	if (!out->p)
		return -1;
	if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len, out->p, &pos, cap))
		return -1;
	out->len = pos;
	return 0;
}

/* The legacy .lzma format: 13-byte header, size unknown, end marker. */
static int pack_lzma(const uint8_t *in, size_t len, struct buf *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	size_t cap = len + len / 2 + 4096;
	lzma_ret rc;

	if (lzma_lzma_preset(&opt, 1) || lzma_alone_encoder(&s, &opt) != LZMA_OK)
		return -1;
	out->p = malloc(cap);
	if (!out->p) {
		lzma_end(&s);
		return -1;
	}
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out->p;
	s.avail_out = cap;
	do
		rc = lzma_code(&s, LZMA_FINISH);
	while (rc == LZMA_OK && s.avail_out);
	out->len = (size_t)s.total_out;
	lzma_end(&s);
	return rc == LZMA_STREAM_END ? 0 : -1;
}

static int pack_bzip2(const uint8_t *in, size_t len, struct buf *out)
{
	unsigned cap = (unsigned)(len + len / 100 + 600 + 4096);

	out->p = malloc(cap);
	if (!out->p)
		return -1;
	if (BZ2_bzBuffToBuffCompress((char *)out->p, &cap, (char *)in, (unsigned)len, 9, 0, 0) != BZ_OK)
		return -1;
	out->len = cap;
	return 0;
}

/*
 * The LZ4 legacy frame as `lz4 -l` writes it: the magic, then blocks of at
 * most 8 MiB input each led by its LE32 compressed size.  hc picks the
 * high-compression encoder; magic_every repeats the magic before every
 * block (concatenated frames).
 */
static int pack_lz4(const uint8_t *in, size_t len, struct buf *out, int hc, int magic_every)
{
	size_t nblocks = len / LZ4_LEGACY_BLOCK + 1;
	size_t cap = 4 + nblocks * (8 + (size_t)LZ4_compressBound((int)LZ4_LEGACY_BLOCK));
	size_t pos = 4;

	out->p = malloc(cap);
	if (!out->p)
		return -1;
	put_le32(out->p, LZ4_LEGACY_MAGIC);
	for (size_t at = 0; at < len; at += LZ4_LEGACY_BLOCK) {
		int n = (int)(len - at < LZ4_LEGACY_BLOCK ? len - at : LZ4_LEGACY_BLOCK), c;
		char *dst;

		if (magic_every && at) {
			put_le32(out->p + pos, LZ4_LEGACY_MAGIC);
			pos += 4;
		}
		dst = (char *)out->p + pos + 4;
		c = hc ? LZ4_compress_HC((const char *)in + at, dst, n, (int)(cap - pos - 4), 9)
		       : LZ4_compress_default((const char *)in + at, dst, n, (int)(cap - pos - 4));
		if (c <= 0)
			return -1;
		put_le32(out->p + pos, (uint32_t)c);
		pos += 4 + (size_t)c;
	}
	out->len = pos;
	return 0;
}

static int pack_zstd(const uint8_t *in, size_t len, struct buf *out, int checksum)
{
	size_t cap = ZSTD_compressBound(len), n;
	ZSTD_CCtx *c = ZSTD_createCCtx();

	out->p = malloc(cap);
	if (!c || !out->p)
		return -1;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	n = ZSTD_compress2(c, out->p, cap, in, len);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(n))
		return -1;
	out->len = n;
	return 0;
}

static int pack(enum fmt f, const uint8_t *in, size_t len, struct buf *out)
{
	*out = (struct buf){ 0 };
	switch (f) {
	case F_GZIP: return pack_gzip(in, len, out);
	case F_XZ: return pack_xz(in, len, out, 0);
	case F_XZ_X86: return pack_xz(in, len, out, 1);
	case F_LZMA: return pack_lzma(in, len, out);
	case F_BZIP2: return pack_bzip2(in, len, out);
	case F_LZ4: return pack_lz4(in, len, out, 0, 0);
	case F_LZ4HC: return pack_lz4(in, len, out, 1, 0);
	case F_ZSTD: return pack_zstd(in, len, out, 0);
	case F_ZSTD_CHECK: return pack_zstd(in, len, out, 1);
	case F_NR: break;
	}
	return -1;
}

/* A copy of b with the kernel's LE32 uncompressed-size trailer. */
static struct buf with_size_trailer(const struct buf *b, size_t size)
{
	struct buf t = { malloc(b->len + 4), b->len + 4 };

	if (t.p) {
		memcpy(t.p, b->p, b->len);
		put_le32(t.p + b->len, (uint32_t)size);
	}
	return t;
}

/* ---- checking ------------------------------------------------------------ */

static char why[128];
static const char *doing = "";      /* the format under test, for on_alarm */

/* kdecomp's result on in: -1, 0 (the original bytes), or 1 (other bytes). */
static int unpack(const struct buf *in, size_t max, const uint8_t *want, size_t want_len)
{
	uint8_t *out = (uint8_t *)1;
	size_t out_len = 0;
	int same;

	why[0] = 0;
	if (kdecomp(in->p, in->len, max, &out, &out_len, why, sizeof(why)))
		return -1;
	same = out_len == want_len && !memcmp(out, want, want_len);
	if (out_len > max) {
		printf("FAIL %s: %zu bytes out, max was %zu\n", test_current, out_len, max);
		test_failed = 1;
	}
	free(out);
	return same ? 0 : 1;
}

#define EXPECT(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL %s: ", test_current); \
		printf(__VA_ARGS__); \
		printf(" (why: '%s')\n", why); \
		test_failed = 1; \
	} \
} while (0)

static void round_trip(void)
{
	for (int f = 0; f < F_NR; f++) {
		int rc;

		doing = fmts[f].label;
		rc = unpack(&packed[f], NO_LIMIT, data, DATA_LEN);
		EXPECT(rc == 0, "%s: %zu bytes in, result %d", fmts[f].label, packed[f].len, rc);
		EXPECT(packed[f].len < DATA_LEN, "%s did not compress", fmts[f].label);
	}
}

static void round_trip_with_size_trailer(void)
{
	for (int f = 0; f < F_NR; f++) {
		struct buf t = with_size_trailer(&packed[f], DATA_LEN);
		int rc;

		doing = fmts[f].label;
		CHECK(t.p);
		rc = unpack(&t, NO_LIMIT, data, DATA_LEN);
		EXPECT(rc == 0, "%s + size trailer: result %d", fmts[f].label, rc);
		free(t.p);
	}
}

static void format_names(void)
{
	static const uint8_t junk[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0 };

	for (int f = 0; f < F_NR; f++) {
		const char *name = kdecomp_format(packed[f].p, packed[f].len);

		doing = fmts[f].label;
		EXPECT(name && !strcmp(name, fmts[f].name), "%s is named '%s'", fmts[f].label,
		       name ? name : "(null)");
	}
	CHECK(kdecomp_format(junk, sizeof(junk)) == NULL);
	CHECK(kdecomp_format(junk, 0) == NULL);
	CHECK(kdecomp_format(packed[F_GZIP].p, 1) == NULL);       /* half a magic */
	CHECK(kdecomp_format(packed[F_XZ].p, 5) == NULL);
	CHECK(kdecomp_format(packed[F_ZSTD].p, 3) == NULL);
}

/* More than one 8 MiB block; with the trailer; with the magic repeated. */
static void lz4_multi_block(void)
{
	struct buf b, t, m;

	CHECK(pack_lz4(big, BIG_LEN, &b, 0, 0) == 0);
	CHECK(get_le32(b.p) == LZ4_LEGACY_MAGIC);
	CHECK_EQ(unpack(&b, NO_LIMIT, big, BIG_LEN), 0);
	t = with_size_trailer(&b, BIG_LEN);
	CHECK(t.p);
	CHECK_EQ(unpack(&t, NO_LIMIT, big, BIG_LEN), 0);
	CHECK(pack_lz4(big, BIG_LEN, &m, 0, 1) == 0);
	CHECK_EQ(unpack(&m, NO_LIMIT, big, BIG_LEN), 0);
	/* A limit between the two blocks stops it. */
	CHECK_EQ(unpack(&t, 8 * MiB + 100, big, BIG_LEN), -1);
	free(b.p);
	free(t.p);
	free(m.p);
}

/* One legacy block may hold at most 8 MiB: a bigger one is no kernel's. */
static void lz4_oversized_block(void)
{
	size_t n = BIG_LEN, cap = (size_t)LZ4_compressBound((int)n) + 8;
	struct buf b = { malloc(cap), 0 };
	int c;

	CHECK(b.p);
	put_le32(b.p, LZ4_LEGACY_MAGIC);
	c = LZ4_compress_default((const char *)big, (char *)b.p + 8, (int)n, (int)(cap - 8));
	CHECK(c > 0);
	put_le32(b.p + 4, (uint32_t)c);
	b.len = 8 + (size_t)c;
	CHECK_EQ(unpack(&b, NO_LIMIT, big, BIG_LEN), -1);
	free(b.p);
}

static void unknown_format(void)
{
	uint8_t junk[4096];
	uint8_t *out = NULL;
	size_t out_len = 12345;
	char small_why[8];

	memset(junk, 0x90, sizeof(junk));
	CHECK_EQ(kdecomp(junk, sizeof(junk), NO_LIMIT, &out, &out_len, why, sizeof(why)), -1);
	CHECK(strstr(why, "unknown") != NULL);
	CHECK(out == NULL);
	CHECK_EQ(out_len, 12345);
	CHECK_EQ(kdecomp(junk, 0, NO_LIMIT, &out, &out_len, why, sizeof(why)), -1);
	CHECK(strstr(why, "unknown") != NULL);
	/* A short why buffer is cut, not overrun (the sanitizer build checks). */
	CHECK_EQ(kdecomp(junk, sizeof(junk), NO_LIMIT, &out, &out_len, small_why,
			 sizeof(small_why)), -1);
	CHECK(strlen(small_why) < sizeof(small_why));
}

/* Only the magic, or the magic and a few bytes: nothing to unpack. */
static void magic_only(void)
{
	for (int f = 0; f < F_NR; f++) {
		doing = fmts[f].label;
		for (size_t n = 2; n <= 16; n += 7) {
			struct buf b = { packed[f].p, n };
			int rc = unpack(&b, NO_LIMIT, data, DATA_LEN);

			EXPECT(rc == -1, "%s cut to %zu bytes: result %d", fmts[f].label, n, rc);
		}
	}
}

/* Cut short anywhere inside the stream: -1, never part of the data. */
static void truncated(void)
{
	for (int f = 0; f < F_NR; f++) {
		const struct buf *p = &packed_small[f];
		size_t cuts[] = { 13, 100, p->len / 3, p->len / 2, p->len - 100, p->len - 5, p->len - 1 };

		doing = fmts[f].label;
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			struct buf b = { p->p, cuts[i] };
			int rc = unpack(&b, NO_LIMIT, small, SMALL_LEN);

			/* LZ4 has no end mark: its last bytes are the last block's. */
			EXPECT(rc == -1, "%s cut to %zu of %zu bytes: result %d", fmts[f].label,
			       cuts[i], p->len, rc);
		}
	}
}

/* The kernel's LZ4 payload cut inside its second block, with or without
 * what remains of the trailer: the first 8 MiB alone are no kernel. */
static void lz4_truncated_multi_block(void)
{
	struct buf b;
	size_t second, cuts[4];

	CHECK(pack_lz4(big, BIG_LEN, &b, 0, 0) == 0);
	second = 8 + get_le32(b.p + 4);     /* where block 2 starts */
	CHECK(second < b.len);
	cuts[0] = second + 4 + (b.len - second - 4) / 2;  /* middle of block 2 */
	cuts[1] = b.len - 1;
	cuts[2] = second + 4 + 10;
	cuts[3] = second + 2;                             /* inside its size */
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct buf t = { b.p, cuts[i] };
		int rc = unpack(&t, NO_LIMIT, big, BIG_LEN);

		EXPECT(rc == -1, "lz4, 2 blocks, cut to %zu of %zu bytes: result %d (%s)",
		       cuts[i], b.len, rc, rc == 1 ? "partial output accepted" : "?");
	}
	free(b.p);
}

/*
 * Bytes changed in the middle: -1 or other bytes, never a crash or a read
 * outside the input (the sanitizer build runs this too).  Formats with a
 * checksum must notice every time; the others at least most of the time.
 */
static void corrupted(void)
{
	for (int f = 0; f < F_NR; f++) {
		const struct buf *p = &packed_small[f];
		struct buf b = { malloc(p->len), p->len };
		int noticed = 0, rounds = 0;

		doing = fmts[f].label;
		CHECK(b.p);
		for (size_t at = 16; at < p->len - 8; at += p->len / 24, rounds++) {
			int rc;

			memcpy(b.p, p->p, p->len);
			b.p[at] ^= 0xa5;
			b.p[at + 3] ^= 0x18;
			rc = unpack(&b, 2 * SMALL_LEN, small, SMALL_LEN);
			noticed += rc != 0;
			if (fmts[f].checksummed)
				EXPECT(rc != 0, "%s with bytes %zu, %zu changed: unpacked as if intact",
				       fmts[f].label, at, at + 3);
		}
		EXPECT(noticed * 2 > rounds, "%s: only %d of %d corruptions noticed",
		       fmts[f].label, noticed, rounds);
		free(b.p);
	}
}

/* Corrupt block sizes in the LZ4 frame: huge, zero, one byte off. */
static void lz4_bad_block_sizes(void)
{
	const struct buf *p = &packed_small[F_LZ4];
	struct buf b = { malloc(p->len + 4), p->len };
	uint32_t csize = get_le32(p->p + 4);
	const uint32_t sizes[] = { 0xffffffffu, 0x7fffffffu, (uint32_t)p->len, csize - 1,
				   csize + 1, 1, 0 };

	CHECK(b.p);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int rc;

		memcpy(b.p, p->p, p->len);
		put_le32(b.p + 4, sizes[i]);
		rc = unpack(&b, 2 * SMALL_LEN, small, SMALL_LEN);
		EXPECT(rc != 0, "lz4 block size %#x (really %#x): unpacked as if intact",
		       sizes[i], csize);
	}
	free(b.p);
}

/* Output beyond max is refused; exactly max is fine ("at most max"). */
static void output_limit(void)
{
	for (int f = 0; f < F_NR; f++) {
		const struct buf *p = &packed_small[f];
		int rc;

		doing = fmts[f].label;
		rc = unpack(p, SMALL_LEN - 1, small, SMALL_LEN);
		EXPECT(rc == -1, "%s with max one byte short: result %d", fmts[f].label, rc);
		rc = unpack(p, 4096, small, SMALL_LEN);
		EXPECT(rc == -1, "%s with max 4096: result %d", fmts[f].label, rc);
		rc = unpack(p, 1, small, SMALL_LEN);
		EXPECT(rc == -1, "%s with max 1: result %d", fmts[f].label, rc);
		rc = unpack(p, 0, small, SMALL_LEN);
		EXPECT(rc == -1, "%s with max 0: result %d", fmts[f].label, rc);
	}
}

static void output_exactly_max(void)
{
	for (int f = 0; f < F_NR; f++) {
		int rc;

		doing = fmts[f].label;
		rc = unpack(&packed[f], DATA_LEN, data, DATA_LEN);
		EXPECT(rc == 0, "%s with max == its size: result %d", fmts[f].label, rc);
	}
}

/* A stream of nothing unpacks to nothing, or is refused: never a crash. */
static void empty_payload(void)
{
	for (int f = 0; f < F_NR; f++) {
		struct buf b;
		uint8_t *out = NULL;
		size_t out_len = 99;
		int rc;

		doing = fmts[f].label;
		if (f == F_LZ4 || f == F_LZ4HC)
			continue;          /* an empty legacy frame is just the magic */
		CHECK(pack((enum fmt)f, data, 0, &b) == 0);
		rc = kdecomp(b.p, b.len, NO_LIMIT, &out, &out_len, why, sizeof(why));
		EXPECT(rc == -1 || out_len == 0, "%s of nothing: %zu bytes out", fmts[f].label,
		       out_len);
		if (rc == 0)
			free(out);
		free(b.p);
	}
}

/*
 * The payload of a real kernel, when scripts/linux-guest.sh has built one:
 * it unpacks to an ELF file of the size its trailer gives.
 */
static void real_kernel_payload(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *k = NULL, *out = NULL;
	size_t len = 0, out_len = 0, off, plen;
	long size;

	test_current = "real_kernel_payload";
	if (!f) {
		printf("SKIP real_kernel_payload: %s not built (scripts/linux-guest.sh)\n", path);
		return;
	}
	if (!fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0x400 && !fseek(f, 0, SEEK_SET)) {
		k = malloc((size_t)size);
		if (k)
			len = fread(k, 1, (size_t)size, f);
	}
	fclose(f);
	if (!k || len != (size_t)size) {
		printf("FAIL real_kernel_payload: cannot read %s\n", path);
		test_failed = 1;
		free(k);
		return;
	}
	off = (size_t)((k[0x1f1] ? k[0x1f1] : 4) + 1) * 512 + get_le32(k + 0x248);
	plen = get_le32(k + 0x24c);
	doing = "the real kernel";
	alarm(TEST_SECONDS);
	if (off > len || plen < 8 || plen > len - off) {
		printf("FAIL real_kernel_payload: %s: payload fields out of range\n", path);
		test_failed = 1;
	} else if (kdecomp(k + off, plen, get_le32(k + 0x260), &out, &out_len, why, sizeof(why))) {
		printf("FAIL real_kernel_payload: %s payload: %s\n",
		       kdecomp_format(k + off, plen) ? kdecomp_format(k + off, plen) : "unknown", why);
		test_failed = 1;
	} else if (out_len < 4 || memcmp(out, "\177ELF", 4) ||
		   out_len != get_le32(k + off + plen - 4)) {
		printf("FAIL real_kernel_payload: %zu bytes, not the ELF of %u bytes its trailer says\n",
		       out_len, get_le32(k + off + plen - 4));
		test_failed = 1;
	} else {
		printf("PASS real_kernel_payload\n");
	}
	alarm(0);
	free(out);
	free(k);
}

/* A decoder waiting forever for input that never comes is a failure too. */
static void on_alarm(int sig)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "FAIL %s: still running after %d s: kdecomp hangs on %s\n",
			 test_current, TEST_SECONDS, doing);

	(void)sig;
	if (write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(2);
	_exit(1);
}

#define RUN_TIMED(fn) do { alarm(TEST_SECONDS); RUN(fn); alarm(0); } while (0)

int main(void)
{
	data = make_data(DATA_LEN, 0x9e3779b97f4a7c15ULL);
	small = make_data(SMALL_LEN, 42);
	big = make_data(BIG_LEN, 7);
	if (!data || !small || !big) {
		printf("FAIL kdecomp: out of memory\n");
		return 1;
	}
	for (int f = 0; f < F_NR; f++) {
		doing = fmts[f].label;
		if (pack((enum fmt)f, data, DATA_LEN, &packed[f]) ||
		    pack((enum fmt)f, small, SMALL_LEN, &packed_small[f])) {
			printf("FAIL kdecomp: compressing with %s failed\n", fmts[f].label);
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	RUN_TIMED(round_trip);
	RUN_TIMED(round_trip_with_size_trailer);
	RUN_TIMED(format_names);
	RUN_TIMED(lz4_multi_block);
	RUN_TIMED(lz4_oversized_block);
	RUN_TIMED(unknown_format);
	RUN_TIMED(magic_only);
	RUN_TIMED(truncated);
	RUN_TIMED(lz4_truncated_multi_block);
	RUN_TIMED(corrupted);
	RUN_TIMED(lz4_bad_block_sizes);
	RUN_TIMED(output_limit);
	RUN_TIMED(output_exactly_max);
	RUN_TIMED(empty_payload);
	real_kernel_payload("build/linux/vmlinuz");
	for (int f = 0; f < F_NR; f++) {
		free(packed[f].p);
		free(packed_small[f].p);
	}
	free(data);
	free(small);
	free(big);
	return TEST_EXIT();
}
