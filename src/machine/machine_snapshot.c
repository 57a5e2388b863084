/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-VM snapshots: a header, the device-state stream (src/snapshot/snap.h)
 * and guest RAM as one page-aligned image, zero pages left as holes.  A
 * restore maps the image copy-on-write, so start-up reads no RAM and one
 * snapshot can start any number of clones.  docs/snapshot.md has the format.
 */
#include "machine/machine_snapshot.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "machine/machine.h"
#include "machine/machine_devices_snap.h"
#include "machine/machine_virtio.h"
#include "snapshot/snap.h"
#include "snapshot/snap_cpu.h"
#include "util/log.h"

#define SNAP_MAGIC "VMONSNAP"
#define SNAP_FORMAT 1
#define SNAP_STATE_OFF 4096ULL
#define SNAP_STATE_MAX (64ULL << 20)
#define SNAP_RAM_ALIGN (2ULL << 20)
#define PAGE 4096ULL

/* On disk at offset 0, little-endian. */
struct snap_header {
	char magic[8];
	uint32_t format;
	uint32_t state_crc;
	uint64_t state_off, state_len;
	uint64_t ram_off, ram_size;
	uint32_t header_crc;     /* of the bytes above */
	uint32_t pad;
};

struct machine_snapshot {
	int fd;
	char path[4096];
	struct snap_header h;
	struct snap_in *in;
	/* Strings the restored machine_config points into. */
	struct {
		char cmdline[4096];
		char console[4096 + 8];
	} str;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ---- saving ---- */

static void save_machine(struct machine *m, struct snap_out *o)
{
	const struct machine_config *c = &m->cfg;

	/* Version 2 added virtio_packed. */
	snap_begin(o, "machine", 0, 2);
	snap_put_u64(o, "mem_size", m->mem.size);
	snap_put_u32(o, "cpus", (uint32_t)m->ncpus);
	snap_put(o, "accel", m->accel->name, strlen(m->accel->name));
	snap_put(o, "cmdline", c->cmdline, strlen(c->cmdline));
	snap_put_u8(o, "transport_mmio", (uint8_t)!!c->transport_mmio);
	snap_put_u8(o, "rng", (uint8_t)!!c->rng);
	snap_put(o, "console", c->virtio_console ? c->virtio_console : "",
		 c->virtio_console ? strlen(c->virtio_console) : 0);
	snap_put_u32(o, "disks", (uint32_t)c->ndisks);
	snap_put_u32(o, "virtio_packed", machine_virtio_packed_mask(c));
	for (int i = 0; i < c->ndisks; i++) {
		const struct virtio_blk_opts *d = &c->disk[i];
		uint8_t flags = (uint8_t)(d->readonly | d->cache_none << 1);

		snap_begin(o, "disk", (uint32_t)i, 1);
		snap_put(o, "path", d->path, strlen(d->path));
		snap_put(o, "format", d->format ? d->format : "", d->format ? strlen(d->format) : 0);
		snap_put_u8(o, "flags", flags);
		snap_put(o, "serial", d->serial, strlen(d->serial));
	}
	snap_begin(o, "nics", 0, 1);
	snap_put_u32(o, "count", (uint32_t)c->nnics);
	for (int i = 0; i < c->nnics; i++) {
		char key[16];

		snprintf(key, sizeof(key), "tap%d", i);
		snap_put(o, key, c->nic[i].tap, strlen(c->nic[i].tap));
		snprintf(key, sizeof(key), "mac%d", i);
		snap_put(o, key, c->nic[i].mac, 6);
	}
}

static int save_state(struct machine *m, struct snap_out *o, char *err, size_t errlen)
{
	static struct x86_cpu_state s;    /* large; saves are serialised by the caller */

	save_machine(m, o);
	for (int i = 0; i < m->ncpus; i++) {
		if (m->accel->vcpu_get_state(&m->vcpus[i], &s))
			return log_to_buf(err, errlen, "cannot read the state of vCPU %d", i);
		snap_cpu_save(o, (uint32_t)i, &s);
	}
	if (m->accel->vm_save && m->accel->vm_save(m, o))
		return log_to_buf(err, errlen, "cannot read the %s accelerator's state", m->accel->name);
	machine_devices_save(m, o);
	return 0;
}

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = pwrite(fd, b, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE];

	return !memcmp(p, zero, PAGE);
}

/*
 * Writes RAM page-runs that hold data; the rest stays a hole.  Anonymous
 * RAM that was never touched is not even read (mincore): a fresh 1 GiB
 * guest saves in the time its used pages take.  RAM mapped from a snapshot
 * is file-backed, where mincore says nothing about contents.
 */
