/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ACCEL_KVM_RESCUE_H
#define VMON_ACCEL_KVM_RESCUE_H

/* Shared by kvm_rescue.c and kvm_stretch.c only. */
#include "accel/emu/emu.h"
#include "accel/kvm/kvm_int.h"

#define KVM_RESCUE_KINDS 16

enum kvm_stretch_end {
	END_USER, END_HALT, END_INTERRUPT, END_BUDGET, END_DEVICE, END_WRMSR, END_CPUID,
	END_UNIMPLEMENTED, END_KINDS
};

struct kvm_rescue {
	struct x86_cpu_state state;
	struct x86_cpu_state before;    /* as KVM had it, to write back changes only */
	struct emu_env env;
	struct emu_cpu *cpu;
	int stretching;                 /* past the failed instruction: see kvm_stretch_io_stop */
	int flushed;                    /* the guest invalidated TLB entries on emu */
	int irq_waiting;                /* KVM holds an interrupt: end at the window */
	enum emu_io_kind io_stopped;    /* what kvm_stretch_io_stop last gave back */
	int tsc_offset_known;           /* in this rescue */
	uint64_t tsc_offset;
	void *zap_page;                 /* backs the memslot of kvm_stretch.c */
	struct {                        /* rescued instructions by mnemonic */
		const char *name;
		uint64_t count;
	} kinds[KVM_RESCUE_KINDS];
	uint64_t stretches, kicked, insns, zaps, hypercalls, syscalls, ends[END_KINDS];
};

/* kvm_rescue.c: MSRs KVM keeps, and the guest's TSC now. */
int kvm_rescue_rdmsr(void *opaque, uint32_t index, uint64_t *value);
uint64_t kvm_rescue_tsc(void *opaque);

/* kvm_stretch.c */
/* Runs guest kernel code from the state in r until a stretch ends. */
enum emu_result kvm_stretch(struct vcpu *v, struct kvm_rescue *r);
/* emu_env.io_stop: what KVM, not emu, must execute during a stretch. */
int kvm_stretch_io_stop(void *opaque, enum emu_io_kind kind, uint64_t addr);
/* 1 when r's state was a #PF standing for a user SYSCALL, now undone. */
int kvm_stretch_syscall_fixup(struct kvm_rescue *r);
/* Takes the PV unhalt kick vmon delivered to v, if any. */
int kvm_stretch_pv_unhalt(struct vcpu *v);
void kvm_stretch_print_stats(int id, const struct kvm_rescue *r);

#endif
