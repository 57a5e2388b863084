/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_DIFF_DT_GEN_H
#define VMON_TESTS_DIFF_DT_GEN_H

#include <stdint.h>

#include "dt_case.h"

/* A small, seedable PRNG (xorshift64*): the same seed, the same cases. */
uint64_t dt_rand(uint64_t *state);

/*
 * Exhaustive flag cases: every ALU, shift, rotate, multiply, divide, bit
 * scan and condition-code instruction at each width over operand values
 * at the carry/overflow/sign/zero/parity/aux boundaries, with each
 * incoming CF (and other flags), shifts by every count 0..width+1.  Each
 * block loads its operands and flags, runs one instruction and stores RAX,
 * RCX, RDX and the flags in its own DT_SLOT_SIZE slot of the data area.
 */
#define DT_SLOT_SIZE 32

struct dt_exh;
/* The enumeration of every case; NULL when out of memory. */
struct dt_exh *dt_exh_new(void);
void dt_exh_free(struct dt_exh *x);
int dt_exh_count(const struct dt_exh *x);
/* Appends case b (at slot index slot) to c; -1 if it does not fit. */
int dt_exh_add(const struct dt_exh *x, struct dt_case *c, int b, int slot);
/* "add 32-bit a=... b=... flags in ..." */
void dt_exh_describe(const struct dt_exh *x, int b, char *buf, int len);
/* "add 32-bit": the instruction and width alone. */
void dt_exh_key(const struct dt_exh *x, int b, char *buf, int len);

/* A random sequence of up to max_items items and a random initial state. */
void dt_gen_random(struct dt_case *c, uint64_t *rng, int max_items);
/* The same in 32-bit code, run in compatibility mode (dt_compat.c). */
void dt_gen_compat(struct dt_case *c, uint64_t *rng, int max_items);

/* Shared by the random generators (dt_rand.c, dt_sse.c). */
unsigned dt_rn(uint64_t *r, unsigned n);
int dt_rand_mem(uint64_t *r, int align);
void dt_gen_sse_init(struct dt_input *in, uint64_t *r);
void dt_gen_sse_int(struct dt_item *it, uint64_t *r);
void dt_gen_sse_fp(struct dt_item *it, uint64_t *r);
void dt_gen_sse_gpr(struct dt_item *it, uint64_t *r);
void dt_gen_crypto(struct dt_item *it, uint64_t *r);
void dt_gen_x87_init(struct dt_input *in, uint64_t *r);
void dt_gen_x87(struct dt_item *it, uint64_t *r);
void dt_gen_more(struct dt_item *it, uint64_t *r);

#endif
