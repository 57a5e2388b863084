/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM accelerator: VM and vCPU set-up and the run loop. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "util/log.h"

/* Where KVM keeps the real-mode TSS and identity map: just below the BIOS. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define KVM_TSS_ADDR          0xfeffd000ULL

static const struct { int cap; const char *name; } required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_MP_STATE, "MP_STATE" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	{ KVM_CAP_VCPU_EVENTS, "VCPU_EVENTS" },
	{ KVM_CAP_XSAVE, "XSAVE" },
	{ KVM_CAP_XCRS, "XCRS" },
	{ KVM_CAP_DEBUGREGS, "DEBUGREGS" },
	{ KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
};

static int kvm_open(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return -1;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(why, len, "/dev/kvm: API version %d, need %d", version, KVM_API_VERSION);
		close(fd);
		return -1;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, len, "/dev/kvm lacks KVM_CAP_%s", required_caps[i].name);
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int kvm_probe(char *why, size_t len)
{
	int fd = kvm_open(why, len);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* The ioeventfd fast path for bus_eventfd(): writes signal fd in the kernel. */
static int kvm_ioeventfd(struct kvm_vm *vm, uint64_t addr, unsigned len, int64_t datamatch,
			 int fd, int assign, uint32_t flags)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = fd,
				    .flags = flags | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN) };

	if (datamatch >= 0) {
		io.datamatch = (uint64_t)datamatch;
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	}

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		log_debug("KVM_IOEVENTFD %#llx: %s", (unsigned long long)addr, strerror(errno));
		return -1;
	}
	return 0;
}

static int kvm_ioeventfd_mmio(void *opaque, uint64_t addr, unsigned len, int64_t datamatch,
			      int fd, int assign)
{
	return kvm_ioeventfd(opaque, addr, len, datamatch, fd, assign, 0);
}

static int kvm_ioeventfd_pio(void *opaque, uint64_t addr, unsigned len, int64_t datamatch,
			     int fd, int assign)
{
	return kvm_ioeventfd(opaque, addr, len, datamatch, fd, assign, KVM_IOEVENTFD_FLAG_PIO);
}

static int vm_ioctl_or_fail(struct kvm_vm *vm, unsigned long req, unsigned long arg,
			    const char *name)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		log_err("%s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int kvm_map_memory(struct machine *m)
{
	struct kvm_vm *vm = kvm_vm_of(m);

	for (int i = 0; i < m->mem.nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = (uint32_t)i,
			.guest_phys_addr = m->mem.region[i].gpa,
			.memory_size = m->mem.region[i].size,
			.userspace_addr = (uintptr_t)m->mem.region[i].hva,
		};
		if (vm_ioctl_or_fail(vm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&r,
				     "KVM_SET_USER_MEMORY_REGION"))
			return -1;
	}
	return 0;
}

