/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The emu accelerator's vm_save/vm_load on two machines of two vCPUs built
 * as machine_create builds them (buses, accel_emu's vm_init/vcpu_init):
 * one driven into pending interrupts and running timers (a guest WRMSR
 * arms a TSC deadline), saved with its vCPU states as a restore reads
 * them, the other loaded after a pause, then compared section by section.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "hw/ioapic.h"
#include "machine/bus.h"
#include "machine/machine.h"
#include "snapshot/snap_cpu.h"
#include "snap_harness.h"
#include "test.h"

#define NCPUS 2
#define CODE  0x1000

static struct machine ma, mb;
static struct x86_cpu_state st;

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

static int machine_up(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->ncpus = NCPUS;
	m->accel = &accel_emu;
	m->pio = bus_new("pio");
	m->mmio = bus_new("mmio");
	if (!m->pio || !m->mmio || guest_mem_init(&m->mem, MEM_MIN_SIZE) || accel_emu.vm_init(m))
		return -1;
	for (int i = 0; i < NCPUS; i++) {
		m->vcpus[i] = (struct vcpu){ .m = m, .id = i };
		if (accel_emu.vcpu_init(&m->vcpus[i]))
			return -1;
	}
	return 0;
}

static void machine_down(struct machine *m)
{
	for (int i = 0; i < NCPUS; i++)
		accel_emu.vcpu_destroy(&m->vcpus[i]);
	accel_emu.vm_destroy(m);
	guest_mem_destroy(&m->mem);
	bus_free(m->pio);
	bus_free(m->mmio);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
}

static void page_set(uint8_t *page, unsigned offset, uint32_t v)
{
	memcpy(page + offset, &v, 4);
}

static void io_write(struct machine *m, uint32_t r, uint32_t v)
{
	bus_write(m->mmio, IOAPIC_BASE, 4, r);
	bus_write(m->mmio, IOAPIC_BASE + 0x10, 4, v);
}

static void *run_vcpu0(void *arg)
{
	struct machine *m = arg;

	accel_emu.vcpu_run(&m->vcpus[0]);
	return NULL;
}

/*
 * vCPU 0 runs, in real mode at CODE, WRMSR 0x6e0 (TSC deadline = TSC at
 * entry + 300 ms) and HLT; then the machine stops it.
 */
static int arm_tsc_deadline(struct machine *m)
{
	uint8_t code[] = {
		0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00,   /* mov ecx, 0x6e0 */
		0x66, 0xb8, 0, 0, 0, 0,               /* mov eax, lo */
		0x66, 0xba, 0, 0, 0, 0,               /* mov edx, hi */
		0x0f, 0x30, 0xf4,                     /* wrmsr; hlt */
	};
	uint64_t deadline;
	pthread_t t;

	accel_emu.vcpu_get_state(&m->vcpus[0], &st);
	deadline = st.tsc + 300000000ULL;
	memcpy(code + 8, &deadline, 4);
	memcpy(code + 14, (uint8_t *)&deadline + 4, 4);
	if (guest_mem_write(&m->mem, CODE, code, sizeof(code)))
		return -1;
	x86_seg_real(&st.seg[X86_CS], 0, 1);
	st.rip = CODE;
	page_set(st.lapic, 0x0f0, 0x1ff);
	page_set(st.lapic, 0x320, 0x40046);          /* TSC-deadline mode, vector 0x46 */
	accel_emu.vcpu_set_state(&m->vcpus[0], &st);
	if (pthread_create(&t, NULL, run_vcpu0, m))
		return -1;
	sleep_ms(30);
	atomic_store(&m->stopping, 1);
	accel_emu.vcpu_kick(&m->vcpus[0]);
	pthread_join(t, NULL);
	atomic_store(&m->stopping, 0);
	return 0;
}

/* The state of the other controllers, through the buses and the irqchip. */
static void drive(struct machine *m)
{
	static const uint8_t pic_init[][2] = {
		{ 0x20, 0x11 }, { 0xa0, 0x11 }, { 0x21, 0x20 }, { 0xa1, 0x28 },
		{ 0x21, 0x04 }, { 0xa1, 0x02 }, { 0x21, 0x01 }, { 0xa1, 0x01 },
		{ 0x21, 0x01 }, { 0xa1, 0x00 },
	};

	/* vCPU 1: periodic LAPIC timer (3 ms), an NMI and a fixed MSI pending. */
	accel_emu.vcpu_get_state(&m->vcpus[1], &st);
	page_set(st.lapic, 0x0f0, 0x1ff);
	page_set(st.lapic, 0x3e0, 0x0b);
	page_set(st.lapic, 0x320, 0x20045);
	page_set(st.lapic, 0x380, 3000000);
	page_set(st.lapic, 0x390, 3000000);
	accel_emu.vcpu_set_state(&m->vcpus[1], &st);
	m->irq->send_msi(m->irq, 0xfee01000, 0x400);
	m->irq->send_msi(m->irq, 0xfee01000, 0x51);
	for (size_t i = 0; i < sizeof(pic_init) / sizeof(pic_init[0]); i++)
		bus_write(m->pio, pic_init[i][0], 1, pic_init[i][1]);
	io_write(m, 0x10 + 2 * 9, 0xa039);             /* level, active low, vector 0x39 */
	m->irq->set_level(m->irq, 4, 1);
	m->irq->set_level(m->irq, 9, 1);
	/* PIT channel 2 counted a little and stopped by its gate. */
	bus_write(m->pio, 0x61, 1, 0x01);
	bus_write(m->pio, 0x43, 1, 0xb0);
	bus_write(m->pio, 0x42, 1, 0x00);
	bus_write(m->pio, 0x42, 1, 0x80);
	sleep_ms(3);
	bus_write(m->pio, 0x61, 1, 0x00);
}

static int save_vm(struct machine *m, struct saved *s)
{
	struct snap_out *o = snap_out_new();

	for (int i = 0; i < NCPUS; i++) {
		accel_emu.vcpu_get_state(&m->vcpus[i], &st);
		snap_cpu_save(o, (uint32_t)i, &st);
	}
	if (accel_emu.vm_save(m, o)) {
		snap_out_free(o);
		return -1;
	}
	return saved_take(s, o);
}

/* As machine_snapshot_load: every vCPU's state, then the accelerator's. */
static int load_vm(struct machine *m, const struct saved *s, char *err, size_t errlen)
{
	struct snap_in *in = saved_parse(s);
	int rc = 0;

	if (!in)
		return -1;
	for (int i = 0; i < NCPUS && !rc; i++)
		rc = snap_cpu_load(in, (uint32_t)i, &st) ||
		     accel_emu.vcpu_set_state(&m->vcpus[i], &st);
	if (!rc)
		rc = accel_emu.vm_load(m, in);
	snprintf(err, errlen, "%s", snap_in_error(in));
	snap_in_free(in);
	return rc ? -1 : 0;
}

static uint64_t field_u64(const struct harness_section *sec, const char *name)
{
	const struct harness_field *f = harness_field(sec, name);
	uint64_t v = 0;

	if (f && f->len == 8)
		memcpy(&v, f->data, 8);
	return v;
}

/* Every field of section name.instance alike in both streams, the time left aside. */
static const char *same_section(const struct saved *a, const struct saved *b, const char *name,
				uint32_t instance)
{
	static struct harness_section x, y;
	static char why[96];

	if (harness_find(a, name, instance, &x) || harness_find(b, name, instance, &y))
		return "section missing";
	if (x.n != y.n)
		return "field count differs";
	for (int i = 0; i < x.n; i++) {
		const struct harness_field *f = harness_field(&y, x.f[i].name);

		if (!strcmp(x.f[i].name, "timer_left_ns"))
			continue;
		snprintf(why, sizeof(why), "%s.%u: field %s differs", name, instance, x.f[i].name);
		if (!f || f->len != x.f[i].len || memcmp(f->data, x.f[i].data, f->len))
			return why;
	}
	return NULL;
}

static void test_emu_round_trip(void)
{
	static const char *const names[] = { "pic", "ioapic", "irqchip", "pit" };
	static struct saved s, s2;
	static struct harness_section x, y;
	char err[256];
	const char *why;
	uint64_t left_a, left_b, t0, save_took, since_load;

	CHECK(!machine_up(&ma) && !machine_up(&mb));
	CHECK(!arm_tsc_deadline(&ma));
	drive(&ma);
	t0 = now_ns();
	CHECK(!save_vm(&ma, &s));
	save_took = now_ns() - t0;
	sleep_ms(100);
	t0 = now_ns();
	CHECK(!load_vm(&mb, &s, err, sizeof(err)));
	CHECK(!save_vm(&mb, &s2));
	since_load = now_ns() - t0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		why = same_section(&s, &s2, names[i], 0);
		if (why)
			printf("  %s\n", why);
		CHECK(!why);
	}
	for (uint32_t id = 0; id < NCPUS; id++) {
		why = same_section(&s, &s2, "lapic", id);
		if (why)
			printf("  %s\n", why);
		CHECK(!why);
	}
	/*
	 * The TSC deadline the guest wrote, as far off as at the save, not 100 ms
	 * nearer.  A busy host stretches the saves and the load: vCPU 0's TSC is
	 * read before its LAPIC's time left, and time passes after the load.
	 */
	CHECK(!harness_find(&s, "lapic", 0, &x) && !harness_find(&s2, "lapic", 0, &y));
	CHECK(field_u64(&x, "tsc_deadline") != 0);
	left_a = field_u64(&x, "timer_left_ns");
	left_b = field_u64(&y, "timer_left_ns");
	CHECK(left_a > 200000000ULL && left_a < 300000000ULL);
	CHECK(left_b <= left_a + save_took + 1000000ULL);
	CHECK(left_b + since_load + 1000000ULL > left_a);
	/* vCPU 1's periodic timer: within one period. */
	CHECK(!harness_find(&s2, "lapic", 1, &y));
	CHECK(field_u64(&y, "timer_left_ns") <= 3000000ULL);
	CHECK_EQ(field_u64(&y, "timer_period_ns"), 3000000ULL);
	CHECK_EQ(harness_field(&y, "nmi_pending")->data[0], 1);
	/* The restored controllers: IRQ4 and the cascade (IRQ9) requested, pin 9 in service. */
	bus_write(mb.pio, 0x20, 1, 0x0a);
	CHECK_EQ(bus_read(mb.pio, 0x20, 1), 0x14);
	bus_write(mb.mmio, IOAPIC_BASE, 4, 0x10 + 2 * 9);
	CHECK_EQ(bus_read(mb.mmio, IOAPIC_BASE + 0x10, 4), 0xe039);   /* Remote IRR */
	machine_down(&ma);
	machine_down(&mb);
}

