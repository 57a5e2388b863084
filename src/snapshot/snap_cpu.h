/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_SNAPSHOT_SNAP_CPU_H
#define VMON_SNAPSHOT_SNAP_CPU_H

#include <stdint.h>

#include "arch/x86/cpu_state.h"

struct snap_out;
struct snap_in;

/* vCPU id's state as section "cpu" instance id. */
void snap_cpu_save(struct snap_out *o, uint32_t id, const struct x86_cpu_state *s);
/* Reads it back, checking every field's range; -1 with the error in in. */
int snap_cpu_load(struct snap_in *in, uint32_t id, struct x86_cpu_state *s);

#endif
