/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes to a qcow2 image through the block layer forever, at random:
 * data (whole and partial clusters), zeroes, discards, compressed
 * clusters, flushes.  tests/integration/img_crash.sh kills it with SIGKILL
 * at random instants and checks the image each time.
 * Usage: crashwriter IMAGE SEED
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/blk_admin.h"
#include "block/block.h"

int main(int argc, char **argv)
{
	char err[512];

	if (argc != 3)
		return 2;
	struct blk *b = blk_open(argv[1], NULL, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "crashwriter: %s\n", err);
		return 1;
	}
	srandom((unsigned)strtoul(argv[2], NULL, 0));
	uint64_t size = blk_size(b);
	uint32_t cs = blk_cluster_size(b);
	static unsigned char buf[1 << 20];
	for (;;) {
		int op = (int)(random() % 100);
		uint64_t len = 1 + (uint64_t)random() % (op < 50 ? 300000 : sizeof(buf));
		uint64_t off = (uint64_t)random() % size;
		if (off + len > size)
			len = size - off;
		memset(buf, (int)(random() & 0xff), len);
		int r;
		if (op < 60)
			r = blk_pwrite(b, buf, len, off);
		else if (op < 72)
			r = blk_write_zeroes(b, off, len, random() & 1);
		else if (op < 84)
			r = blk_discard(b, off, len);
		else if (op < 96 && cs) {
			off -= off % cs;
			len = size - off < cs ? size - off : cs;
			r = blk_write_compressed(b, buf, len, off);
		} else
			r = blk_flush(b);
		if (r < 0) {
			fprintf(stderr, "crashwriter: op %d at %llu+%llu: %d %s\n", op,
				(unsigned long long)off, (unsigned long long)len, r, blk_last_error(b));
			return 1;
		}
	}
}
