/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmon-img: disk image tool on vmon's block layer, with qemu-img's syntax
 * and exit statuses for the commands the two share: create, info, check,
 * convert, snapshot, resize, commit, rebase, compare, map.
 * Errors are one line on stderr, "vmon-img: ...".
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/blk_admin.h"
#include "block/block.h"
#include "util/parse.h"

#define CHUNK (2u << 20)

static bool quiet;

static void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die_msg(const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "vmon-img: %s\n", buf);
}

/* Why a call on b failed: the driver's own words when it has them. */
static const char *why(struct blk *b, int r)
{
	const char *m = b ? blk_last_error(b) : "";
	return m && *m ? m : strerror(-r);
}

static int bad_option(void)
{
	if (optopt)
		die_msg("invalid option -- '%c'", optopt);
	else
		die_msg("unrecognized or incomplete option");
	return 1;
}

static void usage(void)
{
	printf("usage: vmon-img COMMAND [options]\n"
	       "  create [-f fmt] [-b backing -F fmt] [-o opt=val,...] [-q] FILE [SIZE]\n"
	       "  info [-f fmt] [--output=human|json] [--backing-chain] FILE\n"
	       "  check [-f fmt] [-r leaks|all] [--output=human|json] [-q] FILE\n"
	       "  convert [-f fmt] [-O fmt] [-c] [-p] [-n] [-t cache] [-o opt=val,...] [-B backing] [-q] SRC... DST\n"
	       "  snapshot [-l | -c NAME | -a NAME | -d NAME] [-q] FILE\n"
	       "  resize [-f fmt] [--shrink] [-q] FILE [+|-]SIZE\n"
	       "  commit [-f fmt] [-d] [-q] FILE\n"
	       "  rebase [-f fmt] [-u] -b BACKING [-F fmt] [-q] FILE\n"
	       "  compare [-f fmt] [-F fmt] [-s] [-q] FILE1 FILE2\n"
	       "  map [-f fmt] [--output=human|json] FILE\n"
	       "Formats: raw, qcow2 (versions 2 and 3).\n");
}

static bool buf_zero(const uint8_t *p, uint64_t n)
{
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w)
			return false;
	}
	for (; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* qemu's size_to_str: three significant digits, binary prefixes. */
static void size_str(uint64_t v, char *out, size_t n)
{
	static const char *suf[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int e;
	frexp((double)v / (1000.0 / 1024.0), &e);
	int i = (e - 1) / 10;
	if (i < 0)
		i = 0;
	if (i > 6)
		i = 6;
	snprintf(out, n, "%0.3g %s", (double)v / (double)(1ull << (i * 10)), suf[i]);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static struct blk *open_img(const char *path, const char *fmt, bool rw, bool no_backing)
{
	char err[1024];
	struct blk_open_opts o = { .format = fmt, .readonly = !rw, .no_backing = no_backing };
	struct blk *b = blk_open(path, &o, err, sizeof(err));
	if (!b)
		die_msg("Could not open '%s': %s", path, err);
	return b;
}

/* ---- -o options ---- */

static int parse_opts(char *s, struct blk_create_opts *o, const char **backing, const char **bfmt)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			die_msg("Invalid option list: '%s'", tok);
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
				die_msg("Invalid parameter '%s'", v);
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
			die_msg("Invalid parameter '%s'", k);
			return -1;
		}
	}
	return 0;
}

/* The backing file as the new image will see it: relative to its directory. */
static char *backing_path_for(const char *image, const char *backing)
{
	const char *slash = strrchr(image, '/');
	if (backing[0] == '/' || !slash)
		return strdup(backing);
	char *p = malloc((size_t)(slash - image) + 2 + strlen(backing));
	if (p)
		sprintf(p, "%.*s/%s", (int)(slash - image), image, backing);
	return p;
}

static int do_create_img(const char *file, struct blk_create_opts *o, const char *backing,
			 const char *bfmt, bool have_size)
{
	char err[1024];

	o->backing = backing;
	o->backing_fmt = bfmt;
	if (backing && !bfmt) {
		die_msg("%s: Backing file specified without backing format", file);
		return 1;
	}
	if (backing && !have_size) {
		char *bp = backing_path_for(file, backing);
		struct blk *bb = open_img(bp, bfmt, false, false);
		free(bp);
		if (!bb)
			return 1;
		o->size = blk_size(bb);
		blk_close(bb);
	} else if (!have_size) {
		die_msg("%s: Image creation needs a size parameter", file);
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
		die_msg("%s: %s", file, err);
		return 1;
	}
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	struct blk_create_opts o = { .format = "raw" };
	const char *backing = NULL, *bfmt = NULL;
	int c;

	while ((c = getopt(argc, argv, "+f:b:F:o:qu")) != -1) {
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'b': backing = optarg; break;
		case 'F': bfmt = optarg; break;
		case 'o': if (parse_opts(optarg, &o, &backing, &bfmt) < 0) return 1; break;
		case 'q': quiet = true; break;
		case 'u': break;
		default: return bad_option();
		}
	}
	if (optind >= argc) {
		die_msg("Expecting image file name");
		return 1;
	}
	const char *file = argv[optind];
	bool have_size = o.size != 0;
	if (optind + 1 < argc) {
		uint64_t sz;
		if (!parse_size(argv[optind + 1], &sz)) {
			die_msg("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
			return 1;
		}
		o.size = sz;
		have_size = true;
	}
	if (optind + 2 < argc) {
		die_msg("Unexpected argument: %s", argv[optind + 2]);
		return 1;
	}
	if (strcmp(o.format, "raw") && strcmp(o.format, "qcow2")) {
		die_msg("Unknown file format '%s'", o.format);
		return 1;
	}
	return do_create_img(file, &o, backing, bfmt, have_size);
}

