/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk and virtio-rng through vmon's virtio-pci, first the way a
 * driver should use them, then with every kind of garbage a guest can put in
 * a virtqueue (garbage.c).  Expects, as tests/integration/virtio-guest.sh
 * sets up: a writable disk whose sector 0 carries the pattern below and whose
 * serial is given on the command line as serial=ID, a second disk with
 * readonly=on, a third, read-only too, with packed=on (packed.c), --rng,
 * and optionally --net (net.c).  Prints one line per case
 * and "virtio: PASS".
 */
#include "guest.h"
#include "multiboot.h"
#include "vtest.h"

#define F_RO        5
#define F_BLK_SIZE  6
#define F_FLUSH     9
#define ID_BYTES    20
#define SPARE_BYTES (1u << 20)

struct blk_bufs blk_io;
uint64_t ram_end, spare_ram;
uint64_t disk_sectors;

static struct vring_pages rings[5];
static uint8_t rng_buf[64];

static const char *const outcome_names[O_COUNT] = {
	[O_OK] = "ok", [O_IOERR] = "ioerr", [O_UNSUPP] = "unsupp", [O_DROPPED] = "dropped",
	[O_NEEDS_RESET] = "needs-reset", [O_TIMEOUT] = "timeout", [O_BAD] = "bad-answer",
};

const char *outcome_name(enum outcome o)
{
	return outcome_names[o];
}

/* Sector s of the test disk: a 16-byte tag, then bytes k ^ seed. */
static void make_sector(uint8_t *buf, const char *tag, uint8_t seed)
{
	memcpy(buf, tag, 16);
	for (unsigned k = 16; k < SECTOR; k++)
		buf[k] = (uint8_t)(k ^ seed);
}

void blk_prepare(struct vdev *d, uint32_t type, uint64_t sector, uint32_t len,
		 uint16_t data_flags)
{
	uint64_t status = ptr_gpa(&blk_io.status);

	blk_io.hdr = (struct blk_hdr){ .type = type, .sector = sector };
	blk_io.status = 0xff;
	if (!len) {
		vq_desc(d, 0, ptr_gpa(&blk_io.hdr), sizeof(blk_io.hdr), D_NEXT, 1);
		vq_desc(d, 1, status, 1, D_WRITE, 0);
		return;
	}
	vq_desc(d, 0, ptr_gpa(&blk_io.hdr), sizeof(blk_io.hdr), D_NEXT, 1);
	vq_desc(d, 1, ptr_gpa(blk_io.data), len, (uint16_t)(data_flags | D_NEXT), 2);
	vq_desc(d, 2, status, 1, D_WRITE, 0);
}

/* The used element must name the chain we made available. */
static enum outcome wait_head(struct vdev *d, uint16_t head, struct vused_elem *e)
{
	switch (vq_wait(d, e)) {
	case W_RESET: return O_NEEDS_RESET;
	case W_TIMEOUT: return O_TIMEOUT;
	case W_USED: break;
	}
	if (e->id != head) {
		gprintf(NAME ": used id %u, expected %u\n", e->id, head);
		return O_BAD;
	}
	return O_OK;
}

enum outcome blk_result(struct vdev *d, uint16_t head)
{
	struct vused_elem e;
	enum outcome o = wait_head(d, head, &e);

	return o == O_OK ? blk_outcome(e.len) : o;
}

enum outcome blk_outcome(uint32_t used_len)
{
	uint8_t st = *(volatile uint8_t *)&blk_io.status;

	if (st == 0xff && used_len == 0)
		return O_DROPPED;
	switch (st) {
	case 0: return O_OK;
	case 1: return O_IOERR;
	case 2: return O_UNSUPP;
	}
	gprintf(NAME ": status byte %#x, used len %u\n", st, used_len);
	return O_BAD;
}

enum outcome rng_result(struct vdev *d, uint16_t head)
{
	struct vused_elem e;
	enum outcome o = wait_head(d, head, &e);

	return o == O_OK && !e.len ? O_DROPPED : o;
}

