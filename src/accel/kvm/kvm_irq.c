/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interrupts under KVM: the GSI routing table (a PC's wiring plus one MSI
 * route per device vector in use), KVM_IRQ_LINE and KVM_SIGNAL_MSI for
 * everything raised from user space, and irqfds for MSI sources: an I/O
 * thread raises a vector with one eventfd write, which KVM turns into the
 * MSI without a trip through the VM file descriptor's ioctl path.
 *
 * INTx (IOAPIC pins 16-23, level-triggered, driven by PCI slots and
 * virtio-mmio devices) goes the same way when KVM can resample irqfds
 * (KVM_CAP_IRQFD_RESAMPLE): raising the line is one eventfd write; KVM
 * lowers it when the guest ends the interrupt (EOI) and says so on the
 * resample eventfd, where a thread of ours raises it again if a device
 * still drives it (the ISR bit not yet read).  Lowering the line is only
 * remembered: the EOI does it.  Without the capability: KVM_IRQ_LINE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "util/iothread.h"
#include "util/log.h"

/*
 * A PC's interrupt wiring: ISA IRQs reach both the PIC and the IOAPIC, but
 * the PIT (GSI 0) is wired to IOAPIC pin 2, and pin 2's own ISA IRQ is the
 * PIC cascade.  The MADT says the same (IRQ0 -> GSI 2 override).  KVM's
 * default table sends GSI 0 to pin 0, where Linux never listens.
 */
#define KVM_IOAPIC_PINS 24
#define KVM_PC_ROUTES   (16 + KVM_IOAPIC_PINS - 1)

/* One MSI source's GSI and eventfd; attached while the source is armed. */
struct msi_irqfd {
	unsigned gsi;
	int fd;
	bool attached;
};

static struct kvm_vm *vm_of_chip(struct irq_chip *chip)
{
	return (struct kvm_vm *)((char *)chip - offsetof(struct kvm_vm, irq));
}

static int pc_routes(struct kvm_irq_routing_entry *e)
{
	int n = 0;

	for (uint32_t gsi = 0; gsi < 16; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				       gsi % 8 } };
	for (uint32_t gsi = 0; gsi < KVM_IOAPIC_PINS; gsi++) {
		if (gsi == 2)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi } };
	}
	return n;
}

/* KVM replaces the table whole: the PC's wiring, then every MSI route. */
static int push_routes_locked(struct kvm_vm *vm)
{
	struct kvm_irq_routing *r;
	int n, rc = 0;

	r = calloc(1, sizeof(*r) + (KVM_PC_ROUTES + KVM_MSI_GSIS) * sizeof(r->entries[0]));
	if (!r)
		return -1;
	n = pc_routes(r->entries);
	for (unsigned i = 0; i < KVM_MSI_GSIS; i++)
		if (vm->msi_used[i])
			r->entries[n++] = vm->msi_route[i];
	r->nr = (uint32_t)n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0) {
		log_err("KVM_SET_GSI_ROUTING: %s", strerror(errno));
		rc = -1;
	}
	free(r);
	return rc;
}

static void intx_raise(struct kvm_intx *l)
{
	uint64_t one = 1;

	atomic_fetch_add_explicit(&l->vm->n_intx_irqfd, 1, memory_order_relaxed);
	if (write(l->trigger, &one, sizeof(one)) != sizeof(one))
		log_warn("INTx irqfd write for GSI %u: %s", l->gsi, strerror(errno));
}

/* The guest ended the interrupt and KVM lowered the line: still driven? */
static void intx_resampled(void *opaque, uint32_t events)
{
	struct kvm_intx *l = opaque;

	(void)events;
	eventfd_drain(l->resample);
	if (atomic_load_explicit(&l->level, memory_order_acquire)) {
		atomic_fetch_add_explicit(&l->vm->n_intx_resampled, 1, memory_order_relaxed);
		intx_raise(l);
	}
}

