/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block runner's own rules (block.c, fast.c): a store into the running
 * block's page ends the block, so the next instruction runs from the new
 * bytes; flags an instruction leaves waiting (docs/emu-speed.md) are
 * computed before a fault or a stop can show them; a block the runner
 * goes on to is checked as one looked up afresh.
 */
#include "emu_rig64.h"
#include "test.h"

#define FLAGS_CMP_1_2 (X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_SF)

/* Runs one block: it must end at stop. */
static void block_to(uint64_t stop, enum emu_result want)
{
	unsigned n;

	CHECK_EQ(emu_run_block(cpu, &n), want);
	CHECK_EQ(st.rip, stop);
}

static void test_store_into_own_block(void)
{
	setup64();
	/*
	 * mov byte [rip+1], 0x42 writes the immediate of the next instruction,
	 * mov eax, 1, decoded in the same block; then hlt.
	 */
	put(CODE, "\xc6\x05\x01\x00\x00\x00\x42" "\xb8\x01\x00\x00\x00" "\xf4", 13);
	block_to(CODE + 7, EMU_OK);
	block_to(CODE + 13, EMU_HALT);
	CHECK_EQ(st.gpr[X86_RAX], 0x42);
	/* The same block again, now with the new bytes from the start. */
	st.rip = CODE;
	st.gpr[X86_RAX] = 0;
	block_to(CODE + 7, EMU_OK);
	block_to(CODE + 13, EMU_HALT);
	CHECK_EQ(st.gpr[X86_RAX], 0x42);
}

static void test_waiting_flags_at_a_fault(void)
{
	setup64();
	idt_gate(14, HANDLER, 0, 0);
	w64(PT + (DATA >> 12) * 8, 0);         /* DATA not present */
	st.gpr[X86_RAX] = 1;
	st.gpr[X86_RBX] = 2;
	st.gpr[X86_RDX] = DATA;
	/* cmp rax, rbx; mov rcx, [rdx] (#PF); add rax, rbx */
	put(CODE, "\x48\x39\xd8" "\x48\x8b\x0a" "\x48\x01\xd8", 9);
	block_to(HANDLER, EMU_OK);
	CHECK_EQ(r64(STACK - 24) & EMU_FLAGS_ARITH, FLAGS_CMP_1_2);   /* the frame's RFLAGS */
	CHECK_EQ(r64(STACK - 40), CODE + 3);
	CHECK_EQ(st.cr2, DATA);
}

static void test_waiting_flags_at_a_stop(void)
{
	setup64();
	st.gpr[X86_RAX] = 1;
	st.gpr[X86_RBX] = 2;
	/* cmp rax, rbx; mov byte [rip+3], 0x90 (this page: the block stops); add rax, rbx; hlt */
	put(CODE, "\x48\x39\xd8" "\xc6\x05\x03\x00\x00\x00\xf4" "\x48\x01\xd8" "\xf4", 14);
	block_to(CODE + 10, EMU_OK);
	CHECK_EQ(st.rflags & EMU_FLAGS_ARITH, FLAGS_CMP_1_2);
	block_to(CODE + 14, EMU_HALT);
	CHECK_EQ(st.gpr[X86_RAX], 3);
	CHECK_EQ(st.rflags & EMU_FLAGS_ARITH, X86_RFLAGS_PF);
}

/*
 * The runner goes on from a block to the next one on its page itself; a
 * write to the next one's bytes since it was decoded must still be seen.
 */
static void test_chained_block_rewritten(void)
{
	unsigned n;

	setup64();
	/* mov eax, 1; jmp +0x20 | at +0x25: mov ebx, 2; hlt */
	put(CODE, "\xb8\x01\x00\x00\x00" "\xeb\x1e", 7);
	put(CODE + 0x25, "\xbb\x02\x00\x00\x00" "\xf4", 6);
	CHECK_EQ(emu_run_blocks(cpu, 100, &n), EMU_HALT);
	CHECK_EQ(n, 4);
	CHECK_EQ(st.gpr[X86_RBX], 2);
	put(CODE + 0x26, "\x03", 1);                   /* mov ebx, 3 */
	st.rip = CODE;
	CHECK_EQ(emu_run_blocks(cpu, 100, &n), EMU_HALT);
	CHECK_EQ(st.gpr[X86_RBX], 3);
	CHECK_EQ(st.rip, CODE + 0x2b);
}

int main(void)
{
	RUN(test_store_into_own_block);
	RUN(test_waiting_flags_at_a_fault);
	RUN(test_waiting_flags_at_a_stop);
	RUN(test_chained_block_rewritten);
	emu_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return TEST_EXIT();
}
