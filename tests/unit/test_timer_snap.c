/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Save/load of the timers (8254 PIT, LAPIC timer and pending events): a
 * restored timer continues from the count it had when saved, however long
 * the load came after, and fires at the same time relative to the load;
 * a timer due but not yet looked at is not lost; hostile streams are
 * refused with an error.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "hw/lapic.h"
#include "hw/pit.h"
#include "machine/bus.h"
#include "snap_harness.h"
#include "test.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- PIT ---- */

struct pit_board {
	struct irq_chip chip;        /* first */
	atomic_int level, rises;
	atomic_ullong first_rise_ns;
	struct bus *pio;
	struct pit *pit;
};

static void rec_set_level(struct irq_chip *chip, unsigned gsi, int level)
{
	struct pit_board *b = (struct pit_board *)chip;

	if (gsi)
		return;
	if (level && !atomic_load(&b->level) && atomic_fetch_add(&b->rises, 1) == 0)
		atomic_store(&b->first_rise_ns, now_ns());
	atomic_store(&b->level, level);
}

static void *pit_board(void)
{
	struct pit_board *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->chip.set_level = rec_set_level;
	b->pio = bus_new("pio");
	b->pit = b->pio ? pit_new(b->pio, (struct irq_line){ &b->chip, 0 }) : NULL;
	if (!b->pit) {
		bus_free(b->pio);
		free(b);
		return NULL;
	}
	return b;
}

static void pit_board_free(void *p)
{
	struct pit_board *b = p;

	pit_free(b->pit);
	bus_free(b->pio);
	free(b);
}

static int pit_board_load(void *p, struct snap_in *in)
{
	return pit_load(((struct pit_board *)p)->pit, in);
}

static void out(struct pit_board *b, uint16_t port, uint8_t v)
{
	bus_write(b->pio, port, 1, v);
}

static uint8_t inb(struct pit_board *b, uint16_t port)
{
	return (uint8_t)bus_read(b->pio, port, 1);
}

/* The latched count of channel n, read as lobyte/hibyte. */
static uint16_t latched(struct pit_board *b, int n)
{
	uint16_t lo;

	out(b, 0x43, (uint8_t)(n << 6));
	lo = inb(b, (uint16_t)(0x40 + n));
	return (uint16_t)(lo | inb(b, (uint16_t)(0x40 + n)) << 8);
}

static void pit_poke(void *p)
{
	struct pit_board *b = p;

	for (int n = 0; n < 3; n++)
		for (int i = 0; i < 4; i++)
			inb(b, (uint16_t)(0x40 + n));
	inb(b, 0x61);
	out(b, 0x43, 0xee);                  /* read-back, all channels */
	for (int n = 0; n < 3; n++)
		inb(b, (uint16_t)(0x40 + n));
	sleep_ms(1);
}

/* Channel 2 counted 5 ms and stopped by its gate; channel 1's count latched, half read. */
static void pit_drive_static(struct pit_board *b)
{
	out(b, 0x61, 0x01);
	out(b, 0x43, 0xb0);                  /* ch2, lo/hi, mode 0 */
	out(b, 0x42, 0x00);
	out(b, 0x42, 0x80);
	sleep_ms(5);
	out(b, 0x61, 0x00);
	out(b, 0x43, 0x74);                  /* ch1, lo/hi, mode 2 */
	out(b, 0x41, 0x34);
	out(b, 0x41, 0x12);
	out(b, 0x43, 0x40);                  /* latch ch1 */
	inb(b, 0x41);
}

