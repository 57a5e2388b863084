/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM-wide state KVM keeps in the kernel: the PIC pair and IOAPIC of
 * KVM_CREATE_IRQCHIP, the PIT of KVM_CREATE_PIT2, and the kvm-clock.  They
 * go into the snapshot as KVM's own structures (a stable kernel ABI).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm_int.h"
#include "snapshot/snap.h"
#include "util/log.h"

static const char *const chip_names[] = { "pic-master", "pic-slave", "ioapic" };

int kvm_vm_save(struct machine *m, struct snap_out *o)
{
	struct kvm_vm *vm = kvm_vm_of(m);
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;

	snap_begin(o, "kvm", 0, 1);
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_irqchip chip = { .chip_id = i };

		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
			log_err("KVM_GET_IRQCHIP %s: %s", chip_names[i], strerror(errno));
			return -1;
		}
		snap_put(o, chip_names[i], &chip.chip, sizeof(chip.chip));
	}
	memset(&pit, 0, sizeof(pit));
	memset(&clock, 0, sizeof(clock));
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0 || ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0) {
		log_err("reading KVM's PIT or clock: %s", strerror(errno));
		return -1;
	}
	snap_put(o, "pit", &pit, sizeof(pit));
	snap_put_u64(o, "clock", clock.clock);
	return 0;
}

int kvm_vm_load(struct machine *m, struct snap_in *in)
{
	struct kvm_vm *vm = kvm_vm_of(m);
	struct snap_sec *sec = snap_section(in, "kvm", 0, 1, NULL);
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = { 0 };
	uint64_t ns;

	if (!sec)
		return -1;
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_irqchip chip = { .chip_id = i };

		if (snap_get(sec, chip_names[i], &chip.chip, sizeof(chip.chip)))
			return -1;
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return snap_fail(sec, "KVM refuses the %s state: %s", chip_names[i],
					 strerror(errno));
	}
	if (snap_get(sec, "pit", &pit, sizeof(pit)))
		return -1;
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0)
		return snap_fail(sec, "KVM refuses the PIT state: %s", strerror(errno));
	if (snap_get_u64(sec, "clock", &ns))
		return -1;
	clock.clock = ns;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return snap_fail(sec, "KVM refuses the clock: %s", strerror(errno));
	return 0;
}
