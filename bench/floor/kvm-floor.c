/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's raw ceiling for a port read handled in user space: the least a
 * VMM can do, KVM_RUN -> KVM_EXIT_IO -> answer -> KVM_RUN, with nothing else.
 * A real-mode guest times N reads of an unclaimed port (user space) and of
 * port 0x4d0 (the in-kernel PIC's ELCR, no exit to user space) with RDTSC and
 * reports cycles per read through port 0x2f1, as guests/portbench does.
 * Usage: kvm-floor [N]     prints "exit cycles: user=U" and "kernel=K".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE  0x100000
#define CODE_ADDR 0x1000
#define PORT_USER 0x2f0
#define PORT_KERN 0x4d0
#define PORT_OUT  0x2f1

/*
 * 16-bit code: for each of the two ports, EBX = N reads timed by RDTSC,
 * cycles/N reported as a 32-bit OUT, then hlt.
 *   timed(port): mov ecx,N; rdtsc; mov esi,eax; mov edi,edx; mov dx,port;
 *   l: in al,dx; dec ecx; jnz l; rdtsc; sub eax,esi; sbb edx,edi;
 *   div ebx; mov dx,0x2f1; out dx,eax
 */
static size_t emit_timed(uint8_t *p, uint16_t port, uint32_t n)
{
	uint8_t code[] = {
		0x66, 0xb9, 0, 0, 0, 0,          /* mov ecx, n */
		0x0f, 0x31,                      /* rdtsc (clobbers edx: port after) */
		0x66, 0x89, 0xc6,                /* mov esi, eax */
		0x66, 0x89, 0xd7,                /* mov edi, edx */
		0xba, 0, 0,                      /* mov dx, port */
		0xec,                            /* l: in al, dx */
		0x66, 0x49,                      /* dec ecx */
		0x75, 0xfb,                      /* jnz l */
		0x0f, 0x31,                      /* rdtsc */
		0x66, 0x29, 0xf0,                /* sub eax, esi */
		0x66, 0x19, 0xfa,                /* sbb edx, edi */
		0x66, 0xf7, 0xf3,                /* div ebx */
		0xba, PORT_OUT & 0xff, PORT_OUT >> 8, /* mov dx, 0x2f1 */
		0x66, 0xef,                      /* out dx, eax */
	};
	memcpy(code + 2, &n, 4);
	code[15] = (uint8_t)port;
	code[16] = (uint8_t)(port >> 8);
	memcpy(p, code, sizeof(code));
	return sizeof(code);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 100000;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, vcpu, reports = 0;
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_run *run;
	uint8_t *mem, *p;

	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0 ||
	    ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)mem;
	if (mem == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("memory");
	p = mem + CODE_ADDR;
	p += emit_timed(p, PORT_USER, n);
	p += emit_timed(p, PORT_KERN, n);
	*p = 0xf4;                              /* hlt */
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("vcpu");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	regs.rip = CODE_ADDR;
	regs.rbx = n;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	while (reports < 2) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "kvm-floor: unexpected exit %u\n", run->exit_reason);
			return 1;
		}
		uint8_t *data = (uint8_t *)run + run->io.data_offset;

		if (run->io.port == PORT_OUT && run->io.direction == KVM_EXIT_IO_OUT) {
			uint32_t v;

			memcpy(&v, data, 4);
			printf("exit cycles: %s=%u\n", reports++ ? "kernel" : "user", v);
		} else if (run->io.direction == KVM_EXIT_IO_IN) {
			memset(data, 0xff, run->io.size * run->io.count);
		}
	}
	return 0;
}
