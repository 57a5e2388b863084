/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A disk on a packed virtqueue (VIRTIO_F_RING_PACKED, `packed=on`): reads
 * the way a driver makes them, across laps of the ring, indirect, in a ring
 * whose size is not a power of two; then garbage, each case from a healthy
 * device: it must end with an error status, a dropped request or
 * DEVICE_NEEDS_RESET (descriptors whose flags do not make them available
 * must be left alone: "ignored"), and a legitimate read must work after.
 * Then random chains for a number of rounds.
 *
 * The ring is d->ring->desc (16-byte packed descriptors), the driver's
 * event suppression d->ring->avail, the device's d->ring->used.
 */
#include <stdbool.h>

#include "guest.h"
#include "vtest.h"

#define P_AVAIL    (1u << 7)
#define P_USED     (1u << 15)
#define WRAP       0x8000u
#define LAPIC_BASE 0xfee00000ull
#define MAX_SEGS   VQ_SIZE
/* Rounds of waiting for what should be ignored: long enough for the device
 * to have looked, short next to vdev.c's wait for an answer. */
#define IGNORE_ROUNDS 20000
#define ANSWER_ROUNDS 2000000

struct pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id, flags;
};

/* One descriptor as a case wants it: flags other than AVAIL/USED, and
 * the marking the slot gets (0: the right one for its lap). */
struct pseg {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t mark;
};

#define MARK_OTHER_LAP 1
#define MARK_USED_LOOK 2

/* The driver's side: next slot to fill, next slot to look for a used
 * descriptor in (each with its wrap counter in bit 15), ring size; raw:
 * any answer with the right ID is O_OK (random requests have their status
 * byte anywhere). */
static struct {
	uint16_t avail, used, size;
	bool raw;
} pq;

static volatile struct pdesc *slot(struct vdev *d, uint16_t pos)
{
	return (volatile struct pdesc *)&d->ring->desc[pos & (WRAP - 1)];
}

static uint16_t next(uint16_t pos, unsigned n)
{
	unsigned p = (pos & (WRAP - 1)) + n;

	while (p >= pq.size) {
		p -= pq.size;
		pos ^= WRAP;
	}
	return (uint16_t)((pos & WRAP) | p);
}

static uint16_t marking(uint16_t pos, uint16_t mark)
{
	bool wrap = pos & WRAP;

	/* Used in the lap before (this lap's "used" would look answered to us). */
	if (mark == MARK_USED_LOOK)
		return wrap ? 0 : P_AVAIL | P_USED;
	if (mark == MARK_OTHER_LAP)
		wrap = !wrap;
	return wrap ? P_AVAIL : P_USED;
}

