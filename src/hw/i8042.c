/* SPDX-License-Identifier: Apache-2.0 */
#include "hw/i8042.h"

#include <pthread.h>
#include <stdlib.h>

#include "machine/machine.h"
#include "snapshot/snap.h"
#include "util/log.h"

#define I8042_DATA   0x60
#define I8042_CMD    0x64
#define PORT_A       0x92

#define STAT_OBF      0x01
#define STAT_SYS      0x04
#define STAT_CMD      0x08    /* the last write went to 0x64 */
#define STAT_UNLOCKED 0x10
#define STAT_AUX_OBF  0x20

#define MODE_KBD_INT  0x01
#define MODE_AUX_INT  0x02
#define MODE_SYS      0x04
#define MODE_KBD_OFF  0x10
#define MODE_AUX_OFF  0x20

#define OUT_RESET     0x01    /* active low */
#define OUT_A20       0x02
#define OUT_KBD_OBF   0x10
#define OUT_AUX_OBF   0x20

#define PORT_A_RESET  0x01
#define PORT_A_A20    0x02

#define I8042_GSI_KBD 1
#define I8042_GSI_AUX 12
#define I8042_QUEUE   16

struct i8042_byte {
	uint8_t data;
	uint8_t aux;
};

struct i8042 {
	pthread_mutex_t lock;
	struct bus *pio;
	struct machine *m;
	uint8_t status;        /* SYS, CMD and UNLOCKED; OBF bits come from the queue */
	uint8_t mode;          /* the controller command byte */
	uint8_t outport;
	uint8_t port_a;
	uint8_t pending;       /* command waiting for its data byte on 0x60, or 0 */
	uint8_t last;          /* what 0x60 reads when nothing is queued */
	int kbd_level, aux_level;
	struct i8042_byte queue[I8042_QUEUE];
	unsigned head, count;
};

static void i8042_set_line(struct i8042 *k, unsigned gsi, int *cur, int level)
{
	struct irq_line line = { k->m->irq, gsi };

	/* Until the accelerator has made its irqchip there is nobody to tell. */
	if (*cur == level || !line.chip)
		return;
	*cur = level;
	irq_line_set(&line, level);
}

static void i8042_update_irq(struct i8042 *k)
{
	int kbd = 0, aux = 0;

	if (k->count) {
		if (k->queue[k->head].aux)
			aux = !!(k->mode & MODE_AUX_INT);
		else
			kbd = !!(k->mode & MODE_KBD_INT);
	}
	i8042_set_line(k, I8042_GSI_KBD, &k->kbd_level, kbd);
	i8042_set_line(k, I8042_GSI_AUX, &k->aux_level, aux);
}

/* A full queue drops the byte: the controller has one buffer, vmon is generous. */
static void i8042_queue(struct i8042 *k, uint8_t data, int aux)
{
	if (k->count == I8042_QUEUE)
		return;
	k->queue[(k->head + k->count) % I8042_QUEUE] = (struct i8042_byte){ data, (uint8_t)aux };
	k->count++;
}

static uint8_t i8042_status(const struct i8042 *k)
{
	uint8_t s = k->status;

	if (k->count)
		s |= STAT_OBF | (k->queue[k->head].aux ? STAT_AUX_OBF : 0);
	return s;
}

static uint8_t i8042_read_outport(const struct i8042 *k)
{
	uint8_t s = i8042_status(k), v = k->outport & (uint8_t)~(OUT_KBD_OBF | OUT_AUX_OBF);

	if ((s & STAT_OBF) && !(s & STAT_AUX_OBF))
		v |= OUT_KBD_OBF;
	if (s & STAT_AUX_OBF)
		v |= OUT_AUX_OBF;
	return v;
}

static void i8042_log_a20(const struct i8042 *k, int before)
{
	int now = ((k->outport | k->port_a) & OUT_A20) != 0;

	if (now != before)
		log_debug("A20 %s", now ? "enabled" : "disabled");
}

/* Returns 1 when the write pulls the reset line. */
static int i8042_write_outport(struct i8042 *k, uint8_t v)
{
	int a20 = ((k->outport | k->port_a) & OUT_A20) != 0;

	k->outport = v;
	i8042_log_a20(k, a20);
	return !(v & OUT_RESET);
}

static void i8042_set_a20(struct i8042 *k, int on)
{
	int a20 = ((k->outport | k->port_a) & OUT_A20) != 0;

	k->outport = (uint8_t)(on ? k->outport | OUT_A20 : k->outport & ~OUT_A20);
	i8042_log_a20(k, a20);
}

