/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/rtc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapshot/snap.h"
#include "util/log.h"

enum {
	RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01,
	RTC_MINUTES = 0x02, RTC_MINUTES_ALARM = 0x03,
	RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,
};

#define REG_A_UIP   0x80
#define REG_A_RS    0x0f
#define REG_B_SET   0x80
#define REG_B_PIE   0x40
#define REG_B_AIE   0x20
#define REG_B_UIE   0x10
#define REG_B_DM    0x04    /* binary, not BCD */
#define REG_B_24H   0x02
#define REG_C_IRQF  0x80
#define REG_C_PF    0x40
#define REG_C_AF    0x20
#define REG_C_UF    0x10
#define REG_D_VRT   0x80

#define NSEC 1000000000LL
#define RTC_UIP_NS 244000LL          /* UIP rises this long before each update */
#define RTC_MAX_SECONDS 8000000000LL /* year 2223: keeps nanoseconds in an int64 */

/* Calendar fields in binary, unnormalised while the guest is setting them. */
struct rtc_fields {
	int sec, min, hour, mday, mon, year;   /* mon 1-12, year in full */
};

struct rtc {
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* wakes the interrupt thread */
	pthread_t thread;
	int has_thread, stop;
	struct bus *pio;
	struct irq_line irq;
	int irq_level;
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];
	int64_t offset;            /* RTC time (ns since the epoch) minus CLOCK_MONOTONIC */
	int64_t accounted;         /* RTC time up to which flags are set */
	struct rtc_fields frozen;  /* the clock while register B's SET bit holds it */
};

static int64_t rtc_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static int64_t rtc_now(const struct rtc *r)
{
	return rtc_mono_ns() + r->offset;
}

static int rtc_binary(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & REG_B_DM;
}

