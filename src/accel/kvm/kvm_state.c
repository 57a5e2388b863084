/* SPDX-License-Identifier: Apache-2.0 */
/* Translation between KVM's vCPU state ioctls and struct x86_cpu_state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm_int.h"
#include "util/log.h"

/* KVM's kvm_regs order, mapped to encoding order. */
static void regs_from_kvm(struct x86_cpu_state *s, const struct kvm_regs *r)
{
	s->gpr[X86_RAX] = r->rax; s->gpr[X86_RCX] = r->rcx;
	s->gpr[X86_RDX] = r->rdx; s->gpr[X86_RBX] = r->rbx;
	s->gpr[X86_RSP] = r->rsp; s->gpr[X86_RBP] = r->rbp;
	s->gpr[X86_RSI] = r->rsi; s->gpr[X86_RDI] = r->rdi;
	s->gpr[X86_R8] = r->r8;   s->gpr[X86_R9] = r->r9;
	s->gpr[X86_R10] = r->r10; s->gpr[X86_R11] = r->r11;
	s->gpr[X86_R12] = r->r12; s->gpr[X86_R13] = r->r13;
	s->gpr[X86_R14] = r->r14; s->gpr[X86_R15] = r->r15;
	s->rip = r->rip;
	s->rflags = r->rflags;
}

static void regs_to_kvm(struct kvm_regs *r, const struct x86_cpu_state *s)
{
	r->rax = s->gpr[X86_RAX]; r->rcx = s->gpr[X86_RCX];
	r->rdx = s->gpr[X86_RDX]; r->rbx = s->gpr[X86_RBX];
	r->rsp = s->gpr[X86_RSP]; r->rbp = s->gpr[X86_RBP];
	r->rsi = s->gpr[X86_RSI]; r->rdi = s->gpr[X86_RDI];
	r->r8 = s->gpr[X86_R8];   r->r9 = s->gpr[X86_R9];
	r->r10 = s->gpr[X86_R10]; r->r11 = s->gpr[X86_R11];
	r->r12 = s->gpr[X86_R12]; r->r13 = s->gpr[X86_R13];
	r->r14 = s->gpr[X86_R14]; r->r15 = s->gpr[X86_R15];
	r->rip = s->rip;
	r->rflags = s->rflags;
}

static void seg_from_kvm(struct x86_segment *d, const struct kvm_segment *k)
{
	*d = (struct x86_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector,
		.type = k->type, .s = k->s, .dpl = k->dpl, .present = k->present,
		.avl = k->avl, .l = k->l, .db = k->db, .g = k->g,
		.unusable = k->unusable,
	};
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_segment *d)
{
	*k = (struct kvm_segment){
		.base = d->base, .limit = d->limit, .selector = d->selector,
		.type = d->type, .s = d->s, .dpl = d->dpl, .present = d->present,
		.avl = d->avl, .l = d->l, .db = d->db, .g = d->g,
		.unusable = d->unusable,
	};
}

static struct kvm_segment *sregs_seg(struct kvm_sregs *k, int i)
{
	struct kvm_segment *map[X86_NR_SEGS] = {
		[X86_ES] = &k->es, [X86_CS] = &k->cs, [X86_SS] = &k->ss,
		[X86_DS] = &k->ds, [X86_FS] = &k->fs, [X86_GS] = &k->gs,
		[X86_TR] = &k->tr, [X86_LDTR] = &k->ldt,
	};
	return map[i];
}

static void sregs_from_kvm(struct x86_cpu_state *s, struct kvm_sregs *k)
{
	for (int i = 0; i < X86_NR_SEGS; i++)
		seg_from_kvm(&s->seg[i], sregs_seg(k, i));
	s->gdt = (struct x86_dtable){ k->gdt.base, k->gdt.limit };
	s->idt = (struct x86_dtable){ k->idt.base, k->idt.limit };
	s->cr0 = k->cr0; s->cr2 = k->cr2; s->cr3 = k->cr3;
	s->cr4 = k->cr4; s->cr8 = k->cr8;
	s->efer = k->efer;
	s->apic_base = k->apic_base;
}

static void sregs_to_kvm(struct kvm_sregs *k, const struct x86_cpu_state *s)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < X86_NR_SEGS; i++)
		seg_to_kvm(sregs_seg(k, i), &s->seg[i]);
	k->gdt = (struct kvm_dtable){ .base = s->gdt.base, .limit = s->gdt.limit };
	k->idt = (struct kvm_dtable){ .base = s->idt.base, .limit = s->idt.limit };
	k->cr0 = s->cr0; k->cr2 = s->cr2; k->cr3 = s->cr3;
	k->cr4 = s->cr4; k->cr8 = s->cr8;
	k->efer = s->efer;
	k->apic_base = s->apic_base;
	/* Pending interrupts travel in the vCPU events, not the bitmap. */
}

