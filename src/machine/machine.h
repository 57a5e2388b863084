/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_MACHINE_MACHINE_H
#define VMON_MACHINE_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "accel/accel.h"
#include "arch/x86/cpu_state.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "machine/memory.h"
#include "virtio/blk.h"
#include "virtio/net.h"

/* Exit statuses of vmon (debug-exit adds (v << 1) | 1). */
enum {
	VMON_EXIT_OK = 0,       /* guest powered off or reset */
	VMON_EXIT_USAGE = 2,    /* usage or configuration error */
	VMON_EXIT_CRASH = 3,    /* triple fault or unhandled exit */
};

#define VMON_MAX_CPUS 64
#define VMON_MAX_DISKS 16
#define VMON_MAX_NICS 4

enum accel_choice { ACCEL_AUTO, ACCEL_KVM, ACCEL_EMU };

struct machine_snapshot;

struct machine_config {
	const char *kernel;
	const char *initrd;      /* multiboot: comma-separated modules */
	const char *cmdline;
	uint64_t mem_size;
	int cpus;
	const char *serial;      /* stdio | file:PATH | none */
	enum accel_choice accel;
	int flat;                /* --kernel is a flat real-mode binary */
	uint64_t flat_addr;
	int stats;               /* --stats: accelerator counters at exit */
	struct virtio_blk_opts disk[VMON_MAX_DISKS];
	int ndisks;
	struct virtio_net_opts nic[VMON_MAX_NICS];
	int nnics;
	int rng;                 /* --rng: a virtio-rng device */
	const char *virtio_console;   /* --virtio-console SPEC, or NULL */
	int rng_packed, console_packed;   /* their packed=on */
	int transport_mmio;      /* --transport mmio: virtio-mmio instead of PCI */
	int mem_given, cpus_given;    /* --mem/--cpus given: a restore checks them */
	const char *restore_path;          /* --restore FILE */
	struct machine_snapshot *restore;  /* opened: state and RAM come from here */
};

struct vcpu {
	struct machine *m;
	int id;
	pthread_t thread;
	int tid;                /* the thread's id (query-cpus-fast); 0 until it runs */
	int started;            /* thread running; guarded by machine.lock */
	void *accel_data;
};

struct chardev;
struct fw_cfg;
struct uart;
struct i8042;
struct rtc;
struct acpi_pm;
struct port80;
struct pci_host;
struct machine_virtio;

/* What the control socket (QMP) hears about, with QEMU's event names. */
enum machine_event {
	MACHINE_EV_STOP, MACHINE_EV_RESUME, MACHINE_EV_SHUTDOWN,
	MACHINE_EV_POWERDOWN, MACHINE_EV_RESET,
};

/* reason: QEMU's ShutdownCause ("guest-shutdown", "host-qmp-quit", ...). */
typedef void (*machine_event_fn)(void *opaque, enum machine_event ev, const char *reason);

/* The run states query-status reports, QEMU's names. */
enum machine_run_state {
	MACHINE_RUNNING, MACHINE_PAUSED, MACHINE_POSTMIGRATE, MACHINE_SHUTDOWN,
};

struct machine {
	struct machine_config cfg;
	struct guest_mem mem;
	struct bus *pio, *mmio;
	struct irq_chip *irq;          /* provided by the accelerator */
	const struct accel_ops *accel;
	void *accel_data;
	char accel_note[320];          /* why this accelerator, said at start */
	struct vcpu vcpus[VMON_MAX_CPUS];
	int ncpus;
	struct x86_cpu_state boot_state;   /* the BSP's entry state */
	struct chardev *serial;
	struct chardev *hvc;           /* the virtio-console's backend */
	struct uart *uart;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct acpi_pm *acpi_pm;
	struct port80 *port80;
	struct fw_cfg *fw_cfg;
	struct pci_host *pci;
	struct machine_virtio *virtio;

	/* Set to make every vCPU leave vcpu_run: to end, or to park (pause). */
	atomic_int stopping;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int exit_status;
	int exit_requested;
	int pause_requested;           /* the rest guarded by lock */
	int parked;                    /* vCPU threads waiting out a pause */
	enum machine_run_state run_state;
	machine_event_fn event_fn;
	void *event_opaque;
};

/*
 * Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and so in every
 * thread it creates later: call it before machine_create, first thing in
 * main.  machine_run then ends the machine on them with status 128 + signal.
 */
void machine_block_signals(void);

/* Builds the whole machine from cfg; -1 after one error line. */
int machine_create(struct machine *m, const struct machine_config *cfg);
/* Runs every vCPU until the machine exits; returns vmon's exit status. */
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);

/*
 * Any thread: ends the machine with this exit status.  The first request
 * wins; every vCPU is kicked out of its run loop.  reason is QEMU's
 * ShutdownCause for the SHUTDOWN event ("guest-shutdown", "guest-reset",
 * "guest-panic", "host-signal", "host-qmp-quit", "host-error", ...).
 */
void machine_shutdown(struct machine *m, int status, const char *reason);
/* machine_shutdown with "guest-shutdown", or "host-error" for VMON_EXIT_CRASH. */
void machine_request_exit(struct machine *m, int status);

/* Called, from any thread, for every event; set before machine_run. */
void machine_set_event_hook(struct machine *m, machine_event_fn fn, void *opaque);

/*
 * The control socket's verbs; any thread but a vCPU's.  machine_pause
 * returns once every vCPU is parked outside the guest and the devices' I/O
 * has gone quiet (in-flight requests completed); 0, or -1 if the machine is
 * ending.  machine_resume undoes it.  Both emit STOP/RESUME when the state
 * changes.
 */
int machine_pause(struct machine *m);
int machine_resume(struct machine *m);
enum machine_run_state machine_run_state(struct machine *m);
void machine_set_run_state(struct machine *m, enum machine_run_state st);
/* The ACPI power button (POWERDOWN); the guest decides what to do. */
void machine_powerdown(struct machine *m);
/* A host-requested system reset: RESET, then the machine ends as a guest's
 * own reset ends it (vmon does not reboot in place). */
void machine_reset(struct machine *m);

static inline int machine_stopping(const struct machine *m)
{
	return atomic_load_explicit(&m->stopping, memory_order_acquire);
}

#endif
