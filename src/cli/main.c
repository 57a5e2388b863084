/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "machine/machine.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
