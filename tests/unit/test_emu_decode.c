/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoder tests.  The table below was generated once from GNU as 2.40 and
 * objdump 2.40 (each instruction assembled in its mode, the bytes and the
 * disassembly taken from objdump -d; see docs/emu.md), so every length here
 * is binutils' opinion, not the decoder's.
 */
#include <stdint.h>
#include <string.h>

#include "accel/emu/emu.h"
#include "test.h"

struct dcase {
	int mode;
	const char *hex;
};

static const struct dcase cases[] = {
	{ 64, "007b08" },	/* addb %bh,0x8(%rbx) */
	{ 64, "8084910010000012" },	/* addb $0x12,0x1000(%rcx,%rdx,4) */
	{ 64, "010c24" },	/* addl %ecx,(%rsp) */
	{ 64, "80042412" },	/* addb $0x12,(%rsp) */
	{ 64, "488304257856341212" },	/* addq $0x12,0x12345678 */
	{ 64, "41010c24" },	/* addl %ecx,(%r12) */
	{ 64, "4801c3" },	/* addq %rax,%rbx */
	{ 64, "4401c0" },	/* addl %r8d,%eax */
	{ 64, "4080c609" },	/* addb $0x9,%sil */
	{ 64, "66095308" },	/* orw %dx,0x8(%rbx) */
	{ 64, "66814b08ff7f" },	/* orw $0x7fff,0x8(%rbx) */
	{ 64, "4809849100100000" },	/* orq %rax,0x1000(%rcx,%rdx,4) */
	{ 64, "098c9100100000" },	/* orl %ecx,0x1000(%rcx,%rdx,4) */
	{ 64, "48830d1000000012" },	/* orq $0x12,0x10(%rip) # 0x18 */
	{ 64, "800d1000000012" },	/* orb $0x12,0x10(%rip) # 0x17 */
	{ 64, "49830c2412" },	/* orq $0x12,(%r12) */
	{ 64, "6641091424" },	/* orw %dx,(%r12) */
	{ 64, "41800c2412" },	/* orb $0x12,(%r12) */
	{ 64, "4883530812" },	/* adcq $0x12,0x8(%rbx) */
	{ 64, "488355f812" },	/* adcq $0x12,-0x8(%rbp) */
	{ 64, "81151000000034120000" },	/* adcl $0x1234,0x10(%rip) # 0x1a */
	{ 64, "4180142412" },	/* adcb $0x12,(%r12) */
	{ 64, "664111c1" },	/* adcw %ax,%r9w */
	{ 64, "4080d609" },	/* adcb $0x9,%sil */
	{ 64, "66819c9100100000ff7f" },	/* sbbw $0x7fff,0x1000(%rcx,%rdx,4) */
	{ 64, "481945f8" },	/* sbbq %rax,-0x8(%rbp) */
	{ 64, "66811c2578563412ff7f" },	/* sbbw $0x7fff,0x12345678 */
	{ 64, "190d10000000" },	/* sbbl %ecx,0x10(%rip) # 0x16 */
	{ 64, "66191510000000" },	/* sbbw %dx,0x10(%rip) # 0x17 */
	{ 64, "49190424" },	/* sbbq %rax,(%r12) */
	{ 64, "6641811c24ff7f" },	/* sbbw $0x7fff,(%r12) */
	{ 64, "66215308" },	/* andw %dx,0x8(%rbx) */
	{ 64, "207b08" },	/* andb %bh,0x8(%rbx) */
	{ 64, "80a4910010000012" },	/* andb $0x12,0x1000(%rcx,%rdx,4) */
	{ 64, "203c24" },	/* andb %bh,(%rsp) */
	{ 64, "207df8" },	/* andb %bh,-0x8(%rbp) */
	{ 64, "28bc9100100000" },	/* subb %bh,0x1000(%rcx,%rdx,4) */
	{ 64, "294df8" },	/* subl %ecx,-0x8(%rbp) */
	{ 64, "41802c2412" },	/* subb $0x12,(%r12) */
	{ 64, "483100" },	/* xorq %rax,(%rax) */
	{ 64, "303c24" },	/* xorb %bh,(%rsp) */
	{ 64, "80342412" },	/* xorb $0x12,(%rsp) */
	{ 64, "8175f834120000" },	/* xorl $0x1234,-0x8(%rbp) */
	{ 64, "8075f812" },	/* xorb $0x12,-0x8(%rbp) */
	{ 64, "310c2578563412" },	/* xorl %ecx,0x12345678 */
	{ 64, "8134257856341234120000" },	/* xorl $0x1234,0x12345678 */
	{ 64, "394b08" },	/* cmpl %ecx,0x8(%rbx) */
	{ 64, "66817b08ff7f" },	/* cmpw $0x7fff,0x8(%rbx) */
	{ 64, "6681bc9100100000ff7f" },	/* cmpw $0x7fff,0x1000(%rcx,%rdx,4) */
	{ 64, "66391424" },	/* cmpw %dx,(%rsp) */
	{ 64, "48837df812" },	/* cmpq $0x12,-0x8(%rbp) */
	{ 64, "66817df8ff7f" },	/* cmpw $0x7fff,-0x8(%rbp) */
	{ 64, "66813d10000000ff7f" },	/* cmpw $0x7fff,0x10(%rip) # 0x19 */
	{ 64, "383d10000000" },	/* cmpb %bh,0x10(%rip) # 0x16 */
	{ 64, "664139c1" },	/* cmpw %ax,%r9w */
	{ 64, "66c700ff7f" },	/* movw $0x7fff,(%rax) */
	{ 64, "48c7430812000000" },	/* movq $0x12,0x8(%rbx) */
	{ 64, "48890424" },	/* movq %rax,(%rsp) */
	{ 64, "66891424" },	/* movw %dx,(%rsp) */
	{ 64, "890c2578563412" },	/* movl %ecx,0x12345678 */
	{ 64, "890d10000000" },	/* movl %ecx,0x10(%rip) # 0x16 */
	{ 64, "66891510000000" },	/* movw %dx,0x10(%rip) # 0x17 */
	{ 64, "8508" },	/* testl %ecx,(%rax) */
	{ 64, "f7430834120000" },	/* testl $0x1234,0x8(%rbx) */
	{ 64, "847b08" },	/* testb %bh,0x8(%rbx) */
	{ 64, "f684910010000012" },	/* testb $0x12,0x1000(%rcx,%rdx,4) */
	{ 64, "66851424" },	/* testw %dx,(%rsp) */
	{ 64, "66f70424ff7f" },	/* testw $0x7fff,(%rsp) */
	{ 64, "847df8" },	/* testb %bh,-0x8(%rbp) */
	{ 64, "66851510000000" },	/* testw %dx,0x10(%rip) # 0x17 */
	{ 64, "49850424" },	/* testq %rax,(%r12) */
	{ 64, "a805" },	/* testb $0x5,%al */
	{ 64, "66d3c2" },	/* rolw %cl,%dx */
	{ 64, "48d3442408" },	/* rolq %cl,0x8(%rsp) */
	{ 64, "48c10805" },	/* rorq $0x5,(%rax) */
	{ 64, "48d14c2408" },	/* rorq 0x8(%rsp) */
	{ 64, "48d310" },	/* rclq %cl,(%rax) */
	{ 64, "48d3542408" },	/* rclq %cl,0x8(%rsp) */
	{ 64, "c1d905" },	/* rcrl $0x5,%ecx */
	{ 64, "48d318" },	/* rcrq %cl,(%rax) */
	{ 64, "48c1e005" },	/* shlq $0x5,%rax */
	{ 64, "c1e905" },	/* shrl $0x5,%ecx */
	{ 64, "d3e9" },	/* shrl %cl,%ecx */
	{ 64, "c0eb05" },	/* shrb $0x5,%bl */
	{ 64, "48d3f8" },	/* sarq %cl,%rax */
	{ 64, "48d338" },	/* sarq %cl,(%rax) */
	{ 64, "48f710" },	/* notq (%rax) */
	{ 64, "f61424" },	/* notb (%rsp) */
	{ 64, "f7142578563412" },	/* notl 0x12345678 */
	{ 64, "48f7d8" },	/* negq %rax */
	{ 64, "f79c9100100000" },	/* negl 0x1000(%rcx,%rdx,4) */
	{ 64, "66f72424" },	/* mulw (%rsp) */
	{ 64, "f7e9" },	/* imull %ecx */
	{ 64, "f728" },	/* imull (%rax) */
	{ 64, "66f76b08" },	/* imulw 0x8(%rbx) */
	{ 64, "f7ac9100100000" },	/* imull 0x1000(%rcx,%rdx,4) */
	{ 64, "f62c24" },	/* imulb (%rsp) */
	{ 64, "66f76df8" },	/* imulw -0x8(%rbp) */
	{ 64, "f630" },	/* divb (%rax) */
	{ 64, "48f730" },	/* divq (%rax) */
	{ 64, "6641f7f9" },	/* idivw %r9w */
	{ 64, "48f77df8" },	/* idivq -0x8(%rbp) */
	{ 64, "f73c2578563412" },	/* idivl 0x12345678 */
	{ 64, "fe042578563412" },	/* incb 0x12345678 */
	{ 64, "ff042578563412" },	/* incl 0x12345678 */
	{ 64, "6641ffc9" },	/* decw %r9w */
	{ 64, "48ff4df8" },	/* decq -0x8(%rbp) */
	{ 64, "ff0c2578563412" },	/* decl 0x12345678 */
	{ 64, "0fb608" },	/* movzbl (%rax),%ecx */
	{ 64, "440fb7442408" },	/* movzwl 0x8(%rsp),%r8d */
	{ 64, "480fbed0" },	/* movsbq %al,%rdx */
	{ 64, "480fbf0500000000" },	/* movswq 0x0(%rip),%rax # 0x8 */
	{ 64, "4863d8" },	/* movslq %eax,%rbx */
	{ 64, "4c6308" },	/* movslq (%rax),%r9 */
	{ 64, "660fb6cc" },	/* movzbw %ah,%cx */
	{ 64, "410fbec2" },	/* movsbl %r10b,%eax */
	{ 64, "480fbcd8" },	/* bsfq %rax,%rbx */
	{ 64, "0fbd11" },	/* bsrl (%rcx),%edx */
	{ 64, "f3480fbcd8" },	/* tzcntq %rax,%rbx */
	{ 64, "f30fbd08" },	/* lzcntl (%rax),%ecx */
	{ 64, "f34d0fb8c8" },	/* popcntq %r8,%r9 */
	{ 64, "66f30fb8d8" },	/* popcntw %ax,%bx */
	{ 64, "480fa303" },	/* btq %rax,(%rbx) */
	{ 64, "0fbae905" },	/* btsl $0x5,%ecx */
	{ 64, "440fb30424" },	/* btrl %r8d,(%rsp) */
	{ 64, "480fbaf83f" },	/* btcq $0x3f,%rax */
	{ 64, "f0480fba2f03" },	/* lock btsq $0x3,(%rdi) */
	{ 64, "f00fb307" },	/* lock btrl %eax,(%rdi) */
	{ 64, "480fb103" },	/* cmpxchgq %rax,(%rbx) */
	{ 64, "f00fb14f08" },	/* lock cmpxchgl %ecx,0x8(%rdi) */
	{ 64, "f00fb01f" },	/* lock cmpxchgb %bl,(%rdi) */
	{ 64, "0fc708" },	/* cmpxchg8b (%rax) */
	{ 64, "480fc708" },	/* cmpxchg16b (%rax) */
	{ 64, "f0480fc74cf710" },	/* lock cmpxchg16b 0x10(%rdi,%rsi,8) */
	{ 64, "67f00fc70e" },	/* lock cmpxchg8b (%esi) */
	{ 64, "480fc103" },	/* xaddq %rax,(%rbx) */
	{ 64, "f00fc107" },	/* lock xaddl %eax,(%rdi) */
	{ 64, "4893" },	/* xchgq %rax,%rbx */
	{ 64, "91" },	/* xchgl %eax,%ecx */
	{ 64, "4990" },	/* xchgq %rax,%r8 */
	{ 64, "48870424" },	/* xchgq %rax,(%rsp) */
	{ 64, "86c7" },	/* xchgb %al,%bh */
	{ 64, "488d4c5808" },	/* leaq 0x8(%rax,%rbx,2),%rcx */
	{ 64, "488d0510000000" },	/* leaq 0x10(%rip),%rax # 0x17 */
	{ 64, "678d08" },	/* leal (%eax),%ecx */
	{ 64, "4c8d14f534120000" },	/* leaq 0x1234(,%rsi,8),%r10 */
	{ 64, "668d03" },	/* leaw (%rbx),%ax */
	{ 64, "50" },	/* pushq %rax */
	{ 64, "4157" },	/* pushq %r15 */
	{ 64, "5b" },	/* popq %rbx */
	{ 64, "415c" },	/* popq %r12 */
	{ 64, "6a05" },	/* pushq $0x5 */
	{ 64, "6845230100" },	/* pushq $0x12345 */
	{ 64, "66683412" },	/* pushw $0x1234 */
	{ 64, "ff30" },	/* pushq (%rax) */
	{ 64, "8f442408" },	/* popq 0x8(%rsp) */
	{ 64, "6650" },	/* pushw %ax */
	{ 64, "665b" },	/* popw %bx */
	{ 64, "0fa0" },	/* pushq %fs */
	{ 64, "0fa8" },	/* pushq %gs */
	{ 64, "0fa1" },	/* popq %fs */
	{ 64, "0fa9" },	/* popq %gs */
	{ 64, "9c" },	/* pushfq */
	{ 64, "9d" },	/* popfq */
	{ 64, "669c" },	/* pushfw */
	{ 64, "669d" },	/* popfw */
	{ 64, "ffd0" },	/* callq *%rax */
	{ 64, "ff10" },	/* callq *(%rax) */
	{ 64, "ff1510000000" },	/* callq *0x10(%rip) # 0x16 */
	{ 64, "41ffe3" },	/* jmpq *%r11 */
	{ 64, "ff64cb08" },	/* jmpq *0x8(%rbx,%rcx,8) */
	{ 64, "c3" },	/* retq */
	{ 64, "c20800" },	/* retq $0x8 */
	{ 64, "cb" },	/* lretl */
	{ 64, "ca1000" },	/* lretl $0x10 */
	{ 64, "ff18" },	/* lcalll *(%rax) */
	{ 64, "ff2b" },	/* ljmpl *(%rbx) */
	{ 64, "48ff2b" },	/* rex.W ljmpl *(%rbx) */
	{ 64, "48cb" },	/* lretq */
	{ 64, "c8100000" },	/* enterq $0x10,$0x0 */
	{ 64, "c8001003" },	/* enterq $0x1000,$0x3 */
	{ 64, "c9" },	/* leaveq */
	{ 64, "cc" },	/* int3 */
	{ 64, "cd80" },	/* int $0x80 */
	{ 64, "48cf" },	/* iretq */
	{ 64, "cf" },	/* iretl */
	{ 64, "66cf" },	/* iretw */
	{ 64, "f4" },	/* hlt */
	{ 64, "fa" },	/* cli */
	{ 64, "fb" },	/* sti */
	{ 64, "f8" },	/* clc */
	{ 64, "f9" },	/* stc */
	{ 64, "f5" },	/* cmc */
	{ 64, "fc" },	/* cld */
	{ 64, "fd" },	/* std */
	{ 64, "0f01ca" },	/* clac */
	{ 64, "0f01cb" },	/* stac */
	{ 64, "9f" },	/* lahf */
	{ 64, "9e" },	/* sahf */
	{ 64, "6698" },	/* cbtw */
	{ 64, "98" },	/* cwtl */
	{ 64, "4898" },	/* cltq */
	{ 64, "6699" },	/* cwtd */
	{ 64, "99" },	/* cltd */
	{ 64, "4899" },	/* cqto */
	{ 64, "0fc8" },	/* bswap %eax */
	{ 64, "490fcc" },	/* bswap %r12 */
	{ 64, "480fca" },	/* bswap %rdx */
	{ 64, "a4" },	/* movsb %ds:(%rsi),%es:(%rdi) */
	{ 64, "66a5" },	/* movsw %ds:(%rsi),%es:(%rdi) */
	{ 64, "a5" },	/* movsl %ds:(%rsi),%es:(%rdi) */
	{ 64, "48a5" },	/* movsq %ds:(%rsi),%es:(%rdi) */
	{ 64, "f348a5" },	/* rep movsq %ds:(%rsi),%es:(%rdi) */
	{ 64, "f3a4" },	/* rep movsb %ds:(%rsi),%es:(%rdi) */
	{ 64, "f348ab" },	/* rep stosq %rax,%es:(%rdi) */
	{ 64, "f3aa" },	/* rep stosb %al,%es:(%rdi) */
	{ 64, "f3a6" },	/* repz cmpsb %es:(%rdi),%ds:(%rsi) */
	{ 64, "f2ae" },	/* repnz scasb %es:(%rdi),%al */
	{ 64, "48ad" },	/* lodsq %ds:(%rsi),%rax */
	{ 64, "ab" },	/* stosl %eax,%es:(%rdi) */
	{ 64, "48a7" },	/* cmpsq %es:(%rdi),%ds:(%rsi) */
	{ 64, "66af" },	/* scasw %es:(%rdi),%ax */
	{ 64, "6c" },	/* insb (%dx),%es:(%rdi) */
	{ 64, "6d" },	/* insl (%dx),%es:(%rdi) */
	{ 64, "6e" },	/* outsb %ds:(%rsi),(%dx) */
	{ 64, "666f" },	/* outsw %ds:(%rsi),(%dx) */
	{ 64, "66f36d" },	/* rep insw (%dx),%es:(%rdi) */
	{ 64, "f36e" },	/* rep outsb %ds:(%rsi),(%dx) */
	{ 64, "64a4" },	/* movsb %fs:(%rsi),%es:(%rdi) */
	{ 64, "67f3a4" },	/* rep movsb %ds:(%esi),%es:(%edi) */
	{ 64, "e460" },	/* inb $0x60,%al */
	{ 64, "e561" },	/* inl $0x61,%eax */
	{ 64, "ec" },	/* inb (%dx),%al */
	{ 64, "66ed" },	/* inw (%dx),%ax */
	{ 64, "ed" },	/* inl (%dx),%eax */
	{ 64, "e680" },	/* outb %al,$0x80 */
	{ 64, "e780" },	/* outl %eax,$0x80 */
	{ 64, "ee" },	/* outb %al,(%dx) */
	{ 64, "66ef" },	/* outw %ax,(%dx) */
	{ 64, "ef" },	/* outl %eax,(%dx) */
	{ 64, "0f20d3" },	/* movq %cr2,%rbx */
	{ 64, "0f23c0" },	/* movq %rax,%db0 */
	{ 64, "8ee8" },	/* movl %eax,%gs */
	{ 64, "0f0110" },	/* lgdt (%rax) */
	{ 64, "0f015b08" },	/* lidt 0x8(%rbx) */
	{ 64, "0f0100" },	/* sgdt (%rax) */
	{ 64, "0f010c24" },	/* sidt (%rsp) */
	{ 64, "0f00d0" },	/* lldt %ax */
	{ 64, "0f00d9" },	/* ltr %cx */
	{ 64, "0f00c0" },	/* sldtl %eax */
	{ 64, "0f00cb" },	/* strl %ebx */
	{ 64, "0f01f0" },	/* lmsw %ax */
	{ 64, "0f01e0" },	/* smswl %eax */
	{ 64, "0f0120" },	/* smsww (%rax) */
	{ 64, "0f0138" },	/* invlpg (%rax) */
	{ 64, "0f01bb00100000" },	/* invlpg 0x1000(%rbx) */
	{ 64, "0f06" },	/* clts */
	{ 64, "0f09" },	/* wbinvd */
	{ 64, "0f08" },	/* invd */
	{ 64, "0f32" },	/* rdmsr */
	{ 64, "0f30" },	/* wrmsr */
	{ 64, "0f31" },	/* rdtsc */
	{ 64, "0f01f9" },	/* rdtscp */
	{ 64, "f30fc7f8" },	/* rdpid %rax */
	{ 64, "0fa2" },	/* cpuid */
	{ 64, "0f01f8" },	/* swapgs */
	{ 64, "0f05" },	/* syscall */
	{ 64, "480f07" },	/* sysretq */
	{ 64, "0f07" },	/* sysretl */
	{ 64, "0f01d0" },	/* xgetbv */
	{ 64, "0f01d1" },	/* xsetbv */
	{ 64, "0f34" },	/* sysenter */
	{ 64, "0f35" },	/* sysexitl */
	{ 64, "0fae00" },	/* fxsave (%rax) */
	{ 64, "480fae00" },	/* fxsave64 (%rax) */
	{ 64, "0fae0b" },	/* fxrstor (%rbx) */
	{ 64, "480fae4c2408" },	/* fxrstor64 0x8(%rsp) */
	{ 64, "0fae27" },	/* xsave (%rdi) */
	{ 64, "480fae27" },	/* xsave64 (%rdi) */
	{ 64, "0fae2f" },	/* xrstor (%rdi) */
	{ 64, "480fae6f40" },	/* xrstor64 0x40(%rdi) */
	{ 64, "0fae30" },	/* xsaveopt (%rax) */
	{ 64, "480fae30" },	/* xsaveopt64 (%rax) */
	{ 64, "0fc720" },	/* xsavec (%rax) */
	{ 64, "480fc72f" },	/* xsaves64 (%rdi) */
	{ 64, "480fc71f" },	/* xrstors64 (%rdi) */
	{ 64, "0fc72f" },	/* xsaves (%rdi) */
	{ 64, "0fc71f" },	/* xrstors (%rdi) */
	{ 64, "0fae10" },	/* ldmxcsr (%rax) */
	{ 64, "0fae5c2404" },	/* stmxcsr 0x4(%rsp) */
	{ 64, "0faee8" },	/* lfence */
	{ 64, "0faef0" },	/* mfence */
	{ 64, "0faef8" },	/* sfence */
	{ 64, "0fae38" },	/* clflush (%rax) */
	{ 64, "660fae38" },	/* clflushopt (%rax) */
	{ 64, "660fae30" },	/* clwb (%rax) */
	{ 64, "0f1808" },	/* prefetcht0 (%rax) */
	{ 64, "0f0d08" },	/* prefetchw (%rax) */
	{ 64, "0f184640" },	/* prefetchnta 0x40(%rsi) */
	{ 64, "90" },	/* nop */
	{ 64, "0f1f00" },	/* nopl (%rax) */
	{ 64, "660f1f0400" },	/* nopw (%rax,%rax,1) */
	{ 64, "2e660f1f0400" },	/* cs nopw (%rax,%rax,1) */
	{ 64, "f390" },	/* pause */
	{ 64, "0f0b" },	/* ud2 */
	{ 64, "0fb900" },	/* ud1l (%rax),%eax */
	{ 64, "f30f1efa" },	/* endbr64 */
	{ 64, "f30f1efb" },	/* endbr32 */
	{ 64, "0f28c8" },	/* movaps %xmm0,%xmm1 */
	{ 64, "0f2810" },	/* movaps (%rax),%xmm2 */
	{ 64, "440f297c2410" },	/* movaps %xmm15,0x10(%rsp) */
	{ 64, "440f1000" },	/* movups (%rax),%xmm8 */
	{ 64, "0f110b" },	/* movups %xmm1,(%rbx) */
	{ 64, "660f6f00" },	/* movdqa (%rax),%xmm0 */
	{ 64, "660f7f1f" },	/* movdqa %xmm3,(%rdi) */
	{ 64, "f30f6f26" },	/* movdqu (%rsi),%xmm4 */
	{ 64, "f30f7f27" },	/* movdqu %xmm4,(%rdi) */
	{ 64, "660fefc0" },	/* pxor %xmm0,%xmm0 */
	{ 64, "66440fef08" },	/* pxor (%rax),%xmm9 */
	{ 64, "660f6ec0" },	/* movd %eax,%xmm0 */
	{ 64, "0f58c8" },	/* addps %xmm0,%xmm1 */
	{ 64, "f20f5910" },	/* mulsd (%rax),%xmm2 */
	{ 64, "f2480f2ac0" },	/* cvtsi2sdq %rax,%xmm0 */
	{ 64, "660f70c81b" },	/* pshufd $0x1b,%xmm0,%xmm1 */
	{ 64, "660f73da04" },	/* psrldq $0x4,%xmm2 */
	{ 64, "660f72f503" },	/* pslld $0x3,%xmm5 */
	{ 64, "0fc61844" },	/* shufps $0x44,(%rax),%xmm3 */
	{ 64, "0fc2c801" },	/* cmpltps %xmm0,%xmm1 */
	{ 64, "660fc4c003" },	/* pinsrw $0x3,%eax,%xmm0 */
	{ 64, "660fc5c001" },	/* pextrw $0x1,%xmm0,%eax */
	{ 64, "660f3800d1" },	/* pshufb %xmm1,%xmm2 */
	{ 64, "660f380010" },	/* pshufb (%rax),%xmm2 */
	{ 64, "660f3a0fd104" },	/* palignr $0x4,%xmm1,%xmm2 */
	{ 64, "660f3a0e1811" },	/* pblendw $0x11,(%rax),%xmm3 */
	{ 64, "660f38dcd1" },	/* aesenc %xmm1,%xmm2 */
	{ 64, "660f3a44d110" },	/* pclmullqhqdq %xmm1,%xmm2 */
	{ 64, "f20f38f0c8" },	/* crc32b %al,%ecx */
	{ 64, "f2480f38f108" },	/* crc32q (%rax),%rcx */
	{ 64, "0f38f008" },	/* movbel (%rax),%ecx */
	{ 64, "480f38f103" },	/* movbeq %rax,(%rbx) */
	{ 64, "660f3a0bd104" },	/* roundsd $0x4,%xmm1,%xmm2 */
	{ 64, "660f3817d1" },	/* ptest %xmm1,%xmm2 */
	{ 64, "660f3a63080c" },	/* pcmpistri $0xc,(%rax),%xmm1 */
	{ 64, "c5f458d0" },	/* vaddps %ymm0,%ymm1,%ymm2 */
	{ 64, "c5fe6f00" },	/* vmovdqu (%rax),%ymm0 */
	{ 64, "c5797f07" },	/* vmovdqa %xmm8,(%rdi) */
	{ 64, "c4410defef" },	/* vpxor %ymm15,%ymm14,%ymm13 */
	{ 64, "c5f877" },	/* vzeroupper */
	{ 64, "c5fc77" },	/* vzeroall */
	{ 64, "c5fd70d105" },	/* vpshufd $0x5,%ymm1,%ymm2 */
	{ 64, "c4e3fd00d1d8" },	/* vpermq $0xd8,%ymm1,%ymm2 */
	{ 64, "c4e3750210f0" },	/* vpblendd $0xf0,(%rax),%ymm1,%ymm2 */
	{ 64, "c4e26db8d9" },	/* vfmadd231ps %ymm1,%ymm2,%ymm3 */
	{ 64, "c4e27d1800" },	/* vbroadcastss (%rax),%ymm0 */
	{ 64, "c5ed73d908" },	/* vpsrldq $0x8,%ymm1,%ymm2 */
	{ 64, "c5f0c2d003" },	/* vcmpunordps %xmm0,%xmm1,%xmm2 */
	{ 64, "c4e36d18d901" },	/* vinsertf128 $0x1,%xmm1,%ymm2,%ymm3 */
	{ 64, "c4e1f97ec0" },	/* vmovq %xmm0,%rax */
	{ 64, "c4e2e0f2c8" },	/* andnq %rax,%rbx,%rcx */
	{ 64, "c4e2f8f70b" },	/* bextrq %rax,(%rbx),%rcx */
	{ 64, "c4e2f9f7cb" },	/* shlxq %rax,%rbx,%rcx */
	{ 64, "c4e3fbf0d803" },	/* rorxq $0x3,%rax,%rbx */
	{ 64, "c4e2e3f5c8" },	/* pdepq %rax,%rbx,%rcx */
	{ 64, "62f1744858d0" },	/* vaddps %zmm0,%zmm1,%zmm2 */
	{ 64, "62f1fe486f00" },	/* vmovdqu64 (%rax),%zmm0 */
	{ 64, "62f36d4825d996" },	/* vpternlogd $0x96,%zmm1,%zmm2,%zmm3 */
	{ 64, "62f17449585001" },	/* vaddps 0x40(%rax),%zmm1,%zmm2{%k1} */
	{ 64, "62a17540efd0" },	/* vpxord %zmm16,%zmm17,%zmm18 */
	{ 64, "c5f893c1" },	/* kmovw %k1,%eax */
	{ 64, "62f17d4870d101" },	/* vpshufd $0x1,%zmm1,%zmm2 */
	{ 64, "62f17448c2d001" },	/* vcmpltps %zmm0,%zmm1,%k2 */
	{ 64, "62f27d487cc0" },	/* vpbroadcastd %eax,%zmm0 */
	{ 64, "62f37d4839c101" },	/* vextracti32x4 $0x1,%zmm0,%xmm1 */
	{ 64, "8fe860a2e210" },	/* vpcmov %xmm1,%xmm2,%xmm3,%xmm4 */
	{ 64, "8fe878c2d103" },	/* vprotd $0x3,%xmm1,%xmm2 */
	{ 64, "8fe97880d1" },	/* vfrczps %xmm1,%xmm2 */
	{ 64, "8fea7810d834120000" },	/* bextrl $0x1234,%eax,%ebx */
	{ 64, "d900" },	/* flds (%rax) */
	{ 64, "d9ee" },	/* fldz */
	{ 64, "d8c1" },	/* fadd %st(1),%st */
	{ 64, "d938" },	/* fnstcw (%rax) */
	{ 64, "dbe3" },	/* fninit */
	{ 64, "d9ca" },	/* fxch %st(2) */
	{ 64, "db3b" },	/* fstpt (%rbx) */
	{ 64, "dfe0" },	/* fnstsw %ax */
	{ 64, "9b" },	/* fwait */
	{ 64, "eb0e" },	/* jmp 0x10 */
	{ 64, "e9fb0f0000" },	/* jmpq 0x1000 */
	{ 64, "740e" },	/* je 0x10 */
	{ 64, "0f85fa0f0000" },	/* jne 0x1000 */
	{ 64, "0f8f7affffff" },	/* jg 0xffffffffffffff80 */
	{ 64, "e203" },	/* loopq 0x5 */
	{ 64, "e306" },	/* jrcxz 0x8 */
	{ 64, "67e305" },	/* jecxz 0x8 */
	{ 64, "e8fb000000" },	/* callq 0x100 */
	{ 64, "c7f8fa000000" },	/* xbeginq 0x100 */
	{ 64, "c6f801" },	/* xabort $0x1 */
	{ 64, "0f01d5" },	/* xend */
	{ 64, "0f01d6" },	/* xtest */
	{ 64, "0f94c0" },	/* sete %al */
	{ 64, "0f9f00" },	/* setg (%rax) */
	{ 64, "410f92c1" },	/* setb %r9b */
	{ 64, "480f44d8" },	/* cmoveq %rax,%rbx */
	{ 64, "0f4c08" },	/* cmovll (%rax),%ecx */
	{ 64, "660f45d0" },	/* cmovnew %ax,%dx */
	{ 64, "480fa4c303" },	/* shldq $0x3,%rax,%rbx */
	{ 64, "0fa507" },	/* shldl %cl,%eax,(%rdi) */
	{ 64, "660facc305" },	/* shrdw $0x5,%ax,%bx */
	{ 64, "480fadc3" },	/* shrdq %cl,%rax,%rbx */
	{ 64, "48b8bc9a785634120000" },	/* movabsq $0x123456789abc,%rax */
	{ 64, "a0f0debc9a78563412" },	/* movabsb 0x123456789abcdef0,%al */
	{ 64, "48a1f0debc9a78563412" },	/* movabsq 0x123456789abcdef0,%rax */
	{ 64, "a3f0debc9a78563412" },	/* movabsl %eax,0x123456789abcdef0 */
	{ 64, "66a38877665544332211" },	/* movabsw %ax,0x1122334455667788 */
	{ 64, "67a178563412" },	/* addr32 movl 0x12345678,%eax */
	{ 64, "c7051000000078563412" },	/* movl $0x12345678,0x10(%rip) # 0x1a */
	{ 64, "c645ff01" },	/* movb $0x1,-0x1(%rbp) */
	{ 64, "f048830001" },	/* lock addq $0x1,(%rax) */
	{ 64, "f0ff02" },	/* lock incl (%rdx) */
	{ 64, "f048ff4f08" },	/* lock decq 0x8(%rdi) */
	{ 64, "f0800801" },	/* lock orb $0x1,(%rax) */
	{ 64, "f02103" },	/* lock andl %eax,(%rbx) */
	{ 64, "f048310a" },	/* lock xorq %rcx,(%rdx) */
	{ 64, "f0f718" },	/* lock negl (%rax) */
	{ 64, "66f0f710" },	/* lock notw (%rax) */
	{ 64, "f0812800010000" },	/* lock subl $0x100,(%rax) */
	{ 64, "d7" },	/* xlat %ds:(%rbx) */
	{ 64, "0fc7f0" },	/* rdrand %eax */
	{ 64, "480fc7fb" },	/* rdseed %rbx */
	{ 64, "f3480faec0" },	/* rdfsbase %rax */
	{ 64, "f3480faedb" },	/* wrgsbase %rbx */
	{ 64, "0f01c8" },	/* monitor %rax,%ecx,%edx */
	{ 64, "0f01c9" },	/* mwait %eax,%ecx */
	{ 64, "0f01c1" },	/* vmcall */
	{ 64, "0f01d9" },	/* vmmcall */
	{ 64, "0f01fc" },	/* clzero */
	{ 64, "0f01ee" },	/* rdpkru */
	{ 64, "0f01ef" },	/* wrpkru */
	{ 64, "f1" },	/* int1 */
	{ 64, "660f02d8" },	/* larw %ax,%bx */
	{ 64, "0f0308" },	/* lsll (%rax),%ecx */
	{ 64, "0f00e0" },	/* verr %ax */
	{ 64, "0f0028" },	/* verw (%rax) */
	{ 64, "0faa" },	/* rsm */
	{ 64, "0f0e" },	/* femms */
	{ 64, "0f77" },	/* emms */
	{ 64, "0f37" },	/* getsec */
	{ 64, "0f33" },	/* rdpmc */
	{ 64, "0f78c3" },	/* vmread %rax,%rbx */
	{ 64, "0f7918" },	/* vmwrite (%rax),%rbx */
	{ 64, "480f35" },	/* sysexitq */
	{ 64, "66410fb10424" },	/* cmpxchgw %ax,(%r12) */
	{ 64, "0fc303" },	/* movntil %eax,(%rbx) */
	{ 64, "0f0d00" },	/* prefetch (%rax) */
	{ 64, "f3c3" },	/* repz retq */
	{ 64, "3effe0" },	/* notrack jmpq *%rax */
	{ 64, "f2ffe0" },	/* bnd jmpq *%rax */
	{ 64, "2e90" },	/* cs nop */
	{ 64, "4890" },	/* rex.W nop */
	{ 64, "48c3" },	/* rex.W retq */
	{ 64, "4150" },	/* pushq %r8 */
	{ 64, "64ac" },	/* lodsb %fs:(%rsi),%al */
	{ 64, "65f3a4" },	/* rep movsb %gs:(%rsi),%es:(%rdi) */
	{ 32, "810045230100" },	/* addl $0x12345,(%eax) */
	{ 32, "010c24" },	/* addl %ecx,(%esp) */
	{ 32, "26010f" },	/* addl %ecx,%es:(%edi) */
	{ 32, "67660310" },	/* addw (%bx,%si),%dx */
	{ 32, "67004610" },	/* addb %al,0x10(%bp) */
	{ 32, "67014e10" },	/* addl %ecx,0x10(%bp) */
	{ 32, "66031534120000" },	/* addw 0x1234,%dx */
	{ 32, "c7430845230100" },	/* movl $0x12345,0x8(%ebx) */
	{ 32, "884308" },	/* movb %al,0x8(%ebx) */
	{ 32, "668b949100100000" },	/* movw 0x1000(%ecx,%edx,4),%dx */
	{ 32, "66c704240500" },	/* movw $0x5,(%esp) */
	{ 32, "890c24" },	/* movl %ecx,(%esp) */
	{ 32, "668b55f8" },	/* movw -0x8(%ebp),%dx */
	{ 32, "890d78563412" },	/* movl %ecx,0x12345678 */
	{ 32, "66c70475000000000500" },	/* movw $0x5,0x0(,%esi,2) */
	{ 32, "2666c7070500" },	/* movw $0x5,%es:(%edi) */
	{ 32, "268807" },	/* movb %al,%es:(%edi) */
	{ 32, "6766c746100500" },	/* movw $0x5,0x10(%bp) */
	{ 32, "668b1534120000" },	/* movw 0x1234,%dx */
	{ 32, "3800" },	/* cmpb %al,(%eax) */
	{ 32, "3908" },	/* cmpl %ecx,(%eax) */
	{ 32, "398c9100100000" },	/* cmpl %ecx,0x1000(%ecx,%edx,4) */
	{ 32, "66837df805" },	/* cmpw $0x5,-0x8(%ebp) */
	{ 32, "663b55f8" },	/* cmpw -0x8(%ebp),%dx */
	{ 32, "390c7500000000" },	/* cmpl %ecx,0x0(,%esi,2) */
	{ 32, "67663b10" },	/* cmpw (%bx,%si),%dx */
	{ 32, "6766837e1005" },	/* cmpw $0x5,0x10(%bp) */
	{ 32, "67384610" },	/* cmpb %al,0x10(%bp) */
	{ 32, "3000" },	/* xorb %al,(%eax) */
	{ 32, "663310" },	/* xorw (%eax),%dx */
	{ 32, "81730845230100" },	/* xorl $0x12345,0x8(%ebx) */
	{ 32, "304308" },	/* xorb %al,0x8(%ebx) */
	{ 32, "314b08" },	/* xorl %ecx,0x8(%ebx) */
	{ 32, "6683342405" },	/* xorw $0x5,(%esp) */
	{ 32, "6683357856341205" },	/* xorw $0x5,0x12345678 */
	{ 32, "81353412000045230100" },	/* xorl $0x12345,0x1234 */
	{ 32, "100578563412" },	/* adcb %al,0x12345678 */
	{ 32, "110d78563412" },	/* adcl %ecx,0x12345678 */
	{ 32, "66131578563412" },	/* adcw 0x12345678,%dx */
	{ 32, "67661310" },	/* adcw (%bx,%si),%dx */
	{ 32, "67104610" },	/* adcb %al,0x10(%bp) */
	{ 32, "6766135610" },	/* adcw 0x10(%bp),%dx */
	{ 32, "50" },	/* pushl %eax */
	{ 32, "06" },	/* pushl %es */
	{ 32, "1f" },	/* popl %ds */
	{ 32, "0e" },	/* pushl %cs */
	{ 32, "16" },	/* pushl %ss */
	{ 32, "17" },	/* popl %ss */
	{ 32, "60" },	/* pushal */
	{ 32, "61" },	/* popal */
	{ 32, "6660" },	/* pushaw */
	{ 32, "27" },	/* daa */
	{ 32, "2f" },	/* das */
	{ 32, "37" },	/* aaa */
	{ 32, "3f" },	/* aas */
	{ 32, "d40a" },	/* aam $0xa */
	{ 32, "d50a" },	/* aad $0xa */
	{ 32, "ce" },	/* into */
	{ 32, "6203" },	/* boundl %eax,(%ebx) */
	{ 32, "6303" },	/* arpl %ax,(%ebx) */
	{ 32, "c408" },	/* lesl (%eax),%ecx */
	{ 32, "66c518" },	/* ldsw (%eax),%bx */
	{ 32, "9a785634121000" },	/* lcalll $0x10,$0x12345678 */
	{ 32, "ea001000000800" },	/* ljmpl $0x8,$0x1000 */
	{ 32, "66ea00100800" },	/* ljmpw $0x8,$0x1000 */
	{ 32, "669a00201800" },	/* lcallw $0x18,$0x2000 */
	{ 32, "ff28" },	/* ljmpl *(%eax) */
	{ 32, "ffd0" },	/* calll *%eax */
	{ 32, "e8fb000000" },	/* calll 0x100 */
	{ 32, "e9fb0f0000" },	/* jmpl 0x1000 */
	{ 32, "66e8fc00" },	/* callw 0x100 */
	{ 32, "0f84fa0f0000" },	/* je 0x1000 */
	{ 32, "67e302" },	/* jcxz 0x5 */
	{ 32, "e303" },	/* jecxz 0x5 */
	{ 32, "67a13412" },	/* addr16 movl 0x1234,%eax */
	{ 32, "cf" },	/* iretl */
	{ 32, "66cf" },	/* iretw */
	{ 32, "cd10" },	/* int $0x10 */
	{ 32, "cc" },	/* int3 */
	{ 32, "f4" },	/* hlt */
	{ 32, "0f0110" },	/* lgdtl (%eax) */
	{ 32, "660f0118" },	/* lidtw (%eax) */
	{ 32, "f3a5" },	/* rep movsl %ds:(%esi),%es:(%edi) */
	{ 32, "66f3a5" },	/* rep movsw %ds:(%esi),%es:(%edi) */
	{ 32, "67f3a4" },	/* rep movsb %ds:(%si),%es:(%di) */
	{ 32, "0fc708" },	/* cmpxchg8b (%eax) */
	{ 32, "0f05" },	/* syscall */
	{ 32, "0f34" },	/* sysenter */
	{ 32, "0fae20" },	/* xsave (%eax) */
	{ 32, "0fae00" },	/* fxsave (%eax) */
	{ 32, "0f2900" },	/* movaps %xmm0,(%eax) */
	{ 32, "c5f458d0" },	/* vaddps %ymm0,%ymm1,%ymm2 */
	{ 32, "c5fa6f08" },	/* vmovdqu (%eax),%xmm1 */
	{ 32, "c5e9efd9" },	/* vpxor %xmm1,%xmm2,%xmm3 */
	{ 32, "62f36d4825d996" },	/* vpternlogd $0x96,%zmm1,%zmm2,%zmm3 */
	{ 32, "62f1744858d0" },	/* vaddps %zmm0,%zmm1,%zmm2 */
	{ 32, "8fe860a2e210" },	/* vpcmov %xmm1,%xmm2,%xmm3,%xmm4 */
	{ 32, "c8080001" },	/* enterl $0x8,$0x1 */
	{ 32, "c9" },	/* leavel */
	{ 32, "661f" },	/* popw %ds */
	{ 32, "6a05" },	/* pushl $0x5 */
	{ 32, "66683412" },	/* pushw $0x1234 */
	{ 32, "0fa40304" },	/* shldl $0x4,%eax,(%ebx) */
	{ 32, "670fb64010" },	/* movzbl 0x10(%bx,%si),%eax */
	{ 32, "67668d03" },	/* leaw (%bp,%di),%ax */
	{ 32, "678d873412" },	/* leal 0x1234(%bx),%eax */
	{ 32, "67660fbe04" },	/* movsbw (%si),%ax */
	{ 16, "81003412" },	/* addw $0x1234,(%bx,%si) */
	{ 16, "818234123412" },	/* addw $0x1234,0x1234(%bp,%si) */
	{ 16, "81033412" },	/* addw $0x1234,(%bp,%di) */
	{ 16, "66810778563412" },	/* addl $0x12345678,(%bx) */
	{ 16, "800701" },	/* addb $0x1,(%bx) */
	{ 16, "830701" },	/* addw $0x1,(%bx) */
	{ 16, "67800001" },	/* addb $0x1,(%eax) */
	{ 16, "67830001" },	/* addw $0x1,(%eax) */
	{ 16, "6781444b123412" },	/* addw $0x1234,0x12(%ebx,%ecx,2) */
	{ 16, "6701444b12" },	/* addw %ax,0x12(%ebx,%ecx,2) */
	{ 16, "66c7411078563412" },	/* movl $0x12345678,0x10(%bx,%di) */
	{ 16, "668b0d" },	/* movl (%di),%ecx */
	{ 16, "c606785601" },	/* movb $0x1,0x5678 */
	{ 16, "3900" },	/* cmpw %ax,(%bx,%si) */
	{ 16, "813b3412" },	/* cmpw $0x1234,(%bp,%di) */
	{ 16, "833d01" },	/* cmpw $0x1,(%di) */
	{ 16, "39063412" },	/* cmpw %ax,0x1234 */
	{ 16, "833e341201" },	/* cmpw $0x1,0x1234 */
	{ 16, "67663b08" },	/* cmpl (%eax),%ecx */
	{ 16, "83691001" },	/* subw $0x1,0x10(%bx,%di) */
	{ 16, "81aa34123412" },	/* subw $0x1234,0x1234(%bp,%si) */
	{ 16, "2905" },	/* subw %ax,(%di) */
	{ 16, "67662b08" },	/* subl (%eax),%ecx */
	{ 16, "50" },	/* pushw %ax */
	{ 16, "6650" },	/* pushl %eax */
	{ 16, "6a10" },	/* pushw $0x10 */
	{ 16, "666845230100" },	/* pushl $0x12345 */
	{ 16, "9c" },	/* pushfw */
	{ 16, "669c" },	/* pushfl */
	{ 16, "9d" },	/* popfw */
	{ 16, "cf" },	/* iretw */
	{ 16, "66cf" },	/* iretl */
	{ 16, "cd13" },	/* int $0x13 */
	{ 16, "ea5be000f0" },	/* ljmpw $0xf000,$0xe05b */
	{ 16, "66ea000010000800" },	/* ljmpl $0x8,$0x100000 */
	{ 16, "9a20001000" },	/* lcallw $0x10,$0x20 */
	{ 16, "e8fd00" },	/* callw 0x100 */
	{ 16, "66e8fa000000" },	/* calll 0x100 */
	{ 16, "e9fd0f" },	/* jmpw 0x1000 */
	{ 16, "0f84fc00" },	/* je 0x100 */
	{ 16, "0f0117" },	/* lgdtw (%bx) */
	{ 16, "660f01160001" },	/* lgdtl 0x100 */
	{ 16, "0f011c" },	/* lidtw (%si) */
	{ 16, "66b878563412" },	/* movl $0x12345678,%eax */
	{ 16, "67a078563412" },	/* addr32 movb 0x12345678,%al */
	{ 16, "f3a4" },	/* rep movsb %ds:(%si),%es:(%di) */
	{ 16, "f3ab" },	/* rep stosw %ax,%es:(%di) */
	{ 16, "66f3a5" },	/* rep movsl %ds:(%si),%es:(%di) */
	{ 16, "e464" },	/* inb $0x64,%al */
	{ 16, "e680" },	/* outb %al,$0x80 */
	{ 16, "fa" },	/* cli */
	{ 16, "f4" },	/* hlt */
	{ 16, "8ed8" },	/* movw %ax,%ds */
	{ 16, "8d4210" },	/* leaw 0x10(%bp,%si),%ax */
	{ 16, "c407" },	/* lesw (%bx),%ax */
	{ 16, "c537" },	/* ldsw (%bx),%si */
	{ 16, "c8040000" },	/* enterw $0x4,$0x0 */
	{ 16, "c9" },	/* leavew */
	{ 16, "c3" },	/* retw */
	{ 16, "66c3" },	/* retl */
	{ 16, "cb" },	/* lretw */
	{ 16, "66cb" },	/* lretl */
	{ 16, "0f09" },	/* wbinvd */
	{ 16, "0fa2" },	/* cpuid */
	{ 16, "0f32" },	/* rdmsr */
	{ 16, "0f30" },	/* wrmsr */
	{ 16, "0fb607" },	/* movzbw (%bx),%ax */
	{ 16, "660fb707" },	/* movzwl (%bx),%eax */
	{ 16, "0f01e0" },	/* smsww %ax */
	{ 16, "0f01f0" },	/* lmsw %ax */
	{ 16, "60" },	/* pushaw */
	{ 16, "61" },	/* popaw */
	{ 16, "6660" },	/* pushal */
	{ 16, "87db" },	/* xchgw %bx,%bx */
	{ 16, "90" },	/* nop */
	{ 16, "cc" },	/* int3 */
	{ 16, "0fc70f" },	/* cmpxchg8b (%bx) */
};

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = v;
	}
	return n;
}

