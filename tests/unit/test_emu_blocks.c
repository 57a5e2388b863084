/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoded blocks see every write to their code (block.c, machine/mem_code.h):
 * a block decoded once is run again only while no writer changed its
 * page's stamp, so each path that writes guest RAM is tried here: a
 * device or loader's guest_mem_write, a write through guest_mem_ptr that
 * reports itself, a virtqueue completion (DMA through iovecs), a flush,
 * and another vCPU's store.  The code is "mov eax, imm32; jmp $" in 32-bit
 * protected mode (emu_task_rig.h); each test changes imm32 and runs the
 * block again.
 */
#include "emu_task_rig.h"
#include "virtio/virtq.h"

#define CODE2 0x12000       /* the other vCPU's code, another page */
#define RING 0x70000

/* Runs the block at CODE; EAX is what its MOV loaded. */
static uint32_t run_at_code(void)
{
	unsigned n = 0;

	st.rip = CODE;
	st.gpr[X86_RAX] = 0;
	if (emu_run_block(cpu, &n) != EMU_OK || n != 2 || st.rip != CODE + 5)
		return ~0u;
	return (uint32_t)st.gpr[X86_RAX];
}

static uint64_t built(void)
{
	uint64_t runs, b, clears;

	emu_block_stats(cpu, &runs, &b, &clears);
	return b;
}

static void code_setup(void)
{
	setup();
	put(CODE, "\xb8\x01\x00\x00\x00\xeb\xfe", 7);   /* mov eax, 1; jmp $ */
}

/* The new imm32 written straight into RAM, as a device's DMA does. */
static void poke_imm(uint32_t v)
{
	memcpy((uint8_t *)guest_mem_ptr(&mem, CODE + 1, 4), &v, 4);
}

static void test_guest_mem_write(void)
{
	code_setup();
	CHECK_EQ(run_at_code(), 1);
	CHECK_EQ(run_at_code(), 1);
	CHECK_EQ(built(), 1);                 /* the second run used the block */
	w32(CODE + 1, 2);
	CHECK_EQ(run_at_code(), 2);
	CHECK_EQ(built(), 2);
}

static void test_reported_pointer_write(void)
{
	code_setup();
	CHECK_EQ(run_at_code(), 1);
	poke_imm(3);
	guest_mem_written(&mem, CODE + 1, 4);
	CHECK_EQ(run_at_code(), 3);
}

static void test_flush(void)
{
	code_setup();
	CHECK_EQ(run_at_code(), 1);
	poke_imm(4);
	mem_code_flush(mem.code);
	CHECK_EQ(run_at_code(), 4);
	/* A flush with nothing changed costs a compare, not a decode. */
	mem_code_flush(mem.code);
	CHECK_EQ(run_at_code(), 4);
	CHECK_EQ(built(), 2);
}

/* A device completes a chain: what it wrote through the iovecs is seen. */
static void test_virtq_completion(void)
{
	static struct virtq q;

	code_setup();
	q = (struct virtq){ .size = 4, .max_size = 4, .enabled = true, .desc_gpa = RING,
			    .avail_gpa = RING + 0x100, .used_gpa = RING + 0x200 };
	CHECK_EQ(virtq_start(&q, &mem), 0);
	CHECK_EQ(run_at_code(), 1);
	poke_imm(5);
	virtq_push(&q, 0, 4);
	CHECK_EQ(run_at_code(), 5);
}

/* Another vCPU of the machine stores into the code (cross-modifying code). */
static void test_other_vcpu(void)
{
	struct x86_cpu_state st2;
	struct emu_env env = { .mem = &mem };
	struct emu_cpu *cpu2;
	unsigned n;

	code_setup();
	CHECK_EQ(run_at_code(), 1);
	memcpy(&st2, &st, sizeof(st));
	cpu2 = emu_cpu_new(&st2, &env);
	CHECK(cpu2);
	/* mov dword [CODE + 1], 6; mov dword [CODE + 0x800], 7; jmp $ */
	put(CODE2, "\xc7\x05\x01\x00\x01\x00\x06\x00\x00\x00"
		   "\xc7\x05\x00\x08\x01\x00\x07\x00\x00\x00\xeb\xfe", 22);
	st2.rip = CODE2;
	CHECK_EQ(emu_run_block(cpu2, &n), EMU_OK);
	CHECK_EQ(n, 3);
	CHECK_EQ(st2.rip, CODE2 + 20);
	emu_cpu_free(cpu2);
	CHECK_EQ(run_at_code(), 6);
	CHECK_EQ(built(), 2);
}

/* Data next to code: the block is compared, found the same and kept. */
static void test_write_beside_code(void)
{
	code_setup();
	CHECK_EQ(run_at_code(), 1);
	w32(CODE + 0x800, 8);
	CHECK_EQ(run_at_code(), 1);
	CHECK_EQ(built(), 1);
}

/*
 * Self-modifying code: a store into the running block's own next
 * instruction ends the block after it, and the new bytes run.
 */
static void test_store_into_own_block(void)
{
	unsigned n, total = 0;

	setup();
	/* mov byte [CODE + 8], 7; mov eax, 1; jmp $ */
	put(CODE, "\xc6\x05\x08\x00\x01\x00\x07\xb8\x01\x00\x00\x00\xeb\xfe", 14);
	for (int k = 0; k < 2; k++) {
		/* The second time round the block at CODE is the one decoded first. */
		put(CODE + 8, "\x01", 1);
		st.rip = CODE;
		for (total = 0; st.rip != CODE + 12 && total < 10; total += n)
			CHECK_EQ(emu_run_blocks(cpu, 100, &n), EMU_OK);
		CHECK_EQ(total, 3);
		CHECK_EQ(st.gpr[X86_RAX], 7);
	}
}

/*
 * The checks above are what would catch a writer that does not report:
 * such a write is not seen (the block runs on with the bytes it was
 * decoded from), which is why every path must.
 */
static void test_unreported_write_is_missed(void)
{
	code_setup();
	CHECK_EQ(run_at_code(), 1);
	poke_imm(9);
	CHECK_EQ(run_at_code(), 1);
	guest_mem_written(&mem, CODE + 1, 4);
	CHECK_EQ(run_at_code(), 9);
}

int main(void)
{
	RUN(test_guest_mem_write);
	RUN(test_reported_pointer_write);
	RUN(test_flush);
	RUN(test_virtq_completion);
	RUN(test_other_vcpu);
	RUN(test_write_beside_code);
	RUN(test_store_into_own_block);
	RUN(test_unreported_write_is_missed);
	rig_free();
	return TEST_EXIT();
}
