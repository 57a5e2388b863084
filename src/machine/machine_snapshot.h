/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MACHINE_SNAPSHOT_H
#define VMON_MACHINE_MACHINE_SNAPSHOT_H

#include <stddef.h>

struct machine;
struct machine_config;
struct machine_snapshot;

/*
 * Writes a snapshot of the whole VM to path (QMP's migrate "file:").  Pauses
 * the machine first (devices quiet, disks flushed) and leaves it paused in
 * MACHINE_POSTMIGRATE on success, as QEMU does.  0, or -1 with err.
 */
int machine_snapshot_save(struct machine *m, const char *path, char *err, size_t errlen);

/*
 * Opens a snapshot for --restore: header, checksum and device-state stream
 * checked, RAM not read.  NULL with err on any problem.
 */
struct machine_snapshot *machine_snapshot_open(const char *path, char *err, size_t errlen);
void machine_snapshot_close(struct machine_snapshot *s);

/*
 * Completes cfg (parsed from a command line with --restore) from the
 * snapshot: memory, vCPUs, accelerator and devices as saved.  Options the
 * command line gave must describe the same machine, except that disk
 * paths, taps and console backends may differ (clones on their own
 * overlays).  0, or -1 with err.
 */
int machine_snapshot_config(struct machine_snapshot *s, struct machine_config *cfg,
			    char *err, size_t errlen);

/* For machine_create: RAM mapped from the file (copy-on-write, lazily). */
int machine_snapshot_map_ram(struct machine *m, struct machine_snapshot *s);
/* For machine_create, after devices and vCPUs exist: every state loaded. */
int machine_snapshot_load(struct machine *m, struct machine_snapshot *s);

#endif