/* ---- info ---- */

static void print_snapshots_human(struct blk_snapshot *s, int n)
{
	printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
	for (int i = 0; i < n; i++) {
		char date[32], clk[32], vs[32], ic[32] = "";
		time_t t = s[i].date_sec;
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
		uint64_t secs = s[i].vm_clock_nsec / 1000000000ull;
		snprintf(clk, sizeof(clk), "%02u:%02u:%02u.%03u", (unsigned)(secs / 3600),
			 (unsigned)((secs / 60) % 60), (unsigned)(secs % 60),
			 (unsigned)((s[i].vm_clock_nsec / 1000000) % 1000));
		size_str(s[i].vm_state_size, vs, sizeof(vs));
		if (s[i].icount != UINT64_MAX)
			snprintf(ic, sizeof(ic), "%llu", (unsigned long long)s[i].icount);
		printf("%-9s %-17s %7s%20s%13s%11s\n", s[i].id, s[i].name, vs, date, clk, ic);
	}
}

static void info_json(struct blk *b, bool last_in_array, int indent)
{
	struct blk_info in;
	struct blk_snapshot *sn = NULL;
	char pad[16];
	snprintf(pad, sizeof(pad), "%*s", indent, "");
	blk_get_info(b, &in);
	int n = blk_snapshot_list(b, &sn);
	printf("%s{\n", indent ? "    " : "");
	if (blk_backing_name(b) && blk_backing_fmt(b)) {
		printf("%s    \"backing-filename-format\": ", pad);
		json_str(stdout, blk_backing_fmt(b));
		printf(",\n");
	}
	if (n > 0) {
		printf("%s    \"snapshots\": [\n", pad);
		for (int i = 0; i < n; i++) {
			printf("%s        {\n", pad);
			if (sn[i].icount != UINT64_MAX)
				printf("%s            \"icount\": %llu,\n", pad, (unsigned long long)sn[i].icount);
			printf("%s            \"vm-clock-nsec\": %llu,\n", pad, (unsigned long long)(sn[i].vm_clock_nsec % 1000000000ull));
			printf("%s            \"name\": ", pad);
			json_str(stdout, sn[i].name);
			printf(",\n%s            \"date-sec\": %u,\n", pad, sn[i].date_sec);
			printf("%s            \"date-nsec\": %u,\n", pad, sn[i].date_nsec);
			printf("%s            \"vm-clock-sec\": %llu,\n", pad, (unsigned long long)(sn[i].vm_clock_nsec / 1000000000ull));
			printf("%s            \"id\": ", pad);
			json_str(stdout, sn[i].id);
			printf(",\n%s            \"vm-state-size\": %llu\n", pad, (unsigned long long)sn[i].vm_state_size);
			printf("%s        }%s\n", pad, i + 1 < n ? "," : "");
		}
		printf("%s    ],\n", pad);
	}
	free(sn);
	printf("%s    \"virtual-size\": %llu,\n", pad, (unsigned long long)in.virtual_size);
	printf("%s    \"filename\": ", pad);
	json_str(stdout, blk_filename(b));
	printf(",\n");
	if (in.cluster_size)
		printf("%s    \"cluster-size\": %u,\n", pad, in.cluster_size);
	printf("%s    \"format\": \"%s\",\n", pad, blk_format(b));
	printf("%s    \"actual-size\": %lld,\n", pad, (long long)in.actual_size);
	if (!strcmp(blk_format(b), "qcow2")) {
		printf("%s    \"format-specific\": {\n", pad);
		printf("%s        \"type\": \"qcow2\",\n", pad);
		printf("%s        \"data\": {\n", pad);
		printf("%s            \"compat\": \"%s\",\n", pad, in.version >= 3 ? "1.1" : "0.10");
		printf("%s            \"compression-type\": \"%s\",\n", pad, in.zstd ? "zstd" : "zlib");
		if (in.version >= 3)
			printf("%s            \"lazy-refcounts\": %s,\n", pad, in.lazy_refcounts ? "true" : "false");
		struct blk_bitmap *bm;
		int nbm = blk_bitmap_list(b, &bm);
		if (nbm > 0) {
			printf("%s            \"bitmaps\": [\n", pad);
			for (int i = 0; i < nbm; i++) {
				printf("%s                {\n%s                    \"flags\": [\n", pad, pad);
				if (bm[i].flags & 1)
					printf("%s                        \"in-use\"%s\n", pad, bm[i].flags & 2 ? "," : "");
				if (bm[i].flags & 2)
					printf("%s                        \"auto\"\n", pad);
				printf("%s                    ],\n%s                    \"name\": ", pad, pad);
				json_str(stdout, bm[i].name);
				printf(",\n%s                    \"granularity\": %llu\n%s                }%s\n", pad,
				       1ull << (bm[i].granularity_bits & 63), pad, i + 1 < nbm ? "," : "");
			}
			printf("%s            ],\n", pad);
			free(bm);
		}
		printf("%s            \"refcount-bits\": %u%s\n", pad, in.refcount_bits, in.version >= 3 ? "," : "");
		if (in.data_file) {
			printf("%s            \"data-file\": ", pad);
			json_str(stdout, in.data_file);
			printf(",\n%s            \"data-file-raw\": %s,\n", pad, in.data_file_raw ? "true" : "false");
		}
		if (in.version >= 3) {
			printf("%s            \"corrupt\": %s,\n", pad, in.corrupt ? "true" : "false");
			printf("%s            \"extended-l2\": %s\n", pad, in.extended_l2 ? "true" : "false");
		}
		printf("%s        }\n", pad);
		printf("%s    },\n", pad);
	}
	if (blk_backing_name(b)) {
		printf("%s    \"full-backing-filename\": ", pad);
		json_str(stdout, blk_backing_path(b) ? blk_backing_path(b) : blk_backing_name(b));
		printf(",\n%s    \"backing-filename\": ", pad);
		json_str(stdout, blk_backing_name(b));
		printf(",\n");
	}
	printf("%s    \"dirty-flag\": %s\n", pad, in.dirty ? "true" : "false");
	printf("%s}%s\n", indent ? "    " : "", last_in_array ? "" : ",");
}

