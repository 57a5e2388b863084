/* SPDX-License-Identifier: Apache-2.0 */
#include "pic.h"

#include "guest.h"

void pic_init(uint8_t master_mask, uint8_t slave_mask)
{
	outb(0x20, 0x11);               /* ICW1: edge, cascade, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, PIC_VECTOR_BASE);    /* ICW2 */
	outb(0xa1, PIC_VECTOR_BASE + 8);
	outb(0x21, 1 << 2);             /* ICW3: slave on IRQ2 */
	outb(0xa1, 2);
	outb(0x21, 0x01);               /* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, master_mask);
	outb(0xa1, slave_mask);
}