static int save_ram(const struct guest_mem *mem, int fd, uint64_t off)
{
	const uint64_t chunk = 2ULL << 20;
	unsigned char vec[(2 << 20) / 4096];

	for (uint64_t at = 0; at < mem->size; at += chunk) {
		uint64_t n = mem->size - at < chunk ? mem->size - at : chunk;
		uint64_t run = 0, run_len = 0;

		if (mem->file_fd >= 0 || mincore(mem->base + at, n, vec) < 0)
			memset(vec, 1, sizeof(vec));
		for (uint64_t p = 0; p < n; p += PAGE) {
			int data = (vec[p / PAGE] & 1) && !page_is_zero(mem->base + at + p);

			if (data && !run_len)
				run = at + p;
			if (data)
				run_len += PAGE;
			if ((!data || p + PAGE == n) && run_len) {
				if (write_all(fd, mem->base + run, run_len, off + run))
					return -1;
				run_len = 0;
			}
		}
	}
	return ftruncate(fd, (off_t)(off + mem->size));
}

static int write_file(struct machine *m, const char *path, const void *state, size_t len,
		      char *err, size_t errlen)
{
	struct snap_header h = { .format = SNAP_FORMAT };
	char tmp[4200];
	int fd;

	memcpy(h.magic, SNAP_MAGIC, 8);
	h.state_off = SNAP_STATE_OFF;
	h.state_len = len;
	h.state_crc = (uint32_t)crc32(0, state, (uInt)len);
	h.ram_off = align_up(SNAP_STATE_OFF + len, SNAP_RAM_ALIGN);
	h.ram_size = m->mem.size;
	h.header_crc = (uint32_t)crc32(0, (const void *)&h, offsetof(struct snap_header, header_crc));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return log_to_buf(err, errlen, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_to_buf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (write_all(fd, &h, sizeof(h), 0) || write_all(fd, state, len, h.state_off) ||
	    save_ram(&m->mem, fd, h.ram_off) || fdatasync(fd)) {
		log_to_buf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path)) {
		log_to_buf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int machine_snapshot_save(struct machine *m, const char *path, char *err, size_t errlen)
{
	struct snap_out *o;
	const void *state;
	size_t len;
	int rc;

	if (machine_pause(m))
		return log_to_buf(err, errlen, "the machine is shutting down");
	o = snap_out_new();
	if (!o)
		return log_to_buf(err, errlen, "out of memory");
	rc = save_state(m, o, err, errlen);
	if (!rc) {
		state = snap_out_data(o, &len);
		rc = state ? write_file(m, path, state, len, err, errlen)
			   : log_to_buf(err, errlen, "out of memory");
	}
	snap_out_free(o);
	if (!rc)
		machine_set_run_state(m, MACHINE_POSTMIGRATE);
	return rc;
}

/* ---- restoring ---- */

static int read_all(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = pread(fd, b, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int check_header(const struct snap_header *h, uint64_t file_size, char *err, size_t errlen)
{
	if (memcmp(h->magic, SNAP_MAGIC, 8))
		return log_to_buf(err, errlen, "not a vmon snapshot (bad magic)");
	if (h->header_crc != (uint32_t)crc32(0, (const void *)h, offsetof(struct snap_header, header_crc)))
		return log_to_buf(err, errlen, "snapshot header is corrupt (checksum mismatch)");
	if (h->format != SNAP_FORMAT)
		return log_to_buf(err, errlen, "snapshot format %u; this vmon reads format %u", h->format,
				  SNAP_FORMAT);
	if (h->state_off != SNAP_STATE_OFF || h->state_len > SNAP_STATE_MAX ||
	    h->ram_off < h->state_off + h->state_len || h->ram_off % PAGE ||
	    h->ram_size < MEM_MIN_SIZE || h->ram_size > MEM_MAX_SIZE || h->ram_size % PAGE)
		return log_to_buf(err, errlen, "snapshot header is inconsistent");
	if (file_size < h->ram_off || file_size - h->ram_off < h->ram_size)
		return log_to_buf(err, errlen, "snapshot is truncated (%llu bytes, RAM ends at %llu)",
				  (unsigned long long)file_size,
				  (unsigned long long)(h->ram_off + h->ram_size));
	return 0;
}

struct machine_snapshot *machine_snapshot_open(const char *path, char *err, size_t errlen)
{
	struct machine_snapshot *s = calloc(1, sizeof(*s));
	struct stat st;
	void *state = NULL;

	if (!s) {
		log_to_buf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		log_to_buf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(s->fd, &st) || read_all(s->fd, &s->h, sizeof(s->h), 0)) {
		log_to_buf(err, errlen, "%s: snapshot is truncated (no header)", path);
		goto out;
	}
	if (check_header(&s->h, (uint64_t)st.st_size, err, errlen))
		goto out;
	state = malloc(s->h.state_len ? s->h.state_len : 1);
	if (!state || read_all(s->fd, state, s->h.state_len, s->h.state_off)) {
		log_to_buf(err, errlen, "%s: cannot read the device state", path);
		goto out;
	}
	if (s->h.state_crc != (uint32_t)crc32(0, state, (uInt)s->h.state_len)) {
		log_to_buf(err, errlen, "%s: device state is corrupt (checksum mismatch)", path);
		goto out;
	}
	s->in = snap_in_parse(state, s->h.state_len, err, errlen);
	free(state);
	state = NULL;
	if (s->in)
		return s;
out:
	free(state);
	machine_snapshot_close(s);
	return NULL;
}

void machine_snapshot_close(struct machine_snapshot *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	snap_in_free(s->in);
	free(s);
}

/* A string field into dst (NUL-terminated); -1 if absent or too long. */
static int get_str(struct snap_sec *sec, const char *field, char *dst, size_t cap)
{
	size_t len;
	const char *p = snap_get_var(sec, field, &len);

	if (!p)
		return -1;
	if (len >= cap || memchr(p, 0, len))
		return snap_fail(sec, "%s: not a string of at most %zu bytes", field, cap - 1);
	memcpy(dst, p, len);
	dst[len] = 0;
	return 0;
}

static int config_disks(struct machine_snapshot *s, struct machine_config *cfg, uint32_t n,
			char *err, size_t errlen)
{
	static const char *const formats[] = { "raw", "qcow2" };

	if (cfg->ndisks && (uint32_t)cfg->ndisks != n)
		return log_to_buf(err, errlen, "the snapshot has %u disks, the command line %d", n,
				  cfg->ndisks);
	for (uint32_t i = 0; i < n; i++) {
		struct snap_sec *sec = snap_section(s->in, "disk", i, 1, NULL);
		struct virtio_blk_opts d = { 0 };
		char fmt[16];
		uint8_t flags;

		if (!sec || get_str(sec, "path", d.path, sizeof(d.path)) ||
		    get_str(sec, "format", fmt, sizeof(fmt)) || snap_get_u8(sec, "flags", &flags) ||
		    get_str(sec, "serial", d.serial, sizeof(d.serial)))
			return -1;
		d.format = NULL;
		for (size_t k = 0; k < 2; k++)
			if (!strcmp(fmt, formats[k]))
				d.format = formats[k];
		d.readonly = flags & 1;
		d.cache_none = (flags >> 1) & 1;
		if (!cfg->ndisks)
			cfg->disk[i] = d;
		else if (cfg->disk[i].readonly != d.readonly)
			return log_to_buf(err, errlen, "disk %u: readonly differs from the snapshot's", i);
	}
	cfg->ndisks = (int)n;
	return 0;
}

static int config_nics(struct machine_snapshot *s, struct machine_config *cfg, char *err,
		       size_t errlen)
{
	struct snap_sec *sec = snap_section(s->in, "nics", 0, 1, NULL);
	uint32_t n;

	if (!sec || snap_get_u32(sec, "count", &n))
		return -1;
	if (n > VMON_MAX_NICS)
		return snap_fail(sec, "%u NICs; at most %d", n, VMON_MAX_NICS);
	if (cfg->nnics && (uint32_t)cfg->nnics != n)
		return log_to_buf(err, errlen, "the snapshot has %u NICs, the command line %d", n,
				  cfg->nnics);
	for (uint32_t i = 0; i < n; i++) {
		char key[16];
		uint8_t mac[6];

		snprintf(key, sizeof(key), "mac%u", i);
		if (snap_get(sec, key, mac, 6))
			return -1;
		if (cfg->nnics) {
			/* A clone keeps the guest's MAC: the driver has it cached. */
			memcpy(cfg->nic[i].mac, mac, 6);
			continue;
		}
		snprintf(key, sizeof(key), "tap%u", i);
		if (get_str(sec, key, cfg->nic[i].tap, sizeof(cfg->nic[i].tap)))
			return -1;
		memcpy(cfg->nic[i].mac, mac, 6);
	}
	cfg->nnics = (int)n;
	return 0;
}

/* The stream's own error, as the one line a restore prints. */
static int stream_error(const struct machine_snapshot *s, char *err, size_t errlen)
{
	return log_to_buf(err, errlen, "%s: %s", s->path, snap_in_error(s->in));
}

static int shape_error(char *err, size_t errlen, const char *what, unsigned long long snap,
		       unsigned long long given)
{
	return log_to_buf(err, errlen, "restore onto a different machine: %s is %llu in the snapshot, "
			  "%llu on the command line", what, snap, given);
}

int machine_snapshot_config(struct machine_snapshot *s, struct machine_config *cfg,
			    char *err, size_t errlen)
{
	uint32_t version = 1, packed = 0;
	struct snap_sec *sec = snap_section(s->in, "machine", 0, 2, &version);
	uint64_t mem;
	uint32_t cpus, ndisks;
	uint8_t mmio, rng;
	char accel[16];

	if (!sec || snap_get_u64(sec, "mem_size", &mem) || snap_get_u32(sec, "cpus", &cpus) ||
	    get_str(sec, "accel", accel, sizeof(accel)) ||
	    get_str(sec, "cmdline", s->str.cmdline, sizeof(s->str.cmdline)) ||
	    snap_get_u8(sec, "transport_mmio", &mmio) || snap_get_u8(sec, "rng", &rng) ||
	    get_str(sec, "console", s->str.console, sizeof(s->str.console)) ||
	    snap_get_u32(sec, "disks", &ndisks) ||
	    (version >= 2 && snap_get_u32(sec, "virtio_packed", &packed)))
		return stream_error(s, err, errlen);
	if (mem != s->h.ram_size)
		return log_to_buf(err, errlen, "snapshot is inconsistent: %llu bytes of RAM, %llu in the header",
				  (unsigned long long)mem, (unsigned long long)s->h.ram_size);
	if (cpus < 1 || cpus > VMON_MAX_CPUS || ndisks > VMON_MAX_DISKS || mmio > 1 || rng > 1 ||
	    (strcmp(accel, "kvm") && strcmp(accel, "emu"))) {
		snap_fail(sec, "a field is out of range");
		return stream_error(s, err, errlen);
	}
	if (cfg->mem_given && cfg->mem_size != mem)
		return shape_error(err, errlen, "RAM", mem, cfg->mem_size);
	if (cfg->cpus_given && (uint32_t)cfg->cpus != cpus)
		return shape_error(err, errlen, "the vCPU count", cpus, (unsigned)cfg->cpus);
	if ((cfg->accel == ACCEL_KVM && strcmp(accel, "kvm")) ||
	    (cfg->accel == ACCEL_EMU && strcmp(accel, "emu")))
		return log_to_buf(err, errlen, "the snapshot was taken under --accel %s", accel);
	if (cfg->transport_mmio && !mmio)
		return log_to_buf(err, errlen, "the snapshot's virtio devices are on PCI, not MMIO");
	if (cfg->rng && !rng)
		return log_to_buf(err, errlen, "the snapshot has no virtio-rng");
	if (cfg->virtio_console && !s->str.console[0])
		return log_to_buf(err, errlen, "the snapshot has no virtio-console");
	cfg->mem_size = mem;
	cfg->cpus = (int)cpus;
	cfg->accel = strcmp(accel, "kvm") ? ACCEL_EMU : ACCEL_KVM;
	cfg->cmdline = s->str.cmdline;
	cfg->transport_mmio = mmio;
	cfg->rng = rng;
	if (!s->str.console[0])
		cfg->virtio_console = NULL;
	else if (!cfg->virtio_console)
		cfg->virtio_console = s->str.console;
	/* Their own errors are in err already; the stream's are not. */
	if (config_disks(s, cfg, ndisks, err, errlen) || config_nics(s, cfg, err, errlen))
		return snap_in_error(s->in)[0] ? stream_error(s, err, errlen) : -1;
	/* The ring layouts the guest may have chosen are the snapshot's, like its MACs. */
	machine_virtio_set_packed(cfg, packed);
	cfg->restore = s;
	return 0;
}

int machine_snapshot_map_ram(struct machine *m, struct machine_snapshot *s)
{
	if (guest_mem_map_file(&m->mem, s->fd, s->h.ram_off)) {
		log_err("%s: cannot map the RAM image: %s", s->path, strerror(errno));
		return -1;
	}
	return 0;
}

int machine_snapshot_load(struct machine *m, struct machine_snapshot *s)
{
	static struct x86_cpu_state st;    /* large; one restore per process */

	for (int i = 0; i < m->ncpus; i++) {
		if (snap_cpu_load(s->in, (uint32_t)i, &st))
			goto stream;
		if (m->accel->vcpu_set_state(&m->vcpus[i], &st)) {
			log_err("%s: the accelerator refuses the state of vCPU %d", s->path, i);
			return -1;
		}
	}
	if ((m->accel->vm_load && m->accel->vm_load(m, s->in)) || machine_devices_load(m, s->in))
		goto stream;
	return 0;
stream:
	log_err("%s: %s", s->path, snap_in_error(s->in));
	return -1;
}
