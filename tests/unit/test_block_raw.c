/* SPDX-License-Identifier: Apache-2.0 */
/* The block layer's device-facing API (block.h) on raw images. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/blk_admin.h"
#include "test.h"

static char dir[] = "/tmp/vmon-blk-XXXXXX";
static char path[256];

static void make_raw(uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (ftruncate(fd, (off_t)size) < 0)
			perror("ftruncate");
		close(fd);
	}
}

static void test_open_probe_size(void)
{
	char err[256];
	make_raw(1 << 20);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	CHECK_EQ(blk_size(b), 1 << 20);
	CHECK(!strcmp(blk_format(b), "raw"));
	CHECK(!blk_readonly(b));
	CHECK(blk_direct_fd(b) >= 0);
	blk_close(b);

	b = blk_open("/nonexistent/disk.img", NULL, err, sizeof(err));
	CHECK(!b);
	CHECK(strstr(err, "No such file"));
	CHECK(!strchr(err, '\n'));
	struct blk_open_opts o = { .format = "vhdx" };
	CHECK(!blk_open(path, &o, err, sizeof(err)));
	CHECK(strstr(err, "vhdx"));
}

static void test_read_write_iov(void)
{
	char err[256];
	uint8_t a[1000], b2[3000], r[4000];
	make_raw(1 << 20);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	memset(a, 0x11, sizeof(a));
	memset(b2, 0x22, sizeof(b2));
	struct iovec w[2] = { { a, sizeof(a) }, { b2, sizeof(b2) } };
	CHECK_EQ(blk_pwritev(b, w, 2, 4096 + 7), 0);
	CHECK_EQ(blk_pread(b, r, sizeof(r), 4096 + 7), 0);
	CHECK(!memcmp(r, a, sizeof(a)) && !memcmp(r + 1000, b2, sizeof(b2)));
	/* Scattered read. */
	uint8_t x[10], y[20];
	struct iovec rv[2] = { { x, 10 }, { y, 20 } };
	CHECK_EQ(blk_preadv(b, rv, 2, 4096 + 7 + 995), 0);
	CHECK(x[4] == 0x11 && x[5] == 0x22 && y[19] == 0x22);
	/* Unwritten areas read as zeroes. */
	CHECK_EQ(blk_pread(b, r, 512, 65536), 0);
	CHECK(r[0] == 0 && r[511] == 0);
	CHECK_EQ(blk_flush(b), 0);
	blk_close(b);
}

static void test_bounds_and_readonly(void)
{
	char err[256];
	uint8_t buf[512] = { 0 };
	make_raw(8192);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	CHECK_EQ(blk_pread(b, buf, 512, 8192 - 512), 0);
	CHECK_EQ(blk_pread(b, buf, 512, 8192 - 511), (unsigned long long)-EINVAL);
	CHECK_EQ(blk_pwrite(b, buf, 512, 8192), (unsigned long long)-EINVAL);
	CHECK_EQ(blk_pread(b, buf, 512, UINT64_MAX - 100), (unsigned long long)-EINVAL);
	CHECK_EQ(blk_discard(b, 4096, 8192), (unsigned long long)-EINVAL);
	blk_close(b);

	struct blk_open_opts o = { .readonly = true };
	b = blk_open(path, &o, err, sizeof(err));
	CHECK(b);
	CHECK(blk_readonly(b));
	CHECK_EQ(blk_pwrite(b, buf, 512, 0), (unsigned long long)-EROFS);
	CHECK_EQ(blk_write_zeroes(b, 0, 512, true), (unsigned long long)-EROFS);
	CHECK_EQ(blk_pread(b, buf, 512, 0), 0);
	blk_close(b);
}

