/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software-CPU accelerator: each vCPU thread runs emu instructions in
 * batches on its own x86_cpu_state, with vmon's own interrupt controllers
 * (LAPICs, IOAPIC, 8259 pair, 8254) in place of KVM's in-kernel irqchip.
 * Between batches it looks at the machine stopping, INIT/SIPI, the LAPIC
 * timer and pending interrupts; HLT sleeps on a condition variable until a
 * delivery, a kick or the LAPIC timer's deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel/emu/emu_int.h"
#include "hw/ioapic.h"
#include "hw/irqchip.h"
#include "hw/lapic.h"
#include "hw/pic.h"
#include "hw/pit.h"
#include "machine/machine.h"
#include "util/log.h"

/* Instructions between looks at interrupts and the clock: ~10-100 us. */
#define EMU_BATCH 4096
#define EMU_CHAIN 256     /* instructions between two looks at kicks */
#define NSEC 1000000000ULL

/* How a vCPU is woken: deliveries bump seq; kicked cuts a batch short. */
struct emu_wake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_uint seq;
	atomic_int kicked;
};

struct emu_vm {
	int ncpus;
	uint64_t tsc_ns0;            /* host time of TSC 0, the same on every vCPU */
	struct lapic_bus *lapics;
	struct ioapic *ioapic;
	struct pic *pic;
	struct pit *pit;
	struct irqchip *irq;
	struct emu_wake wake[VMON_MAX_CPUS];
};

struct emu_vcpu {
	struct x86_cpu_state s;      /* first: XSAVE alignment */
	struct emu_env env;
	struct emu_cpu *cpu;
	struct lapic *lapic;
	struct emu_wake *wake;
	struct pic *pic;             /* the BSP's: the 8259 reaches vCPU 0 only */
	uint64_t apic_base_seen, cr8_seen;
	uint64_t tsc_reported;       /* what get_state last said the TSC was */
	uint64_t insns, irqs, halts;
};

static uint64_t emu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static struct emu_vm *emu_vm_of(const struct machine *m)
{
	return m->accel_data;
}

static struct emu_vcpu *emu_vcpu_of(const struct vcpu *v)
{
	return v->accel_data;
}

static int emu_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 1;
}

static void emu_wake(void *opaque)
{
	struct emu_wake *w = opaque;

	atomic_store_explicit(&w->kicked, 1, memory_order_relaxed);
	pthread_mutex_lock(&w->lock);
	atomic_fetch_add(&w->seq, 1);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Sleeps until a wake after seq was read, or until deadline (0: none). */
static void emu_wait(struct emu_wake *w, unsigned seq, uint64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / NSEC), (long)(deadline % NSEC) };

	pthread_mutex_lock(&w->lock);
	while (atomic_load(&w->seq) == seq) {
		if (!deadline)
			pthread_cond_wait(&w->cond, &w->lock);
		else if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&w->lock);
}

static void emu_sync_apic_base(struct emu_vcpu *d)
{
	if (d->s.apic_base == d->apic_base_seen)
		return;
	d->apic_base_seen = d->s.apic_base;
	lapic_set_apic_base(d->lapic, d->s.apic_base);
}

/* CR8 and TPR are one register: whichever side changed wins. */
static void emu_sync_tpr(struct emu_vcpu *d)
{
	if (d->s.cr8 != d->cr8_seen) {
		lapic_set_cr8(d->lapic, (uint8_t)d->s.cr8);
		d->cr8_seen = d->s.cr8 & 0xf;
	} else {
		d->cr8_seen = lapic_get_cr8(d->lapic);
	}
	d->s.cr8 = d->cr8_seen;
}

static uint64_t emu_guest_tsc(struct emu_vcpu *d)
{
	uint64_t tsc = 0;

	emu_rdmsr(d->cpu, X86_MSR_IA32_TSC, &tsc);
	return tsc;
}