static void events_from_kvm(struct x86_events *e, const struct kvm_vcpu_events *k)
{
	*e = (struct x86_events){
		.exception_injected = k->exception.injected,
		.exception_nr = k->exception.nr,
		.exception_has_error = k->exception.has_error_code,
		.exception_error = k->exception.error_code,
		.interrupt_injected = k->interrupt.injected,
		.interrupt_nr = k->interrupt.nr,
		.interrupt_soft = k->interrupt.soft,
		.nmi_injected = k->nmi.injected,
		.nmi_pending = k->nmi.pending,
		.nmi_masked = k->nmi.masked,
		.interrupt_shadow = k->interrupt.shadow,
		.sipi_vector = k->sipi_vector,
	};
}

static void events_to_kvm(struct kvm_vcpu_events *k, const struct x86_events *e)
{
	memset(k, 0, sizeof(*k));
	k->exception.injected = e->exception_injected;
	k->exception.nr = e->exception_nr;
	k->exception.has_error_code = e->exception_has_error;
	k->exception.error_code = e->exception_error;
	k->interrupt.injected = e->interrupt_injected;
	k->interrupt.nr = e->interrupt_nr;
	k->interrupt.soft = e->interrupt_soft;
	k->interrupt.shadow = e->interrupt_shadow;
	k->nmi.injected = e->nmi_injected;
	k->nmi.pending = e->nmi_pending;
	k->nmi.masked = e->nmi_masked;
	k->sipi_vector = e->sipi_vector;
	k->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
		   KVM_VCPUEVENT_VALID_SHADOW;
}

/* The MSRs that make up a vCPU's state beyond the registers. */
static const uint32_t wanted_msrs[] = {
	X86_MSR_SYSENTER_CS, X86_MSR_SYSENTER_ESP, X86_MSR_SYSENTER_EIP,
	X86_MSR_STAR, X86_MSR_LSTAR, X86_MSR_CSTAR, X86_MSR_SFMASK,
	X86_MSR_KERNEL_GS_BASE, X86_MSR_TSC_AUX, X86_MSR_IA32_TSC,
	X86_MSR_IA32_MISC_ENABLE, X86_MSR_IA32_PAT,
	0x4b564d00, 0x4b564d01,     /* kvm-clock: wall clock, system time */
	0x4b564d02, 0x4b564d03,     /* async PF, steal time */
	0x4b564d04,                 /* PV EOI */
	0x4b564d05,                 /* PV poll control */
	0x3b, 0x48,                 /* TSC adjust, speculation control */
	0x6e0,                      /* TSC deadline: after the TSC and the LAPIC */
};

int kvm_pick_msrs(struct kvm_vm *vm)
{
	const uint32_t max = 4096;
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + max * sizeof(list->indices[0]));

	if (!list)
		return -1;
	list->nmsrs = max;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		log_err("KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
		free(list);
		return -1;
	}
	vm->nmsrs = 0;
	for (size_t i = 0; i < sizeof(wanted_msrs) / sizeof(wanted_msrs[0]); i++)
		for (uint32_t j = 0; j < list->nmsrs && j < max; j++)
			if (list->indices[j] == wanted_msrs[i] && vm->nmsrs < X86_MAX_MSRS)
				vm->msr_list[vm->nmsrs++] = wanted_msrs[i];
	free(list);
	return 0;
}

struct kvm_msrs *kvm_msrs_new(uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));

	if (m)
		m->nmsrs = n;
	return m;
}

static int get_msrs(struct vcpu *v, struct x86_cpu_state *s)
{
	struct kvm_vm *vm = kvm_vm_of(v->m);
	struct kvm_msrs *msrs = kvm_msrs_new((uint32_t)vm->nmsrs);
	int n;

	if (!msrs)
		return -1;
	for (int i = 0; i < vm->nmsrs; i++)
		msrs->entries[i].index = vm->msr_list[i];
	n = ioctl(kvm_vcpu_of(v)->fd, KVM_GET_MSRS, msrs);
	s->nmsrs = n > 0 ? (uint32_t)n : 0;
	for (int i = 0; i < n; i++)
		s->msrs[i] = (struct x86_msr){ msrs->entries[i].index, msrs->entries[i].data };
	free(msrs);
	return n < 0 ? -1 : 0;
}

/*
 * Writes the MSRs of s; with before, only those whose value differs from it
 * (rewriting a paravirtual MSR is not idempotent: the async-PF one makes KVM
 * queue a wake-up, the kvm-clock ones a clock update, the TSC jumps back).
 */
