/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/fw_cfg.h"

#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"
#include "util/log.h"

#define FW_CFG_DIR_ENTRY 64

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg_file {
	char name[FW_CFG_MAX_NAME];
	struct fw_cfg_item item;
};

struct fw_cfg_dma_desc {
	uint32_t control;
	uint32_t length;
	uint64_t address;
};

struct fw_cfg {
	pthread_mutex_t lock;
	struct bus *pio;
	struct guest_mem *mem;
	/* [arch local][key]: the fixed items below FW_CFG_FILE_FIRST */
	struct fw_cfg_item items[2][FW_CFG_FILE_FIRST];
	struct fw_cfg_file *files;    /* sorted by name, FW_CFG_MAX_FILES slots */
	unsigned nfiles;
	uint8_t *dir;                 /* FILE_DIR's contents, rebuilt on each add */

	uint16_t key;                 /* selected, write-channel bit dropped */
	uint32_t offset;
	uint64_t dma_addr;
};

static const uint8_t fw_cfg_dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

/* The item key selects, or NULL when it names nothing. */
static const struct fw_cfg_item *fw_cfg_item_of(const struct fw_cfg *f, uint16_t key)
{
	unsigned arch = !!(key & FW_CFG_ARCH_LOCAL);
	unsigned idx = key & 0x3fff;

	if (idx < FW_CFG_FILE_FIRST)
		return f->items[arch][idx].data ? &f->items[arch][idx] : NULL;
	if (!arch && idx - FW_CFG_FILE_FIRST < f->nfiles)
		return &f->files[idx - FW_CFG_FILE_FIRST].item;
	return NULL;
}

static const struct fw_cfg_item *fw_cfg_cur(const struct fw_cfg *f)
{
	return fw_cfg_item_of(f, f->key);
}

static void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	f->key = key & (uint16_t)~FW_CFG_WRITE_CHANNEL;
	f->offset = 0;
}

/* Past the end of an item, or with nothing selected, the data port reads 0. */
static uint8_t fw_cfg_read_byte(struct fw_cfg *f)
{
	const struct fw_cfg_item *it = fw_cfg_cur(f);

	if (!it || f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

static uint64_t fw_cfg_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct fw_cfg *f = opaque;
	uint64_t v = 0;

	(void)offset;   /* as in QEMU, both ports read the data stream */
	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)fw_cfg_read_byte(f) << (8 * i);
	pthread_mutex_unlock(&f->lock);
	return v;
}

/* A 16-bit write selects; byte writes are data writes, ignored for read-only items. */
static void fw_cfg_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct fw_cfg *f = opaque;

	(void)offset;
	if (size != 2)
		return;
	pthread_mutex_lock(&f->lock);
	fw_cfg_select(f, (uint16_t)value);
	pthread_mutex_unlock(&f->lock);
}

static const struct bus_ops fw_cfg_io_ops = {
	.read = fw_cfg_io_read,
	.write = fw_cfg_io_write,
};

/* One step of a transfer: returns the bytes it covered, 0 with *err set on a bad buffer. */
static uint32_t fw_cfg_dma_chunk(struct fw_cfg *f, const struct fw_cfg_dma_desc *d, int *err)
{
	const struct fw_cfg_item *it = fw_cfg_cur(f);
	int read = d->control & FW_CFG_DMA_CTL_READ;
	uint32_t len = d->length;
	void *p;

	if (!it || f->offset >= it->len) {
		/* Nothing left: reads get zeros, skips just advance. */
		if (read) {
			p = guest_mem_ptr(f->mem, d->address, len);
			if (!p)
				*err = 1;
			else {
				memset(p, 0, len);
				guest_mem_written(f->mem, d->address, len);
			}
		}
		return len;
	}
	if (len > it->len - f->offset)
		len = it->len - f->offset;
	if (read && guest_mem_write(f->mem, d->address, it->data + f->offset, len)) {
		*err = 1;
		return 0;
	}
	f->offset += len;
	return len;
}