static enum outcome blk_request(struct vdev *d, uint32_t type, uint64_t sector, uint32_t len,
				uint16_t data_flags)
{
	blk_prepare(d, type, sector, len, data_flags);
	vq_publish(d, 0);
	return blk_result(d, 0);
}

static void expect(const char *what, enum outcome got, enum outcome want)
{
	if (got != want)
		guest_fail(NAME, "%s: %s, expected %s", what, outcome_name(got), outcome_name(want));
	gprintf(NAME ": %s: %s\n", what, outcome_name(got));
}

void blk_alive(struct vdev *d)
{
	uint8_t want[SECTOR];

	memset(blk_io.data, 0, SECTOR);
	if (blk_request(d, T_IN, 0, SECTOR, D_WRITE) != O_OK)
		guest_fail(NAME, "%s: reading sector 0 failed", d->name);
	make_sector(want, "VMON-VIRTIO-DISK", 0);
	if (memcmp(blk_io.data, want, SECTOR))
		guest_fail(NAME, "%s: sector 0 reads '%.16s...', not the test pattern", d->name,
			   (const char *)blk_io.data);
}

/* 16 random bytes: the used length must say so and they must not be zero. */
void rng_alive(struct vdev *d)
{
	static const uint8_t zero[16];
	struct vused_elem e;

	memset(rng_buf, 0, sizeof(rng_buf));
	vq_desc(d, 0, ptr_gpa(rng_buf), 16, D_WRITE, 0);
	vq_publish(d, 0);
	if (wait_head(d, 0, &e) != O_OK || e.len != 16 || !memcmp(rng_buf, zero, 16))
		guest_fail(NAME, "%s: no randomness (used len %u)", d->name, e.len);
}

static void blk_write_read(struct vdev *d)
{
	uint8_t want[SECTOR];

	make_sector(want, "WRITTEN-BY-GUEST", 0xff);
	memcpy(blk_io.data, want, SECTOR);
	expect("write sector 1", blk_request(d, T_OUT, 1, SECTOR, 0), O_OK);
	memset(blk_io.data, 0, SECTOR);
	expect("read back sector 1", blk_request(d, T_IN, 1, SECTOR, D_WRITE), O_OK);
	if (memcmp(blk_io.data, want, SECTOR))
		guest_fail(NAME, "sector 1 does not read back what was written");
}

static void blk_get_id(struct vdev *d, const char *cmdline)
{
	const char *want = cmdline_value(cmdline, "serial");
	size_t n = 0;

	while (want && want[n] && want[n] != ' ')
		n++;
	memset(blk_io.data, 0xaa, ID_BYTES);
	expect("get-id", blk_request(d, T_GET_ID, 0, ID_BYTES, D_WRITE), O_OK);
	gprintf(NAME ": serial '%.20s'\n", (const char *)blk_io.data);
	if (!want || n > ID_BYTES || memcmp(blk_io.data, want, n) ||
	    (n < ID_BYTES && blk_io.data[n]))
		guest_fail(NAME, "GET_ID does not match serial= on the command line");
}

/* An indirect table holding a legitimate read of sector 0. */
static void blk_indirect_read(struct vdev *d)
{
	struct vdesc *t = (struct vdesc *)d->ring->scratch;

	blk_prepare(d, T_IN, 0, SECTOR, D_WRITE);
	memcpy(t, d->ring->desc, 3 * sizeof(*t));
	vq_desc(d, 0, ptr_gpa(t), 3 * sizeof(*t), D_INDIRECT, 0);
	memset(blk_io.data, 0, SECTOR);
	vq_publish(d, 0);
	expect("indirect read", blk_result(d, 0), O_OK);
	if (memcmp(blk_io.data, "VMON-VIRTIO-DISK", 16))
		guest_fail(NAME, "the indirect read returned other data");
}