static void test_pit_counts_and_latches(void)
{
	struct pit_board *a = pit_board(), *b = pit_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	struct snap_in *in;
	uint8_t hi;

	CHECK(a && b);
	pit_drive_static(a);
	pit_save(a->pit, o);
	CHECK(!saved_take(&s, o));
	sleep_ms(20);
	in = saved_parse(&s);
	CHECK(in && pit_load(b->pit, in) == 0);
	snap_in_free(in);
	hi = inb(b, 0x41);                   /* the rest of the latch */
	CHECK_EQ(hi, inb(a, 0x41));
	CHECK_EQ(latched(b, 2), latched(a, 2));   /* stopped: exactly the same */
	CHECK(latched(a, 2) < 0x8000 - 5000);
	CHECK_EQ(inb(b, 0x61) & 0x2f, inb(a, 0x61) & 0x2f);
	out(a, 0x43, 0xe8);                  /* read-back status of ch2 */
	out(b, 0x43, 0xe8);
	CHECK_EQ(inb(b, 0x42), inb(a, 0x42));
	pit_board_free(a);
	pit_board_free(b);
}

/* The time ticks of the PIT take, rounded down. */
static uint64_t pit_ns(uint64_t ticks)
{
	return ticks * 1000000000ULL / PIT_HZ;
}

/*
 * Channel 0, mode 0, 55 ms: saved about 10 ms in, loaded 100 ms later.  It
 * counts on from the saved count and fires when that runs out, not at once
 * (as the host clock would have it) and not a whole period later.
 */
static void test_pit_one_shot_continues(void)
{
	struct pit_board *a = pit_board(), *b = pit_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	struct snap_in *in;
	uint64_t loaded, t0, saving, t2, loading;
	uint16_t at_save, count;

	CHECK(a && b);
	out(a, 0x43, 0x30);
	out(a, 0x40, 0xff);
	out(a, 0x40, 0xff);
	sleep_ms(10);
	t0 = now_ns();
	at_save = latched(a, 0);
	pit_save(a->pit, o);
	saving = now_ns() - t0;
	CHECK(!saved_take(&s, o));
	sleep_ms(100);
	in = saved_parse(&s);
	t2 = now_ns();
	CHECK(in && pit_load(b->pit, in) == 0);
	snap_in_free(in);
	loaded = now_ns();
	count = latched(b, 0);
	loading = now_ns() - t2;
	/* It counted while the save and the load took (however long), not in between. */
	CHECK(count <= at_save && pit_ns(at_save - count) < saving + loading + 1000000ULL);
	for (int i = 0; !atomic_load(&b->rises) && i < 500; i++)
		sleep_ms(1);
	CHECK_EQ(atomic_load(&b->rises), 1);
	CHECK(atomic_load(&b->first_rise_ns) + 1000000ULL >= loaded + pit_ns(count));
	CHECK_EQ(atomic_load(&b->level), 1);             /* mode 0 holds it */
	pit_board_free(a);
	pit_board_free(b);
}

/* Fired before the save: the line is high after the load, and stays one edge. */
static void test_pit_fired_level_and_periodic(void)
{
	struct pit_board *a = pit_board(), *b = pit_board(), *c = pit_board();
	struct snap_out *o = snap_out_new();
	static struct saved s;
	struct snap_in *in;

	CHECK(a && b && c);
	out(a, 0x43, 0x30);
	out(a, 0x40, 100);
	out(a, 0x40, 0);
	for (int i = 0; i < 500 && !atomic_load(&a->level); i++)
		sleep_ms(1);
	CHECK_EQ(atomic_load(&a->level), 1);
	pit_save(a->pit, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && pit_load(b->pit, in) == 0);
	snap_in_free(in);
	CHECK_EQ(atomic_load(&b->level), 1);
	sleep_ms(20);
	CHECK_EQ(atomic_load(&b->rises), 1);
	/* Mode 2 at 1 kHz: the restored one ticks on. */
	out(a, 0x43, 0x34);
	out(a, 0x40, 0xa9);
	out(a, 0x40, 0x04);
	o = snap_out_new();
	pit_save(a->pit, o);
	CHECK(!saved_take(&s, o));
	in = saved_parse(&s);
	CHECK(in && pit_load(c->pit, in) == 0);
	snap_in_free(in);
	sleep_ms(50);
	CHECK(atomic_load(&c->rises) >= 10);
	pit_board_free(a);
	pit_board_free(b);
	pit_board_free(c);
}

