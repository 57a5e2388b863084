/* SPDX-License-Identifier: Apache-2.0 */
/* vmon-img compare and map. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_admin.h"
#include "block/block.h"
#include "util/parse.h"

#include "img/img.h"
/* ---- compare ---- */

int img_cmd_compare(int argc, char **argv)
{
	bool quiet = false;
	const char *f1 = NULL, *f2 = NULL;
	bool strict = false;
	int c;

	while ((c = getopt(argc, argv, "+f:F:sqpT:U")) != -1) {
		switch (c) {
		case 'f': f1 = optarg; break;
		case 'F': f2 = optarg; break;
		case 's': strict = true; break;
		case 'q': quiet = true; break;
		case 'p': case 'T': case 'U': break;
		default: return img_bad_option() + 1;
		}
	}
	if (argc - optind != 2) {
		img_err("Expecting two image file names");
		return 2;
	}
	struct blk *a = img_open(argv[optind], f1, false, false);
	struct blk *b = a ? img_open(argv[optind + 1], f2 ? f2 : f1, false, false) : NULL;
	int rc = 2;
	uint8_t *x = malloc(IMG_CHUNK), *y = malloc(IMG_CHUNK);
	if (!a || !b || !x || !y)
		goto out;
	uint64_t sa = blk_size(a), sb = blk_size(b), common = sa < sb ? sa : sb;
	if (strict && sa != sb) {
		if (!quiet)
			printf("Strict mode: Image size mismatch!\n");
		rc = 1;
		goto out;
	}
	for (uint64_t off = 0; off < common;) {
		uint64_t n = common - off < IMG_CHUNK ? common - off : IMG_CHUNK;
		struct blk_status s1, s2;
		int d1, d2, r;
		if ((r = blk_block_status_chain(a, off, n, &s1, &d1, NULL)) < 0 ||
		    (r = blk_block_status_chain(b, off, n, &s2, &d2, NULL)) < 0) {
			img_err("Block status failed: %s", strerror(-r));
			goto out;
		}
		uint64_t m = s1.pnum < s2.pnum ? s1.pnum : s2.pnum;
		bool z1 = (s1.flags & BLK_STATUS_ZERO) && !(s1.flags & BLK_STATUS_DATA);
		bool z2 = (s2.flags & BLK_STATUS_ZERO) && !(s2.flags & BLK_STATUS_DATA);
		if (z1 && z2) {
			off += m;
			continue;
		}
		if ((r = blk_pread(a, x, m, off)) < 0 || (r = blk_pread(b, y, m, off)) < 0) {
			img_err("Error while reading offset %llu: %s", (unsigned long long)off, strerror(-r));
			goto out;
		}
		if (memcmp(x, y, m)) {
			uint64_t i = 0;
			while (x[i] == y[i])
				i++;
			if (!quiet)
				printf("Content mismatch at offset %llu!\n", (unsigned long long)(off + i / 512 * 512));
			rc = 1;
			goto out;
		}
		off += m;
	}
	if (sa != sb) {
		struct blk *big = sa > sb ? a : b;
		uint64_t end = sa > sb ? sa : sb;
		for (uint64_t off = common; off < end;) {
			uint64_t n = end - off < IMG_CHUNK ? end - off : IMG_CHUNK;
			int r = blk_pread(big, x, n, off);
			if (r < 0) {
				img_err("Error while reading offset %llu: %s", (unsigned long long)off, strerror(-r));
				goto out;
			}
			for (uint64_t i = 0; i < n; i++) {
				if (x[i]) {
					if (!quiet)
						printf("Content mismatch at offset %llu!\n", (unsigned long long)(off + i / 512 * 512));
					rc = 1;
					goto out;
				}
			}
			off += n;
		}
	}
	if (!quiet)
		printf("Images are identical.\n");
	rc = 0;
out:
	free(x);
	free(y);
	if (a)
		blk_close(a);
	if (b)
		blk_close(b);
	return rc;
}

/* ---- map ---- */

struct mapent {
	uint64_t start, len, offset;
	int depth;
	bool present, zero, data, has_off, compressed;
	const char *file;
};