static int emu_rdmsr_hook(void *opaque, uint32_t index, uint64_t *value)
{
	struct emu_vcpu *d = opaque;

	emu_sync_apic_base(d);
	if (index == LAPIC_MSR_TSC_DEADLINE) {
		*value = lapic_get_tsc_deadline(d->lapic);
		return 0;
	}
	return lapic_rdmsr(d->lapic, index, value);
}

/* Arms the TSC-deadline timer for the guest TSC value deadline. */
static void emu_set_tsc_deadline(struct emu_vcpu *d, uint64_t deadline)
{
	/* The TSC runs at 1 GHz: TSC units are host nanoseconds. */
	uint64_t now = emu_now(), tsc = emu_guest_tsc(d);

	lapic_set_tsc_deadline(d->lapic, deadline, deadline > tsc ? now + (deadline - tsc) : now);
}

static int emu_wrmsr_hook(void *opaque, uint32_t index, uint64_t value)
{
	struct emu_vcpu *d = opaque;

	emu_sync_apic_base(d);
	if (index == LAPIC_MSR_TSC_DEADLINE) {
		emu_set_tsc_deadline(d, value);
		return 0;
	}
	return lapic_wrmsr(d->lapic, index, value);
}

static void emu_pic_notify(void *opaque)
{
	emu_wake(opaque);
}

static void emu_vm_destroy(struct machine *m)
{
	struct emu_vm *vm = emu_vm_of(m);

	if (!vm)
		return;
	pit_free(vm->pit);           /* its thread raises IRQs: first */
	irqchip_free(vm->irq);
	pic_free(vm->pic);
	ioapic_free(vm->ioapic);
	lapic_bus_free(vm->lapics);
	for (int i = 0; i < vm->ncpus; i++) {
		pthread_mutex_destroy(&vm->wake[i].lock);
		pthread_cond_destroy(&vm->wake[i].cond);
	}
	free(vm);
	m->accel_data = NULL;
	m->irq = NULL;
}

static void emu_wake_init(struct emu_wake *w)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&w->seq, 0);
	atomic_init(&w->kicked, 0);
}

static int emu_vm_init(struct machine *m)
{
	struct emu_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return -1;
	m->accel_data = vm;
	vm->ncpus = m->ncpus;
	for (int i = 0; i < vm->ncpus; i++)
		emu_wake_init(&vm->wake[i]);
	/* vCPU threads store to each other's code: see mem_code_mark. */
	if (vm->ncpus > 1 && m->mem.code)
		mem_code_set_shared(m->mem.code);
	vm->tsc_ns0 = emu_now();
	vm->lapics = lapic_bus_new(m->mmio, m->ncpus);
	if (!vm->lapics)
		goto fail;
	for (int i = 0; i < vm->ncpus; i++)
		lapic_set_wake(lapic_bus_get(vm->lapics, i), emu_wake, &vm->wake[i]);
	vm->ioapic = ioapic_new(m->mmio, IOAPIC_BASE, vm->lapics);
	vm->pic = pic_new(m->pio, emu_pic_notify, &vm->wake[0]);
	if (!vm->ioapic || !vm->pic)
		goto fail;
	lapic_bus_set_eoi_hook(vm->lapics, ioapic_eoi, vm->ioapic);
	vm->irq = irqchip_new(vm->pic, vm->ioapic, vm->lapics);
	if (!vm->irq)
		goto fail;
	vm->pit = pit_new(m->pio, (struct irq_line){ &vm->irq->chip, 0 });
	if (!vm->pit)
		goto fail;
	m->irq = &vm->irq->chip;
	return 0;
fail:
	log_err("cannot create the interrupt controllers of the software CPU");
	emu_vm_destroy(m);
	return -1;
}