static void fw_cfg_dma_run(struct fw_cfg *f, uint64_t desc_addr)
{
	struct fw_cfg_dma_desc d;
	uint32_t status = 0, be;
	int err = 0;

	if (guest_mem_read(f->mem, desc_addr, &d, sizeof(d))) {
		status = FW_CFG_DMA_CTL_ERROR;
		goto done;
	}
	d.control = be32toh(d.control);
	d.length = be32toh(d.length);
	d.address = be64toh(d.address);
	if (d.control & FW_CFG_DMA_CTL_SELECT)
		fw_cfg_select(f, (uint16_t)(d.control >> 16));
	if (d.control & FW_CFG_DMA_CTL_READ)
		d.control = FW_CFG_DMA_CTL_READ;
	else if (d.control & FW_CFG_DMA_CTL_WRITE)
		err = d.length != 0;   /* no item is writable */
	else if (d.control & FW_CFG_DMA_CTL_SKIP)
		d.control = FW_CFG_DMA_CTL_SKIP;
	else
		d.length = 0;
	if (err)
		d.length = 0;
	while (d.length && !err) {
		uint32_t n = fw_cfg_dma_chunk(f, &d, &err);

		d.address += n;
		d.length -= n;
	}
	if (err)
		status = FW_CFG_DMA_CTL_ERROR;
done:
	/* The guest polls the control word; outside RAM it simply is not written. */
	be = htobe32(status);
	guest_mem_write(f->mem, desc_addr, &be, sizeof(be));
}

/* The DMA register reads back as the signature "QEMU CFG", byte by byte. */
static uint64_t fw_cfg_dma_read(void *opaque, uint64_t offset, unsigned size)
{
	uint64_t v = 0;

	(void)opaque;
	for (unsigned i = 0; i < size && i < 8; i++)
		if (offset + i < 8)
			v |= (uint64_t)fw_cfg_dma_signature[offset + i] << (8 * i);
	return v;
}

/*
 * The address is big-endian in port order: the byte at 0x514 is the most
 * significant.  Writing the low half, or all 64 bits, starts the transfer.
 */
static void fw_cfg_dma_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct fw_cfg *f = opaque;
	uint64_t addr;

	pthread_mutex_lock(&f->lock);
	if (size == 4 && offset == 0) {
		f->dma_addr = (uint64_t)be32toh((uint32_t)value) << 32;
	} else if ((size == 4 && offset == 4) || (size == 8 && offset == 0)) {
		if (size == 4)
			addr = f->dma_addr | be32toh((uint32_t)value);
		else
			addr = be64toh(value);
		f->dma_addr = 0;
		fw_cfg_dma_run(f, addr);
	}
	pthread_mutex_unlock(&f->lock);
}

static const struct bus_ops fw_cfg_dma_ops = {
	.read = fw_cfg_dma_read,
	.write = fw_cfg_dma_write,
};

/* ---- snapshots ---- */

/*
 * The items are configuration, rebuilt by machine_create from the same
 * configuration; the selected one's length is kept to catch a mismatch.
 */
void fw_cfg_save(struct fw_cfg *f, struct snap_out *o)
{
	const struct fw_cfg_item *it;

	pthread_mutex_lock(&f->lock);
	it = fw_cfg_cur(f);
	snap_begin(o, "fw_cfg", 0, 1);
	snap_put_u32(o, "key", f->key);
	snap_put_u32(o, "offset", f->offset);
	snap_put_u64(o, "dma_addr", f->dma_addr);
	snap_put_u32(o, "item_len", it ? it->len : 0);
	pthread_mutex_unlock(&f->lock);
}

