/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_HW_LAPIC_INT_H
#define VMON_HW_LAPIC_INT_H

/* The LAPIC model's insides, shared by lapic.c and its snapshot code (lapic_snap.c). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "hw/lapic.h"

/* Register indexes: xAPIC offset >> 4, which is also x2APIC MSR - 0x800. */
enum {
	R_ID = 0x02, R_VER = 0x03, R_TPR = 0x08, R_APR = 0x09, R_PPR = 0x0a,
	R_EOI = 0x0b, R_RRD = 0x0c, R_LDR = 0x0d, R_DFR = 0x0e, R_SVR = 0x0f,
	R_ISR = 0x10, R_TMR = 0x18, R_IRR = 0x20, R_ESR = 0x28, R_CMCI = 0x2f,
	R_ICR = 0x30, R_ICR2 = 0x31, R_LVT_TIMER = 0x32, R_LVT_THERM = 0x33,
	R_LVT_PERF = 0x34, R_LINT0 = 0x35, R_LINT1 = 0x36, R_LVT_ERR = 0x37,
	R_TMICT = 0x38, R_TMCCT = 0x39, R_TDCR = 0x3e, R_SELF_IPI = 0x3f,
	R_COUNT = 0x40,
};

#define TIMER_MODE(lvt) (((lvt) >> 17) & 3)
enum { TIMER_ONESHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE };

struct lapic {
	pthread_mutex_t lock;
	struct lapic_bus *bus;
	uint32_t id;
	uint32_t reg[R_COUNT];
	int hw_enabled, x2apic;
	int nmi_pending, init_pending, sipi_pending;
	uint8_t sipi_vector;
	uint64_t timer_deadline;    /* host ns; 0 when not armed */
	uint64_t timer_period;      /* ns, for periodic mode */
	uint64_t tsc_deadline;      /* what the guest wrote to MSR 0x6e0 */
	void (*wake)(void *opaque);
	void *wake_opaque;
};

struct lapic_bus {
	struct bus *mmio;
	int n;
	struct lapic *l;
	void (*eoi)(void *opaque, uint8_t vector);
	void *eoi_opaque;
};

static inline uint64_t lapic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
