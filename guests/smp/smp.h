/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

#define NAME "smp"

/* nmi.c: the BSP runs MOV SS in a loop while one AP sends it NMIs. */
void nmi_shadow_test(void);
void nmi_shadow_sender(uint32_t bsp_apic_id);

#endif