static int set_msrs(struct vcpu *v, const struct x86_cpu_state *s,
		    const struct x86_cpu_state *before)
{
	uint32_t n = s->nmsrs < X86_MAX_MSRS ? s->nmsrs : X86_MAX_MSRS, k = 0;
	struct kvm_msrs *msrs;
	int rc;

	msrs = kvm_msrs_new(n);
	if (!msrs)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (before && i < before->nmsrs && before->msrs[i].index == s->msrs[i].index &&
		    before->msrs[i].value == s->msrs[i].value)
			continue;
		msrs->entries[k++] = (struct kvm_msr_entry){ .index = s->msrs[i].index,
							     .data = s->msrs[i].value };
	}
	msrs->nmsrs = k;
	rc = k == 0 || ioctl(kvm_vcpu_of(v)->fd, KVM_SET_MSRS, msrs) == (int)k ? 0 : -1;
	free(msrs);
	return rc;
}

int kvm_vcpu_get_state(struct vcpu *v, struct x86_cpu_state *s)
{
	int fd = kvm_vcpu_of(v)->fd;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs dregs;

	if (ioctl(fd, KVM_GET_REGS, &regs) < 0 || ioctl(fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(fd, KVM_GET_XSAVE, &xsave) < 0 || ioctl(fd, KVM_GET_LAPIC, &lapic) < 0 ||
	    ioctl(fd, KVM_GET_VCPU_EVENTS, &events) < 0 || ioctl(fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    ioctl(fd, KVM_GET_DEBUGREGS, &dregs) < 0 || get_msrs(v, s) < 0) {
		log_err("vCPU %d: reading state from KVM: %s", v->id, strerror(errno));
		return -1;
	}
	regs_from_kvm(s, &regs);
	sregs_from_kvm(s, &sregs);
	memcpy(s->xsave, xsave.region, sizeof(s->xsave));
	s->xcr0 = 1;
	memset(&xcrs, 0, sizeof(xcrs));
	if (ioctl(fd, KVM_GET_XCRS, &xcrs) == 0)
		for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
			if (xcrs.xcrs[i].xcr == 0)
				s->xcr0 = xcrs.xcrs[i].value;
	memcpy(s->lapic, lapic.regs, sizeof(s->lapic));
	events_from_kvm(&s->events, &events);
	s->mp_state = mp.mp_state;
	for (int i = 0; i < 4; i++)
		s->dr[i] = dregs.db[i];
	s->dr[6] = dregs.dr6;
	s->dr[7] = dregs.dr7;
	for (uint32_t i = 0; i < s->nmsrs; i++)
		if (s->msrs[i].index == X86_MSR_IA32_TSC)
			s->tsc = s->msrs[i].value;
	return 0;
}

/*
 * Order matters: MSRs and XCR0 before XSAVE (its contents depend on XCR0),
 * the LAPIC before MSRs (KVM drops a TSC deadline unless the LAPIC timer
 * is in deadline mode), sregs before both (APIC base) and before events,
 * MP state last so an AP is not woken by the rest.
 */
int kvm_vcpu_set_state(struct vcpu *v, const struct x86_cpu_state *s)
{
	int fd = kvm_vcpu_of(v)->fd;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = s->xcr0 } };
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp = { .mp_state = s->mp_state };
	struct kvm_debugregs dregs = { .dr6 = s->dr[6], .dr7 = s->dr[7] };
	const char *what;

	regs_to_kvm(&regs, s);
	sregs_to_kvm(&sregs, s);
	memcpy(xsave.region, s->xsave, sizeof(xsave.region));
	memcpy(lapic.regs, s->lapic, sizeof(lapic.regs));
	events_to_kvm(&events, &s->events);
	for (int i = 0; i < 4; i++)
		dregs.db[i] = s->dr[i];

	if ((what = "sregs", ioctl(fd, KVM_SET_SREGS, &sregs) < 0) ||
	    (what = "LAPIC", ioctl(fd, KVM_SET_LAPIC, &lapic) < 0) ||
	    (what = "MSRs", set_msrs(v, s, NULL) < 0) ||
	    (what = "XCRs", ioctl(fd, KVM_SET_XCRS, &xcrs) < 0) ||
	    (what = "XSAVE", ioctl(fd, KVM_SET_XSAVE, &xsave) < 0) ||
	    (what = "regs", ioctl(fd, KVM_SET_REGS, &regs) < 0) ||
	    (what = "events", ioctl(fd, KVM_SET_VCPU_EVENTS, &events) < 0) ||
	    (what = "debug registers", ioctl(fd, KVM_SET_DEBUGREGS, &dregs) < 0) ||
	    (what = "MP state", ioctl(fd, KVM_SET_MP_STATE, &mp) < 0)) {
		log_err("vCPU %d: writing %s to KVM: %s", v->id, what, strerror(errno));
		return -1;
	}
	return 0;
}

