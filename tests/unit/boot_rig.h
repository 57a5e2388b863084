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

#endif