static uint8_t rtc_encode(const struct rtc *r, int v)
{
	v %= 100;
	if (v < 0)
		v = 0;
	return rtc_binary(r) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int rtc_decode(const struct rtc *r, uint8_t v)
{
	return rtc_binary(r) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_encode_hour(const struct rtc *r, int h)
{
	int h12;

	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_encode(r, h);
	h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(rtc_encode(r, h12) | (h >= 12 ? 0x80 : 0));
}

static int rtc_decode_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_decode(r, v);
	return rtc_decode(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static void rtc_fields_of(int64_t seconds, struct rtc_fields *f)
{
	time_t t = (time_t)seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	*f = (struct rtc_fields){ tm.tm_sec, tm.tm_min, tm.tm_hour, tm.tm_mday,
				  tm.tm_mon + 1, tm.tm_year + 1900 };
}

/* Normalises what the guest wrote and keeps it in the range vmon can count. */
static int64_t rtc_seconds_of(const struct rtc_fields *f)
{
	struct tm tm = { .tm_sec = f->sec, .tm_min = f->min, .tm_hour = f->hour,
			 .tm_mday = f->mday, .tm_mon = f->mon - 1, .tm_year = f->year - 1900 };
	int64_t s = (int64_t)timegm(&tm);

	if (s < 0)
		return 0;
	return s > RTC_MAX_SECONDS ? RTC_MAX_SECONDS : s;
}

static int rtc_weekday(const struct rtc_fields *f)
{
	time_t t = (time_t)rtc_seconds_of(f);
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm.tm_wday + 1;    /* 1 is Sunday */
}

/* The clock as the registers show it now. */
static void rtc_current(const struct rtc *r, int64_t now, struct rtc_fields *f)
{
	if (r->cmos[RTC_REG_B] & REG_B_SET)
		*f = r->frozen;
	else
		rtc_fields_of(now / NSEC, f);
}

static uint8_t rtc_read_time(const struct rtc *r, unsigned reg, int64_t now)
{
	struct rtc_fields f;

	rtc_current(r, now, &f);
	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(r, f.sec);
	case RTC_MINUTES:
		return rtc_encode(r, f.min);
	case RTC_HOURS:
		return rtc_encode_hour(r, f.hour);
	case RTC_DAY_OF_WEEK:
		return rtc_encode(r, rtc_weekday(&f));
	case RTC_DAY_OF_MONTH:
		return rtc_encode(r, f.mday);
	case RTC_MONTH:
		return rtc_encode(r, f.mon);
	case RTC_YEAR:
		return rtc_encode(r, f.year % 100);
	default:
		return rtc_encode(r, f.year / 100);
	}
}

static int rtc_is_time_reg(unsigned reg)
{
	return reg == RTC_SECONDS || reg == RTC_MINUTES || reg == RTC_HOURS ||
	       (reg >= RTC_DAY_OF_WEEK && reg <= RTC_YEAR) || reg == RTC_CENTURY;
}

/* Moves the clock so that it reads seconds now plus frac_ns. */
static void rtc_set_clock(struct rtc *r, int64_t seconds, int64_t frac_ns)
{
	r->offset = seconds * NSEC + frac_ns - rtc_mono_ns();
	r->accounted = rtc_now(r);
}

static void rtc_apply_field(const struct rtc *r, struct rtc_fields *f, unsigned reg, uint8_t v)
{
	switch (reg) {
	case RTC_SECONDS:
		f->sec = rtc_decode(r, v);
		break;
	case RTC_MINUTES:
		f->min = rtc_decode(r, v);
		break;
	case RTC_HOURS:
		f->hour = rtc_decode_hour(r, v);
		break;
	case RTC_DAY_OF_MONTH:
		f->mday = rtc_decode(r, v);
		break;
	case RTC_MONTH:
		f->mon = rtc_decode(r, v);
		break;
	case RTC_YEAR:
		f->year = f->year / 100 * 100 + rtc_decode(r, v);
		break;
	case RTC_CENTURY:
		f->year = rtc_decode(r, v) * 100 + f->year % 100;
		break;
	default:
		break;   /* the day of the week follows from the date */
	}
}

/*
 * While SET holds the clock the fields stay as written, however odd: Linux
 * writes the month before the day.  A running clock takes the write at once.
 */
static void rtc_write_time(struct rtc *r, unsigned reg, uint8_t v, int64_t now)
{
	struct rtc_fields f;

	if (r->cmos[RTC_REG_B] & REG_B_SET) {
		rtc_apply_field(r, &r->frozen, reg, v);
		return;
	}
	rtc_fields_of(now / NSEC, &f);
	rtc_apply_field(r, &f, reg, v);
	rtc_set_clock(r, rtc_seconds_of(&f), now % NSEC);
}

static int rtc_alarm_byte_matches(uint8_t alarm, uint8_t value)
{
	return (alarm & 0xc0) == 0xc0 || alarm == value;
}

static int rtc_alarm_matches(const struct rtc *r, int64_t seconds)
{
	struct rtc_fields f;

	rtc_fields_of(seconds, &f);
	return rtc_alarm_byte_matches(r->cmos[RTC_SECONDS_ALARM], rtc_encode(r, f.sec)) &&
	       rtc_alarm_byte_matches(r->cmos[RTC_MINUTES_ALARM], rtc_encode(r, f.min)) &&
	       rtc_alarm_byte_matches(r->cmos[RTC_HOURS_ALARM], rtc_encode_hour(r, f.hour));
}

/* Length of the periodic interval as a power of two of 32768 Hz ticks, or -1. */
static int rtc_period_shift(const struct rtc *r)
{
	int rs = r->cmos[RTC_REG_A] & REG_A_RS;

	if (!rs)
		return -1;
	/* Rates 1 and 2 repeat 8 and 9 on a 32.768 kHz time base. */
	return (rs <= 2 ? rs + 7 : rs) - 1;
}

static int64_t rtc_ticks(int64_t ns)
{
	return ns / NSEC * 32768 + ns % NSEC * 32768 / NSEC;
}

static void rtc_update_irq(struct rtc *r)
{
	uint8_t c = r->cmos[RTC_REG_C] & (REG_C_PF | REG_C_AF | REG_C_UF);
	uint8_t en = r->cmos[RTC_REG_B] & (REG_B_PIE | REG_B_AIE | REG_B_UIE);
	int level = (c & en) != 0;   /* PF/AF/UF line up with PIE/AIE/UIE */

	r->cmos[RTC_REG_C] = (uint8_t)(c | (level ? REG_C_IRQF : 0));
	if (level == r->irq_level)
		return;
	r->irq_level = level;
	irq_line_set(&r->irq, level);
}

/*
 * Sets the flags for every event between the last look and now.  Flags are
 * kept whether or not their interrupt is enabled, as on the chip.  Any alarm
 * that can match does so within a day, which bounds the search.
 */
static void rtc_account(struct rtc *r, int64_t now)
{
	int64_t last = r->accounted;
	int shift = rtc_period_shift(r);

	if (now <= last)
		return;
	r->accounted = now;
	if (shift >= 0 && (rtc_ticks(now) >> shift) != (rtc_ticks(last) >> shift))
		r->cmos[RTC_REG_C] |= REG_C_PF;
	if (!(r->cmos[RTC_REG_B] & REG_B_SET) && now / NSEC > last / NSEC) {
		int64_t s = last / NSEC + 1, end = now / NSEC;

		r->cmos[RTC_REG_C] |= REG_C_UF;
		if (end - s > 86400)
			s = end - 86400;
		for (; s <= end; s++) {
			if (rtc_alarm_matches(r, s)) {
				r->cmos[RTC_REG_C] |= REG_C_AF;
				break;
			}
		}
	}
	rtc_update_irq(r);
}

/* The next RTC time an enabled interrupt can fire, or 0 when none can. */
static int64_t rtc_next_event(const struct rtc *r, int64_t now)
{
	uint8_t b = r->cmos[RTC_REG_B];
	int shift = rtc_period_shift(r);
	int64_t next = 0;

	if (r->irq_level)
		return 0;   /* the line stays up until register C is read */
	if ((b & REG_B_PIE) && shift >= 0) {
		int64_t tick = ((rtc_ticks(now) >> shift) + 1) << shift;

		/* Round up so that the wake-up lands after the boundary. */
		next = tick / 32768 * NSEC + ((tick % 32768) * NSEC + 32767) / 32768;
	}
	if ((b & (REG_B_UIE | REG_B_AIE)) && !(b & REG_B_SET)) {
		int64_t sec = (now / NSEC + 1) * NSEC;

		if (!next || sec < next)
			next = sec;
	}
	return next;
}

static void *rtc_thread(void *arg)
{
	struct rtc *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		int64_t now = rtc_now(r), next, mono;
		struct timespec ts;

		rtc_account(r, now);
		next = rtc_next_event(r, now);
		if (!next) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		mono = next - r->offset;
		ts.tv_sec = mono / NSEC;
		ts.tv_nsec = mono % NSEC;
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void rtc_write_reg_b(struct rtc *r, uint8_t v, int64_t now)
{
	uint8_t old = r->cmos[RTC_REG_B];

	if (v & REG_B_SET)
		v &= (uint8_t)~REG_B_UIE;   /* setting SET clears UIE on the chip */
	if ((v & REG_B_SET) && !(old & REG_B_SET))
		rtc_fields_of(now / NSEC, &r->frozen);
	r->cmos[RTC_REG_B] = v;
	/* Released, the clock runs from the written time; the first update comes a second later. */
	if (!(v & REG_B_SET) && (old & REG_B_SET))
		rtc_set_clock(r, rtc_seconds_of(&r->frozen), 0);
	rtc_update_irq(r);
}

static uint8_t rtc_read_data(struct rtc *r, unsigned reg)
{
	int64_t now = rtc_now(r);
	uint8_t v;

	rtc_account(r, now);
	if (rtc_is_time_reg(reg))
		return rtc_read_time(r, reg, now);
	switch (reg) {
	case RTC_REG_A:
		v = r->cmos[RTC_REG_A] & (uint8_t)~REG_A_UIP;
		if (!(r->cmos[RTC_REG_B] & REG_B_SET) && now % NSEC >= NSEC - RTC_UIP_NS)
			v |= REG_A_UIP;
		return v;
	case RTC_REG_C:
		v = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0;
		rtc_update_irq(r);
		pthread_cond_signal(&r->cond);
		return v;
	case RTC_REG_D:
		return REG_D_VRT;
	default:
		return r->cmos[reg];
	}
}

static void rtc_write_data(struct rtc *r, unsigned reg, uint8_t v)
{
	int64_t now = rtc_now(r);

	rtc_account(r, now);
	if (rtc_is_time_reg(reg))
		rtc_write_time(r, reg, v, now);
	else if (reg == RTC_REG_A)
		r->cmos[RTC_REG_A] = v & (uint8_t)~REG_A_UIP;
	else if (reg == RTC_REG_B)
		rtc_write_reg_b(r, v, now);
	else if (reg != RTC_REG_C && reg != RTC_REG_D)
		r->cmos[reg] = v;
	pthread_cond_signal(&r->cond);
}

static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *r = opaque;
	uint64_t v;

	(void)size;
	if (offset == 0)
		return 0xff;   /* the index register is write-only */
	pthread_mutex_lock(&r->lock);
	v = rtc_read_data(r, r->index);
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct rtc *r = opaque;

	(void)size;
	pthread_mutex_lock(&r->lock);
	if (offset == 0)
		r->index = value & 0x7f;   /* bit 7 masks NMIs on a PC; nothing to mask here */
	else
		rtc_write_data(r, r->index, (uint8_t)value);
	pthread_mutex_unlock(&r->lock);
}

/* ---- snapshots: the clock as RTC time, so it runs on from there in any process ---- */

void rtc_save(struct rtc *r, struct snap_out *o)
{
	int32_t f[6];

	pthread_mutex_lock(&r->lock);
	f[0] = r->frozen.sec;
	f[1] = r->frozen.min;
	f[2] = r->frozen.hour;
	f[3] = r->frozen.mday;
	f[4] = r->frozen.mon;
	f[5] = r->frozen.year;
	snap_begin(o, "rtc", 0, 1);
	snap_put_u64(o, "time_ns", (uint64_t)rtc_now(r));
	snap_put_u64(o, "accounted_ns", (uint64_t)r->accounted);
	snap_put(o, "cmos", r->cmos, RTC_CMOS_SIZE);
	snap_put_u8(o, "index", r->index);
	snap_put(o, "frozen", f, sizeof(f));
	pthread_mutex_unlock(&r->lock);
}

static int rtc_snap_check(struct snap_sec *sec, uint64_t time, uint64_t accounted,
			  const uint8_t *cmos, uint8_t index, const int32_t *f)
{
	if (time > (uint64_t)RTC_MAX_SECONDS * NSEC || accounted > time)
		return snap_fail(sec, "time %llu ns or accounted %llu ns out of range",
				 (unsigned long long)time, (unsigned long long)accounted);
	if (index >= RTC_CMOS_SIZE || (cmos[RTC_REG_A] & REG_A_UIP) || cmos[RTC_REG_D] ||
	    (cmos[RTC_REG_C] & ~(REG_C_IRQF | REG_C_PF | REG_C_AF | REG_C_UF)))
		return snap_fail(sec, "index %#x or registers A, C, D impossible", index);
	for (int i = 0; i < 6; i++)
		if (f[i] < 0 || f[i] > 0xffff)
			return snap_fail(sec, "held clock field %d is %d", i, f[i]);
	return 0;
}

int rtc_load(struct rtc *r, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "rtc", 0, 1, NULL);
	uint8_t cmos[RTC_CMOS_SIZE], index;
	uint64_t time, accounted;
	int32_t f[6];

	if (!sec || snap_get_u64(sec, "time_ns", &time) ||
	    snap_get_u64(sec, "accounted_ns", &accounted) ||
	    snap_get(sec, "cmos", cmos, sizeof(cmos)) || snap_get_u8(sec, "index", &index) ||
	    snap_get(sec, "frozen", f, sizeof(f)))
		return -1;
	if (rtc_snap_check(sec, time, accounted, cmos, index, f))
		return -1;
	pthread_mutex_lock(&r->lock);
	r->offset = (int64_t)time - rtc_mono_ns();
	r->accounted = (int64_t)accounted;
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->index = index;
	r->frozen = (struct rtc_fields){ f[0], f[1], f[2], f[3], f[4], f[5] };
	/* Unknown level: the line is driven to what register C says. */
	r->irq_level = -1;
	rtc_update_irq(r);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static const struct bus_ops rtc_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

void rtc_set_cmos(struct rtc *r, unsigned index, uint8_t value)
{
	if (index >= RTC_CMOS_SIZE || index <= RTC_REG_D || index == RTC_CENTURY)
		return;
	pthread_mutex_lock(&r->lock);
	r->cmos[index] = value;
	pthread_mutex_unlock(&r->lock);
}

static int rtc_start_thread(struct rtc *r)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&r->thread, NULL, rtc_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_err("cannot start the RTC thread: %s", strerror(err));
		return -1;
	}
	r->has_thread = 1;
	return 0;
}