static void info_human(struct blk *b)
{
	struct blk_info in;
	struct blk_snapshot *sn = NULL;
	char vs[32], ds[32];

	blk_get_info(b, &in);
	size_str(in.virtual_size, vs, sizeof(vs));
	size_str((uint64_t)(in.actual_size < 0 ? 0 : in.actual_size), ds, sizeof(ds));
	printf("image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\ndisk size: %s\n",
	       blk_filename(b), blk_format(b), vs, (unsigned long long)in.virtual_size, ds);
	if (in.cluster_size)
		printf("cluster_size: %u\n", in.cluster_size);
	if (blk_backing_name(b)) {
		printf("backing file: %s", blk_backing_name(b));
		if (blk_backing_path(b) && strcmp(blk_backing_path(b), blk_backing_name(b)))
			printf(" (actual path: %s)", blk_backing_path(b));
		printf("\n");
		if (blk_backing_fmt(b))
			printf("backing file format: %s\n", blk_backing_fmt(b));
	}
	if (in.dirty)
		printf("cleanly shut down: no\n");
	int n = blk_snapshot_list(b, &sn);
	if (n > 0) {
		printf("Snapshot list:\n");
		print_snapshots_human(sn, n);
	}
	free(sn);
	if (!strcmp(blk_format(b), "qcow2")) {
		printf("Format specific information:\n    compat: %s\n    compression type: %s\n",
		       in.version >= 3 ? "1.1" : "0.10", in.zstd ? "zstd" : "zlib");
		if (in.version >= 3)
			printf("    lazy refcounts: %s\n", in.lazy_refcounts ? "true" : "false");
		struct blk_bitmap *bm;
		int nbm = blk_bitmap_list(b, &bm);
		if (nbm > 0) {
			printf("    bitmaps:\n");
			for (int i = 0; i < nbm; i++) {
				int k = 0;
				printf("        [%d]:\n            flags:\n", i);
				if (bm[i].flags & 1)
					printf("                [%d]: in-use\n", k++);
				if (bm[i].flags & 2)
					printf("                [%d]: auto\n", k++);
				printf("            name: %s\n            granularity: %llu\n", bm[i].name,
				       1ull << (bm[i].granularity_bits & 63));
			}
			free(bm);
		}
		printf("    refcount bits: %u\n", in.refcount_bits);
		if (in.data_file)
			printf("    data file: %s\n    data file raw: %s\n", in.data_file, in.data_file_raw ? "true" : "false");
		if (in.version >= 3)
			printf("    corrupt: %s\n    extended l2: %s\n", in.corrupt ? "true" : "false",
			       in.extended_l2 ? "true" : "false");
	}
}

static int output_kind(const char *v)
{
	if (!strcmp(v, "json"))
		return 1;
	if (!strcmp(v, "human"))
		return 0;
	die_msg("--output must be used with human or json as argument.");
	return -1;
}

