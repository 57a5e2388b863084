/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_KVM_INT_H
#define VMON_ACCEL_KVM_INT_H

/* Shared between the files of the KVM accelerator only. */
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "machine/irq.h"
#include "machine/machine.h"

#define KVM_MAX_CPUID_ENTRIES 256
/* MSI routes (one per device vector bound to an irqfd) take GSIs from here,
 * above the PC's 24 IOAPIC pins. */
#define KVM_MSI_GSI_BASE 24
#define KVM_MSI_GSIS     1024

/* INTx: the level-triggered IOAPIC pins 16-23 that PCI slots and
 * virtio-mmio devices drive, often from I/O threads. */
#define KVM_INTX_FIRST 16
#define KVM_INTX_LINES 8

struct kvm_vm;

/* One such pin on an irqfd with a resample eventfd (KVM_IRQFD_FLAG_RESAMPLE). */
struct kvm_intx {
	struct kvm_vm *vm;
	unsigned gsi;
	int trigger, resample;
	atomic_int level;          /* what the devices drive, wired-OR already */
};

struct kvm_vm {
	int kvm_fd, vm_fd;
	int run_size;
	struct irq_chip irq;
	/* kvm_irq.c: the MSI half of the routing table, under route_lock */
	pthread_mutex_t route_lock;
	struct kvm_irq_routing_entry msi_route[KVM_MSI_GSIS];
	uint8_t msi_used[KVM_MSI_GSIS];    /* msi_route[i] is in KVM's table */
	uint8_t msi_taken[KVM_MSI_GSIS];   /* GSI base + i belongs to an irqfd */
	atomic_ullong n_irqfd, n_signal_msi, n_irq_line;   /* --stats */
	/* kvm_irq.c: INTx through irqfds, when KVM can resample them (intx_io
	 * set; else KVM_IRQ_LINE, and intx_note says why). */
	struct kvm_intx intx[KVM_INTX_LINES];
	struct iothread *intx_io;
	char intx_note[128];
	atomic_ullong n_intx_irqfd, n_intx_resampled;
	struct kvm_cpuid2 *cpuid;   /* what KVM supports; adjusted per vCPU */
	uint32_t msr_list[X86_MAX_MSRS];  /* MSRs saved with the vCPU state */
	int nmsrs;
	int pvm;                    /* the host KVM is kvm_pvm (docs/linux-boot.md) */
	pthread_t heartbeat;        /* kvm_pvm hosts only: see kvm.c */
	int heartbeat_on;
	atomic_int heartbeat_stop;
};

struct kvm_rescue;

struct kvm_vcpu_data {
	int fd;
	struct kvm_run *run;
	struct kvm_cpuid2 *cpuid;       /* what this vCPU's CPUID says */
	struct kvm_rescue *rescue;      /* software CPU, made on first need */
	atomic_int pv_unhalt;           /* kvm_pvm: a PV unhalt kick vmon delivers */
};

static inline struct kvm_vm *kvm_vm_of(const struct machine *m)
{
	return m->accel_data;
}

static inline struct kvm_vcpu_data *kvm_vcpu_of(const struct vcpu *v)
{
	return v->accel_data;
}

int kvm_vcpu_get_state(struct vcpu *v, struct x86_cpu_state *s);
int kvm_vcpu_set_state(struct vcpu *v, const struct x86_cpu_state *s);
/*
 * Writes back what running instructions changed, comparing with the state
 * read before them: registers always, the rest only where it differs, so
 * that nothing another thread changed meanwhile (LAPIC, pending NMIs) is
 * overwritten and no paravirtual MSR is rewritten for nothing.
 */
int kvm_vcpu_put_cpu_state(struct vcpu *v, const struct x86_cpu_state *s,
			   const struct x86_cpu_state *before);
/* Runs the failing instruction on the software CPU: *resume set when the
 * vCPU can go back to KVM, else the exit to report. */
enum vcpu_exit kvm_rescue(struct vcpu *v, int *resume);
/* After a kick ended KVM_RUN: on kvm_pvm, guest kernel code moves to emu. */
enum vcpu_exit kvm_rescue_kicked(struct vcpu *v, int *resume);
void kvm_rescue_free(struct vcpu *v);
void kvm_rescue_print_stats(struct machine *m);
/* The routing table and irq_chip (kvm_irq.c); after KVM_CREATE_IRQCHIP. */
int kvm_irq_init(struct kvm_vm *vm);
/* Stops the INTx resample thread and closes its eventfds. */
void kvm_irq_destroy(struct kvm_vm *vm);
void kvm_irq_print_stats(struct machine *m);
int kvm_setup_cpuid(struct vcpu *v);
int kvm_pick_msrs(struct kvm_vm *vm);

struct snap_out;
struct snap_in;
/* Snapshots: the in-kernel PIC, IOAPIC, PIT and kvm-clock (kvm_snap.c). */
int kvm_vm_save(struct machine *m, struct snap_out *o);
int kvm_vm_load(struct machine *m, struct snap_in *in);
/* A zeroed KVM_GET/SET_MSRS argument for n entries (free() it). */
struct kvm_msrs *kvm_msrs_new(uint32_t n);
void kvm_dump(struct vcpu *v, const char *why);
const char *kvm_exit_name(uint32_t reason);

#endif
