/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net's receive queue (queue 0 only; transmit stays off), with
 * mergeable receive buffers.  tests/integration/virtio-guest.sh puts a
 * sender on the tap's far side that broadcasts a frame every 20 ms, so
 * frames keep arriving while the guest offers buffers too short for them.
 * The device must wait for more buffers or drop the frame, and a reset must
 * still come back.
 */
#include "guest.h"
#include "pci.h"
#include "vtest.h"

#define F_MRG_RXBUF  15
#define RX_BUF_LEN   2048
#define RX_BUFS      4
#define NET_HDR_LEN  12
/* Long enough for several frames at one per 20 ms (1 GHz under emu). */
#define FRAME_CYCLES (1ull << 28)

static uint8_t rx_buf[RX_BUFS][RX_BUF_LEN];

static void delay(uint64_t cycles)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < cycles)
		cpu_relax();
}

/* n one-byte buffers in the spare megabyte, one chain each. */
static void post_short(struct vdev *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		vq_desc(d, i, spare_ram + 64 * i, 1, D_WRITE, 0);
		vq_publish(d, (uint16_t)i);
	}
}

/* Real buffers as descriptors first.. onwards. */
static void post_rx(struct vdev *d, unsigned first)
{
	for (unsigned i = 0; i < RX_BUFS; i++) {
		vq_desc(d, first + i, ptr_gpa(rx_buf[i]), RX_BUF_LEN, D_WRITE, 0);
		vq_publish(d, (uint16_t)(first + i));
	}
}

static void expect_used(struct vdev *d, struct vused_elem *e, const char *what)
{
	if (vq_wait(d, e) != W_USED)
		guest_fail(NAME, "net: %s: nothing received", what);
}

/* The next frame must arrive in real buffers. */
static void net_receive(struct vdev *d, const char *when)
{
	struct vused_elem e;

	post_rx(d, 0);
	expect_used(d, &e, when);
	if (e.id >= RX_BUFS || e.len <= NET_HDR_LEN + 14)
		guest_fail(NAME, "net: %s: used id %u len %u", when, e.id, e.len);
	gprintf(NAME ": net: %u-byte frame %s, ethertype %02x%02x\n", e.len - NET_HDR_LEN, when,
		rx_buf[e.id][NET_HDR_LEN + 12], rx_buf[e.id][NET_HDR_LEN + 13]);
}

/* Frames keep coming while the buffers cannot hold one. */
static void wait_frames(struct vdev *d, const char *name)
{
	delay(FRAME_CYCLES);
	if (vdev_status(d) & S_NEEDS_RESET)
		guest_fail(NAME, "case %s: needs a reset", name);
	if ((uint16_t)(d->ring->used[0] >> 16))
		guest_fail(NAME, "case %s: a frame went into 1-byte buffers", name);
}

/* One 1-byte buffer: the device holds the frame until more buffers come,
 * then spreads it over both. */
static void short_then_more(struct vdev *d)
{
	struct vused_elem a, b;

	post_short(d, 1);
	wait_frames(d, "net-rx-short-buffer");
	post_rx(d, 1);
	expect_used(d, &a, "net-rx-short-buffer");
	expect_used(d, &b, "net-rx-short-buffer");
	if (a.id != 0 || a.len != 1 || b.id != 1 || b.len < NET_HDR_LEN + 14 - 1)
		guest_fail(NAME, "case net-rx-short-buffer: used %u/%u then %u/%u", a.id, a.len,
			   b.id, b.len);
	gprintf(NAME ": case net-rx-short-buffer: ok\n");
}

/*
 * The whole ring in 1-byte buffers: no frame fits, so each is dropped, and
 * a reset must come back (a device thread stuck on the frame would hang it).
 */
static void ring_of_short_buffers(struct vdev *d)
{
	post_short(d, VQ_SIZE);
	wait_frames(d, "net-rx-ring-of-short-buffers");
	gprintf(NAME ": case net-rx-ring-of-short-buffers: dropped\n");
}

void net_tests(uint64_t features, struct vring_pages *ring)
{
	struct vdev net, *d = &net;

	if (pci_find(VIRTIO_VENDOR, VIRTIO_DEV_NET, 0) < 0) {
		gprintf(NAME ": net: none\n");
		return;
	}
	vdev_probe(d, "net", VIRTIO_DEV_NET, 0, features | 1ULL << F_MRG_RXBUF, ring);
	vdev_start(d);
	if (!(d->features & (1ULL << F_MRG_RXBUF)))
		guest_fail(NAME, "net: no mergeable receive buffers");
	net_receive(d, "received");
	vdev_start(d);
	short_then_more(d);
	vdev_start(d);
	ring_of_short_buffers(d);
	vdev_start(d);
	net_receive(d, "after the resets");
}