static int cmd_info(int argc, char **argv)
{
	const char *fmt = NULL;
	int json = 0, chain = 0, c;
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'O' }, { "backing-chain", no_argument, NULL, 'C' },
		{ "force-share", no_argument, NULL, 'U' }, { "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };

	while ((c = getopt_long(argc, argv, "+f:hU", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': if ((json = output_kind(optarg)) < 0) return 1; break;
		case 'C': chain = 1; break;
		case 'U': break;
		case 'h': usage(); return 0;
		default: return bad_option();
		}
	}
	if (optind != argc - 1) {
		die_msg("Expecting one image file name");
		return 1;
	}
	struct blk *b = open_img(argv[optind], fmt, false, false);
	if (!b)
		return 1;
	if (json && chain)
		printf("[\n");
	for (struct blk *cur = b; cur; cur = chain ? blk_backing(cur) : NULL) {
		bool last = !chain || !blk_backing(cur);
		if (json)
			info_json(cur, !chain || last, chain ? 4 : 0);
		else {
			info_human(cur);
			if (!last)
				printf("\n");
		}
	}
	if (json && chain)
		printf("]\n");
	blk_close(b);
	return 0;
}

/* ---- check ---- */

static int cmd_check(int argc, char **argv)
{
	const char *fmt = NULL;
	int json = 0, fix = 0, c;
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'O' }, { "repair", required_argument, NULL, 'r' },
		{ "force-share", no_argument, NULL, 'U' }, { 0, 0, 0, 0 } };

	while ((c = getopt_long(argc, argv, "+f:r:qU", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': if ((json = output_kind(optarg)) < 0) return 1; break;
		case 'r':
			if (!strcmp(optarg, "leaks"))
				fix = BLK_FIX_LEAKS;
			else if (!strcmp(optarg, "all"))
				fix = BLK_FIX_LEAKS | BLK_FIX_ERRORS;
			else {
				die_msg("Unknown option value for -r (expecting 'leaks' or 'all'): %s", optarg);
				return 1;
			}
			break;
		case 'q': quiet = true; break;
		case 'U': break;
		default: return bad_option();
		}
	}
	if (optind != argc - 1) {
		die_msg("Expecting one image file name");
		return 1;
	}
	char err[1024];
	struct blk_open_opts o = { .format = fmt, .readonly = !fix, .no_backing = true };
	struct blk *b = blk_open_for_check(argv[optind], &o, err, sizeof(err));
	if (!b) {
		die_msg("Could not open '%s': %s", argv[optind], err);
		return 1;
	}
	if (strcmp(blk_format(b), "qcow2")) {
		die_msg("This image format does not support checks");
		blk_close(b);
		return 63;
	}
	struct blk_check_result r;
	int ret = blk_check(b, fix, &r);
	if (ret < 0) {
		die_msg("Check failed: %s", strerror(-ret));
		blk_check_result_free(&r);
		blk_close(b);
		return 1;
	}
	if (json) {
		printf("{\n");
		if (r.image_end_offset)
			printf("    \"image-end-offset\": %llu,\n", (unsigned long long)r.image_end_offset);
		if (r.total_clusters)
			printf("    \"total-clusters\": %llu,\n", (unsigned long long)r.total_clusters);
		printf("    \"check-errors\": %d,\n", r.check_errors);
		if (r.leaks)
			printf("    \"leaks\": %d,\n", r.leaks);
		if (r.leaks_fixed)
			printf("    \"leaks-fixed\": %d,\n", r.leaks_fixed);
		if (r.corruptions)
			printf("    \"corruptions\": %d,\n", r.corruptions);
		if (r.corruptions_fixed)
			printf("    \"corruptions-fixed\": %d,\n", r.corruptions_fixed);
		if (r.allocated_clusters)
			printf("    \"allocated-clusters\": %llu,\n", (unsigned long long)r.allocated_clusters);
		if (r.fragmented_clusters)
			printf("    \"fragmented-clusters\": %llu,\n", (unsigned long long)r.fragmented_clusters);
		if (r.compressed_clusters)
			printf("    \"compressed-clusters\": %llu,\n", (unsigned long long)r.compressed_clusters);
		printf("    \"filename\": ");
		json_str(stdout, argv[optind]);
		printf(",\n    \"format\": \"%s\"\n}\n", blk_format(b));
	} else if (!quiet) {
		if (r.log)
			fputs(r.log, stderr);
		if (r.leaks_fixed || r.corruptions_fixed)
			printf("The following inconsistencies were found and repaired:\n\n"
			       "    %d leaked clusters\n    %d corruptions\n\nDouble checking the fixed image now...\n",
			       r.leaks_fixed, r.corruptions_fixed);
		if (!r.corruptions && !r.leaks && !r.check_errors)
			printf("No errors were found on the image.\n");
		else {
			if (r.corruptions)
				printf("\n%d errors were found on the image.\n"
				       "Data may be corrupted, or further writes to the image may corrupt it.\n", r.corruptions);
			if (r.leaks)
				printf("\n%d leaked clusters were found on the image.\n"
				       "This means waste of disk space, but no harm to data.\n", r.leaks);
			if (r.check_errors)
				printf("\n%d internal errors have occurred during the check.\n", r.check_errors);
		}
		if (r.total_clusters && r.allocated_clusters)
			printf("%llu/%llu = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
			       (unsigned long long)r.allocated_clusters, (unsigned long long)r.total_clusters,
			       r.allocated_clusters * 100.0 / r.total_clusters,
			       r.fragmented_clusters * 100.0 / r.allocated_clusters,
			       r.compressed_clusters * 100.0 / r.allocated_clusters);
		if (r.image_end_offset)
			printf("Image end offset: %llu\n", (unsigned long long)r.image_end_offset);
	}
	int rc = r.check_errors ? 1 : r.corruptions ? 2 : r.leaks ? 3 : 0;
	blk_check_result_free(&r);
	blk_close(b);
	return rc;
}

/* ---- convert ---- */

struct cjob {
	struct blk *b;
	const uint8_t *in;
	size_t len;
	uint8_t *out;
	size_t clen;
	int ret;
};

struct cwork {
	struct cjob *jobs;
	int n;
	int next;       /* the next job to take (atomic): whoever runs takes more */
};

static void *compress_worker(void *p)
{
	struct cwork *w = p;
	for (;;) {
		int i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
		if (i >= w->n)
			break;
		w->jobs[i].ret = blk_compress(w->jobs[i].b, w->jobs[i].in, w->jobs[i].len,
					      w->jobs[i].out, &w->jobs[i].clen);
	}
	return NULL;
}

/* Writes the whole clusters of buf (guest offset to) compressed, the
 * compression spread over the host's cores; zero clusters are skipped
 * (fresh target) or written as zeroes. */
static int write_compressed_chunk(struct blk *out, const uint8_t *buf, uint64_t n, uint64_t to,
				  uint32_t cs, bool fresh, uint8_t *cbufs)
{
	static int ncpu;
	int nj = 0, r = 0;
	struct cjob *jobs = malloc(sizeof(*jobs) * (size_t)(n / cs + 1));
	if (!jobs)
		return -ENOMEM;

	if (!ncpu) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		ncpu = c < 1 ? 1 : c > 8 ? 8 : (int)c;
	}
	for (uint64_t p = 0; p < n; p += cs) {
		uint64_t u = n - p < cs ? n - p : cs;
		if (buf_zero(buf + p, u)) {
			if (!fresh && (r = blk_write_zeroes(out, to + p, u, true)) < 0)
				goto out;
			continue;
		}
		jobs[nj] = (struct cjob){ out, buf + p, (size_t)u, cbufs + (size_t)nj * cs, 0, 0 };
		nj++;
	}
	pthread_t th[8];
	struct cwork w = { jobs, nj, 0 };
	int nt = ncpu < nj ? ncpu : nj;
	bool started[8] = { false };
	for (int t = 1; t < nt; t++)
		started[t] = pthread_create(&th[t], NULL, compress_worker, &w) == 0;
	compress_worker(&w);   /* this thread too; it finishes what nobody took */
	for (int t = 1; t < nt; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	for (int j = 0; j < nj && r >= 0; j++) {
		uint64_t at = to + (uint64_t)(jobs[j].in - buf);
		if ((r = jobs[j].ret) < 0)
			break;
		if (jobs[j].clen)
			r = blk_write_compressed_data(out, at, jobs[j].out, jobs[j].clen);
		else
			r = blk_pwrite(out, jobs[j].in, jobs[j].len, at);
	}
out:
	free(jobs);
	return r;
}

