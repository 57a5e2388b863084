/* SPDX-License-Identifier: Apache-2.0 */
/* The qcow2 driver against a model: random writes, zeroes, discards and
 * compressed clusters, over a backing file or not, every cluster size class
 * and refcount width; reads must match, and the check must stay clean. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_admin.h"
#include "block/block.h"
#include "test.h"

static char dir[] = "/tmp/vmon-qcow2-XXXXXX";
static char path[256], bpath[256];
#define SIZE (3u << 20)
static uint8_t model[SIZE], got[SIZE], buf[SIZE];
static unsigned seed = 1;

static unsigned rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static bool clean(struct blk *b)
{
	struct blk_check_result r;
	int ret = blk_check(b, 0, &r);
	bool ok = ret == 0 && !r.corruptions && !r.leaks && !r.check_errors;
	if (!ok)
		printf("  check: ret %d corruptions %d leaks %d\n%s", ret, r.corruptions, r.leaks, r.log ? r.log : "");
	blk_check_result_free(&r);
	return ok;
}

static void exercise(const struct blk_create_opts *base_o, bool backing)
{
	char err[256];
	struct blk_create_opts o = *base_o;
	o.format = "qcow2";
	o.size = SIZE - 1000;   /* a short last cluster */
	memset(model, 0, sizeof(model));
	if (backing) {
		int fd = open(bpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
		for (size_t i = 0; i < SIZE / 2; i++)
			model[i] = (uint8_t)(i * 13 + 1);
		CHECK(write(fd, model, SIZE / 2) == SIZE / 2);
		close(fd);
		o.backing = "back.raw";
		o.backing_fmt = "raw";
	}
	CHECK_EQ(blk_create(path, &o, err, sizeof(err)), 0);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	uint64_t size = blk_size(b), cs = blk_cluster_size(b);
	CHECK_EQ(size, SIZE - 1000);
	for (int it = 0; it < 300; it++) {
		unsigned op = rnd() % 100;
		uint64_t off = rnd() % size, len = 1 + rnd() % (op < 40 ? 5000 : 200000);
		if (off + len > size)
			len = size - off;
		if (op < 50) {
			for (uint64_t i = 0; i < len; i++)
				buf[i] = (uint8_t)(rnd() >> 4);
			CHECK_EQ(blk_pwrite(b, buf, len, off), 0);
			memcpy(model + off, buf, len);
		} else if (op < 65) {
			CHECK_EQ(blk_write_zeroes(b, off, len, rnd() & 1), 0);
			memset(model + off, 0, len);
		} else if (op < 78) {
			CHECK_EQ(blk_discard(b, off, len), 0);
			/* Whole clusters read back as zeroes; the rest keeps its data. */
			uint64_t a = (off + cs - 1) / cs * cs, z = off + len == size ? off + len : (off + len) / cs * cs;
			if (z > a && !(o.version == 2 && backing))   /* v2 over a backing file: no zero flag, no discard */
				memset(model + a, 0, z - a);
		} else if (op < 92) {
			off -= off % cs;
			len = size - off < cs ? size - off : cs;
			for (uint64_t i = 0; i < len; i++)
				buf[i] = (uint8_t)((i / 100) ^ it);
			CHECK_EQ(blk_write_compressed(b, buf, len, off), 0);
			memcpy(model + off, buf, len);
		} else {
			CHECK_EQ(blk_flush(b), 0);
		}
		if (it % 50 == 49) {
			CHECK_EQ(blk_pread(b, got, size, 0), 0);
			CHECK(!memcmp(got, model, size));
		}
	}
	CHECK(clean(b));
	blk_close(b);
	b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	CHECK_EQ(blk_pread(b, got, size, 0), 0);
	CHECK(!memcmp(got, model, size));
	CHECK(clean(b));
	blk_close(b);
}

