/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_DIFF_DT_CMP_H
#define VMON_TESTS_DIFF_DT_CMP_H

#include <stdio.h>

#include "dt_case.h"

enum dt_verdict {
	DT_SAME,
	DT_UNDEF_ONLY,   /* differs only in flags the SDM leaves undefined */
	DT_DIFF,
};

/* Compares the reference's output (ref) with emu's (emu) for case c. */
enum dt_verdict dt_compare(const struct dt_case *c, const struct dt_output *ref,
			   const struct dt_output *emu);

/* Every difference, one line each, "  what: ref X, emu Y". */
void dt_print_diff(FILE *f, const struct dt_case *c, const struct dt_output *ref,
		   const struct dt_output *emu);

/* The offset of the first data-area byte that differs, or -1. */
int dt_first_data_diff(const struct dt_output *ref, const struct dt_output *emu);

/* The case's bytes, and a disassembly through objdump when it is there. */
void dt_print_code(FILE *f, const struct dt_case *c);
/* The initial registers, flags, MXCSR and the XMM registers. */
void dt_print_input(FILE *f, const struct dt_input *in);
/* The final state of one side. */
void dt_print_output(FILE *f, const char *who, const struct dt_output *o);

#endif
