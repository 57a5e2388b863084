/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

/*
 * The tiny freestanding library every test guest links: port I/O, COM1
 * output with a printf subset, string helpers and the ways out of the VM.
 * Built twice, for 32-bit protected mode and for 64-bit long mode; guests
 * run identity-mapped, so a pointer is a physical address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Values a guest writes to isa-debug-exit: vmon/QEMU exit with (v << 1) | 1. */
#define GUEST_PASS 0x10         /* exit status 33 */
#define GUEST_FAIL 0x11         /* exit status 35 */

#define DEBUG_EXIT_PORT 0xf4
#define COM1 0x3f8

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline uint32_t bswap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static inline uint64_t bswap64(uint64_t v)
{
	return __builtin_bswap64(v);
}

static inline void *phys_ptr(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/* MMIO registers (LAPIC, IOAPIC) must be touched exactly once per access. */
static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)phys_ptr(addr);
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)phys_ptr(addr) = v;
}

/* serial.c: COM1, polled transmit. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);

/* printf.c: %d %i %u %x %X %c %s %p %%, flags '0' '-' '#', width,
 * precision for %s, l and ll. */
int gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int gvprintf(const char *fmt, va_list ap);
int gsnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 64-by-32 division without libgcc (there is no 32-bit libgcc here). */
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);

/* string.c: what gcc may call even with -fno-builtin, plus a few helpers. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Finds "key=" as a whole word in a command line; returns its value or NULL. */
const char *cmdline_value(const char *cmdline, const char *key);
/* True when word appears as a whole blank-separated word of cmdline. */
int cmdline_has(const char *cmdline, const char *word);
/* Parses a decimal or 0x number at s; returns def when there is none. */
uint64_t parse_num(const char *s, uint64_t def);

/* exit.c */
void guest_exit(uint32_t value) __attribute__((noreturn));
void guest_halt(void) __attribute__((noreturn));
/* Prints "NAME: FAIL: why" and exits with GUEST_FAIL. */
void guest_fail(const char *name, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Each guest defines this; the entry code exits with its return value. */
uint32_t guest_main(uint32_t magic, uint32_t mbi_addr);

#endif