static int decode_ok(int r)
{
	return r == 0 || r == EMU_DECODE_INVALID;
}

static void test_lengths_match_objdump(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[32];
		size_t n = unhex(cases[i].hex, b);
		struct x86_insn in;
		int r = emu_decode(b, n, cases[i].mode, &in);

		if (!decode_ok(r) || in.len != n) {
			printf("  mode %d %s: r=%d len=%u\n", cases[i].mode, cases[i].hex, r, in.len);
			CHECK(decode_ok(r));
			CHECK_EQ(in.len, n);
		}
		/* One byte short must say so, never read past the end. */
		r = emu_decode(b, n - 1, cases[i].mode, &in);
		if (r != EMU_DECODE_TRUNCATED)
			printf("  mode %d %s short: r=%d\n", cases[i].mode, cases[i].hex, r);
		CHECK_EQ(r, EMU_DECODE_TRUNCATED);
	}
}

/* The common instructions must also decode valid (not just the right length). */
static void test_valid_common(void)
{
	static const struct dcase valid[] = {
		{ 64, "0f01ca" }, { 64, "0f01cb" }, { 64, "cc" }, { 64, "480fae2f" },
		{ 64, "f0480fc70f" }, { 64, "48cf" }, { 64, "0f01f8" }, { 64, "f390" },
		{ 64, "480fc76f40" }, { 64, "0fae6f40" }, { 16, "ea5be000f0" },
	};
	static const char *names[] = {
		"clac", "stac", "int3", "xrstor", "cmpxchg8b", "iret", "swapgs", "nop",
		"xsaves", "xrstor", "ljmp",
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		uint8_t b[16];
		size_t n = unhex(valid[i].hex, b);
		struct x86_insn in;

		CHECK_EQ(emu_decode(b, n, valid[i].mode, &in), 0);
		CHECK_EQ(in.len, n);
		CHECK(strcmp(in.name, names[i]) == 0);
	}
}