static void kvm_irq_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct kvm_vm *vm = vm_of_chip(chip);
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };

	if (vm->intx_io && gsi - KVM_INTX_FIRST < KVM_INTX_LINES) {
		struct kvm_intx *l = &vm->intx[gsi - KVM_INTX_FIRST];

		/* Stored before the write: a resample after it sees the level. */
		atomic_store_explicit(&l->level, level, memory_order_release);
		if (level)
			intx_raise(l);
		return;
	}

	atomic_fetch_add_explicit(&vm->n_irq_line, 1, memory_order_relaxed);
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_warn("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

static void kvm_irq_send_msi(struct irq_chip *chip, uint64_t addr, uint32_t data)
{
	struct kvm_vm *vm = vm_of_chip(chip);
	struct kvm_msi msi = { .address_lo = (uint32_t)addr,
			       .address_hi = (uint32_t)(addr >> 32), .data = data };

	atomic_fetch_add_explicit(&vm->n_signal_msi, 1, memory_order_relaxed);
	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		log_warn("KVM_SIGNAL_MSI: %s", strerror(errno));
}

static int irqfd_ioctl(struct kvm_vm *vm, struct msi_irqfd *b, bool assign)
{
	struct kvm_irqfd req = { .fd = (uint32_t)b->fd, .gsi = b->gsi,
				 .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	if (ioctl(vm->vm_fd, KVM_IRQFD, &req) < 0) {
		log_warn("KVM_IRQFD %s GSI %u: %s", assign ? "assign" : "deassign", b->gsi,
			 strerror(errno));
		return -1;
	}
	b->attached = assign;
	return 0;
}

static void irqfd_free_locked(struct kvm_vm *vm, struct msi_irqfd *b)
{
	if (b->attached)
		irqfd_ioctl(vm, b, false);
	if (b->fd >= 0)
		close(b->fd);
	/* The stale route stays in KVM's table until the GSI is reused. */
	vm->msi_used[b->gsi - KVM_MSI_GSI_BASE] = 0;
	vm->msi_taken[b->gsi - KVM_MSI_GSI_BASE] = 0;
	free(b);
}

/* A GSI of its own and an eventfd; NULL when either runs out. */
static struct msi_irqfd *irqfd_new_locked(struct kvm_vm *vm)
{
	struct msi_irqfd *b;
	unsigned i = 0;

	while (i < KVM_MSI_GSIS && vm->msi_taken[i])
		i++;
	if (i == KVM_MSI_GSIS) {
		log_warn("no GSI left for an MSI route: vector raised through KVM_SIGNAL_MSI");
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->gsi = KVM_MSI_GSI_BASE + i;
	b->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->fd < 0) {
		log_warn("eventfd for an irqfd: %s", strerror(errno));
		free(b);
		return NULL;
	}
	vm->msi_taken[i] = 1;
	return b;
}

/* Routes b's GSI to src's message, updating KVM only when it changed. */
static int irqfd_route_locked(struct kvm_vm *vm, struct msi_irqfd *b, const struct irq_msi *src)
{
	unsigned i = b->gsi - KVM_MSI_GSI_BASE;
	struct kvm_irq_routing_entry e = {
		.gsi = b->gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)src->addr,
			   .address_hi = (uint32_t)(src->addr >> 32), .data = src->data },
	};

	if (vm->msi_used[i] && !memcmp(&vm->msi_route[i], &e, sizeof(e)))
		return 0;
	vm->msi_route[i] = e;
	vm->msi_used[i] = 1;
	return push_routes_locked(vm);
}

/* Armed: routed and attached; disarmed (masked, disabled): detached, so
 * nothing signals the guest while the vector is pending in the PBA. */
static int kvm_msi_bind(struct irq_chip *chip, struct irq_msi *src)
{
	struct kvm_vm *vm = vm_of_chip(chip);
	struct msi_irqfd *b = src->binding;
	int rc = 0;

	pthread_mutex_lock(&vm->route_lock);
	if (!b)
		b = src->binding = irqfd_new_locked(vm);
	if (!b) {
		rc = -1;
	} else if (!src->armed) {
		if (b->attached)
			rc = irqfd_ioctl(vm, b, false);
	} else {
		rc = irqfd_route_locked(vm, b, src);
		if (!rc && !b->attached)
			rc = irqfd_ioctl(vm, b, true);
	}
	if (rc && b) {
		irqfd_free_locked(vm, b);
		src->binding = NULL;
	}
	pthread_mutex_unlock(&vm->route_lock);
	return rc;
}

static void kvm_msi_signal(struct irq_chip *chip, struct irq_msi *src)
{
	struct kvm_vm *vm = vm_of_chip(chip);
	const struct msi_irqfd *b = src->binding;
	uint64_t one = 1;

	atomic_fetch_add_explicit(&vm->n_irqfd, 1, memory_order_relaxed);
	if (write(b->fd, &one, sizeof(one)) != sizeof(one))
		log_warn("irqfd write for GSI %u: %s", b->gsi, strerror(errno));
}

static void kvm_msi_unbind(struct irq_chip *chip, struct irq_msi *src)
{
	struct kvm_vm *vm = vm_of_chip(chip);

	pthread_mutex_lock(&vm->route_lock);
	irqfd_free_locked(vm, src->binding);
	pthread_mutex_unlock(&vm->route_lock);
	src->binding = NULL;
}

