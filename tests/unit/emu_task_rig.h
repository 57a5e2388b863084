/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_EMU_TASK_RIG_H
#define VMON_TESTS_EMU_TASK_RIG_H

/*
 * What the protected-mode system tests of emu share (test_emu_task.c,
 * test_emu_v86.c): a 4 MiB guest with a flat ring-0/ring-3 GDT, two
 * 32-bit TSSes (the current one busy), an IDT whose vector v runs at
 * HANDLER + v, and a port bus that records the last write.
 */
#include <string.h>

#include "accel/emu/emu_int.h"
#include "machine/bus.h"
#include "machine/memory.h"
#include "test.h"

#define GDT 0x1000
#define IDT 0x2000
#define TSS_OLD 0x3000
#define TSS_NEW 0x3100
#define CODE 0x10000
#define NEW_EIP 0x11000
#define HANDLER 0x20000
#define STACK 0x30000
#define STACK0 0x40000
#define NEW_STACK 0x50000
#define PD 0x60000

/* GDT selectors */
#define CS0 0x08
#define DS0 0x10
#define CS3 0x18
#define DS3 0x20
#define TSS_OLD_SEL 0x28
#define TSS_NEW_SEL 0x30
#define GATE_SEL 0x38
#define SPARE_SEL 0x40

static struct guest_mem mem;
static struct x86_cpu_state st;
static struct emu_cpu *cpu;

static inline void w16(uint64_t gpa, uint16_t v) { guest_mem_write(&mem, gpa, &v, 2); }
static inline void w32(uint64_t gpa, uint32_t v) { guest_mem_write(&mem, gpa, &v, 4); }
static inline void w64(uint64_t gpa, uint64_t v) { guest_mem_write(&mem, gpa, &v, 8); }
static inline uint32_t r32(uint64_t gpa) { uint32_t v = 0; guest_mem_read(&mem, gpa, &v, 4); return v; }
static inline uint64_t r64(uint64_t gpa) { uint64_t v = 0; guest_mem_read(&mem, gpa, &v, 8); return v; }
static inline void put(uint64_t gpa, const char *b, size_t n) { guest_mem_write(&mem, gpa, b, n); }

static inline uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static inline uint64_t gate_desc(uint16_t sel, uint32_t off, unsigned access, unsigned params)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
	       ((uint64_t)access << 40) | ((uint64_t)(off >> 16) << 48);
}

/* A 32-bit TSS at base: ring-0 flat segments, EIP, ESP, EFLAGS 2. */
static inline void tss_fill(uint64_t base, uint32_t eip, uint32_t esp)
{
	for (unsigned off = 0; off < 104; off += 4)
		w32(base + off, 0);
	w32(base + 4, STACK0);
	w32(base + 8, DS0);
	w32(base + 0x20, eip);
	w32(base + 0x24, 2);
	w32(base + 0x38, esp);
	for (int i = 0; i < 6; i++)
		w32(base + 0x48 + 4 * i, i == X86_CS ? CS0 : DS0);
}

/* Port writes the guest made: the last port and value, and how many. */
static uint64_t port_last, port_value;
static unsigned port_writes;

static inline uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	return 0x5a5a5a5a00ULL | off;
}

static inline void port_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	(void)opaque;
	(void)size;
	port_last = off;
	port_value = v;
	port_writes++;
}

static struct bus *ports;

static inline void setup(void)
{
	static const struct bus_ops ops = { port_read, port_write };
	struct emu_env env = { .mem = &mem };

	if (!mem.base) {
		guest_mem_init(&mem, 4 << 20);
		ports = bus_new("ports");
		bus_register(ports, 0, 0x10000, &ops, NULL, "all");
	}
	env.pio = ports;
	port_writes = 0;
	port_last = port_value = ~0ULL;
	memset(mem.base, 0, mem.size);
	w64(GDT + CS0, seg_desc(0, 0xfffff, 0x9a, 0xc));
	w64(GDT + DS0, seg_desc(0, 0xfffff, 0x92, 0xc));
	w64(GDT + CS3, seg_desc(0, 0xfffff, 0xfa, 0xc));
	w64(GDT + DS3, seg_desc(0, 0xfffff, 0xf2, 0xc));
	w64(GDT + TSS_OLD_SEL, seg_desc(TSS_OLD, 0x67, 0x8b, 0));     /* busy: the current task */
	w64(GDT + TSS_NEW_SEL, seg_desc(TSS_NEW, 0x67, 0x89, 0));
	tss_fill(TSS_OLD, 0, 0);
	tss_fill(TSS_NEW, NEW_EIP, NEW_STACK);
	for (int v = 0; v < 32; v++)
		w64(IDT + 8 * v, gate_desc(CS0, HANDLER + v, 0x8e, 0));
	x86_cpu_state_reset(&st, 1);
	st.cr0 = X86_CR0_PE | X86_CR0_ET;
	for (int i = 0; i < 6; i++)
		emu_desc_to_seg(seg_desc(0, 0xfffff, i == X86_CS ? 0x9b : 0x93, 0xc), 0,
				i == X86_CS ? CS0 : DS0, &st.seg[i], 0);
	emu_desc_to_seg(seg_desc(TSS_OLD, 0x67, 0x8b, 0), 0, TSS_OLD_SEL, &st.seg[X86_TR], 0);
	st.gdt = (struct x86_dtable){ GDT, 0x47 };
	st.idt = (struct x86_dtable){ IDT, 32 * 8 - 1 };
	st.rip = CODE;
	st.gpr[X86_RSP] = STACK;
	st.rflags = X86_RFLAGS_FIXED;
	if (cpu)
		emu_cpu_free(cpu);
	cpu = emu_cpu_new(&st, &env);
}

static inline void to_ring3(void)
{
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0xfb, 0xc), 0, CS3 | 3, &st.seg[X86_CS], 0);
	emu_desc_to_seg(seg_desc(0, 0xfffff, 0xf3, 0xc), 0, DS3 | 3, &st.seg[X86_SS], 0);
}

/* The exception the last step delivered: its vector (from the handler's address) and error code. */
static inline void check_fault(int vec, uint32_t err)
{
	CHECK_EQ(st.rip, HANDLER + vec);
	CHECK_EQ(r32(st.gpr[X86_RSP] & 0xffffffff), err);
}

static inline void rig_free(void)
{
	emu_cpu_free(cpu);
	cpu = NULL;
	guest_mem_destroy(&mem);
	bus_free(ports);
}

#endif
