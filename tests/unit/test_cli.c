/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "machine/machine_virtio.h"
#include "util/log.h"
#include "test.h"

#define MiB (1ULL << 20)
#define MAX_ARGS 16

static struct machine_config cfg;
static struct cli_run_opts run;
static char err_text[4096];

/* cli_parse_run with stderr captured into err_text. */
static int parse_argv(int argc, char **argv)
{
	FILE *f = tmpfile();
	int saved, rc;
	size_t n;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (f)
		dup2(fileno(f), STDERR_FILENO);
	rc = cli_parse_run(argc, argv, &cfg, &run);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	err_text[0] = 0;
	if (f) {
		rewind(f);
		n = fread(err_text, 1, sizeof(err_text) - 1, f);
		err_text[n] = 0;
		fclose(f);
	}
	return rc;
}

/* "run" followed by the arguments up to NULL; getopt may permute them, so
 * cli_parse_run gets a fresh array each time. */
static int parse(const char *first, ...)
{
	static char *argv[MAX_ARGS + 2];
	int argc = 0;
	const char *a;
	va_list ap;

	argv[argc++] = "run";
	va_start(ap, first);
	for (a = first; a && argc < MAX_ARGS; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return parse_argv(argc, argv);
}

/* The contract of a usage error: one line, "vmon: ...", naming what. */
static int one_error_line(const char *what)
{
	char *nl = strchr(err_text, '\n');

	return !strncmp(err_text, "vmon: ", 6) && nl && !nl[1] && strstr(err_text, what);
}

static void defaults(void)
{
	CHECK_EQ(parse("--kernel", "k.elf", NULL), 0);
	CHECK(!strcmp(cfg.kernel, "k.elf"));
	CHECK(cfg.initrd == NULL);
	CHECK(cfg.cmdline && !strcmp(cfg.cmdline, ""));
	CHECK_EQ(cfg.mem_size, 256 * MiB);
	CHECK_EQ(cfg.cpus, 1);
	CHECK(cfg.serial && !strcmp(cfg.serial, "stdio"));
	CHECK_EQ(cfg.accel, ACCEL_AUTO);
	CHECK_EQ(cfg.flat, 0);
	CHECK_EQ(cfg.stats, 0);
	CHECK_EQ(run.qmp.path[0], 0);
	CHECK_EQ(log_get_level(), LOG_INFO);
	CHECK_EQ(err_text[0], 0);
}

static void every_option(void)
{
	CHECK_EQ(parse("--kernel", "/boot/k", "--initrd", "a.img,b.img", "--cmdline",
		       "console=ttyS0 quiet", "--mem", "2G", "--cpus", "4", "--serial",
		       "file:/tmp/out.txt", "--accel", "kvm", "--stats", NULL), 0);
	CHECK(!strcmp(cfg.kernel, "/boot/k"));
	CHECK(!strcmp(cfg.initrd, "a.img,b.img"));
	CHECK(!strcmp(cfg.cmdline, "console=ttyS0 quiet"));
	CHECK_EQ(cfg.mem_size, 2048 * MiB);
	CHECK_EQ(cfg.cpus, 4);
	CHECK(!strcmp(cfg.serial, "file:/tmp/out.txt"));
	CHECK_EQ(cfg.accel, ACCEL_KVM);
	CHECK_EQ(cfg.stats, 1);
	CHECK_EQ(cfg.flat, 0);

	/* --opt=value works as well as --opt value. */
	CHECK_EQ(parse("--kernel=x", "--mem=64M", "--cpus=64", "--serial=none", "--accel=emu", NULL), 0);
	CHECK(!strcmp(cfg.kernel, "x"));
	CHECK_EQ(cfg.mem_size, 64 * MiB);
	CHECK_EQ(cfg.cpus, 64);
	CHECK(!strcmp(cfg.serial, "none"));
	CHECK_EQ(cfg.accel, ACCEL_EMU);

	CHECK_EQ(parse("--accel", "auto", "--kernel", "x", "--serial", "stdio", NULL), 0);
	CHECK_EQ(cfg.accel, ACCEL_AUTO);
	CHECK(!strcmp(cfg.serial, "stdio"));

	/* The last of a repeated option wins. */
	CHECK_EQ(parse("--kernel", "a", "--kernel", "b", "--cpus", "2", "--cpus", "3", NULL), 0);
	CHECK(!strcmp(cfg.kernel, "b"));
	CHECK_EQ(cfg.cpus, 3);

	/* An empty command line is allowed; options after the kernel too. */
	CHECK_EQ(parse("--cmdline", "", "--kernel", "k", NULL), 0);
	CHECK(!strcmp(cfg.cmdline, ""));
}

static void mem_sizes(void)
{
	static const struct { const char *s; unsigned long long v; } ok[] = {
		{ "2M", 2 * MiB }, { "256M", 256 * MiB }, { "256m", 256 * MiB },
		{ "1G", 1024 * MiB }, { "1T", 1024 * 1024 * MiB }, { "4096K", 4 * MiB },
		{ "2097152", 2 * MiB }, { "3G", 3072 * MiB }, { "64MiB", 64 * MiB },
		{ "64MB", 64 * MiB }, { "5000K", 5000 * 1024 },
	};
	static const char *const bad[] = {
		"0", "1K", "1M", "2097151", "5T", "1025G", "junk", "1.5G", "-1", "", "4097",
		"2M ", " 2M", "2X", "64Mx", "0x1000000", "18446744073709551616", "99999999999T",
		"2097152K1",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_EQ(parse("--kernel", "k", "--mem", ok[i].s, NULL), 0);
		CHECK_EQ(cfg.mem_size, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse("--kernel", "k", "--mem", bad[i], NULL) != VMON_EXIT_USAGE ||
		    !one_error_line("--mem")) {
			printf("FAIL %s: --mem '%s' not rejected with one line: %s\n", test_current,
			       bad[i], err_text);
			test_failed = 1;
		}
	}
}

static void cpu_counts(void)
{
	static const char *const bad[] = { "0", "65", "-1", "junk", "", "1.5", "2x", " 2",
					   "4294967297", "18446744073709551617" };

	CHECK_EQ(parse("--kernel", "k", "--cpus", "1", NULL), 0);
	CHECK_EQ(cfg.cpus, 1);
	CHECK_EQ(parse("--kernel", "k", "--cpus", "64", NULL), 0);
	CHECK_EQ(cfg.cpus, 64);
	CHECK_EQ(parse("--kernel", "k", "--cpus", "0x10", NULL), 0);
	CHECK_EQ(cfg.cpus, 16);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse("--kernel", "k", "--cpus", bad[i], NULL) != VMON_EXIT_USAGE ||
		    !one_error_line("--cpus")) {
			printf("FAIL %s: --cpus '%s' not rejected with one line: %s\n", test_current,
			       bad[i], err_text);
			test_failed = 1;
		}
	}
}

