/* SPDX-License-Identifier: Apache-2.0 */
/*
 * difftest: runs generated user-mode code on KVM (the reference: under a
 * host KVM that runs user mode natively, the real CPU) and on vmon's
 * software CPU from the same state, and compares registers, flags, XMM
 * registers and memory.  docs/emu.md, "Differential testing".
 *
 * Exit status: 0 no difference (differences in undefined flags are
 * reported, not failed), 1 differences, 2 usage, 77 KVM unusable here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dt_gen.h"
#include "dt_reduce.h"
#include "util/log.h"

struct opts {
	uint64_t seed;
	long cases;          /* random sequences */
	int max_items;
	int exhaustive, random;
	long only;           /* run this random case alone (-1: all) */
	int max_report;      /* reduced cases printed in full */
	int max_undef;       /* undefined-flag differences printed */
};

struct tally {
	long cases, diff, undef, reported, undef_shown;
	long ends[33];       /* runs by the reference's final vector (32: other) */
};

static void count_end(struct tally *t, const struct dt_output *o)
{
	t->ends[o->vector >= 0 && o->vector < 32 ? o->vector : 32]++;
}

static void print_ends(const struct tally *t)
{
	const char *sep = " ";

	printf("random: ended by");
	for (int v = 0; v <= 32; v++) {
		if (!t->ends[v])
			continue;
		if (v < 32)
			printf("%svector %d: %ld", sep, v, t->ends[v]);
		else
			printf("%sother: %ld", sep, t->ends[v]);
		sep = ", ";
	}
	printf("\n");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: difftest [--seed N] [--cases N | --long] [--case N] [--max-items N] "
		"[--exhaustive-only | --random-only] [--max-report N]\n");
}

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .seed = 1, .cases = 3000, .max_items = 24, .exhaustive = 1,
			    .random = 1, .max_report = 3, .max_undef = 5, .only = -1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long v;

		if (!strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--long")) {
			o->cases = 300000;
		} else if (!strcmp(a, "--exhaustive-only")) {
			o->random = 0;
		} else if (!strcmp(a, "--random-only")) {
			o->exhaustive = 0;
		} else if (i + 1 < argc && !strcmp(a, "--seed") &&
			   !parse_num(argv[i + 1], 0, 0x7fffffffL, &v)) {
			o->seed = (uint64_t)v;
			i++;
		} else if (i + 1 < argc && !strcmp(a, "--cases") &&
			   !parse_num(argv[i + 1], 0, 1000000000L, &v)) {
			o->cases = v;
			i++;
		} else if (i + 1 < argc && !strcmp(a, "--case") &&
			   !parse_num(argv[i + 1], 0, 1000000000L, &v)) {
			o->only = v;
			o->exhaustive = 0;
			i++;
		} else if (i + 1 < argc && !strcmp(a, "--max-items") &&
			   !parse_num(argv[i + 1], 1, 200, &v)) {
			o->max_items = (int)v;
			i++;
		} else if (i + 1 < argc && !strcmp(a, "--max-report") &&
			   !parse_num(argv[i + 1], 0, 1000, &v)) {
			o->max_report = (int)v;
			i++;
		} else {
			fprintf(stderr, "difftest: bad argument '%s' (--help for the options)\n", a);
			return -1;
		}
	}
	return 0;
}

static void report(struct dt_pair *p, struct dt_case *c, const char *title)
{
	printf("DIFFERENCE %s\n", title);
	dt_print_code(stdout, c);
	dt_print_input(stdout, &c->in);
	printf("  differences:\n");
	dt_print_diff(stdout, c, &p->oref, &p->oemu);
	dt_print_output(stdout, "kvm", &p->oref);
	dt_print_output(stdout, "emu", &p->oemu);
	fflush(stdout);
}

static void reduce_and_report(struct dt_pair *p, struct dt_case *c, struct tally *t,
			      const struct opts *o, const char *what)
{
	char title[160];
	int before = c->n;

	t->diff++;
	if (t->reported >= o->max_report)
		return;
	t->reported++;
	dt_reduce(p, c);
	snprintf(title, sizeof(title), "%s (reduced from %d to %d items)", what, before, c->n);
	report(p, c, title);
}