/* Returns 1 when the command pulses the reset line. */
static int i8042_command(struct i8042 *k, uint8_t cmd)
{
	if (cmd >= 0xf0)
		return !(cmd & 0x01);   /* pulse output lines; bit 0 is reset */
	switch (cmd) {
	case 0x20:
		i8042_queue(k, k->mode, 0);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending = cmd;
		break;
	case 0xa7:
		k->mode |= MODE_AUX_OFF;
		break;
	case 0xa8:
		k->mode &= (uint8_t)~MODE_AUX_OFF;
		break;
	case 0xa9: case 0xab:
		i8042_queue(k, 0x00, 0);   /* interface tests pass */
		break;
	case 0xaa:
		k->status |= STAT_SYS;
		k->outport |= OUT_RESET;
		i8042_queue(k, 0x55, 0);
		break;
	case 0xad:
		k->mode |= MODE_KBD_OFF;
		break;
	case 0xae:
		k->mode &= (uint8_t)~MODE_KBD_OFF;
		break;
	case 0xc0: case 0xe0:
		i8042_queue(k, 0x00, 0);   /* input port, test inputs */
		break;
	case 0xd0:
		i8042_queue(k, i8042_read_outport(k), 0);
		break;
	case 0xdd:
		i8042_set_a20(k, 0);
		break;
	case 0xdf:
		i8042_set_a20(k, 1);
		break;
	default:
		log_debug("i8042: command %#x ignored", cmd);
		break;
	}
	return 0;
}

/* Returns 1 when the byte pulls the reset line. */
static int i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60:
		k->mode = v;
		k->status = (uint8_t)((k->status & ~STAT_SYS) | (v & MODE_SYS));
		return 0;
	case 0xd1:
		return i8042_write_outport(k, v);
	case 0xd2:
		i8042_queue(k, v, 0);
		return 0;
	case 0xd3:
		i8042_queue(k, v, 1);
		return 0;
	default:
		log_debug("i8042: byte %#x for the absent %s dropped", v,
			  cmd == 0xd4 ? "mouse" : "keyboard");
		return 0;
	}
}

static void i8042_reset(struct i8042 *k)
{
	log_info("guest requested reset");
	machine_request_exit(k->m, VMON_EXIT_OK);
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&k->lock);
	if (k->count) {
		k->last = k->queue[k->head].data;
		k->head = (k->head + 1) % I8042_QUEUE;
		k->count--;
	}
	v = k->last;
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void i8042_data_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct i8042 *k = opaque;
	int reset;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&k->lock);
	k->status &= (uint8_t)~STAT_CMD;
	reset = i8042_data(k, (uint8_t)value);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		i8042_reset(k);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&k->lock);
	v = i8042_status(k);
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct i8042 *k = opaque;
	int reset;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&k->lock);
	k->status |= STAT_CMD;
	k->pending = 0;    /* a new command abandons one waiting for data */
	reset = i8042_command(k, (uint8_t)value);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		i8042_reset(k);
}

static uint64_t port_a_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&k->lock);
	v = k->port_a;
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void port_a_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct i8042 *k = opaque;
	int a20;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&k->lock);
	a20 = ((k->outport | k->port_a) & OUT_A20) != 0;
	/* Bit 0 is a trigger: it reads back as 0. */
	k->port_a = (uint8_t)(value & ~PORT_A_RESET);
	i8042_log_a20(k, a20);
	pthread_mutex_unlock(&k->lock);
	if (value & PORT_A_RESET)
		i8042_reset(k);
}

/* ---- snapshots ---- */

void i8042_save(struct i8042 *k, struct snap_out *o)
{
	uint8_t q[2 * I8042_QUEUE];

	pthread_mutex_lock(&k->lock);
	for (unsigned i = 0; i < k->count; i++) {
		const struct i8042_byte *b = &k->queue[(k->head + i) % I8042_QUEUE];

		q[2 * i] = b->data;
		q[2 * i + 1] = b->aux;
	}
	snap_begin(o, "i8042", 0, 1);
	snap_put_u8(o, "status", k->status);
	snap_put_u8(o, "mode", k->mode);
	snap_put_u8(o, "outport", k->outport);
	snap_put_u8(o, "port_a", k->port_a);
	snap_put_u8(o, "pending", k->pending);
	snap_put_u8(o, "last", k->last);
	snap_put(o, "queue", q, 2 * k->count);
	pthread_mutex_unlock(&k->lock);
}