/* The reading half of convert, on its own thread: allocation status and
 * data of the sources, chunk by chunk, into a ring of buffers, so that
 * reading the next chunk overlaps writing this one. */
enum { SLOT_ZERO, SLOT_DATA, SLOT_END, SLOT_ERROR };
#define NSLOT 4

struct slot {
	bool full;
	int kind;
	uint64_t to, n, progress;
	uint8_t *buf, *bbuf;
	char msg[300];
};

struct reader {
	struct blk **src;
	int nsrc;
	uint64_t gran;
	struct blk *bk;
	char **names;
	pthread_t th;
	bool started, stop;
	pthread_mutex_t m;
	pthread_cond_t c;
	struct slot slots[NSLOT];
	int head, tail;
};

static struct slot *reader_slot(struct reader *rd)
{
	struct slot *sl = &rd->slots[rd->tail];
	pthread_mutex_lock(&rd->m);
	while (sl->full && !rd->stop)
		pthread_cond_wait(&rd->c, &rd->m);
	pthread_mutex_unlock(&rd->m);
	return rd->stop ? NULL : sl;
}

static void reader_push(struct reader *rd, struct slot *sl)
{
	pthread_mutex_lock(&rd->m);
	sl->full = true;
	rd->tail = (rd->tail + 1) % NSLOT;
	pthread_cond_broadcast(&rd->c);
	pthread_mutex_unlock(&rd->m);
}

static void *reader_main(void *p)
{
	struct reader *rd = p;
	uint64_t base = 0, gran = rd->gran;
	struct slot *sl;

	for (int s = 0; s < rd->nsrc; s++) {
		uint64_t size = blk_size(rd->src[s]), st_end = 0;
		struct blk_status st = { 0 };
		for (uint64_t off = 0; off < size;) {
			if (!(sl = reader_slot(rd)))
				return NULL;
			/* One status query covers as much as it can; chunks consume it. */
			int r = 0;
			if (off >= st_end) {
				int depth;
				r = blk_block_status_chain(rd->src[s], off, size - off, &st, &depth, NULL);
				st_end = r < 0 ? 0 : off + st.pnum;
			}
			if (r >= 0) {
				st.pnum = st_end - off < CHUNK ? st_end - off : CHUNK;
			}
			if (r < 0) {
				snprintf(sl->msg, sizeof(sl->msg), "error while reading block status of '%s': %s",
					 rd->names[s], strerror(-r));
				sl->kind = SLOT_ERROR;
				reader_push(rd, sl);
				return NULL;
			}
			uint64_t n = st.pnum;
			if ((st.flags & BLK_STATUS_ZERO) && !(st.flags & BLK_STATUS_DATA) && !rd->bk) {
				n = st_end - off;   /* no buffer: all of it at once */
				sl->kind = SLOT_ZERO;
				sl->to = base + off;
				sl->n = sl->progress = n;
				reader_push(rd, sl);
				off += n;
				continue;
			}
			/* Data: whole target clusters around it (single source, or aligned). */
			uint64_t lead = (base % gran) ? 0 : off % gran;
			uint64_t endp = off + n;
			if (!(base % gran)) {
				endp = (endp + gran - 1) / gran * gran;
				if (endp > size)
					endp = size;
			}
			sl->kind = SLOT_DATA;
			sl->to = base + off - lead;
			sl->n = endp - (off - lead);
			sl->progress = endp - off;
			if ((r = blk_pread(rd->src[s], sl->buf, sl->n, off - lead)) < 0) {
				snprintf(sl->msg, sizeof(sl->msg), "error while reading at byte %llu: %s",
					 (unsigned long long)(off - lead), why(rd->src[s], r));
				sl->kind = SLOT_ERROR;
				reader_push(rd, sl);
				return NULL;
			}
			if (rd->bk) {
				uint64_t to = sl->to, bs = blk_size(rd->bk);
				uint64_t bn = to < bs ? (bs - to < sl->n ? bs - to : sl->n) : 0;
				memset(sl->bbuf, 0, sl->n);
				if (bn && (r = blk_pread(rd->bk, sl->bbuf, bn, to)) < 0) {
					snprintf(sl->msg, sizeof(sl->msg), "error while reading the backing file: %s",
						 strerror(-r));
					sl->kind = SLOT_ERROR;
					reader_push(rd, sl);
					return NULL;
				}
			}
			reader_push(rd, sl);
			off = endp;
		}
		base += size;
	}
	if ((sl = reader_slot(rd))) {
		sl->kind = SLOT_END;
		reader_push(rd, sl);
	}
	return NULL;
}

static int reader_start(struct reader *rd, size_t bufsize)
{
	pthread_mutex_init(&rd->m, NULL);
	pthread_cond_init(&rd->c, NULL);
	for (int i = 0; i < NSLOT; i++) {
		if (posix_memalign((void **)&rd->slots[i].buf, 4096, bufsize) ||
		    (rd->bk && posix_memalign((void **)&rd->slots[i].bbuf, 4096, bufsize)))
			return -ENOMEM;
	}
	if (pthread_create(&rd->th, NULL, reader_main, rd))
		return -EAGAIN;
	rd->started = true;
	return 0;
}

static struct slot *reader_next(struct reader *rd)
{
	struct slot *sl = &rd->slots[rd->head];
	pthread_mutex_lock(&rd->m);
	while (!sl->full)
		pthread_cond_wait(&rd->c, &rd->m);
	pthread_mutex_unlock(&rd->m);
	return sl;
}

