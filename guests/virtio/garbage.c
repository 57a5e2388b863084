/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Garbage in the virtqueues.  Every case starts from a healthy, running
 * device, breaks one rule, and must end with the request completed with an
 * error, handed back untouched ("dropped"), or DEVICE_NEEDS_RESET; after a
 * reset the guest re-initialises the device.  Either way a legitimate
 * request must work afterwards.
 */
#include "guest.h"
#include "vtest.h"

#define TOP_16     0xfffffffffffffff0ull    /* 2^64 - 16 */
#define LAPIC_BASE 0xfee00000ull

/* What a case builds: the head to publish, or one of these. */
#define PUBLISHED  (-1)                     /* the case published itself */
#define NO_REQUEST (-2)                     /* nothing to wait for: check status */

struct gcase {
	const char *name;
	unsigned allowed;                       /* 1 << outcome */
	int (*build)(struct vdev *d);
};

/* ---- virtio-blk: descriptors ------------------------------------------ */

static struct vdesc *desc(struct vdev *d, unsigned i)
{
	return &d->ring->desc[i];
}

/* A legitimate read of sector 0 as descriptors 0 (header), 1 (data), 2
 * (status), for the cases to spoil. */
static struct vdesc *read0(struct vdev *d, unsigned spoil)
{
	blk_prepare(d, T_IN, 0, SECTOR, D_WRITE);
	return desc(d, spoil);
}

static int data_beyond_ram(struct vdev *d)
{
	read0(d, 1)->addr = ram_end;
	return 0;
}

static int data_above_4g(struct vdev *d)
{
	read0(d, 1)->addr = 1ull << 32;
	return 0;
}

static int data_in_lapic(struct vdev *d)
{
	read0(d, 1)->addr = LAPIC_BASE;
	return 0;
}

static int data_in_own_bar(struct vdev *d)
{
	read0(d, 1)->addr = d->bar0;
	return 0;
}

static int header_at_top(struct vdev *d)
{
	read0(d, 0)->addr = TOP_16;
	return 0;
}

static int data_wraps(struct vdev *d)
{
	read0(d, 1)->addr = TOP_16;
	return 0;
}

static int data_straddles_ram_end(struct vdev *d)
{
	read0(d, 1)->addr = ram_end - SECTOR / 2;
	return 0;
}

static int huge_len(struct vdev *d)
{
	read0(d, 1)->len = 0xffffffff;
	return 0;
}

/* Inside RAM, but more than the disk holds. */
static int len_beyond_disk(struct vdev *d)
{
	struct vdesc *v = read0(d, 1);

	v->addr = spare_ram;
	v->len = (uint32_t)(disk_sectors + 1) * SECTOR;
	return 0;
}

static int loop(struct vdev *d)
{
	struct vdesc *v = read0(d, 2);

	v->flags |= D_NEXT;
	v->next = 1;
	return 0;
}

static int self_loop(struct vdev *d)
{
	read0(d, 1)->next = 1;
	return 0;
}

/* Every descriptor in one writable chain whose end points back: the walk
 * must give up after VQ_SIZE descriptors, whatever the direction rules say. */
static int chain_longer_than_queue(struct vdev *d)
{
	read0(d, 0);
	for (unsigned i = 1; i < VQ_SIZE; i++)
		vq_desc(d, i, ptr_gpa(blk_io.data) + i, 1, D_WRITE | D_NEXT,
			(uint16_t)(i + 1 < VQ_SIZE ? i + 1 : 1));
	return 0;
}

static int next_beyond_queue(struct vdev *d)
{
	struct vdesc *v = read0(d, 2);

	v->flags |= D_NEXT;
	v->next = VQ_SIZE;
	return 0;
}

static int zero_len_header(struct vdev *d)
{
	read0(d, 0)->len = 0;
	return 0;
}

static int zero_len_data(struct vdev *d)
{
	read0(d, 1)->len = 0;
	return 0;
}

static int zero_len_all(struct vdev *d)
{
	read0(d, 0);
	for (unsigned i = 0; i < 3; i++)
		desc(d, i)->len = 0;
	return 0;
}

/* Header, status, then the data as readable: readable after writable. */
static int write_before_read(struct vdev *d)
{
	read0(d, 0);
	vq_desc(d, 1, ptr_gpa(&blk_io.status), 1, D_WRITE | D_NEXT, 2);
	vq_desc(d, 2, ptr_gpa(blk_io.data), SECTOR, 0, 0);
	return 0;
}