static void map_print(const struct mapent *e, int json, bool *first)
{
	if (json) {
		printf("%s{ \"start\": %llu, \"length\": %llu, \"depth\": %d, \"present\": %s, \"zero\": %s, \"data\": %s",
		       *first ? "[" : ",\n", (unsigned long long)e->start, (unsigned long long)e->len, e->depth,
		       e->present ? "true" : "false", e->zero ? "true" : "false", e->data ? "true" : "false");
		if (e->has_off)
			printf(", \"offset\": %llu", (unsigned long long)e->offset);
		printf("}");
	} else if (e->data && e->has_off) {
		char a[32], b[32], c[32];
		snprintf(a, sizeof(a), "%#llx", (unsigned long long)e->start);
		snprintf(b, sizeof(b), "%#llx", (unsigned long long)e->len);
		snprintf(c, sizeof(c), "%#llx", (unsigned long long)e->offset);
		printf("%-16s%-16s%-16s%s\n", e->start ? a : "0", b, c, e->file);
	}
	*first = false;
}

int img_cmd_map(int argc, char **argv)
{
	const char *fmt = NULL;
	int json = 0, c;
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
		{ "force-share", no_argument, NULL, 'U' }, { 0, 0, 0, 0 } };

	while ((c = getopt_long(argc, argv, "+f:U", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': if ((json = img_output_kind(optarg)) < 0) return 1; break;
		case 'U': break;
		default: return img_bad_option();
		}
	}
	if (optind != argc - 1) {
		img_err("Expecting one image file name");
		return 1;
	}
	struct blk *b = img_open(argv[optind], fmt, false, false);
	if (!b)
		return 1;
	uint64_t size = blk_size(b);
	struct mapent cur = { 0 };
	bool have = false, first = true;
	int rc = 0;
	if (!json)
		printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
	for (uint64_t off = 0; off < size;) {
		struct blk_status st;
		struct blk *layer;
		int depth;
		uint64_t want = size - off < (1ull << 30) ? size - off : (1ull << 30);
		int r = blk_block_status_chain(b, off, want, &st, &depth, &layer);
		if (r < 0) {
			img_err("block status failed: %s", strerror(-r));
			rc = 1;
			break;
		}
		struct mapent e = {
			.start = off, .len = st.pnum, .offset = st.host_offset,
			.depth = depth < 0 ? 0 : depth, .present = depth >= 0,
			.zero = (st.flags & BLK_STATUS_ZERO) != 0, .data = (st.flags & BLK_STATUS_DATA) != 0,
			.has_off = (st.flags & BLK_STATUS_OFFSET_VALID) != 0,
			.compressed = (st.flags & BLK_STATUS_COMPRESSED) != 0,
			.file = layer ? blk_filename(layer) : "",
		};
		struct blk_info li;
		static char dfpath[4096];
		if (layer && blk_get_info(layer, &li) == 0 && li.data_file) {
			snprintf(dfpath, sizeof(dfpath), "%s", li.data_file);
			e.file = dfpath;
		}
		if (depth < 0) {
			/* Unallocated everywhere: qemu reports the depth of the last layer. */
			int d = 0;
			for (struct blk *x = blk_backing(b); x; x = blk_backing(x))
				d++;
			e.depth = d;
		}
		if (!json && e.compressed) {
			img_err("File contains external, encrypted or compressed clusters.");
			rc = 1;
			break;
		}
		if (have && cur.depth == e.depth && cur.present == e.present && cur.zero == e.zero &&
		    cur.data == e.data && cur.has_off == e.has_off && !strcmp(cur.file, e.file) &&
		    (!cur.has_off || cur.offset + cur.len == e.offset)) {
			cur.len += e.len;
		} else {
			if (have)
				map_print(&cur, json, &first);
			cur = e;
			have = true;
		}
		off += st.pnum;
	}
	if (have && !rc)
		map_print(&cur, json, &first);
	if (json && !rc)
		printf("%s]\n", first ? "[" : "");
	blk_close(b);
	return rc;
}