static void test_pit_hostile(void)
{
	const struct harness_target t = { pit_board, pit_board_load, pit_poke, pit_board_free,
					  NULL };
	struct pit_board *a = pit_board();
	struct snap_out *o = snap_out_new();
	static struct harness_section sec;
	static struct saved s, bad;
	uint8_t ch[28];
	const char *why;

	CHECK(a);
	pit_drive_static(a);
	out(a, 0x43, 0x34);
	out(a, 0x40, 0x00);
	out(a, 0x40, 0x10);
	pit_save(a->pit, o);
	CHECK(!saved_take(&s, o));
	pit_board_free(a);
	why = harness_hostile(&t, &s, "pit", 0);
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
	/* A loaded counter with a reload of 0 would divide by zero. */
	CHECK(!harness_find(&s, "pit", 0, &sec));
	memcpy(ch, harness_field(&sec, "ch0")->data, 28);
	memset(ch + 16, 0, 4);
	CHECK(!harness_encode(&sec, 1, -1, 0, ch, 28, &bad));
	CHECK_EQ(harness_try(&t, &bad), 0);
}

/* ---- LAPIC ---- */

#define SVR   0x0f0
#define LVTT  0x320
#define TMICT 0x380
#define TMCCT 0x390
#define TDCR  0x3e0

struct lapic_board {
	struct lapic_bus *bus;
	int wakes;
};

static void count_wake(void *opaque)
{
	((struct lapic_board *)opaque)->wakes++;
}

static struct lapic_board *lapic_board(int n)
{
	struct lapic_board *b = calloc(1, sizeof(*b));

	if (!b || !(b->bus = lapic_bus_new(NULL, n))) {
		free(b);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		lapic_set_wake(lapic_bus_get(b->bus, i), count_wake, b);
		lapic_write(lapic_bus_get(b->bus, i), SVR, 0x1ff);
	}
	return b;
}

static void lapic_board_free(struct lapic_board *b)
{
	lapic_bus_free(b->bus);
	free(b);
}

static struct lapic *L(struct lapic_board *b, int i)
{
	return lapic_bus_get(b->bus, i);
}

/*
 * What the accelerator does: the pages through the vCPU state, then the
 * sections; the load delay_ms after the save.
 */
static int lapic_transfer_after(struct lapic_board *from, struct lapic_board *to, int n,
				struct saved *s, long delay_ms, uint64_t *loaded_at)
{
	static uint8_t page[8][LAPIC_PAGE];
	struct snap_out *o = snap_out_new();
	struct snap_in *in;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		lapic_save(L(from, i), page[i]);
		lapic_snap_save(L(from, i), o);
	}
	if (saved_take(s, o) || !(in = saved_parse(s)))
		return -1;
	sleep_ms(delay_ms);
	*loaded_at = now_ns();
	for (int i = 0; i < n && !rc; i++) {
		lapic_load(L(to, i), page[i]);
		rc = lapic_snap_load(L(to, i), in);
	}
	snap_in_free(in);
	return rc;
}

/* timer_left_ns of LAPIC id in a saved stream. */
static uint64_t saved_left(const struct saved *s, uint32_t id)
{
	static struct harness_section sec;
	const struct harness_field *f;
	uint64_t v = 0;

	if (!harness_find(s, "lapic", id, &sec) && (f = harness_field(&sec, "timer_left_ns")))
		memcpy(&v, f->data, 8);
	return v;
}

static int lapic_transfer(struct lapic_board *from, struct lapic_board *to, int n,
			  struct saved *s)
{
	uint64_t loaded_at;

	return lapic_transfer_after(from, to, n, s, 0, &loaded_at);
}

