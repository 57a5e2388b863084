/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/qmp.h"
#include "machine/machine_snapshot.h"
#include "util/log.h"
#include "util/parse.h"

static const char run_usage[] =
"usage: vmon run --kernel PATH [options]\n"
"       vmon run --restore FILE [options]\n"
"\n"
"  --kernel PATH       guest to boot: multiboot ELF or a.out-kludge image\n"
"  --initrd PATH[,..]  multiboot modules (comma-separated)\n"
"  --cmdline STR       kernel command line\n"
"  --mem SIZE          guest RAM, e.g. 256M, 2G (default 256M)\n"
"  --cpus N            vCPUs, 1..64 (default 1)\n"
"  --serial MODE       COM1 backend: stdio (default), file:PATH, none\n"
"  --accel NAME        kvm, emu or auto (default auto)\n"
"  --disk PATH[,format=raw|qcow2][,readonly=on][,cache=writeback|none][,serial=ID][,packed=on]\n"
"                      a virtio-blk disk (repeatable, up to 16)\n"
"  --net tap=NAME[,mac=MAC][,packed=on]\n"
"                      a virtio-net NIC on tap NAME, created when absent\n"
"                      (repeatable, up to 4; default MAC 52:54:00:12:34:5N)\n"
"  --virtio-console MODE[,packed=on]\n"
"                      a virtio-console (hvc0): stdio, file:PATH, none\n"
"  --transport pci|mmio  how virtio devices attach: PCI (default) or virtio-mmio\n"
"                      (described in ACPI; no kernel parameters needed)\n"
"  --rng[=packed=on]   a virtio-rng device fed from the host's getrandom()\n"
"                      (packed=on, on any virtio device: it offers packed\n"
"                      virtqueues too, VIRTIO_F_RING_PACKED; default off)\n"
"  --qmp unix:PATH[,server=on][,wait=off]\n"
"                      a QMP control socket at PATH (docs/qmp.md); the guest\n"
"                      starts at once, clients connect one after another\n"
"  --flat[=ADDR]       --kernel is a flat binary entered in real mode at ADDR\n"
"  --restore FILE      continue the VM saved in FILE (QMP migrate file:); --disk\n"
"                      and --net may point a clone at its own overlays and taps\n"
"                      (default 0x7c00, CS:IP = 0000:ADDR)\n"
"  --stats             at exit, print accelerator counters (instructions\n"
"                      vmon emulated because the host KVM could not)\n"
"  -v, --verbose       more diagnostics on stderr\n"
"  -q, --quiet         errors only\n"
"  -h, --help          this text\n"
"\n"
"exit status: 0 guest powered off or reset; (v << 1) | 1 after the guest\n"
"wrote v to the debug-exit port 0xf4; 2 usage or configuration error;\n"
"3 guest crashed (triple fault) or an exit vmon cannot handle.\n"
"On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n";

static const char main_usage[] =
"usage: vmon run --kernel PATH [options]   (vmon run --help for options)\n"
"       vmon --version\n";

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS,
       OPT_SERIAL, OPT_ACCEL, OPT_FLAT, OPT_STATS, OPT_DISK, OPT_RNG, OPT_NET, OPT_VCON, OPT_TRANSPORT,
       OPT_RESTORE, OPT_QMP };

static int usage_error(const char *what, const char *arg)
{
	log_err("%s%s%s (see 'vmon run --help')", what, arg ? ": " : "", arg ? arg : "");
	return VMON_EXIT_USAGE;
}

/* getopt leaves an unknown short option's letter in optopt, not in argv. */
static int unknown_option(const char *arg)
{
	char letter[3] = { '-', (char)optopt, 0 };

	return usage_error("unknown option", optopt ? letter : arg);
}

static int parse_serial(const char *s)
{
	if (!strcmp(s, "stdio") || !strcmp(s, "none"))
		return 0;
	if (!strncmp(s, "file:", 5) && s[5])
		return 0;
	return -1;
}

/* packed=on|off: *on set, 0; -1 if val is neither. */
static int on_off(const char *val, bool *on)
{
	if (strcmp(val, "on") && strcmp(val, "off"))
		return -1;
	*on = !strcmp(val, "on");
	return 0;
}

