/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_KVM_INT_H
#define VMON_ACCEL_KVM_INT_H

/* Shared between the files of the KVM accelerator only. */
#include <linux/kvm.h>
#include <stdint.h>

#include "machine/irq.h"
#include "machine/machine.h"

#define KVM_MAX_CPUID_ENTRIES 256

struct kvm_vm {
	int kvm_fd, vm_fd;
	int run_size;
	struct irq_chip irq;
	struct kvm_cpuid2 *cpuid;   /* what KVM supports; adjusted per vCPU */
	uint32_t msr_list[X86_MAX_MSRS];  /* MSRs saved with the vCPU state */
	int nmsrs;
};

struct kvm_vcpu_data {
	int fd;
	struct kvm_run *run;
	uint64_t rescued;        /* instructions emulated for a KVM failure */
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
int kvm_setup_cpuid(struct vcpu *v);
int kvm_pick_msrs(struct kvm_vm *vm);
void kvm_dump(struct vcpu *v, const char *why);
const char *kvm_exit_name(uint32_t reason);

#endif