static void test_lapic_timer_and_events(void)
{
	struct lapic_board *a = lapic_board(2), *b = lapic_board(2);
	struct lapic_msg nmi = { .dest = 1, .delivery = LAPIC_DM_NMI };
	struct lapic_msg init = { .dest = 1, .delivery = LAPIC_DM_INIT, .level = 1 };
	struct lapic_msg sipi = { .dest = 1, .vector = 0x9a, .delivery = LAPIC_DM_SIPI };
	static struct saved s;
	uint64_t next, now, left, loaded_at, read_at;
	uint32_t current;
	uint8_t vec = 0;

	CHECK(a && b);
	lapic_write(L(a, 0), TDCR, 0x0b);                /* divide by 1: 1 ns a count */
	lapic_write(L(a, 0), LVTT, 0x40);
	lapic_write(L(a, 0), TMICT, 100000000);          /* 100 ms */
	lapic_bus_deliver(a->bus, &nmi, NULL);
	lapic_bus_deliver(a->bus, &init, NULL);
	lapic_bus_deliver(a->bus, &sipi, NULL);
	sleep_ms(10);
	CHECK(!lapic_transfer_after(a, b, 2, &s, 50, &loaded_at));
	now = now_ns();
	next = lapic_timer_poll(L(b, 0), now);
	/* From the load on, not from the host clock (50 ms less). */
	left = saved_left(&s, 0);
	CHECK(left > 30000000ULL && left < 100000000ULL);
	CHECK(next >= loaded_at + left && next <= now + left);
	current = lapic_read(L(b, 0), TMCCT);
	read_at = now_ns();
	CHECK(current + (read_at - loaded_at) >= left);
	CHECK_EQ(lapic_read(L(b, 0), TMICT), 100000000);
	CHECK(lapic_take_nmi(L(b, 1)));
	CHECK(lapic_take_init(L(b, 1)));
	CHECK(lapic_take_sipi(L(b, 1), &vec));
	CHECK_EQ(vec, 0x9a);
	CHECK(!lapic_take_nmi(L(b, 0)));
	CHECK(lapic_timer_poll(L(b, 0), next) == 0);     /* fired: one-shot */
	CHECK_EQ(lapic_ack_interrupt(L(b, 0)), 0x40);
	lapic_board_free(a);
	lapic_board_free(b);
}

/* Due before the save but not yet polled: the page alone would lose it. */
static void test_lapic_due_timer_kept(void)
{
	struct lapic_board *a = lapic_board(1), *b = lapic_board(1), *c = lapic_board(1);
	static uint8_t page[LAPIC_PAGE];
	static struct saved s;

	CHECK(a && b && c);
	lapic_write(L(a, 0), TDCR, 0x0b);
	lapic_write(L(a, 0), LVTT, 0x41);
	lapic_write(L(a, 0), TMICT, 1000);
	sleep_ms(2);
	lapic_save(L(a, 0), page);
	lapic_load(L(c, 0), page);
	CHECK_EQ(lapic_timer_poll(L(c, 0), now_ns()), 0);
	CHECK(!lapic_has_interrupt(L(c, 0)));
	CHECK(!lapic_transfer(a, b, 1, &s));
	CHECK_EQ(lapic_timer_poll(L(b, 0), now_ns()), 0);
	CHECK_EQ(lapic_ack_interrupt(L(b, 0)), 0x41);
	/* Periodic, 5 ms: the period comes along. */
	lapic_write(L(a, 0), LVTT, 0x20042);
	lapic_write(L(a, 0), TMICT, 5000000);
	CHECK(!lapic_transfer(a, b, 1, &s));
	{
		uint64_t now = now_ns(), next = lapic_timer_poll(L(b, 0), now);

		CHECK(next > now && next <= now + 5000000ULL);
		next = lapic_timer_poll(L(b, 0), next);
		CHECK(next > now + 5000000ULL && next <= now + 10000000ULL);
		CHECK_EQ(lapic_ack_interrupt(L(b, 0)), 0x42);
	}
	lapic_board_free(a);
	lapic_board_free(b);
	lapic_board_free(c);
}