static void rtc_release(struct rtc *r)
{
	if (r->has_thread) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct rtc *rtc_new(struct bus *pio, struct irq_line irq)
{
	struct rtc *r = calloc(1, sizeof(*r));
	pthread_condattr_t attr;
	struct timespec wall;

	if (!r) {
		log_err("out of memory for the RTC");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &attr);
	pthread_condattr_destroy(&attr);
	r->pio = pio;
	r->irq = irq;
	r->cmos[RTC_REG_A] = 0x26;             /* 32.768 kHz, 1024 Hz periodic rate */
	r->cmos[RTC_REG_B] = REG_B_24H;        /* BCD, 24 hours, as PC firmware leaves it */
	clock_gettime(CLOCK_REALTIME, &wall);
	rtc_set_clock(r, wall.tv_sec, wall.tv_nsec);
	if (rtc_start_thread(r)) {
		rtc_release(r);
		return NULL;
	}
	if (bus_register(pio, RTC_PORT, 2, &rtc_ops, r, "rtc")) {
		log_err("cannot register the RTC at ports %#x-%#x", RTC_PORT, RTC_PORT + 1);
		rtc_release(r);
		return NULL;
	}
	return r;
}

void rtc_free(struct rtc *r)
{
	if (!r)
		return;
	bus_unregister(r->pio, RTC_PORT);
	rtc_release(r);
}
