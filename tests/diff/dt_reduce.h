/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_DIFF_DT_REDUCE_H
#define VMON_TESTS_DIFF_DT_REDUCE_H

#include "dt_cmp.h"

/* The reference (KVM) and the software CPU, and their last outputs. */
struct dt_pair {
	struct dt_vm *ref, *emu;
	struct dt_output oref, oemu;
	unsigned long runs;
};

/* Assembles c and runs it on both; -1 if an accelerator failed. */
int dt_pair_run(struct dt_pair *p, struct dt_case *c, enum dt_verdict *v);

/*
 * Shrinks a case that differs (DT_DIFF) while it keeps differing: drops
 * items, then simplifies the initial state (registers, flags, XMM, memory
 * to zero).  Leaves p's outputs those of the reduced case.
 */
void dt_reduce(struct dt_pair *p, struct dt_case *c);

#endif
