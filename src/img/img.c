/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmon-img: disk image tool on vmon's block layer, with qemu-img's syntax
 * and exit statuses for the commands the two share: create, info, check,
 * convert, snapshot, resize, commit, rebase, compare, map.
 * Errors are one line on stderr, "vmon-img: ...".
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/blk_admin.h"
#include "block/block.h"
#include "util/parse.h"

#include "img/img.h"
void img_err(const char *fmt, ...)
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

const char *img_why(struct blk *b, int r)
{
	const char *m = b ? blk_last_error(b) : "";
	return m && *m ? m : strerror(-r);
}

int img_bad_option(void)
{
	if (optopt)
		img_err("invalid option -- '%c'", optopt);
	else
		img_err("unrecognized or incomplete option");
	return 1;
}

bool img_buf_zero(const uint8_t *p, uint64_t n)
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

void img_size_str(uint64_t v, char *out, size_t n)
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

void img_json_str(FILE *f, const char *s)
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

struct blk *img_open(const char *path, const char *fmt, bool rw, bool no_backing)
{
	char err[1024];
	struct blk_open_opts o = { .format = fmt, .readonly = !rw, .no_backing = no_backing };
	struct blk *b = blk_open(path, &o, err, sizeof(err));
	if (!b)
		img_err("Could not open '%s': %s", path, err);
	return b;
}
void img_usage(void)
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		img_err("Not enough arguments");
		fprintf(stderr, "Try 'vmon-img --help' for more information\n");
		return 1;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		img_usage();
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("vmon-img (vmon) 0.1\n");
		return 0;
	}
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "create", img_cmd_create }, { "info", img_cmd_info }, { "check", img_cmd_check },
		{ "convert", img_cmd_convert }, { "snapshot", img_cmd_snapshot }, { "resize", img_cmd_resize },
		{ "commit", img_cmd_commit }, { "rebase", img_cmd_rebase }, { "compare", img_cmd_compare },
		{ "map", img_cmd_map },
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
	img_err("Command not found: %s", cmd);
	return 1;
}