static void test_prefix_rules(void)
{
	uint8_t b[32];
	struct x86_insn in;

	/* 14 prefixes + nop = 15 bytes: fine; one more is #GP. */
	memset(b, 0x66, sizeof(b));
	b[14] = 0x90;
	CHECK_EQ(emu_decode(b, sizeof(b), 64, &in), 0);
	CHECK_EQ(in.len, 15);
	b[14] = 0x66;
	b[15] = 0x90;
	CHECK_EQ(emu_decode(b, sizeof(b), 64, &in), EMU_DECODE_TOO_LONG);
	/* Too long wins over truncated. */
	CHECK_EQ(emu_decode(b, 15, 64, &in), EMU_DECODE_TOO_LONG);

	/* REX followed by a legacy prefix is ignored: 48 66 89 c0 = mov %ax,%ax. */
	memcpy(b, "\x48\x66\x89\xc0", 4);
	CHECK_EQ(emu_decode(b, 4, 64, &in), 0);
	CHECK_EQ(in.opsize, 2);
	CHECK_EQ(in.rex, 0);
	/* 66 48: REX.W wins. */
	memcpy(b, "\x66\x48\x89\xc0", 4);
	CHECK_EQ(emu_decode(b, 4, 64, &in), 0);
	CHECK_EQ(in.opsize, 8);

	/* LOCK on a register destination, or on mov, is #UD with its length. */
	memcpy(b, "\xf0\x01\xc0", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), EMU_DECODE_INVALID);
	CHECK_EQ(in.len, 3);
	memcpy(b, "\xf0\x89\x00", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), EMU_DECODE_INVALID);

	/* Opcodes removed from long mode. */
	b[0] = 0x06;
	CHECK_EQ(emu_decode(b, 1, 64, &in), EMU_DECODE_INVALID);
	CHECK_EQ(emu_decode(b, 1, 32, &in), 0);
	/* 40 is inc in 32-bit mode, REX in 64-bit mode. */
	memcpy(b, "\x40\x90", 2);
	CHECK_EQ(emu_decode(b, 2, 32, &in), 0);
	CHECK_EQ(in.len, 1);
	CHECK_EQ(emu_decode(b, 2, 64, &in), 0);
	CHECK_EQ(in.len, 2);
	/* Segment overrides other than FS/GS are ignored in 64-bit mode. */
	memcpy(b, "\x26\x8b\x00", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), 0);
	CHECK_EQ((uint8_t)in.seg, (uint8_t)-1);
	CHECK_EQ(emu_decode(b, 3, 32, &in), 0);
	CHECK_EQ(in.seg, X86_ES);
	/* C4 in 32-bit mode is LES unless ModRM.mod is 3. */
	memcpy(b, "\xc4\x00", 2);
	CHECK_EQ(emu_decode(b, 2, 32, &in), 0);
	CHECK(strcmp(in.name, "les") == 0);
	/* MOV CR ignores mod: no displacement even with mod=0, rm=5. */
	memcpy(b, "\x0f\x20\x05", 3);
	CHECK_EQ(emu_decode(b, 3, 64, &in), 0);
	CHECK_EQ(in.len, 3);
	/* RIP-relative vs absolute disp32. */
	memcpy(b, "\x8b\x05\x10\x00\x00\x00", 6);
	CHECK_EQ(emu_decode(b, 6, 64, &in), 0);
	CHECK(in.rip_relative);
	CHECK_EQ(in.disp, 0x10);
	CHECK_EQ(emu_decode(b, 6, 32, &in), 0);
	CHECK(!in.rip_relative);
	/* Immediates are sign-extended where the ISA says so. */
	memcpy(b, "\x48\x83\xc0\xff", 4);
	CHECK_EQ(emu_decode(b, 4, 64, &in), 0);
	CHECK_EQ(in.imm, ~0ULL);
	memcpy(b, "\x48\x05\x00\x00\x00\x80", 6);
	CHECK_EQ(emu_decode(b, 6, 64, &in), 0);
	CHECK_EQ(in.imm, 0xffffffff80000000ULL);
}