static void blk_legit(struct vdev *d, const char *cmdline)
{
	vdev_start(d);
	disk_sectors = vdev_cfg32(d, 0) | (uint64_t)vdev_cfg32(d, 4) << 32;
	gprintf(NAME ": %s: %llu sectors, features %#llx\n", d->name,
		(unsigned long long)disk_sectors, (unsigned long long)d->features);
	if (disk_sectors < 4 || !(d->features & (1ULL << F_FLUSH)))
		guest_fail(NAME, "disk too small or no FLUSH");
	blk_alive(d);
	gprintf(NAME ": read sector 0: ok\n");
	blk_write_read(d);
	blk_get_id(d, cmdline);
	expect("flush", blk_request(d, T_FLUSH, 0, 0, 0), O_OK);
	blk_indirect_read(d);
}

static void blk_readonly(struct vdev *ro)
{
	vdev_start(ro);
	if (!(ro->features & (1ULL << F_RO)))
		guest_fail(NAME, "the readonly=on disk does not offer VIRTIO_BLK_F_RO");
	blk_alive(ro);
	memset(blk_io.data, 0x5a, SECTOR);
	expect("readonly write", blk_request(ro, T_OUT, 2, SECTOR, 0), O_IOERR);
	blk_alive(ro);
}

/* The end of the highest available RAM below 4 GiB, from the memory map. */
static void find_ram(const struct mb_info *mbi)
{
	uint32_t at = mbi->mmap_addr, end = at + mbi->mmap_length;

	if (!(mbi->flags & MB_INFO_MMAP))
		guest_fail(NAME, "no multiboot memory map");
	while (at < end) {
		const struct mb_mmap_entry *e = phys_ptr(at);

		if (e->type == 1 && e->base + e->len <= 0x100000000ull && e->base + e->len > ram_end)
			ram_end = e->base + e->len;
		at += e->size + 4;
	}
	if (ram_end < (16u << 20))
		guest_fail(NAME, "only %#llx bytes of RAM", (unsigned long long)ram_end);
	spare_ram = ram_end - SPARE_BYTES;
	gprintf(NAME ": ram ends at %#llx\n", (unsigned long long)ram_end);
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	const struct mb_info *mbi = phys_ptr(mbi_addr);
	const char *cmdline = mb_cmdline(magic, mbi_addr);
	uint64_t common = 1ULL << F_VERSION_1 | 1ULL << F_INDIRECT_DESC;
	struct vdev blk, ro, pk, rng;
	const struct vdev *devs[] = { &blk, &ro, &pk, &rng };

	if (magic != MB_BOOT_MAGIC)
		guest_fail(NAME, "not started by a multiboot loader");
	find_ram(mbi);
	vdev_probe(&blk, "blk", VIRTIO_DEV_BLK, 0,
		   common | 1ULL << F_FLUSH | 1ULL << F_BLK_SIZE, &rings[0]);
	vdev_probe(&ro, "blk-ro", VIRTIO_DEV_BLK, 1, common | 1ULL << F_RO, &rings[1]);
	vdev_probe(&pk, "blk-packed", VIRTIO_DEV_BLK, 2,
		   common | 1ULL << F_RO | 1ULL << F_EVENT_IDX | 1ULL << F_RING_PACKED, &rings[4]);
	vdev_probe(&rng, "rng", VIRTIO_DEV_RNG, 0, common | 1ULL << F_EVENT_IDX, &rings[2]);
	blk_legit(&blk, cmdline);
	msix_tests(&blk);
	intx_tests(&blk);
	blk_readonly(&ro);
	blk_garbage(&blk);
	rnd_seed((uint32_t)parse_num(cmdline_value(cmdline, "seed"), 1));
	packed_tests(&pk, (unsigned)parse_num(cmdline_value(cmdline, "rounds"), 300));
	vdev_start(&rng);
	rng_alive(&rng);
	gprintf(NAME ": rng: 16 random bytes\n");
	rng_garbage(&rng);
	rnd_seed((uint32_t)parse_num(cmdline_value(cmdline, "seed"), 1));
	rng_hammer(&rng, (unsigned)parse_num(cmdline_value(cmdline, "rounds"), 300));
	rng_alive(&rng);
	net_tests(common, &rings[3]);
	blk_alive(&blk);
	pci_hammer(devs, 4, (unsigned)parse_num(cmdline_value(cmdline, "pci_rounds"), 1000));
	gprintf(NAME ": PASS\n");
	return GUEST_PASS;
}
