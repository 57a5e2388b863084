/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stretches of guest kernel code on vmon's software CPU under kvm_pvm
 * (docs/linux-boot.md): there emu is many times faster than the host KVM,
 * whose kernel-mode execution is mostly emulation, and kernel SIMD code
 * fails host emulation at nearly every instruction.  A stretch starts
 * after a rescued instruction (kvm_rescue.c), or when a kick finds the
 * vCPU in KVM running kernel code, and ends when the guest goes back to
 * user mode (which runs natively), halts, touches what only KVM has (its
 * in-kernel devices, paravirtual MSRs, the guest's view of CPUID), can
 * take an interrupt that KVM holds for it, or after a budget of
 * instructions.  Also here: what kvm_pvm gets wrong and vmon makes up
 * for (KVM's shadow page tables, hypercalls, SYSCALL from user mode).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm_rescue.h"
#include "util/log.h"

/* Interrupts end a stretch by themselves; this only bounds a silent one. */
#define STRETCH_MAX_INSNS 1000000

/*
 * A memslot created and deleted to make KVM drop its shadow page tables:
 * one per vCPU, far above any RAM vmon gives a guest.
 */
#define ZAP_SLOT 500
#define ZAP_GPA  0x7f00000000ULL

#define MSR_TSC_DEADLINE 0x6e0

static const char *const stretch_end_names[END_KINDS] = {
	"user mode", "hlt", "interrupt", "budget", "device in KVM", "wrmsr", "cpuid",
	"unimplemented",
};

static int state_cpl(const struct x86_cpu_state *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return 0;
	return (s->rflags & X86_RFLAGS_VM) ? 3 : s->seg[X86_SS].dpl;
}

/*
 * WRMSRs that emu runs in a stretch: the LAPIC's, which KVM_SET_MSRS serves
 * as the guest's WRMSR would.  Others act on KVM beyond the value: the
 * kvm-clock MSRs at the next entry, before the guest's next instruction;
 * the SYSCALL MSRs (STAR, LSTAR) on kvm_pvm only when the guest writes them.
 */
static int wrmsr_in_stretch(uint32_t index)
{
	return index == MSR_TSC_DEADLINE || (index >= 0x800 && index <= 0x8ff);
}

/*
 * In a stretch, port I/O and MMIO that no vmon device claims belong to
 * KVM's in-kernel devices (PIC, PIT, IOAPIC, LAPIC): KVM executes those,
 * the WRMSRs above, and CPUID, which the guest sees differently from what
 * KVM_SET_CPUID2 said (shared/docs/host-kvm.md).
 */
int kvm_stretch_io_stop(void *opaque, enum emu_io_kind kind, uint64_t addr)
{
	struct vcpu *v = opaque;
	struct kvm_rescue *r = kvm_vcpu_of(v)->rescue;

	if (!r->stretching)
		return 0;
	r->io_stopped = kind;
	if (kind == EMU_IO_CPUID || kind == EMU_IO_USER)
		return 1;
	if (kind == EMU_IO_WRMSR)
		return !wrmsr_in_stretch((uint32_t)addr);
	return !bus_claimed(kind == EMU_IO_PIO ? v->m->pio : v->m->mmio, addr);
}

/*
 * KVM here shadows the guest's page tables and keeps its shadows current by
 * trapping the guest's writes to them; emu's writes go around it.  Where
 * the guest then invalidates TLB entries (it changed a mapping), KVM must
 * forget its shadows: deleting a memslot makes it drop them all.
 */
static int stretch_zap_shadow_mmu(struct vcpu *v, struct kvm_rescue *r)
{
	struct kvm_userspace_memory_region slot = {
		.slot = (uint32_t)(ZAP_SLOT - v->id), .guest_phys_addr = ZAP_GPA + 4096ULL * v->id,
		.memory_size = 4096, .userspace_addr = (uintptr_t)r->zap_page,
	};
	int fd = kvm_vm_of(v->m)->vm_fd;

	r->zaps++;
	if (ioctl(fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -1;
	slot.memory_size = 0;
	return ioctl(fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0 ? -1 : 0;
}

/* INVLPG, INVPCID, MOV to CR0/CR4, MOV to CR3 unless it keeps the PCID's entries. */
static int insn_invalidates_tlb(const struct x86_insn *in, const struct x86_cpu_state *s)
{
	if (in->map == X86_MAP_0F38)
		return in->opcode == 0x82 && in->opsize_prefix;
	if (in->map != X86_MAP_0F)
		return 0;
	if (in->opcode == 0x01)
		return (in->reg & 7) == 7 && in->mod != 3;
	if (in->opcode != 0x22)
		return 0;
	if (in->reg == 3)
		return !((s->cr4 & X86_CR4_PCIDE) && (s->gpr[in->rm] >> 63));
	return in->reg == 0 || in->reg == 4;
}

/* ---- what KVM's LAPIC holds for the vCPU ---- */

#define APIC_TPR   0x80
#define APIC_ISR   0x100
#define APIC_IRR   0x200
#define APIC_LVTT  0x320
#define APIC_LVT0  0x350
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define LVT_MASKED (1u << 16)

static uint32_t apic_reg(const char *regs, unsigned off)
{
	uint32_t v;

	memcpy(&v, regs + off, sizeof(v));
	return v;
}

/* The highest vector set in a 256-bit ISR/IRR, or -1. */
static int apic_highest(const char *regs, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t v = apic_reg(regs, base + 16 * (unsigned)i);

		if (v)
			return i * 32 + 31 - __builtin_clz(v);
	}
	return -1;
}

/* A requested vector above the processor priority (TPR, in-service). */
static int apic_irr_deliverable(const char *regs)
{
	int irr = apic_highest(regs, APIC_IRR), isr = apic_highest(regs, APIC_ISR);
	int ppr = (int)(apic_reg(regs, APIC_TPR) & 0xf0);

	if (isr >= 0 && (isr & 0xf0) > ppr)
		ppr = isr & 0xf0;
	return irr >= 0 && (irr & 0xf0) > ppr;
}

/*
 * An expired LAPIC timer reaches the IRR only when KVM next enters the
 * guest, so its due time is worked out here.  Periodic timers and the PIC
 * (LINT0 in ExtINT mode, early boot) are not followed: taken as due.
 */
static int apic_timer_due(struct vcpu *v, const char *regs)
{
	uint32_t lvtt = apic_reg(regs, APIC_LVTT), lvt0 = apic_reg(regs, APIC_LVT0);
	uint64_t deadline = 0;

	if (!(lvt0 & LVT_MASKED) && ((lvt0 >> 8) & 7) == 7)
		return 1;
	if (lvtt & LVT_MASKED)
		return 0;
	switch ((lvtt >> 17) & 3) {
	case 0:
		return apic_reg(regs, APIC_TMICT) && !apic_reg(regs, APIC_TMCCT);
	case 2:
		if (kvm_rescue_rdmsr(v, MSR_TSC_DEADLINE, &deadline))
			return 1;
		return deadline && deadline <= kvm_rescue_tsc(v);
	default:
		return 1;
	}
}

/* 2: an NMI, 1: an interrupt the guest takes once its window opens, 0: none. */
static int stretch_irq_pending(struct vcpu *v)
{
	int fd = kvm_vcpu_of(v)->fd;
	const struct x86_cpu_state *s = &kvm_vcpu_of(v)->rescue->state;
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state lapic;

	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) < 0 || ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return 2;
	/* Blocking as the stretch has it: KVM's is stale once emu ran the IRET
	 * that ends an NMI handler. */
	if (ev.nmi.pending && !s->events.nmi_masked)
		return 2;
	if (!(s->apic_base & (1u << 11)))
		return 1;     /* LAPIC off: the PIC speaks directly */
	return apic_irr_deliverable(lapic.regs) || apic_timer_due(v, lapic.regs);
}

/* ---- hypercalls ---- */

#define HC_KICK_CPU    5
#define HC_SEND_IPI    10
#define HC_SCHED_YIELD 11
#define HC_ENOSYS      (-1000LL)

/*
 * kvm_pvm cannot run a hypercall: KVM takes the guest's VMCALL or VMMCALL
 * for the other vendor's, rewrites it in the guest's text and runs it again
 * (the vCPU spins there), and once the kernel's text is read-only the
 * rewrite faults and the guest oopses.  So a stretch never hands one to KVM:
 * vmon does the three Linux uses.  A PV IPI is an MSI to each destination
 * APIC; a PV unhalt kick is a flag the target vCPU's thread takes as a
 * wake-up; a directed yield is a favour the scheduler may skip.
 */
static int insn_is_hypercall(const struct x86_insn *in)
{
	return in->map == X86_MAP_0F && in->opcode == 0x01 && in->mod == 3 &&
	       (in->rm & 7) == 1 && ((in->reg & 7) == 0 || (in->reg & 7) == 3);
}

/* KVM_HC_SEND_IPI: bitmap in RBX:RCX from APIC ID RDX, ICR low half in RSI. */
static int64_t hypercall_send_ipi(struct machine *m, const struct x86_cpu_state *s)
{
	uint64_t bitmap[2] = { s->gpr[X86_RBX], s->gpr[X86_RCX] }, min = s->gpr[X86_RDX];
	uint32_t data = (uint32_t)s->gpr[X86_RSI] & 0xc7ff;   /* vector, mode, level, trigger */
	int64_t sent = 0;

	for (unsigned i = 0; i < 128; i++) {
		if (!(bitmap[i / 64] >> (i % 64) & 1) || min + i > 0xff)
			continue;
		m->irq->send_msi(m->irq, 0xfee00000ULL | ((min + i) << 12), data);
		sent++;
	}
	return sent;
}

static int stretch_hypercall(struct vcpu *v, struct kvm_rescue *r)
{
	struct x86_cpu_state *s = &r->state;
	uint64_t nr = s->gpr[X86_RAX], apic_id = s->gpr[X86_RCX];
	struct machine *m = v->m;
	int64_t ret = 0;

	if (!insn_is_hypercall(emu_last_insn(r->cpu)) || state_cpl(s) != 0)
		return 0;
	if (nr == HC_KICK_CPU && apic_id < (uint64_t)m->ncpus) {
		atomic_store(&kvm_vcpu_of(&m->vcpus[apic_id])->pv_unhalt, 1);
		m->accel->vcpu_kick(&m->vcpus[apic_id]);
	} else if (nr == HC_SEND_IPI) {
		ret = hypercall_send_ipi(m, s);
	} else if (nr != HC_KICK_CPU && nr != HC_SCHED_YIELD) {
		ret = HC_ENOSYS;
	}
	s->gpr[X86_RAX] = (uint64_t)ret;
	s->rip += 3;
	r->hypercalls++;
	return 1;
}

/* A kick vmon delivered wakes a halt, as KVM's PV unhalt would. */
int kvm_stretch_pv_unhalt(struct vcpu *v)
{
	return atomic_exchange(&kvm_vcpu_of(v)->pv_unhalt, 0);
}

/* ---- SYSCALL from user mode ---- */

static uint64_t state_msr(const struct x86_cpu_state *s, uint32_t index)
{
	for (uint32_t i = 0; i < s->nmsrs; i++)
		if (s->msrs[i].index == index)
			return s->msrs[i].value;
	return 0;
}

/*
 * kvm_pvm runs user mode natively, but a SYSCALL there does not take the
 * vCPU to kernel mode: it arrives at LSTAR still at CPL 3, the fetch of
 * kernel code faults, and KVM delivers that #PF to the guest (guests/usermode
 * shows it without vmon's help).  Caught at the #PF handler's first
 * instruction (CLAC in Linux, which KVM cannot emulate there), the fault
 * is turned back into the SYSCALL it was: RCX and R11 still hold what the
 * CPU saved, the frame the user RSP.
 */
int kvm_stretch_syscall_fixup(struct kvm_rescue *r)
{
	struct x86_cpu_state *s = &r->state;
	uint64_t gate[2], frame[6], lstar = state_msr(s, X86_MSR_LSTAR);
	uint16_t sel = (state_msr(s, X86_MSR_STAR) >> 32) & 0xfffc;

	if (state_cpl(s) != 0 || !(s->efer & X86_EFER_LMA) || !lstar || s->cr2 != lstar ||
	    emu_peek(r->cpu, s->idt.base + 14 * 16, gate, sizeof(gate)) ||
	    s->rip != ((gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000) | (gate[1] << 32)) ||
	    emu_peek(r->cpu, s->gpr[X86_RSP], frame, sizeof(frame)) ||
	    frame[1] != lstar || (frame[2] & 3) != 3)
		return 0;
	s->gpr[X86_RSP] = frame[4];
	s->rflags = (s->gpr[X86_R11] & ~(state_msr(s, X86_MSR_SFMASK) | X86_RFLAGS_RF)) |
		    X86_RFLAGS_FIXED;
	x86_seg_flat(&s->seg[X86_CS], sel, 1, 64);
	s->seg[X86_CS].type = 0xb;
	x86_seg_flat(&s->seg[X86_SS], sel + 8, 0, 32);
	s->rip = lstar;
	r->syscalls++;
	return 1;
}

/* ---- stretches ---- */

/*
 * A kick (the heartbeat, or the machine stopping) asks for KVM_RUN.  It is
 * taken here: the stretch ends for it when the machine stops, or when KVM
 * holds an interrupt and the guest's window is open (else at the opening).
 */
static int stretch_interrupted(struct vcpu *v, struct kvm_rescue *r)
{
	struct kvm_run *run = kvm_vcpu_of(v)->run;
	const struct x86_cpu_state *s = &r->state;
	int pending;

	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_RELAXED)) {
		run->immediate_exit = 0;
		if (machine_stopping(v->m))
			return 1;
		pending = stretch_irq_pending(v);
		if (pending == 2)
			return 1;
		r->irq_waiting |= pending;
	}
	return r->irq_waiting && (s->rflags & X86_RFLAGS_IF) && !s->events.interrupt_shadow;
}

/* Why a step ended the stretch; EMU_IO and EMU_UNIMPLEMENTED are KVM's to run. */
static enum emu_result stretch_stopped(struct kvm_rescue *r, enum emu_result res,
				       enum kvm_stretch_end *end)
{
	switch (res) {
	case EMU_HALT:
		*end = END_HALT;
		return res;
	case EMU_IO:
	case EMU_UNIMPLEMENTED:
		/* KVM's own INVPCID knows nothing of emu's writes. */
		if (insn_invalidates_tlb(emu_last_insn(r->cpu), &r->state))
			r->flushed = 1;
		*end = res == EMU_UNIMPLEMENTED ? END_UNIMPLEMENTED :
		       r->io_stopped == EMU_IO_WRMSR ? END_WRMSR :
		       r->io_stopped == EMU_IO_CPUID ? END_CPUID :
		       r->io_stopped == EMU_IO_USER ? END_USER : END_DEVICE;
		return EMU_OK;
	default:
		return res;
	}
}

enum emu_result kvm_stretch(struct vcpu *v, struct kvm_rescue *r)
{
	enum kvm_stretch_end end = END_BUDGET;
	enum emu_result res = EMU_OK;

	r->stretching = 1;
	r->irq_waiting = 0;
	r->stretches++;
	for (unsigned long n = 0; n < STRETCH_MAX_INSNS; n++) {
		if (state_cpl(&r->state) == 3) {
			end = END_USER;
			break;
		}
		if (stretch_interrupted(v, r)) {
			end = END_INTERRUPT;
			break;
		}
		res = emu_step(r->cpu);
		if ((res == EMU_UNIMPLEMENTED && stretch_hypercall(v, r)) ||
		    (res == EMU_HALT && kvm_stretch_pv_unhalt(v)))
			res = EMU_OK;
		if (res != EMU_OK) {
			res = stretch_stopped(r, res, &end);
			break;
		}
		r->insns++;
		if (insn_invalidates_tlb(emu_last_insn(r->cpu), &r->state))
			r->flushed = 1;
	}
	r->stretching = 0;
	r->ends[end]++;
	if (!r->flushed || res == EMU_TRIPLE_FAULT)
		return res;
	r->flushed = 0;
	if (stretch_zap_shadow_mmu(v, r)) {
		log_err("vCPU %d: dropping KVM's shadow page tables: %s", v->id, strerror(errno));
		return EMU_UNIMPLEMENTED;
	}
	return res;
}

void kvm_stretch_print_stats(int id, const struct kvm_rescue *r)
{
	if (!r->stretches)
		return;
	log_info("stats: vCPU %d: %llu stretches on emu (%llu from kicks), %llu instructions, "
		 "%llu shadow MMU flushes, %llu hypercalls, %llu syscalls", id,
		 (unsigned long long)r->stretches, (unsigned long long)r->kicked,
		 (unsigned long long)r->insns, (unsigned long long)r->zaps,
		 (unsigned long long)r->hypercalls, (unsigned long long)r->syscalls);
	for (int i = 0; i < END_KINDS; i++)
		if (r->ends[i])
			log_info("stats: vCPU %d: stretches ended by %-14s %llu", id,
				 stretch_end_names[i], (unsigned long long)r->ends[i]);
}
