/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_VIRTIO_VIRTIO_H
#define VMON_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/memory.h"
#include "virtio/virtq.h"

/*
 * A virtio 1.x device, whatever transport carries it (PCI or MMIO).  The
 * transport turns register accesses into calls here; the device model
 * (blk, net, console, rng) fills in its features, config space and ops.
 *
 * Devices do their work on I/O threads started when the driver sets
 * DRIVER_OK and stopped (joined) on reset, so status changes never race
 * with the data path.  Guest kicks arrive on one eventfd per queue.
 */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

#define VIRTIO_F_INDIRECT_DESC  28
#define VIRTIO_F_EVENT_IDX      29
#define VIRTIO_F_VERSION_1      32
#define VIRTIO_F_RING_PACKED    34     /* offered only when asked: packed=on */

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_NO_VECTOR  0xffff

#define VIRTIO_STATUS_DEFINED (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			       VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK | \
			       VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)

struct virtio_dev;
struct snap_out;
struct snap_sec;

struct virtio_dev_ops {
	/* DRIVER_OK, a resume, a load: start the I/O threads on the queues as
	 * they are; -1 marks the device broken.  Must not drop a kick that
	 * arrived while the threads were down. */
	int (*start)(struct virtio_dev *vd);
	/* Reset: stop the I/O threads, finishing or dropping in-flight work.
	 * Also called on a paused device, whose threads are gone already. */
	void (*stop)(struct virtio_dev *vd);
	/*
	 * A machine pause, running or not (vd->running): stop the I/O threads
	 * without dropping anything (requests in flight complete, their used
	 * entries pushed and the guest notified), and make what the guest was
	 * told is done durable; -1 if that failed.  NULL: stop is enough.
	 */
	int (*pause)(struct virtio_dev *vd);
	/* The guest wrote the config space (after the bytes changed). */
	void (*config_written)(struct virtio_dev *vd, uint32_t off, unsigned len);
	/* Snapshot fields of the device model, in the device's open section;
	 * load checks everything before it changes anything. */
	void (*save)(struct virtio_dev *vd, struct snap_out *o);
	int (*load)(struct virtio_dev *vd, struct snap_sec *s);
};

/* What a transport provides to the core. */
struct virtio_transport_ops {
	/* Interrupts the guest for queue q, or for a config change (q < 0). */
	void (*notify)(struct virtio_dev *vd, int q);
};

struct virtio_dev {
	const char *name;
	uint32_t id;                   /* VIRTIO_ID_* */
	uint64_t features;             /* offered */
	const struct virtio_dev_ops *ops;
	void *opaque;                  /* the device model */
	uint8_t *config;               /* device-specific config space */
	uint32_t config_len;
	uint32_t config_writable;      /* bytes from the start the guest may write */

	const struct guest_mem *mem;
	const struct virtio_transport_ops *tops;
	void *transport;

	pthread_mutex_t lock;          /* status, features, config, queue setup */
	uint8_t status;
	uint8_t config_generation;
	uint64_t driver_features;
	bool running;                  /* started: I/O threads up unless paused */
	bool paused;                   /* machine paused: I/O threads down */
	unsigned nqueues;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];
	uint32_t isr;                  /* INTx-style interrupt status, atomic */
};

/* nqueues queues of up to qsize entries; kick eventfds created here. */
int virtio_dev_init(struct virtio_dev *vd, const char *name, uint32_t id,
		    uint64_t features, unsigned nqueues, uint16_t qsize,
		    const struct virtio_dev_ops *ops, void *opaque);
void virtio_dev_destroy(struct virtio_dev *vd);

/* Transport side, called with vd->lock held. */
void virtio_set_status_locked(struct virtio_dev *vd, uint8_t status);
void virtio_set_driver_features_locked(struct virtio_dev *vd, unsigned word, uint32_t v);
uint32_t virtio_config_read_locked(struct virtio_dev *vd, uint32_t off, unsigned size);
void virtio_config_write_locked(struct virtio_dev *vd, uint32_t off, unsigned size,
				uint32_t v);
/* A queue's registers, whatever the transport calls them. */
enum virtio_qreg {
	VIRTIO_Q_SIZE, VIRTIO_Q_ENABLE, VIRTIO_Q_DESC_LO, VIRTIO_Q_DESC_HI,
	VIRTIO_Q_AVAIL_LO, VIRTIO_Q_AVAIL_HI, VIRTIO_Q_USED_LO, VIRTIO_Q_USED_HI,
};
/* Writes one; once the queue is enabled only turning it off is taken, as
 * drivers may not change it then.  Sizes go up to the maximum, powers of
 * two unless the driver accepted packed rings. */
void virtio_queue_write_locked(struct virtq *q, enum virtio_qreg reg, uint32_t v);
/* A kick from a register write (when no ioeventfd caught it). */
void virtio_kick(struct virtio_dev *vd, unsigned q);

/*
 * Machine pause (any thread but a vCPU's, with the vCPUs parked): the I/O
 * threads stop after completing what they took, the guest is told, disks
 * are flushed; -1 if a flush failed (paused all the same).  Repeating it
 * is harmless.  Resume restarts the threads, which pick up kicks that
 * arrived meanwhile (the kick eventfds kept counting).
 */
int virtio_dev_pause(struct virtio_dev *vd);
void virtio_dev_resume(struct virtio_dev *vd);

/*
 * Snapshots (virtio_snap.c), into and out of the device's open section.
 * save: on a paused device.  load: on a device nobody has used, checking
 * every value (queue vectors below nvec, 0 with no MSI-X) before changing
 * anything; the transport then loads its own fields, and
 * virtio_dev_load_finish starts a device the snapshot had running.
 */
void virtio_dev_save(struct virtio_dev *vd, struct snap_out *o);
int virtio_dev_load(struct virtio_dev *vd, struct snap_sec *s, unsigned nvec);
int virtio_dev_load_finish(struct virtio_dev *vd, struct snap_sec *s);

/* FEATURES_OK only sticks for a subset of what was offered, with VERSION_1. */
static inline bool virtio_features_ok(const struct virtio_dev *vd, uint64_t driver)
{
	return !(driver & ~vd->features) && (driver & (1ULL << VIRTIO_F_VERSION_1));
}

/* Device side, from its I/O threads. */
static inline bool virtio_has(const struct virtio_dev *vd, unsigned bit)
{
	return vd->driver_features & (1ULL << bit);
}
static inline bool virtio_is_broken(const struct virtio_dev *vd)
{
	return __atomic_load_n(&vd->status, __ATOMIC_ACQUIRE) & VIRTIO_STATUS_NEEDS_RESET;
}
/* Interrupts the guest for q if the guest wants it. */
void virtio_queue_done(struct virtio_dev *vd, unsigned q);
/* The guest broke the protocol: DEVICE_NEEDS_RESET, and tell it. */
void virtio_broken(struct virtio_dev *vd, const char *why);
/* The config space changed (e.g. a disk grew). */
void virtio_config_changed(struct virtio_dev *vd);

#endif