static int i8042_snap_check(struct snap_sec *sec, const struct i8042 *v, const uint8_t *q,
			    size_t qlen)
{
	uint8_t p = v->pending;

	if (v->status & ~(STAT_SYS | STAT_CMD | STAT_UNLOCKED) || (v->port_a & PORT_A_RESET) ||
	    (p && p != 0x60 && (p < 0xd1 || p > 0xd4)))
		return snap_fail(sec, "status %#x, port A %#x or pending command %#x impossible",
				 v->status, v->port_a, p);
	if (qlen % 2 || qlen / 2 > I8042_QUEUE)
		return snap_fail(sec, "a queue of %zu bytes is not at most %d entries", qlen,
				 I8042_QUEUE);
	for (size_t i = 1; i < qlen; i += 2)
		if (q[i] > 1)
			return snap_fail(sec, "queue entry %zu: aux flag %u", i / 2, q[i]);
	return 0;
}

int i8042_load(struct i8042 *k, struct snap_in *in)
{
	struct snap_sec *sec = snap_section(in, "i8042", 0, 1, NULL);
	struct i8042 v;
	const uint8_t *q;
	size_t qlen;

	if (!sec || snap_get_u8(sec, "status", &v.status) || snap_get_u8(sec, "mode", &v.mode) ||
	    snap_get_u8(sec, "outport", &v.outport) || snap_get_u8(sec, "port_a", &v.port_a) ||
	    snap_get_u8(sec, "pending", &v.pending) || snap_get_u8(sec, "last", &v.last) ||
	    !(q = snap_get_var(sec, "queue", &qlen)))
		return -1;
	if (i8042_snap_check(sec, &v, q, qlen))
		return -1;
	pthread_mutex_lock(&k->lock);
	k->status = v.status;
	k->mode = v.mode;
	k->outport = v.outport;
	k->port_a = v.port_a;
	k->pending = v.pending;
	k->last = v.last;
	k->head = 0;
	k->count = (unsigned)(qlen / 2);
	for (unsigned i = 0; i < k->count; i++)
		k->queue[i] = (struct i8042_byte){ q[2 * i], q[2 * i + 1] };
	/* Unknown levels: both lines are driven to what the queue says. */
	k->kbd_level = k->aux_level = -1;
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static const struct bus_ops i8042_data_ops = { .read = i8042_data_read, .write = i8042_data_write };
static const struct bus_ops i8042_cmd_ops = { .read = i8042_cmd_read, .write = i8042_cmd_write };
static const struct bus_ops port_a_ops = { .read = port_a_read, .write = port_a_write };

int i8042_a20_enabled(struct i8042 *k)
{
	int on;

	pthread_mutex_lock(&k->lock);
	on = ((k->outport | k->port_a) & OUT_A20) != 0;
	pthread_mutex_unlock(&k->lock);
	return on;
}

struct i8042 *i8042_new(struct bus *pio, struct machine *m)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k) {
		log_err("out of memory for the i8042");
		return NULL;
	}
	pthread_mutex_init(&k->lock, NULL);
	k->pio = pio;
	k->m = m;
	/* As QEMU starts it: no self test yet, both interrupts on, A20 open. */
	k->status = STAT_CMD | STAT_UNLOCKED;
	k->mode = MODE_KBD_INT | MODE_AUX_INT;
	k->outport = OUT_RESET | OUT_A20 | 0xcc;
	if (bus_register(pio, I8042_DATA, 1, &i8042_data_ops, k, "i8042-data"))
		goto fail;
	if (bus_register(pio, I8042_CMD, 1, &i8042_cmd_ops, k, "i8042-cmd"))
		goto fail_data;
	if (bus_register(pio, PORT_A, 1, &port_a_ops, k, "port92"))
		goto fail_cmd;
	return k;
fail_cmd:
	bus_unregister(pio, I8042_CMD);
fail_data:
	bus_unregister(pio, I8042_DATA);
fail:
	log_err("cannot register the i8042 at ports 0x60, 0x64 and 0x92");
	pthread_mutex_destroy(&k->lock);
	free(k);
	return NULL;
}

void i8042_free(struct i8042 *k)
{
	if (!k)
		return;
	bus_unregister(k->pio, I8042_DATA);
	bus_unregister(k->pio, I8042_CMD);
	bus_unregister(k->pio, PORT_A);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