/* One key=value of --disk; 0, or -1 after the error line. */
static int disk_option(struct virtio_blk_opts *d, const char *key, const char *val)
{
	if (!strcmp(key, "format") && (!strcmp(val, "raw") || !strcmp(val, "qcow2")))
		d->format = !strcmp(val, "raw") ? "raw" : "qcow2";
	else if (!strcmp(key, "readonly") && (!strcmp(val, "on") || !strcmp(val, "off")))
		d->readonly = !strcmp(val, "on");
	else if (!strcmp(key, "cache") && (!strcmp(val, "writeback") || !strcmp(val, "none")))
		d->cache_none = !strcmp(val, "none");
	else if (!strcmp(key, "serial") && strlen(val) <= VIRTIO_BLK_ID_BYTES)
		snprintf(d->serial, sizeof(d->serial), "%s", val);
	else if (!strcmp(key, "packed") && !on_off(val, &d->packed))
		;
	else
		return usage_error("--disk: bad option", key);
	return 0;
}

/* Splits "a,b,c" in place: each call returns the next item, NULL at the end. */
static char *next_item(char **rest)
{
	return strsep(rest, ",");
}

/* Copies s into dst[cap]; -1 if it does not fit or is empty. */
static int copy_str(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= cap)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

/* PATH[,key=value...] */
static int parse_disk(const char *arg, struct virtio_blk_opts *d)
{
	char buf[PATH_MAX + 256], *rest = buf, *tok;

	*d = (struct virtio_blk_opts){ 0 };
	if (copy_str(buf, sizeof(buf), arg) || copy_str(d->path, sizeof(d->path), next_item(&rest)))
		return usage_error("--disk wants PATH[,option=value...]", arg);
	while ((tok = next_item(&rest))) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return usage_error("--disk: option without a value", tok);
		*eq = 0;
		if (disk_option(d, tok, eq + 1))
			return -1;
	}
	return 0;
}

/* tap=NAME[,mac=MAC][,packed=on]; the n-th NIC's default MAC is QEMU's plus n. */
static int parse_net(const char *arg, struct virtio_net_opts *o, int n)
{
	static const uint8_t qemu_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	char buf[256], *rest = buf, *tok;

	*o = (struct virtio_net_opts){ 0 };
	memcpy(o->mac, qemu_mac, 6);
	o->mac[5] = (uint8_t)(o->mac[5] + n);
	if (copy_str(buf, sizeof(buf), arg))
		return usage_error("--net wants tap=NAME[,mac=52:54:00:xx:xx:xx]", arg);
	while ((tok = next_item(&rest))) {
		if (!strncmp(tok, "tap=", 4) && copy_str(o->tap, sizeof(o->tap), tok + 4) == 0)
			continue;
		if (!strncmp(tok, "packed=", 7) && !on_off(tok + 7, &o->packed))
			continue;
		if (strncmp(tok, "mac=", 4) || virtio_net_parse_mac(tok + 4, o->mac))
			return usage_error("--net wants tap=NAME (up to 15 characters)[,mac=52:54:00:xx:xx:xx]"
					   "[,packed=on|off]", arg);
	}
	if (!o->tap[0])
		return usage_error("--net wants tap=NAME", arg);
	return 0;
}

/*
 * --virtio-console MODE[,packed=on|off]: MODE, in a buffer of ours, and
 * *on set.  Only a trailing packed= is taken: any other comma stays, as
 * part of a file name.  NULL if MODE is too long.
 */
static const char *console_mode(const char *arg, bool *on)
{
	static char mode[PATH_MAX + 16];
	char *comma;

	if (strlen(arg) >= sizeof(mode))
		return NULL;
	strcpy(mode, arg);
	comma = strrchr(mode, ',');
	if (comma && !strncmp(comma + 1, "packed=", 7) && !on_off(comma + 8, on))
		*comma = 0;
	return mode;
}

static int console_clash(const struct machine_config *cfg)
{
	if (cfg->virtio_console && !strcmp(cfg->virtio_console, "stdio") &&
	    !strcmp(cfg->serial, "stdio"))
		return usage_error("--virtio-console stdio needs --serial elsewhere (file:PATH or none)",
				   NULL);
	return 0;
}

