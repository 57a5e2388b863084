/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The differential test's machine: guest RAM, the buses, one vCPU on the
 * chosen accelerator, and a kernel side that does nothing but catch the
 * user code's first exception.  The vCPU enters user mode through
 * vcpu_set_state (no guest kernel code runs before), so under a host KVM
 * that runs user mode natively the reference is the real CPU.  Every IDT
 * vector points at a stub "out %al, $(0xe0 + vector); jmp ." at CPL 0:
 * the port write names the vector and stops the vCPU, the exception frame
 * on the kernel stack holds RIP, RFLAGS and RSP, and the other registers
 * are still the user code's.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dt_vm.h"
#include "machine/machine.h"
#include "util/log.h"

#define RAM_SIZE   (4ULL << 20)
#define GDT        0x1000ULL
#define IDT        0x2000ULL
#define TSS        0x3000ULL
#define STUBS      0x4000ULL
#define KSTACK_TOP 0x6000ULL
#define PML4       0x8000ULL
#define PDPT       0x9000ULL
#define PD         0xa000ULL
#define PT         0xb000ULL

#define SEL_KCODE  0x08
#define SEL_KDATA  0x10
#define SEL_UDATA  0x1b
#define SEL_UCODE  0x23
#define SEL_TSS    0x28
#define SEL_UCODE32 0x3b       /* compatibility mode: 32-bit user code */

#define PORT_BASE  0xe0        /* vectors 0-31; 0xdf: any other vector */
#define NR_VECTORS 256
#define RUN_TIMEOUT_NS 2000000000L

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_A  (1ULL << 5)
#define PTE_D  (1ULL << 6)
#define PTE_NX (1ULL << 63)

/* FXSAVE layout offsets in x86_cpu_state.xsave. */
#define FX_FCW      0
#define FX_FSW      2
#define FX_FTW      4
#define FX_ST       32
#define FX_MXCSR    24
#define FX_XMM      160
#define XSTATE_BV   512

struct dt_vm {
	struct machine m;
	struct vcpu *v;
	struct x86_cpu_state base;     /* the state every run starts from */
	struct x86_cpu_state st;       /* scratch */
	atomic_int vector;
	atomic_int timed_out;
	timer_t timer;
	int have_timer;
};

int dt_vector_has_error(int vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
	       vector == 29 || vector == 30;
}

static void w64(struct dt_vm *vm, uint64_t gpa, uint64_t v)
{
	guest_mem_write(&vm->m.mem, gpa, &v, 8);
}

static uint64_t r64(struct dt_vm *vm, uint64_t gpa)
{
	uint64_t v = 0;

	guest_mem_read(&vm->m.mem, gpa, &v, 8);
	return v;
}

/* The stub's port write: the vector, then the vCPU leaves vcpu_run. */
static void stub_port_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct dt_vm *vm = opaque;

	(void)size;
	(void)value;
	atomic_store(&vm->vector, offset == 0 ? NR_VECTORS : (int)offset - 1);
	atomic_store_explicit(&vm->m.stopping, 1, memory_order_release);
	vm->m.accel->vcpu_kick(vm->v);
}

static uint64_t stub_port_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)size;
	return ~0ULL;
}

static const struct bus_ops stub_port_ops = { stub_port_read, stub_port_write };

/* The handle a signal handler needs: the one VM whose run is being timed. */
static struct dt_vm *_Atomic timed_vm;

static void kick_signal(int sig)
{
	(void)sig;
}

static void timeout_signal(int sig)
{
	struct dt_vm *vm = atomic_load(&timed_vm);

	(void)sig;
	if (!vm)
		return;
	atomic_store(&vm->timed_out, 1);
	atomic_store_explicit(&vm->m.stopping, 1, memory_order_release);
}

static int setup_signals(struct dt_vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_signal };
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = timeout_signal;
	sigaction(SIGALRM, &sa, NULL);
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &ev, &vm->timer))
		return -1;
	vm->have_timer = 1;
	return 0;
}