static int emu_vcpu_init(struct vcpu *v)
{
	struct emu_vm *vm = emu_vm_of(v->m);
	struct emu_vcpu *d;
	void *p;

	if (posix_memalign(&p, 64, sizeof(*d)))
		return -1;
	d = memset(p, 0, sizeof(*d));
	v->accel_data = d;
	x86_cpu_state_reset(&d->s, v->id == 0);
	d->lapic = lapic_bus_get(vm->lapics, v->id);
	d->wake = &vm->wake[v->id];
	d->pic = v->id == 0 ? vm->pic : NULL;
	d->env = (struct emu_env){
		.mem = &v->m->mem, .pio = v->m->pio, .mmio = v->m->mmio, .opaque = d,
		.rdmsr = emu_rdmsr_hook, .wrmsr = emu_wrmsr_hook,
	};
	d->cpu = emu_cpu_new(&d->s, &d->env);
	if (!d->cpu || !d->lapic) {
		log_err("vCPU %d: out of memory", v->id);
		return -1;
	}
	d->cpu->tsc_ns0 = vm->tsc_ns0;
	d->apic_base_seen = d->s.apic_base;
	lapic_set_apic_base(d->lapic, d->s.apic_base);
	/* The page carries the APIC ID that CPUID reports. */
	lapic_save(d->lapic, d->s.lapic);
	return 0;
}

static void emu_vcpu_destroy(struct vcpu *v)
{
	struct emu_vcpu *d = emu_vcpu_of(v);

	if (!d)
		return;
	emu_cpu_free(d->cpu);
	free(d);
	v->accel_data = NULL;
}

/* Only while the vCPU thread is not running (before machine_run, after it). */
static int emu_vcpu_get_state(struct vcpu *v, struct x86_cpu_state *s)
{
	struct emu_vcpu *d = emu_vcpu_of(v);

	lapic_save(d->lapic, d->s.lapic);
	memcpy(s, &d->s, sizeof(*s));
	s->tsc = d->tsc_reported = emu_guest_tsc(d);
	return 0;
}

static int emu_vcpu_set_state(struct vcpu *v, const struct x86_cpu_state *s)
{
	struct emu_vcpu *d = emu_vcpu_of(v);
	uint64_t tsc_base = d->s.tsc;

	memcpy(&d->s, s, sizeof(*s));
	/* An unchanged TSC keeps every vCPU on the same time base. */
	if (s->tsc == d->tsc_reported) {
		d->s.tsc = tsc_base;
	} else {
		d->cpu->tsc_ns0 = emu_now();
	}
	lapic_load(d->lapic, s->lapic);
	d->apic_base_seen = s->apic_base;
	lapic_set_apic_base(d->lapic, s->apic_base);
	d->cr8_seen = s->cr8;
	emu_cpu_flush_tlb(d->cpu);
	return 0;
}

static void emu_dump_code(struct emu_vcpu *d)
{
	const struct x86_insn *insn = emu_last_insn(d->cpu);
	uint64_t lin = d->s.seg[X86_CS].base + d->s.rip, pa;
	uint8_t code[15];
	int n = 0;

	if (emu_code_mode(d->cpu) != 64)
		lin &= 0xffffffffULL;
	while (n < 15 && !emu_translate(d->cpu, lin + (uint64_t)n, ACC_EXEC, &pa) &&
	       !guest_mem_read(d->env.mem, pa, &code[n], 1))
		n++;
	x86_code_log(code, n);
	if (insn && insn->len && insn->name)
		log_err("  instruction: %s (%u bytes, %u-bit code)", insn->name, insn->len,
			insn->mode);
}

static void emu_dump(struct vcpu *v, struct emu_vcpu *d, const char *why)
{
	log_err("vCPU %d: %s (software CPU)", v->id, why);
	x86_cpu_state_log(&d->s);
	emu_dump_code(d);
}

static void emu_do_init(struct emu_vcpu *d)
{
	struct x86_cpu_state *s = &d->s;
	uint64_t tsc = s->tsc, apic_base = s->apic_base;
	int bsp = !!(apic_base & X86_APIC_BASE_BSP);

	/* INIT resets the CPU but for the TSC and the APIC base. */
	x86_cpu_state_reset(s, bsp);
	s->tsc = tsc;
	s->apic_base = apic_base;
	s->mp_state = bsp ? X86_MP_RUNNABLE : X86_MP_INIT_RECEIVED;
	d->cpu->nesting = 0;
	d->cr8_seen = 0;
	lapic_reset(d->lapic, bsp);
	lapic_save(d->lapic, s->lapic);
	emu_cpu_flush_tlb(d->cpu);
}