static int kvm_get_cpuid(struct kvm_vm *vm)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);

	vm->cpuid = calloc(1, sz);
	if (!vm->cpuid)
		return -1;
	vm->cpuid->nent = KVM_MAX_CPUID_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0) {
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * On kvm_pvm (shared/docs/host-kvm.md) an interrupt raised for a vCPU that
 * is busy in guest mode is not always delivered until the vCPU next leaves
 * KVM_RUN through a signal: a Debian kernel's clock stops once it runs busy
 * with its timer on the IOAPIC or the LAPIC.  There, a heartbeat kicks every
 * running vCPU once per Linux tick (HZ=250); a kick costs one exit.  A
 * kick also ends a stretch of kernel code on emu once KVM holds an
 * interrupt for the vCPU, and starts one when it finds the vCPU running
 * kernel code in KVM (kvm_stretch.c).
 */
#define KVM_HEARTBEAT_NS 4000000L

static void kvm_vcpu_kick(struct vcpu *v);

static int kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static void *kvm_heartbeat(void *arg)
{
	struct machine *m = arg;
	struct kvm_vm *vm = kvm_vm_of(m);
	const struct timespec period = { 0, KVM_HEARTBEAT_NS };

	while (!atomic_load(&vm->heartbeat_stop)) {
		nanosleep(&period, NULL);
		pthread_mutex_lock(&m->lock);
		for (int i = 0; i < m->ncpus && !machine_stopping(m); i++)
			if (m->vcpus[i].started)
				kvm_vcpu_kick(&m->vcpus[i]);
		pthread_mutex_unlock(&m->lock);
	}
	return NULL;
}

static void kvm_vm_destroy(struct machine *m)
{
	struct kvm_vm *vm = kvm_vm_of(m);

	if (!vm)
		return;
	if (vm->heartbeat_on) {
		atomic_store(&vm->heartbeat_stop, 1);
		pthread_join(vm->heartbeat, NULL);
	}
	kvm_irq_destroy(vm);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	pthread_mutex_destroy(&vm->route_lock);
	free(vm);
	m->accel_data = NULL;
	m->irq = NULL;
}

static int kvm_vm_init(struct machine *m)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	char why[256];

	if (!vm)
		return -1;
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->route_lock, NULL);
	m->accel_data = vm;
	vm->kvm_fd = kvm_open(why, sizeof(why));
	if (vm->kvm_fd < 0) {
		log_err("%s", why);
		goto fail;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0 || vm->run_size <= 0) {
		log_err("KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	if (vm_ioctl_or_fail(vm, KVM_SET_TSS_ADDR, KVM_TSS_ADDR, "KVM_SET_TSS_ADDR"))
		goto fail;
	{
		uint64_t idmap = KVM_IDENTITY_MAP_ADDR;

		if (vm_ioctl_or_fail(vm, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&idmap,
				     "KVM_SET_IDENTITY_MAP_ADDR"))
			goto fail;
	}
	if (vm_ioctl_or_fail(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP") ||
	    kvm_irq_init(vm) ||
	    vm_ioctl_or_fail(vm, KVM_CREATE_PIT2, (unsigned long)&pit, "KVM_CREATE_PIT2") ||
	    kvm_map_memory(m) || kvm_get_cpuid(vm) || kvm_pick_msrs(vm))
		goto fail;
	m->irq = &vm->irq;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0 &&
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0) {
		bus_set_eventfd_hook(m->mmio, kvm_ioeventfd_mmio, vm);
		bus_set_eventfd_hook(m->pio, kvm_ioeventfd_pio, vm);
	}
	vm->pvm = kvm_host_is_pvm();
	if (vm->pvm) {
		vm->heartbeat_on = !pthread_create(&vm->heartbeat, NULL, kvm_heartbeat, m);
		snprintf(m->accel_note, sizeof(m->accel_note), "host KVM is kvm_pvm: "
			 "vCPUs kicked every %ld ms so that interrupts reach busy vCPUs",
			 KVM_HEARTBEAT_NS / 1000000);
	}
	return 0;
fail:
	kvm_vm_destroy(m);
	return -1;
}

static int kvm_vcpu_init(struct vcpu *v)
{
	struct kvm_vm *vm = kvm_vm_of(v->m);
	struct kvm_vcpu_data *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	v->accel_data = d;
	d->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, v->id);
	if (d->fd < 0) {
		log_err("KVM_CREATE_VCPU %d: %s", v->id, strerror(errno));
		return -1;
	}
	d->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (d->run == MAP_FAILED) {
		d->run = NULL;
		log_err("mmap of vCPU %d run area: %s", v->id, strerror(errno));
		return -1;
	}
	return kvm_setup_cpuid(v);
}

static void kvm_vcpu_destroy(struct vcpu *v)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);

	if (!d)
		return;
	if (d->run)
		munmap(d->run, (size_t)kvm_vm_of(v->m)->run_size);
	if (d->fd >= 0)
		close(d->fd);
	kvm_rescue_free(v);
	free(d->cpuid);
	free(d);
	v->accel_data = NULL;
}