static int sregs_differ(const struct x86_cpu_state *a, const struct x86_cpu_state *b)
{
	return memcmp(a->seg, b->seg, sizeof(a->seg)) ||
	       a->gdt.base != b->gdt.base || a->gdt.limit != b->gdt.limit ||
	       a->idt.base != b->idt.base || a->idt.limit != b->idt.limit ||
	       a->cr0 != b->cr0 || a->cr2 != b->cr2 || a->cr3 != b->cr3 ||
	       a->cr4 != b->cr4 || a->cr8 != b->cr8 || a->efer != b->efer ||
	       a->apic_base != b->apic_base;
}

int kvm_vcpu_put_cpu_state(struct vcpu *v, const struct x86_cpu_state *s,
			   const struct x86_cpu_state *before)
{
	int fd = kvm_vcpu_of(v)->fd;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = s->xcr0 } };
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp = { .mp_state = s->mp_state };
	const char *what;

	regs_to_kvm(&regs, s);
	sregs_to_kvm(&sregs, s);
	memcpy(xsave.region, s->xsave, sizeof(xsave.region));
	events_to_kvm(&events, &s->events);
	/* Not the NMI or SIPI fields: other threads may have changed those. */
	events.flags = KVM_VCPUEVENT_VALID_SHADOW;
	/* KVM_SET_SREGS resets the MMU context: worth skipping when nothing changed. */
	if ((what = "sregs", sregs_differ(s, before) && ioctl(fd, KVM_SET_SREGS, &sregs) < 0) ||
	    (what = "MSRs", set_msrs(v, s, before) < 0) ||
	    (what = "XCRs", s->xcr0 != before->xcr0 && ioctl(fd, KVM_SET_XCRS, &xcrs) < 0) ||
	    (what = "XSAVE", memcmp(s->xsave, before->xsave, sizeof(s->xsave)) &&
			     ioctl(fd, KVM_SET_XSAVE, &xsave) < 0) ||
	    (what = "regs", ioctl(fd, KVM_SET_REGS, &regs) < 0) ||
	    (what = "events", memcmp(&s->events, &before->events, sizeof(s->events)) &&
			      ioctl(fd, KVM_SET_VCPU_EVENTS, &events) < 0) ||
	    (what = "MP state", s->mp_state != before->mp_state &&
				ioctl(fd, KVM_SET_MP_STATE, &mp) < 0)) {
		log_err("vCPU %d: writing %s to KVM: %s", v->id, what, strerror(errno));
		return -1;
	}
	return 0;
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == idx))
			return &c->entries[i];
	return NULL;
}

static unsigned order_of(unsigned n)
{
	unsigned bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

/*
 * Every vCPU is one core of one package, one thread per core: the APIC ID is
 * the vCPU index, and leaves 1, 4, 0xB and 0x1F say so consistently.
 */
int kvm_setup_cpuid(struct vcpu *v)
{
	struct kvm_vm *vm = kvm_vm_of(v->m);
	size_t sz = sizeof(struct kvm_cpuid2) + vm->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	struct kvm_cpuid_entry2 *e;
	unsigned n = (unsigned)v->m->ncpus, shift = order_of(n);
	uint32_t id = (uint32_t)v->id;

	if (!c)
		return -1;
	memcpy(c, vm->cpuid, sz);
	/* Kept: the software CPU answers CPUID as KVM does for this vCPU. */
	kvm_vcpu_of(v)->cpuid = c;
	if ((e = cpuid_find(c, 1, 0))) {
		e->ebx = (e->ebx & 0xffff) | (id << 24) | ((n > 1 ? (1u << shift) : 1) << 16);
		if (n > 1)
			e->edx |= 1u << 28;      /* HTT: the count in EBX is valid */
	}
	for (uint32_t sub = 0; (e = cpuid_find(c, 4, sub)) && (e->eax & 0x1f); sub++)
		e->eax = (e->eax & 0x3ffffff) | (((1u << shift) - 1) << 26);
	for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb) {
		for (uint32_t sub = 0; sub < 4; sub++) {
			if (!(e = cpuid_find(c, leaf, sub)))
				continue;
			e->edx = id;
			if (sub == 0) {
				e->eax = 0; e->ebx = 1; e->ecx = (1u << 8) | sub;
			} else if (sub == 1) {
				e->eax = shift; e->ebx = n; e->ecx = (2u << 8) | sub;
			} else {
				e->eax = 0; e->ebx = 0; e->ecx = sub;
			}
		}
	}
	if (ioctl(kvm_vcpu_of(v)->fd, KVM_SET_CPUID2, c) < 0) {
		log_err("vCPU %d: KVM_SET_CPUID2: %s", v->id, strerror(errno));
		return -1;
	}
	return 0;
}