static int writable_header(struct vdev *d)
{
	read0(d, 0)->flags |= D_WRITE;
	return 0;
}

/* A read whose data buffer is device-readable: nothing may be written there. */
static int read_into_readonly_buffer(struct vdev *d)
{
	read0(d, 1)->flags &= (uint16_t)~D_WRITE;
	return 0;
}

/* Header and data but nothing writable for the status. */
static int no_status(struct vdev *d)
{
	struct vdesc *v = read0(d, 1);

	v->flags = 0;
	return 0;
}

/* ---- virtio-blk: the available ring ----------------------------------- */

static int avail_idx_jump(struct vdev *d)
{
	read0(d, 0);
	vq_publish_idx(d, 0, (uint16_t)(d->avail_idx + VQ_SIZE + 1));
	return PUBLISHED;
}

static int avail_idx_backwards(struct vdev *d)
{
	read0(d, 0);
	vq_publish_idx(d, 0, (uint16_t)(d->avail_idx - 1));
	return PUBLISHED;
}

static int head_beyond_queue(struct vdev *d)
{
	read0(d, 0);
	return VQ_SIZE;
}

static int head_ffff(struct vdev *d)
{
	read0(d, 0);
	return 0xffff;
}

/* ---- virtio-blk: indirect tables -------------------------------------- */

/* The legitimate read moved into an indirect table at the scratch page. */
static struct vdesc *indirect(struct vdev *d)
{
	struct vdesc *t = (struct vdesc *)d->ring->scratch;

	read0(d, 0);
	memcpy(t, d->ring->desc, 3 * sizeof(*t));
	vq_desc(d, 0, ptr_gpa(t), 3 * sizeof(*t), D_INDIRECT, 0);
	return t;
}

static int indirect_len_odd(struct vdev *d)
{
	indirect(d);
	desc(d, 0)->len = 40;
	return 0;
}

static int indirect_len_zero(struct vdev *d)
{
	indirect(d);
	desc(d, 0)->len = 0;
	return 0;
}

static int indirect_huge(struct vdev *d)
{
	indirect(d);
	desc(d, 0)->len = 0xfffffff0;
	return 0;
}

static int indirect_beyond_ram(struct vdev *d)
{
	indirect(d);
	desc(d, 0)->addr = ram_end - 16;
	return 0;
}

static int indirect_nested(struct vdev *d)
{
	struct vdesc *t = indirect(d);

	t[1] = (struct vdesc){ ptr_gpa(t), 3 * sizeof(*t), D_INDIRECT, 0 };
	return 0;
}

static int indirect_with_next(struct vdev *d)
{
	indirect(d);
	desc(d, 0)->flags |= D_NEXT;
	desc(d, 0)->next = 1;
	return 0;
}

static int indirect_loop(struct vdev *d)
{
	struct vdesc *t = indirect(d);

	t[2].flags |= D_NEXT;
	t[2].next = 1;
	return 0;
}

static int indirect_next_beyond_table(struct vdev *d)
{
	struct vdesc *t = indirect(d);

	t[2].flags |= D_NEXT;
	t[2].next = 3;
	return 0;
}

/* ---- virtio-blk: requests the device must refuse ---------------------- */

static int sector_beyond_end(struct vdev *d)
{
	blk_prepare(d, T_IN, disk_sectors, SECTOR, D_WRITE);
	return 0;
}

static int read_past_end(struct vdev *d)
{
	blk_prepare(d, T_IN, disk_sectors - 1, 2 * SECTOR, D_WRITE);
	return 0;
}

static int write_past_end(struct vdev *d)
{
	blk_prepare(d, T_OUT, disk_sectors - 1, 2 * SECTOR, 0);
	return 0;
}

static int sector_max(struct vdev *d)
{
	blk_prepare(d, T_IN, ~0ull, SECTOR, D_WRITE);
	return 0;
}

static int len_not_sectors(struct vdev *d)
{
	blk_prepare(d, T_IN, 0, 100, D_WRITE);
	return 0;
}

static int unknown_type(struct vdev *d)
{
	blk_prepare(d, 0x7777, 0, SECTOR, D_WRITE);
	return 0;
}

static int write_zeroes_past_end(struct vdev *d)
{
	uint64_t seg[2] = { disk_sectors - 1, 2 };      /* sector; num_sectors, flags */

	blk_prepare(d, T_WRITE_ZEROES, 0, sizeof(seg), 0);
	memcpy(blk_io.data, seg, sizeof(seg));
	return 0;
}

