/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_IMG_IMG_H
#define VMON_IMG_IMG_H

/* What vmon-img's commands (one file each, or two related) share. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/blk_admin.h"
#include "block/block.h"

/* The unit convert, commit and compare copy in. */
#define IMG_CHUNK (2u << 20)

/* One line on stderr, "vmon-img: ...". */
void img_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Why a call on b failed: the driver's own words when it has them. */
const char *img_why(struct blk *b, int r);
/* getopt's complaint, as qemu-img words it; returns 1. */
int img_bad_option(void);
bool img_buf_zero(const uint8_t *p, uint64_t n);
/* qemu's size_to_str: three significant digits, binary prefixes. */
void img_size_str(uint64_t v, char *out, size_t n);
void img_json_str(FILE *f, const char *s);
/* Opens an image or says why not (NULL). */
struct blk *img_open(const char *path, const char *fmt, bool rw, bool no_backing);
/* --output=human|json: 0, 1, or -1 after img_err(). */
int img_output_kind(const char *v);

/* The snapshot table, as info and snapshot -l print it. */
void img_print_snapshots(struct blk_snapshot *s, int n);

/* -o opt=val,... into o (and the backing file and its format). */
int img_parse_opts(char *s, struct blk_create_opts *o, const char **backing, const char **bfmt);
/* A relative backing file name resolved against the image's folder (malloc'ed). */
char *img_backing_path(const char *image, const char *backing);
/* Creates file as o says; quiet leaves out qemu-img's "Formatting ..." line. */
int img_create_file(const char *file, struct blk_create_opts *o, const char *backing,
		    const char *bfmt, bool have_size, bool quiet);

/* The list of commands and their options, on stdout. */
void img_usage(void);

/* The commands: argv[0] is the command's name; the exit status. */
int img_cmd_create(int argc, char **argv);
int img_cmd_info(int argc, char **argv);
int img_cmd_check(int argc, char **argv);
int img_cmd_convert(int argc, char **argv);
int img_cmd_snapshot(int argc, char **argv);
int img_cmd_resize(int argc, char **argv);
int img_cmd_commit(int argc, char **argv);
int img_cmd_rebase(int argc, char **argv);
int img_cmd_compare(int argc, char **argv);
int img_cmd_map(int argc, char **argv);

#endif