int fw_cfg_load(struct fw_cfg *f, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "fw_cfg", 0, 1, NULL);
	uint32_t key, offset, item_len, len;
	const struct fw_cfg_item *it;
	uint64_t dma_addr;

	if (!sec || snap_get_u32(sec, "key", &key) || snap_get_u32(sec, "offset", &offset) ||
	    snap_get_u64(sec, "dma_addr", &dma_addr) || snap_get_u32(sec, "item_len", &item_len))
		return -1;
	if (key > 0xffff || (key & FW_CFG_WRITE_CHANNEL) || (dma_addr & 0xffffffffULL))
		return snap_fail(sec, "selector %#x or DMA address %#llx impossible", key,
				 (unsigned long long)dma_addr);
	pthread_mutex_lock(&f->lock);
	it = fw_cfg_item_of(f, (uint16_t)key);
	len = it ? it->len : 0;
	if (len != item_len || offset > len) {
		pthread_mutex_unlock(&f->lock);
		return snap_fail(sec, "item %#x has %u bytes here, %u in the snapshot (at offset %u)",
				 key, len, item_len, offset);
	}
	f->key = (uint16_t)key;
	f->offset = offset;
	f->dma_addr = dma_addr;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fw_cfg_set_item(struct fw_cfg_item *it, const void *data, size_t len)
{
	uint8_t *copy;

	if (len > UINT32_MAX) {
		log_err("fw_cfg item too large (%zu bytes)", len);
		return -1;
	}
	copy = malloc(len ? len : 1);
	if (!copy) {
		log_err("out of memory for a fw_cfg item of %zu bytes", len);
		return -1;
	}
	if (len)
		memcpy(copy, data, len);
	free(it->data);
	it->data = copy;
	it->len = (uint32_t)len;
	return 0;
}

/* FILE_DIR: BE32 count, then { BE32 size, BE16 select, BE16 reserved, name[56] }. */
static void fw_cfg_build_dir(struct fw_cfg *f)
{
	uint32_t count = htobe32(f->nfiles);
	struct fw_cfg_item *dir = &f->items[0][FW_CFG_FILE_DIR];

	memcpy(f->dir, &count, 4);
	for (unsigned i = 0; i < f->nfiles; i++) {
		uint8_t *e = f->dir + 4 + i * FW_CFG_DIR_ENTRY;
		uint32_t size = htobe32(f->files[i].item.len);
		uint16_t sel = htobe16((uint16_t)(FW_CFG_FILE_FIRST + i));

		memset(e, 0, FW_CFG_DIR_ENTRY);
		memcpy(e, &size, 4);
		memcpy(e + 4, &sel, 2);
		memcpy(e + 8, f->files[i].name, FW_CFG_MAX_NAME);
	}
	dir->data = f->dir;
	dir->len = 4 + f->nfiles * FW_CFG_DIR_ENTRY;
}

int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	unsigned idx = key & 0x3fff;
	int rc;

	if ((key & FW_CFG_WRITE_CHANNEL) || idx >= FW_CFG_FILE_FIRST ||
	    (key == FW_CFG_FILE_DIR)) {
		log_err("fw_cfg key %#x is not a plain item", key);
		return -1;
	}
	pthread_mutex_lock(&f->lock);
	rc = fw_cfg_set_item(&f->items[!!(key & FW_CFG_ARCH_LOCAL)][idx], data, len);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
	uint16_t le = htole16(v);

	return fw_cfg_add(f, key, &le, sizeof(le));
}

int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
	uint32_t le = htole32(v);

	return fw_cfg_add(f, key, &le, sizeof(le));
}

int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
	uint64_t le = htole64(v);

	return fw_cfg_add(f, key, &le, sizeof(le));
}

/* Position of name in the sorted list; *found says whether it is already there. */
static unsigned fw_cfg_file_pos(const struct fw_cfg *f, const char *name, int *found)
{
	unsigned i;

	*found = 0;
	for (i = 0; i < f->nfiles; i++) {
		int c = strcmp(name, f->files[i].name);

		if (c == 0)
			*found = 1;
		if (c <= 0)
			break;
	}
	return i;
}

