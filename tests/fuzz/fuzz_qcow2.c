/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the input is an image file.  It is opened read-only
 * (probe, header, tables, snapshots), read where a guest would read,
 * mapped, and checked; then opened read-write on a copy, written, zeroed,
 * discarded and checked with repair.  Backing files are never followed
 * (no_backing), so nothing outside the image is touched.  ASan and UBSan
 * catch the rest; every I/O is bounded so no input can hang it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "block/blk_admin.h"
#include "block/block.h"

static int image_fd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-image", 0);
	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	return fd;
}

static void exercise(struct blk *b, bool rw)
{
	static uint8_t buf[128 << 10];
	uint64_t size = blk_size(b);
	/* The start and the end of the disk, and a few places between. */
	uint64_t offs[4] = { 0, size > sizeof(buf) ? size - sizeof(buf) : 0, size / 3, size / 2 };
	for (int i = 0; i < 4; i++) {
		uint64_t n = size - offs[i] < sizeof(buf) ? size - offs[i] : sizeof(buf);
		if (n)
			blk_pread(b, buf, n, offs[i]);
	}
	uint64_t pos = 0;
	for (int i = 0; i < 64 && pos < size; i++) {
		struct blk_status st;
		if (blk_block_status(b, pos, size - pos, &st) < 0)
			break;
		pos += st.pnum;
	}
	struct blk_snapshot *sn;
	if (blk_snapshot_list(b, &sn) >= 0)
		free(sn);
	if (rw && size) {
		memset(buf, 0xa5, 70000);
		blk_pwrite(b, buf, size < 70000 ? size : 70000, 0);
		blk_pwrite(b, buf, size < 5000 ? size : 5000, size / 2);
		blk_write_zeroes(b, size / 4, size / 4, true);
		blk_discard(b, 0, size / 2);
		uint32_t cs = blk_cluster_size(b);
		if (cs && cs <= size)
			blk_write_compressed(b, buf, cs, 0);
		blk_flush(b);
	}
	struct blk_check_result r;
	blk_check(b, rw ? BLK_FIX_LEAKS | BLK_FIX_ERRORS : 0, &r);
	blk_check_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	static bool limited;
	if (!limited) {
		/* A hostile refcount table can send allocations gigabytes out:
		 * keep the image file (sparse, in memory) to 64 MiB. */
		struct rlimit rl = { 64u << 20, 64u << 20 };
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		limited = true;
	}
	int fd = image_fd(data, size);
	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct blk_open_opts ro = { .readonly = true, .no_backing = true };
	struct blk *b = blk_open(path, &ro, err, sizeof(err));
	if (b) {
		exercise(b, false);
		blk_close(b);
		/* The same, writable (the memfd is the copy). */
		struct blk_open_opts rw = { .no_backing = true };
		b = blk_open_for_check(path, &rw, err, sizeof(err));
		if (b) {
			exercise(b, true);
			blk_close(b);
		}
	}
	close(fd);
	return 0;
}
