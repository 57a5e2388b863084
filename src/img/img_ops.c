/* SPDX-License-Identifier: Apache-2.0 */
/* vmon-img snapshot, resize, commit and rebase. */
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
/* ---- snapshot ---- */

int img_cmd_snapshot(int argc, char **argv)
{
	int c, op = 0;
	const char *name = NULL, *fmt = NULL;

	while ((c = getopt(argc, argv, "+lc:a:d:f:qU")) != -1) {
		switch (c) {
		case 'l': case 'c': case 'a': case 'd':
			if (op) {
				img_err("Cannot mix '-l', '-a', '-c', '-d'");
				return 1;
			}
			op = c;
			name = optarg;
			break;
		case 'f': fmt = optarg; break;
		case 'q': break;   /* prints nothing anyway */
		case 'U': break;
		default: return img_bad_option();
		}
	}
	if (optind != argc - 1) {
		img_err("Expecting one image file name");
		return 1;
	}
	if (!op)
		op = 'l';
	struct blk *b = img_open(argv[optind], fmt, op != 'l', true);
	if (!b)
		return 1;
	char err[1024];
	int ret = 0;
	if (op == 'l') {
		struct blk_snapshot *sn;
		int n = blk_snapshot_list(b, &sn);
		if (n > 0) {
			printf("Snapshot list:\n");
			img_print_snapshots(sn, n);
		}
		free(sn);
	} else if (op == 'c') {
		ret = blk_snapshot_create(b, name, err, sizeof(err));
	} else if (op == 'a') {
		ret = blk_snapshot_apply(b, name, err, sizeof(err));
	} else {
		ret = blk_snapshot_delete(b, name, err, sizeof(err));
	}
	if (ret < 0)
		img_err("%s", err);
	blk_close(b);
	return ret < 0 ? 1 : 0;
}

/* ---- resize ---- */