static uint64_t seg_desc(uint64_t type, uint64_t dpl, uint64_t l, uint64_t db)
{
	return 0xffffULL | (type << 40) | (1ULL << 44) | (dpl << 45) | (1ULL << 47) |
	       (0xfULL << 48) | (l << 53) | (db << 54) | (1ULL << 55);
}

static void setup_tables(struct dt_vm *vm)
{
	w64(vm, GDT + SEL_KCODE, seg_desc(0xb, 0, 1, 0));
	w64(vm, GDT + SEL_KDATA, seg_desc(0x3, 0, 0, 1));
	w64(vm, GDT + (SEL_UDATA & ~3), seg_desc(0x3, 3, 0, 1));
	w64(vm, GDT + (SEL_UCODE & ~3), seg_desc(0xb, 3, 1, 0));
	w64(vm, GDT + SEL_TSS, 0x67 | ((TSS & 0xffffff) << 16) | (0x8bULL << 40));
	w64(vm, GDT + SEL_TSS + 8, 0);
	w64(vm, GDT + (SEL_UCODE32 & ~3), seg_desc(0xb, 3, 0, 1));
	w64(vm, TSS + 4, KSTACK_TOP);                  /* RSP0 */
	/* No I/O bitmap (its base past the limit): IN/OUT at CPL 3 is #GP. */
	w64(vm, TSS + 96, 104ULL << 48);
	for (int v = 0; v < NR_VECTORS; v++) {
		uint64_t stub = STUBS + (uint64_t)(v < 32 ? v + 1 : 0) * 4;
		uint64_t dpl = v == 3 || v == 4 ? 3 : 0;      /* INT3, INTO from user mode */

		w64(vm, IDT + v * 16, (stub & 0xffff) | ((uint64_t)SEL_KCODE << 16) |
				      (0xeULL << 40) | (dpl << 45) | (1ULL << 47) |
				      ((stub >> 16) & 0xffff) << 48);
		w64(vm, IDT + v * 16 + 8, stub >> 32);
	}
	for (int i = 0; i <= 32; i++) {
		uint8_t stub[4] = { 0xe6, (uint8_t)(PORT_BASE - 1 + i), 0xeb, 0xfe };

		guest_mem_write(&vm->m.mem, STUBS + (uint64_t)i * 4, stub, sizeof(stub));
	}
}

static uint64_t pte_for(uint64_t pa)
{
	if (pa >= GDT && pa < PT + 0x1000)
		return PTE_P | PTE_RW | PTE_A | PTE_D;
	if (pa >= DT_CODE_BASE && pa < DT_CODE_BASE + DT_CODE_MAX)
		return PTE_P | PTE_US | PTE_A;
	if ((pa >= DT_DATA_BASE && pa < DT_DATA_BASE + DT_DATA_SIZE) ||
	    (pa >= DT_STACK_BASE && pa < DT_STACK_BASE + DT_STACK_SIZE))
		return PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_NX;
	return 0;
}

static void setup_paging(struct dt_vm *vm)
{
	w64(vm, PML4, PDPT | PTE_P | PTE_RW | PTE_US | PTE_A);
	w64(vm, PDPT, PD | PTE_P | PTE_RW | PTE_US | PTE_A);
	w64(vm, PD, PT | PTE_P | PTE_RW | PTE_US | PTE_A);
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t f = pte_for(i << 12);

		w64(vm, PT + i * 8, f ? (i << 12) | f : 0);
	}
}

