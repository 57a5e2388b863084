/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_BOOT_RIG_H
#define VMON_TESTS_BOOT_RIG_H

/*
 * What the loader and table tests share: image files written into a
 * scratch folder, and reads of guest memory that show an unmapped address
 * as a poison value instead of failing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "machine/memory.h"

/* Writes data to DIR/name: the path, valid for the next three calls, or NULL. */
static inline const char *rig_file(const char *dir, const char *name, const void *data,
				   size_t len)
{
	static char paths[4][256];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;

	snprintf(path, 256, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return NULL;
	if (len && fwrite(data, 1, len, f) != len)
		path = NULL;
	fclose(f);
	return path;
}

/* Removes the scratch folder; a failure is a FAIL line of the test's own. */
static inline void rig_rmdir(const char *dir, const char *test)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("FAIL %s: cleanup of %s\n", test, dir);
}

static inline uint32_t rig_rd32(const struct guest_mem *mem, uint64_t gpa)
{
	uint32_t v = 0xdeadbeef;

	guest_mem_read(mem, gpa, &v, 4);
	return v;
}

static inline uint64_t rig_rd64(const struct guest_mem *mem, uint64_t gpa)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	guest_mem_read(mem, gpa, &v, 8);
	return v;
}

/* [gpa, gpa + len) is RAM holding want. */
static inline int rig_bytes_are(const struct guest_mem *mem, uint64_t gpa, const uint8_t *want,
				size_t len)
{
	const uint8_t *p = guest_mem_ptr(mem, gpa, len);

	return p && !memcmp(p, want, len);
}

/* [gpa, gpa + len) is RAM holding zeroes. */
static inline int rig_zeroes(const struct guest_mem *mem, uint64_t gpa, size_t len)
{
	const uint8_t *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * Loads kernel (with initrd and cmdline) through x86_boot_load into fresh
 * RAM whose first 2 MiB are poisoned with 0xcc, so that what a loader
 * zeroes or leaves alone shows: its status, or -2 without RAM.
 */
static inline int rig_boot(struct guest_mem *mem, struct x86_cpu_state *st, const char *kernel,
			   const char *initrd, const char *cmdline, uint64_t ram)
{
	struct machine_config cfg = {
		.kernel = kernel, .initrd = initrd, .cmdline = cmdline, .mem_size = ram, .cpus = 1,
	};

	guest_mem_destroy(mem);
	if (guest_mem_init(mem, ram))
		return -2;
	memset(mem->base, 0xcc, ram < (2u << 20) ? ram : (2u << 20));
	return x86_boot_load(mem, &cfg, st);
}

#endif
