/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CLI_CLI_H
#define VMON_CLI_CLI_H

#include "control/qmp.h"
#include "machine/machine.h"

#define VMON_VERSION "0.1.0"

/* What "vmon run" is asked for beyond the machine itself. */
struct cli_run_opts {
	struct qmp_spec qmp;        /* --qmp; qmp.path "" when not given */
};

/* Parses "vmon run ..." options into cfg and opts: 0, VMON_EXIT_USAGE after
 * one error line, or -1 after printing --help. */
int cli_parse_run(int argc, char **argv, struct machine_config *cfg, struct cli_run_opts *opts);
int cli_main(int argc, char **argv);

#endif