int img_cmd_resize(int argc, char **argv)
{
	bool quiet = false;
	const char *fmt = NULL;
	bool shrink = false;
	int c;
	static const struct option lo[] = { { "shrink", no_argument, NULL, 'S' }, { 0, 0, 0, 0 } };

	/* "-1G" would look like an option: take the size off the end first. */
	if (argc >= 3 && argv[argc - 1][0] == '-' && argv[argc - 1][1] >= '0' && argv[argc - 1][1] <= '9') {
		argv[argc - 1][0] = '~';
	}
	while ((c = getopt_long(argc, argv, "+f:qo:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'q': quiet = true; break;
		case 'S': shrink = true; break;
		case 'o': break;
		default: return img_bad_option();
		}
	}
	if (argc - optind != 2) {
		img_err("Expecting image file name and size");
		return 1;
	}
	const char *ss = argv[optind + 1];
	int rel = ss[0] == '+' ? 1 : ss[0] == '~' ? -1 : 0;
	uint64_t v;
	if (!parse_size(ss + (rel != 0), &v)) {
		img_err("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
		return 1;
	}
	struct blk *b = img_open(argv[optind], fmt, true, false);
	if (!b)
		return 1;
	uint64_t cur = blk_size(b), ns = rel > 0 ? cur + v : rel < 0 ? (v > cur ? 0 : cur - v) : v;
	if (rel < 0 && v > cur) {
		img_err("New image size must be positive");
		blk_close(b);
		return 1;
	}
	char err[1024];
	if (ns < cur && shrink && !quiet)
		fprintf(stderr, "vmon-img: warning: Shrinking an image will delete all data beyond the shrunken image's end.\n");
	int ret = blk_truncate(b, ns, shrink, err, sizeof(err));
	blk_close(b);
	if (ret < 0) {
		img_err("%s", err);
		return 1;
	}
	if (!quiet)
		printf("Image resized.\n");
	return 0;
}

/* ---- commit ---- */

int img_cmd_commit(int argc, char **argv)
{
	bool quiet = false;
	const char *fmt = NULL;
	bool keep = false;
	int c;

	while ((c = getopt(argc, argv, "+f:dqpt:b:r:")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'd': keep = true; break;
		case 'q': quiet = true; break;
		case 'p': case 't': case 'b': case 'r': break;
		default: return img_bad_option();
		}
	}
	if (optind != argc - 1) {
		img_err("Expecting one image file name");
		return 1;
	}
	struct blk *top = img_open(argv[optind], fmt, false, false);
	if (!top)
		return 1;
	if (!blk_backing(top)) {
		img_err("Image does not have a backing file");
		blk_close(top);
		return 1;
	}
	struct blk *base = img_open(blk_backing_path(top), blk_format(blk_backing(top)), true, false);
	int rc = 1, r = 0;
	uint8_t *buf = malloc(IMG_CHUNK);
	if (!base || !buf)
		goto out;
	uint64_t size = blk_size(top);
	char err[1024];
	if (blk_size(base) < size && (r = blk_truncate(base, size, false, err, sizeof(err))) < 0) {
		img_err("%s", err);
		goto out;
	}
	for (uint64_t off = 0; off < size;) {
		struct blk_status st;
		uint64_t want = size - off < IMG_CHUNK ? size - off : IMG_CHUNK;
		if ((r = blk_block_status(top, off, want, &st)) < 0)
			goto ioerr;
		if (st.flags & BLK_STATUS_ALLOCATED) {
			if ((st.flags & BLK_STATUS_ZERO) && !(st.flags & BLK_STATUS_DATA))
				r = blk_write_zeroes(base, off, st.pnum, false);
			else if ((r = blk_pread(top, buf, st.pnum, off)) >= 0)
				r = blk_pwrite(base, buf, st.pnum, off);
			if (r < 0)
				goto ioerr;
		}
		off += st.pnum;
	}
	if ((r = blk_flush(base)) < 0)
		goto ioerr;
	blk_close(base);
	base = NULL;
	blk_close(top);
	top = NULL;
	if (!keep) {
		struct blk *t = img_open(argv[optind], fmt, true, true);
		if (!t)
			goto out;
		r = blk_make_empty(t);
		blk_close(t);
		if (r < 0 && r != -ENOTSUP)
			goto ioerr;
	}
	if (!quiet)
		printf("Image committed.\n");
	rc = 0;
	goto out;
ioerr:
	img_err("Error while committing: %s", strerror(-r));
out:
	free(buf);
	if (base)
		blk_close(base);
	if (top)
		blk_close(top);
	return rc;
}

/* ---- rebase ---- */

int img_cmd_rebase(int argc, char **argv)
{
	const char *fmt = NULL, *nb = NULL, *nbfmt = NULL;
	bool unsafe = false;
	int c;

	while ((c = getopt(argc, argv, "+f:b:F:uqpt:T:U")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'b': nb = optarg; break;
		case 'F': nbfmt = optarg; break;
		case 'u': unsafe = true; break;
		case 'q': break;   /* prints nothing anyway */
		case 'p': case 't': case 'T': case 'U': break;
		default: return img_bad_option();
		}
	}
	if (optind != argc - 1 || !nb) {
		img_err("Expecting one image file name and -b BACKING");
		return 1;
	}
	const char *file = argv[optind];
	if (!*nb)
		nb = NULL;
	if (nb && !nbfmt && !unsafe) {
		/* Probe the new backing file's format. */
		char *p = img_backing_path(file, nb);
		struct blk *t = img_open(p, NULL, false, true);
		free(p);
		if (!t)
			return 1;
		static char probed[16];
		snprintf(probed, sizeof(probed), "%s", blk_format(t));
		nbfmt = probed;
		blk_close(t);
	}
	struct blk *b = img_open(file, fmt, true, unsafe);
	if (!b)
		return 1;
	int r = 0, rc = 1;
	uint8_t *a = NULL, *bb = NULL;
	struct blk *newb = NULL;
	if (!unsafe) {
		if (nb) {
			char *p = img_backing_path(file, nb);
			newb = img_open(p, nbfmt, false, false);
			free(p);
			if (!newb)
				goto out;
		}
		uint64_t size = blk_size(b);
		a = malloc(IMG_CHUNK);
		bb = malloc(IMG_CHUNK);
		if (!a || !bb)
			goto out;
		for (uint64_t off = 0; off < size;) {
			struct blk_status st;
			uint64_t want = size - off < IMG_CHUNK ? size - off : IMG_CHUNK;
			if ((r = blk_block_status(b, off, want, &st)) < 0)
				goto ioerr;
			uint64_t n = st.pnum;
			if (!(st.flags & BLK_STATUS_ALLOCATED)) {
				/* Reads through to the old backing file: keep that content. */
				if ((r = blk_pread(b, a, n, off)) < 0)
					goto ioerr;
				memset(bb, 0, n);
				if (newb && off < blk_size(newb)) {
					uint64_t m = blk_size(newb) - off < n ? blk_size(newb) - off : n;
					if ((r = blk_pread(newb, bb, m, off)) < 0)
						goto ioerr;
				}
				for (uint64_t p = 0; p < n; p += 65536) {
					uint64_t u = n - p < 65536 ? n - p : 65536;
					if (memcmp(a + p, bb + p, u) && (r = blk_pwrite(b, a + p, u, off + p)) < 0)
						goto ioerr;
				}
			}
			off += n;
		}
	}
	if ((r = blk_change_backing(b, nb, nbfmt)) < 0) {
		img_err("Could not change the backing file to '%s': %s", nb ? nb : "", strerror(-r));
		goto out;
	}
	rc = 0;
	goto out;
ioerr:
	img_err("Error while rebasing: %s", strerror(-r));
out:
	free(a);
	free(bb);
	if (newb)
		blk_close(newb);
	blk_close(b);
	return rc;
}

