/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When the host's KVM cannot emulate an instruction (KVM_EXIT_INTERNAL_ERROR,
 * emulation failure), vmon's software CPU executes it instead, on the same
 * registers, memory and buses.  If the instruction raises an exception (int3
 * does), the software CPU delivers it through the guest's IDT and runs the
 * handler until its IRET, so nothing depends on how the host KVM would inject
 * it (see shared/docs/host-kvm.md).  Then the vCPU goes back to KVM.
 *
 * On kvm_pvm hosts the software CPU runs on after the instruction, and
 * also takes over kernel code that a kick finds running in KVM: see
 * kvm_stretch.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "accel/kvm/kvm_rescue.h"
#include "util/log.h"

/* Enough for an exception handler; a guest stuck longer is a bug to show. */
#define RESCUE_MAX_INSNS 200000

static void rescue_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	const struct kvm_cpuid2 *c = kvm_vcpu_of(opaque)->cpuid;
	const struct kvm_cpuid_entry2 *e;

	memset(out, 0, 4 * sizeof(out[0]));
	for (uint32_t i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == leaf &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == sub)) {
			out[0] = e->eax; out[1] = e->ebx; out[2] = e->ecx; out[3] = e->edx;
			return;
		}
	}
}

/* MSRs outside x86_cpu_state (x2APIC, kvm-clock, ...) live in KVM. */
static int rescue_msr(void *opaque, unsigned long req, uint32_t index, uint64_t *value)
{
	struct kvm_msrs *m = kvm_msrs_new(1);
	int rc;

	if (!m)
		return -1;
	m->entries[0] = (struct kvm_msr_entry){ .index = index, .data = *value };
	rc = ioctl(kvm_vcpu_of(opaque)->fd, req, m) == 1 ? 0 : -1;
	*value = m->entries[0].data;
	free(m);
	return rc;
}

int kvm_rescue_rdmsr(void *opaque, uint32_t index, uint64_t *value)
{
	*value = 0;
	return rescue_msr(opaque, KVM_GET_MSRS, index, value);
}

static int rescue_wrmsr(void *opaque, uint32_t index, uint64_t value)
{
	return rescue_msr(opaque, KVM_SET_MSRS, index, &value);
}

/*
 * Under KVM the guest's TSC is the host's plus an offset (no scaling without
 * TSC_CONTROL), and kvm-clock reads depend on it: emu's RDTSC must agree.
 * Without KVM's offset attribute, the TSC MSR read just before the host's
 * own gives it within the ioctl's return, never ahead of the truth.
 */
uint64_t kvm_rescue_tsc(void *opaque)
{
	struct vcpu *v = opaque;
	struct kvm_rescue *r = kvm_vcpu_of(v)->rescue;
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				     .addr = (uintptr_t)&r->tsc_offset };
	uint64_t tsc = 0;

	if (!r->tsc_offset_known) {
		if (ioctl(kvm_vcpu_of(v)->fd, KVM_GET_DEVICE_ATTR, &a) < 0) {
			kvm_rescue_rdmsr(v, X86_MSR_IA32_TSC, &tsc);
			r->tsc_offset = tsc - __rdtsc();
		}
		r->tsc_offset_known = 1;
	}
	return __rdtsc() + r->tsc_offset;
}

static struct kvm_rescue *rescue_get(struct vcpu *v)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);
	struct kvm_rescue *r = d->rescue;
	int pvm = kvm_vm_of(v->m)->pvm;

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	d->rescue = r;
	r->env = (struct emu_env){
		.mem = &v->m->mem, .pio = v->m->pio, .mmio = v->m->mmio, .opaque = v,
		.cpuid = rescue_cpuid, .rdmsr = kvm_rescue_rdmsr, .wrmsr = rescue_wrmsr, .tsc = kvm_rescue_tsc,
		.io_stop = kvm_stretch_io_stop,
	};
	r->zap_page = MAP_FAILED;
	if (pvm)
		r->zap_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->cpu = emu_cpu_new(&r->state, &r->env);
	if (!r->cpu || (pvm && r->zap_page == MAP_FAILED)) {
		kvm_rescue_free(v);
		return NULL;
	}
	return r;
}

void kvm_rescue_free(struct vcpu *v)
{
	struct kvm_rescue *r = kvm_vcpu_of(v)->rescue;

	if (!r)
		return;
	emu_cpu_free(r->cpu);
	if (r->zap_page != MAP_FAILED)
		munmap(r->zap_page, 4096);
	free(r);
	kvm_vcpu_of(v)->rescue = NULL;
}

static void rescue_count(struct kvm_rescue *r, const char *name)
{
	int i;

	for (i = 0; i < KVM_RESCUE_KINDS && r->kinds[i].name; i++)
		if (!strcmp(r->kinds[i].name, name))
			break;
	if (i == KVM_RESCUE_KINDS)
		i = KVM_RESCUE_KINDS - 1;       /* the last slot counts the rest */
	if (!r->kinds[i].name)
		r->kinds[i].name = name;
	r->kinds[i].count++;
}