/* Random bytes: no crash, a sane length, and deterministic on re-decode. */
static void test_random_bytes(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 300000; i++) {
		uint8_t b[15];
		struct x86_insn in, in2;
		int mode = (int[]){ 16, 32, 64 }[i % 3], r, r2;

		for (int k = 0; k < 15; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[k] = x >> 24;
		}
		/* Bias towards prefixes and escapes, where the tricky paths are. */
		if (i & 4)
			b[0] = (uint8_t[]){ 0x0f, 0x66, 0xf3, 0x48, 0xc4, 0x62, 0x8f, 0xf0 }[i >> 3 & 7];
		r = emu_decode(b, sizeof(b), mode, &in);
		CHECK(r == 0 || r == EMU_DECODE_INVALID || r == EMU_DECODE_TOO_LONG);
		CHECK(in.len <= 15);
		if (r == EMU_DECODE_TOO_LONG)
			continue;
		r2 = emu_decode(b, in.len, mode, &in2);
		CHECK_EQ(r2, r);
		CHECK_EQ(in2.len, in.len);
		if (in.len > 1)
			CHECK_EQ(emu_decode(b, in.len - 1, mode, &in2), EMU_DECODE_TRUNCATED);
	}
}

int main(void)
{
	RUN(test_lengths_match_objdump);
	RUN(test_valid_common);
	RUN(test_prefix_rules);
	RUN(test_random_bytes);
	return TEST_EXIT();
}
