/* SPDX-License-Identifier: Apache-2.0 */
/*
 * extract-vmlinux BZIMAGE OUT: writes the ELF vmlinux inside a bzImage (its
 * compressed payload, unpacked with vmon's own kdecomp), so the tests can
 * boot Debian's kernel through PVH as well.  Status 0, or 1 with one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/kdecomp.h"

#define SETUP_SECTS    0x1f1
#define PAYLOAD_OFFSET 0x248
#define PAYLOAD_LENGTH 0x24c
#define VMLINUX_MAX    (1u << 30)

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	size_t len = 0, out_len, setup;
	uint8_t *img, *out;
	uint32_t off, plen;
	char why[128];
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: extract-vmlinux BZIMAGE OUT\n");
		return 1;
	}
	img = slurp(argv[1], &len);
	if (!img || len < 0x250) {
		fprintf(stderr, "extract-vmlinux: %s: unreadable or too short\n", argv[1]);
		return 1;
	}
	setup = (size_t)((img[SETUP_SECTS] ? img[SETUP_SECTS] : 4) + 1) * 512;
	off = rd32(img + PAYLOAD_OFFSET);
	plen = rd32(img + PAYLOAD_LENGTH);
	if (setup > len || off > len - setup || plen > len - setup - off) {
		fprintf(stderr, "extract-vmlinux: %s: payload outside the file\n", argv[1]);
		return 1;
	}
	if (kdecomp(img + setup + off, plen, VMLINUX_MAX, &out, &out_len, why, sizeof(why))) {
		fprintf(stderr, "extract-vmlinux: %s: %s\n", argv[1], why);
		return 1;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f)) {
		fprintf(stderr, "extract-vmlinux: %s: cannot write\n", argv[2]);
		return 1;
	}
	free(out);
	free(img);
	return 0;
}