static int intx_irqfd(struct kvm_vm *vm, struct kvm_intx *l, bool assign)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)l->trigger, .gsi = l->gsi, .resamplefd = (uint32_t)l->resample,
		.flags = assign ? KVM_IRQFD_FLAG_RESAMPLE : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(vm->vm_fd, KVM_IRQFD, &req);
}

void kvm_irq_destroy(struct kvm_vm *vm)
{
	if (!vm->intx_io)
		return;
	iothread_free(vm->intx_io);
	vm->intx_io = NULL;
	for (unsigned i = 0; i < KVM_INTX_LINES; i++) {
		struct kvm_intx *l = &vm->intx[i];

		if (l->trigger >= 0 && l->resample >= 0)
			intx_irqfd(vm, l, false);
		if (l->trigger >= 0)
			close(l->trigger);
		if (l->resample >= 0)
			close(l->resample);
		l->trigger = l->resample = -1;
	}
}

/* Why INTx cannot go through resampling irqfds here, or NULL. */
static const char *intx_unsupported(struct kvm_vm *vm)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0)
		return "no KVM_CAP_IRQFD";
	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE) <= 0)
		return "no KVM_CAP_IRQFD_RESAMPLE";
	return NULL;
}

/* An irqfd with a resample eventfd on each INTx pin, and the thread that
 * answers the resamples; on any failure everything stays on KVM_IRQ_LINE. */
static void intx_init(struct kvm_vm *vm)
{
	const char *why = intx_unsupported(vm);
	int err = 0;

	for (unsigned i = 0; i < KVM_INTX_LINES; i++)
		vm->intx[i] = (struct kvm_intx){ .vm = vm, .gsi = KVM_INTX_FIRST + i,
						 .trigger = -1, .resample = -1 };
	if (why)
		goto fallback;
	vm->intx_io = iothread_new("intx-resample");
	for (unsigned i = 0; vm->intx_io && i < KVM_INTX_LINES; i++) {
		struct kvm_intx *l = &vm->intx[i];

		l->trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		l->resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (l->trigger < 0 || l->resample < 0 || intx_irqfd(vm, l, true) < 0) {
			err = errno;
			/* Not assigned: nothing to deassign. */
			if (l->trigger >= 0)
				close(l->trigger);
			if (l->resample >= 0)
				close(l->resample);
			l->trigger = l->resample = -1;
			why = "KVM_IRQFD with a resample eventfd failed";
			goto fallback;
		}
		if (iothread_add(vm->intx_io, l->resample, EPOLLIN, intx_resampled, l)) {
			why = "no thread for the resample eventfds";
			goto fallback;
		}
	}
	if (!vm->intx_io || iothread_start(vm->intx_io)) {
		why = "no thread for the resample eventfds";
		goto fallback;
	}
	snprintf(vm->intx_note, sizeof(vm->intx_note), "irqfds with resampling");
	return;
fallback:
	kvm_irq_destroy(vm);
	snprintf(vm->intx_note, sizeof(vm->intx_note), "KVM_IRQ_LINE (%s%s%s)", why,
		 err ? ": " : "", err ? strerror(err) : "");
	log_debug("INTx through %s", vm->intx_note);
}

int kvm_irq_init(struct kvm_vm *vm)
{
	int rc;

	vm->irq.set_level = kvm_irq_set_level;
	vm->irq.send_msi = kvm_irq_send_msi;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0 &&
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) >=
		    KVM_MSI_GSI_BASE + KVM_MSI_GSIS) {
		vm->irq.msi_bind = kvm_msi_bind;
		vm->irq.msi_signal = kvm_msi_signal;
		vm->irq.msi_unbind = kvm_msi_unbind;
	}
	pthread_mutex_lock(&vm->route_lock);
	rc = push_routes_locked(vm);
	pthread_mutex_unlock(&vm->route_lock);
	if (!rc)
		intx_init(vm);
	return rc;
}

void kvm_irq_print_stats(struct machine *m)
{
	struct kvm_vm *vm = kvm_vm_of(m);

	log_info("stats: interrupts raised: %llu MSIs through irqfd, %llu KVM_SIGNAL_MSI, "
		 "%llu KVM_IRQ_LINE",
		 (unsigned long long)atomic_load(&vm->n_irqfd),
		 (unsigned long long)atomic_load(&vm->n_signal_msi),
		 (unsigned long long)atomic_load(&vm->n_irq_line));
	log_info("stats: INTx through %s: %llu raised through irqfd, %llu raised again on "
		 "resample", vm->intx_note,
		 (unsigned long long)atomic_load(&vm->n_intx_irqfd),
		 (unsigned long long)atomic_load(&vm->n_intx_resampled));
}
