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

void kvm_dump(struct vcpu *v, const char *why)
{
	struct kvm_run *run = kvm_vcpu_of(v)->run;
	static struct x86_cpu_state s;   /* large; dumps are rare and end the VM */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	uint8_t code[16];
	int n = 0;

	pthread_mutex_lock(&lock);
	log_err("vCPU %d: %s (KVM exit %u %s)", v->id, why, run->exit_reason,
		  kvm_exit_name(run->exit_reason));
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		log_err("  internal error suberror %u", run->internal.suberror);
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		log_err("  hardware entry failure reason %#llx",
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	if (kvm_vcpu_get_state(v, &s) == 0) {
		x86_cpu_state_log(&s);
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
		    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
			n = run->emulation_failure.insn_size > 16 ? 16 : run->emulation_failure.insn_size;
			memcpy(code, run->emulation_failure.insn_bytes, (size_t)n);
		} else {
			n = fetch_code(v, &s, code, (int)sizeof(code));
		}
		x86_code_log(code, n);
	}
	pthread_mutex_unlock(&lock);
}
