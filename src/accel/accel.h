/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_ACCEL_H
#define VMON_ACCEL_ACCEL_H

#include <stddef.h>

#include "arch/x86/cpu_state.h"

struct machine;
struct vcpu;
struct snap_out;
struct snap_in;

/* Why vcpu_run returned: everything else is handled inside the accelerator. */
enum vcpu_exit {
	VCPU_EXIT_STOP,      /* the machine asked every vCPU to stop */
	VCPU_EXIT_SHUTDOWN,  /* triple fault */
	VCPU_EXIT_RESET,     /* the guest asked for a system reset */
	VCPU_EXIT_POWEROFF,  /* the guest asked for power off */
	VCPU_EXIT_ERROR,     /* an exit vmon cannot handle; dump already printed */
};

/*
 * An accelerator runs vCPUs.  It knows guest memory, the port and MMIO buses
 * and the irq_chip it provides to devices, never the devices themselves: an
 * I/O exit becomes a bus access.
 */
struct accel_ops {
	const char *name;
	/* 1 if usable here; otherwise 0 and a reason in why. */
	int (*probe)(char *why, size_t len);
	/* Creates the VM: memory slots, interrupt controllers (m->irq). */
	int (*vm_init)(struct machine *m);
	void (*vm_destroy)(struct machine *m);
	int (*vcpu_init)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);
	int (*vcpu_get_state)(struct vcpu *v, struct x86_cpu_state *s);
	int (*vcpu_set_state)(struct vcpu *v, const struct x86_cpu_state *s);
	/* Runs on the vCPU's own thread until one of enum vcpu_exit. */
	enum vcpu_exit (*vcpu_run)(struct vcpu *v);
	/* From any thread: makes vcpu_run notice machine_stopping() soon. */
	void (*vcpu_kick)(struct vcpu *v);
	/*
	 * Snapshots, with every vCPU parked: the VM-wide state the accelerator
	 * owns beyond vcpu_get_state (interrupt controllers, PIT, clock).
	 * vm_save: -1 after an error line if the state cannot be read.
	 * vm_load runs after vcpu_set_state on every vCPU; -1 with the error
	 * recorded in the snap_in.
	 */
	int (*vm_save)(struct machine *m, struct snap_out *o);
	int (*vm_load)(struct machine *m, struct snap_in *in);
	/* Logs counters worth knowing (--stats), after the vCPUs stopped. */
	void (*print_stats)(struct machine *m);
};

extern const struct accel_ops accel_kvm;
extern const struct accel_ops accel_emu;

#endif