static void show_undef(struct dt_pair *p, struct tally *t, const struct opts *o,
		       const char *what)
{
	int off = dt_first_data_diff(&p->oref, &p->oemu);

	t->undef++;
	if (t->undef_shown++ >= o->max_undef)
		return;
	if (off >= 0) {
		uint64_t a, b;

		off &= ~7;
		memcpy(&a, p->oref.data + off, 8);
		memcpy(&b, p->oemu.data + off, 8);
		printf("undefined flags differ: %s: kvm %#llx, emu %#llx\n", what,
		       (unsigned long long)a, (unsigned long long)b);
	} else {
		printf("undefined flags differ: %s: rflags kvm %#llx, emu %#llx\n", what,
		       (unsigned long long)p->oref.rflags, (unsigned long long)p->oemu.rflags);
	}
}

static void case_reset(struct dt_case *c)
{
	memset(&c->in, 0, sizeof(c->in));
	c->in.gpr[X86_RSP] = DT_STACK_BASE + DT_STACK_SIZE / 2;
	c->in.mxcsr = 0x1f80;
	c->in.x87.fcw = 0x37f;
	c->n = 0;
}

/* How often each instruction and width left which undefined flags differently. */
struct undef_stat {
	char key[48];
	uint64_t flags;
	long n;
};
#define MAX_UNDEF_STATS 128

/* One exhaustive pass. */
struct exh_run {
	struct dt_pair *p;
	struct dt_exh *x;
	const struct opts *o;
	struct tally *t;
	struct dt_case c;
	struct undef_stat stats[MAX_UNDEF_STATS];
	int nstats;
};

static void describe(const struct exh_run *r, int b, char *what, size_t len)
{
	snprintf(what, len, "exhaustive case %d: ", b);
	dt_exh_describe(r->x, b, what + strlen(what), (int)(len - strlen(what)));
}

/* Case b alone, in slot 0: reported if it differs. */
static int exh_single(struct exh_run *r, int b)
{
	enum dt_verdict v;
	char what[160];

	case_reset(&r->c);
	if (dt_exh_add(r->x, &r->c, b, 0) || dt_pair_run(r->p, &r->c, &v))
		return -1;
	describe(r, b, what, sizeof(what));
	if (v == DT_DIFF)
		reduce_and_report(r->p, &r->c, r->t, r->o, what);
	else if (v == DT_UNDEF_ONLY)
		show_undef(r->p, r->t, r->o, what);
	return 0;
}

static void undef_count(struct exh_run *r, int b, uint64_t flags)
{
	char key[48];
	int i;

	dt_exh_key(r->x, b, key, sizeof(key));
	for (i = 0; i < r->nstats; i++)
		if (!strcmp(r->stats[i].key, key))
			break;
	if (i == MAX_UNDEF_STATS)
		return;
	if (i == r->nstats) {
		snprintf(r->stats[i].key, sizeof(r->stats[i].key), "%s", key);
		r->nstats++;
	}
	r->stats[i].flags |= flags;
	r->stats[i].n++;
}

static void undef_summary(const struct exh_run *r)
{
	for (int i = 0; i < r->nstats; i++) {
		const struct undef_stat *u = &r->stats[i];

		printf("undefined flags differ: %s in %ld cases:%s%s%s%s%s%s\n", u->key, u->n,
		       u->flags & DT_CF ? " CF" : "", u->flags & DT_PF ? " PF" : "",
		       u->flags & DT_AF ? " AF" : "", u->flags & DT_ZF ? " ZF" : "",
		       u->flags & DT_SF ? " SF" : "", u->flags & DT_OF ? " OF" : "");
	}
}

/* A batch that differs only in undefined flags: the slots say which cases. */
static void undef_slots(struct exh_run *r, int first, int k)
{
	for (int i = 0; i < k; i++) {
		int off = i * DT_SLOT_SIZE + 24;
		uint64_t a, b;
		char what[160];

		memcpy(&a, r->p->oref.data + off, 8);
		memcpy(&b, r->p->oemu.data + off, 8);
		if (a == b)
			continue;
		undef_count(r, first + i, a ^ b);
		r->t->undef++;
		if (r->t->undef_shown++ >= r->o->max_undef)
			continue;
		describe(r, first + i, what, sizeof(what));
		printf("undefined flags differ: %s: kvm %#llx, emu %#llx\n", what,
		       (unsigned long long)a, (unsigned long long)b);
	}
}

