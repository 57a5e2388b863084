/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CLI_CLI_H
#define VMON_CLI_CLI_H

#include "machine/machine.h"

#define VMON_VERSION "0.1.0"

/* Parses "vmon run ..." options into cfg: 0, or VMON_EXIT_USAGE after one line. */
int cli_parse_run(int argc, char **argv, struct machine_config *cfg);
int cli_main(int argc, char **argv);

#endif
