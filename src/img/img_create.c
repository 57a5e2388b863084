/* SPDX-License-Identifier: Apache-2.0 */
/* vmon-img create, and the -o options create and convert share. */
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
/* ---- -o options ---- */

int img_parse_opts(char *s, struct blk_create_opts *o, const char **backing, const char **bfmt)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			img_err("Invalid option list: '%s'", tok);
			return -1;
		}
		*eq = 0;
		const char *k = tok, *v = eq + 1;
		uint64_t n;
		bool on = !strcmp(v, "on") || !strcmp(v, "true"), off = !strcmp(v, "off") || !strcmp(v, "false");
		if (!strcmp(k, "cluster_size") && parse_size(v, &n) && n <= UINT32_MAX) {
			o->cluster_size = (uint32_t)n;
		} else if (!strcmp(k, "compression_type") && (!strcmp(v, "zlib") || !strcmp(v, "zstd"))) {
			o->zstd = !strcmp(v, "zstd");
		} else if (!strcmp(k, "lazy_refcounts") && (on || off)) {
			o->lazy_refcounts = on;
		} else if (!strcmp(k, "extended_l2") && (on || off)) {
			o->extended_l2 = on;
		} else if (!strcmp(k, "refcount_bits") && parse_u64(v, &n) && n <= 64) {
			o->refcount_bits = (unsigned)n;
		} else if (!strcmp(k, "compat") && (!strcmp(v, "0.10") || !strcmp(v, "v2"))) {
			o->version = 2;
		} else if (!strcmp(k, "compat") && (!strcmp(v, "1.1") || !strcmp(v, "v3"))) {
			o->version = 3;
		} else if (!strcmp(k, "preallocation")) {
			if (!strcmp(v, "off"))
				o->prealloc = BLK_PREALLOC_OFF;
			else if (!strcmp(v, "metadata"))
				o->prealloc = BLK_PREALLOC_METADATA;
			else if (!strcmp(v, "falloc"))
				o->prealloc = BLK_PREALLOC_FALLOC;
			else if (!strcmp(v, "full"))
				o->prealloc = BLK_PREALLOC_FULL;
			else {
				img_err("Invalid parameter '%s'", v);
				return -1;
			}
		} else if (!strcmp(k, "backing_file")) {
			*backing = v;
		} else if (!strcmp(k, "backing_fmt")) {
			*bfmt = v;
		} else if (!strcmp(k, "data_file") && *v) {
			o->data_file = v;
		} else if (!strcmp(k, "data_file_raw") && (on || off)) {
			o->data_file_raw = on;
		} else if (!strcmp(k, "size") && parse_size(v, &n)) {
			o->size = n;
		} else {
			img_err("Invalid parameter '%s'", k);
			return -1;
		}
	}
	return 0;
}

/* The backing file as the new image will see it: relative to its directory. */
char *img_backing_path(const char *image, const char *backing)
{
	const char *slash = strrchr(image, '/');
	if (backing[0] == '/' || !slash)
		return strdup(backing);
	char *p = malloc((size_t)(slash - image) + 2 + strlen(backing));
	if (p)
		sprintf(p, "%.*s/%s", (int)(slash - image), image, backing);
	return p;
}

int img_create_file(const char *file, struct blk_create_opts *o, const char *backing,
		    const char *bfmt, bool have_size, bool quiet)
{
	char err[1024];

	o->backing = backing;
	o->backing_fmt = bfmt;
	if (backing && !bfmt) {
		img_err("%s: Backing file specified without backing format", file);
		return 1;
	}
	if (backing && !have_size) {
		char *bp = img_backing_path(file, backing);
		struct blk *bb = img_open(bp, bfmt, false, false);
		free(bp);
		if (!bb)
			return 1;
		o->size = blk_size(bb);
		blk_close(bb);
	} else if (!have_size) {
		img_err("%s: Image creation needs a size parameter", file);
		return 1;
	}
	if (!quiet) {
		const char *fmt = o->format;
		printf("Formatting '%s', fmt=%s", file, fmt);
		if (!strcmp(fmt, "qcow2"))
			printf(" cluster_size=%u extended_l2=%s compression_type=%s", o->cluster_size ? o->cluster_size : 65536,
			       o->extended_l2 ? "on" : "off", o->zstd ? "zstd" : "zlib");
		printf(" size=%llu", (unsigned long long)o->size);
		if (backing)
			printf(" backing_file=%s backing_fmt=%s", backing, bfmt);
		if (!strcmp(fmt, "qcow2"))
			printf(" lazy_refcounts=%s refcount_bits=%u", o->lazy_refcounts ? "on" : "off",
			       o->refcount_bits ? o->refcount_bits : 16);
		printf("\n");
	}
	if (blk_create(file, o, err, sizeof(err)) < 0) {
		img_err("%s: %s", file, err);
		return 1;
	}
	return 0;
}

int img_cmd_create(int argc, char **argv)
{
	bool quiet = false;
	struct blk_create_opts o = { .format = "raw" };
	const char *backing = NULL, *bfmt = NULL;
	int c;

	while ((c = getopt(argc, argv, "+f:b:F:o:qu")) != -1) {
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'b': backing = optarg; break;
		case 'F': bfmt = optarg; break;
		case 'o': if (img_parse_opts(optarg, &o, &backing, &bfmt) < 0) return 1; break;
		case 'q': quiet = true; break;
		case 'u': break;
		default: return img_bad_option();
		}
	}
	if (optind >= argc) {
		img_err("Expecting image file name");
		return 1;
	}
	const char *file = argv[optind];
	bool have_size = o.size != 0;
	if (optind + 1 < argc) {
		uint64_t sz;
		if (!parse_size(argv[optind + 1], &sz)) {
			img_err("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
			return 1;
		}
		o.size = sz;
		have_size = true;
	}
	if (optind + 2 < argc) {
		img_err("Unexpected argument: %s", argv[optind + 2]);
		return 1;
	}
	if (strcmp(o.format, "raw") && strcmp(o.format, "qcow2")) {
		img_err("Unknown file format '%s'", o.format);
		return 1;
	}
	return img_create_file(file, &o, backing, bfmt, have_size, quiet);
}

