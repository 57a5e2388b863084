/* SPDX-License-Identifier: Apache-2.0 */
/* vmon-img info and check. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block/blk_admin.h"
#include "block/block.h"
#include "util/parse.h"

#include "img/img.h"
/* ---- info ---- */

void img_print_snapshots(struct blk_snapshot *s, int n)
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
		img_size_str(s[i].vm_state_size, vs, sizeof(vs));
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
		img_json_str(stdout, blk_backing_fmt(b));
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
			img_json_str(stdout, sn[i].name);
			printf(",\n%s            \"date-sec\": %u,\n", pad, sn[i].date_sec);
			printf("%s            \"date-nsec\": %u,\n", pad, sn[i].date_nsec);
			printf("%s            \"vm-clock-sec\": %llu,\n", pad, (unsigned long long)(sn[i].vm_clock_nsec / 1000000000ull));
			printf("%s            \"id\": ", pad);
			img_json_str(stdout, sn[i].id);
			printf(",\n%s            \"vm-state-size\": %llu\n", pad, (unsigned long long)sn[i].vm_state_size);
			printf("%s        }%s\n", pad, i + 1 < n ? "," : "");
		}
		printf("%s    ],\n", pad);
	}
	free(sn);
	printf("%s    \"virtual-size\": %llu,\n", pad, (unsigned long long)in.virtual_size);
	printf("%s    \"filename\": ", pad);
	img_json_str(stdout, blk_filename(b));
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
				img_json_str(stdout, bm[i].name);
				printf(",\n%s                    \"granularity\": %llu\n%s                }%s\n", pad,
				       1ull << (bm[i].granularity_bits & 63), pad, i + 1 < nbm ? "," : "");
			}
			printf("%s            ],\n", pad);
			free(bm);
		}
		printf("%s            \"refcount-bits\": %u%s\n", pad, in.refcount_bits, in.version >= 3 ? "," : "");
		if (in.data_file) {
			printf("%s            \"data-file\": ", pad);
			img_json_str(stdout, in.data_file);
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
		img_json_str(stdout, blk_backing_path(b) ? blk_backing_path(b) : blk_backing_name(b));
		printf(",\n%s    \"backing-filename\": ", pad);
		img_json_str(stdout, blk_backing_name(b));
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
	img_size_str(in.virtual_size, vs, sizeof(vs));
	img_size_str((uint64_t)(in.actual_size < 0 ? 0 : in.actual_size), ds, sizeof(ds));
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
		img_print_snapshots(sn, n);
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

int img_output_kind(const char *v)
{
	if (!strcmp(v, "json"))
		return 1;
	if (!strcmp(v, "human"))
		return 0;
	img_err("--output must be used with human or json as argument.");
	return -1;
}

int img_cmd_info(int argc, char **argv)
{
	const char *fmt = NULL;
	int json = 0, chain = 0, c;
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'O' }, { "backing-chain", no_argument, NULL, 'C' },
		{ "force-share", no_argument, NULL, 'U' }, { "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };

	while ((c = getopt_long(argc, argv, "+f:hU", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': if ((json = img_output_kind(optarg)) < 0) return 1; break;
		case 'C': chain = 1; break;
		case 'U': break;
		case 'h': img_usage(); return 0;
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

int img_cmd_check(int argc, char **argv)
{
	bool quiet = false;
	const char *fmt = NULL;
	int json = 0, fix = 0, c;
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'O' }, { "repair", required_argument, NULL, 'r' },
		{ "force-share", no_argument, NULL, 'U' }, { 0, 0, 0, 0 } };

	while ((c = getopt_long(argc, argv, "+f:r:qU", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'O': if ((json = img_output_kind(optarg)) < 0) return 1; break;
		case 'r':
			if (!strcmp(optarg, "leaks"))
				fix = BLK_FIX_LEAKS;
			else if (!strcmp(optarg, "all"))
				fix = BLK_FIX_LEAKS | BLK_FIX_ERRORS;
			else {
				img_err("Unknown option value for -r (expecting 'leaks' or 'all'): %s", optarg);
				return 1;
			}
			break;
		case 'q': quiet = true; break;
		case 'U': break;
		default: return img_bad_option();
		}
	}
	if (optind != argc - 1) {
		img_err("Expecting one image file name");
		return 1;
	}
	char err[1024];
	struct blk_open_opts o = { .format = fmt, .readonly = !fix, .no_backing = true };
	struct blk *b = blk_open_for_check(argv[optind], &o, err, sizeof(err));
	if (!b) {
		img_err("Could not open '%s': %s", argv[optind], err);
		return 1;
	}
	if (strcmp(blk_format(b), "qcow2")) {
		img_err("This image format does not support checks");
		blk_close(b);
		return 63;
	}
	struct blk_check_result r;
	int ret = blk_check(b, fix, &r);
	if (ret < 0) {
		img_err("Check failed: %s", strerror(-ret));
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
		img_json_str(stdout, argv[optind]);
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

