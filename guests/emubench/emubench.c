/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A compute loop for bench/emu: integer ALU, loads, stores and branches in
 * 64-bit mode, written in assembly so the number of instructions retired is
 * known exactly (LOOP_INSNS per iteration).  "n=N" sets the iterations
 * (default 1000000); the guest prints the instruction count and a checksum
 * of its working set, which must be the same under every accelerator.
 */
#include "guest.h"
#include "multiboot.h"

#define NAME "emubench"
#define DEFAULT_N 1000000
#define TABLE_WORDS 256
#define LOOP_INSNS 20   /* instructions per iteration, counted below */

static uint64_t table[TABLE_WORDS];

/*
 * Both sides of the data-dependent branch retire the same number of
 * instructions (jz + 2 either way), so the count stays exact.
 */
static uint64_t compute(uint64_t n, uint64_t *t)
{
	uint64_t acc = 0x9e3779b97f4a7c15ull, i = n, k, v, w;

	if (!n)
		return acc;
	__asm__ volatile(
		"1:\n\t"
		"mov %[i], %[k]\n\t"                    /*  1 */
		"and $255, %[k]\n\t"                    /*  2 */
		"mov (%[t],%[k],8), %[v]\n\t"           /*  3 load */
		"add %[v], %[acc]\n\t"                  /*  4 */
		"xor %[i], %[acc]\n\t"                  /*  5 */
		"rol $13, %[acc]\n\t"                   /*  6 */
		"lea 1(%[acc],%[v],2), %[w]\n\t"        /*  7 */
		"mov %[w], (%[t],%[k],8)\n\t"           /*  8 store */
		"imul $0x2545f491, %[w], %[w]\n\t"      /*  9 */
		"shr $7, %[w]\n\t"                      /* 10 */
		"sub %[w], %[acc]\n\t"                  /* 11 */
		"test $1, %[acc]\n\t"                   /* 12 */
		"jz 2f\n\t"                             /* 13 */
		"add $7, %[acc]\n\t"                    /* 14 */
		"jmp 3f\n"                              /* 15 */
		"2:\n\t"
		"sub $3, %[acc]\n\t"                    /* 14 */
		"nop\n"                                 /* 15 */
		"3:\n\t"
		"cmp %[w], %[v]\n\t"                    /* 16 */
		"cmovb %[w], %[v]\n\t"                  /* 17 */
		"add %[v], %[acc]\n\t"                  /* 18 */
		"dec %[i]\n\t"                          /* 19 */
		"jnz 1b\n\t"                            /* 20 */
		: [acc] "+r"(acc), [i] "+r"(i), [k] "=&r"(k), [v] "=&r"(v), [w] "=&r"(w)
		: [t] "r"(t)
		: "cc", "memory");
	return acc;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi_addr)
{
	uint64_t n = parse_num(cmdline_value(mb_cmdline(magic, mbi_addr), "n"), DEFAULT_N);
	uint64_t acc, sum = 0;

	if (n > (1ull << 40))
		guest_fail(NAME, "n=%llu out of range", (unsigned long long)n);
	for (int j = 0; j < TABLE_WORDS; j++)
		table[j] = (uint64_t)j * 0x100000001b3ull;
	acc = compute(n, table);
	for (int j = 0; j < TABLE_WORDS; j++)
		sum = (sum ^ table[j]) * 0x100000001b3ull;
	gprintf(NAME ": n=%llu insns=%llu checksum=%016llx\n", (unsigned long long)n,
		(unsigned long long)(n * LOOP_INSNS), (unsigned long long)(sum ^ acc));
	gprintf(NAME ": ok\n");
	return GUEST_PASS;
}
