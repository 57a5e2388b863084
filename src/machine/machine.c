/* SPDX-License-Identifier: Apache-2.0 */
/* One VM: memory, buses, accelerator, devices, vCPU threads, lifecycle. */
#include "machine/machine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "chardev/chardev.h"
#include "hw/acpi_pm.h"
#include "hw/debug_exit.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/port80.h"
#include "hw/pvpanic.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "machine/machine_snapshot.h"
#include "machine/machine_virtio.h"
#include "util/log.h"

#define COM1_BASE 0x3f8
#define COM1_GSI 4
#define RTC_GSI 8
#define SCI_GSI 9
#define DEBUG_EXIT_PORT 0xf4

static const struct accel_ops *machine_pick_accel(struct machine *m, enum accel_choice choice)
{
	char why[256];

	if (choice == ACCEL_EMU)
		return &accel_emu;
	if (accel_kvm.probe(why, sizeof(why)))
		return &accel_kvm;
	if (choice == ACCEL_KVM) {
		log_err("--accel kvm: %s", why);
		return NULL;
	}
	snprintf(m->accel_note, sizeof(m->accel_note), "%s", why);
	return &accel_emu;
}

static void machine_quit(void *opaque)
{
	log_info("quit requested on the console");
	machine_shutdown(opaque, VMON_EXIT_OK, "host-ui");
}

/* What QEMU's firmware interface tells about the machine. */
static int machine_fw_cfg(struct machine *m)
{
	const char *cmdline = m->cfg.cmdline;

	m->fw_cfg = fw_cfg_new(m->pio, &m->mem);
	if (!m->fw_cfg)
		return -1;
	return fw_cfg_add_u16(m->fw_cfg, FW_CFG_NB_CPUS, (uint16_t)m->ncpus) ||
	       fw_cfg_add_u16(m->fw_cfg, FW_CFG_MAX_CPUS, (uint16_t)m->ncpus) ||
	       fw_cfg_add_u64(m->fw_cfg, FW_CFG_RAM_SIZE, m->mem.size) ||
	       fw_cfg_add_u16(m->fw_cfg, FW_CFG_NOGRAPHIC, 1) ||
	       fw_cfg_add_u32(m->fw_cfg, FW_CFG_CMDLINE_SIZE, (uint32_t)strlen(cmdline) + 1) ||
	       fw_cfg_add(m->fw_cfg, FW_CFG_CMDLINE_DATA, cmdline, strlen(cmdline) + 1) ? -1 : 0;
}

/* The CMOS memory-size bytes PC firmware and old guests read. */
static void machine_cmos(struct machine *m)
{
	uint64_t low = guest_mem_low_end(&m->mem);
	uint64_t above1m = low > (1 << 20) ? (low - (1 << 20)) >> 10 : 0;
	uint64_t above16m = low > (16 << 20) ? (low - (16 << 20)) >> 16 : 0;
	uint64_t high = m->mem.nregions > 1 ? m->mem.region[1].size >> 16 : 0;

	if (above1m > 0xffff)
		above1m = 0xffff;
	if (above16m > 0xffff)
		above16m = 0xffff;
	rtc_set_cmos(m->rtc, 0x15, 640 & 0xff);
	rtc_set_cmos(m->rtc, 0x16, 640 >> 8);
	rtc_set_cmos(m->rtc, 0x17, (uint8_t)above1m);
	rtc_set_cmos(m->rtc, 0x18, (uint8_t)(above1m >> 8));
	rtc_set_cmos(m->rtc, 0x30, (uint8_t)above1m);
	rtc_set_cmos(m->rtc, 0x31, (uint8_t)(above1m >> 8));
	rtc_set_cmos(m->rtc, 0x34, (uint8_t)above16m);
	rtc_set_cmos(m->rtc, 0x35, (uint8_t)(above16m >> 8));
	rtc_set_cmos(m->rtc, 0x5b, (uint8_t)high);
	rtc_set_cmos(m->rtc, 0x5c, (uint8_t)(high >> 8));
	rtc_set_cmos(m->rtc, 0x5d, (uint8_t)(high >> 16));
	rtc_set_cmos(m->rtc, 0x5f, (uint8_t)(m->ncpus - 1));
}