/* A stream without one of the accelerator's sections: refused, naming it. */
static void test_emu_missing_sections(void)
{
	static const char *const names[] = { "lapic", "pic", "ioapic", "irqchip", "pit" };
	static struct saved s, cut;
	char err[256], want[64];

	CHECK(!machine_up(&ma));
	drive(&ma);
	CHECK(!save_vm(&ma, &s));
	machine_down(&ma);
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const uint8_t *p = s.buf;

		/* Copies every section but the one named, byte for byte. */
		cut.len = 0;
		while (p < s.buf + s.len) {
			size_t hdr = 1 + p[0] + 12, body = harness_u32(p + 1 + p[0] + 8);

			if (p[0] != strlen(names[k]) || memcmp(p + 1, names[k], p[0])) {
				memcpy(cut.buf + cut.len, p, hdr + body);
				cut.len += hdr + body;
			}
			p += hdr + body;
		}
		CHECK(!machine_up(&mb));
		CHECK(load_vm(&mb, &cut, err, sizeof(err)) == -1);
		snprintf(want, sizeof(want), "section %s.0 missing", names[k]);
		if (!strstr(err, want))
			printf("  %s\n", err);
		CHECK(strstr(err, want));
		machine_down(&mb);
	}
}

int main(void)
{
	RUN(test_emu_round_trip);
	RUN(test_emu_missing_sections);
	return TEST_EXIT();
}
