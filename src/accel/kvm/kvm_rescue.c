/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When the host's KVM cannot emulate an instruction (KVM_EXIT_INTERNAL_ERROR,
 * emulation failure), vmon's software CPU executes it instead, on the same
 * registers, memory and buses.  If the instruction raises an exception (int3
 * does), the software CPU delivers it through the guest's IDT and runs the
 * handler until its IRET, so nothing depends on how the host KVM would inject
 * it (see shared/docs/host-kvm.md).  Then the vCPU goes back to KVM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/emu/emu.h"
#include "accel/kvm/kvm_int.h"
#include "util/log.h"

/* Enough for an exception handler; a guest stuck longer is a bug to show. */
#define RESCUE_MAX_INSNS 200000

struct kvm_rescue {
	struct x86_cpu_state state;
	struct x86_cpu_state before;    /* as KVM had it, to write back changes only */
	struct emu_env env;
	struct emu_cpu *cpu;
};

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

static int rescue_rdmsr(void *opaque, uint32_t index, uint64_t *value)
{
	*value = 0;
	return rescue_msr(opaque, KVM_GET_MSRS, index, value);
}

static int rescue_wrmsr(void *opaque, uint32_t index, uint64_t value)
{
	return rescue_msr(opaque, KVM_SET_MSRS, index, &value);
}

static struct kvm_rescue *rescue_get(struct vcpu *v)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);
	struct kvm_rescue *r = d->rescue;

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->env = (struct emu_env){
		.mem = &v->m->mem, .pio = v->m->pio, .mmio = v->m->mmio, .opaque = v,
		.cpuid = rescue_cpuid, .rdmsr = rescue_rdmsr, .wrmsr = rescue_wrmsr,
	};
	r->cpu = emu_cpu_new(&r->state, &r->env);
	if (!r->cpu) {
		free(r);
		return NULL;
	}
	d->rescue = r;
	return r;
}

void kvm_rescue_free(struct vcpu *v)
{
	struct kvm_rescue *r = kvm_vcpu_of(v)->rescue;

	if (!r)
		return;
	emu_cpu_free(r->cpu);
	free(r);
	kvm_vcpu_of(v)->rescue = NULL;
}

static void rescue_count(struct kvm_vcpu_data *d, const char *name)
{
	int i;

	for (i = 0; i < KVM_RESCUE_KINDS && d->rescue_stats[i].name; i++)
		if (!strcmp(d->rescue_stats[i].name, name))
			break;
	if (i == KVM_RESCUE_KINDS)
		i = KVM_RESCUE_KINDS - 1;       /* the last slot counts the rest */
	if (!d->rescue_stats[i].name)
		d->rescue_stats[i].name = name;
	d->rescue_stats[i].count++;
}

enum vcpu_exit kvm_rescue(struct vcpu *v, int *resume)
{
	struct kvm_vcpu_data *d = kvm_vcpu_of(v);
	struct kvm_rescue *r = rescue_get(v);
	const struct x86_insn *insn;
	const char *name;
	enum emu_result res;
	uint64_t rip, rflags;

	*resume = 0;
	if (!r || kvm_vcpu_get_state(v, &r->state))
		return VCPU_EXIT_ERROR;
	r->before = r->state;
	emu_cpu_flush_tlb(r->cpu);
	rip = r->state.rip;
	rflags = r->state.rflags;
	res = emu_step(r->cpu);
	insn = emu_last_insn(r->cpu);
	name = insn && insn->len && insn->name ? insn->name : "?";
	if (res == EMU_OK && emu_nesting(r->cpu))
		res = emu_run(r->cpu, RESCUE_MAX_INSNS);
	switch (res) {
	case EMU_OK:
	case EMU_HALT:
		break;
	case EMU_TRIPLE_FAULT:
		kvm_dump(v, "triple fault in an instruction the host KVM could not emulate");
		return VCPU_EXIT_SHUTDOWN;
	default:
		kvm_dump(v, res == EMU_LIMIT ? "exception handler did not return under emulation"
					     : "instruction neither the host KVM nor vmon can emulate");
		return VCPU_EXIT_ERROR;
	}
	rescue_count(d, name);
	log_debug("vCPU %d: rescued %s at %llx, rflags %llx -> %llx", v->id, name,
		  (unsigned long long)rip, (unsigned long long)rflags,
		  (unsigned long long)r->state.rflags);
	if (res == EMU_HALT)
		r->state.mp_state = X86_MP_HALTED;
	if (kvm_vcpu_put_cpu_state(v, &r->state, &r->before))
		return VCPU_EXIT_ERROR;
	*resume = 1;
	return VCPU_EXIT_STOP;
}
