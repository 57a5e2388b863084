/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qcow2 metadata caches: L2 tables and refcount blocks, one cluster
 * each, written back lazily.  Order: a dirty L2 table that points at newly
 * allocated clusters is written only after the refcount blocks that count
 * them are written and synced (q->l2_dep_rc), so a crash at any moment
 * leaves clusters counted but unreferenced (leaks), never referenced but
 * uncounted.  Freeing goes the other way (qcow2_free_*: the metadata that
 * dropped the reference is written first).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_int.h"

int qcache_init(struct qcache *c, int n, size_t size, bool is_l2)
{
	memset(c, 0, sizeof(*c));
	c->e = calloc((size_t)n, sizeof(*c->e));
	if (!c->e)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (posix_memalign((void **)&c->e[i].data, 4096, size)) {
			c->n = i;
			qcache_free(c);
			return -ENOMEM;
		}
	}
	c->n = n;
	c->size = size;
	c->is_l2 = is_l2;
	return 0;
}

void qcache_free(struct qcache *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->e[i].data);
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static int write_ent(struct qcow2 *q, struct qcache *c, struct qcache_ent *e)
{
	int ret;

	if (!e->dirty)
		return 0;
	if (c->is_l2 && q->l2_dep_rc) {
		ret = qcache_writeback(q, &q->rbc);
		if (ret < 0)
			return ret;
		if (!q->lazy && (ret = file_flush(q->f)) < 0)
			return ret;
		q->l2_dep_rc = false;
	}
	ret = file_pwrite(q->f, e->data, c->size, e->off);
	if (ret < 0)
		return ret;
	e->dirty = false;
	return 0;
}

int qcache_get(struct qcow2 *q, struct qcache *c, uint64_t off, bool read, uint8_t **data)
{
	struct qcache_ent *e = &c->e[c->last];
	int victim = -1;

	if (e->off != off) {
		e = NULL;
		for (int i = 0; i < c->n; i++) {
			if (c->e[i].off == off) {
				e = &c->e[i];
				c->last = i;
				break;
			}
			if (c->e[i].pin)
				continue;
			if (victim < 0 || c->e[i].off == 0 ||
			    (c->e[victim].off != 0 && c->e[i].lru < c->e[victim].lru))
				victim = i;
		}
	}
	if (!e) {
		if (victim < 0)
			return -ENOMEM;   /* every table pinned: a bug */
		e = &c->e[victim];
		if (e->off) {
			int ret = write_ent(q, c, e);
			if (ret < 0)
				return ret;
		}
		e->off = 0;
		if (read) {
			int ret = file_pread(q->f, e->data, c->size, off);
			if (ret < 0)
				return ret;
		} else {
			memset(e->data, 0, c->size);
		}
		e->off = off;
		e->dirty = false;
		c->last = victim;
	} else if (!read) {
		memset(e->data, 0, c->size);
	}
	e->lru = ++c->tick;
	e->pin++;
	*data = e->data;
	return 0;
}

void qcache_put(struct qcache *c, uint8_t *data, bool dirty)
{
	for (int i = 0; i < c->n; i++) {
		if (c->e[i].data == data) {
			c->e[i].pin--;
			if (dirty)
				c->e[i].dirty = true;
			return;
		}
	}
}

int qcache_writeback(struct qcow2 *q, struct qcache *c)
{
	for (int i = 0; i < c->n; i++) {
		if (c->e[i].off && c->e[i].dirty) {
			int ret = write_ent(q, c, &c->e[i]);
			if (ret < 0)
				return ret;
		}
	}
	if (c->is_l2) {
		/* Nothing dirty left that could depend on the refcounts. */
		q->l2_dep_rc = false;
	}
	return 0;
}

void qcache_drop(struct qcache *c, uint64_t off)
{
	for (int i = 0; i < c->n; i++) {
		if (c->e[i].off == off && !c->e[i].pin) {
			c->e[i].off = 0;
			c->e[i].dirty = false;
		}
	}
}

void qcache_drop_all(struct qcache *c)
{
	for (int i = 0; i < c->n; i++) {
		c->e[i].off = 0;
		c->e[i].dirty = false;
		c->e[i].pin = 0;
	}
}

int qcow2_flush_caches(struct qcow2 *q, bool sync)
{
	int ret = qcache_writeback(q, &q->rbc);
	if (ret < 0)
		return ret;
	ret = qcache_writeback(q, &q->l2c);
	if (ret < 0)
		return ret;
	return sync ? file_flush(q->f) : 0;
}