static void test_default(void) { struct blk_create_opts o = { 0 }; exercise(&o, false); }
static void test_backing(void) { struct blk_create_opts o = { 0 }; exercise(&o, true); }
static void test_512_rb1(void) { struct blk_create_opts o = { .cluster_size = 512, .refcount_bits = 1 }; exercise(&o, true); }
static void test_4k_rb64_zstd(void) { struct blk_create_opts o = { .cluster_size = 4096, .refcount_bits = 64, .zstd = true }; exercise(&o, false); }
static void test_v2(void) { struct blk_create_opts o = { .version = 2, .cluster_size = 8192 }; exercise(&o, true); }
static void test_extl2(void) { struct blk_create_opts o = { .extended_l2 = true, .cluster_size = 32768 }; exercise(&o, true); }
static void test_lazy(void) { struct blk_create_opts o = { .lazy_refcounts = true, .cluster_size = 2u << 20 }; exercise(&o, false); }

static void test_snapshots(void)
{
	char err[256];
	struct blk_create_opts o = { .format = "qcow2", .size = SIZE, .cluster_size = 4096 };
	CHECK_EQ(blk_create(path, &o, err, sizeof(err)), 0);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	memset(buf, 1, SIZE);
	CHECK_EQ(blk_pwrite(b, buf, SIZE, 0), 0);
	CHECK_EQ(blk_snapshot_create(b, "one", err, sizeof(err)), 0);
	memset(buf, 2, 100000);
	CHECK_EQ(blk_pwrite(b, buf, 100000, 5000), 0);
	CHECK_EQ(blk_discard(b, 1 << 20, 1 << 20), 0);
	CHECK(clean(b));
	CHECK_EQ(blk_snapshot_create(b, "two", err, sizeof(err)), 0);
	struct blk_snapshot *sn;
	CHECK_EQ(blk_snapshot_list(b, &sn), 2);
	CHECK(!strcmp(sn[0].name, "one") && !strcmp(sn[1].id, "2"));
	free(sn);
	CHECK_EQ(blk_snapshot_apply(b, "one", err, sizeof(err)), 0);
	CHECK_EQ(blk_pread(b, got, SIZE, 0), 0);
	memset(buf, 1, SIZE);
	CHECK(!memcmp(got, buf, SIZE));
	CHECK(clean(b));
	CHECK_EQ(blk_snapshot_apply(b, "2", err, sizeof(err)), 0);
	CHECK_EQ(blk_pread(b, got, 10, 5000), 0);
	CHECK(got[0] == 2);
	CHECK_EQ(blk_pread(b, got, 10, 1 << 20), 0);
	CHECK(got[0] == 0);
	CHECK_EQ(blk_snapshot_delete(b, "one", err, sizeof(err)), 0);
	CHECK_EQ(blk_snapshot_delete(b, "two", err, sizeof(err)), 0);
	CHECK(blk_snapshot_delete(b, "two", err, sizeof(err)) < 0);
	CHECK(clean(b));
	blk_close(b);
}

struct thr { struct blk *b; int id; int bad; };

static void *writer(void *p)
{
	struct thr *t = p;
	uint8_t w[9000], r[9000];
	for (int i = 0; i < 120; i++) {
		uint64_t off = ((uint64_t)i * 4 + (uint64_t)t->id) * 10007;
		memset(w, t->id * 16 + (i & 15), sizeof(w));
		if (blk_pwrite(t->b, w, sizeof(w), off) < 0 || blk_pread(t->b, r, sizeof(r), off) < 0 ||
		    memcmp(w, r, sizeof(r)))
			t->bad = 1;
		if (i % 10 == 9 && blk_flush(t->b) < 0)
			t->bad = 1;
	}
	return NULL;
}

