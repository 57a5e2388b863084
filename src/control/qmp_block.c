/* SPDX-License-Identifier: Apache-2.0 */
/*
 * query-block.  The disk devices keep their images to themselves, so at
 * start the QMP server opens each --disk once more, read-only, and keeps
 * what cannot change while vmon runs (format, size, backing chain, qcow2
 * header fields); only the host space the files take (actual-size) is
 * looked up at each query.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "block/blk_admin.h"
#include "control/qmp_int.h"
#include "machine/machine.h"

/* ImageInfoSpecificQCow2, as QEMU 7.2 fills it. */
static json_t *qcow2_specific(const struct blk_info *bi)
{
	json_t *data = json_pack("{s:s,s:i,s:s}", "compat", bi->version >= 3 ? "1.1" : "0.10",
				 "refcount-bits", (int)bi->refcount_bits,
				 "compression-type", bi->zstd ? "zstd" : "zlib");

	if (data && bi->version >= 3) {
		json_object_set_new(data, "lazy-refcounts", json_boolean(bi->lazy_refcounts));
		json_object_set_new(data, "corrupt", json_boolean(bi->corrupt));
		json_object_set_new(data, "extended-l2", json_boolean(bi->extended_l2));
	}
	if (data && bi->data_file) {
		json_object_set_new(data, "data-file", json_string(bi->data_file));
		json_object_set_new(data, "data-file-raw", json_boolean(bi->data_file_raw));
	}
	return json_pack("{s:s,s:o*}", "type", "qcow2", "data", data);
}

/* ImageInfo of b and, nested as backing-image, of its backing chain. */
static json_t *image_info(struct blk *b)
{
	struct blk *back = blk_backing(b);
	struct blk_info bi;
	json_t *img = json_pack("{s:s,s:s,s:I}", "filename", blk_filename(b), "format", blk_format(b),
				"virtual-size", (json_int_t)blk_size(b));

	if (!img)
		return NULL;
	if (!strcmp(blk_format(b), "qcow2") && !blk_get_info(b, &bi)) {
		json_object_set_new(img, "cluster-size", json_integer(bi.cluster_size));
		json_object_set_new(img, "format-specific", qcow2_specific(&bi));
	}
	if (!back)
		return img;
	if (blk_backing_name(b))
		json_object_set_new(img, "backing-filename", json_string(blk_backing_name(b)));
	if (blk_backing_path(b))
		json_object_set_new(img, "full-backing-filename", json_string(blk_backing_path(b)));
	if (blk_backing_fmt(b))
		json_object_set_new(img, "backing-filename-format", json_string(blk_backing_fmt(b)));
	json_object_set_new(img, "backing-image", image_info(back));
	return img;
}

static json_t *disk_facts(struct blk *b)
{
	int depth = 0;

	for (struct blk *l = blk_backing(b); l; l = blk_backing(l))
		depth++;
	return json_pack("{s:s,s:i,s:s*,s:o}", "drv", blk_format(b), "backing_file_depth", depth,
			 "backing_file", blk_backing_name(b), "image", image_info(b));
}

json_t *qmp_block_probe(const struct machine_config *cfg, char *err, size_t errlen)
{
	json_t *disks = json_array();

	for (int i = 0; disks && i < cfg->ndisks; i++) {
		const struct virtio_blk_opts *d = &cfg->disk[i];
		struct blk_open_opts o = { .format = d->format, .readonly = true,
					   .cache = BLK_CACHE_WRITEBACK };
		char why[512];
		struct blk *b = blk_open(d->path, &o, why, sizeof(why));
		json_t *facts;

		if (!b) {
			snprintf(err, errlen, "--qmp: cannot inspect --disk %s for query-block: %s",
				 d->path, why);
			json_decref(disks);
			return NULL;
		}
		facts = disk_facts(b);
		blk_close(b);
		if (json_array_append_new(disks, facts)) {
			json_decref(disks);
			disks = NULL;
		}
	}
	if (!disks)
		snprintf(err, errlen, "--qmp: out of memory");
	return disks;
}

/* actual-size of every image in the chain: what its file takes on the host. */
static void add_actual_sizes(json_t *img)
{
	for (; img; img = json_object_get(img, "backing-image")) {
		struct stat st;

		if (!stat(json_string_value(json_object_get(img, "filename")), &st))
			json_object_set_new(img, "actual-size",
					    json_integer((json_int_t)st.st_blocks * 512));
	}
}

/* BlockDeviceInfo: what a disk has inserted. */
static json_t *inserted(const struct virtio_blk_opts *d, json_t *facts)
{
	json_t *img = json_deep_copy(json_object_get(facts, "image"));
	json_t *ins;

	add_actual_sizes(img);
	ins = json_pack("{s:s,s:b,s:O,s:O,s:b,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:{s:b,s:b,s:b},s:o}",
			"file", d->path, "ro", d->readonly, "drv", json_object_get(facts, "drv"),
			"backing_file_depth", json_object_get(facts, "backing_file_depth"),
			"encrypted", 0, "detect_zeroes", "off", "bps", 0, "bps_rd", 0, "bps_wr", 0,
			"iops", 0, "iops_rd", 0, "iops_wr", 0, "write_threshold", 0,
			"cache", "writeback", 1, "direct", d->cache_none, "no-flush", 0,
			"image", img);
	if (ins && json_object_get(facts, "backing_file"))
		json_object_set(ins, "backing_file", json_object_get(facts, "backing_file"));
	return ins;
}

json_t *qmp_block_query(json_t *disks, const struct machine_config *cfg)
{
	json_t *list = json_array();

	for (int i = 0; list && i < cfg->ndisks; i++) {
		char device[32], qdev[80];
		json_t *info;

		/* QEMU's names for the i-th -drive if=virtio. */
		snprintf(device, sizeof(device), "virtio%d", i);
		snprintf(qdev, sizeof(qdev), "/machine/peripheral-anon/device[%d]/virtio-backend", i);
		info = json_pack("{s:s,s:s,s:s,s:b,s:b,s:o}", "device", device, "qdev", qdev,
				 "type", "unknown", "removable", 0, "locked", 0,
				 "inserted", inserted(&cfg->disk[i], json_array_get(disks, (size_t)i)));
		if (json_array_append_new(list, info)) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}