static int machine_devices(struct machine *m)
{
	struct irq_line com1 = { m->irq, COM1_GSI }, rtc = { m->irq, RTC_GSI };
	struct irq_line sci = { m->irq, SCI_GSI };

	m->serial = chardev_open(m->cfg.serial, machine_quit, m);
	if (!m->serial)
		return -1;
	if (m->cfg.virtio_console) {
		m->hvc = chardev_open(m->cfg.virtio_console, machine_quit, m);
		if (!m->hvc)
			return -1;
	}
	m->uart = uart_new(m->pio, COM1_BASE, com1, m->serial);
	m->i8042 = i8042_new(m->pio, m);
	m->rtc = rtc_new(m->pio, rtc);
	m->acpi_pm = acpi_pm_new(m->pio, sci, m);
	m->port80 = port80_create(m->pio);
	if (!m->uart || !m->i8042 || !m->rtc || !m->acpi_pm || !m->port80 ||
	    debug_exit_new(m->pio, DEBUG_EXIT_PORT, m) ||
	    pvpanic_new(m->pio, PVPANIC_PORT, m) ||
	    machine_fw_cfg(m)) {
		log_err("cannot create the platform devices");
		return -1;
	}
	if (machine_virtio_create(m))
		return -1;
	machine_cmos(m);
	return 0;
}

static int machine_vcpus(struct machine *m)
{
	for (int i = 0; i < m->ncpus; i++) {
		m->vcpus[i].m = m;
		m->vcpus[i].id = i;
		if (m->accel->vcpu_init(&m->vcpus[i]))
			return -1;
	}
	return 0;
}

/* Only the registers the loader decided: the LAPIC, MSRs and FPU stay KVM's. */
static int machine_boot_bsp(struct machine *m)
{
	static struct x86_cpu_state s;     /* large; one boot at a time */
	const struct x86_cpu_state *b = &m->boot_state;
	struct vcpu *bsp = &m->vcpus[0];

	if (m->accel->vcpu_get_state(bsp, &s))
		return -1;
	memcpy(s.gpr, b->gpr, sizeof(s.gpr));
	s.rip = b->rip;
	s.rflags = b->rflags;
	memcpy(s.seg, b->seg, sizeof(s.seg));
	s.gdt = b->gdt;
	s.idt = b->idt;
	s.cr0 = b->cr0;
	s.cr3 = b->cr3;
	s.cr4 = b->cr4;
	s.efer = b->efer;
	return m->accel->vcpu_set_state(bsp, &s);
}

int machine_create(struct machine *m, const struct machine_config *cfg)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->ncpus = cfg->cpus;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	atomic_init(&m->stopping, 0);

	m->accel = machine_pick_accel(m, cfg->accel);
	if (!m->accel)
		goto fail;
	if (guest_mem_init(&m->mem, cfg->mem_size)) {
		log_err("cannot map %llu bytes of guest RAM: %s",
			(unsigned long long)cfg->mem_size, strerror(errno));
		goto fail;
	}
	m->pio = bus_new("pio");
	m->mmio = bus_new("mmio");
	if (!m->pio || !m->mmio)
		goto fail;
	/* A restore finds the loaded kernel and the ACPI tables in the RAM image. */
	if (cfg->restore ? machine_snapshot_map_ram(m, cfg->restore)
			 : x86_boot_load(&m->mem, cfg, &m->boot_state) ||
			   acpi_build(&m->mem, m->ncpus,
				      cfg->transport_mmio ? machine_virtio_count(cfg) : 0))
		goto fail;
	if (m->accel->vm_init(m) || machine_devices(m) || machine_vcpus(m) ||
	    (cfg->restore ? machine_snapshot_load(m, cfg->restore) : machine_boot_bsp(m)))
		goto fail;
	return 0;
fail:
	machine_destroy(m);
	return -1;
}

static void machine_event(struct machine *m, enum machine_event ev, const char *reason)
{
	if (m->event_fn)
		m->event_fn(m->event_opaque, ev, reason);
}

void machine_set_event_hook(struct machine *m, machine_event_fn fn, void *opaque)
{
	m->event_fn = fn;
	m->event_opaque = opaque;
}

/* Under lock: makes every started vCPU leave vcpu_run soon. */
static void kick_all_locked(struct machine *m)
{
	atomic_store_explicit(&m->stopping, 1, memory_order_release);
	for (int i = 0; i < m->ncpus; i++)
		if (m->vcpus[i].started)
			m->accel->vcpu_kick(&m->vcpus[i]);
}