static void serial_and_accel(void)
{
	static const char *const bad_serial[] = { "bogus", "", "file:", "file", "STDIO",
						  "stdio ", "pty", "none:" };
	static const char *const bad_accel[] = { "bogus", "", "KVM", "tcg", "kvm,emu" };

	for (size_t i = 0; i < sizeof(bad_serial) / sizeof(bad_serial[0]); i++) {
		CHECK_EQ(parse("--kernel", "k", "--serial", bad_serial[i], NULL), VMON_EXIT_USAGE);
		CHECK(one_error_line("--serial"));
	}
	for (size_t i = 0; i < sizeof(bad_accel) / sizeof(bad_accel[0]); i++) {
		CHECK_EQ(parse("--kernel", "k", "--accel", bad_accel[i], NULL), VMON_EXIT_USAGE);
		CHECK(one_error_line("--accel"));
	}
	CHECK_EQ(parse("--kernel", "k", "--serial", "file:x", NULL), 0);
	CHECK(!strcmp(cfg.serial, "file:x"));
}

static void flat(void)
{
	CHECK_EQ(parse("--kernel", "k", "--flat", NULL), 0);
	CHECK_EQ(cfg.flat, 1);
	CHECK_EQ(cfg.flat_addr, 0x7c00);
	CHECK_EQ(parse("--kernel", "k", "--flat=0x1000", NULL), 0);
	CHECK_EQ(cfg.flat, 1);
	CHECK_EQ(cfg.flat_addr, 0x1000);
	CHECK_EQ(parse("--flat=0x500", "--kernel", "k", NULL), 0);
	CHECK_EQ(cfg.flat_addr, 0x500);
	CHECK_EQ(parse("--flat=0x9f000", "--kernel", "k", NULL), 0);
	CHECK_EQ(cfg.flat_addr, 0x9f000);
	CHECK_EQ(parse("--flat=65536", "--kernel", "k", NULL), 0);
	CHECK_EQ(cfg.flat_addr, 0x10000);

	CHECK_EQ(parse("--kernel", "k", "--flat=0x10", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--flat"));
	CHECK_EQ(parse("--kernel", "k", "--flat=0x4ff", NULL), VMON_EXIT_USAGE);
	CHECK_EQ(parse("--kernel", "k", "--flat=0x9f001", NULL), VMON_EXIT_USAGE);
	CHECK_EQ(parse("--kernel", "k", "--flat=junk", NULL), VMON_EXIT_USAGE);
	CHECK_EQ(parse("--kernel", "k", "--flat=", NULL), VMON_EXIT_USAGE);
	CHECK_EQ(parse("--kernel", "k", "--flat=-1", NULL), VMON_EXIT_USAGE);
	/* The address is only ever "--flat=ADDR": a separate word is a stray argument. */
	CHECK_EQ(parse("--kernel", "k", "--flat", "0x1000", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("0x1000"));
}

static void qmp_socket(void)
{
	static const struct { const char *arg, *path; } ok[] = {
		{ "unix:/tmp/q.sock", "/tmp/q.sock" },
		{ "unix:q.sock,server=on,wait=off", "q.sock" },
		{ "unix:/run/vm/qmp,server,nowait", "/run/vm/qmp" },
		{ "unix:a,server", "a" },
		{ "unix:a,nowait,server=on", "a" },
		{ "unix:a,,b,,,wait=off", "a,b," },         /* ",," is a comma in PATH */
		{ "unix:/x y/\xc3\xa9", "/x y/\xc3\xa9" },
	};
	static const struct { const char *arg, *why; } bad[] = {
		{ "/tmp/q.sock", "unix:PATH" },
		{ "tcp:localhost:4444,server,nowait", "unix:PATH" },
		{ "unix", "unix:PATH" },
		{ "", "unix:PATH" },
		{ "unix:", "socket path" },
		{ "unix:,server", "socket path" },
		{ "unix:a,server=off", "server=off" },
		{ "unix:a,noserver", "server=off" },
		{ "unix:a,wait=on", "wait=on" },
		{ "unix:a,server,wait", "wait=on" },
		{ "unix:a,bogus", "bogus" },
		{ "unix:a,server=yes", "server=yes" },
		{ "unix:a,", "unknown option" },
		{ "unix:a,server,,", "unknown option" },
		{ "unix:a,server=onnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "unknown option" },
	};
	char longest[QMP_PATH_MAX + 8], *too_long;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_EQ(parse("--kernel", "k", "--qmp", ok[i].arg, NULL), 0);
		CHECK(!strcmp(run.qmp.path, ok[i].path));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse("--kernel", "k", "--qmp", bad[i].arg, NULL) != VMON_EXIT_USAGE ||
		    !one_error_line("--qmp") || !strstr(err_text, bad[i].why)) {
			printf("FAIL %s: --qmp '%s' not rejected with one line naming '%s': %s\n",
			       test_current, bad[i].arg, bad[i].why, err_text);
			test_failed = 1;
		}
	}
	/* sun_path holds 107 bytes and the NUL. */
	memcpy(longest, "unix:", 5);
	memset(longest + 5, 'p', QMP_PATH_MAX - 1);
	longest[5 + QMP_PATH_MAX - 1] = 0;
	CHECK_EQ(parse("--kernel", "k", "--qmp", longest, NULL), 0);
	CHECK_EQ(strlen(run.qmp.path), QMP_PATH_MAX - 1);
	too_long = strcat(longest, "p");
	CHECK_EQ(parse("--kernel", "k", "--qmp", too_long, NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("longer than 107 bytes"));
	/* Each parse starts without a socket; the last --qmp wins. */
	CHECK_EQ(parse("--kernel", "k", NULL), 0);
	CHECK_EQ(run.qmp.path[0], 0);
	CHECK_EQ(parse("--qmp=unix:a", "--kernel", "k", "--qmp", "unix:b", NULL), 0);
	CHECK(!strcmp(run.qmp.path, "b"));
	CHECK_EQ(parse("--kernel", "k", "--qmp", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--qmp"));
}

static void usage_errors(void)
{
	CHECK_EQ(parse(NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--kernel"));
	CHECK_EQ(parse("--mem", "64M", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--kernel"));
	CHECK_EQ(parse("--kernel", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--kernel"));
	CHECK_EQ(parse("--kernel", "k", "--mem", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--mem"));
	CHECK_EQ(parse("--kernel", "k", "--bogus", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--bogus"));
	CHECK_EQ(parse("--kernel", "k", "-x", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("vmon: "));
	CHECK_EQ(parse("--kernel", "k", "stray", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("stray"));
	CHECK_EQ(parse("--stats=1", "--kernel", "k", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("vmon: "));
	/* An abbreviation getopt_long can resolve is fine; an ambiguous one is not. */
	CHECK_EQ(parse("--kern", "k", NULL), 0);
	CHECK(!strcmp(cfg.kernel, "k"));
	CHECK_EQ(parse("--kernel", "k", "--c", "x", NULL), VMON_EXIT_USAGE);
}

/* packed=on per virtio device (QEMU's convention): off unless asked. */
static void packed_option(void)
{
	CHECK_EQ(parse("--kernel", "k", "--disk", "a.img", "--net", "tap=t0", "--virtio-console",
		       "none", "--rng", NULL), 0);
	CHECK(!cfg.disk[0].packed && !cfg.nic[0].packed && !cfg.console_packed && !cfg.rng_packed);
	CHECK_EQ(machine_virtio_packed_mask(&cfg), 0);

	CHECK_EQ(parse("--kernel", "k", "--disk", "a.img,packed=on", "--disk", "b.img,packed=off",
		       "--net", "tap=t0,packed=on,mac=52:54:00:00:00:02", "--virtio-console",
		       "file:/tmp/x,y,packed=on", "--rng=packed=on", NULL), 0);
	CHECK(cfg.disk[0].packed && !cfg.disk[1].packed && cfg.nic[0].packed);
	CHECK(!strcmp(cfg.disk[0].path, "a.img") && !strcmp(cfg.nic[0].tap, "t0"));
	CHECK(cfg.console_packed && !strcmp(cfg.virtio_console, "file:/tmp/x,y"));
	CHECK(cfg.rng && cfg.rng_packed);
	/* Devices in creation order: disks, NICs, console, rng. */
	CHECK_EQ(machine_virtio_packed_mask(&cfg), 0x1d);
	cfg.disk[0].packed = cfg.nic[0].packed = false;
	machine_virtio_set_packed(&cfg, 0x1d);
	CHECK(cfg.disk[0].packed && !cfg.disk[1].packed && cfg.nic[0].packed);

	/* A file name with a comma is still one. */
	CHECK_EQ(parse("--kernel", "k", "--virtio-console", "file:/tmp/a,b", NULL), 0);
	CHECK(!strcmp(cfg.virtio_console, "file:/tmp/a,b") && !cfg.console_packed);

	CHECK_EQ(parse("--kernel", "k", "--disk", "a.img,packed=yes", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("packed"));
	CHECK_EQ(parse("--kernel", "k", "--net", "tap=t0,packed=1", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("packed=1"));
	CHECK_EQ(parse("--kernel", "k", "--rng=packed=maybe", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--rng"));
	CHECK_EQ(parse("--kernel", "k", "--rng=fast", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--rng"));
	CHECK_EQ(parse("--kernel", "k", "--virtio-console", "stdio,packed=2", NULL),
		 VMON_EXIT_USAGE);
	CHECK(one_error_line("--virtio-console"));
}

static void verbosity(void)
{
	CHECK_EQ(parse("-v", "--kernel", "k", NULL), 0);
	CHECK_EQ(log_get_level(), LOG_DEBUG);
	CHECK_EQ(parse("--quiet", "--kernel", "k", NULL), 0);
	CHECK_EQ(log_get_level(), LOG_ERROR);
	CHECK_EQ(parse("--verbose", "--kernel", "k", NULL), 0);
	CHECK_EQ(log_get_level(), LOG_DEBUG);
	CHECK_EQ(parse("-q", "--kernel", "k", NULL), 0);
	CHECK_EQ(log_get_level(), LOG_ERROR);
	CHECK_EQ(parse("--kernel", "k", NULL), 0);
	CHECK_EQ(log_get_level(), LOG_INFO);
	/* A usage error is still reported under -q. */
	CHECK_EQ(parse("-q", "--kernel", "k", "--cpus", "0", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("--cpus"));
	log_set_level(LOG_INFO);
}

static void help(void)
{
	int saved, null = open("/dev/null", O_WRONLY), rc1, rc2;

	CHECK(null >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(null, STDOUT_FILENO);
	rc1 = parse("--help", NULL);
	rc2 = parse("-h", "--kernel", "k", NULL);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
	CHECK_EQ(rc1, -1);
	CHECK_EQ(rc2, -1);
	CHECK_EQ(err_text[0], 0);
}

/* An unknown letter inside a cluster of short options is the one named. */
static void unknown_short_option_named(void)
{
	CHECK_EQ(parse("-x", "--kernel", "k", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("-x"));
	CHECK_EQ(parse("-vZ", "--kernel", "k", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("Z"));
	CHECK_EQ(parse("-Zv", "--kernel", "k", NULL), VMON_EXIT_USAGE);
	CHECK(one_error_line("Z"));
	log_set_level(LOG_INFO);
}

/*
 * Each parse starts from scratch: an error in the middle of a cluster of
 * short options ("-vXq") must not leave getopt scanning the rest of that
 * old argument in the next parse.
 */
static void parses_are_independent(void)
{
	static char cluster[] = "-vXq";
	char *argv1[] = { "run", cluster, NULL };

	CHECK_EQ(parse_argv(2, argv1), VMON_EXIT_USAGE);
	CHECK_EQ(parse("--kernel", "k", NULL), 0);
	CHECK_EQ(log_get_level(), LOG_INFO);
	CHECK_EQ(cfg.mem_size, 256 * MiB);

	CHECK_EQ(parse("--kernel", "k", "--mem", "junk", "--cpus", "8", NULL), VMON_EXIT_USAGE);
	CHECK_EQ(parse("--kernel", "k2", NULL), 0);
	CHECK_EQ(cfg.cpus, 1);
	CHECK(!strcmp(cfg.kernel, "k2"));
	log_set_level(LOG_INFO);
}

int main(void)
{
	RUN(defaults);
	RUN(every_option);
	RUN(mem_sizes);
	RUN(cpu_counts);
	RUN(serial_and_accel);
	RUN(flat);
	RUN(qmp_socket);
	RUN(usage_errors);
	RUN(packed_option);
	RUN(verbosity);
	RUN(help);
	RUN(parses_are_independent);
	/* Last: with the getopt state bug it leaves a stale cluster behind. */
	RUN(unknown_short_option_named);
	return TEST_EXIT();
}