void kvm_rescue_print_stats(struct machine *m)
{
	uint64_t total = 0;

	for (int i = 0; i < m->ncpus; i++) {
		struct kvm_vcpu_data *d = kvm_vcpu_of(&m->vcpus[i]);
		const struct kvm_rescue *r = d ? d->rescue : NULL;

		for (int k = 0; r && k < KVM_RESCUE_KINDS && r->kinds[k].name; k++) {
			log_info("stats: vCPU %d rescued %-12s %llu", i, r->kinds[k].name,
				 (unsigned long long)r->kinds[k].count);
			total += r->kinds[k].count;
		}
		if (r)
			kvm_stretch_print_stats(i, r);
	}
	log_info("stats: instructions emulated for the host KVM: %llu",
		 (unsigned long long)total);
}

/* ---- entry points ---- */

static struct kvm_rescue *rescue_begin(struct vcpu *v)
{
	struct kvm_rescue *r = rescue_get(v);

	if (!r || kvm_vcpu_get_state(v, &r->state))
		return NULL;
	r->before = r->state;
	r->tsc_offset_known = 0;
	emu_cpu_flush_tlb(r->cpu);
	return r;
}

static enum vcpu_exit rescue_end(struct vcpu *v, struct kvm_rescue *r, enum emu_result res,
				 int *resume)
{
	switch (res) {
	case EMU_OK:
		break;
	case EMU_HALT:
		r->state.mp_state = X86_MP_HALTED;
		break;
	case EMU_TRIPLE_FAULT:
		kvm_dump(v, "triple fault in an instruction the host KVM could not emulate");
		return VCPU_EXIT_SHUTDOWN;
	default:
		kvm_dump(v, res == EMU_LIMIT ? "exception handler did not return under emulation"
					     : "instruction neither the host KVM nor vmon can emulate");
		return VCPU_EXIT_ERROR;
	}
	if (kvm_vcpu_put_cpu_state(v, &r->state, &r->before))
		return VCPU_EXIT_ERROR;
	*resume = 1;
	return VCPU_EXIT_STOP;
}

enum vcpu_exit kvm_rescue(struct vcpu *v, int *resume)
{
	struct kvm_rescue *r = rescue_begin(v);
	const struct x86_insn *insn;
	const char *name;
	enum emu_result res;
	uint64_t rip;

	*resume = 0;
	if (!r)
		return VCPU_EXIT_ERROR;
	if (kvm_vm_of(v->m)->pvm && kvm_stretch_syscall_fixup(r))
		return rescue_end(v, r, kvm_stretch(v, r), resume);
	rip = r->state.rip;
	res = emu_step(r->cpu);
	insn = emu_last_insn(r->cpu);
	name = insn && insn->len && insn->name ? insn->name : "?";
	if (res == EMU_OK && kvm_vm_of(v->m)->pvm)
		res = kvm_stretch(v, r);
	else if (res == EMU_OK && emu_nesting(r->cpu))
		res = emu_run(r->cpu, RESCUE_MAX_INSNS);
	if (res == EMU_OK || res == EMU_HALT)
		rescue_count(r, name);
	log_debug("vCPU %d: rescued %s at %llx", v->id, name, (unsigned long long)rip);
	return rescue_end(v, r, res, resume);
}

enum vcpu_exit kvm_rescue_kicked(struct vcpu *v, int *resume)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);
	struct kvm_sregs sregs;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_rescue *r;

	*resume = 1;
	if (!kvm_vm_of(v->m)->pvm || machine_stopping(v->m))
		return VCPU_EXIT_STOP;
	if (ioctl(d->fd, KVM_GET_SREGS, &sregs) < 0 || ioctl(d->fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    ioctl(d->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return VCPU_EXIT_STOP;
	if (mp.mp_state == KVM_MP_STATE_HALTED && kvm_stretch_pv_unhalt(v)) {
		mp.mp_state = KVM_MP_STATE_RUNNABLE;
		if (ioctl(d->fd, KVM_SET_MP_STATE, &mp) < 0)
			return VCPU_EXIT_STOP;
	}
	if (!(sregs.cr0 & X86_CR0_PE) || sregs.ss.dpl != 0 || mp.mp_state != KVM_MP_STATE_RUNNABLE)
		return VCPU_EXIT_STOP;
	/* An event KVM is delivering is KVM's to finish (KVM_SET_REGS would drop it). */
	if (ev.exception.injected || ev.interrupt.injected || ev.nmi.injected)
		return VCPU_EXIT_STOP;
	*resume = 0;
	r = rescue_begin(v);
	if (!r)
		return VCPU_EXIT_ERROR;
	r->kicked++;
	return rescue_end(v, r, kvm_stretch(v, r), resume);
}