/* ---- virtio-blk: rings the device must refuse at DRIVER_OK ------------ */

static int rings_at(struct vdev *d, uint64_t desc, uint64_t avail, uint64_t used)
{
	vdev_negotiate(d);
	vdev_set_queue(d, desc, avail, used);
	vdev_driver_ok(d);
	return NO_REQUEST;
}

static uint64_t gpa_desc(struct vdev *d) { return ptr_gpa(d->ring->desc); }
static uint64_t gpa_avail(struct vdev *d) { return ptr_gpa(d->ring->avail); }
static uint64_t gpa_used(struct vdev *d) { return ptr_gpa(d->ring->used); }

static int ring_desc_beyond_ram(struct vdev *d)
{
	return rings_at(d, ram_end, gpa_avail(d), gpa_used(d));
}

static int ring_avail_in_own_bar(struct vdev *d)
{
	return rings_at(d, gpa_desc(d), d->bar0, gpa_used(d));
}

static int ring_used_straddles_ram_end(struct vdev *d)
{
	return rings_at(d, gpa_desc(d), gpa_avail(d), ram_end - 64);
}

static int ring_desc_at_top(struct vdev *d)
{
	return rings_at(d, TOP_16 & ~0xfffull, gpa_avail(d), gpa_used(d));
}

static int ring_desc_misaligned(struct vdev *d)
{
	return rings_at(d, gpa_desc(d) + 8, gpa_avail(d), gpa_used(d));
}

static int ring_avail_misaligned(struct vdev *d)
{
	return rings_at(d, gpa_desc(d), gpa_avail(d) + 1, gpa_used(d));
}

static int ring_used_misaligned(struct vdev *d)
{
	return rings_at(d, gpa_desc(d), gpa_avail(d), gpa_used(d) + 2);
}

#define IOERR_ONLY (1u << O_IOERR)
#define MAY_BE_OK  (ANY_ERROR | 1u << O_OK)

static const struct gcase blk_cases[] = {
	{ "data-beyond-ram", ANY_ERROR, data_beyond_ram },
	{ "data-above-4g", ANY_ERROR, data_above_4g },
	{ "data-in-lapic", ANY_ERROR, data_in_lapic },
	{ "data-in-own-bar", ANY_ERROR, data_in_own_bar },
	{ "header-at-2^64-16", ANY_ERROR, header_at_top },
	{ "data-wraps-2^64", ANY_ERROR, data_wraps },
	{ "data-straddles-ram-end", ANY_ERROR, data_straddles_ram_end },
	{ "huge-len", ANY_ERROR, huge_len },
	{ "len-beyond-disk", IOERR_ONLY, len_beyond_disk },
	{ "loop", ANY_ERROR, loop },
	{ "self-loop", ANY_ERROR, self_loop },
	{ "chain-longer-than-queue", ANY_ERROR, chain_longer_than_queue },
	{ "next-beyond-queue", ANY_ERROR, next_beyond_queue },
	{ "zero-len-header", ANY_ERROR, zero_len_header },
	{ "zero-len-data", MAY_BE_OK, zero_len_data },
	{ "zero-len-all", ANY_ERROR, zero_len_all },
	{ "write-before-read", ANY_ERROR, write_before_read },
	{ "writable-header", ANY_ERROR, writable_header },
	{ "read-into-readonly-buffer", MAY_BE_OK, read_into_readonly_buffer },
	{ "no-status", ANY_ERROR, no_status },
	{ "avail-idx-jump", ANY_ERROR, avail_idx_jump },
	{ "avail-idx-backwards", ANY_ERROR, avail_idx_backwards },
	{ "head-beyond-queue", ANY_ERROR, head_beyond_queue },
	{ "head-0xffff", ANY_ERROR, head_ffff },
	{ "indirect-len-odd", ANY_ERROR, indirect_len_odd },
	{ "indirect-len-zero", ANY_ERROR, indirect_len_zero },
	{ "indirect-huge", ANY_ERROR, indirect_huge },
	{ "indirect-beyond-ram", ANY_ERROR, indirect_beyond_ram },
	{ "indirect-nested", ANY_ERROR, indirect_nested },
	{ "indirect-with-next", ANY_ERROR, indirect_with_next },
	{ "indirect-loop", ANY_ERROR, indirect_loop },
	{ "indirect-next-beyond-table", ANY_ERROR, indirect_next_beyond_table },
	{ "sector-beyond-end", IOERR_ONLY, sector_beyond_end },
	{ "read-past-end", IOERR_ONLY, read_past_end },
	{ "write-past-end", IOERR_ONLY, write_past_end },
	{ "sector-2^64-1", IOERR_ONLY, sector_max },
	{ "len-not-sectors", IOERR_ONLY, len_not_sectors },
	{ "unknown-type", 1u << O_UNSUPP, unknown_type },
	{ "write-zeroes-past-end", IOERR_ONLY, write_zeroes_past_end },
	{ "ring-desc-beyond-ram", 1u << O_NEEDS_RESET, ring_desc_beyond_ram },
	{ "ring-avail-in-own-bar", 1u << O_NEEDS_RESET, ring_avail_in_own_bar },
	{ "ring-used-straddles-ram-end", 1u << O_NEEDS_RESET, ring_used_straddles_ram_end },
	{ "ring-desc-at-top", 1u << O_NEEDS_RESET, ring_desc_at_top },
	{ "ring-desc-misaligned", 1u << O_NEEDS_RESET, ring_desc_misaligned },
	{ "ring-avail-misaligned", 1u << O_NEEDS_RESET, ring_avail_misaligned },
	{ "ring-used-misaligned", 1u << O_NEEDS_RESET, ring_used_misaligned },
};