static void reader_release(struct reader *rd)
{
	pthread_mutex_lock(&rd->m);
	rd->slots[rd->head].full = false;
	rd->head = (rd->head + 1) % NSLOT;
	pthread_cond_broadcast(&rd->c);
	pthread_mutex_unlock(&rd->m);
}

static void reader_stop(struct reader *rd)
{
	if (rd->started) {
		pthread_mutex_lock(&rd->m);
		rd->stop = true;
		pthread_cond_broadcast(&rd->c);
		pthread_mutex_unlock(&rd->m);
		pthread_join(rd->th, NULL);
		rd->started = false;
	}
	for (int i = 0; i < NSLOT; i++) {
		free(rd->slots[i].buf);
		free(rd->slots[i].bbuf);
		rd->slots[i].buf = rd->slots[i].bbuf = NULL;
	}
}

static void progress(double pct)
{
	printf("    (%.2f/100%%)\r", pct);
	fflush(stdout);
}

static int cmd_convert(int argc, char **argv)
{
	const char *fmt = NULL, *ofmt = "raw", *backing = NULL, *bfmt = NULL;
	struct blk_create_opts o = { 0 };
	bool compress = false, prog = false, no_create = false;
	const char *cache = "unsafe";
	char *optstr = NULL;
	uint64_t sparse = 4096;
	int c;

	while ((c = getopt(argc, argv, "+f:O:co:pnqB:F:S:m:WtT:U")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': ofmt = optarg; break;
		case 'c': compress = true; break;
		case 'o': optstr = optarg; break;
		case 'p': prog = true; break;
		case 'n': no_create = true; break;
		case 'q': quiet = true; break;
		case 'B': backing = optarg; break;
		case 'F': bfmt = optarg; break;
		case 'S':
			if (!parse_size(optarg, &sparse)) {
				die_msg("Invalid buffer size for sparse output specified");
				return 1;
			}
			break;
		case 't':
			if (strcmp(optarg, "unsafe") && strcmp(optarg, "writeback") && strcmp(optarg, "none") &&
			    strcmp(optarg, "writethrough") && strcmp(optarg, "directsync")) {
				die_msg("Invalid cache option: %s", optarg);
				return 1;
			}
			cache = optarg;
			break;
		case 'm': case 'W': case 'T': case 'U': break;
		default: return bad_option();
		}
	}
	if (argc - optind < 2) {
		die_msg("Expecting image file name");
		return 1;
	}
	if (quiet)
		prog = false;
	int nsrc = argc - optind - 1;
	const char *dst = argv[argc - 1];
	struct blk **src = calloc((size_t)nsrc, sizeof(*src));
	uint64_t total = 0;
	int rc = 1;
	struct blk *out = NULL, *bk = NULL;
	uint8_t *buf = NULL, *bbuf = NULL, *cbufs = NULL;
	for (int i = 0; i < nsrc; i++) {
		if (!(src[i] = open_img(argv[optind + i], fmt, false, false)))
			goto done;
		total += blk_size(src[i]);
	}
	o.format = ofmt;
	if (optstr && parse_opts(optstr, &o, &backing, &bfmt) < 0)
		goto done;
	if (compress && strcmp(ofmt, "qcow2")) {
		die_msg("Compression not supported for this file format");
		goto done;
	}
	if (!no_create) {
		bool q0 = quiet;
		quiet = true;
		o.size = total;
		if (strcmp(ofmt, "raw") && strcmp(ofmt, "qcow2")) {
			die_msg("Unknown file format '%s'", ofmt);
			quiet = q0;
			goto done;
		}
		if (backing && !bfmt) {
			die_msg("%s: Backing file specified without backing format", dst);
			quiet = q0;
			goto done;
		}
		o.backing = backing;
		o.backing_fmt = bfmt;
		char err[1024];
		int r = blk_create(dst, &o, err, sizeof(err));
		quiet = q0;
		if (r < 0) {
			die_msg("%s", err);
			goto done;
		}
	}
	{
		char err[1024];
		struct blk_open_opts oo = { .format = no_create ? NULL : ofmt,
					    .cache = !strcmp(cache, "none") || !strcmp(cache, "directsync") ?
						     BLK_CACHE_NONE : BLK_CACHE_WRITEBACK };
		if (!(out = blk_open(dst, &oo, err, sizeof(err)))) {
			die_msg("Could not open '%s': %s", dst, err);
			goto done;
		}
		blk_set_cache_unsafe(out, !strcmp(cache, "unsafe"));
	}
	if (no_create && blk_size(out) < total) {
		die_msg("Output image is too small");
		goto done;
	}
	uint32_t cs = blk_cluster_size(out);
	uint64_t gran = cs ? cs : (sparse ? sparse : 4096);
	bool fresh = !no_create && !(o.prealloc != BLK_PREALLOC_OFF);
	bk = backing ? blk_backing(out) : NULL;
	if (compress && cs && !(cbufs = malloc((size_t)((CHUNK + 2 * gran) / cs + 1) * cs))) {
		die_msg("out of memory");
		goto done;
	}
	struct reader rd = {
		.src = src, .nsrc = nsrc, .gran = gran, .bk = bk, .names = argv + optind,
	};
	uint64_t done_bytes = 0;
	int r = 0;
	if (reader_start(&rd, CHUNK + 2 * gran) < 0) {
		die_msg("out of memory");
		goto done;
	}
	if (prog)
		progress(0);
	for (;;) {
		struct slot *sl = reader_next(&rd);
		if (sl->kind == SLOT_END) {
			reader_release(&rd);
			break;
		}
		if (sl->kind == SLOT_ERROR) {
			die_msg("%s", sl->msg);
			reader_release(&rd);
			reader_stop(&rd);
			goto done;
		}
		uint64_t to = sl->to, n = sl->n;
		uint8_t *buf = sl->buf, *bbuf = sl->bbuf;
		if (sl->kind == SLOT_ZERO) {
			if (!fresh && (r = blk_write_zeroes(out, to, n, true)) < 0)
				goto werr_at;
		} else if (compress && !bk && cs && !(to % cs)) {
			if ((r = write_compressed_chunk(out, buf, n, to, cs, fresh, cbufs)) < 0)
				goto werr_at;
		} else {
			/* Write what is not zero (or not equal to the backing file), unit by unit. */
			for (uint64_t p = 0; p < n;) {
				uint64_t u = gran - (to + p) % gran;
				if (u > n - p)
					u = n - p;
				bool skip = bk ? !memcmp(buf + p, bbuf + p, u) : false;
				if (!bk && buf_zero(buf + p, u)) {
					if (!fresh && (r = blk_write_zeroes(out, to + p, u, true)) < 0) {
						to += p;
						goto werr_at;
					}
					skip = true;
				}
				if (skip) {
					p += u;
					continue;
				}
				/* A run of units to write. */
				uint64_t run = u;
				if (!compress) {
					while (p + run < n) {
						uint64_t u2 = gran < n - p - run ? gran : n - p - run;
						bool z = bk ? !memcmp(buf + p + run, bbuf + p + run, u2) : buf_zero(buf + p + run, u2);
						if (z)
							break;
						run += u2;
					}
					r = blk_pwrite(out, buf + p, run, to + p);
				} else if (u == cs || to + p + u == blk_size(out)) {
					r = blk_write_compressed(out, buf + p, u, to + p);
				} else {
					r = blk_pwrite(out, buf + p, u, to + p);
				}
				if (r < 0) {
					to += p;
					goto werr_at;
				}
				p += run;
			}
		}
		done_bytes += sl->progress;
		reader_release(&rd);
		if (prog)
			progress(done_bytes * 100.0 / (total ? total : 1));
		continue;
werr_at:
		die_msg("error while writing at byte %llu: %s", (unsigned long long)to, why(out, r));
		reader_release(&rd);
		reader_stop(&rd);
		goto done;
	}
	reader_stop(&rd);
	r = blk_flush(out);
	if (r < 0) {
		die_msg("error while flushing '%s': %s", dst, why(out, r));
		goto done;
	}
	if (prog) {
		progress(100);
		printf("\n");
	}
	rc = 0;
done:
	if (out)
		blk_close(out);
	for (int i = 0; i < nsrc; i++)
		if (src[i])
			blk_close(src[i]);
	free(src);
	free(buf);
	free(bbuf);
	free(cbufs);
	return rc;
}