int cli_parse_run(int argc, char **argv, struct machine_config *cfg, struct cli_run_opts *run)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "flat", optional_argument, NULL, OPT_FLAT },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "rng", optional_argument, NULL, OPT_RNG },
		{ "net", required_argument, NULL, OPT_NET },
		{ "virtio-console", required_argument, NULL, OPT_VCON },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "qmp", required_argument, NULL, OPT_QMP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char err[256];
	uint64_t v;
	int c, verbosity = LOG_INFO;
	bool on;

	*cfg = (struct machine_config){
		.cmdline = "", .mem_size = 256ULL << 20, .cpus = 1,
		.serial = "stdio", .accel = ACCEL_AUTO, .flat_addr = 0x7c00,
	};
	*run = (struct cli_run_opts){ 0 };
	optind = 0;     /* 0, not 1: glibc then forgets a half-scanned "-abc" of an earlier call */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:  cfg->kernel = optarg; break;
		case OPT_INITRD:  cfg->initrd = optarg; break;
		case OPT_CMDLINE: cfg->cmdline = optarg; break;
		case OPT_MEM:
			if (!parse_size(optarg, &v) || v < MEM_MIN_SIZE || v > MEM_MAX_SIZE ||
			    (v & 0xfff))
				return usage_error("--mem wants a page-aligned size from 2M to 1T", optarg);
			cfg->mem_size = v;
			cfg->mem_given = 1;
			break;
		case OPT_CPUS:
			if (!parse_u64(optarg, &v) || v < 1 || v > VMON_MAX_CPUS)
				return usage_error("--cpus wants a number from 1 to 64", optarg);
			cfg->cpus = (int)v;
			cfg->cpus_given = 1;
			break;
		case OPT_SERIAL:
			if (parse_serial(optarg))
				return usage_error("--serial wants stdio, file:PATH or none", optarg);
			cfg->serial = optarg;
			break;
		case OPT_ACCEL:
			if (!strcmp(optarg, "kvm"))
				cfg->accel = ACCEL_KVM;
			else if (!strcmp(optarg, "emu"))
				cfg->accel = ACCEL_EMU;
			else if (!strcmp(optarg, "auto"))
				cfg->accel = ACCEL_AUTO;
			else
				return usage_error("--accel wants kvm, emu or auto", optarg);
			break;
		case OPT_FLAT:
			cfg->flat = 1;
			if (optarg && (!parse_u64(optarg, &v) || v < 0x500 || v > 0x9f000))
				return usage_error("--flat wants a load address from 0x500 to 0x9f000", optarg);
			if (optarg)
				cfg->flat_addr = v;
			break;
		case OPT_STATS: cfg->stats = 1; break;
		case OPT_DISK:
			if (cfg->ndisks == VMON_MAX_DISKS)
				return usage_error("too many --disk options", optarg);
			if (parse_disk(optarg, &cfg->disk[cfg->ndisks]))
				return VMON_EXIT_USAGE;
			cfg->ndisks++;
			break;
		case OPT_RNG:
			on = false;
			if (optarg && (strncmp(optarg, "packed=", 7) || on_off(optarg + 7, &on)))
				return usage_error("--rng takes nothing, or packed=on|off", optarg);
			cfg->rng = 1;
			cfg->rng_packed = on;
			break;
		case OPT_TRANSPORT:
			if (strcmp(optarg, "pci") && strcmp(optarg, "mmio"))
				return usage_error("--transport wants pci or mmio", optarg);
			cfg->transport_mmio = !strcmp(optarg, "mmio");
			break;
		case OPT_VCON: {
			const char *mode;

			on = false;
			mode = console_mode(optarg, &on);
			if (!mode || parse_serial(mode))
				return usage_error("--virtio-console wants stdio, file:PATH or none"
						   "[,packed=on|off]", optarg);
			cfg->virtio_console = mode;
			cfg->console_packed = on;
			break;
		}
		case OPT_NET:
			if (cfg->nnics == VMON_MAX_NICS)
				return usage_error("too many --net options", optarg);
			if (parse_net(optarg, &cfg->nic[cfg->nnics], cfg->nnics))
				return VMON_EXIT_USAGE;
			cfg->nnics++;
			break;
		case OPT_RESTORE: cfg->restore_path = optarg; break;
		case OPT_QMP:
			if (qmp_parse_spec(optarg, &run->qmp, err, sizeof(err)))
				return usage_error(err, optarg);
			break;
		case 'v': verbosity = LOG_DEBUG; break;
		case 'q': verbosity = LOG_ERROR; break;
		case 'h':
			fputs(run_usage, stdout);
			return -1;
		case ':':
			return usage_error("option needs an argument", argv[optind - 1]);
		default:
			return unknown_option(argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (cfg->restore_path && (cfg->kernel || cfg->initrd || cfg->flat || cfg->cmdline[0]))
		return usage_error("--restore takes the guest from the snapshot: no --kernel, "
				   "--initrd, --cmdline or --flat", NULL);
	if (!cfg->kernel && !cfg->restore_path)
		return usage_error("--kernel is required", NULL);
	if (console_clash(cfg))
		return VMON_EXIT_USAGE;
	log_set_level(verbosity);
	return 0;
}

