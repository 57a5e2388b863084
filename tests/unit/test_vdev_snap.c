/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What virtio-net and virtio-console keep over a snapshot: the MAC and
 * link status the guest read (the new machine was given another MAC) and
 * both queues carrying on, frames both ways through a tap (needs root);
 * console input the guest had not taken yet, delivered after the load.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "snap_harness.h"
#include "test.h"
#include "virtio_rig.h"

#define F_MAC     (1ULL << 5)
#define RXQ       0
#define TXQ       1
#define RX_LEN    2048u
#define NRX       8u
#define VNET_HDR  12u
#define ETHERTYPE 0x88b5                    /* local experimental */
#define MARKER    "vmon-snapshot-frame"

static struct saved sv;

/* A rig whose virtio-console, if any, sits on chr. */
static struct rig *rig_with(const struct machine_config *c, struct chardev *chr)
{
	struct rig *r = rig_bare();

	if (!r)
		return NULL;
	r->m.cfg = *c;
	r->m.hvc = chr;
	if (machine_virtio_create(&r->m)) {
		rig_free(r);
		return NULL;
	}
	return r;
}

static int pause_save(struct rig *r)
{
	struct snap_out *o = snap_out_new();

	if (machine_virtio_pause(&r->m)) {
		snap_out_free(o);
		return -1;
	}
	machine_virtio_save(&r->m, o);
	return saved_take(&sv, o);
}

/* Loads s into n after copying r's RAM; the error, "" if it loaded. */
static const char *load(struct rig *n, struct rig *r, const struct saved *s)
{
	static char err[256];
	struct snap_in *in = saved_parse(s);

	memcpy(n->m.mem.base, r->m.mem.base, RIG_RAM);
	if (!in)
		return "(unparsable)";
	snprintf(err, sizeof(err), "%s", machine_virtio_load(&n->m, in) ? snap_in_error(in) : "");
	snap_in_free(in);
	return err;
}

/* ---- virtio-net ---- */

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static void rx_post(struct drv *d, uint16_t i)
{
	drv_desc(d, RXQ, i, RIG_DATA + (uint64_t)i * RX_LEN, RX_LEN, D_WRITE, 0);
	drv_publish(d, RXQ, i);
}

static int tx_frame(struct drv *d)
{
	uint8_t *p = rig_ptr(d->r, RIG_REQS, VNET_HDR + 60);
	uint32_t id, n;

	memset(p, 0, VNET_HDR + 60);
	memset(p + VNET_HDR, 0xff, 6);
	memcpy(p + VNET_HDR + 6, mac_a, 6);
	p[VNET_HDR + 12] = ETHERTYPE >> 8;
	p[VNET_HDR + 13] = ETHERTYPE & 0xff;
	drv_desc(d, TXQ, 0, RIG_REQS, VNET_HDR + 60, 0, 0);
	drv_publish(d, TXQ, 0);
	drv_kick(d, TXQ);
	return drv_wait(d, TXQ, &id, &n, 3000) || id != 0 ? -1 : 0;
}

/* Sends a marked broadcast frame into the tap from the host's side. */
static int host_send(const char *tap)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1,
			  ETHERTYPE >> 8, ETHERTYPE & 0xff };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), rc;

	if (s < 0)
		return -1;
	to.sll_ifindex = (int)if_nametoindex(tap);
	memset(to.sll_addr, 0xff, 6);
	memcpy(f + 14, MARKER, sizeof(MARKER));
	rc = sendto(s, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(f) ? 0 : -1;
	close(s);
	return rc;
}

/* 0 once a receive buffer holds the marked frame (the host may send others). */
static int rx_marked(struct drv *d)
{
	uint32_t id, n;

	while (!drv_wait(d, RXQ, &id, &n, 2000)) {
		const uint8_t *p = rig_ptr(d->r, RIG_DATA + (uint64_t)id * RX_LEN, RX_LEN);

		if (id < NRX && n >= VNET_HDR + 14 + sizeof(MARKER) &&
		    !memcmp(p + VNET_HDR + 14, MARKER, sizeof(MARKER)))
			return 0;
	}
	return -1;
}

static void net_config(struct machine_config *c, const char *tap, const uint8_t mac[6])
{
	memset(c, 0, sizeof(*c));
	c->nnics = 1;
	snprintf(c->nic[0].tap, sizeof(c->nic[0].tap), "%s", tap);
	memcpy(c->nic[0].mac, mac, 6);
}

/* r's RAM in a new rig of configuration c, made after r is freed (its tap
 * must go first), loaded from sv; NULL if any of it failed. */
static struct rig *replace(struct rig *r, const struct machine_config *c)
{
	uint8_t *ram = malloc(RIG_RAM);
	struct snap_in *in = saved_parse(&sv);
	struct rig *n = NULL;

