/* SPDX-License-Identifier: Apache-2.0 */
/* Shared lines (wired-OR), and MSI sources: the accelerator's fast path
 * when it has one, else send_msi. */
#include "machine/irq.h"

#include <string.h>

static void shared_set_level(struct irq_chip *chip, unsigned driver, int level)
{
	struct irq_shared *s = (struct irq_shared *)chip;

	if (driver >= 32)
		return;
	pthread_mutex_lock(&s->lock);
	if (level)
		s->up |= 1u << driver;
	else
		s->up &= ~(1u << driver);
	if (s->parent)
		s->parent->set_level(s->parent, s->gsi, s->up != 0);
	pthread_mutex_unlock(&s->lock);
}

static void shared_send_msi(struct irq_chip *chip, uint64_t addr, uint32_t data)
{
	struct irq_shared *s = (struct irq_shared *)chip;

	if (s->parent)
		s->parent->send_msi(s->parent, addr, data);
}

void irq_shared_init(struct irq_shared *s, struct irq_chip *parent, unsigned gsi)
{
	memset(s, 0, sizeof(*s));
	s->chip.set_level = shared_set_level;
	s->chip.send_msi = shared_send_msi;
	pthread_mutex_init(&s->lock, NULL);
	s->parent = parent;
	s->gsi = gsi;
}

void irq_shared_destroy(struct irq_shared *s)
{
	pthread_mutex_destroy(&s->lock);
}

void irq_msi_init(struct irq_msi *src, struct irq_chip *chip)
{
	memset(src, 0, sizeof(*src));
	src->chip = chip;
}

static bool has_fast_path(const struct irq_msi *src)
{
	return src->chip && src->chip->msi_bind && !src->slow;
}

void irq_msi_update(struct irq_msi *src, uint64_t addr, uint32_t data, bool armed)
{
	if (src->addr == addr && src->data == data && src->armed == armed)
		return;
	src->addr = addr;
	src->data = data;
	src->armed = armed;
	/* Nothing to bind until the source is first armed. */
	if (!has_fast_path(src) || (!armed && !src->binding))
		return;
	if (src->chip->msi_bind(src->chip, src))
		src->slow = true;
}

void irq_msi_fire(struct irq_msi *src)
{
	if (!src->chip)
		return;
	if (has_fast_path(src) && src->binding && src->armed)
		src->chip->msi_signal(src->chip, src);
	else
		src->chip->send_msi(src->chip, src->addr, src->data);
}

void irq_msi_release(struct irq_msi *src)
{
	if (src->binding && src->chip->msi_unbind)
		src->chip->msi_unbind(src->chip, src);
	src->binding = NULL;
}