static void setup_state(struct x86_cpu_state *s)
{
	for (int i = 0; i < 6; i++) {
		x86_seg_flat(&s->seg[i], SEL_UDATA, 0, 32);
		s->seg[i].dpl = 3;
	}
	s->seg[X86_FS].base = DT_FS_BASE;
	s->seg[X86_GS].base = DT_GS_BASE;
	x86_seg_flat(&s->seg[X86_CS], SEL_UCODE, 1, 64);
	s->seg[X86_CS].dpl = 3;
	s->seg[X86_TR] = (struct x86_segment){
		.base = TSS, .limit = 0x67, .selector = SEL_TSS, .type = 0xb, .present = 1,
	};
	s->seg[X86_LDTR] = (struct x86_segment){ .type = 0x2, .present = 1, .unusable = 1 };
	s->gdt = (struct x86_dtable){ GDT, 0x3f };
	s->idt = (struct x86_dtable){ IDT, NR_VECTORS * 16 - 1 };
	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	s->cr3 = PML4;
	s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	s->cr2 = 0;
	memset(&s->events, 0, sizeof(s->events));
	s->mp_state = X86_MP_RUNNABLE;
	memset(s->xsave, 0, 576);
	s->xsave[FX_FCW] = 0x7f;
	s->xsave[FX_FCW + 1] = 0x03;
	s->xsave[XSTATE_BV] = 3;         /* x87 and SSE as given, not in init state */
}

struct dt_vm *dt_vm_new(const struct accel_ops *ops, char *why, size_t len)
{
	struct dt_vm *vm;

	if (!ops->probe(why, len))
		return NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	vm->m.cfg.mem_size = RAM_SIZE;
	vm->m.cfg.cpus = 1;
	vm->m.ncpus = 1;
	vm->m.accel = ops;
	pthread_mutex_init(&vm->m.lock, NULL);
	pthread_cond_init(&vm->m.cond, NULL);
	vm->v = &vm->m.vcpus[0];
	vm->v->m = &vm->m;
	vm->v->thread = pthread_self();
	snprintf(why, len, "%s: cannot create the VM", ops->name);
	if (guest_mem_init(&vm->m.mem, RAM_SIZE) || !(vm->m.pio = bus_new("pio")) ||
	    !(vm->m.mmio = bus_new("mmio")) || setup_signals(vm))
		goto fail;
	if (bus_register(vm->m.pio, PORT_BASE - 1, 33, &stub_port_ops, vm, "difftest") ||
	    ops->vm_init(&vm->m))
		goto fail;
	if (ops->vcpu_init(vm->v) || ops->vcpu_get_state(vm->v, &vm->base))
		goto fail;
	setup_tables(vm);
	setup_paging(vm);
	setup_state(&vm->base);
	return vm;
fail:
	dt_vm_free(vm);
	return NULL;
}

void dt_vm_free(struct dt_vm *vm)
{
	if (!vm)
		return;
	if (vm->v->accel_data)
		vm->m.accel->vcpu_destroy(vm->v);
	if (vm->m.accel_data)
		vm->m.accel->vm_destroy(&vm->m);
	if (vm->have_timer)
		timer_delete(vm->timer);
	bus_free(vm->m.pio);
	bus_free(vm->m.mmio);
	guest_mem_destroy(&vm->m.mem);
	free(vm);
}

static void load_input(struct dt_vm *vm, const struct dt_input *in)
{
	struct x86_cpu_state *s = &vm->st;
	static const uint8_t ud2[2] = { 0x0f, 0x0b };
	size_t n = in->code_len <= DT_CODE_MAX - 2 ? in->code_len : DT_CODE_MAX - 2;

	/* Stale code past the end would run if the end were misjudged: fill with UD2. */
	for (size_t i = 0; i < DT_CODE_MAX; i += 2)
		guest_mem_write(&vm->m.mem, DT_CODE_BASE + i, ud2, 2);
	guest_mem_write(&vm->m.mem, DT_CODE_BASE, in->code, n);
	guest_mem_write(&vm->m.mem, DT_DATA_BASE, in->data, DT_DATA_SIZE);
	guest_mem_write(&vm->m.mem, DT_STACK_BASE, in->stack, DT_STACK_SIZE);
	memset((uint8_t *)guest_mem_ptr(&vm->m.mem, KSTACK_TOP - 0x1000, 0x1000), 0, 0x1000);

	memcpy(s, &vm->base, sizeof(*s));
	memcpy(s->gpr, in->gpr, sizeof(s->gpr));
	s->rip = DT_CODE_BASE;
	if (in->compat) {
		x86_seg_flat(&s->seg[X86_CS], SEL_UCODE32, 1, 32);
		s->seg[X86_CS].dpl = 3;
	}
	s->rflags = (in->rflags & 0xcd5) | X86_RFLAGS_FIXED | X86_RFLAGS_IF;
	memcpy(&s->xsave[FX_MXCSR], &in->mxcsr, 4);
	memcpy(&s->xsave[FX_XMM], in->xmm, sizeof(in->xmm));
	memcpy(&s->xsave[FX_FCW], &in->x87.fcw, 2);
	memcpy(&s->xsave[FX_FSW], &in->x87.fsw, 2);
	s->xsave[FX_FTW] = in->x87.ftw;
	for (int i = 0; i < 8; i++)
		memcpy(&s->xsave[FX_ST + 16 * i], in->x87.st[i], 10);
}

