/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

/* The local APIC at its default address, xAPIC (MMIO) mode. */
#include <stdint.h>

#define LAPIC_BASE    0xfee00000u
#define LAPIC_ID      0x020
#define LAPIC_VERSION 0x030
#define LAPIC_EOI     0x0b0
#define LAPIC_SVR     0x0f0
#define LAPIC_ICR_LO  0x300
#define LAPIC_ICR_HI  0x310

/* Inside the 64-vector IDT of the 32-bit guests; low nibble 0xf as P6 wants. */
#define LAPIC_SPURIOUS_VECTOR 0x3f

#define ICR_INIT          0x00000500u
#define ICR_STARTUP       0x00000600u
#define ICR_LEVEL_ASSERT  0x00004000u
#define ICR_PENDING       0x00001000u
#define ICR_ALL_BUT_SELF  0x000c0000u

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
/* Software-enables the LAPIC. */
void lapic_enable(void);
void lapic_eoi(void);
/* Sends an IPI and waits for delivery: 0, or -1 when it stays pending. */
int lapic_send_ipi(uint32_t dest_apic_id, uint32_t icr_lo);

#endif