/* Several threads at once (as virtio-blk's I/O threads), O_DIRECT too. */
static void test_threads(void)
{
	char err[256];
	for (int direct = 0; direct < 2; direct++) {
		struct blk_create_opts o = { .format = "qcow2", .size = 8u << 20, .cluster_size = 4096 };
		CHECK_EQ(blk_create(path, &o, err, sizeof(err)), 0);
		struct blk_open_opts oo = { .cache = direct ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK };
		struct blk *b = blk_open(path, &oo, err, sizeof(err));
		if (!b && direct && strstr(err, "O_DIRECT"))
			return;
		CHECK(b);
		pthread_t th[4];
		struct thr t[4];
		for (int i = 0; i < 4; i++) {
			t[i] = (struct thr){ b, i, 0 };
			pthread_create(&th[i], NULL, writer, &t[i]);
		}
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		for (int i = 0; i < 4; i++)
			CHECK(!t[i].bad);
		CHECK(clean(b));
		blk_close(b);
	}
}

/* Reads without the lock against writers that free and reallocate clusters:
 * every 8-byte word a reader sees must be zero or name its own offset. */
struct mix { struct blk *b; int id; volatile int *stop; int bad; unsigned seed; };

static unsigned mrnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

static void *mixer(void *p)
{
	struct mix *m = p;
	static __thread uint64_t w[16384];
	uint64_t size = blk_size(m->b);
	while (!*m->stop) {
		uint64_t off = (mrnd(&m->seed) % (size / 4096)) * 4096, len = 4096 * (1 + mrnd(&m->seed) % 16);
		if (off + len > size)
			len = size - off;
		if (m->id < 2) {   /* writers */
			unsigned op = mrnd(&m->seed) % 4;
			if (op == 0) {
				blk_discard(m->b, off, len);
			} else if (op == 1) {
				blk_write_zeroes(m->b, off, len, true);
			} else {
				for (uint64_t i = 0; i < len / 8; i++)
					w[i] = (off + i * 8) | ((uint64_t)(mrnd(&m->seed) & 0xff) << 56);
				if (blk_pwrite(m->b, w, len, off) < 0)
					m->bad = 1;
			}
		} else {           /* readers */
			if (blk_pread(m->b, w, len, off) < 0)
				m->bad = 1;
			for (uint64_t i = 0; i < len / 8; i++)
				if (w[i] && (w[i] & ((1ull << 56) - 1)) != off + i * 8)
					m->bad = 2;
		}
	}
	return NULL;
}

static void test_concurrent_reads(void)
{
	char err[256];
	struct blk_create_opts o = { .format = "qcow2", .size = 4u << 20, .cluster_size = 4096 };
	CHECK_EQ(blk_create(path, &o, err, sizeof(err)), 0);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	volatile int stop = 0;
	pthread_t th[4];
	struct mix m[4];
	for (int i = 0; i < 4; i++) {
		m[i] = (struct mix){ b, i, &stop, 0, 7u * (unsigned)i + 1 };
		pthread_create(&th[i], NULL, mixer, &m[i]);
	}
	usleep(1500000);
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(m[i].bad, 0);
	CHECK(clean(b));
	blk_close(b);
}

static void test_backing_loop(void)
{
	char err[256], p2[300];
	snprintf(p2, sizeof(p2), "%s/loop2.qcow2", dir);
	struct blk_create_opts o = { .format = "qcow2", .size = 1 << 20, .backing = "loop2.qcow2", .backing_fmt = "qcow2" };
	struct blk_create_opts o2 = { .format = "qcow2", .size = 1 << 20, .backing = "disk.qcow2", .backing_fmt = "qcow2" };
	CHECK_EQ(blk_create(path, &o, err, sizeof(err)), 0);
	CHECK_EQ(blk_create(p2, &o2, err, sizeof(err)), 0);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(!b);
	CHECK(strstr(err, "loop"));
	unlink(p2);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/disk.qcow2", dir);
	snprintf(bpath, sizeof(bpath), "%s/back.raw", dir);
	RUN(test_default);
	RUN(test_backing);
	RUN(test_512_rb1);
	RUN(test_4k_rb64_zstd);
	RUN(test_v2);
	RUN(test_extl2);
	RUN(test_lazy);
	RUN(test_snapshots);
	RUN(test_threads);
	RUN(test_concurrent_reads);
	RUN(test_backing_loop);
	unlink(path);
	unlink(bpath);
	rmdir(dir);
	return TEST_EXIT();
}