/* Cases [first, first + n) at once; each alone again if the batch differs. */
static int exh_batch(struct exh_run *r, int first, int *n)
{
	int total = dt_exh_count(r->x), k = 0;
	enum dt_verdict v;

	case_reset(&r->c);
	while (first + k < total && dt_exh_add(r->x, &r->c, first + k, k) == 0) {
		if (dt_case_assemble(&r->c)) {
			r->c.n -= 3;
			break;
		}
		k++;
	}
	*n = k;
	if (dt_pair_run(r->p, &r->c, &v))
		return -1;
	r->t->cases += k;
	if (v == DT_SAME)
		return 0;
	if (v == DT_UNDEF_ONLY) {
		undef_slots(r, first, k);
		return 0;
	}
	for (int i = 0; i < k; i++)
		if (exh_single(r, first + i))
			return -1;
	return 0;
}

static int run_exhaustive(struct dt_pair *p, const struct opts *o, struct tally *t)
{
	struct exh_run *r = calloc(1, sizeof(*r));
	int rc = 0;

	if (!r || !(r->x = dt_exh_new())) {
		free(r);
		printf("difftest: out of memory\n");
		return -1;
	}
	r->p = p;
	r->o = o;
	r->t = t;
	for (int b = 0, n; !rc && b < dt_exh_count(r->x); b += n)
		if (exh_batch(r, b, &n) || n == 0)
			rc = -1;
	if (!rc)
		undef_summary(r);
	dt_exh_free(r->x);
	free(r);
	return rc;
}

static int run_random(struct dt_pair *p, const struct opts *o, struct tally *t, long *insns)
{
	struct dt_case *c = malloc(sizeof(*c));
	int rc = 0;

	if (!c) {
		printf("difftest: out of memory\n");
		return -1;
	}

	for (long i = o->only >= 0 ? o->only : 0; i < (o->only >= 0 ? o->only + 1 : o->cases); i++) {
		uint64_t rng = (o->seed * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)i + 1) * 0xbf58476d1ce4e5b9ULL;
		enum dt_verdict v;
		char what[96];

		rng |= 1;
		/* One case in four is 32-bit code in compatibility mode. */
		if (i % 4 == 3)
			dt_gen_compat(c, &rng, o->max_items);
		else
			dt_gen_random(c, &rng, o->max_items);
		if (dt_pair_run(p, c, &v)) {
			rc = -1;
			break;
		}
		t->cases++;
		count_end(t, &p->oref);
		*insns += c->n;
		snprintf(what, sizeof(what), "random case %ld (seed %llu)", i,
			 (unsigned long long)o->seed);
		if (v == DT_DIFF)
			reduce_and_report(p, c, t, o, what);
		else if (v == DT_UNDEF_ONLY)
			show_undef(p, t, o, what);
	}
	free(c);
	return rc;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct dt_pair p = { 0 };
	struct opts o;
	struct tally te = { 0 }, tr = { 0 };
	char why[256];
	long insns = 0;
	double t0 = now();
	int rc = 0;

	if (parse_opts(argc, argv, &o))
		return 2;
	log_set_level(LOG_WARN);
	p.ref = dt_vm_new(&accel_kvm, why, sizeof(why));
	if (!p.ref) {
		printf("difftest: no reference: %s\n", why);
		return 77;
	}
	p.emu = dt_vm_new(&accel_emu, why, sizeof(why));
	if (!p.emu) {
		printf("difftest: %s\n", why);
		dt_vm_free(p.ref);
		return 1;
	}
	if (o.exhaustive)
		rc = run_exhaustive(&p, &o, &te);
	if (o.exhaustive && !rc)
		printf("exhaustive: %ld flag cases, %ld differ, %ld differ only in undefined flags\n",
		       te.cases, te.diff, te.undef);
	if (!rc && o.random && (rc = run_random(&p, &o, &tr, &insns)) == 0)
		print_ends(&tr);
	if (!rc && o.random)
		printf("random: %ld sequences (%ld items, seed %llu), %ld differ, "
		       "%ld differ only in undefined flags\n", tr.cases, insns,
		       (unsigned long long)o.seed, tr.diff, tr.undef);
	printf("difftest: %lu runs on each accelerator in %.1f s\n", p.runs, now() - t0);
	if (rc)
		printf("difftest: an accelerator failed to run a case\n");
	dt_vm_free(p.ref);
	dt_vm_free(p.emu);
	return rc || te.diff || tr.diff ? 1 : 0;
}