/* --restore: the rest of the configuration comes from the snapshot. */
static int restore_config(struct machine_config *cfg)
{
	char err[512];
	struct machine_snapshot *s = machine_snapshot_open(cfg->restore_path, err, sizeof(err));

	if (!s || machine_snapshot_config(s, cfg, err, sizeof(err))) {
		log_err("--restore: %s", err);
		machine_snapshot_close(s);
		return VMON_EXIT_USAGE;
	}
	return console_clash(cfg) ? VMON_EXIT_USAGE : 0;
}

/* --qmp: the socket now, so a bad PATH is a usage error before any VM exists. */
static int qmp_open_opt(const struct cli_run_opts *run, struct qmp_server **q)
{
	char err[512];

	*q = NULL;
	if (!run->qmp.path[0])
		return 0;
	*q = qmp_open(&run->qmp, err, sizeof(err));
	if (!*q) {
		log_err("%s", err);
		return VMON_EXIT_USAGE;
	}
	return 0;
}

static int qmp_start_opt(struct qmp_server *q, struct machine *m)
{
	char err[512];

	if (!q || !qmp_start(q, m, err, sizeof(err)))
		return 0;
	log_err("%s", err);
	return VMON_EXIT_USAGE;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int cmd_run(int argc, char **argv)
{
	struct machine_config cfg;
	struct cli_run_opts run;
	struct qmp_server *qmp;
	struct machine m;
	struct timespec t0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = cli_parse_run(argc, argv, &cfg, &run);
	if (rc < 0)
		return VMON_EXIT_OK;    /* --help */
	if (rc)
		return rc;
	if (cfg.restore_path && (rc = restore_config(&cfg)))
		return rc;
	machine_block_signals();
	if ((rc = qmp_open_opt(&run, &qmp))) {
		machine_snapshot_close(cfg.restore);
		return rc;
	}
	if (machine_create(&m, &cfg)) {
		qmp_close(qmp);
		machine_snapshot_close(cfg.restore);
		return VMON_EXIT_USAGE;
	}
	if (cfg.restore)
		log_info("restored %s in %.1f ms; running", cfg.restore_path, ms_since(&t0));
	rc = qmp_start_opt(qmp, &m);
	if (!rc) {
		rc = machine_run(&m);
		/* Joined before teardown: the SHUTDOWN event reaches the client first. */
		qmp_stop(qmp);
	}
	machine_destroy(&m);
	qmp_close(qmp);
	machine_snapshot_close(cfg.restore);
	return rc;
}

int cli_main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("vmon %s\n", VMON_VERSION);
		return VMON_EXIT_OK;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(main_usage, stdout);
		return VMON_EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc < 2)
		log_err("no command given (try 'vmon run --help')");
	else
		log_err("unknown command: %s (try 'vmon run --help')", argv[1]);
	return VMON_EXIT_USAGE;
}