	if (ram && in) {
		memcpy(ram, r->m.mem.base, RIG_RAM);
		rig_free(r);
		r = NULL;
		n = rig_with(c, NULL);
	}
	if (n) {
		memcpy(n->m.mem.base, ram, RIG_RAM);
		if (machine_virtio_load(&n->m, in)) {
			printf("  load: %s\n", snap_in_error(in));
			rig_free(n);
			n = NULL;
		}
	}
	rig_free(r);
	snap_in_free(in);
	free(ram);
	return n;
}

static void test_net(void)
{
	static struct machine_config c;
	char tap[IFNAMSIZ];
	struct rig *r;
	struct drv d;
	uint8_t mac[6];

	snprintf(tap, sizeof(tap), "vmsnap%d", (int)getpid() % 100000);
	net_config(&c, tap, mac_a);
	r = rig_with(&c, NULL);
	CHECK(r);
	drv_attach_pci(&d, r, 1);
	CHECK(drv_negotiate(&d, F_VERSION_1 | F_MAC | F_EVENT_IDX) == 0);
	drv_queue(&d, RXQ, 16, 0xffff);
	drv_queue(&d, TXQ, 16, 0xffff);
	drv_driver_ok(&d);
	for (uint16_t i = 0; i < NRX; i++)
		rx_post(&d, i);
	drv_kick(&d, RXQ);
	CHECK(tx_frame(&d) == 0 && tx_frame(&d) == 0);
	CHECK(pause_save(r) == 0);
	/* The new machine is given another MAC: the guest keeps the one it read. */
	net_config(&c, tap, mac_b);
	r = replace(r, &c);
	CHECK(r);
	d.r = r;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)rd(&d, PCI_DEVCFG + (uint64_t)i, 1);
	CHECK(!memcmp(mac, mac_a, 6) && rd(&d, PCI_DEVCFG + 6, 1) == 1);
	CHECK(drv_status(&d) == 15 && drv_used_now(&d, TXQ) == 2);
	CHECK(tx_frame(&d) == 0 && drv_used_now(&d, TXQ) == 3);
	CHECK(host_send(tap) == 0);
	CHECK(rx_marked(&d) == 0);
	rig_free(r);
}

/* ---- virtio-console ---- */

static const char *edit_input(const char *text)
{
	static struct saved a, b;
	static struct harness_section host, con;
	const struct harness_field *f;

	if (harness_find(&sv, "pci-host", 0, &host) || harness_find(&sv, "virtio-console", 0, &con))
		return "no sections";
	f = harness_field(&con, "con.input");
	if (!f || f->len)
		return "the saved input is not empty";
	if (harness_encode(&host, host.version, -1, -1, NULL, 0, &a) ||
	    harness_encode(&con, con.version, -1, (int)(f - con.f), (const uint8_t *)text,
			   (uint32_t)strlen(text), &b) || a.len + b.len > sizeof(a.buf))
		return "cannot encode";
	memcpy(a.buf + a.len, b.buf, b.len);
	a.len += b.len;
	sv = a;
	return NULL;
}

static void test_console_input(void)
{
	static struct machine_config c;
	struct chardev *chr = chardev_open("none", NULL, NULL);
	struct chardev *chr2 = chardev_open("none", NULL, NULL);
	struct rig *r, *n;
	struct drv d;
	uint32_t id, len;
	const char *why;

	CHECK(chr && chr2);
	memset(&c, 0, sizeof(c));
	c.virtio_console = "none";
	r = rig_with(&c, chr);
	CHECK(r);
	drv_attach_pci(&d, r, 1);
	CHECK(drv_negotiate(&d, F_VERSION_1) == 0);
	drv_queue(&d, RXQ, 8, 0xffff);
	drv_queue(&d, TXQ, 8, 0xffff);
	drv_driver_ok(&d);
	drv_desc(&d, RXQ, 3, RIG_DATA, 64, D_WRITE, 0);
	drv_publish(&d, RXQ, 3);
	drv_kick(&d, RXQ);
	CHECK(pause_save(r) == 0);
	why = edit_input("typed before");
	if (why)
		printf("  %s\n", why);
	CHECK(!why);
	n = rig_with(&c, chr2);
	CHECK(n);
	CHECK(*load(n, r, &sv) == 0);
	rig_free(r);
	chardev_close(chr);
	d.r = n;
	CHECK(drv_wait(&d, RXQ, &id, &len, 3000) == 0 && id == 3 && len == 12);
	CHECK(!memcmp(rig_ptr(n, RIG_DATA, 12), "typed before", 12));
	rig_free(n);
	chardev_close(chr2);
}

int main(void)
{
	/* virtio-net needs a tap: root (CAP_NET_ADMIN) and /dev/net/tun. */
	if (geteuid() || access("/dev/net/tun", R_OK | W_OK))
		printf("SKIP test_net: creating a tap needs root and /dev/net/tun\n");
	else
		RUN(test_net);
	RUN(test_console_input);
	return TEST_EXIT();
}