/* ---- snapshot ---- */

static int cmd_snapshot(int argc, char **argv)
{
	int c, op = 0;
	const char *name = NULL, *fmt = NULL;

	while ((c = getopt(argc, argv, "+lc:a:d:f:qU")) != -1) {
		switch (c) {
		case 'l': case 'c': case 'a': case 'd':
			if (op) {
				die_msg("Cannot mix '-l', '-a', '-c', '-d'");
				return 1;
			}
			op = c;
			name = optarg;
			break;
		case 'f': fmt = optarg; break;
		case 'q': quiet = true; break;
		case 'U': break;
		default: return bad_option();
		}
	}
	if (optind != argc - 1) {
		die_msg("Expecting one image file name");
		return 1;
	}
	if (!op)
		op = 'l';
	struct blk *b = open_img(argv[optind], fmt, op != 'l', true);
	if (!b)
		return 1;
	char err[1024];
	int ret = 0;
	if (op == 'l') {
		struct blk_snapshot *sn;
		int n = blk_snapshot_list(b, &sn);
		if (n > 0) {
			printf("Snapshot list:\n");
			print_snapshots_human(sn, n);
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
		die_msg("%s", err);
	blk_close(b);
	return ret < 0 ? 1 : 0;
}

/* ---- resize ---- */

static int cmd_resize(int argc, char **argv)
{
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
		default: return bad_option();
		}
	}
	if (argc - optind != 2) {
		die_msg("Expecting image file name and size");
		return 1;
	}
	const char *ss = argv[optind + 1];
	int rel = ss[0] == '+' ? 1 : ss[0] == '~' ? -1 : 0;
	uint64_t v;
	if (!parse_size(ss + (rel != 0), &v)) {
		die_msg("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
		return 1;
	}
	struct blk *b = open_img(argv[optind], fmt, true, false);
	if (!b)
		return 1;
	uint64_t cur = blk_size(b), ns = rel > 0 ? cur + v : rel < 0 ? (v > cur ? 0 : cur - v) : v;
	if (rel < 0 && v > cur) {
		die_msg("New image size must be positive");
		blk_close(b);
		return 1;
	}
	char err[1024];
	if (ns < cur && shrink && !quiet)
		fprintf(stderr, "vmon-img: warning: Shrinking an image will delete all data beyond the shrunken image's end.\n");
	int ret = blk_truncate(b, ns, shrink, err, sizeof(err));
	blk_close(b);
	if (ret < 0) {
		die_msg("%s", err);
		return 1;
	}
	if (!quiet)
		printf("Image resized.\n");
	return 0;
}

/* ---- commit ---- */

static int cmd_commit(int argc, char **argv)
{
	const char *fmt = NULL;
	bool keep = false;
	int c;

	while ((c = getopt(argc, argv, "+f:dqpt:b:r:")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'd': keep = true; break;
		case 'q': quiet = true; break;
		case 'p': case 't': case 'b': case 'r': break;
		default: return bad_option();
		}
	}
	if (optind != argc - 1) {
		die_msg("Expecting one image file name");
		return 1;
	}
	struct blk *top = open_img(argv[optind], fmt, false, false);
	if (!top)
		return 1;
	if (!blk_backing(top)) {
		die_msg("Image does not have a backing file");
		blk_close(top);
		return 1;
	}
	struct blk *base = open_img(blk_backing_path(top), blk_format(blk_backing(top)), true, false);
	int rc = 1, r = 0;
	uint8_t *buf = malloc(CHUNK);
	if (!base || !buf)
		goto out;
	uint64_t size = blk_size(top);
	char err[1024];
	if (blk_size(base) < size && (r = blk_truncate(base, size, false, err, sizeof(err))) < 0) {
		die_msg("%s", err);
		goto out;
	}
	for (uint64_t off = 0; off < size;) {
		struct blk_status st;
		uint64_t want = size - off < CHUNK ? size - off : CHUNK;
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
		struct blk *t = open_img(argv[optind], fmt, true, true);
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
	die_msg("Error while committing: %s", strerror(-r));
out:
	free(buf);
	if (base)
		blk_close(base);
	if (top)
		blk_close(top);
	return rc;
}

/* ---- rebase ---- */

static int cmd_rebase(int argc, char **argv)
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
		case 'q': quiet = true; break;
		case 'p': case 't': case 'T': case 'U': break;
		default: return bad_option();
		}
	}
	if (optind != argc - 1 || !nb) {
		die_msg("Expecting one image file name and -b BACKING");
		return 1;
	}
	const char *file = argv[optind];
	if (!*nb)
		nb = NULL;
	if (nb && !nbfmt && !unsafe) {
		/* Probe the new backing file's format. */
		char *p = backing_path_for(file, nb);
		struct blk *t = open_img(p, NULL, false, true);
		free(p);
		if (!t)
			return 1;
		static char probed[16];
		snprintf(probed, sizeof(probed), "%s", blk_format(t));
		nbfmt = probed;
		blk_close(t);
	}
	struct blk *b = open_img(file, fmt, true, unsafe);
	if (!b)
		return 1;
	int r = 0, rc = 1;
	uint8_t *a = NULL, *bb = NULL;
	struct blk *newb = NULL;
	if (!unsafe) {
		if (nb) {
			char *p = backing_path_for(file, nb);
			newb = open_img(p, nbfmt, false, false);
			free(p);
			if (!newb)
				goto out;
		}
		uint64_t size = blk_size(b);
		a = malloc(CHUNK);
		bb = malloc(CHUNK);
		if (!a || !bb)
			goto out;
		for (uint64_t off = 0; off < size;) {
			struct blk_status st;
			uint64_t want = size - off < CHUNK ? size - off : CHUNK;
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
		die_msg("Could not change the backing file to '%s': %s", nb ? nb : "", strerror(-r));
		goto out;
	}
	rc = 0;
	goto out;
ioerr:
	die_msg("Error while rebasing: %s", strerror(-r));
out:
	free(a);
	free(bb);
	if (newb)
		blk_close(newb);
	blk_close(b);
	return rc;
}