static void test_lapic_tsc_deadline(void)
{
	struct lapic_board *a = lapic_board(1), *b = lapic_board(1);
	static struct saved s;
	uint64_t now, next, left, loaded_at;

	CHECK(a && b);
	lapic_write(L(a, 0), LVTT, 0x40043);             /* TSC-deadline mode */
	lapic_set_tsc_deadline(L(a, 0), 123456789, now_ns() + 50000000ULL);
	CHECK(!lapic_transfer_after(a, b, 1, &s, 30, &loaded_at));
	CHECK_EQ(lapic_get_tsc_deadline(L(b, 0)), 123456789);
	now = now_ns();
	next = lapic_timer_poll(L(b, 0), now);
	left = saved_left(&s, 0);
	CHECK(left > 0 && left <= 50000000ULL);
	CHECK(next >= loaded_at + left && next <= now + left);
	lapic_timer_poll(L(b, 0), next);
	CHECK_EQ(lapic_get_tsc_deadline(L(b, 0)), 0);    /* fired and disarmed */
	CHECK_EQ(lapic_ack_interrupt(L(b, 0)), 0x43);
	lapic_board_free(a);
	lapic_board_free(b);
}

/* The hostile run loads into LAPICs whose page (LVT timer mode) came first. */
static uint8_t hostile_page[LAPIC_PAGE];

static void *lapic_target(void)
{
	struct lapic_board *b = lapic_board(1);

	if (b)
		lapic_load(L(b, 0), hostile_page);
	return b;
}

static int lapic_target_load(void *p, struct snap_in *in)
{
	return lapic_snap_load(L(p, 0), in);
}

static void lapic_poke(void *p)
{
	struct lapic *l = L(p, 0);
	uint8_t v;

	lapic_timer_poll(l, now_ns());
	lapic_timer_poll(l, now_ns() + (1ULL << 40));
	lapic_read(l, TMCCT);
	lapic_ack_interrupt(l);
	lapic_take_nmi(l);
	lapic_take_init(l);
	lapic_take_sipi(l, &v);
	lapic_get_tsc_deadline(l);
}

static void lapic_target_free(void *p)
{
	lapic_board_free(p);
}

static void test_lapic_hostile(void)
{
	const struct harness_target t = { lapic_target, lapic_target_load, lapic_poke,
					  lapic_target_free, NULL };
	struct lapic_board *a = lapic_board(1);
	struct lapic_msg sipi = { .dest = 0, .vector = 0x10, .delivery = LAPIC_DM_SIPI };
	static struct saved s;
	const char *why;

	CHECK(a);
	/* Periodic mode: then the intervals are bounded. */
	lapic_write(L(a, 0), LVTT, 0x20040);
	lapic_write(L(a, 0), TMICT, 3000000);
	lapic_bus_deliver(a->bus, &sipi, NULL);
	lapic_save(L(a, 0), hostile_page);
	{
		struct snap_out *o = snap_out_new();

		lapic_snap_save(L(a, 0), o);
		CHECK(!saved_take(&s, o));
	}
	why = harness_hostile(&t, &s, "lapic", 0);
	if (why)
		printf("  periodic: %s\n", why);
	CHECK(!why);
	lapic_write(L(a, 0), LVTT, 0x40040);
	lapic_set_tsc_deadline(L(a, 0), 1000, now_ns() + 1000000ULL);
	lapic_save(L(a, 0), hostile_page);
	{
		struct snap_out *o = snap_out_new();

		lapic_snap_save(L(a, 0), o);
		CHECK(!saved_take(&s, o));
	}
	why = harness_hostile(&t, &s, "lapic", 0);
	if (why)
		printf("  TSC deadline: %s\n", why);
	CHECK(!why);
	lapic_board_free(a);
}

int main(void)
{
	RUN(test_pit_counts_and_latches);
	RUN(test_pit_one_shot_continues);
	RUN(test_pit_fired_level_and_periodic);
	RUN(test_pit_hostile);
	RUN(test_lapic_timer_and_events);
	RUN(test_lapic_due_timer_kept);
	RUN(test_lapic_tsc_deadline);
	RUN(test_lapic_hostile);
	return TEST_EXIT();
}