void machine_shutdown(struct machine *m, int status, const char *reason)
{
	int first;

	pthread_mutex_lock(&m->lock);
	first = !m->exit_requested;
	if (first) {
		m->exit_requested = 1;
		m->exit_status = status;
		m->run_state = MACHINE_SHUTDOWN;
		kick_all_locked(m);
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	if (first)
		machine_event(m, MACHINE_EV_SHUTDOWN, reason);
}

void machine_request_exit(struct machine *m, int status)
{
	machine_shutdown(m, status, status == VMON_EXIT_CRASH ? "host-error" : "guest-shutdown");
}

static int started_vcpus(const struct machine *m)
{
	int n = 0;

	for (int i = 0; i < m->ncpus; i++)
		n += m->vcpus[i].started;
	return n;
}

int machine_pause(struct machine *m)
{
	int was_running;

	pthread_mutex_lock(&m->lock);
	if (m->exit_requested) {
		pthread_mutex_unlock(&m->lock);
		return -1;
	}
	was_running = m->run_state == MACHINE_RUNNING;
	m->pause_requested = 1;
	kick_all_locked(m);
	while (m->parked < started_vcpus(m) && !m->exit_requested)
		pthread_cond_wait(&m->cond, &m->lock);
	if (m->exit_requested) {
		pthread_mutex_unlock(&m->lock);
		return -1;
	}
	if (was_running)
		m->run_state = MACHINE_PAUSED;
	pthread_mutex_unlock(&m->lock);
	if (!was_running)
		return 0;
	if (machine_virtio_pause(m))
		log_warn("a disk could not be flushed while pausing");
	machine_event(m, MACHINE_EV_STOP, NULL);
	return 0;
}

int machine_resume(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->exit_requested) {
		pthread_mutex_unlock(&m->lock);
		return -1;
	}
	if (m->run_state == MACHINE_RUNNING) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	pthread_mutex_unlock(&m->lock);
	machine_virtio_resume(m);
	/* Said before the guest runs, so none of its events can come first. */
	machine_event(m, MACHINE_EV_RESUME, NULL);
	pthread_mutex_lock(&m->lock);
	m->run_state = MACHINE_RUNNING;
	m->pause_requested = 0;
	if (!m->exit_requested)
		atomic_store_explicit(&m->stopping, 0, memory_order_release);
	pthread_cond_broadcast(&m->cond);
	/* Parked threads leave before a new pause may count them. */
	while (m->parked > 0 && !m->exit_requested)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

enum machine_run_state machine_run_state(struct machine *m)
{
	enum machine_run_state st;

	pthread_mutex_lock(&m->lock);
	st = m->run_state;
	pthread_mutex_unlock(&m->lock);
	return st;
}

void machine_set_run_state(struct machine *m, enum machine_run_state st)
{
	pthread_mutex_lock(&m->lock);
	if (m->run_state != MACHINE_SHUTDOWN)
		m->run_state = st;
	pthread_mutex_unlock(&m->lock);
}

void machine_powerdown(struct machine *m)
{
	machine_event(m, MACHINE_EV_POWERDOWN, NULL);
	acpi_pm_power_button(m->acpi_pm);
}

void machine_reset(struct machine *m)
{
	machine_event(m, MACHINE_EV_RESET, "host-qmp-system-reset");
	log_info("system reset requested");
	machine_shutdown(m, VMON_EXIT_OK, "host-qmp-system-reset");
}

/*
 * A vCPU thread out of vcpu_run for a pause waits here; 1 to run again,
 * 0 if the machine is ending.
 */
static int vcpu_park(struct vcpu *v)
{
	struct machine *m = v->m;
	int run;

	pthread_mutex_lock(&m->lock);
	m->parked++;
	pthread_cond_broadcast(&m->cond);
	while (m->pause_requested && !m->exit_requested)
		pthread_cond_wait(&m->cond, &m->lock);
	m->parked--;
	pthread_cond_broadcast(&m->cond);
	run = !m->exit_requested;
	pthread_mutex_unlock(&m->lock);
	return run;
}

/* With -v, where each vCPU was when the machine stopped. */
static void vcpu_log_stop(struct vcpu *v)
{
	static struct x86_cpu_state s;    /* large; serialised by the lock */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	if (log_get_level() < LOG_DEBUG)
		return;
	pthread_mutex_lock(&lock);
	if (v->m->accel->vcpu_get_state(v, &s) == 0)
		log_debug("vCPU %d stopped at %04x:%016llx rflags %llx (mp state %u)", v->id,
			  s.seg[X86_CS].selector, (unsigned long long)s.rip,
			  (unsigned long long)s.rflags, s.mp_state);
	pthread_mutex_unlock(&lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	enum vcpu_exit e;

	v->tid = (int)gettid();
	while ((e = v->m->accel->vcpu_run(v)) == VCPU_EXIT_STOP && vcpu_park(v))
		;
	switch (e) {
	case VCPU_EXIT_STOP:
		vcpu_log_stop(v);
		break;
	case VCPU_EXIT_POWEROFF:
		log_info("guest powered off");
		machine_request_exit(v->m, VMON_EXIT_OK);
		break;
	case VCPU_EXIT_RESET:
		log_info("guest requested reset");
		machine_shutdown(v->m, VMON_EXIT_OK, "guest-reset");
		break;
	case VCPU_EXIT_SHUTDOWN:
	case VCPU_EXIT_ERROR:
		machine_request_exit(v->m, VMON_EXIT_CRASH);
		break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

/* The signals that end vmon; blocked everywhere, taken by signal_thread. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void machine_block_signals(void)
{
	sigset_t set;

	stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* A stop by signal goes through the ordinary exit path: vCPUs stop, the
 * terminal is restored, disks are flushed. */
static void *signal_thread(void *arg)
{
	struct machine *m = arg;
	sigset_t set;
	int sig;

	stop_signals(&set);
	if (sigwait(&set, &sig) == 0) {
		log_info("terminating on signal %d", sig);
		machine_shutdown(m, 128 + sig, "host-signal");
	}
	return NULL;
}

int machine_run(struct machine *m)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	pthread_t sigthread;
	int have_sigthread;

	/* Said once the machine is built, so that a configuration error
	 * stays one line on stderr. */
	log_info("accelerator: %s%s%s%s", m->accel->name, m->accel_note[0] ? " (" : "",
		 m->accel_note, m->accel_note[0] ? ")" : "");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	have_sigthread = !pthread_create(&sigthread, NULL, signal_thread, m);
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < m->ncpus && !m->exit_requested; i++) {
		if (pthread_create(&m->vcpus[i].thread, NULL, vcpu_thread, &m->vcpus[i])) {
			log_err("cannot start the thread of vCPU %d", i);
			pthread_mutex_unlock(&m->lock);
			machine_request_exit(m, VMON_EXIT_CRASH);
			pthread_mutex_lock(&m->lock);
			break;
		}
		m->vcpus[i].started = 1;
	}
	while (!m->exit_requested)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < m->ncpus; i++) {
		if (!m->vcpus[i].started)
			continue;
		m->accel->vcpu_kick(&m->vcpus[i]);
		pthread_join(m->vcpus[i].thread, NULL);
		m->vcpus[i].started = 0;
	}
	if (have_sigthread) {
		pthread_cancel(sigthread);
		pthread_join(sigthread, NULL);
	}
	if (m->cfg.stats && m->accel->print_stats)
		m->accel->print_stats(m);
	return m->exit_status;
}

void machine_destroy(struct machine *m)
{
	if (m->accel) {
		for (int i = 0; i < m->ncpus; i++)
			if (m->vcpus[i].accel_data)
				m->accel->vcpu_destroy(&m->vcpus[i]);
	}
	/* The console first: the terminal must come back even if the rest fails. */
	if (m->serial)
		chardev_close(m->serial);
	machine_virtio_destroy(m);
	if (m->hvc)
		chardev_close(m->hvc);
	uart_free(m->uart);
	i8042_free(m->i8042);
	rtc_free(m->rtc);
	acpi_pm_free(m->acpi_pm);
	port80_free(m->port80);
	fw_cfg_free(m->fw_cfg);
	if (m->accel && m->accel_data)
		m->accel->vm_destroy(m);
	bus_free(m->pio);
	bus_free(m->mmio);
	guest_mem_destroy(&m->mem);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	m->accel = NULL;
}
