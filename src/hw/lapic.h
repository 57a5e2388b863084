/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_LAPIC_H
#define VMON_HW_LAPIC_H

#include <stdint.h>

#include "machine/bus.h"

/*
 * The local APICs of a machine run by the software CPU, one per vCPU, on
 * one "APIC bus" that carries IPIs, IOAPIC messages and MSIs.  xAPIC MMIO
 * at 0xfee00000 (the page reaches the LAPIC of the vCPU thread accessing
 * it, see lapic_set_current) and x2APIC MSRs 0x800-0x8ff.  The timer counts
 * a 1 GHz bus clock through the divider, or a TSC deadline the caller
 * converts to host time; it is driven by the owning vCPU calling
 * lapic_timer_poll, which says when it next needs to be called.
 * Every LAPIC has its own lock; a delivery from another thread calls the
 * vCPU's wake hook after setting IRR, so a halted vCPU notices.
 */
#define LAPIC_BASE 0xfee00000ULL
#define LAPIC_SIZE 0x1000
#define LAPIC_PAGE 1024          /* the register page, as in x86_cpu_state */
#define LAPIC_MSR_TSC_DEADLINE 0x6e0

/* Delivery modes (ICR, IOAPIC redirection entries, MSI data). */
enum {
	LAPIC_DM_FIXED = 0, LAPIC_DM_LOWEST = 1, LAPIC_DM_SMI = 2, LAPIC_DM_NMI = 4,
	LAPIC_DM_INIT = 5, LAPIC_DM_SIPI = 6, LAPIC_DM_EXTINT = 7,
};

/* Destination shorthands (ICR bits 19:18). */
enum { LAPIC_SH_NONE, LAPIC_SH_SELF, LAPIC_SH_ALL, LAPIC_SH_OTHERS };

/* One interrupt message on the APIC bus. */
struct lapic_msg {
	uint32_t dest;        /* 8-bit xAPIC or 32-bit x2APIC destination */
	uint8_t vector;
	uint8_t delivery;     /* LAPIC_DM_* */
	uint8_t logical;      /* logical destination mode */
	uint8_t level;        /* assert (1) or de-assert (0); INIT de-assert is ignored */
	uint8_t trigger;      /* 1 level-triggered: the EOI goes back to the IOAPIC */
	uint8_t shorthand;    /* LAPIC_SH_* */
};

struct lapic;
struct lapic_bus;

/* ncpus LAPICs with APIC IDs 0..ncpus-1, in reset state; the MMIO page is
 * registered on mmio (NULL: none, for tests).  NULL after one error line. */
struct lapic_bus *lapic_bus_new(struct bus *mmio, int ncpus);
void lapic_bus_free(struct lapic_bus *b);
struct lapic *lapic_bus_get(struct lapic_bus *b, int index);
/* Called (without LAPIC locks held) on the EOI of a level-triggered vector. */
void lapic_bus_set_eoi_hook(struct lapic_bus *b, void (*eoi)(void *opaque, uint8_t vector),
			    void *opaque);
/* Delivers a message to every LAPIC it names; src is the sender for shorthands. */
void lapic_bus_deliver(struct lapic_bus *b, const struct lapic_msg *msg, struct lapic *src);
/* An MSI write (address 0xfeexxxxx, data) as the PCI spec encodes it. */
void lapic_bus_msi(struct lapic_bus *b, uint64_t addr, uint32_t data);

/* The hook a delivery calls so the vCPU owning l notices (from any thread). */
void lapic_set_wake(struct lapic *l, void (*wake)(void *opaque), void *opaque);
/* The LAPIC that MMIO accesses from the calling thread reach. */
void lapic_set_current(struct lapic *l);

/* RESET (bsp: LINT0 in ExtINT mode, as firmware leaves it) or INIT: all but the ID. */
void lapic_reset(struct lapic *l, int bsp);
/* IA32_APIC_BASE as the CPU now has it: enable and x2APIC mode bits. */
void lapic_set_apic_base(struct lapic *l, uint64_t apic_base);
uint32_t lapic_id(const struct lapic *l);

/* Register access by offset (xAPIC layout), as MMIO does. */
uint32_t lapic_read(struct lapic *l, uint32_t offset);
void lapic_write(struct lapic *l, uint32_t offset, uint32_t value);
/* x2APIC MSRs (0x800-0x8ff): 0, or -1 for #GP. */
int lapic_rdmsr(struct lapic *l, uint32_t index, uint64_t *value);
int lapic_wrmsr(struct lapic *l, uint32_t index, uint64_t value);
/* CR8 is TPR[7:4]. */
uint8_t lapic_get_cr8(struct lapic *l);
void lapic_set_cr8(struct lapic *l, uint8_t cr8);

/* The owning vCPU: */
/* Highest-priority deliverable vector, moved from IRR to ISR; -1 if none. */
int lapic_ack_interrupt(struct lapic *l);
/* Whether lapic_ack_interrupt would return a vector. */
int lapic_has_interrupt(struct lapic *l);
/* Whether the 8259's INTR reaches this CPU (LINT0 ExtINT, or APIC off). */
int lapic_accepts_pic(struct lapic *l);
/* Pending NMI / INIT / SIPI (the vector) taken: 1, else 0. */
int lapic_take_nmi(struct lapic *l);
int lapic_take_init(struct lapic *l);
int lapic_take_sipi(struct lapic *l, uint8_t *vector);
/* Fires the timer if due at now_ns (host CLOCK_MONOTONIC); returns when it
 * is next due, or 0 when it is not armed. */
uint64_t lapic_timer_poll(struct lapic *l, uint64_t now_ns);
/* TSC-deadline mode: tsc is what the guest wrote (0 disarms), host_ns when
 * that TSC value is reached. */
void lapic_set_tsc_deadline(struct lapic *l, uint64_t tsc, uint64_t host_ns);
uint64_t lapic_get_tsc_deadline(struct lapic *l);

/* The register page, for vcpu_get_state/vcpu_set_state (IRR, ISR, TMR included). */
void lapic_save(struct lapic *l, uint8_t page[LAPIC_PAGE]);
void lapic_load(struct lapic *l, const uint8_t page[LAPIC_PAGE]);

struct snap_out;
struct snap_in;
/*
 * The rest of a LAPIC's state, section "lapic" with its ID as instance
 * (lapic_snap.c): the timer as time left, pending NMI/INIT/SIPI, the TSC
 * deadline.  Load after lapic_load; -1 with the error recorded in in.
 */
void lapic_snap_save(struct lapic *l, struct snap_out *o);
int lapic_snap_load(struct lapic *l, struct snap_in *in);

#endif