static int fw_cfg_add_file_locked(struct fw_cfg *f, const char *name, const void *data, size_t len)
{
	struct fw_cfg_item item = { 0 };
	unsigned pos;
	int found;

	pos = fw_cfg_file_pos(f, name, &found);
	if (found)
		return fw_cfg_set_item(&f->files[pos].item, data, len);
	if (f->nfiles == FW_CFG_MAX_FILES) {
		log_err("fw_cfg: too many files (%d) for %s", FW_CFG_MAX_FILES, name);
		return -1;
	}
	if (fw_cfg_set_item(&item, data, len))
		return -1;
	memmove(&f->files[pos + 1], &f->files[pos], (f->nfiles - pos) * sizeof(f->files[0]));
	memset(&f->files[pos], 0, sizeof(f->files[0]));
	strcpy(f->files[pos].name, name);
	f->files[pos].item = item;
	f->nfiles++;
	return 0;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len)
{
	int rc;

	if (!name || !*name || strlen(name) >= FW_CFG_MAX_NAME) {
		log_err("fw_cfg file name '%s' is empty or longer than %d bytes",
			name ? name : "", FW_CFG_MAX_NAME - 1);
		return -1;
	}
	pthread_mutex_lock(&f->lock);
	rc = fw_cfg_add_file_locked(f, name, data, len);
	if (!rc)
		fw_cfg_build_dir(f);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static int fw_cfg_add_builtin(struct fw_cfg *f)
{
	uint32_t id = htole32(FW_CFG_VERSION | FW_CFG_VERSION_DMA);

	if (fw_cfg_set_item(&f->items[0][FW_CFG_SIGNATURE], "QEMU", 4) ||
	    fw_cfg_set_item(&f->items[0][FW_CFG_ID], &id, sizeof(id)))
		return -1;
	fw_cfg_build_dir(f);
	return 0;
}

static void fw_cfg_release(struct fw_cfg *f)
{
	for (unsigned a = 0; a < 2; a++)
		for (unsigned k = 0; k < FW_CFG_FILE_FIRST; k++)
			if (!(a == 0 && k == FW_CFG_FILE_DIR))
				free(f->items[a][k].data);
	for (unsigned i = 0; i < f->nfiles; i++)
		free(f->files[i].item.data);
	free(f->files);
	free(f->dir);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

struct fw_cfg *fw_cfg_new(struct bus *pio, struct guest_mem *mem)
{
	struct fw_cfg *f = calloc(1, sizeof(*f));

	if (!f) {
		log_err("out of memory for fw_cfg");
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	f->pio = pio;
	f->mem = mem;
	f->files = calloc(FW_CFG_MAX_FILES, sizeof(f->files[0]));
	f->dir = calloc(1, 4 + FW_CFG_MAX_FILES * FW_CFG_DIR_ENTRY);
	if (!f->files || !f->dir) {
		log_err("out of memory for fw_cfg");
		fw_cfg_release(f);
		return NULL;
	}
	if (fw_cfg_add_builtin(f)) {
		fw_cfg_release(f);
		return NULL;
	}
	if (bus_register(pio, FW_CFG_PORT_SEL, 2, &fw_cfg_io_ops, f, "fw_cfg")) {
		log_err("cannot register fw_cfg at ports %#x-%#x", FW_CFG_PORT_SEL, FW_CFG_PORT_DATA);
		fw_cfg_release(f);
		return NULL;
	}
	if (bus_register(pio, FW_CFG_PORT_DMA, 8, &fw_cfg_dma_ops, f, "fw_cfg-dma")) {
		log_err("cannot register fw_cfg DMA at ports %#x-%#x", FW_CFG_PORT_DMA,
			FW_CFG_PORT_DMA + 7);
		bus_unregister(pio, FW_CFG_PORT_SEL);
		fw_cfg_release(f);
		return NULL;
	}
	return f;
}

void fw_cfg_free(struct fw_cfg *f)
{
	if (!f)
		return;
	bus_unregister(f->pio, FW_CFG_PORT_SEL);
	bus_unregister(f->pio, FW_CFG_PORT_DMA);
	fw_cfg_release(f);
}
