/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MACHINE_DEVICES_SNAP_H
#define VMON_MACHINE_MACHINE_DEVICES_SNAP_H

struct machine;
struct snap_out;
struct snap_in;

/* Every device's state, in the order a load must apply it. */
void machine_devices_save(struct machine *m, struct snap_out *o);
/* -1 with the error recorded in in. */
int machine_devices_load(struct machine *m, struct snap_in *in);

#endif