/* INIT and SIPI: 1 while the vCPU waits for them. */
static int emu_mp_events(struct emu_vcpu *d)
{
	struct x86_cpu_state *s = &d->s;
	uint8_t vector;

	if (lapic_take_init(d->lapic))
		emu_do_init(d);
	if (lapic_take_sipi(d->lapic, &vector) && s->mp_state == X86_MP_INIT_RECEIVED) {
		x86_seg_real(&s->seg[X86_CS], (uint16_t)(vector << 8), 1);
		s->rip = 0;
		s->mp_state = X86_MP_RUNNABLE;
	}
	return s->mp_state == X86_MP_UNINITIALIZED || s->mp_state == X86_MP_INIT_RECEIVED;
}

/*
 * NMI, then LAPIC, then the 8259 through LINT0; an interrupt shadow holds
 * them all, NMIs too (as Intel's MOV SS blocking and KVM do).  -1 on a
 * triple fault.
 */
static int emu_interrupts(struct emu_vcpu *d)
{
	struct x86_cpu_state *s = &d->s;
	int vec;

	if (s->events.interrupt_shadow)
		return 0;
	if (!s->events.nmi_masked && lapic_take_nmi(d->lapic)) {
		if (emu_interrupt(d->cpu, 2))
			return -1;
		s->events.nmi_masked = 1;
		return 0;
	}
	if (!(s->rflags & X86_RFLAGS_IF))
		return 0;
	vec = lapic_ack_interrupt(d->lapic);
	if (vec < 0 && d->pic && lapic_accepts_pic(d->lapic) && pic_has_interrupt(d->pic))
		vec = pic_ack(d->pic);
	if (vec < 0)
		return 0;
	d->irqs++;
	return emu_interrupt(d->cpu, (uint8_t)vec);
}

static int emu_window_open(const struct x86_cpu_state *s)
{
	return (s->rflags & X86_RFLAGS_IF) && !s->events.interrupt_shadow;
}

/*
 * Runs blocks until something else than EMU_OK, a kick, or interrupts
 * opening up (blocks end where a window can open).
 */
static enum emu_result emu_batch(struct emu_vcpu *d)
{
	enum emu_result r = EMU_OK;

	/* What the shadow held is due after this one instruction. */
	if (d->s.events.interrupt_shadow) {
		d->insns++;
		return emu_step(d->cpu);
	}
	for (unsigned n = 0; n < EMU_BATCH;) {
		int was_open = emu_window_open(&d->s);
		unsigned k;

		r = emu_run_blocks(d->cpu, EMU_CHAIN, &k);
		n += k;
		d->insns += k;
		if (r != EMU_OK || atomic_load_explicit(&d->wake->kicked, memory_order_relaxed))
			break;
		if (!was_open && emu_window_open(&d->s))
			break;
	}
	return r;
}

static enum vcpu_exit emu_vcpu_run(struct vcpu *v)
{
	struct emu_vcpu *d = emu_vcpu_of(v);
	struct x86_cpu_state *s = &d->s;
	struct machine *m = v->m;

	lapic_set_current(d->lapic);
	for (;;) {
		unsigned seq = atomic_load(&d->wake->seq);
		uint64_t deadline;

		atomic_store_explicit(&d->wake->kicked, 0, memory_order_relaxed);
		if (machine_stopping(m))
			return VCPU_EXIT_STOP;
		emu_sync_apic_base(d);
		emu_sync_tpr(d);
		if (emu_mp_events(d)) {
			emu_wait(d->wake, seq, 0);
			continue;
		}
		deadline = lapic_timer_poll(d->lapic, emu_now());
		if (emu_interrupts(d)) {
			emu_dump(v, d, "triple fault delivering an interrupt");
			return VCPU_EXIT_SHUTDOWN;
		}
		if (s->mp_state == X86_MP_HALTED) {
			emu_wait(d->wake, seq, deadline);
			continue;
		}
		switch (emu_batch(d)) {
		case EMU_OK:
		case EMU_LIMIT:
			break;
		case EMU_HALT:
			d->halts++;
			s->mp_state = X86_MP_HALTED;
			break;
		case EMU_TRIPLE_FAULT:
			emu_dump(v, d, "triple fault");
			return VCPU_EXIT_SHUTDOWN;
		case EMU_UNIMPLEMENTED:
		case EMU_IO:    /* no io_stop hook here */
			emu_dump(v, d, "instruction the software CPU does not implement");
			return VCPU_EXIT_ERROR;
		}
	}
}