/* ---- virtio-rng ------------------------------------------------------- */

static struct vdesc *rng_req(struct vdev *d)
{
	vq_desc(d, 0, spare_ram, 16, D_WRITE, 0);
	return desc(d, 0);
}

static int rng_beyond_ram(struct vdev *d)
{
	rng_req(d)->addr = ram_end;
	return 0;
}

static int rng_in_lapic(struct vdev *d)
{
	rng_req(d)->addr = LAPIC_BASE;
	return 0;
}

static int rng_huge_len(struct vdev *d)
{
	rng_req(d)->len = 0xffffffff;
	return 0;
}

static int rng_self_loop(struct vdev *d)
{
	struct vdesc *v = rng_req(d);

	v->flags |= D_NEXT;
	v->next = 0;
	return 0;
}

static int rng_readable_only(struct vdev *d)
{
	rng_req(d)->flags = 0;
	return 0;
}

static int rng_zero_len(struct vdev *d)
{
	rng_req(d)->len = 0;
	return 0;
}

static int rng_head_beyond_queue(struct vdev *d)
{
	rng_req(d);
	return 0x8000;
}

static int rng_avail_idx_jump(struct vdev *d)
{
	rng_req(d);
	vq_publish_idx(d, 0, (uint16_t)(d->avail_idx + 0x8000));
	return PUBLISHED;
}

static int rng_indirect_nested(struct vdev *d)
{
	struct vdesc *t = (struct vdesc *)d->ring->scratch;

	t[0] = (struct vdesc){ ptr_gpa(t), 16, D_INDIRECT, 0 };
	vq_desc(d, 0, ptr_gpa(t), 16, D_INDIRECT, 0);
	return 0;
}

static const struct gcase rng_cases[] = {
	{ "rng-beyond-ram", ANY_ERROR, rng_beyond_ram },
	{ "rng-in-lapic", ANY_ERROR, rng_in_lapic },
	{ "rng-huge-len", ANY_ERROR, rng_huge_len },
	{ "rng-self-loop", ANY_ERROR, rng_self_loop },
	{ "rng-readable-only", ANY_ERROR, rng_readable_only },
	{ "rng-zero-len", ANY_ERROR, rng_zero_len },
	{ "rng-head-beyond-queue", ANY_ERROR, rng_head_beyond_queue },
	{ "rng-avail-idx-jump", ANY_ERROR, rng_avail_idx_jump },
	{ "rng-indirect-nested", ANY_ERROR, rng_indirect_nested },
};

/* ---- running them ----------------------------------------------------- */

typedef enum outcome (*result_fn)(struct vdev *d, uint16_t head);

/* Builds and publishes one case; how the device took it. */
static enum outcome play(struct vdev *d, int (*build)(struct vdev *d), result_fn result)
{
	int head = build(d);

	if (head == NO_REQUEST)
		return vdev_status(d) & S_NEEDS_RESET ? O_NEEDS_RESET : O_BAD;
	if (head != PUBLISHED)
		vq_publish(d, (uint16_t)head);
	return result(d, (uint16_t)head);
}