static void arm_timer(struct dt_vm *vm, long ns)
{
	struct itimerspec t = {
		.it_value = { ns / 1000000000L, ns % 1000000000L },
		.it_interval = { 0, ns ? 50000000L : 0 },    /* again, in case one came early */
	};

	timer_settime(vm->timer, 0, &t, NULL);
}

static void read_output(struct dt_vm *vm, struct dt_output *out)
{
	const struct x86_cpu_state *s = &vm->st;
	uint64_t frame = KSTACK_TOP - 40;

	memcpy(out->gpr, s->gpr, sizeof(out->gpr));
	out->error_code = 0;
	if (out->vector >= 0 && out->vector < 32 && dt_vector_has_error(out->vector))
		out->error_code = r64(vm, frame - 8);
	out->cr2 = out->vector == 14 ? s->cr2 : 0;
	out->rip = r64(vm, frame);
	out->cs = (uint16_t)r64(vm, frame + 8);
	out->rflags = r64(vm, frame + 16);
	out->gpr[X86_RSP] = r64(vm, frame + 24);
	out->ss = (uint16_t)r64(vm, frame + 32);
	memcpy(&out->mxcsr, &s->xsave[FX_MXCSR], 4);
	memcpy(out->xmm, &s->xsave[FX_XMM], sizeof(out->xmm));
	memcpy(&out->x87.fcw, &s->xsave[FX_FCW], 2);
	memcpy(&out->x87.fsw, &s->xsave[FX_FSW], 2);
	out->x87.ftw = s->xsave[FX_FTW];
	for (int i = 0; i < 8; i++)
		memcpy(out->x87.st[i], &s->xsave[FX_ST + 16 * i], 10);
	guest_mem_read(&vm->m.mem, DT_DATA_BASE, out->data, DT_DATA_SIZE);
	guest_mem_read(&vm->m.mem, DT_STACK_BASE, out->stack, DT_STACK_SIZE);
}

int dt_vm_run(struct dt_vm *vm, const struct dt_input *in, struct dt_output *out)
{
	enum vcpu_exit e;

	memset(out, 0, sizeof(*out));
	load_input(vm, in);
	if (vm->m.accel->vcpu_set_state(vm->v, &vm->st)) {
		out->vector = DT_END_ERROR;
		return -1;
	}
	atomic_store(&vm->vector, DT_END_TIMEOUT);
	atomic_store(&vm->timed_out, 0);
	atomic_store(&vm->m.stopping, 0);
	atomic_store(&timed_vm, vm);
	arm_timer(vm, RUN_TIMEOUT_NS);
	e = vm->m.accel->vcpu_run(vm->v);
	arm_timer(vm, 0);
	atomic_store(&timed_vm, NULL);
	out->vector = e == VCPU_EXIT_STOP ? atomic_load(&vm->vector) : DT_END_ERROR;
	if (out->vector < 0)
		return -1;
	if (vm->m.accel->vcpu_get_state(vm->v, &vm->st)) {
		out->vector = DT_END_ERROR;
		return -1;
	}
	read_output(vm, out);
	return 0;
}
