/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_DIFF_DT_VM_H
#define VMON_TESTS_DIFF_DT_VM_H

#include <stddef.h>
#include <stdint.h>

#include "accel/accel.h"

/*
 * One machine with one vCPU on one accelerator, made to run a piece of
 * user-mode (CPL 3, 64-bit) code from a given register and memory state
 * until its first exception, and to report the state at that point.
 * Guest-virtual addresses are physical ones (identity map):
 */
#define DT_CODE_BASE  0x10000ULL     /* user, read-only, executable */
#define DT_CODE_MAX   0x4000         /* room for code plus the final UD2 */
#define DT_DATA_BASE  0x40000ULL     /* user, read-write, not executable */
#define DT_DATA_SIZE  0x2000
#define DT_STACK_BASE 0x50000ULL     /* user stack page, read-write */
#define DT_STACK_SIZE 0x1000
#define DT_NR_XMM     16
/* Segment bases: FS somewhere else (FS-relative code reaches the data area
 * with a negative displacement), GS the data area. */
#define DT_FS_BASE    0x12345000ULL
#define DT_GS_BASE    DT_DATA_BASE

/* Where a run ended. */
enum {
	DT_END_TIMEOUT = -1,   /* no exception within the time limit */
	DT_END_ERROR = -2,     /* the accelerator stopped for another reason */
};

struct dt_input {
	uint8_t code[DT_CODE_MAX];   /* ends in UD2 (the generator adds it) */
	size_t code_len;
	int compat;                  /* 32-bit code (compatibility mode), not 64-bit */
	uint64_t gpr[16];            /* encoding order; RSP included */
	uint64_t rflags;             /* the user-settable bits */
	uint8_t xmm[DT_NR_XMM][16];
	uint32_t mxcsr;
	struct dt_x87 {
		uint16_t fcw, fsw;
		uint8_t ftw;             /* abridged: bit i = physical register i valid */
		uint8_t st[8][10];       /* ST(i) (MMi in the low 8 bytes) */
	} x87;
	uint8_t data[DT_DATA_SIZE];
	uint8_t stack[DT_STACK_SIZE];
};

struct dt_output {
	int vector;                  /* exception vector, or DT_END_* */
	uint64_t error_code;         /* for vectors that push one */
	uint64_t cr2;                /* for #PF */
	uint64_t gpr[16];            /* RSP as it was when the exception hit */
	uint64_t rip, rflags;        /* from the exception frame */
	uint16_t cs, ss;
	uint8_t xmm[DT_NR_XMM][16];
	uint32_t mxcsr;
	struct dt_x87 x87;           /* FOP, FIP and FDP are not compared */
	uint8_t data[DT_DATA_SIZE];
	uint8_t stack[DT_STACK_SIZE];
};

struct dt_vm;

/* NULL with the reason in why when the accelerator cannot run here. */
struct dt_vm *dt_vm_new(const struct accel_ops *ops, char *why, size_t len);
void dt_vm_free(struct dt_vm *vm);

/* Runs in to out: 0, or -1 if the accelerator failed (out->vector then says how). */
int dt_vm_run(struct dt_vm *vm, const struct dt_input *in, struct dt_output *out);

/* Whether vector pushes an error code in 64-bit mode. */
int dt_vector_has_error(int vector);

#endif
