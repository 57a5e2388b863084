/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A LAPIC's snapshot state beyond its register page (which travels in the
 * vCPU's x86_cpu_state): the timer as time left, not as a host deadline,
 * and the pending NMI, INIT and SIPI.
 */
#include "hw/lapic.h"
#include "hw/lapic_int.h"

#include "snapshot/snap.h"

/* The longest one-shot or periodic interval: 2^32 - 1 counts divided by 128. */
#define TIMER_MAX_NS (0xffffffffULL * 128)
/* A TSC deadline further off than this never comes; it keeps now + left in range. */
#define TSC_LEFT_MAX (1ULL << 62)

void lapic_snap_save(struct lapic *l, struct snap_out *o)
{
	uint64_t now, left = 0;

	pthread_mutex_lock(&l->lock);
	now = lapic_now();
	if (l->timer_deadline > now)
		left = l->timer_deadline - now;
	snap_begin(o, "lapic", l->id, 1);
	snap_put_u8(o, "timer_armed", l->timer_deadline != 0);
	snap_put_u64(o, "timer_left_ns", left);
	snap_put_u64(o, "timer_period_ns", l->timer_period);
	snap_put_u64(o, "tsc_deadline", l->tsc_deadline);
	snap_put_u8(o, "nmi_pending", (uint8_t)l->nmi_pending);
	snap_put_u8(o, "init_pending", (uint8_t)l->init_pending);
	snap_put_u8(o, "sipi_pending", (uint8_t)l->sipi_pending);
	snap_put_u8(o, "sipi_vector", l->sipi_vector);
	pthread_mutex_unlock(&l->lock);
}

struct lapic_snap {
	uint8_t armed, nmi, init, sipi, sipi_vector;
	uint64_t left, period, tsc_deadline;
};

/* The timer mode comes from the LVT, which the register page restored. */
static int check(struct snap_sec *sec, const struct lapic_snap *v, int tsc_mode)
{
	if ((v->armed | v->nmi | v->init | v->sipi) > 1)
		return snap_fail(sec, "a flag is neither 0 nor 1");
	if (tsc_mode && v->armed != (v->tsc_deadline != 0))
		return snap_fail(sec, "TSC-deadline timer armed %u with deadline %#llx", v->armed,
				 (unsigned long long)v->tsc_deadline);
	if (!tsc_mode && v->tsc_deadline)
		return snap_fail(sec, "a TSC deadline outside TSC-deadline mode");
	if (!tsc_mode && (v->left > TIMER_MAX_NS || v->period > TIMER_MAX_NS))
		return snap_fail(sec, "timer interval above %llu ns", TIMER_MAX_NS);
	return 0;
}

int lapic_snap_load(struct lapic *l, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "lapic", l->id, 1, NULL);
	struct lapic_snap v;
	int tsc_mode, wake;

	if (!sec || snap_get_u8(sec, "timer_armed", &v.armed) ||
	    snap_get_u64(sec, "timer_left_ns", &v.left) ||
	    snap_get_u64(sec, "timer_period_ns", &v.period) ||
	    snap_get_u64(sec, "tsc_deadline", &v.tsc_deadline) ||
	    snap_get_u8(sec, "nmi_pending", &v.nmi) || snap_get_u8(sec, "init_pending", &v.init) ||
	    snap_get_u8(sec, "sipi_pending", &v.sipi) ||
	    snap_get_u8(sec, "sipi_vector", &v.sipi_vector))
		return -1;
	pthread_mutex_lock(&l->lock);
	tsc_mode = TIMER_MODE(l->reg[R_LVT_TIMER]) == TIMER_TSC_DEADLINE;
	if (check(sec, &v, tsc_mode)) {
		pthread_mutex_unlock(&l->lock);
		return -1;
	}
	if (v.left > TSC_LEFT_MAX)
		v.left = TSC_LEFT_MAX;
	/* The timer runs on from where it was: a due one fires at the first poll. */
	l->timer_deadline = v.armed ? lapic_now() + v.left : 0;
	l->timer_period = v.period;
	l->tsc_deadline = v.tsc_deadline;
	l->nmi_pending = v.nmi;
	l->init_pending = v.init;
	l->sipi_pending = v.sipi;
	l->sipi_vector = v.sipi_vector;
	wake = v.armed || v.nmi || v.init || v.sipi;
	pthread_mutex_unlock(&l->lock);
	if (wake && l->wake)
		l->wake(l->wake_opaque);
	return 0;
}