/*
 * The vCPUs' LAPICs beyond their register pages, then the VM's controllers
 * in the order a load needs them: a controller that re-raises an interrupt
 * finds what it delivers to restored, and the PIT drives a restored irqchip.
 */
static int emu_vm_save(struct machine *m, struct snap_out *o)
{
	struct emu_vm *vm = emu_vm_of(m);

	for (int i = 0; i < vm->ncpus; i++)
		lapic_snap_save(emu_vcpu_of(&m->vcpus[i])->lapic, o);
	pic_save(vm->pic, o);
	ioapic_save(vm->ioapic, o);
	irqchip_save(vm->irq, o);
	pit_save(vm->pit, o);
	return 0;
}

static int emu_vm_load(struct machine *m, struct snap_in *in)
{
	struct emu_vm *vm = emu_vm_of(m);

	for (int i = 0; i < vm->ncpus; i++) {
		struct emu_vcpu *d = emu_vcpu_of(&m->vcpus[i]);
		uint64_t deadline;

		if (lapic_snap_load(d->lapic, in))
			return -1;
		/* Against the TSC vcpu_set_state restored, not the time left at the save. */
		deadline = lapic_get_tsc_deadline(d->lapic);
		if (deadline)
			emu_set_tsc_deadline(d, deadline);
	}
	if (pic_load(vm->pic, in) || ioapic_load(vm->ioapic, in) || irqchip_load(vm->irq, in) ||
	    pit_load(vm->pit, in))
		return -1;
	return 0;
}

static void emu_vcpu_kick(struct vcpu *v)
{
	struct emu_vm *vm = emu_vm_of(v->m);

	if (vm && v->id < vm->ncpus)
		emu_wake(&vm->wake[v->id]);
}

static void emu_print_stats(struct machine *m)
{
	for (int i = 0; i < m->ncpus; i++) {
		struct emu_vcpu *d = emu_vcpu_of(&m->vcpus[i]);
		uint64_t runs, built, clears;
		struct emu_tlb_stats tlb;

		if (!d)
			continue;
		log_info("stats: vCPU %d: %llu instructions, %llu interrupts, %llu halts", i,
			 (unsigned long long)d->insns, (unsigned long long)d->irqs,
			 (unsigned long long)d->halts);
		emu_block_stats(d->cpu, &runs, &built, &clears);
		log_info("stats: vCPU %d: %llu blocks run, %llu decoded, all dropped %llu times", i,
			 (unsigned long long)runs, (unsigned long long)built,
			 (unsigned long long)clears);
		emu_tlb_stats(d->cpu, &tlb);
		log_info("stats: vCPU %d: TLB: %llu page walks, %llu full flushes, "
			 "%llu new CR3s that kept global pages", i,
			 (unsigned long long)tlb.walks, (unsigned long long)tlb.flushes,
			 (unsigned long long)tlb.cr3_flushes);
	}
}

const struct accel_ops accel_emu = {
	.name = "emu",
	.probe = emu_probe,
	.vm_init = emu_vm_init,
	.vm_destroy = emu_vm_destroy,
	.vcpu_init = emu_vcpu_init,
	.vcpu_destroy = emu_vcpu_destroy,
	.vcpu_get_state = emu_vcpu_get_state,
	.vcpu_set_state = emu_vcpu_set_state,
	.vcpu_run = emu_vcpu_run,
	.vcpu_kick = emu_vcpu_kick,
	.vm_save = emu_vm_save,
	.vm_load = emu_vm_load,
	.print_stats = emu_print_stats,
};
