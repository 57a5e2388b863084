/* SPDX-License-Identifier: Apache-2.0 */
#include "idt.h"

#include "guest.h"

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t zero, type;
	uint16_t offset_hi;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

extern const uint32_t isr_stubs[IDT_VECTORS];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(8)));
static idt_handler handlers[IDT_VECTORS];

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(p));
}

void idt_init(void)
{
	for (int i = 0; i < IDT_VECTORS; i++) {
		idt[i] = (struct idt_gate){
			.offset_lo = (uint16_t)isr_stubs[i],
			.selector = 0x08,
			.type = 0x8e,           /* present, ring 0, 32-bit interrupt gate */
			.offset_hi = (uint16_t)(isr_stubs[i] >> 16),
		};
	}
	idt_load();
}

void idt_set_handler(uint8_t vector, idt_handler fn)
{
	if (vector < IDT_VECTORS)
		handlers[vector] = fn;
}

uint64_t *idt_entry(uint8_t vector)
{
	if (vector >= IDT_VECTORS) {
		gprintf("guest: no IDT entry %u\n", vector);
		guest_exit(GUEST_FAIL);
	}
	return (uint64_t *)&idt[vector];
}

void idt_dispatch(struct idt_frame *f)
{
	if (f->vector < IDT_VECTORS && handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	gprintf("guest: unexpected vector %u error %#x at %x:%x eflags %x\n",
		f->vector, f->error, f->cs, f->eip, f->eflags);
	guest_exit(GUEST_FAIL);
}