/* A device that asked for a reset gets one and starts afresh. */
static void recover(struct vdev *d, enum outcome o)
{
	if (o == O_NEEDS_RESET || o == O_BAD)
		vdev_start(d);
}

static void run_cases(struct vdev *d, const struct gcase *c, unsigned n, result_fn result,
		      void (*alive)(struct vdev *d))
{
	for (unsigned i = 0; i < n; i++) {
		enum outcome o = play(d, c[i].build, result);

		gprintf(NAME ": case %s: %s\n", c[i].name, outcome_name(o));
		if (!(c[i].allowed & (1u << o)))
			guest_fail(NAME, "case %s: the device answered %s", c[i].name,
				   outcome_name(o));
		recover(d, o);
		alive(d);
	}
}

void blk_garbage(struct vdev *d)
{
	run_cases(d, blk_cases, sizeof(blk_cases) / sizeof(blk_cases[0]), blk_result, blk_alive);
}

void rng_garbage(struct vdev *d)
{
	run_cases(d, rng_cases, sizeof(rng_cases) / sizeof(rng_cases[0]), rng_result, rng_alive);
}

/* ---- random garbage for virtio-rng ------------------------------------ */

static uint64_t rnd_state;

void rnd_seed(uint32_t seed)
{
	rnd_state = 0x9e3779b97f4a7c15ull ^ seed;
}

uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Mostly the spare megabyte (the device may write there), sometimes around
 * the end of RAM, in the hole, at the top, or anywhere above 4 GiB. */
static uint64_t rnd_addr(void)
{
	uint64_t r = rnd();
	uint32_t lo = (uint32_t)(r >> 8);

	switch (r % 8) {
	case 0: return ram_end - lo % 64;
	case 1: return 0xc0000000ull + lo % 0x40000000u;
	case 2: return ~0ull - lo % 4096;
	case 3: return (r >> 8) | 1ull << 32;
	default: return spare_ram + lo % ((1u << 20) - 4096);
	}
}

static uint32_t rnd_len(void)
{
	uint64_t r = rnd();
	uint32_t lo = (uint32_t)(r >> 8);

	switch (r % 8) {
	case 0: return 0;
	case 1: return 0xffffffff;
	case 2: return lo;
	case 3: return 16 * (lo % 8);  /* indirect-sized */
	default: return lo % 4096;
	}
}

/* One round: random descriptors and ring fields, then whatever happens. */
static enum outcome hammer_round(struct vdev *d)
{
	unsigned n = 1 + (unsigned)(rnd() % 4);
	uint64_t r = rnd();

	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = (uint16_t)(rnd() % 8);

		vq_desc(d, i, rnd_addr(), rnd_len(), flags,
			(uint16_t)(rnd() % 4 ? i + 1 : (uint32_t)rnd() % (VQ_SIZE + 2)));
	}
	/* used_event and the avail flags are the guest's to scribble on. */
	d->ring->avail[0] = (uint16_t)(r >> 16);
	d->ring->avail[2 + VQ_SIZE] = (uint16_t)(r >> 32);
	if (r % 16 == 0) {
		/* Always more than the queue holds: never a legal jump. */
		vq_publish_idx(d, 0, (uint16_t)(d->avail_idx + VQ_SIZE + 1 +
						(uint32_t)(r >> 48) % (0x10000 - VQ_SIZE - 1)));
		return rng_result(d, 0);
	}
	vq_publish(d, r % 16 == 1 ? (uint16_t)(r >> 48) : 0);
	return rng_result(d, r % 16 == 1 ? (uint16_t)(r >> 48) : 0);
}

void rng_hammer(struct vdev *d, unsigned rounds)
{
	unsigned count[O_COUNT] = { 0 };

	for (unsigned i = 0; i < rounds; i++) {
		enum outcome o = hammer_round(d);

		count[o]++;
		if (o == O_TIMEOUT)
			guest_fail(NAME, "rng hammer round %u: no answer", i);
		recover(d, o);
	}
	rng_alive(d);
	gprintf(NAME ": rng hammer: %u rounds: %u needs-reset, %u dropped, %u ok, %u bad\n",
		rounds, count[O_NEEDS_RESET], count[O_DROPPED], count[O_OK], count[O_BAD]);
	if (count[O_BAD])
		guest_fail(NAME, "rng hammer: %u answers named the wrong chain", count[O_BAD]);
}
