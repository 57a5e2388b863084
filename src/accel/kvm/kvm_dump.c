/* SPDX-License-Identifier: Apache-2.0 */
/* A readable account of a vCPU that stopped on something vmon cannot handle. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accel/kvm/kvm_int.h"
#include "util/log.h"

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR", [KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS", [KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR", [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
};

const char *kvm_exit_name(uint32_t reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "?";
}

/* Through log_err: the console may be raw, and lines need \r\n there. */
#define DUMP_LINE(...) log_err(__VA_ARGS__)

static int fetch_code(struct vcpu *v, const struct x86_cpu_state *s, uint8_t *buf, int len)
{
	struct kvm_translation tr = { .linear_address = s->seg[X86_CS].base + s->rip };
	int n = 0;

	if (ioctl(kvm_vcpu_of(v)->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return 0;
	while (n < len && guest_mem_read(&v->m->mem, tr.physical_address + (uint64_t)n,
					 &buf[n], 1) == 0 &&
	       ((tr.physical_address + (uint64_t)n + 1) & 0xfff))
		n++;
	return n;
}

static void dump_bytes(const char *what, const uint8_t *b, int n)
{
	char line[3 * 16 + 1] = "";

	if (n > 16)
		n = 16;
	for (int i = 0; i < n; i++)
		snprintf(line + 3 * i, sizeof(line) - 3 * (size_t)i, " %02x", b[i]);
	DUMP_LINE("  %s:%s", what, n ? line : " (unavailable)");
}

static void dump_seg(const char *name, const struct x86_segment *s)
{
	DUMP_LINE("  %-4s sel=%04x base=%016llx limit=%08x type=%x s=%d dpl=%d p=%d l=%d db=%d g=%d",
		  name, s->selector, (unsigned long long)s->base, s->limit, s->type,
		  s->s, s->dpl, s->present, s->l, s->db, s->g);
}

static void dump_state(const struct x86_cpu_state *s)
{
	static const char *const gpr[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi",
		"rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	static const char *const seg[] = { "es", "cs", "ss", "ds", "fs", "gs", "tr", "ldtr" };

	DUMP_LINE("  rip=%016llx rflags=%08llx", (unsigned long long)s->rip,
		  (unsigned long long)s->rflags);
	for (int i = 0; i < X86_NR_GPRS; i += 4)
		DUMP_LINE("  %-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx",
			  gpr[i], (unsigned long long)s->gpr[i],
			  gpr[i + 1], (unsigned long long)s->gpr[i + 1],
			  gpr[i + 2], (unsigned long long)s->gpr[i + 2],
			  gpr[i + 3], (unsigned long long)s->gpr[i + 3]);
	for (int i = 0; i < X86_NR_SEGS; i++)
		dump_seg(seg[i], &s->seg[i]);
	DUMP_LINE("  gdt=%016llx/%04x idt=%016llx/%04x",
		  (unsigned long long)s->gdt.base, s->gdt.limit,
		  (unsigned long long)s->idt.base, s->idt.limit);
	DUMP_LINE("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
		  (unsigned long long)s->cr0, (unsigned long long)s->cr2,
		  (unsigned long long)s->cr3, (unsigned long long)s->cr4,
		  (unsigned long long)s->efer);
}

void kvm_dump(struct vcpu *v, const char *why)
{
	struct kvm_run *run = kvm_vcpu_of(v)->run;
	static struct x86_cpu_state s;   /* large; dumps are rare and end the VM */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	uint8_t code[16];
	int n = 0;

	pthread_mutex_lock(&lock);
	DUMP_LINE("vCPU %d: %s (KVM exit %u %s)", v->id, why, run->exit_reason,
		  kvm_exit_name(run->exit_reason));
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		DUMP_LINE("  internal error suberror %u", run->internal.suberror);
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		DUMP_LINE("  hardware entry failure reason %#llx",
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	if (kvm_vcpu_get_state(v, &s) == 0) {
		dump_state(&s);
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
		    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
			n = run->emulation_failure.insn_size > 16 ? 16 : run->emulation_failure.insn_size;
			memcpy(code, run->emulation_failure.insn_bytes, (size_t)n);
		} else {
			n = fetch_code(v, &s, code, (int)sizeof(code));
		}
		dump_bytes("code at rip", code, n);
	}
	pthread_mutex_unlock(&lock);
}