/* A fresh device on a zeroed ring of size entries (no stale flags). */
static void pstart_n(struct vdev *d, uint16_t size)
{
	struct vring_pages *r = d->ring;

	memset(r->desc, 0, sizeof(r->desc));
	r->avail[0] = r->avail[1] = 0;          /* driver events: enabled */
	vdev_negotiate(d);
	if (!(d->features & (1ULL << F_RING_PACKED)))
		guest_fail(NAME, "%s: no VIRTIO_F_RING_PACKED with packed=on", d->name);
	vdev_set_queue_n(d, size, ptr_gpa(r->desc), ptr_gpa(r->avail), ptr_gpa(r->used));
	vdev_driver_ok(d);
	if (vdev_status(d) != (S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		guest_fail(NAME, "%s: status %#x after DRIVER_OK", d->name, vdev_status(d));
	pq.avail = pq.used = WRAP;
	pq.size = size;
}

static void pstart(struct vdev *d)
{
	pstart_n(d, VQ_SIZE);
}

/* Writes n descriptors from the driver's position, buffer ID id, the
 * first one's flags last; kicks. */
static void publish(struct vdev *d, const struct pseg *s, unsigned n, uint16_t id)
{
	uint16_t pos = pq.avail, first = 0;

	for (unsigned k = 0; k < n; k++, pos = next(pos, 1)) {
		volatile struct pdesc *p = slot(d, pos);
		uint16_t f = (uint16_t)(s[k].flags | marking(pos, s[k].mark));

		p->addr = s[k].addr;
		p->len = s[k].len;
		p->id = id;
		if (k)
			p->flags = f;
		else
			first = f;
	}
	barrier();
	slot(d, pq.avail)->flags = first;
	pq.avail = pos;
	vq_kick(d);
}

/*
 * The answer to a buffer of n descriptors with ID id: its outcome, or
 * O_TIMEOUT after rounds polls with the device healthy (it ignored it).
 */
static enum outcome answer(struct vdev *d, uint16_t id, unsigned n, unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		volatile struct pdesc *p = slot(d, pq.used);
		uint16_t f = p->flags, w = pq.used & WRAP ? 1 : 0;

		if (!!(f & P_AVAIL) == w && !!(f & P_USED) == w) {
			uint32_t len;
			uint16_t got;

			barrier();
			len = p->len;
			got = p->id;
			pq.used = next(pq.used, n);
			if (got != id) {
				gprintf(NAME ": packed used id %#x, expected %#x\n", got, id);
				return O_BAD;
			}
			/* Length only counts with WRITE in the used descriptor. */
			return pq.raw ? O_OK : blk_outcome(f & D_WRITE ? len : 0);
		}
		if (vdev_status(d) & S_NEEDS_RESET)
			return O_NEEDS_RESET;
		cpu_relax();
	}
	return O_TIMEOUT;
}

/* A read of sector 0: header, data, status; nothing published. */
static unsigned read0(struct pseg *s)
{
	blk_io.hdr = (struct blk_hdr){ .type = T_IN, .sector = 0 };
	blk_io.status = 0xff;
	s[0] = (struct pseg){ ptr_gpa(&blk_io.hdr), sizeof(blk_io.hdr), D_NEXT, 0 };
	s[1] = (struct pseg){ ptr_gpa(blk_io.data), SECTOR, D_NEXT | D_WRITE, 0 };
	s[2] = (struct pseg){ ptr_gpa(&blk_io.status), 1, D_WRITE, 0 };
	return 3;
}

static void palive(struct vdev *d, uint16_t id)
{
	struct pseg s[3];
	unsigned n = read0(s);
	enum outcome o;

	memset(blk_io.data, 0, SECTOR);
	publish(d, s, n, id);
	o = answer(d, id, n, ANSWER_ROUNDS);
	if (o != O_OK || memcmp(blk_io.data, "VMON-VIRTIO-DISK", 16))
		guest_fail(NAME, "%s: packed read of sector 0: %s", d->name, outcome_name(o));
}

/* The same read through an indirect table of packed descriptors. */
static unsigned indirect(struct vdev *d, struct pseg *s)
{
	struct pdesc *t = (struct pdesc *)d->ring->scratch;
	struct pseg r[3];

	read0(r);
	for (unsigned k = 0; k < 3; k++)
		t[k] = (struct pdesc){ r[k].addr, r[k].len, 0,
				       (uint16_t)(r[k].flags & D_WRITE) };
	s[0] = (struct pseg){ ptr_gpa(t), 3 * sizeof(*t), D_INDIRECT, 0 };
	return 1;
}

/* ---- the cases: each fills s and says how many descriptors ---- */

typedef unsigned (*build_fn)(struct vdev *d, struct pseg *s);

static unsigned data_beyond_ram(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[1].addr = ram_end;
	return 3;
}

static unsigned data_in_lapic(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[1].addr = LAPIC_BASE;
	return 3;
}

static unsigned data_in_own_bar(struct vdev *d, struct pseg *s)
{
	read0(s);
	s[1].addr = d->bar0;
	return 3;
}

static unsigned huge_len(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[1].len = 0xffffffff;
	return 3;
}

static unsigned zero_len_all(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[0].len = s[1].len = s[2].len = 0;
	return 3;
}

static unsigned write_before_read(struct vdev *d, struct pseg *s)
{
	struct pseg data;

	(void)d;
	read0(s);
	data = s[1];
	s[1] = s[2];
	s[1].flags |= D_NEXT;
	s[2] = data;
	s[2].flags = 0;
	return 3;
}

static unsigned writable_header(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[0].flags |= D_WRITE;
	return 3;
}

static unsigned no_status(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[1].flags = 0;
	return 2;
}

/* Every slot of the ring chained, the last one too. */
static unsigned chain_longer_than_ring(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	for (unsigned k = 1; k < VQ_SIZE; k++)
		s[k] = (struct pseg){ ptr_gpa(blk_io.data) + k, 1, D_NEXT | D_WRITE, 0 };
	return VQ_SIZE;
}

/* The status descriptor marked for the other lap: the chain is not whole. */
static unsigned chain_partly_available(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[2].mark = MARK_OTHER_LAP;
	return 3;
}

static unsigned indirect_len_odd(struct vdev *d, struct pseg *s)
{
	indirect(d, s);
	s[0].len = 40;
	return 1;
}

static unsigned indirect_len_zero(struct vdev *d, struct pseg *s)
{
	indirect(d, s);
	s[0].len = 0;
	return 1;
}

static unsigned indirect_huge(struct vdev *d, struct pseg *s)
{
	indirect(d, s);
	s[0].len = 0xfffffff0;
	return 1;
}

static unsigned indirect_beyond_ram(struct vdev *d, struct pseg *s)
{
	indirect(d, s);
	s[0].addr = ram_end - 16;
	return 1;
}

static unsigned indirect_with_next(struct vdev *d, struct pseg *s)
{
	indirect(d, s);
	s[0].flags |= D_NEXT;
	s[1] = (struct pseg){ ptr_gpa(&blk_io.status), 1, D_WRITE, 0 };
	return 2;
}

static unsigned indirect_in_chain(struct vdev *d, struct pseg *s)
{
	indirect(d, s);
	s[1] = s[0];
	s[0] = (struct pseg){ ptr_gpa(&blk_io.hdr), sizeof(blk_io.hdr), D_NEXT, 0 };
	return 2;
}

/* INDIRECT inside a table is reserved, ignored: the entry is a plain buffer. */
static unsigned indirect_nested(struct vdev *d, struct pseg *s)
{
	struct pdesc *t = (struct pdesc *)d->ring->scratch;

	indirect(d, s);
	t[1].flags |= D_INDIRECT;
	return 1;
}

static unsigned indirect_read(struct vdev *d, struct pseg *s)
{
	return indirect(d, s);
}

/* Flags that say "used" (in the lap before), or "available" in the other
 * lap: not a buffer. */
static unsigned used_looking(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[0].mark = MARK_USED_LOOK;
	return 3;
}

static unsigned other_lap(struct vdev *d, struct pseg *s)
{
	(void)d;
	read0(s);
	s[0].mark = s[1].mark = s[2].mark = MARK_OTHER_LAP;
	return 3;
}

#define IGNORED     (1u << O_TIMEOUT)
#define OK_ONLY     (1u << O_OK)
#define MAY_BE_OK   (ANY_ERROR | 1u << O_OK)

static const struct pcase {
	const char *name;
	unsigned allowed;
	build_fn build;
	uint16_t id;
} cases[] = {
	{ "packed-data-beyond-ram", ANY_ERROR, data_beyond_ram, 1 },
	{ "packed-data-in-lapic", ANY_ERROR, data_in_lapic, 2 },
	{ "packed-data-in-own-bar", ANY_ERROR, data_in_own_bar, 3 },
	{ "packed-huge-len", ANY_ERROR, huge_len, 4 },
	{ "packed-zero-len-all", ANY_ERROR, zero_len_all, 5 },
	{ "packed-write-before-read", ANY_ERROR, write_before_read, 6 },
	{ "packed-writable-header", ANY_ERROR, writable_header, 7 },
	{ "packed-no-status", ANY_ERROR, no_status, 8 },
	{ "packed-chain-longer-than-ring", ANY_ERROR, chain_longer_than_ring, 9 },
	{ "packed-chain-partly-available", ANY_ERROR, chain_partly_available, 10 },
	{ "packed-indirect-len-odd", ANY_ERROR, indirect_len_odd, 11 },
	{ "packed-indirect-len-zero", ANY_ERROR, indirect_len_zero, 12 },
	{ "packed-indirect-huge", ANY_ERROR, indirect_huge, 13 },
	{ "packed-indirect-beyond-ram", ANY_ERROR, indirect_beyond_ram, 14 },
	{ "packed-indirect-with-next", ANY_ERROR, indirect_with_next, 15 },
	{ "packed-indirect-in-chain", ANY_ERROR, indirect_in_chain, 16 },
	{ "packed-indirect-nested", MAY_BE_OK, indirect_nested, 17 },
	{ "packed-indirect-read", OK_ONLY, indirect_read, 18 },
	{ "packed-id-0xffff", OK_ONLY, (build_fn)0, 0xffff },
	{ "packed-used-looking", IGNORED, used_looking, 19 },
	{ "packed-other-lap", IGNORED, other_lap, 20 },
};

static unsigned legit(struct vdev *d, struct pseg *s)
{
	(void)d;
	return read0(s);
}

static const char *result_name(enum outcome o)
{
	return o == O_TIMEOUT ? "ignored" : outcome_name(o);
}

static void run_case(struct vdev *d, const struct pcase *c)
{
	struct pseg s[MAX_SEGS];
	unsigned n = (c->build ? c->build : legit)(d, s);
	enum outcome o;

	publish(d, s, n, c->id);
	o = answer(d, c->id, n, c->allowed == IGNORED ? IGNORE_ROUNDS : ANSWER_ROUNDS);
	gprintf(NAME ": case %s: %s\n", c->name, result_name(o));
	if (!(c->allowed & (1u << o)))
		guest_fail(NAME, "case %s: the device answered %s", c->name, result_name(o));
	/* Out of step with the device (it asked for a reset, or the driver
	 * moved on past what the device left alone): start afresh. */
	if (o == O_NEEDS_RESET || o == O_TIMEOUT || o == O_BAD)
		pstart(d);
	palive(d, 0);
}

/* Rings the device must refuse at DRIVER_OK. */
static void ring_case(struct vdev *d, const char *name, uint64_t desc, uint64_t drv, uint64_t dev)
{
	vdev_negotiate(d);
	vdev_set_queue(d, desc, drv, dev);
	vdev_driver_ok(d);
	gprintf(NAME ": case %s: %s\n", name,
		vdev_status(d) & S_NEEDS_RESET ? "needs-reset" : "accepted");
	if (!(vdev_status(d) & S_NEEDS_RESET))
		guest_fail(NAME, "case %s: the device took the rings", name);
	pstart(d);
	palive(d, 0);
}

/* Random chains: random lengths, addresses, flags after the first, IDs. */
static enum outcome hammer_round(struct vdev *d)
{
	struct pseg s[4];
	unsigned n = 1 + (unsigned)(rnd() % 4);
	uint16_t id = (uint16_t)rnd();

	for (unsigned k = 0; k < n; k++) {
		uint64_t r = rnd();

		s[k] = (struct pseg){
			r % 4 ? spare_ram + (r >> 8) % ((1u << 20) - 4096) : (r >> 8) | 1ull << 32,
			r % 8 ? (uint32_t)(r >> 40) % 4096 : (uint32_t)(r >> 16),
			(uint16_t)((k + 1 < n ? D_NEXT : 0) | (r >> 32) % 8),
			(uint16_t)(k && r % 16 == 0 ? MARK_OTHER_LAP : 0),
		};
		s[k].flags = (uint16_t)((s[k].flags & ~D_NEXT) | (k + 1 < n ? D_NEXT : 0));
	}
	blk_io.status = 0xff;
	publish(d, s, n, id);
	return answer(d, id, n, ANSWER_ROUNDS);
}

static void hammer(struct vdev *d, unsigned rounds)
{
	unsigned count[O_COUNT] = { 0 };

	for (unsigned i = 0; i < rounds; i++) {
		enum outcome o;

		pq.raw = true;
		o = hammer_round(d);
		pq.raw = false;

		count[o]++;
		if (o == O_TIMEOUT || o == O_BAD)
			guest_fail(NAME, "packed hammer round %u: %s", i, result_name(o));
		if (o == O_NEEDS_RESET)
			pstart(d);
	}
	palive(d, 0);
	gprintf(NAME ": packed hammer: %u rounds: %u needs-reset, %u answered\n",
		rounds, count[O_NEEDS_RESET], count[O_OK]);
}

void packed_tests(struct vdev *d, unsigned hammer_rounds)
{
	uint64_t desc = ptr_gpa(d->ring->desc), drv = ptr_gpa(d->ring->avail);

	pstart(d);
	/* Three laps of the ring, reads of three descriptors each. */
	for (uint16_t i = 0; i < VQ_SIZE; i++)
		palive(d, i);
	gprintf(NAME ": packed reads over 3 laps: ok\n");
	/* A ring of 12: not a power of two, and laps end inside chains. */
	pstart_n(d, 12);
	for (uint16_t i = 0; i < 10; i++)
		palive(d, i);
	gprintf(NAME ": packed ring of 12: ok\n");
	pstart(d);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(d, &cases[i]);
	ring_case(d, "packed-ring-misaligned", desc + 8, drv, ptr_gpa(d->ring->used));
	ring_case(d, "packed-driver-area-misaligned", desc, drv + 2, ptr_gpa(d->ring->used));
	ring_case(d, "packed-device-area-beyond-ram", desc, drv, ram_end);
	hammer(d, hammer_rounds);
}
