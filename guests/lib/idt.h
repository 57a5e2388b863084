/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

/*
 * A 32-bit IDT for vectors 0-63, installed by the entry code of every
 * protected-mode guest: an unexpected exception prints where it happened
 * and exits with GUEST_FAIL instead of ending in a silent triple fault.
 */
#include <stdint.h>

#define IDT_VECTORS 64

struct idt_frame {              /* as pushed by isr.S */
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

typedef void (*idt_handler)(struct idt_frame *f);

/* Fills the table and loads it on this CPU. */
void idt_init(void);
/* Loads the already filled table: for APs. */
void idt_load(void);
void idt_set_handler(uint8_t vector, idt_handler fn);
/* A vector's gate as a raw descriptor, for a guest to write a gate of its own in place. */
uint64_t *idt_entry(uint8_t vector);
/* Called by the stubs in isr.S. */
void idt_dispatch(struct idt_frame *f);

#endif