/* ---- compare ---- */

static int cmd_compare(int argc, char **argv)
{
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
		default: return bad_option() + 1;
		}
	}
	if (argc - optind != 2) {
		die_msg("Expecting two image file names");
		return 2;
	}
	struct blk *a = open_img(argv[optind], f1, false, false);
	struct blk *b = a ? open_img(argv[optind + 1], f2 ? f2 : f1, false, false) : NULL;
	int rc = 2;
	uint8_t *x = malloc(CHUNK), *y = malloc(CHUNK);
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
		uint64_t n = common - off < CHUNK ? common - off : CHUNK;
		struct blk_status s1, s2;
		int d1, d2, r;
		if ((r = blk_block_status_chain(a, off, n, &s1, &d1, NULL)) < 0 ||
		    (r = blk_block_status_chain(b, off, n, &s2, &d2, NULL)) < 0) {
			die_msg("Block status failed: %s", strerror(-r));
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
			die_msg("Error while reading offset %llu: %s", (unsigned long long)off, strerror(-r));
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
			uint64_t n = end - off < CHUNK ? end - off : CHUNK;
			int r = blk_pread(big, x, n, off);
			if (r < 0) {
				die_msg("Error while reading offset %llu: %s", (unsigned long long)off, strerror(-r));
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

static int cmd_map(int argc, char **argv)
{
	const char *fmt = NULL;
	int json = 0, c;
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
		{ "force-share", no_argument, NULL, 'U' }, { 0, 0, 0, 0 } };

	while ((c = getopt_long(argc, argv, "+f:U", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': if ((json = output_kind(optarg)) < 0) return 1; break;
		case 'U': break;
		default: return bad_option();
		}
	}
	if (optind != argc - 1) {
		die_msg("Expecting one image file name");
		return 1;
	}
	struct blk *b = open_img(argv[optind], fmt, false, false);
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
			die_msg("block status failed: %s", strerror(-r));
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
			die_msg("File contains external, encrypted or compressed clusters.");
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		die_msg("Not enough arguments");
		fprintf(stderr, "Try 'vmon-img --help' for more information\n");
		return 1;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage();
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("vmon-img (vmon) 0.1\n");
		return 0;
	}
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "create", cmd_create }, { "info", cmd_info }, { "check", cmd_check },
		{ "convert", cmd_convert }, { "snapshot", cmd_snapshot }, { "resize", cmd_resize },
		{ "commit", cmd_commit }, { "rebase", cmd_rebase }, { "compare", cmd_compare },
		{ "map", cmd_map },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmd, cmds[i].name)) {
			optind = 1;
			opterr = 0;
			int r = cmds[i].fn(argc - 1, argv + 1);
			if (r == 1 && optopt && optind <= argc - 1 && 0)
				return r;
			return r;
		}
	}
	die_msg("Command not found: %s", cmd);
	return 1;
}