static void kvm_handle_io(struct machine *m, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;

	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t val = 0;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&val, data, size);
			bus_write(m->pio, run->io.port, size, val);
		} else {
			val = bus_read(m->pio, run->io.port, size);
			memcpy(data, &val, size);
		}
	}
}

static void kvm_handle_mmio(struct machine *m, struct kvm_run *run)
{
	unsigned len = run->mmio.len > 8 ? 8 : run->mmio.len;
	uint64_t val = 0;

	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		bus_write(m->mmio, run->mmio.phys_addr, len, val);
	} else {
		val = bus_read(m->mmio, run->mmio.phys_addr, len);
		memcpy(run->mmio.data, &val, len);
	}
}

static enum vcpu_exit kvm_system_event(struct vcpu *v, struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return VCPU_EXIT_POWEROFF;
	case KVM_SYSTEM_EVENT_RESET:
		return VCPU_EXIT_RESET;
	default:
		kvm_dump(v, "system event");
		return VCPU_EXIT_ERROR;
	}
}

/*
 * The I/O or MMIO exit just handled completes inside the next KVM_RUN
 * (an IN's value reaches RAX there): one with immediate_exit finishes it
 * without running the guest, so the state a pause or snapshot reads is
 * whole.
 */
static enum vcpu_exit kvm_vcpu_stop(struct kvm_vcpu_data *d)
{
	d->run->immediate_exit = 1;
	ioctl(d->fd, KVM_RUN, 0);
	d->run->immediate_exit = 0;
	return VCPU_EXIT_STOP;
}

static enum vcpu_exit kvm_vcpu_run(struct vcpu *v)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);
	struct machine *m = v->m;
	struct kvm_run *run = d->run;

	for (;;) {
		if (machine_stopping(m))
			return kvm_vcpu_stop(d);
		if (ioctl(d->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				int resume;
				enum vcpu_exit e;

				run->immediate_exit = 0;
				e = kvm_rescue_kicked(v, &resume);
				if (resume)
					continue;
				return e;
			}
			log_err("vCPU %d: KVM_RUN: %s", v->id, strerror(errno));
			return VCPU_EXIT_ERROR;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			kvm_handle_io(m, run);
			break;
		case KVM_EXIT_MMIO:
			kvm_handle_mmio(m, run);
			break;
		case KVM_EXIT_INTR:
		case KVM_EXIT_HLT:   /* only without an in-kernel LAPIC */
			break;
		case KVM_EXIT_SHUTDOWN:
			kvm_dump(v, "triple fault");
			return VCPU_EXIT_SHUTDOWN;
		case KVM_EXIT_SYSTEM_EVENT:
			return kvm_system_event(v, run);
		case KVM_EXIT_INTERNAL_ERROR:
			if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
				int resume;
				enum vcpu_exit e = kvm_rescue(v, &resume);

				if (resume)
					break;
				return e;
			}
			kvm_dump(v, "KVM internal error");
			return VCPU_EXIT_ERROR;
		default:
			kvm_dump(v, "unhandled exit");
			return VCPU_EXIT_ERROR;
		}
	}
}

/*
 * immediate_exit makes a KVM_RUN that has not started yet return at once;
 * the signal interrupts one that has.  Together there is no window.
 */
static void kvm_vcpu_kick(struct vcpu *v)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);

	if (!d || !d->run)
		return;
	d->run->immediate_exit = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pthread_kill(v->thread, SIGUSR1);
}

static void kvm_print_stats(struct machine *m)
{
	kvm_irq_print_stats(m);
	kvm_rescue_print_stats(m);
}

const struct accel_ops accel_kvm = {
	.name = "kvm",
	.probe = kvm_probe,
	.vm_init = kvm_vm_init,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_get_state = kvm_vcpu_get_state,
	.vcpu_set_state = kvm_vcpu_set_state,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vm_save = kvm_vm_save,
	.vm_load = kvm_vm_load,
	.print_stats = kvm_print_stats,
};