static void test_zeroes_discard(void)
{
	char err[256];
	uint8_t buf[65536];
	make_raw(1 << 20);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	memset(buf, 0xab, sizeof(buf));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(blk_pwrite(b, buf, sizeof(buf), (uint64_t)i * 65536), 0);
	CHECK_EQ(blk_write_zeroes(b, 1000, 70000, false), 0);
	CHECK_EQ(blk_pread(b, buf, 65536, 65536), 0);
	CHECK(buf[71000 - 65536 - 1] == 0 && buf[71000 - 65536] == 0xab);
	CHECK_EQ(blk_pread(b, buf, 1001, 0), 0);
	CHECK(buf[999] == 0xab && buf[1000] == 0);
	CHECK_EQ(blk_write_zeroes(b, 131072, 65536, true), 0);
	CHECK_EQ(blk_pread(b, buf, 65536, 131072), 0);
	CHECK(buf[0] == 0 && buf[65535] == 0);
	CHECK_EQ(blk_discard(b, 196608, 65536), 0);
	blk_close(b);
}

static void test_cache_none_unaligned(void)
{
	char err[256];
	make_raw(1 << 20);
	struct blk_open_opts o = { .cache = BLK_CACHE_NONE };
	struct blk *b = blk_open(path, &o, err, sizeof(err));
	if (!b && strstr(err, "O_DIRECT")) {
		printf("SKIP %s: %s\n", test_current, err);
		return;
	}
	CHECK(b);
	static uint8_t buf[10000], r[10000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	/* Odd buffer address, odd offset and odd length. */
	CHECK_EQ(blk_pwrite(b, buf + 1, 5001, 12345), 0);
	CHECK_EQ(blk_pread(b, r + 3, 5001, 12345), 0);
	CHECK(!memcmp(buf + 1, r + 3, 5001));
	CHECK_EQ(blk_pread(b, r, 10, 12340), 0);
	CHECK(r[4] == 0 && r[5] == buf[1]);
	/* Aligned goes straight through. */
	void *al;
	CHECK(posix_memalign(&al, 4096, 8192) == 0);
	memset(al, 0x5a, 8192);
	CHECK_EQ(blk_pwrite(b, al, 8192, 65536), 0);
	CHECK_EQ(blk_pread(b, r, 100, 65536 + 8100), 0);
	CHECK(r[91] == 0x5a && r[92] == 0);
	free(al);
	CHECK_EQ(blk_flush(b), 0);
	blk_close(b);
}

struct thr { struct blk *b; int id; int bad; };

static void *writer(void *p)
{
	struct thr *t = p;
	uint8_t buf[4096], r[4096];
	for (int i = 0; i < 200; i++) {
		uint64_t off = ((uint64_t)i * 4 + (uint64_t)t->id) * 4096;
		memset(buf, t->id * 16 + (i & 15), sizeof(buf));
		if (blk_pwrite(t->b, buf, sizeof(buf), off) < 0 ||
		    blk_pread(t->b, r, sizeof(r), off) < 0 || memcmp(buf, r, sizeof(r)))
			t->bad = 1;
	}
	return NULL;
}

static void test_threads(void)
{
	char err[256];
	make_raw(4 << 20);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	pthread_t th[4];
	struct thr t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ b, i, 0 };
		pthread_create(&th[i], NULL, writer, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(!t[i].bad);
	}
	blk_close(b);
}

static void test_create_raw(void)
{
	char err[256];
	struct blk_create_opts o = { .format = "raw", .size = 3 << 20 };
	CHECK_EQ(blk_create(path, &o, err, sizeof(err)), 0);
	struct blk *b = blk_open(path, NULL, err, sizeof(err));
	CHECK(b);
	CHECK_EQ(blk_size(b), 3 << 20);
	struct blk_status st;
	CHECK_EQ(blk_block_status(b, 0, 3 << 20, &st), 0);
	CHECK(st.flags & BLK_STATUS_ZERO);
	CHECK_EQ(blk_truncate(b, 4 << 20, false, err, sizeof(err)), 0);
	CHECK_EQ(blk_size(b), 4 << 20);
	blk_close(b);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/disk.raw", dir);
	RUN(test_open_probe_size);
	RUN(test_read_write_iov);
	RUN(test_bounds_and_readonly);
	RUN(test_zeroes_discard);
	RUN(test_cache_none_unaligned);
	RUN(test_threads);
	RUN(test_create_raw);
	unlink(path);
	rmdir(dir);
	return TEST_EXIT();
}
